// `rewind replay -gdb`, driven by Debian's stock gdb in batch mode the way a
// user types the commands: connect, read registers and memory, break at a
// function of the guest (its symbols from its ELF), step, continue to the
// end of the recording; writes are refused with rewind's message; after
// gdb detaches the replay runs on to its recorded end (status 0).
#define BOOST_TEST_MODULE gdbstub
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <csignal>

#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/subprocess.h"
#include "tests/integration/test_files.h"

using namespace rwd::testing;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Session {
  std::string gdb;     // gdb's output
  std::string rewind;  // rewind's stderr, then "rewind status N"
};

// Replays `trace` under -gdb tcp::0, runs gdb with `file` (symbols) and the
// commands once rewind says where it listens.
Session debug(const std::string& trace, const std::string& file, const std::vector<std::string>& commands) {
  struct stat st;
  BOOST_TEST_REQUIRE(stat("/usr/bin/gdb", &st) == 0,
                     "/usr/bin/gdb is missing: install Debian's gdb package (the README's setup does)");
  TempDir dir("gdbstub");
  const std::string err = dir.file("rewind.err");
  std::string gdb = "/usr/bin/gdb -batch -nx";
  if (!file.empty()) gdb += " -ex " + quote("file " + file);
  gdb += " -ex \"target remote :$port\"";
  for (const std::string& c : commands) gdb += " -ex " + quote(c);
  const std::string script =
      quote(rewind_binary()) + " replay " + quote(trace) + " -gdb tcp::0 -serial none 2> " + quote(err) +
      " & pid=$!\n"
      "for i in $(seq 100); do port=$(sed -n 's/.*on port \\([0-9]*\\).*/\\1/p' " + quote(err) +
      "); [ -n \"$port\" ] && break; sleep 0.1; done\n" + gdb + " 2>&1\nwait $pid\necho \"rewind status $?\" >> " +
      quote(err) + "\n";
  ProcessResult r = run_process({"/bin/bash", "-c", script}, {}, 120);
  BOOST_TEST_REQUIRE(!r.timed_out, r.out);
  Session s;
  s.gdb = r.out;
  ProcessResult cat = run_process({"/bin/cat", err}, {}, 10);
  s.rewind = cat.out;
  return s;
}

// What each `monitor icount` printed: gdb's lines that are a number alone.
std::vector<uint64_t> monitor_counts(const std::string& gdb) {
  std::vector<uint64_t> counts;
  std::istringstream lines(gdb);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos) counts.push_back(std::stoull(line));
  return counts;
}

struct Recording {
  std::string trace;
  int exit_status;
};

// Records `kernel` (with `extra` flags, no console) as DIR/NAME.rwt.
Recording record(const TempDir& dir, const std::string& name, const std::string& kernel,
                 const std::vector<std::string>& extra = {}) {
  Recording r{dir.file(name + ".rwt"), 0};
  std::vector<std::string> argv = {rewind_binary(), "record", "-o", r.trace, "-kernel", kernel, "-serial", "none"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ProcessResult p = run_process(argv, {}, 60);
  BOOST_TEST_REQUIRE(!p.timed_out, p.err);
  r.exit_status = p.exit_status;
  return r;
}

}  // namespace

