// Hand-written decoder cases: encodings derived from the Intel SDM (Vol. 2,
// chapter 2 and the opcode maps of appendix A), checking the decoded fields,
// plus a coverage test that every row of x86_forms.inc is reachable from its
// own canonical encoding.
#define BOOST_TEST_MODULE x86_decoder
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "tcg-llvm/decoder/x86_decoder.h"
#include "tcg-llvm/decoder/x86_form_info.h"

using namespace rwd::tcg;

namespace {

DecodedInsn dec(DecodeMode mode, std::initializer_list<uint8_t> bytes) {
  const std::vector<uint8_t> b(bytes);
  DecodedInsn d;
  const bool ok = decode_x86(b.data(), b.size(), mode, d);
  BOOST_REQUIRE_MESSAGE(ok, "decode failed");
  return d;
}

bool decodes(DecodeMode mode, const std::vector<uint8_t>& b) {
  DecodedInsn d;
  return decode_x86(b.data(), b.size(), mode, d);
}

constexpr auto k16 = DecodeMode::k16;
constexpr auto k32 = DecodeMode::k32;
constexpr auto k64 = DecodeMode::k64;

}  // namespace

BOOST_AUTO_TEST_CASE(register_forms_and_rex) {
  auto d = dec(k64, {0x48, 0x89, 0xd8});  // mov rax, rbx
  BOOST_TEST((d.form == Form::MOV_Ev_Gv));
  BOOST_TEST(d.length == 3);
  BOOST_TEST(d.op_size == 8);
  BOOST_TEST(d.rex == 0x48);
  BOOST_TEST(d.mod == 3);
  BOOST_TEST(d.reg == 3);
  BOOST_TEST(d.rm == 0);
  BOOST_TEST(!d.is_mem());

  d = dec(k64, {0x45, 0x01, 0xc8});  // add r8d, r9d: REX.R and REX.B
  BOOST_TEST((d.form == Form::ADD_Ev_Gv));
  BOOST_TEST(d.reg == 9);
  BOOST_TEST(d.rm == 8);
  BOOST_TEST(d.op_size == 4);

  d = dec(k64, {0x41, 0x50});  // push r8
  BOOST_TEST((d.form == Form::PUSH_Zv));
  BOOST_TEST(d.reg == 8);
  BOOST_TEST(d.op_size == 8);
  BOOST_TEST(dec(k64, {0x66, 0x50}).op_size == 2);  // push ax
  BOOST_TEST(dec(k32, {0x50}).op_size == 4);
  BOOST_TEST(dec(k16, {0x50}).op_size == 2);

  d = dec(k64, {0x48, 0x66, 0x89, 0xd8});  // REX before 66 is void: mov ax, bx
  BOOST_TEST(d.rex == 0);
  BOOST_TEST(d.op_size == 2);

  d = dec(k32, {0x48});  // outside 64-bit mode 48 is DEC eax
  BOOST_TEST((d.form == Form::DEC_Zv));
  BOOST_TEST(d.reg == 0);
  BOOST_TEST((dec(k64, {0x40, 0x88, 0xe0}).rex == 0x40));  // mov al, spl needs the REX byte
}

