#include "traces/trace_info.h"

#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "traces/sha256.h"

namespace rwd::traces {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t utf8_length(const std::string& s, size_t i) {
  auto byte = [&](size_t k) { return k < s.size() ? uint8_t(s[k]) : 0; };
  uint8_t c = byte(i);
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
  else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
  else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
  else return 0;
  for (size_t k = 1; k < n; ++k) {
    uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (b & 0x3F);
  }
  // Reject overlong forms, surrogates and values beyond Unicode.
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
    return 0;
  return n;
}

std::string hex(const Bytes& b) { return to_hex(b.data(), b.size()); }

std::string digest_text(const Digest& d) {
  if (d.registers.empty() && d.pages.empty()) return "-";
  return (d.registers.empty() ? "-" : hex(d.registers)) + "/" + (d.pages.empty() ? "-" : hex(d.pages));
}

std::string digest_json(const Digest& d) {
  return "{\"registers\":\"" + hex(d.registers) + "\",\"pages\":\"" + hex(d.pages) + "\"}";
}

const char* serial_kind_name(SerialSpec::Kind k) {
  switch (k) {
    case SerialSpec::Kind::kStdio: return "stdio";
    case SerialSpec::Kind::kFile: return "file";
    case SerialSpec::Kind::kNone: return "none";
  }
  return "unknown";
}

std::string json_strings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + json_string(v[i]);
  return out + "]";
}

std::string byte_text(uint8_t b) {
  char buf[32];
  if (b >= 0x20 && b < 0x7f && b != '\'' && b != '\\')
    std::snprintf(buf, sizeof buf, "0x%02x '%c'", b, b);
  else
    std::snprintf(buf, sizeof buf, "0x%02x", b);
  return buf;
}

}  // namespace

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    uint8_t c = uint8_t(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else if (c >= 0x80) {
      size_t n = utf8_length(s, i);
      if (n == 0) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);  // a stray byte, shown as Latin-1
        out += buf;
      } else {
        out.append(s, i, n);
        i += n;
        continue;
      }
    } else {
      out += char(c);
    }
    ++i;
  }
  return out + "\"";
}

std::string printable(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    uint8_t c = uint8_t(s[i]);
    if (c >= 0x80) {
      if (size_t n = utf8_length(s, i)) {
        out.append(s, i, n);
        i += n;
        continue;
      }
    }
    if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7f || c >= 0x80) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += char(c);
    }
    ++i;
  }
  return out;
}

std::string to_text(const Event& e) {
  std::string out = "icount=" + std::to_string(e.icount) + " " + event_kind_name(e.kind());
  std::visit(
      [&](const auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, ConsoleInput>) {
          out += " console=" + std::to_string(d.console) + " byte=" + byte_text(d.byte);
        } else if constexpr (std::is_same_v<T, WallClock>) {
          out += " ns_since_epoch=" + std::to_string(d.ns_since_epoch);
        } else if constexpr (std::is_same_v<T, RandomValue>) {
          char buf[32];
          std::snprintf(buf, sizeof buf, " value=0x%016" PRIx64, d.value);
          out += buf;
        } else if constexpr (std::is_same_v<T, UserRequest>) {
          out += d.kind == UserRequest::Kind::kQuit ? " request=quit" : " request=reset";
        } else if constexpr (std::is_same_v<T, StateDigest>) {
          out += " digest=" + digest_text(d.digest);
        } else {
          out += std::string(" reason=") + stop_reason_name(d.reason) + " exit_status=" +
                 std::to_string(d.exit_status) + " digest=" + digest_text(d.final_digest);
        }
      },
      e.data);
  return out;
}

