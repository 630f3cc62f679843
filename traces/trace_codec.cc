#include "traces/trace_codec.h"

#include <algorithm>
#include <cstring>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <unordered_map>
#include <unordered_set>
#include <zstd.h>

#include "traces/rewind_trace.capnp.h"

namespace rwd::traces::codec {
namespace {

namespace s = schema;

// ---- helpers --------------------------------------------------------------

kj::ArrayPtr<const kj::byte> as_data(const Bytes& b) { return kj::arrayPtr(b.data(), b.size()); }
kj::ArrayPtr<const kj::byte> as_data(const uint8_t* p, size_t n) { return kj::arrayPtr(p, n); }
capnp::Text::Reader as_text(const std::string& str) { return capnp::Text::Reader(str.data(), str.size()); }
Bytes to_bytes(capnp::Data::Reader d) { return Bytes(d.begin(), d.end()); }
std::string to_string(capnp::Text::Reader t) { return std::string(t.begin(), t.size()); }

Bytes flatten(capnp::MessageBuilder& message) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return Bytes(bytes.begin(), bytes.end());
}

// Reads a message in place with limits proportional to its size: traversal
// beyond a few times the message means a hostile pointer structure (capnp's
// amplification guard), and our schema nests only a few levels deep.
class MessageIn {
 public:
  explicit MessageIn(const AlignedBuffer& m)
      : reader_(kj::arrayPtr(reinterpret_cast<const capnp::word*>(m.data()), m.size() / 8),
                options(m.size())) {}
  template <typename T>
  typename T::Reader root() {
    return reader_.getRoot<T>();
  }

 private:
  static capnp::ReaderOptions options(size_t bytes) {
    capnp::ReaderOptions o;
    o.traversalLimitInWords = 4 * (bytes / 8) + 1024;
    o.nestingLimit = 16;
    return o;
  }
  capnp::FlatArrayMessageReader reader_;
};

// Runs a decoder, turning Cap'n Proto's exceptions into our one-line errors.
template <typename F>
auto guarded(const char* what, const AlignedBuffer& m, F&& f) {
  if (m.size() % 8 != 0) throw TraceError(std::string(what) + ": message length is not a multiple of 8");
  try {
    MessageIn in(m);
    return f(in);
  } catch (const kj::Exception& e) {
    std::string desc(e.getDescription().cStr());
    std::replace(desc.begin(), desc.end(), '\n', ' ');
    throw TraceError(std::string(what) + ": malformed message: " + desc);
  }
}

// The same for encoders: Cap'n Proto refuses, e.g., a blob over 512 MiB.
template <typename F>
Bytes encoding(const char* what, F&& f) {
  try {
    return f();
  } catch (const kj::Exception& e) {
    std::string desc(e.getDescription().cStr());
    std::replace(desc.begin(), desc.end(), '\n', ' ');
    throw TraceError(std::string("cannot encode ") + what + ": " + desc);
  }
}

void set_digest(s::Digest::Builder b, const Digest& d) {
  if (d.registers.size() > kMaxDigestBytes || d.pages.size() > kMaxDigestBytes || d.devices.size() > kMaxDigestBytes)
    throw TraceError("digest longer than " + std::to_string(kMaxDigestBytes) + " bytes");
  b.setRegisters(as_data(d.registers));
  b.setPages(as_data(d.pages));
  b.setDevices(as_data(d.devices));
}

Digest get_digest(s::Digest::Reader r, const char* what) {
  if (r.getRegisters().size() > kMaxDigestBytes || r.getPages().size() > kMaxDigestBytes ||
      r.getDevices().size() > kMaxDigestBytes)
    throw TraceError(std::string(what) + ": digest longer than " + std::to_string(kMaxDigestBytes) + " bytes");
  return Digest{to_bytes(r.getRegisters()), to_bytes(r.getPages()), to_bytes(r.getDevices())};
}

template <typename E>
uint16_t raw_enum(E e) {
  return static_cast<uint16_t>(e);
}

// ---- events ---------------------------------------------------------------

void set_event(s::Event::Builder b, const Event& e) {
  b.setIcount(e.icount);
  b.setIdleNs(e.idle_ns);
  std::visit(
      [&](const auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, ConsoleInput>) {
          auto c = b.initConsoleInput();  // a group: inline, no allocation
          c.setConsole(d.console);
          c.setByte(d.byte);
        } else if constexpr (std::is_same_v<T, WallClock>) {
          b.setWallClock(d.ns_since_epoch);
        } else if constexpr (std::is_same_v<T, RandomValue>) {
          b.setRandom(d.value);
        } else if constexpr (std::is_same_v<T, UserRequest>) {
          b.setUserRequest(d.kind == UserRequest::Kind::kQuit ? s::Event::UserRequest::QUIT
                                                              : s::Event::UserRequest::RESET);
        } else if constexpr (std::is_same_v<T, StateDigest>) {
          set_digest(b.initStateDigest(), d.digest);
        } else {
          static_assert(std::is_same_v<T, RunEnd>);
          auto r = b.initRunEnd();
          r.setReason(static_cast<s::Event::StopReason>(d.reason));
          r.setExitStatus(d.exit_status);
          set_digest(r.initFinalDigest(), d.final_digest);
        }
      },
      e.data);
}