// The checksum guest (32-bit protected mode: gdb gets the i386 description
// and takes the guest's i386 ELF for symbols): kmain's first bytes read
// through the stub equal the ELF's, a breakpoint there stops before it runs,
// stepi moves one instruction and the instruction count with it, and
// continuing runs to the end of the recording.
BOOST_AUTO_TEST_CASE(break_step_read_and_run_to_the_end) {
  TempDir dir("gdbstub_rec");
  const std::string elf = guest_path("checksum");
  const std::string trace = record(dir, "checksum", elf, {"-append", "rounds=20"}).trace;
  Session s = debug(trace, elf,
                    {"info registers eip", "x/8xb kmain", "break kmain", "continue", "info registers eip",
                     "monitor icount", "stepi", "info registers eip", "monitor icount", "x/8xb kmain",
                     "set $eax = 5", "delete", "continue"});
  BOOST_TEST_MESSAGE(s.gdb);
  BOOST_TEST(contains(s.gdb, "eip            0x10000c"), s.gdb);  // the Multiboot entry, instruction 0
  BOOST_TEST(contains(s.gdb, "Breakpoint 1, kmain (magic="), s.gdb);  // the guest's debug info
  BOOST_TEST(contains(s.gdb, "eip            0x100a50"), s.gdb);
  BOOST_TEST(contains(s.gdb, "eip            0x100a51"), s.gdb);  // stepi: push %ebp is one byte
  // monitor icount before and after the stepi: one instruction apart.
  const std::vector<uint64_t> counts = monitor_counts(s.gdb);
  BOOST_TEST_REQUIRE(counts.size() == 2u, s.gdb);
  BOOST_TEST(counts[1] == counts[0] + 1);
  // kmain's bytes from the file (before connecting: the first x/8xb runs on
  // the target too, so compare the two reads of the same bytes).
  const size_t first = s.gdb.find("<kmain>:"), second = s.gdb.find("<kmain>:", first + 1);
  BOOST_TEST_REQUIRE(second != std::string::npos, s.gdb);
  BOOST_TEST(s.gdb.substr(first, s.gdb.find('\n', first) - first) ==
             s.gdb.substr(second, s.gdb.find('\n', second) - second));
  BOOST_TEST(contains(s.gdb, "Could not write register"), s.gdb);
  BOOST_TEST(contains(s.gdb, "rewind replays a recording"), s.gdb);
  BOOST_TEST(contains(s.gdb, "No more reverse-execution history."), s.gdb);
  BOOST_TEST(contains(s.rewind, "rewind status 0"), s.rewind);
}

// Back in time: stepi 5 then reverse-stepi 5 returns to the same registers;
// reverse-continue stops at the previous breakpoint hit, exactly where
// continue had stopped (the same instruction count), and past the first hit
// reports the start of the recording.
BOOST_AUTO_TEST_CASE(reverse_stepi_and_reverse_continue) {
  TempDir dir("gdbstub_rec");
  // The pit guest takes 50 timer interrupts in on_irq0; a small checkpoint
  // interval, so that going back crosses several.
  const std::string elf = guest_path("pit");
  const Recording rec = record(dir, "pit", elf, {"--checkpoint-interval", "500000"});
  const std::string& trace = rec.trace;
  Session s = debug(trace, elf,
                    {"break kmain", "continue", "info registers", "stepi 5", "reverse-stepi 5", "info registers",
                     "delete", "break on_irq0", "continue", "monitor icount", "continue", "monitor icount", "continue",
                     "monitor icount", "reverse-continue", "monitor icount", "reverse-continue", "monitor icount",
                     "reverse-continue", "monitor icount", "monitor checkpoints", "monitor goto 99999999999",
                     "monitor goto 500", "maint flush register-cache", "info registers eip", "monitor icount"});
  BOOST_TEST_MESSAGE(s.gdb);
  // The two register dumps (after the break and after stepping back) match.
  const size_t a = s.gdb.find("eax "), b = s.gdb.find("eax ", a + 1);
  BOOST_TEST_REQUIRE(b != std::string::npos, s.gdb);
  const size_t len = s.gdb.find("gs ", a) - a;
  BOOST_TEST(s.gdb.substr(a, len) == s.gdb.substr(b, len));
  const std::vector<uint64_t> counts = monitor_counts(s.gdb);
  BOOST_TEST_REQUIRE(counts.size() == 7u, s.gdb);
  BOOST_TEST((counts[0] < counts[1] && counts[1] < counts[2]));
  BOOST_TEST(counts[3] == counts[1]);  // back to the second interrupt's handler
  BOOST_TEST(counts[4] == counts[0]);  // and to the first
  BOOST_TEST(counts[5] == 0u);         // nothing before it: the start
  BOOST_TEST(contains(s.gdb, "No more reverse-execution history."), s.gdb);
  // monitor: the checkpoints, a goto past the end refused, a goto to a point.
  BOOST_TEST(contains(s.gdb, "checkpoints in the recording (every 500000 instructions)"), s.gdb);
  BOOST_TEST(contains(s.gdb, "the recording ends at icount"), s.gdb);
  BOOST_TEST(contains(s.gdb, "at icount 500"), s.gdb);
  BOOST_TEST(counts[6] == 500u);
  // Detached at the start, the replay runs on to the recorded end and status.
  BOOST_TEST(contains(s.rewind, "rewind status " + std::to_string(rec.exit_status)), s.rewind);
}