std::string to_json(const Event& e) {
  std::string out = "{\"icount\":" + std::to_string(e.icount) + ",\"kind\":\"" + event_kind_name(e.kind()) + "\"";
  std::visit(
      [&](const auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, ConsoleInput>) {
          out += ",\"console\":" + std::to_string(d.console) + ",\"byte\":" + std::to_string(d.byte);
        } else if constexpr (std::is_same_v<T, WallClock>) {
          out += ",\"ns_since_epoch\":" + std::to_string(d.ns_since_epoch);
        } else if constexpr (std::is_same_v<T, RandomValue>) {
          // As a string: JSON numbers lose precision beyond 2^53 in most readers.
          out += ",\"value\":\"" + std::to_string(d.value) + "\"";
        } else if constexpr (std::is_same_v<T, UserRequest>) {
          out += d.kind == UserRequest::Kind::kQuit ? ",\"request\":\"quit\"" : ",\"request\":\"reset\"";
        } else if constexpr (std::is_same_v<T, StateDigest>) {
          out += ",\"digest\":" + digest_json(d.digest);
        } else {
          out += std::string(",\"reason\":\"") + stop_reason_name(d.reason) + "\",\"exit_status\":" +
                 std::to_string(d.exit_status) + ",\"digest\":" + digest_json(d.final_digest);
        }
      },
      e.data);
  return out + "}";
}

TraceSummary summarize(TraceReader& reader, const std::string& path) {
  TraceSummary s;
  s.path = path;
  s.header = reader.header();
  s.truncated = reader.truncated();
  s.readable_end = reader.readable_end();
  s.file_bytes = reader.file_size();
  s.checkpoints = reader.checkpoints().size();
  s.frames = reader.frames().size();
  for (size_t i = 0; i < reader.frames().size(); ++i) {
    TraceReader::FrameSizes sizes = reader.frame_sizes(i);
    s.raw_bytes += sizes.uncompressed;
    s.compressed_bytes += sizes.compressed;
  }
  reader.restart();
  while (std::optional<Event> e = reader.next()) {
    ++s.events;
    ++s.events_by_kind[size_t(e->kind())];
    if (auto* end = std::get_if<RunEnd>(&e->data)) s.run_end = *end;
  }
  reader.restart();
  s.instructions = reader.last_icount();
  return s;
}

std::string to_text(const TraceSummary& s) {
  const Header& h = s.header;
  std::ostringstream o;
  o << "trace:        " << printable(s.path) << " (format " << h.format_major << "." << h.format_minor << ", rewind "
    << (h.rewind_version.empty() ? "?" : printable(h.rewind_version)) << ")\n";
  o << "status:       "
    << (s.truncated ? "cut off: readable up to byte " + std::to_string(s.readable_end) + " of " +
                          std::to_string(s.file_bytes)
                    : std::string("complete"))
    << "\n";
  o << "command line:";
  for (const std::string& a : h.command_line) o << " " << printable(a);
  o << "\n";
  if (!h.machine.kernel.empty()) o << "kernel:       " << printable(h.machine.kernel) << "\n";
  if (!h.machine.bios.empty())
    o << "bios:         " << printable(h.machine.bios) << " (" << h.machine.bios_size << " bytes)\n";
  if (!h.machine.append.empty()) o << "append:       " << printable(h.machine.append) << "\n";
  for (const std::string& i : h.machine.initrd) o << "initrd:       " << printable(i) << "\n";
  o << "memory:       " << h.machine.ram_size << " bytes (" << (h.machine.ram_size >> 20) << " MiB)\n";
  o << "serial:       " << serial_kind_name(h.machine.serial.kind);
  if (!h.machine.serial.path.empty()) o << " " << printable(h.machine.serial.path);
  if (!h.machine.serial.input_path.empty()) o << " (input " << printable(h.machine.serial.input_path) << ")";
  o << "\n";
  o << "accel:        " << printable(h.machine.accel) << (h.machine.no_reboot ? ", no-reboot" : "") << "\n";
  if (!h.machine.cpu_features_off.empty()) {
    o << "cpu:          max";
    for (const std::string& f : h.machine.cpu_features_off) o << ",-" << printable(f);
    o << "\n";
  }
  if (h.machine.cpus > 1)
    o << "vCPUs:        " << h.machine.cpus << " (turns of " << (h.machine.quantum ? h.machine.quantum : 10000)
      << " instructions)\n";
  for (const DeviceSpec& d : h.machine.devices) {
    o << "device:       " << printable(d.driver);
    for (const auto& [k, v] : d.properties) o << "," << printable(k) << "=" << printable(v);
    o << "\n";
  }
  for (const ImageInfo& img : h.images)
    o << "image:        " << printable(img.path) << " " << img.size << " bytes sha256 " << to_hex(img.sha256) << "\n";
  o << "instructions: " << s.instructions << "\n";
  o << "events:       " << s.events;
  for (size_t k = 0; k < kEventKindCount; ++k)
    if (s.events_by_kind[k]) o << ", " << event_kind_name(EventKind(k)) << " " << s.events_by_kind[k];
  o << "\n";
  o << "checkpoints:  " << s.checkpoints << " (every " << h.checkpoint_interval << " instructions)\n";
  o << "frames:       " << s.frames << ", " << s.raw_bytes << " bytes raw, " << s.compressed_bytes
    << " compressed, file " << s.file_bytes << " bytes";
  if (s.run_end)
    o << "\nend:          " << stop_reason_name(s.run_end->reason) << ", exit status " << s.run_end->exit_status;
  return o.str();
}

