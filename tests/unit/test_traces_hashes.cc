// SHA-256 against the FIPS 180-4 / NIST example vectors, and CRC-32C against
// its published check value, both hardware and table paths.
#define BOOST_TEST_MODULE traces_hashes
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "test_traces_util.h"
#include "traces/crc32c.h"
#include "traces/sha256.h"

using namespace rwd::traces;
using namespace rwd::traces::test;

BOOST_AUTO_TEST_CASE(sha256_nist_vectors) {
  BOOST_TEST(to_hex(sha256("abc", 3)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(to_hex(sha256("", 0)) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";  // 448 bits
  BOOST_TEST(to_hex(sha256(m448.data(), m448.size())) ==
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string m896 =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  BOOST_TEST(to_hex(sha256(m896.data(), m896.size())) ==
             "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  // One million 'a', fed in uneven pieces to exercise the block buffering.
  Sha256 h;
  std::string chunk(997, 'a');
  size_t left = 1'000'000;
  while (left > 0) {
    size_t n = std::min(left, chunk.size());
    h.update(chunk.data(), n);
    left -= n;
  }
  BOOST_TEST(to_hex(h.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

BOOST_AUTO_TEST_CASE(sha256_padding_boundaries_agree_between_whole_and_pieces) {
  // Lengths around the 55/56/64-byte padding edges, hashed whole and bytewise.
  for (size_t len : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128}) {
    std::vector<uint8_t> msg(len);
    for (size_t i = 0; i < len; ++i) msg[i] = uint8_t(i * 31 + 7);
    Sha256 pieces;
    for (uint8_t b : msg) pieces.update(&b, 1);
    BOOST_TEST((pieces.finish() == sha256(msg.data(), msg.size())), "length " << len);
  }
}

BOOST_AUTO_TEST_CASE(crc32c_check_value_and_both_paths) {
  const char* check = "123456789";
  BOOST_TEST(crc32c(0, check, 9) == 0xE3069283u);
  BOOST_TEST(crc32c_portable(0, check, 9) == 0xE3069283u);
  // 32 zero bytes: a vector from RFC 3720 (iSCSI) B.4.
  std::vector<uint8_t> zeros(32, 0);
  BOOST_TEST(crc32c(0, zeros.data(), zeros.size()) == 0x8A9136AAu);
  std::vector<uint8_t> data(10'000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 131 + (i >> 5));
  for (size_t len : {0, 1, 7, 8, 9, 100, 4097, 10'000}) {
    uint32_t a = crc32c(0, data.data(), len);
    BOOST_TEST(a == crc32c_portable(0, data.data(), len), "length " << len);
    // Chaining over pieces equals one pass.
    size_t half = len / 3;
    BOOST_TEST(a == crc32c(crc32c(0, data.data(), half), data.data() + half, len - half));
  }
}
