// The CPUID model: a fixed table, identical on every host, advertising exactly
// what rewind executes (never the host's CPUID). Vendor "GenuineIntel" so
// guests take their Intel paths (SYSCALL in 64-bit mode, Intel near-branch
// operand size); family 6 model 0x3a-like signature.
//
//   leaf 0          max basic leaf 0xd, vendor
//   leaf 1          EAX signature 0x000306a9; EBX: CLFLUSH size 8, 1 logical CPU
//                   per package, the initial APIC ID (bits 31:24: the vCPU's index);
//                   ECX: SSE3(0) SSSE3(9) CX16(13) PCID(17) SSE4.1(19) SSE4.2(20)
//                   x2APIC(21) MOVBE(22) POPCNT(23) TSC-deadline(24) XSAVE(26)
//                   OSXSAVE(27, = CR4.OSXSAVE) RDRAND(30);
//                   EDX: FPU(0) PSE(3) TSC(4) MSR(5) PAE(6) CX8(8) APIC(9, =
//                   IA32_APIC_BASE.EN) SEP(11) MTRR(12) PGE(13) CMOV(15) PAT(16)
//                   PSE36(17) CLFSH(19) MMX(23) FXSR(24) SSE(25) SSE2(26)
//   leaf 7.0        EBX: SMEP(7) INVPCID(10) RDSEED(18) SMAP(20) CLFLUSHOPT(23)
//                   CLWB(24); ECX: UMIP(2) RDPID(22); other subleaves zero
//                   (no MONITOR/MWAIT, VMX, SMX: their instructions raise #UD)
//   leaf 0xd        XSAVE: components x87 and SSE (EAX 3); EBX the area size for
//                   the current XCR0, ECX for all (576); subleaf 1 EAX: XSAVEOPT(0)
//   leaves 8-0xc    zero
//   0x80000000      max extended leaf 0x80000008
//   0x80000001      ECX: LAHF/SAHF in 64-bit(0) ABM/LZCNT(5);
//                   EDX: SYSCALL(11) NX(20) LM(29)
//   0x80000002..4   brand string "rewind virtual CPU"
//   0x80000008      40 physical address bits, 48 linear
//   anything else   all zero
#pragma once

#include <cstdint>

namespace rwd::tcg {

struct CpuidResult {
  uint32_t eax, ebx, ecx, edx;
};

inline constexpr uint32_t pack4(char a, char b, char c, char d) {
  return uint32_t(uint8_t(a)) | uint32_t(uint8_t(b)) << 8 | uint32_t(uint8_t(c)) << 16 |
         uint32_t(uint8_t(d)) << 24;
}

// CPUID.1:ECX.OSXSAVE reflects CR4.OSXSAVE, CPUID.1:EDX.APIC IA32_APIC_BASE.EN.
inline CpuidResult cpuid_model(uint32_t leaf, uint32_t subleaf, uint64_t cr4 = 0, uint64_t apic_base = 0,
                               uint32_t apic_id = 0) {
  switch (leaf) {
    case 0: return {0xd, pack4('G', 'e', 'n', 'u'), pack4('n', 't', 'e', 'l'), pack4('i', 'n', 'e', 'I')};
    case 1:
      return {0x000306a9, 0x00010800 | (apic_id << 24),
              (1u << 0) | (1u << 9) | (1u << 13) | (1u << 17) | (1u << 19) | (1u << 20) | (1u << 21) | (1u << 22) |
                  (1u << 23) | (1u << 24) | (1u << 26) | ((cr4 >> 18 & 1) ? 1u << 27 : 0u) | (1u << 30),
              (1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) |
                  ((apic_base >> 11 & 1) ? 1u << 9 : 0u) | (1u << 11) | (1u << 12) |
                  (1u << 13) | (1u << 15) | (1u << 16) | (1u << 17) | (1u << 19) | (1u << 23) | (1u << 24) |
                  (1u << 25) | (1u << 26)};
    case 7:
      if (subleaf != 0) return {0, 0, 0, 0};
      return {0, (1u << 7) | (1u << 10) | (1u << 18) | (1u << 20) | (1u << 23) | (1u << 24), (1u << 2) | (1u << 22), 0};
    case 0xd:
      if (subleaf == 0) return {0x3, 576, 576, 0};  // x87 and SSE live in the legacy region: 576 bytes either way
      if (subleaf == 1) return {1, 0, 0, 0};
      return {0, 0, 0, 0};
    case 0x80000000: return {0x80000008, 0, 0, 0};
    case 0x80000001: return {0, 0, (1u << 0) | (1u << 5), (1u << 11) | (1u << 20) | (1u << 29)};
    case 0x80000002: return {pack4('r', 'e', 'w', 'i'), pack4('n', 'd', ' ', 'v'), pack4('i', 'r', 't', 'u'), pack4('a', 'l', ' ', 'C')};
    case 0x80000003: return {pack4('P', 'U', 0, 0), 0, 0, 0};
    case 0x80000004: return {0, 0, 0, 0};
    case 0x80000008: return {0x3028, 0, 0, 0};
    default: return {0, 0, 0, 0};
  }
}

}  // namespace rwd::tcg