Event get_event(s::Event::Reader r) {
  Event e;
  e.icount = r.getIcount();
  e.idle_ns = r.getIdleNs();
  switch (r.which()) {
    case s::Event::CONSOLE_INPUT:
      e.data = ConsoleInput{r.getConsoleInput().getConsole(), r.getConsoleInput().getByte()};
      break;
    case s::Event::WALL_CLOCK:
      e.data = WallClock{r.getWallClock()};
      break;
    case s::Event::RANDOM:
      e.data = RandomValue{r.getRandom()};
      break;
    case s::Event::USER_REQUEST: {
      uint16_t k = raw_enum(r.getUserRequest());
      if (k > raw_enum(s::Event::UserRequest::RESET))
        throw TraceError("event at icount " + std::to_string(e.icount) + ": unknown user request " + std::to_string(k));
      e.data = UserRequest{k == 0 ? UserRequest::Kind::kQuit : UserRequest::Kind::kReset};
      break;
    }
    case s::Event::STATE_DIGEST:
      e.data = StateDigest{get_digest(r.getStateDigest(), "stateDigest event")};
      break;
    case s::Event::RUN_END: {
      auto re = r.getRunEnd();
      uint16_t reason = raw_enum(re.getReason());
      if (reason > raw_enum(s::Event::StopReason::ERROR))
        throw TraceError("runEnd event: unknown stop reason " + std::to_string(reason));
      e.data = RunEnd{static_cast<StopReason>(reason), re.getExitStatus(), get_digest(re.getFinalDigest(), "runEnd event")};
      break;
    }
    default:
      // A union member added by a newer minor version: we cannot deliver it.
      throw TraceError("event at icount " + std::to_string(e.icount) + ": unknown event kind " +
                       std::to_string(unsigned(r.which())) + " (written by a newer rewind?)");
  }
  return e;
}

// ---- header ---------------------------------------------------------------

s::MachineConfig::Serial::Kind serial_kind(SerialSpec::Kind k) {
  switch (k) {
    case SerialSpec::Kind::kStdio: return s::MachineConfig::Serial::Kind::STDIO;
    case SerialSpec::Kind::kFile: return s::MachineConfig::Serial::Kind::FILE;
    case SerialSpec::Kind::kNone: return s::MachineConfig::Serial::Kind::NONE;
  }
  throw TraceError("serial kind out of range");
}

}  // namespace

