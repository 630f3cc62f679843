// A strict JSON (RFC 8259) checker for tests of `--json` output: the whole
// text must be one value; strings must be valid UTF-8 with no raw control
// characters and only the standard escapes. Returns "" when valid, else
// what is wrong and where. Header-only.
#pragma once

#include <cctype>
#include <cstdint>
#include <string>

namespace rwd::testing {

class JsonChecker {
 public:
  explicit JsonChecker(const std::string& text) : s_(text) {}

  std::string check() {
    try {
      ws();
      value(0);
      ws();
      if (i_ != s_.size()) fail("text after the value");
    } catch (const std::string& e) {
      return e;
    }
    return "";
  }

 private:
  [[noreturn]] void fail(const std::string& what) { throw what + " at byte " + std::to_string(i_); }
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  void ws() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  void literal(const char* word) {
    for (const char* p = word; *p; ++p) expect(*p);
  }
  void value(int depth) {
    if (depth > 64) fail("nesting too deep");
    char c = peek();
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return string();
    if (c == 't') return literal("true");
    if (c == 'f') return literal("false");
    if (c == 'n') return literal("null");
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    fail("expected a value");
  }
  void object(int depth) {
    expect('{');
    ws();
    if (peek() == '}') {
      ++i_;
      return;
    }
    for (;;) {
      ws();
      string();
      ws();
      expect(':');
      ws();
      value(depth + 1);
      ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect('}');
      return;
    }
  }
  void array(int depth) {
    expect('[');
    ws();
    if (peek() == ']') {
      ++i_;
      return;
    }
    for (;;) {
      ws();
      value(depth + 1);
      ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect(']');
      return;
    }
  }
  void digits() {
    if (!(peek() >= '0' && peek() <= '9')) fail("expected a digit");
    while (peek() >= '0' && peek() <= '9') ++i_;
  }
  void number() {
    if (peek() == '-') ++i_;
    if (peek() == '0') ++i_;
    else digits();
    if (peek() == '.') {
      ++i_;
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      ++i_;
      if (peek() == '+' || peek() == '-') ++i_;
      digits();
    }
  }
  void string() {
    expect('"');
    for (;;) {
      if (at_end()) fail("unterminated string");
      uint8_t c = uint8_t(s_[i_]);
      if (c == '"') {
        ++i_;
        return;
      }
      if (c < 0x20) fail("raw control character in a string");
      if (c == '\\') {
        ++i_;
        char e = peek();
        if (e == 'u') {
          ++i_;
          for (int k = 0; k < 4; ++k, ++i_)
            if (!std::isxdigit(static_cast<unsigned char>(peek()))) fail("bad \\u escape");
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
          ++i_;
        } else {
          fail("bad escape");
        }
        continue;
      }
      if (c < 0x80) {
        ++i_;
        continue;
      }
      utf8();
    }
  }
  void utf8() {
    uint8_t c = uint8_t(s_[i_]);
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
    else fail("invalid UTF-8 lead byte");
    for (size_t k = 1; k < n; ++k) {
      if (i_ + k >= s_.size() || (uint8_t(s_[i_ + k]) & 0xC0) != 0x80) fail("invalid UTF-8 continuation");
      cp = cp << 6 | (uint8_t(s_[i_ + k]) & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      fail("invalid UTF-8 code point");
    i_ += n;
  }

  const std::string& s_;
  size_t i_ = 0;
};

inline std::string json_problem(const std::string& text) { return JsonChecker(text).check(); }

}  // namespace rwd::testing