BOOST_AUTO_TEST_CASE(immediates) {
  auto d = dec(k64, {0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8});  // mov rax, imm64
  BOOST_TEST((d.form == Form::MOV_Zv_Iv));
  BOOST_TEST(d.length == 10);
  BOOST_TEST(d.imm == 0x0807060504030201ull);
  d = dec(k64, {0xb8, 0x78, 0x56, 0x34, 0x12});  // mov eax, imm32
  BOOST_TEST(d.length == 5);
  BOOST_TEST(d.imm == 0x12345678u);
  d = dec(k16, {0x66, 0xb8, 0x78, 0x56, 0x34, 0x12});  // mov eax, imm32 in 16-bit code
  BOOST_TEST(d.op_size == 4);
  BOOST_TEST(d.length == 6);
  d = dec(k64, {0x48, 0x83, 0xc0, 0xff});  // add rax, -1 (imm8 sign-extended)
  BOOST_TEST((d.form == Form::ADD_Ev_Ibs));
  BOOST_TEST(d.imm == ~0ull);
  d = dec(k64, {0x48, 0x81, 0xc0, 0x00, 0x00, 0x00, 0x80});  // add rax, imm32 sign-extended
  BOOST_TEST((d.form == Form::ADD_Ev_Iz));
  BOOST_TEST(d.imm == 0xffffffff80000000ull);
  d = dec(k32, {0xe4, 0x80});  // in al, 0x80: zero-extended
  BOOST_TEST((d.form == Form::IN_AL_Ib));
  BOOST_TEST(d.imm == 0x80u);
  d = dec(k32, {0xc8, 0x10, 0x00, 0x01});  // enter 16, 1
  BOOST_TEST((d.form == Form::ENTER_Iw_Ib));
  BOOST_TEST(d.imm == 0x10u);
  BOOST_TEST(d.imm2 == 1);
  d = dec(k32, {0xea, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00});  // jmp 0x8:0x12345678
  BOOST_TEST((d.form == Form::JMPF_Ap));
  BOOST_TEST(d.length == 7);
  BOOST_TEST(d.imm == 0x12345678u);
  BOOST_TEST(d.imm2 == 8);
  BOOST_TEST((dec(k64, {0xea, 0, 0, 0, 0, 0, 0}).form == Form::kInvalid));
  d = dec(k16, {0xea, 0x34, 0x12, 0x00, 0xf0});  // jmp 0xf000:0x1234
  BOOST_TEST(d.length == 5);
  BOOST_TEST(d.imm2 == 0xf000);
  d = dec(k64, {0x48, 0xa1, 1, 2, 3, 4, 5, 6, 7, 8});  // mov rax, [moffs64]
  BOOST_TEST((d.form == Form::MOV_rAX_Ov));
  BOOST_TEST(d.length == 10);
  BOOST_TEST(static_cast<uint64_t>(d.disp) == 0x0807060504030201ull);
  BOOST_TEST(dec(k64, {0x67, 0xa1, 1, 2, 3, 4}).length == 6);  // 32-bit moffs
  BOOST_TEST(dec(k16, {0xa0, 0x34, 0x12}).length == 3);       // 16-bit moffs
}

BOOST_AUTO_TEST_CASE(branches) {
  auto d = dec(k64, {0x0f, 0x84, 0x00, 0x01, 0x00, 0x00});  // je rel32
  BOOST_TEST((d.form == Form::JCC_Jz));
  BOOST_TEST(d.opcode == 0x84);
  BOOST_TEST(d.imm == 0x100u);
  BOOST_TEST(d.op_size == 8);
  d = dec(k64, {0x74, 0xfe});  // je $
  BOOST_TEST((d.form == Form::JCC_Jb));
  BOOST_TEST(static_cast<int64_t>(d.imm) == -2);
  BOOST_TEST(dec(k16, {0xe8, 0x34, 0x12}).length == 3);                     // call rel16
  BOOST_TEST(dec(k32, {0x66, 0xe9, 0x34, 0x12}).length == 4);               // jmp rel16
  BOOST_TEST(dec(k64, {0x66, 0xe9, 0x34, 0x12, 0x00, 0x00}).length == 6);   // Intel: rel32
  BOOST_TEST((dec(k64, {0xff, 0xe0}).form == Form::JMP_Ev));                // jmp rax
  BOOST_TEST(dec(k64, {0xff, 0xe0}).op_size == 8);
  BOOST_TEST((form_info(Form::CALL_Jz).flags & x86_col::Br) != 0);
  BOOST_TEST((form_info(Form::ADD_Ev_Gv).flags & x86_col::Br) == 0);
}

