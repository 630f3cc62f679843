// Force-included (clang++-19 -include) into the fuzzer's translation units.
//
// Cap'n Proto 0.9's kj::StringPtr relies, in C++20, on the reversed form of
// its member operator== for `const char* == StringPtr`. Clang implements
// P2468, which drops that reversed candidate because StringPtr also declares
// operator!=, so capnp/blob.h fails to compile under clang in C++20 mode (GCC
// 12, which builds the rest of rewind, does not yet apply the rule). These
// are the free operators kj itself provides before C++20.
#pragma once

#include <capnp/common.h>
#include <kj/string.h>

#if defined(__clang__) && __cpp_impl_three_way_comparison && CAPNP_VERSION < 10000
namespace kj {
inline bool operator==(const char* a, const StringPtr& b) { return b == StringPtr(a); }
inline bool operator!=(const char* a, const StringPtr& b) { return !(b == StringPtr(a)); }
}  // namespace kj
#endif