// gdb's own reverse commands built on bs, bc and breakpoints, with the
// guest's line table: reverse-finish from rt_put_dec goes back to its call
// in kmain (pit.c: `rt_put_dec(div);`), and after two `next`s over the
// following lines, reverse-next twice walks them back, the first to where
// the first `next` had stopped.
BOOST_AUTO_TEST_CASE(reverse_finish_and_reverse_next) {
  TempDir dir("gdbstub_rec");
  const std::string elf = guest_path("pit");
  const std::string trace = record(dir, "pit", elf, {"--checkpoint-interval", "500000"}).trace;
  Session s = debug(trace, elf,
                    {"break rt_put_dec", "continue", "reverse-finish", "print $pc", "delete", "next", "print $pc",
                     "next", "print $pc", "reverse-next", "print $pc", "reverse-next", "print $pc"});
  BOOST_TEST_MESSAGE(s.gdb);
  auto pc = [&](int n) {
    const std::string key = "$" + std::to_string(n) + " = (void (*)()) ";
    const size_t at = s.gdb.find(key);
    BOOST_TEST_REQUIRE(at != std::string::npos, s.gdb);
    return s.gdb.substr(at + key.size(), s.gdb.find('\n', at) - at - key.size());
  };
  BOOST_TEST(contains(pc(1), "<kmain+"), s.gdb);  // the call, in the caller
  BOOST_TEST(contains(s.gdb, "58\t    rt_put_dec(div);"), s.gdb);
  BOOST_TEST(contains(s.gdb, "60\t    rt_put_dec(ticks);"), s.gdb);
  BOOST_TEST(pc(4) == pc(2));
  BOOST_TEST(pc(5) != pc(4));
  BOOST_TEST(contains(pc(5), "<kmain+"), s.gdb);
  // The last reverse-next is back on the line of the call.
  BOOST_TEST(s.gdb.rfind("58\t    rt_put_dec(div);") > s.gdb.find("60\t    rt_put_dec(ticks);"), s.gdb);
}

// Watchpoints: "who wrote this?" forwards, then backwards -- reverse-continue
// stops before the write that last changed the value (gdb shows the values
// the other way round), and again before the one before it.
BOOST_AUTO_TEST_CASE(watchpoints_forwards_and_backwards) {
  TempDir dir("gdbstub_rec");
  const std::string elf = guest_path("pit");
  const std::string trace = record(dir, "pit", elf, {"--checkpoint-interval", "500000"}).trace;
  Session s = debug(trace, elf,
                    {"watch *(unsigned int *)&ticks", "continue", "continue", "continue", "info registers eip",
                     "reverse-continue", "print *(unsigned int *)&ticks", "reverse-continue",
                     "print *(unsigned int *)&ticks", "info registers eip"});
  BOOST_TEST_MESSAGE(s.gdb);
  BOOST_TEST(contains(s.gdb, "Old value = 0\nNew value = 1\n"), s.gdb);
  BOOST_TEST(contains(s.gdb, "Old value = 2\nNew value = 3\n"), s.gdb);
  BOOST_TEST(contains(s.gdb, "Old value = 3\nNew value = 2\n"), s.gdb);  // back before the third write
  BOOST_TEST(contains(s.gdb, "$1 = 2"), s.gdb);
  BOOST_TEST(contains(s.gdb, "Old value = 2\nNew value = 1\n"), s.gdb);  // and before the second
  BOOST_TEST(contains(s.gdb, "$2 = 1"), s.gdb);
  // Forwards gdb stops after the writing instruction, backwards before it.
  const size_t after = s.gdb.find("eip "), before = s.gdb.rfind("eip ");
  BOOST_TEST_REQUIRE(after != before);
  BOOST_TEST(s.gdb.substr(after, 30) != s.gdb.substr(before, 30));
}