BOOST_AUTO_TEST_CASE(memory_operands_32_64) {
  auto d = dec(k64, {0x8b, 0x05, 0x10, 0x00, 0x00, 0x00});  // mov eax, [rip+0x10]
  BOOST_TEST(d.base == kRipBase);
  BOOST_TEST(d.index == kNoReg);
  BOOST_TEST(d.disp == 0x10);
  BOOST_TEST(d.addr_size == 8);
  d = dec(k64, {0x67, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00});  // [eip+0x10]
  BOOST_TEST(d.base == kRipBase);
  BOOST_TEST(d.addr_size == 4);
  d = dec(k32, {0x8b, 0x05, 0x10, 0x00, 0x00, 0x00});  // mov eax, [0x10]
  BOOST_TEST(d.base == kNoReg);
  BOOST_TEST(d.disp == 0x10);
  d = dec(k64, {0x8b, 0x44, 0x8d, 0xf8});  // mov eax, [rbp+rcx*4-8]
  BOOST_TEST(d.base == 5);
  BOOST_TEST(d.index == 1);
  BOOST_TEST(d.scale == 2);
  BOOST_TEST(d.disp == -8);
  BOOST_TEST(d.length == 4);
  d = dec(k64, {0x43, 0x8b, 0x04, 0x8c});  // mov eax, [r12+r9*4]
  BOOST_TEST(d.base == 12);
  BOOST_TEST(d.index == 9);
  d = dec(k64, {0x8b, 0x04, 0x24});  // mov eax, [rsp]
  BOOST_TEST(d.base == 4);
  BOOST_TEST(d.index == kNoReg);
  d = dec(k64, {0x42, 0x8b, 0x04, 0x24});  // REX.X makes index 100 = r12
  BOOST_TEST(d.index == 12);
  d = dec(k64, {0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00});  // mov eax, [0x1000] (SIB, no base)
  BOOST_TEST(d.base == kNoReg);
  BOOST_TEST(d.index == kNoReg);
  BOOST_TEST(d.disp == 0x1000);
  d = dec(k64, {0x41, 0x8b, 0x45, 0x00});  // mov eax, [r13+0]: r13 needs disp8
  BOOST_TEST(d.base == 13);
  BOOST_TEST(d.length == 4);
  d = dec(k64, {0x8b, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00});  // [rsp+0x100]
  BOOST_TEST(d.disp == 0x100);
  BOOST_TEST(d.length == 7);
}

BOOST_AUTO_TEST_CASE(memory_operands_16) {
  auto d = dec(k16, {0x8b, 0x40, 0x05});  // mov ax, [bx+si+5]
  BOOST_TEST(d.base == 3);
  BOOST_TEST(d.index == 6);
  BOOST_TEST(d.disp == 5);
  BOOST_TEST(d.addr_size == 2);
  BOOST_TEST(d.op_size == 2);
  d = dec(k16, {0x8b, 0x46, 0xfe});  // mov ax, [bp-2]
  BOOST_TEST(d.base == 5);
  BOOST_TEST(d.index == kNoReg);
  BOOST_TEST(d.disp == -2);
  d = dec(k16, {0x8b, 0x0e, 0x34, 0x12});  // mov cx, [0x1234]
  BOOST_TEST(d.base == kNoReg);
  BOOST_TEST(d.disp == 0x1234);
  BOOST_TEST(d.reg == 1);
  d = dec(k16, {0x8b, 0x87, 0x00, 0x80});  // mov ax, [bx-0x8000]
  BOOST_TEST(d.base == 3);
  BOOST_TEST(d.disp == -0x8000);
  d = dec(k16, {0x67, 0x8b, 0x04, 0x24});  // mov ax, [esp]: 67 selects 32-bit forms
  BOOST_TEST(d.addr_size == 4);
  BOOST_TEST(d.base == 4);
  BOOST_TEST(d.length == 4);
  d = dec(k32, {0x67, 0x8b, 0x46, 0x02});  // mov eax, [bp+2]
  BOOST_TEST(d.addr_size == 2);
  BOOST_TEST(d.base == 5);
}

