// The GDB remote protocol's framing (tools/gdbstub/rsp): the manual's own
// examples, and a decoder written here from the manual's rules ("Overview":
// checksum, '}' escapes, '*' run-length counts of n - 29) that every framed
// reply must decode through to its payload.
#define BOOST_TEST_MODULE gdb_rsp
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

#include "tools/gdbstub/rsp.h"

using namespace rwd::tools::gdb;
using Kind = RspEvent::Kind;

namespace {

// What a debugger does with a reply: check the frame and checksum, expand
// the runs, undo the escapes.
std::string decode_reply(const std::string& frame) {
  BOOST_REQUIRE(frame.size() >= 4 && frame.front() == '$' && frame[frame.size() - 3] == '#');
  std::string body = frame.substr(1, frame.size() - 4);
  unsigned sum = 0;
  for (char c : body) sum = (sum + uint8_t(c)) & 0xff;
  BOOST_TEST(std::stoul(frame.substr(frame.size() - 2), nullptr, 16) == sum);
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    BOOST_TEST((c != '#' && c != '$'), "unescaped '#' or '$' inside the frame");
    if (c == '}') {
      BOOST_REQUIRE(i + 1 < body.size());
      out.push_back(char(body[++i] ^ 0x20));
    } else if (c == '*') {
      BOOST_REQUIRE(!out.empty() && i + 1 < body.size());
      int n = uint8_t(body[++i]) - 29;
      BOOST_TEST((n >= 3 && n <= 97));
      out.append(size_t(n), out.back());
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<RspEvent> read_all(PacketReader& r, const std::string& bytes) {
  std::vector<RspEvent> events;
  r.feed(bytes, events);
  return events;
}

}  // namespace

BOOST_AUTO_TEST_CASE(replies_are_framed_with_their_checksum) {
  BOOST_TEST(frame_reply("OK") == "$OK#9a");
  BOOST_TEST(frame_reply("") == "$#00");
  BOOST_TEST(frame_reply("E01") == "$E01#a6");
}

BOOST_AUTO_TEST_CASE(runs_are_encoded_as_the_manual_shows) {
  // "'0* ' is a run-length encoding of "0000"".
  BOOST_TEST(frame_reply("0000").substr(0, 4) == "$0* ");
  BOOST_TEST(frame_reply("000") == "$000#90");  // a run of three is not worth it
  // Six or seven more would be '#' or '$': five, then the rest.
  for (size_t n : {7u, 8u, 9u, 100u, 500u}) {
    std::string zeros(n, '0');
    BOOST_TEST(decode_reply(frame_reply(zeros)) == zeros, n << " zeros");
    BOOST_TEST(frame_reply(zeros).size() - 4 < n, n << " zeros are not shorter");  // less $ # cs
  }
}

BOOST_AUTO_TEST_CASE(special_bytes_are_escaped) {
  BOOST_TEST(frame_reply("a#b$c}d*e").substr(0, 14) == "$a}\x03" "b}\x04" "c}]d}\x0a" "e");
  BOOST_TEST(decode_reply(frame_reply("****")) == "****");  // escaped, never a run
}

BOOST_AUTO_TEST_CASE(any_payload_round_trips) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string payload(rng() % 300, '\0');
    const bool runs = trial % 2;  // half with long runs of few values
    for (char& c : payload) c = char(runs ? "0f#*}a"[rng() % 6] : rng() % 256);
    if (runs)
      for (size_t i = 1; i < payload.size(); ++i)
        if (rng() % 8) payload[i] = payload[i - 1];
    BOOST_TEST_CONTEXT("trial " << trial) { BOOST_TEST(decode_reply(frame_reply(payload)) == payload); }
  }
}

BOOST_AUTO_TEST_CASE(the_reader_takes_packets_acks_and_interrupts_in_any_pieces) {
  const std::string stream = "+$qSupported:multiprocess+;xmlRegisters=i386#51-\x03$g#67";
  for (size_t piece : {1u, 2u, 5u, 1000u}) {
    PacketReader r;
    std::vector<RspEvent> events;
    for (size_t i = 0; i < stream.size(); i += piece) r.feed(stream.substr(i, piece), events);
    BOOST_TEST_CONTEXT("pieces of " << piece) {
      BOOST_REQUIRE(events.size() == 5u);
      BOOST_TEST((events[0].kind == Kind::kAck));
      BOOST_TEST((events[1].kind == Kind::kPacket));
      BOOST_TEST(events[1].payload == "qSupported:multiprocess+;xmlRegisters=i386");
      BOOST_TEST((events[2].kind == Kind::kNak));
      BOOST_TEST((events[3].kind == Kind::kInterrupt));
      BOOST_TEST((events[4].kind == Kind::kPacket));
      BOOST_TEST(events[4].payload == "g");
    }
  }
}

BOOST_AUTO_TEST_CASE(the_reader_survives_a_hostile_peer) {
  PacketReader r(8);
  // A wrong checksum, non-hex checksum digits, an over-long packet, noise
  // between packets, a packet restarted by '$': events, then a good packet.
  auto events = read_all(r, "$g#00$g#zz$0123456789#0dnoise$abc$g#67");
  BOOST_REQUIRE(events.size() == 4u);
  BOOST_TEST((events[0].kind == Kind::kBadChecksum));
  BOOST_TEST((events[1].kind == Kind::kBadChecksum));
  BOOST_TEST((events[2].kind == Kind::kTooLong));
  BOOST_TEST((events[3].kind == Kind::kPacket));
  BOOST_TEST(events[3].payload == "g");
  // Upper-case checksum digits are fine.
  events = read_all(r, "$OK#9A");
  BOOST_REQUIRE(events.size() == 1u);
  BOOST_TEST((events[0].kind == Kind::kPacket));
}

BOOST_AUTO_TEST_CASE(binary_payloads_and_hex) {
  BOOST_TEST(unescape_binary("a}\x03z").value() == "a#z");
  BOOST_TEST(!unescape_binary("abc}").has_value());
  BOOST_TEST(to_hex(std::string("\x00\x7f\xff", 3)) == "007fff");
  BOOST_TEST(from_hex("007FfF").value() == std::string("\x00\x7f\xff", 3));
  BOOST_TEST(!from_hex("abc").has_value());
  BOOST_TEST(!from_hex("zz").has_value());
  BOOST_TEST(parse_hex_u64("ffffffff81000000").value() == 0xffffffff81000000ull);
  BOOST_TEST(!parse_hex_u64("").has_value());
  BOOST_TEST(!parse_hex_u64("10000000000000000").has_value());
  BOOST_TEST(!parse_hex_u64("12g4").has_value());
}