Bytes encode_header(const Header& h) {
  Bytes out = encoding("the trace header", [&] {
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<s::Header>();
    root.setFormatMajor(kFormatMajor);
    root.setFormatMinor(kFormatMinor);
    auto m = root.initMachine();
    m.setKernel(as_text(h.machine.kernel));
    m.setAppend(as_text(h.machine.append));
    auto initrd = m.initInitrd(unsigned(h.machine.initrd.size()));
    for (size_t i = 0; i < h.machine.initrd.size(); ++i) initrd.set(unsigned(i), as_text(h.machine.initrd[i]));
    m.setRamSize(h.machine.ram_size);
    auto serial = m.initSerial();
    serial.setKind(serial_kind(h.machine.serial.kind));
    serial.setPath(as_text(h.machine.serial.path));
    serial.setInputPath(as_text(h.machine.serial.input_path));
    m.setAccel(as_text(h.machine.accel));
    m.setNoReboot(h.machine.no_reboot);
    m.setCpus(h.machine.cpus);
    m.setQuantum(h.machine.quantum);
    m.setBios(as_text(h.machine.bios));
    m.setBiosSize(h.machine.bios_size);
    auto features = m.initCpuFeaturesOff(unsigned(h.machine.cpu_features_off.size()));
    for (size_t i = 0; i < h.machine.cpu_features_off.size(); ++i)
      features.set(unsigned(i), as_text(h.machine.cpu_features_off[i]));
    auto devices = m.initDevices(unsigned(h.machine.devices.size()));
    for (size_t i = 0; i < h.machine.devices.size(); ++i) {
      const DeviceSpec& d = h.machine.devices[i];
      auto db = devices[unsigned(i)];
      db.setDriver(as_text(d.driver));
      auto props = db.initProperties(unsigned(d.properties.size()));
      for (size_t j = 0; j < d.properties.size(); ++j) {
        props[unsigned(j)].setKey(as_text(d.properties[j].first));
        props[unsigned(j)].setValue(as_text(d.properties[j].second));
      }
    }
    auto argv = root.initCommandLine(unsigned(h.command_line.size()));
    for (size_t i = 0; i < h.command_line.size(); ++i) argv.set(unsigned(i), as_text(h.command_line[i]));
    auto images = root.initImages(unsigned(h.images.size()));
    for (size_t i = 0; i < h.images.size(); ++i) {
      images[unsigned(i)].setPath(as_text(h.images[i].path));
      images[unsigned(i)].setSize(h.images[i].size);
      images[unsigned(i)].setSha256(as_data(h.images[i].sha256.data(), h.images[i].sha256.size()));
    }
    set_digest(root.initInitialDigest(), h.initial_digest);
    root.setCheckpointInterval(h.checkpoint_interval);
    root.setRewindVersion(as_text(h.rewind_version));
    root.setDigestAlgorithm(as_text(h.digest_algorithm));
    return flatten(message);
  });
  if (out.size() > kMaxHeaderBytes)
    throw TraceError("trace header of " + std::to_string(out.size()) + " bytes exceeds the limit of " +
                     std::to_string(kMaxHeaderBytes));
  return out;
}

Header decode_header(const AlignedBuffer& message) {
  return guarded("trace header", message, [](MessageIn& in) {
    auto r = in.root<s::Header>();
    Header h;
    h.format_major = r.getFormatMajor();
    h.format_minor = r.getFormatMinor();
    auto m = r.getMachine();
    h.machine.kernel = to_string(m.getKernel());
    h.machine.append = to_string(m.getAppend());
    for (auto t : m.getInitrd()) h.machine.initrd.push_back(to_string(t));
    h.machine.ram_size = m.getRamSize();
    auto serial = m.getSerial();
    uint16_t kind = raw_enum(serial.getKind());
    if (kind > raw_enum(s::MachineConfig::Serial::Kind::NONE))
      throw TraceError("trace header: unknown serial kind " + std::to_string(kind));
    h.machine.serial.kind = static_cast<SerialSpec::Kind>(kind);
    h.machine.serial.path = to_string(serial.getPath());
    h.machine.serial.input_path = to_string(serial.getInputPath());
    h.machine.accel = to_string(m.getAccel());
    h.machine.no_reboot = m.getNoReboot();
    h.machine.cpus = m.getCpus() ? m.getCpus() : 1;
    h.machine.quantum = m.getQuantum();
    h.machine.bios = to_string(m.getBios());
    h.machine.bios_size = m.getBiosSize();
    for (auto t : m.getCpuFeaturesOff()) h.machine.cpu_features_off.push_back(to_string(t));
    for (auto d : m.getDevices()) {
      DeviceSpec spec;
      spec.driver = to_string(d.getDriver());
      for (auto p : d.getProperties()) spec.properties.emplace_back(to_string(p.getKey()), to_string(p.getValue()));
      h.machine.devices.push_back(std::move(spec));
    }
    for (auto t : r.getCommandLine()) h.command_line.push_back(to_string(t));
    for (auto img : r.getImages()) {
      ImageInfo info;
      info.path = to_string(img.getPath());
      info.size = img.getSize();
      auto sha = img.getSha256();
      if (sha.size() != info.sha256.size())
        throw TraceError("trace header: image " + info.path + ": sha256 has " + std::to_string(sha.size()) +
                         " bytes, expected 32");
      std::copy(sha.begin(), sha.end(), info.sha256.begin());
      h.images.push_back(std::move(info));
    }
    h.initial_digest = get_digest(r.getInitialDigest(), "trace header");
    h.checkpoint_interval = r.getCheckpointInterval();
    h.rewind_version = to_string(r.getRewindVersion());
    h.digest_algorithm = to_string(r.getDigestAlgorithm());
    return h;
  });
}