BOOST_AUTO_TEST_CASE(prefixes) {
  BOOST_TEST((dec(k64, {0x90}).form == Form::NOP));
  BOOST_TEST((dec(k64, {0xf3, 0x90}).form == Form::PAUSE));
  auto d = dec(k64, {0x41, 0x90});  // xchg r8d, eax
  BOOST_TEST((d.form == Form::XCHG_Zv_rAX));
  BOOST_TEST(d.reg == 8);
  d = dec(k32, {0xf3, 0xa4});
  BOOST_TEST((d.form == Form::MOVS_b));
  BOOST_TEST((d.rep == RepPrefix::kRepE));
  d = dec(k32, {0xf3, 0xf2, 0xae});  // the last of F2/F3 wins
  BOOST_TEST((d.form == Form::SCAS_b));
  BOOST_TEST((d.rep == RepPrefix::kRepNE));
  d = dec(k64, {0xf0, 0x01, 0x08});  // lock add [rax], ecx
  BOOST_TEST((d.form == Form::ADD_Ev_Gv));
  BOOST_TEST(d.lock);
  BOOST_TEST((dec(k64, {0xf0, 0x01, 0xc8}).form == Form::kInvalid));  // register destination
  BOOST_TEST((dec(k64, {0xf0, 0x8b, 0x08}).form == Form::kInvalid));  // mov is not lockable
  BOOST_TEST((dec(k32, {0x64, 0x8b, 0x00}).seg == SegOverride::kFs));
  BOOST_TEST((dec(k32, {0x64, 0x2e, 0x8b, 0x00}).seg == SegOverride::kCs));  // last one wins
  BOOST_TEST((dec(k64, {0x2e, 0x8b, 0x00}).seg == SegOverride::kNone));     // ignored in 64-bit mode
  BOOST_TEST((dec(k64, {0x64, 0x2e, 0x8b, 0x00}).seg == SegOverride::kFs));
  // 14 prefixes + opcode = 15 bytes: fine; one more is over the limit (#GP).
  std::vector<uint8_t> b(14, 0x66);
  b.push_back(0x90);
  BOOST_TEST(decodes(k64, b));
  b.insert(b.begin(), 0x66);
  BOOST_TEST(!decodes(k64, b));
  BOOST_TEST(!decodes(k32, {0xb8, 0x01, 0x02}));  // truncated immediate
  BOOST_TEST(!decodes(k32, {0x0f}));
}

BOOST_AUTO_TEST_CASE(mode_dependent_opcodes) {
  BOOST_TEST((dec(k32, {0x63, 0xc8}).form == Form::ARPL_Ew_Gw));
  BOOST_TEST((dec(k64, {0x48, 0x63, 0xc8}).form == Form::MOVSXD_Gv_Ed));
  BOOST_TEST((dec(k32, {0x82, 0xc0, 0x01}).form == Form::ADD_Eb_Ib));  // 82 = 80 outside 64-bit mode
  BOOST_TEST((dec(k64, {0x82, 0xc0, 0x01}).form == Form::kInvalid));
  BOOST_TEST((dec(k64, {0x06}).form == Form::kInvalid));  // push es
  BOOST_TEST((dec(k32, {0x06}).form == Form::PUSH_ES));
  BOOST_TEST((dec(k32, {0xc4, 0x00}).form == Form::LES_Gv_Mp));  // mod != 11: LES, not VEX
  BOOST_TEST((dec(k32, {0x62, 0x00}).form == Form::BOUND_Gv_Ma));
  BOOST_TEST((dec(k32, {0x8f, 0xc0}).form == Form::POP_Ev));
  BOOST_TEST((dec(k64, {0x0f, 0x01, 0xf8}).form == Form::SWAPGS));
  BOOST_TEST((dec(k32, {0x0f, 0x01, 0xf8}).form != Form::SWAPGS));
}