// Real mode: gdb knows no segments, so its PC is the linear address CS * 16
// + IP, where breakpoints and memory are (tools/gdbstub/x86_target.h). The
// realmode guest copies its 16-bit code to 0x8000 and runs it at
// 0800:offset; gdb stops at its breakpoint there (a PC that were the bare IP
// would not be gdb's breakpoint: gdb would ignore the stop and run on), the
// byte at $pc is the instruction's opcode, CS is the segment, and
// reverse-continue between the two INT 0x30 handler runs goes back to the first.
BOOST_AUTO_TEST_CASE(real_mode) {
  TempDir dir("gdbstub_rec");
  const std::string elf = guest_path("realmode");
  const std::string trace = record(dir, "realmode", elf).trace;
  const std::string entry = "*(0x8000 + ((int)&real_entry - (int)&blob_start))";
  const std::string handler = "*(0x8000 + ((int)&int30 - (int)&blob_start))";
  Session s = debug(trace, elf,
                    {"break " + entry, "continue", "info registers cs eip", "x/1xb $pc",
                     "print/x 0x8000 + (int)&real_entry - (int)&blob_start", "delete", "break " + handler, "continue",
                     "monitor icount", "continue", "monitor icount", "reverse-continue", "monitor icount",
                     "info registers cs"});
  BOOST_TEST_MESSAGE(s.gdb);
  BOOST_TEST(contains(s.gdb, "cs             0x800"), s.gdb);
  // The first instruction at real_entry: xorw %ax, %ax (31 c0).
  BOOST_TEST(contains(s.gdb, ":\t0x31"), s.gdb);
  const size_t linear_at = s.gdb.find("$1 = 0x");
  BOOST_TEST_REQUIRE(linear_at != std::string::npos, s.gdb);
  const std::string linear = s.gdb.substr(linear_at + 5, s.gdb.find('\n', linear_at) - linear_at - 5);
  BOOST_TEST(contains(s.gdb, "Breakpoint 1, 0x0000" + linear.substr(2)), s.gdb);
  BOOST_TEST(contains(s.gdb, "eip            " + linear), s.gdb);
  const std::vector<uint64_t> counts = monitor_counts(s.gdb);
  BOOST_TEST_REQUIRE(counts.size() == 3u, s.gdb);
  BOOST_TEST(counts[0] < counts[1]);
  BOOST_TEST(counts[2] == counts[0]);
}