Bytes encode_events(const Event* events, size_t count) {
  return encoding("an event batch", [&] {
    capnp::MallocMessageBuilder message(unsigned(std::min<size_t>(count * 4 + 16, 1u << 20)));
    auto list = message.initRoot<s::EventBatch>().initEvents(unsigned(count));
    for (size_t i = 0; i < count; ++i) set_event(list[unsigned(i)], events[i]);
    return flatten(message);
  });
}

void decode_events(const AlignedBuffer& message, uint64_t first_icount, std::vector<Event>& out) {
  guarded("event batch", message, [&](MessageIn& in) {
    auto list = in.root<s::EventBatch>().getEvents();
    if (list.size() == 0) throw TraceError("event batch: no events");
    if (list.size() > kMaxEventsPerFrame)
      throw TraceError("event batch: " + std::to_string(list.size()) + " events exceed the limit of " +
                       std::to_string(kMaxEventsPerFrame));
    if (list[0].getIcount() != first_icount)
      throw TraceError("event batch: first event at icount " + std::to_string(list[0].getIcount()) +
                       " but the frame says " + std::to_string(first_icount));
    out.reserve(out.size() + list.size());
    uint64_t prev = first_icount;
    for (auto r : list) {
      Event e = get_event(r);
      if (e.icount < prev)
        throw TraceError("event batch: icount goes backwards (" + std::to_string(prev) + " then " +
                         std::to_string(e.icount) + ")");
      prev = e.icount;
      out.push_back(std::move(e));
    }
    return 0;
  });
}