BOOST_AUTO_TEST_CASE(system_and_0f) {
  auto d = dec(k32, {0x0f, 0x22, 0xd8});  // mov cr3, eax
  BOOST_TEST((d.form == Form::MOV_Cd_Rd));
  BOOST_TEST(d.reg == 3);
  BOOST_TEST(d.rm == 0);
  BOOST_TEST(d.op_size == 4);
  d = dec(k32, {0x0f, 0x20, 0x00});  // mod is ignored: still mov eax, cr0, no displacement
  BOOST_TEST((d.form == Form::MOV_Rd_Cd));
  BOOST_TEST(!d.is_mem());
  BOOST_TEST(d.length == 3);
  d = dec(k64, {0x44, 0x0f, 0x20, 0xc0});  // mov rax, cr8
  BOOST_TEST(d.reg == 8);
  BOOST_TEST(d.op_size == 8);
  BOOST_TEST((dec(k32, {0x0f, 0x01, 0x10}).form == Form::LGDT_Ms));
  BOOST_TEST((dec(k32, {0x0f, 0x01, 0x38}).form == Form::INVLPG_Mb));
  BOOST_TEST((dec(k64, {0x0f, 0x01, 0xf9}).form == Form::RDTSCP));
  BOOST_TEST((dec(k64, {0x48, 0x0f, 0xc7, 0x0e}).form == Form::CMPXCHG16B_Mdq));
  BOOST_TEST((dec(k64, {0x0f, 0xc7, 0x0e}).form == Form::CMPXCHG8B_Mq));
  BOOST_TEST((dec(k64, {0x0f, 0xc7, 0xf0}).form == Form::RDRAND_Rv));
  BOOST_TEST((dec(k64, {0xf3, 0x0f, 0xb8, 0xc1}).form == Form::POPCNT_Gv_Ev));
  BOOST_TEST(dec(k64, {0x66, 0xf3, 0x0f, 0xb8, 0xc1}).op_size == 2);
  BOOST_TEST((dec(k64, {0x0f, 0xbc, 0xc1}).form == Form::BSF_Gv_Ev));
  BOOST_TEST((dec(k64, {0xf3, 0x0f, 0xbc, 0xc1}).form == Form::TZCNT_Gv_Ev));
  BOOST_TEST((dec(k64, {0x0f, 0x38, 0xf0, 0x00}).form == Form::MOVBE_Gv_Mv));
  BOOST_TEST((dec(k64, {0xf2, 0x0f, 0x38, 0xf1, 0xc1}).form == Form::CRC32_Gy_Ev));
  d = dec(k32, {0x0f, 0x94, 0xc0});  // sete al
  BOOST_TEST((d.form == Form::SETCC_Eb));
  BOOST_TEST(d.op_size == 1);
  BOOST_TEST((dec(k32, {0x0f, 0x4f, 0xc1}).form == Form::CMOVCC_Gv_Ev));
  BOOST_TEST((dec(k32, {0x0f, 0xa2}).form == Form::CPUID));
  BOOST_TEST((dec(k64, {0x0f, 0x05}).form == Form::SYSCALL));
  BOOST_TEST((dec(k64, {0x0f, 0x0b}).form == Form::UD2));
  BOOST_TEST((dec(k64, {0x0f, 0x04}).form == Form::kInvalid));
  d = dec(k64, {0x41, 0x0f, 0xc9});  // bswap r9d
  BOOST_TEST((d.form == Form::BSWAP_Zv));
  BOOST_TEST(d.reg == 9);
  BOOST_TEST((dec(k64, {0x0f, 0x1f, 0x44, 0x00, 0x00}).form == Form::NOP_Ev));
  BOOST_TEST(dec(k64, {0x0f, 0x1f, 0x44, 0x00, 0x00}).length == 5);
}