// Two vCPUs (Debian's SeaBIOS, whose AP counts itself in under a lock while
// the BSP waits): each vCPU is a thread; reverse-stepi of thread 2 after
// thread 1 has stepped goes back to just before thread 2's own last
// instruction (past the BSP's), and stepi then redoes exactly that one.
BOOST_AUTO_TEST_CASE(two_vcpus_step_back_one_thread) {
  TempDir dir("gdbstub_rec");
  const std::string trace = dir.file("seabios.rwt");
  ProcessOptions options;
  options.argv = {rewind_binary(), "record", "-o", trace, "--checkpoint-interval", "500000", "-bios",
                  "/usr/share/seabios/bios.bin", "-smp", "2", "-serial", "stdio"};
  options.timeout_seconds = 60;
  options.signal = SIGTERM;
  options.signal_after_output = "No bootable device.";
  ProcessResult r = run_process(options);
  BOOST_TEST_REQUIRE(contains(r.out, "No bootable device."),
                     "SeaBIOS did not get there (is Debian's seabios installed?): " << r.err);
  const std::string regs = "info registers eip eax ecx edx ebx esp esi edi eflags";
  Session s = debug(trace, "",
                    {"info threads", "thread 2", "stepi", "stepi", "stepi", "stepi", "thread 1", "stepi", "stepi",
                     "stepi", "thread 2", "echo ==before==\n", regs, "monitor icount", "reverse-stepi",
                     "echo ==back==\n", regs, "monitor icount", "stepi", "echo ==again==\n", regs, "monitor icount",
                     "monitor checkpoints"});
  BOOST_TEST_MESSAGE(s.gdb);
  BOOST_TEST(contains(s.gdb, "Thread 2"), s.gdb);
  auto block = [&](const std::string& marker) {
    const size_t at = s.gdb.find(marker);
    BOOST_TEST_REQUIRE(at != std::string::npos, s.gdb);
    const size_t from = s.gdb.find("eip ", at), to = s.gdb.find("eflags ", at);
    BOOST_TEST_REQUIRE((from != std::string::npos && to != std::string::npos), s.gdb);
    return s.gdb.substr(from, to - from);
  };
  const std::string before = block("==before=="), back = block("==back=="), again = block("==again==");
  BOOST_TEST(back != before);   // one instruction of thread 2 undone
  BOOST_TEST(again == before);  // and redone
  const std::vector<uint64_t> counts = monitor_counts(s.gdb);
  BOOST_TEST_REQUIRE(counts.size() == 3u, s.gdb);
  BOOST_TEST((counts[1] < counts[0] && counts[1] < counts[2]));
  BOOST_TEST(contains(s.gdb, "session checkpoints in memory"), s.gdb);
}

// A kernel rewind enters in 64-bit mode (the Linux boot protocol): gdb gets
// the x86-64 description; stepi moves RIP; the run goes on to the end.
BOOST_AUTO_TEST_CASE(a_64_bit_guest) {
  TempDir dir("gdbstub_rec");
  const std::string trace =
      record(dir, "linux_boot", std::string(REWIND_BINARY_DIR) + "/guests/linux_boot.bzImage").trace;
  Session s = debug(trace, "", {"show architecture", "info registers rip cs", "stepi", "stepi", "info registers rip",
                                "x/2xg $rsp", "continue"});
  BOOST_TEST(contains(s.gdb, "i386:x86-64"), s.gdb);
  BOOST_TEST(contains(s.gdb, "cs             0x10"), s.gdb);  // the 64-bit code segment the loader set up
  BOOST_TEST(contains(s.gdb, "No more reverse-execution history."), s.gdb);
  BOOST_TEST(contains(s.rewind, "rewind status 0"), s.rewind);
}

// A client that is not gdb: a packet with a bad checksum is answered '-',
// a good one after it is served; a second client meanwhile is refused by
// the system; the first one closing ends the replay quietly.
BOOST_AUTO_TEST_CASE(a_bad_packet_and_a_second_client) {
  TempDir dir("gdbstub_rec");
  const std::string trace = record(dir, "hello", guest_path("hello")).trace;
  const std::string err = dir.file("rewind.err");
  const std::string script =
      quote(rewind_binary()) + " replay " + quote(trace) + " -gdb tcp::0 -serial none 2> " + quote(err) +
      " & pid=$!\n"
      "for i in $(seq 100); do port=$(sed -n 's/.*on port \\([0-9]*\\).*/\\1/p' " + quote(err) +
      "); [ -n \"$port\" ] && break; sleep 0.1; done\n"
      "exec 3<>/dev/tcp/127.0.0.1/$port\n"
      "printf '$g#00' >&3; sleep 0.3\n"       // bad checksum
      "printf '$?#3f' >&3; sleep 0.3\n"       // good: the stop reply
      "if (exec 4<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo second-accepted; else echo second-refused; fi\n"
      "timeout 1 cat <&3; exec 3>&-\n"
      "wait $pid; echo \"rewind status $?\"\n";
  ProcessResult r = run_process({"/bin/bash", "-c", script}, {}, 60);
  BOOST_TEST_REQUIRE(!r.timed_out, r.out);
  BOOST_TEST(contains(r.out, "second-refused"), r.out);
  BOOST_TEST(contains(r.out, "-+$T02thread:1;"), r.out);  // '-' for the bad one; the good one acked and answered
  BOOST_TEST(contains(r.out, "rewind status 0"), r.out);
}