namespace {

// The pages of `cp` with equal contents merged: a hash of each page picks
// candidates, memcmp decides. refs[i] indexes `unique` for cp.pages[i].
struct MergedPages {
  std::vector<const Bytes*> unique;
  std::vector<uint32_t> refs;
};

MergedPages merge_pages(const Checkpoint& cp) {
  MergedPages m;
  std::vector<uint32_t> remap(cp.page_contents.size(), UINT32_MAX);
  std::unordered_multimap<uint64_t, uint32_t> by_hash;
  m.refs.reserve(cp.pages.size());
  std::unordered_set<uint64_t> seen_pages;
  for (const PageRef& p : cp.pages) {
    if (p.content >= cp.page_contents.size())
      throw TraceError("checkpoint at icount " + std::to_string(cp.icount) + ": page " +
                       std::to_string(p.page_number) + " refers to missing content " + std::to_string(p.content));
    if (!seen_pages.insert(p.page_number).second)
      throw TraceError("checkpoint at icount " + std::to_string(cp.icount) + ": page " +
                       std::to_string(p.page_number) + " listed twice");
    const Bytes& bytes = cp.page_contents[p.content];
    if (bytes.size() != kPageSize)
      throw TraceError("checkpoint at icount " + std::to_string(cp.icount) + ": page " +
                       std::to_string(p.page_number) + " has " + std::to_string(bytes.size()) + " bytes");
    if (remap[p.content] == UINT32_MAX) {
      uint64_t hash = 1469598103934665603ull;  // FNV-1a over 8-byte words
      for (size_t i = 0; i < kPageSize; i += 8) {
        uint64_t w;
        std::memcpy(&w, bytes.data() + i, 8);
        hash = (hash ^ w) * 1099511628211ull;
      }
      uint32_t found = UINT32_MAX;
      auto [lo, hi] = by_hash.equal_range(hash);
      for (auto it = lo; it != hi && found == UINT32_MAX; ++it)
        if (std::memcmp(m.unique[it->second]->data(), bytes.data(), kPageSize) == 0) found = it->second;
      if (found == UINT32_MAX) {
        found = uint32_t(m.unique.size());
        m.unique.push_back(&bytes);
        by_hash.emplace(hash, found);
      }
      remap[p.content] = found;
    }
    m.refs.push_back(remap[p.content]);
  }
  return m;
}

template <typename Builder>
void set_pages(Builder root, const Checkpoint& cp, const MergedPages& m) {
  auto pages = root.initPages(unsigned(cp.pages.size()));
  for (size_t i = 0; i < cp.pages.size(); ++i) {
    pages[unsigned(i)].setPageNumber(cp.pages[i].page_number);
    pages[unsigned(i)].setContent(m.refs[i]);
  }
  auto contents = root.initPageContents(unsigned(m.unique.size()));
  for (size_t i = 0; i < m.unique.size(); ++i) contents.set(unsigned(i), as_data(*m.unique[i]));
}

// Appends the pages of a Checkpoint or CheckpointPages reader to `cp`,
// validating them.
template <typename Reader>
void get_pages(Reader r, const std::string& where, Checkpoint& cp) {
  auto contents = r.getPageContents();
  size_t base = cp.page_contents.size();
  cp.page_contents.reserve(base + contents.size());
  for (auto c : contents) {
    if (c.size() != kPageSize)
      throw TraceError(where + ": page content of " + std::to_string(c.size()) + " bytes, expected 4096");
    cp.page_contents.push_back(to_bytes(c));
  }
  auto pages = r.getPages();
  cp.pages.reserve(cp.pages.size() + pages.size());
  std::unordered_set<uint64_t> seen;
  for (auto p : pages) {
    if (p.getContent() >= contents.size())
      throw TraceError(where + ": page " + std::to_string(p.getPageNumber()) + " refers to missing content " +
                       std::to_string(p.getContent()));
    if (!seen.insert(p.getPageNumber()).second)
      throw TraceError(where + ": page " + std::to_string(p.getPageNumber()) + " listed twice");
    cp.pages.push_back({p.getPageNumber(), uint32_t(base + p.getContent())});
  }
}

}  // namespace

Bytes encode_checkpoint(const Checkpoint& cp, uint32_t page_frames) {
  MergedPages merged = merge_pages(cp);
  if (cp.devices.size() > kMaxDevicesPerCheckpoint)
    throw TraceError("checkpoint: too many devices (" + std::to_string(cp.devices.size()) + ")");

  return encoding("a checkpoint", [&] {
    capnp::MallocMessageBuilder message(unsigned(std::min<size_t>(merged.unique.size() * 513 + 1024, 1u << 24)));
    auto root = message.initRoot<s::Checkpoint>();
    root.setIcount(cp.icount);
    root.setIdleNs(cp.idle_ns);
    root.setCpuStateVersion(cp.cpu_state_version);
    root.setCpuState(as_data(cp.cpu_state));
    auto more = root.initMoreCpuStates(unsigned(cp.more_cpu_states.size()));
    for (size_t i = 0; i < cp.more_cpu_states.size(); ++i) more.set(unsigned(i), as_data(cp.more_cpu_states[i]));
    auto devices = root.initDevices(unsigned(cp.devices.size()));
    for (size_t i = 0; i < cp.devices.size(); ++i) {
      devices[unsigned(i)].setName(as_text(cp.devices[i].name));
      devices[unsigned(i)].setState(as_data(cp.devices[i].state));
    }
    set_pages(root, cp, merged);
    if (cp.footprint_known) {
      auto footprint = root.initFootprint();
      footprint.setKnown(true);
      auto code = footprint.initCodeLines(unsigned(cp.code_lines.size()));
      for (size_t i = 0; i < cp.code_lines.size(); ++i) {
        code[unsigned(i)].setPage(cp.code_lines[i].page);
        code[unsigned(i)].setLines(cp.code_lines[i].lines);
      }
      auto written = footprint.initWrittenPages(unsigned(cp.written_pages.size()));
      for (size_t i = 0; i < cp.written_pages.size(); ++i) written.set(unsigned(i), cp.written_pages[i]);
    }
    set_digest(root.initDigest(), cp.digest);
    root.setPageFrames(page_frames);
    return flatten(message);
  });
}