BOOST_AUTO_TEST_CASE(sse_and_x87) {
  BOOST_TEST((dec(k64, {0x0f, 0x28, 0xc1}).form == Form::MOVAPS_Vps_Wps));
  BOOST_TEST((dec(k64, {0x66, 0x0f, 0x28, 0xc1}).form == Form::MOVAPD_Vpd_Wpd));
  BOOST_TEST((dec(k64, {0x66, 0x0f, 0x6f, 0xc1}).form == Form::MOVDQA_Vdq_Wdq));
  BOOST_TEST((dec(k64, {0xf3, 0x0f, 0x6f, 0xc1}).form == Form::MOVDQU_Vdq_Wdq));
  BOOST_TEST((dec(k64, {0x0f, 0x6f, 0xc1}).form == Form::MOVQ_Pq_Qq));
  BOOST_TEST((dec(k64, {0x66, 0x0f, 0xef, 0xc0}).form == Form::PXOR_Vdq_Wdq));
  BOOST_TEST((dec(k64, {0x0f, 0x57, 0xc0}).form == Form::XORPS_Vps_Wps));
  BOOST_TEST((dec(k64, {0xf2, 0x0f, 0x10, 0x00}).form == Form::MOVSD_Vsd_Wsd));
  auto d = dec(k64, {0x66, 0x48, 0x0f, 0x6e, 0xc0});  // movq xmm0, rax
  BOOST_TEST((d.form == Form::MOVD_Vdq_Ey));
  BOOST_TEST(d.op_size == 8);
  BOOST_TEST(dec(k64, {0x66, 0x0f, 0x6e, 0xc0}).op_size == 4);  // the selecting 66 is not an operand size
  d = dec(k64, {0x66, 0x0f, 0x73, 0xd8, 0x08});  // psrldq xmm0, 8
  BOOST_TEST((d.form == Form::PSRLDQ_Udq_Ib));
  BOOST_TEST(d.imm == 8u);
  d = dec(k64, {0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x08});  // palignr xmm0, xmm1, 8
  BOOST_TEST((d.form == Form::PALIGNR_Vdq_Wdq_Ib));
  BOOST_TEST(d.length == 6);
  d = dec(k64, {0x66, 0x0f, 0x3a, 0x63, 0xc1, 0x00});  // pcmpistri xmm0, xmm1, 0
  BOOST_TEST((d.form == Form::PCMPISTRI_Vdq_Wdq_Ib));
  d = dec(k64, {0x66, 0x0f, 0x3a, 0x44, 0xc1, 0x00});  // pclmulqdq (beyond x86-64-v2): no row, still decoded
  BOOST_TEST((d.form == Form::UNNAMED_LEGACY));
  BOOST_TEST((d.map == OpcodeMap::k0F3A));
  BOOST_TEST(d.length == 6);
  BOOST_TEST(describe_encoding(d) == "66 0F 3A 0x44 /r (ModRM 0xC1)");
  d = dec(k32, {0x0f, 0x0f, 0xc1, 0x9e});  // pfadd mm0, mm1
  BOOST_TEST((d.form == Form::THREEDNOW_Pq_Qq));
  BOOST_TEST(d.opcode == 0x9e);
  BOOST_TEST(d.length == 4);
  BOOST_TEST((dec(k32, {0xd9, 0xe8}).form == Form::FLD1));
  BOOST_TEST((dec(k32, {0xdd, 0x45, 0xf8}).form == Form::FLD_Mq));
  BOOST_TEST((dec(k32, {0xde, 0xc1}).form == Form::FADDP_STi_ST0));
  BOOST_TEST((dec(k32, {0xdf, 0xe0}).form == Form::FNSTSW_AX));
  BOOST_TEST((dec(k32, {0xd9, 0xd1}).form == Form::kInvalid));
}

BOOST_AUTO_TEST_CASE(vex_evex_xop) {
  auto d = dec(k64, {0xc5, 0xf8, 0x77});  // vzeroupper: no ModRM
  BOOST_TEST((d.form == Form::UNNAMED_VEX));
  BOOST_TEST(d.length == 3);
  BOOST_TEST(!d.has_modrm);
  d = dec(k64, {0xc5, 0xf0, 0x58, 0xc2});  // vaddps xmm0, xmm1, xmm2
  BOOST_TEST(d.vvvv == 1);
  BOOST_TEST(d.reg == 0);
  BOOST_TEST(d.rm == 2);
  BOOST_TEST((d.map == OpcodeMap::k0F));
  d = dec(k64, {0xc4, 0xe2, 0x7d, 0x18, 0x05, 0, 0, 0, 0});  // vbroadcastss ymm0, [rip]
  BOOST_TEST(d.length == 9);
  BOOST_TEST(d.vector_len == 1);
  BOOST_TEST(d.pp == 1);
  BOOST_TEST(d.base == kRipBase);
  BOOST_TEST(describe_encoding(d) == "VEX.256.66.0F38.W0 0x18 /r (ModRM 0x05)");
  d = dec(k64, {0xc4, 0x41, 0x78, 0x28, 0xc1});  // vmovaps xmm8, xmm9 (VEX.R and VEX.B)
  BOOST_TEST(d.reg == 8);
  BOOST_TEST(d.rm == 9);
  d = dec(k64, {0xc4, 0xe3, 0x79, 0x0f, 0xc1, 0x08});  // vpalignr: map 0F3A has imm8
  BOOST_TEST(d.length == 6);
  BOOST_TEST(d.imm == 8u);
  d = dec(k32, {0xc5, 0xf8, 0x77});  // VEX in 32-bit mode when the next byte has mod=11
  BOOST_TEST((d.form == Form::UNNAMED_VEX));
  BOOST_TEST((dec(k64, {0x66, 0xc5, 0xf8, 0x77}).form == Form::kInvalid));  // 66 before VEX: #UD

  d = dec(k64, {0x62, 0xf1, 0x7c, 0x48, 0x58, 0xc1});  // vaddps zmm0, zmm0, zmm1
  BOOST_TEST((d.form == Form::UNNAMED_EVEX));
  BOOST_TEST(d.vector_len == 2);
  BOOST_TEST(d.vvvv == 0);
  BOOST_TEST(d.length == 6);
  d = dec(k64, {0x62, 0xf1, 0x7c, 0xca, 0x58, 0xc1});  // ... {k2}{z}
  BOOST_TEST(d.evex_z);
  BOOST_TEST(d.evex_aaa == 2);
  d = dec(k64, {0x62, 0x61, 0x74, 0x40, 0x58, 0xc1});  // vaddps zmm24, zmm17, zmm1: R, R', V'
  BOOST_TEST(d.reg == 24);
  BOOST_TEST(d.vvvv == 17);
  BOOST_TEST(describe_encoding(d) == "EVEX.512.0F.W0 0x58 /r (ModRM 0xC1)");

  d = dec(k64, {0x8f, 0xe9, 0x78, 0xc1, 0xc8});  // XOP map 9
  BOOST_TEST((d.form == Form::UNNAMED_XOP));
  BOOST_TEST((d.map == OpcodeMap::kXop9));
  BOOST_TEST(d.length == 5);
  BOOST_TEST(dec(k64, {0x8f, 0xe8, 0x78, 0xc0, 0xc1, 0x05}).length == 6);  // map 8: imm8
  BOOST_TEST(dec(k64, {0x8f, 0xea, 0x78, 0x10, 0xc1, 1, 2, 3, 4}).length == 9);  // map A: imm32
}