// Ctrl-C (a bare 0x03 byte, as gdb sends it) stops a continue, and a
// reverse-continue searching a long way back (a read watchpoint on memory
// the guest never reads: every interval is replayed), each with a SIGINT
// stop reply; the replay then detaches and runs to its recorded end.
BOOST_AUTO_TEST_CASE(ctrl_c_stops_continue_and_reverse_continue) {
  TempDir dir("gdbstub_rec");
  const Recording rec = record(dir, "checksum", guest_path("checksum"), {"-append", "rounds=20000"});
  const std::string err = dir.file("rewind.err");
  const std::string script =
      quote(rewind_binary()) + " replay " + quote(rec.trace) + " -gdb tcp::0 -serial none 2> " + quote(err) +
      " & pid=$!\n"
      "for i in $(seq 100); do port=$(sed -n 's/.*on port \\([0-9]*\\).*/\\1/p' " + quote(err) +
      "); [ -n \"$port\" ] && break; sleep 0.1; done\n"
      "exec 3<>/dev/tcp/127.0.0.1/$port\n"
      "printf '$vCont;c#a8' >&3; sleep 1; printf '\\003' >&3; sleep 0.5\n"
      "printf '$Z3,3ff000,4#a8' >&3; sleep 0.2\n"
      "printf '$bc#c5' >&3; sleep 0.3; printf '\\003' >&3; sleep 0.5\n"
      "printf '$D#44' >&3; timeout 2 cat <&3; exec 3>&-\n"
      "wait $pid; echo \"rewind status $?\"\n";
  ProcessResult r = run_process({"/bin/bash", "-c", script}, {}, 120);
  BOOST_TEST_REQUIRE(!r.timed_out, r.out);
  BOOST_TEST_MESSAGE(r.out);
  size_t sigint_stops = 0;
  for (size_t at = r.out.find("$T02thread:1;"); at != std::string::npos; at = r.out.find("$T02thread:1;", at + 1))
    ++sigint_stops;
  BOOST_TEST(sigint_stops == 2u, r.out);
  BOOST_TEST(!contains(r.out, "replaylog"), r.out);  // neither reached an end of the recording
  BOOST_TEST(contains(r.out, "rewind status " + std::to_string(rec.exit_status)), r.out);
}

// gdb going away mid-session (no detach, the connection just closes) ends
// the replay quietly; a port that is not a number is a usage error.
BOOST_AUTO_TEST_CASE(a_dropped_connection_and_a_bad_port) {
  TempDir dir("gdbstub_rec");
  const std::string trace = record(dir, "hello", guest_path("hello")).trace;
  Session s = debug(trace, "", {"info registers rip", "kill"});
  BOOST_TEST(contains(s.rewind, "rewind status 0"), s.rewind);
  ProcessResult bad = run_process({rewind_binary(), "replay", trace, "-gdb", "tcp::http"}, {}, 30);
  BOOST_TEST(bad.exit_status == 2);
  BOOST_TEST(contains(bad.err, "-gdb tcp::http: expected tcp:[HOST]:PORT"), bad.err);
}