Checkpoint decode_checkpoint(const AlignedBuffer& message, uint32_t* page_frames) {
  return guarded("checkpoint", message, [&](MessageIn& in) {
    auto r = in.root<s::Checkpoint>();
    Checkpoint cp;
    cp.icount = r.getIcount();
    std::string where = "checkpoint at icount " + std::to_string(cp.icount);
    cp.idle_ns = r.getIdleNs();
    cp.cpu_state_version = r.getCpuStateVersion();
    cp.cpu_state = to_bytes(r.getCpuState());
    if (r.getMoreCpuStates().size() > kMaxCpusPerCheckpoint) throw TraceError(where + ": too many vCPU states");
    for (auto more : r.getMoreCpuStates()) cp.more_cpu_states.push_back(to_bytes(more));
    auto devices = r.getDevices();
    if (devices.size() > kMaxDevicesPerCheckpoint) throw TraceError(where + ": too many devices");
    for (auto d : devices) cp.devices.push_back({to_string(d.getName()), to_bytes(d.getState())});
    get_pages(r, where, cp);
    if (r.hasFootprint() && r.getFootprint().getKnown()) {
      auto footprint = r.getFootprint();
      cp.footprint_known = true;
      for (auto c : footprint.getCodeLines()) cp.code_lines.push_back({c.getPage(), c.getLines()});
      for (uint64_t page : footprint.getWrittenPages()) cp.written_pages.push_back(page);
    }
    cp.digest = get_digest(r.getDigest(), where.c_str());
    if (page_frames) *page_frames = r.getPageFrames();
    return cp;
  });
}

Bytes encode_checkpoint_pages(const Checkpoint& chunk) {
  MergedPages merged = merge_pages(chunk);
  return encoding("checkpoint pages", [&] {
    capnp::MallocMessageBuilder message(unsigned(std::min<size_t>(merged.unique.size() * 513 + 1024, 1u << 24)));
    set_pages(message.initRoot<s::CheckpointPages>(), chunk, merged);
    return flatten(message);
  });
}

void decode_checkpoint_pages(const AlignedBuffer& message, uint64_t icount, Checkpoint& out) {
  guarded("checkpoint pages", message, [&](MessageIn& in) {
    auto r = in.root<s::CheckpointPages>();
    std::string where = "pages of the checkpoint at icount " + std::to_string(icount);
    if (r.getPages().size() == 0) throw TraceError(where + ": no pages");
    get_pages(r, where, out);
    return 0;
  });
}

Bytes encode_footer(const FooterData& f) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<s::Footer>();
  auto frames = root.initFrames(unsigned(f.frames.size()));
  for (size_t i = 0; i < f.frames.size(); ++i) {
    frames[unsigned(i)].setFirstIcount(f.frames[i].first_icount);
    frames[unsigned(i)].setOffset(f.frames[i].offset);
    frames[unsigned(i)].setKind(f.frames[i].kind == FrameKind::kEvents       ? s::Footer::FrameKind::EVENTS
                                : f.frames[i].kind == FrameKind::kCheckpoint ? s::Footer::FrameKind::CHECKPOINT
                                                                             : s::Footer::FrameKind::CHECKPOINT_PAGES);
  }
  auto cps = root.initCheckpoints(unsigned(f.checkpoints.size()));
  for (size_t i = 0; i < f.checkpoints.size(); ++i) {
    cps[unsigned(i)].setIcount(f.checkpoints[i].icount);
    cps[unsigned(i)].setOffset(f.checkpoints[i].offset);
  }
  root.setEventCount(f.event_count);
  root.setLastIcount(f.last_icount);
  return flatten(message);
}