// Every row of the table must be selected by its own canonical encoding, so a
// row that another row shadows (or that the selection rules cannot reach)
// fails here with its name.
BOOST_AUTO_TEST_CASE(every_row_is_reachable) {
  using namespace x86_col;
  auto check = [](Form form, const FormInfo& f) {
    if (f.map == Gen) return;
    const DecodeMode mode = (f.flags & I64) ? k32 : k64;
    std::vector<int> opcodes = {f.opcode};
    if (f.flags & PlusR) opcodes = {f.opcode + 1, f.opcode + 7};
    if (f.flags & PlusCc) opcodes = {f.opcode, f.opcode + 15};
    for (int opc : opcodes) {
      std::vector<uint8_t> b;
      if (f.pfx == P66) b.push_back(0x66);
      if (f.pfx == PF3) b.push_back(0xf3);
      if (f.pfx == PF2) b.push_back(0xf2);
      if (f.flags & RexW) b.push_back(0x48);
      if (f.map != M1) b.push_back(0x0f);
      if (f.map == M0F38) b.push_back(0x38);
      if (f.map == M0F3A) b.push_back(0x3a);
      b.push_back(static_cast<uint8_t>(opc));
      if (modrm_has_byte(f.modrm)) {
        uint8_t reg = 0;
        if (modrm_is_digit(f.modrm)) reg = f.modrm & 7;
        if (modrm_is_exact(f.modrm)) {
          b.push_back(static_cast<uint8_t>(f.modrm & 0xff));
        } else {
          b.push_back(static_cast<uint8_t>((f.modc == Mem ? 0x00 : 0xc0) | (reg << 3) | 1));
        }
      }
      for (int i = 0; i < 8; ++i) b.push_back(0);  // room for any immediate
      DecodedInsn d;
      const bool ok = decode_x86(b.data(), b.size(), mode, d);
      BOOST_TEST((ok && d.form == form), "row " << f.name << " opcode " << opc << " decodes as "
                                                << (ok ? form_name(d.form) : "(fail)"));
    }
  };
  for (size_t i = 0; i < static_cast<size_t>(Form::kCount); ++i) check(static_cast<Form>(i), kFormInfo[i]);
  for (const auto& a : kAliasRows) check(a.form, a.info);
  BOOST_TEST(std::string(form_name(Form::ADD_Ev_Gv)) == "ADD_Ev_Gv");
  BOOST_TEST(std::string(form_name(Form::kInvalid)) == "kInvalid");
}
