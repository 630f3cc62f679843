# rewind trace file schema, format 1.1 (1.0 plus checkpoint-pages frames).
#
# A trace (*.rwt) records every input of one run that is not a pure function of
# the guest's own state, so the run can be replayed bit-exactly. The byte layout
# around these messages (magic, frames, checksums, trailer) is described in
# traces/README.md and traces/trace_writer.h; this file defines the messages.
#
# Versioning. The file starts with a format version major.minor (also stored in
# Header). A reader refuses any major it does not know. Minor versions only add:
# new fields get new ordinals at the end of a struct, new union members get new
# ordinals; a reader of an older minor ignores what it does not know (Cap'n Proto
# does this for us) and must treat an unknown Event kind as an error only if it
# needs to deliver it. Renumbering, removing or changing the type of a field is a
# major change.
#
# Conventions. All integers are little-endian (Cap'n Proto's own). "icount"
# always means the vCPU's count of retired instructions since the machine was
# created (reset does not clear it); see "Instruction" below. Digests and hashes
# are opaque byte strings whose algorithm is named in Header.digestAlgorithm.
# "Must" constraints are checked by the reader; a violation is a TraceError.
#
# Instruction. This definition is shared by every execution tier and is kept
# identical to the one in tcg-llvm/interp/tcg_vcpu.h:
#  - an instruction that retires adds exactly 1;
#  - each iteration of a REP-prefixed string instruction adds 1 (interrupts
#    and run limits may fall between iterations, as on hardware); a REP whose
#    count is 0 retires once and adds 1;
#  - an instruction that faults does not retire: icount is unchanged and RIP
#    stays on the faulting instruction;
#  - INT n, INT3 and INTO retire (add 1) before their event is delivered;
#    HLT retires once, however long the vCPU then stays halted;
#  - delivering an exception or interrupt is not an instruction (adds 0);
#  - devices always see the count of instructions retired before the one
#    accessing them (icount is stored before every port or MMIO access).
# An event stamped with icount N takes effect after exactly N instructions have
# retired and before instruction N+1 executes. Two kinds of events differ in
# how they take effect:
#  - asynchronous events (consoleInput, userRequest, stateDigest, runEnd) are
#    delivered between instructions, at the point (icount, idleNs);
#  - synchronous events (wallClock, random) are answers to a request a device
#    made while executing an instruction: they belong to instruction N+1, the
#    one that ran when exactly N instructions had retired (its own count is
#    not included: it had not retired when it asked). Replay hands such an
#    answer out only when that instruction asks for it, and reports a
#    divergence if it does not. When an instruction asks and then faults (it
#    does not retire), events stamped N after the answer come after the
#    fault's delivery.

@0xe7d1ee8100a7f53c;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("rwd::traces::schema");

# A digest of the machine state at one icount, for divergence detection.
struct Digest {
  registers @0 :Data;
  # Hashes of the vCPU's architectural state, as Header.digestAlgorithm
  # defines them: for "rwd-fields16-pages64-v1", one 16-bit little-endian
  # hash per field group (each GPR, RIP, RFLAGS, the control registers, each
  # segment, ...), in a fixed order, so that a mismatch names the first group
  # that differs. Must be at most 64 bytes. Empty when not computed.
  pages @1 :Data;
  # Hash over the RAM pages written since the previous checkpoint (each
  # page's RAM-block index and contents, in index order), as
  # Header.digestAlgorithm defines it: 8 bytes for "rwd-fields16-pages64-v1".
  # Must be at most 64 bytes. Empty when not computed: the recorder leaves it
  # out of the digests it logs after input (stateDigest events), which would
  # otherwise re-hash every page written since the last checkpoint.
  devices @2 :Data;
  # Hash of every device's checkpoint state (names and bytes, in the
  # machine's order): 8 bytes. Empty in traces from before it existed.
}

# A guest image the run loaded from the host (kernel, initrd). Replay refuses a
# file whose size or hash differs.
struct Image {
  path @0 :Text;
  # Host path as given on the command line (not canonicalized).
  size @1 :UInt64;
  # File size in bytes when recorded.
  sha256 @2 :Data;
  # SHA-256 (FIPS 180-4) of the file's contents. Must be exactly 32 bytes.
}

# One `-device driver,key=value,...` option.
struct DeviceConfig {
  driver @0 :Text;
  # Device model name, e.g. "isa-debug-exit".
  properties @1 :List(Property);
  # key=value pairs in the order of the command line. Keys are unique.
  struct Property {
    key @0 :Text;
    value @1 :Text;
  }
}