std::string to_json(const Header& h) {
  std::ostringstream o;
  o << "{\"format\":\"" << h.format_major << "." << h.format_minor << "\"";
  o << ",\"rewind_version\":" << json_string(h.rewind_version);
  o << ",\"command_line\":" << json_strings(h.command_line);
  o << ",\"machine\":{\"kernel\":" << json_string(h.machine.kernel) << ",\"append\":" << json_string(h.machine.append)
    << ",\"initrd\":" << json_strings(h.machine.initrd) << ",\"ram_size\":" << h.machine.ram_size
    << ",\"serial\":{\"kind\":\"" << serial_kind_name(h.machine.serial.kind)
    << "\",\"path\":" << json_string(h.machine.serial.path)
    << ",\"input_path\":" << json_string(h.machine.serial.input_path) << "}"
    << ",\"accel\":" << json_string(h.machine.accel) << ",\"no_reboot\":" << (h.machine.no_reboot ? "true" : "false")
    << ",\"cpus\":" << h.machine.cpus << ",\"quantum\":" << h.machine.quantum
    << ",\"bios\":" << json_string(h.machine.bios) << ",\"bios_size\":" << h.machine.bios_size
    << ",\"cpu_features_off\":" << json_strings(h.machine.cpu_features_off)
    << ",\"devices\":[";
  for (size_t i = 0; i < h.machine.devices.size(); ++i) {
    const DeviceSpec& d = h.machine.devices[i];
    o << (i ? "," : "") << "{\"driver\":" << json_string(d.driver) << ",\"properties\":{";
    for (size_t j = 0; j < d.properties.size(); ++j)
      o << (j ? "," : "") << json_string(d.properties[j].first) << ":" << json_string(d.properties[j].second);
    o << "}}";
  }
  o << "]},\"images\":[";
  for (size_t i = 0; i < h.images.size(); ++i)
    o << (i ? "," : "") << "{\"path\":" << json_string(h.images[i].path) << ",\"size\":" << h.images[i].size
      << ",\"sha256\":\"" << to_hex(h.images[i].sha256) << "\"}";
  o << "],\"initial_digest\":" << digest_json(h.initial_digest);
  o << ",\"checkpoint_interval\":" << h.checkpoint_interval;
  o << ",\"digest_algorithm\":" << json_string(h.digest_algorithm) << "}";
  return o.str();
}

std::string to_json(const TraceSummary& s) {
  std::ostringstream o;
  o << "{\"path\":" << json_string(s.path) << ",\"header\":" << to_json(s.header);
  o << ",\"complete\":" << (s.truncated ? "false" : "true") << ",\"readable_end\":" << s.readable_end;
  o << ",\"instructions\":" << s.instructions << ",\"events\":" << s.events << ",\"events_by_kind\":{";
  for (size_t k = 0; k < kEventKindCount; ++k)
    o << (k ? "," : "") << "\"" << event_kind_name(EventKind(k)) << "\":" << s.events_by_kind[k];
  o << "},\"checkpoints\":" << s.checkpoints << ",\"frames\":" << s.frames << ",\"raw_bytes\":" << s.raw_bytes
    << ",\"compressed_bytes\":" << s.compressed_bytes << ",\"file_bytes\":" << s.file_bytes;
  if (s.run_end)
    o << ",\"run_end\":{\"reason\":\"" << stop_reason_name(s.run_end->reason)
      << "\",\"exit_status\":" << s.run_end->exit_status << "}";
  o << "}";
  return o.str();
}

}  // namespace rwd::traces