FooterData decode_footer(const AlignedBuffer& message) {
  return guarded("trace footer", message, [](MessageIn& in) {
    auto r = in.root<s::Footer>();
    FooterData f;
    auto frames = r.getFrames();
    f.frames.reserve(frames.size());
    for (auto fr : frames) {
      uint16_t kind = raw_enum(fr.getKind());
      if (kind > raw_enum(s::Footer::FrameKind::CHECKPOINT_PAGES))
        throw TraceError("trace footer: unknown frame kind " + std::to_string(kind));
      constexpr FrameKind kKinds[] = {FrameKind::kEvents, FrameKind::kCheckpoint, FrameKind::kCheckpointPages};
      f.frames.push_back({kKinds[kind], fr.getOffset(), fr.getFirstIcount()});
    }
    auto cps = r.getCheckpoints();
    f.checkpoints.reserve(cps.size());
    for (auto c : cps) f.checkpoints.push_back({c.getIcount(), c.getOffset()});
    f.event_count = r.getEventCount();
    f.last_icount = r.getLastIcount();
    return f;
  });
}

// ---- zstd -----------------------------------------------------------------

namespace {
// Largest zstd window the reader accepts: 16 MiB. Levels up to 19 use at most
// 8 MiB; without the cap a hostile frame could make the decoder allocate
// whatever window it declares.
constexpr int kMaxWindowLog = 24;
}  // namespace

size_t compress_bound(size_t raw) { return ZSTD_compressBound(raw); }

Compressor::Compressor(int level) : ctx_(ZSTD_createCCtx()), level_(std::clamp(level, 1, 19)) {
  if (!ctx_) throw TraceError("zstd: cannot create a compression context");
}
Compressor::~Compressor() { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(ctx_)); }

Bytes Compressor::compress(const Bytes& raw) {
  auto* ctx = static_cast<ZSTD_CCtx*>(ctx_);
  Bytes out(ZSTD_compressBound(raw.size()));
  ZSTD_CCtx_reset(ctx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level_);
  size_t n = ZSTD_compress2(ctx, out.data(), out.size(), raw.data(), raw.size());
  if (ZSTD_isError(n)) throw TraceError(std::string("zstd: compression failed: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Decompressor::Decompressor() : ctx_(ZSTD_createDCtx()) {
  if (!ctx_) throw TraceError("zstd: cannot create a decompression context");
  ZSTD_DCtx_setParameter(static_cast<ZSTD_DCtx*>(ctx_), ZSTD_d_windowLogMax, kMaxWindowLog);
}
Decompressor::~Decompressor() { ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(ctx_)); }

void Decompressor::decompress(const uint8_t* data, size_t len, size_t expected, AlignedBuffer& out,
                              const std::string& where) {
  auto* ctx = static_cast<ZSTD_DCtx*>(ctx_);
  ZSTD_DCtx_reset(ctx, ZSTD_reset_session_only);
  // Start small and double: the declared length is only an upper bound we
  // were told, not memory we have seen a reason to spend.
  size_t capacity = std::min<size_t>(expected, 1u << 20);
  out.resize(capacity);
  ZSTD_inBuffer in{data, len, 0};
  ZSTD_outBuffer o{out.data(), capacity, 0};
  for (;;) {
    size_t in_before = in.pos, out_before = o.pos;
    size_t r = ZSTD_decompressStream(ctx, &o, &in);
    if (ZSTD_isError(r)) throw TraceError(where + ": zstd: " + ZSTD_getErrorName(r));
    if (r == 0) {
      if (in.pos != in.size)
        throw TraceError(where + ": " + std::to_string(in.size - in.pos) + " bytes after the compressed data");
      break;
    }
    if (o.pos == o.size && capacity < expected) {
      capacity = std::min(expected, capacity * 2);
      out.resize(capacity);  // AlignedBuffer keeps the bytes already written
      o.dst = out.data();
      o.size = capacity;
      continue;
    }
    // With the output full at the declared length, zstd may still consume an
    // epilogue; if it can do nothing more, the data is longer than declared.
    if (in.pos == in_before && o.pos == out_before) {
      if (o.pos == o.size)
        throw TraceError(where + ": decompresses to more than the " + std::to_string(expected) + " bytes declared");
      throw TraceError(where + ": zstd: compressed data ends early");
    }
    if (in.pos == in.size && o.pos < o.size) throw TraceError(where + ": zstd: compressed data ends early");
  }
  if (o.pos != expected)
    throw TraceError(where + ": decompresses to " + std::to_string(o.pos) + " bytes, the frame declares " +
                     std::to_string(expected));
  out.resize(o.pos);
}

}  // namespace rwd::traces::codec