# The machine as configured (mirror of core::MachineConfig). Replay rebuilds the
# machine from this alone; the command line below is for humans.
struct MachineConfig {
  kernel @0 :Text;
  # Host path of the guest kernel image (-kernel).
  append @1 :Text;
  # Kernel command line (-append); empty when none.
  initrd @2 :List(Text);
  # Host paths of the initial ramdisks (-initrd, comma-separated there), in
  # load order.
  ramSize @3 :UInt64;
  # Guest RAM in bytes (-m). Must be a multiple of 4096 and nonzero.
  serial @4 :Serial;
  accel @5 :Text;
  # The accelerator that recorded the run: "tcg" or "kvm". Replay always runs
  # under tcg.
  noReboot @6 :Bool;
  # -no-reboot: a guest reset ends the run instead of restarting it.
  devices @7 :List(DeviceConfig);
  # Extra devices in command-line order.
  cpus @8 :UInt32;
  # vCPUs (-smp). 0 in traces written before there was SMP: one.
  quantum @9 :UInt64;
  # Instructions in a vCPU's turn (--quantum; core::Machine). 0 in traces
  # written before there was SMP: the default, 10000.
  bios @10 :Text;
  # Host path of the firmware image (-bios); empty when the run loaded a
  # kernel itself. Its bytes are in the initial checkpoint, as the top of
  # the RAM block (RAM-block index ramSize / 4096 on).
  biosSize @11 :UInt64;
  # The firmware image's size in bytes (a multiple of 64 KiB); 0 without -bios.
  cpuFeaturesOff @12 :List(Text);
  # CPU features taken out of CPUID (-cpu max,-NAME), by rewind's canonical
  # names (core/cpu_features.h), sorted. Replay refuses a name it does not know.

  struct Serial {
    kind @0 :Kind;
    path @1 :Text;
    # kind == file: where the console's output was written; empty otherwise.
    inputPath @2 :Text;
    # File whose bytes were the console's input stream; empty when none. The
    # bytes themselves are in the trace as consoleInput events.
    enum Kind {
      stdio @0;
      file @1;
      none @2;
    }
  }
}

# The first message of the file, stored uncompressed after the magic.
struct Header {
  formatMajor @0 :UInt16;
  # Must equal the major in the file's preamble.
  formatMinor @1 :UInt16;
  # Must equal the minor in the file's preamble.
  machine @2 :MachineConfig;
  commandLine @3 :List(Text);
  # argv of the recording `rewind` process, argv[0] included, verbatim.
  images @4 :List(Image);
  # The kernel first, then each initrd in MachineConfig.initrd order.
  initialDigest @5 :Digest;
  # Machine state after the loader ran, before the first instruction.
  checkpointInterval @6 :UInt64;
  # Instructions between two checkpoints; 0 = the recorder takes none.
  rewindVersion @7 :Text;
  # Version string of the recording rewind build (informational).
  digestAlgorithm @8 :Text;
  # Name of the hash used by every Digest, e.g. "xxh64" or "sha256"; a replay
  # that computes another algorithm must not compare digests.
}

# One input of the run. Events appear in the file in the order the recorder
# delivered them; icounts never decrease along the file (checkpoints included).
struct Event {
  icount @0 :UInt64;
  # The event takes effect after exactly this many instructions have retired
  # (see "Instruction" above). Several events may share an icount; they are
  # delivered in file order.
  union {
    consoleInput :group {
      # One byte arrived on a console's input side (a UART's RX). A group, not
      # a struct: it is most of a trace's events, and inline it costs no
      # pointer and no separate object.
      console @1 :UInt32;
      # Console index: 0 = COM1, 1 = COM2, ...
      byte @2 :UInt8;
      # The byte as the device received it.
    }
    wallClock @3 :Int64;
    # The wall clock at the start of the run, in ns since the Unix epoch (UTC).
    # This is the one host-time read a run makes: devices add virtual time to
    # it. Recorded at most once, at the icount where a device first asked.
    random @4 :UInt64;
    # 64 bits of host entropy handed to a device (virtio-rng, RDRAND).
    userRequest @5 :UserRequest;
    # The user asked the machine to quit or reset (Ctrl-C, a monitor command).
    stateDigest @6 :Digest;
    # State digest taken at this icount; replay compares its own.
    runEnd @7 :RunEnd;
    # The run stopped. Must be the last event of a complete trace.
  }

  idleNs @8 :UInt64;
  # The virtual clock's idle time when the event took effect (ns skipped while
  # the vCPU was halted; see Checkpoint.idleNs). icount does not advance while
  # the vCPU is halted, so a halted guest can see several deliveries at one
  # icount, separated by timer deadlines: (icount, idleNs) pins the event to
  # exactly one point of the run.

  enum UserRequest {
    quit @0;
    reset @1;
  }

  struct RunEnd {
    reason @0 :StopReason;
    exitStatus @1 :Int32;
    # The status `rewind` exited with (for guestExit: (value << 1) | 1).
    finalDigest @2 :Digest;
    # State digest at the stop.
  }

  enum StopReason {
    guestExit @0;
    # The guest wrote to the isa-debug-exit port.
    userQuit @1;
    # A userRequest(quit) event was delivered.
    reset @2;
    # The guest reset the machine under -no-reboot.
    halted @3;
    # The guest halted with no way to make progress.
    tripleFault @4;
    # The vCPU triple-faulted.
    instructionLimit @5;
    # The recorder's instruction limit was reached.
    error @6;
    # rewind stopped on an internal or host error.
  }
}

