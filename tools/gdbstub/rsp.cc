#include "tools/gdbstub/rsp.h"

namespace rwd::tools::gdb {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kHexDigits[] = "0123456789abcdef";

bool must_escape(char c) { return c == '#' || c == '$' || c == '}' || c == '*'; }

}  // namespace

uint8_t rsp_checksum(std::string_view payload) {
  uint8_t sum = 0;
  for (char c : payload) sum = uint8_t(sum + uint8_t(c));
  return sum;
}

void PacketReader::feed(std::string_view bytes, std::vector<RspEvent>& out) {
  for (char c : bytes) {
    switch (state_) {
      case State::kIdle:
        if (c == '$') {
          state_ = State::kPayload;
          payload_.clear();
          too_long_ = false;
          sum_ = 0;
        } else if (c == '+') {
          out.push_back({RspEvent::Kind::kAck, {}});
        } else if (c == '-') {
          out.push_back({RspEvent::Kind::kNak, {}});
        } else if (c == '\x03') {
          out.push_back({RspEvent::Kind::kInterrupt, {}});
        }
        // Anything else between packets is line noise: ignored.
        break;
      case State::kPayload:
        if (c == '#') {
          state_ = State::kChecksum1;
        } else if (c == '$') {
          // A new packet inside this one: the first was cut off. Start over.
          payload_.clear();
          too_long_ = false;
          sum_ = 0;
        } else {
          sum_ = uint8_t(sum_ + uint8_t(c));
          if (payload_.size() < max_payload_) payload_.push_back(c);
          else too_long_ = true;
        }
        break;
      case State::kChecksum1:
        checksum_ = hex_digit(c);
        state_ = State::kChecksum2;
        break;
      case State::kChecksum2: {
        int low = hex_digit(c);
        state_ = State::kIdle;
        if (too_long_) {
          out.push_back({RspEvent::Kind::kTooLong, {}});
        } else if (checksum_ < 0 || low < 0 || uint8_t(checksum_ << 4 | low) != sum_) {
          out.push_back({RspEvent::Kind::kBadChecksum, {}});
        } else {
          out.push_back({RspEvent::Kind::kPacket, std::move(payload_)});
        }
        payload_.clear();
        break;
      }
    }
  }
}

std::string frame_reply(std::string_view payload) {
  std::string body;
  body.reserve(payload.size() + 8);
  for (size_t i = 0; i < payload.size();) {
    char c = payload[i];
    if (must_escape(c)) {
      body.push_back('}');
      body.push_back(char(c ^ 0x20));
      ++i;
      continue;
    }
    size_t run = 1;
    while (i + run < payload.size() && payload[i + run] == c) ++run;
    body.push_back(c);
    // n more copies are sent as '*' and n + 29: 3 to 97 at a time, never 6
    // or 7 ('#' and '$', sent as 5); a literal copy starts each further run.
    for (size_t left = run - 1; left > 0;) {
      if (left < 3) {
        body.append(left, c);
        break;
      }
      size_t n = left > 97 ? 97 : left;
      if (n == 6 || n == 7) n = 5;
      body.push_back('*');
      body.push_back(char(n + 29));
      left -= n;
      if (left > 0) {
        body.push_back(c);
        --left;
      }
    }
    i += run;
  }
  std::string out = "$" + body + "#";
  uint8_t sum = rsp_checksum(body);
  out.push_back(kHexDigits[sum >> 4]);
  out.push_back(kHexDigits[sum & 15]);
  return out;
}

std::optional<std::string> unescape_binary(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '}') {
      out.push_back(raw[i]);
      continue;
    }
    if (++i == raw.size()) return std::nullopt;
    out.push_back(char(raw[i] ^ 0x20));
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    out.push_back(kHexDigits[uint8_t(c) >> 4]);
    out.push_back(kHexDigits[uint8_t(c) & 15]);
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(char(hi << 4 | lo));
  }
  return out;
}

std::optional<uint64_t> parse_hex_u64(std::string_view hex) {
  if (hex.empty() || hex.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : hex) {
    int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    v = v << 4 | uint64_t(d);
  }
  return v;
}

}  // namespace rwd::tools::gdb