# The payload of an event frame: consecutive events of the stream.
struct EventBatch {
  events @0 :List(Event);
  # Must be non-empty. events[0].icount equals the frame's first icount.
}

# The payload of a checkpoint frame: enough to restart the run at icount.
struct Checkpoint {
  icount @0 :UInt64;
  # Instructions retired when the snapshot was taken. Events before this frame
  # in the file have been delivered; those after it have not.
  idleNs @1 :UInt64;
  # Virtual-clock ns skipped while the vCPU was halted, so far. The virtual
  # clock reads icount * 1 ns + idleNs.
  cpuStateVersion @2 :UInt32;
  # Layout version of cpuState (core::X86CpuState serialization). A replay
  # that does not know it cannot restore this checkpoint. Traces written
  # before layout 3 say 1 for every layout; the bytes then carry their own.
  cpuState @3 :Data;
  # vCPU 0's architectural state, opaque to this library.
  devices @4 :List(DeviceState);
  # Every device's state, by unique name.
  pages @5 :List(PageRef);
  # RAM pages written since the previous checkpoint (since machine creation
  # for the first one). Each page number appears once.
  pageContents @6 :List(Data);
  # Distinct page contents, each exactly 4096 bytes; pages refer to them by
  # index, so equal pages (zeroed memory, copies) are stored once.
  digest @7 :Digest;
  # State digest at icount, equal to what a straight replay computes there.
  pageFrames @8 :UInt32;
  # (format 1.1) How many checkpoint-pages frames (CheckpointPages) come
  # right before this frame in the file, holding the rest of its pages: a
  # checkpoint whose pages do not fit in one frame is written as those frames
  # first, then this one. 0 when every page is in `pages` above. When it is
  # not 0, page numbers increase strictly across those frames and then this
  # one (which makes each appear once without a reader holding them all).
  moreCpuStates @9 :List(Data);
  # (SMP) vCPUs 1 to N-1's architectural states, in the layout of cpuState;
  # empty for one vCPU.
  footprint @10 :Footprint;
  # (format 1.2) What the guest did since the previous checkpoint (since the
  # machine was created for the first one), when the recorder could tell.

  struct Footprint {
    # In linear addresses (CS base + RIP for code), all vCPUs together. It
    # may say more than happened, never less: a debugger going backwards
    # replays only the intervals whose footprint reaches a breakpoint or a
    # write watchpoint (core::ExecutionFootprint).
    known @0 :Bool;
    # False (or the footprint absent): the recorder could not tell (older
    # traces, KVM); the interval must be replayed to know.
    codeLines @1 :List(CodeLines);
    # The code that ran, by page, pages ascending.
    writtenPages @2 :List(UInt64);
    # Linear page numbers (address / 4096) written by an instruction,
    # ascending.
  }

  struct CodeLines {
    page @0 :UInt64;
    # Linear page number.
    lines @1 :UInt64;
    # Bit i: code ran in bytes [64 i, 64 i + 63] of the page.
  }

  struct DeviceState {
    name @0 :Text;
    # The device's unique name in the machine (e.g. "serial0", "pit").
    state @1 :Data;
    # Opaque, owned and versioned by the device.
  }

  struct PageRef {
    pageNumber @0 :UInt64;
    # The page's index in the machine's RAM block (byte offset in guest RAM /
    # 4096), not a guest-physical page number: the board decides where RAM
    # appears (a PC maps RAM above the 3.5 GiB hole at 4 GiB).
    content @1 :UInt32;
    # Index into pageContents.
  }
}

# The payload of a checkpoint-pages frame (format 1.1): pages of the
# checkpoint frame that follows (see Checkpoint.pageFrames). The frame
# header's first icount is that checkpoint's icount.
struct CheckpointPages {
  pages @0 :List(Checkpoint.PageRef);
  # Must be non-empty. Content indexes refer to pageContents below.
  pageContents @1 :List(Data);
  # Each exactly 4096 bytes.
}

# The payload of the footer frame, written by finish(): an index of the file.
struct Footer {
  frames @0 :List(FrameRef);
  # Every frame before the footer, in file order.
  checkpoints @1 :List(CheckpointRef);
  # The checkpoint frames again, for seeking (icount ascending).
  eventCount @2 :UInt64;
  # Events in the file.
  lastIcount @3 :UInt64;
  # The highest icount of any event or checkpoint (the run's length in
  # instructions when it ends with runEnd).

  struct FrameRef {
    firstIcount @0 :UInt64;
    # icount of the frame's first event, or the checkpoint's icount.
    offset @1 :UInt64;
    # Byte offset of the frame header from the start of the file.
    kind @2 :FrameKind;
  }

  struct CheckpointRef {
    icount @0 :UInt64;
    offset @1 :UInt64;
  }

  enum FrameKind {
    events @0;
    checkpoint @1;
    checkpointPages @2;
    # (format 1.1)
  }
}
