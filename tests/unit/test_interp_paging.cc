// Interpreter tier, paging and protection: SMEP, SMAP with STAC/CLAC and
// the implicit-access rule, global translations kept across CR3 writes,
// PCIDs (CR3 bit 63, INVPCID), CR4's reserved bits, and alignment checking.
// Where the architecture lets a TLB keep a translation, these tests pin what
// rewind keeps: a guest that changed its tables without invalidating sees
// the old translation exactly when a TLB is allowed to give it.
#define BOOST_TEST_MODULE test_interp_paging
#include "tests/unit/test_interp_machine.h"

using namespace rwd;
using namespace rwd::tcg;
using namespace rwd::tcg::test;
using core::VcpuExit;

namespace {

constexpr uint64_t kP = 1, kW = 2, kU = 4, kG = 0x100;
constexpr uint64_t kPml4 = 0x10000, kPdpt = 0x11000, kPd = 0x12000, kPt = 0x13000;
constexpr uint64_t kIdt64 = 0x8000;
constexpr uint64_t kTss = 0x7000;

// Long mode with 4 KiB pages over the first 2 MiB (supervisor, writable,
// identity) and 2 MiB pages above; `pte(va)` is the entry of a low page.
struct Paged {
  TestMachine& m;
  uint64_t pte_addr(uint64_t va) const { return kPt + (va >> 12) * 8; }
  void map(uint64_t va, uint64_t pa, uint64_t flags) { m.wr64(pte_addr(va), pa | flags); }
};

core::X86CpuState paged_long_mode(TestMachine& m, uint64_t cr4_extra = 0) {
  core::X86CpuState s = pm_state(m, 0x4f);
  m.wr64(kPml4, kPdpt | kP | kW | kU);
  m.wr64(kPdpt, kPd | kP | kW | kU);
  m.wr64(kPd, kPt | kP | kW | kU);
  for (uint64_t i = 1; i < 16; ++i) m.wr64(kPd + i * 8, (i << 21) | 0x83);
  for (uint64_t i = 0; i < 512; ++i) m.wr64(kPt + i * 8, (i << 12) | kP | kW);
  // GDT: 0x18 kernel code64, 0x28 user code64, 0x30 user data, 0x38 TSS.
  m.wr64(kGdt + 0x28, 0x00affa000000ffffull);
  m.wr64(kGdt + 0x30, 0x00cff2000000ffffull);
  m.wr64(kGdt + 0x38, 0x0000890000000067ull | (kTss & 0xffffff) << 16);
  m.wr64(kGdt + 0x40, 0);
  m.wr64(kTss + 4, 0x90000);  // RSP0
  s.cr0 |= core::cr0::kPg | core::cr0::kWp;
  s.cr3 = kPml4;
  s.cr4 = core::cr4::kPae | cr4_extra;
  s.efer = core::efer::kLme | core::efer::kLma | core::efer::kNxe | core::efer::kSce;
  s.seg[int(core::SegReg::kCs)] = {0x18, 0xa09b, 0xffffffff, 0};
  s.idtr = {kIdt64, 0xfff};
  // SYSRET with STAR[63:48] = 0x20: CS 0x33 (64-bit), SS 0x2b.
  s.star = (0x18ull << 32) | (0x20ull << 48);
  return s;
}

// A 64-bit interrupt gate for `vector` to `handler` (selector 0x18).
void set_gate64(TestMachine& m, uint8_t vector, uint64_t handler, unsigned dpl = 0) {
  m.wr64(kIdt64 + vector * 16,
         (handler & 0xffff) | (0x18ull << 16) | ((0x8e00ull | dpl << 13) << 32) | ((handler >> 16 & 0xffff) << 48));
  m.wr64(kIdt64 + vector * 16 + 8, handler >> 32);
}

// The #PF handler every test installs at kCode + 0x800: CR2 into R14, the
// error code into R15, a count in R13, and on to the address in R12.
constexpr const char* kPfHandler = R"(
  .org 0x800
    mov %cr2, %r14
    pop %r15
    inc %r13
    mov %r12, (%rsp)
    iretq
)";

}  // namespace

BOOST_AUTO_TEST_CASE(smep_refuses_a_supervisor_fetch_from_a_user_page) {
  TestMachine m;
  core::X86CpuState s = paged_long_mode(m, core::cr4::kSmep);
  Paged p{m};
  p.map(0x50000, 0x50000, kP | kW | kU);  // a user page holding code
  m.ram[0x50000] = 0x90;                  // nop
  m.ram[0x50001] = 0xf4;                  // hlt
  set_gate64(m, 14, kCode + 0x800);
  m.start(s);
  m.load_asm(kCode, std::string(R"(.code64
    lea back(%rip), %r12
    mov $0x50000, %eax
    jmp *%rax
  back:
    mov %cr4, %rax
    and $~(1 << 20), %rax     # SMEP off: the same fetch runs
    mov %rax, %cr4
    mov $0x50000, %eax
    jmp *%rax
  )") + kPfHandler);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kR13) == 1u);
  BOOST_TEST(m.reg(core::kR14) == 0x50000u);
  BOOST_TEST(m.reg(core::kR15) == 0x11u);  // P, I/D; supervisor
  BOOST_TEST(m.st().rip == 0x50002u);
}

BOOST_AUTO_TEST_CASE(smap_refuses_supervisor_data_accesses_to_user_pages_unless_ac) {
  TestMachine m;
  core::X86CpuState s = paged_long_mode(m, core::cr4::kSmap);
  Paged p{m};
  p.map(0x40000, 0x40000, kP | kW | kU);
  m.wr64(0x40000, 0x1234);
  set_gate64(m, 14, kCode + 0x800);
  m.start(s);
  m.load_asm(kCode, std::string(R"(.code64
    lea 1f(%rip), %r12
    mov 0x40000, %rax          # refused: #PF(P)
  1:lea 2f(%rip), %r12
    mov %r14, %rbx
    mov %r15, %rcx
    movq $5, 0x40000           # refused: #PF(P|W)
  2:mov %r15, %rdx
    stac
    mov 0x40000, %rsi          # allowed with AC
    movq $7, 0x40008
    clac
    lea 3f(%rip), %r12
    mov 0x40008, %rdi          # refused again (a translation cached under AC does not leak)
  3:hlt
  )") + kPfHandler);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 0x40000u);
  BOOST_TEST(m.reg(core::kRcx) == 0x01u);
  BOOST_TEST(m.reg(core::kRdx) == 0x03u);
  BOOST_TEST(m.reg(core::kRsi) == 0x1234u);
  BOOST_TEST(m.rd64(0x40008) == 7u);
  BOOST_TEST(m.reg(core::kRdi) == 0u);
  BOOST_TEST(m.reg(core::kR13) == 3u);
  BOOST_TEST((m.st().rflags & core::rflags::kAc) == 0u);
}

BOOST_AUTO_TEST_CASE(stac_and_clac_are_privileged) {
  TestMachine m;
  core::X86CpuState s = paged_long_mode(m);
  for (uint64_t va = 0; va < 0x200000; va += 0x1000) Paged{m}.map(va, va, kP | kW | kU);
  set_gate64(m, 6, kCode + 0x100);
  m.start(s);
  m.load_asm(kCode, R"(.code64
    mov $0x38, %ax
    ltr %ax
    lea user(%rip), %rcx
    mov $0x2, %r11
    sysretq
  user:
    stac                       # #UD at CPL 3
  .org 0x100
    lea user(%rip), %rbx
    sub (%rsp), %rbx           # 0: the faulting RIP is the STAC's
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 0u);
  BOOST_TEST((m.st().rflags & core::rflags::kAc) == 0u);
}

// Implicit supervisor accesses (here the IDT read of an INT) are refused by
// SMAP whatever EFLAGS.AC says and at any CPL (SDM Vol. 3 §4.6.1): with
// STAC at CPL 0 the explicit read of a user page passes, the IDT read of
// INT 0x80 does not (and neither does the #PF's own delivery).
BOOST_AUTO_TEST_CASE(smap_refuses_implicit_accesses_whatever_ac) {
  TestMachine m;
  core::X86CpuState s = paged_long_mode(m, core::cr4::kSmap);
  Paged p{m};
  p.map(kIdt64, kIdt64, kP | kW | kU);  // the IDT on a user page
  set_gate64(m, 0x80, kCode + 0x200, 3);
  set_gate64(m, 14, kCode + 0x800);
  m.start(s);
  m.load_asm(kCode, std::string(R"(.code64
    stac
    mov 0x8000, %rbx           # explicit, with AC: allowed
    int $0x80                  # implicit: refused
  .org 0x200
    mov $0xbad, %rbx
    iretq
  )") + kPfHandler);
  m.vcpu->run(1000);
  BOOST_TEST(m.reg(core::kRbx) != 0xbadu);
  BOOST_TEST(m.rc.detail().find("triple fault: vector 128 -> #PF(0x1)") == 0u, m.rc.detail());
}

BOOST_AUTO_TEST_CASE(global_translations_survive_cr3_writes) {
  TestMachine m;
  core::X86CpuState s = paged_long_mode(m, core::cr4::kPge);
  Paged p{m};
  p.map(0x60000, 0xa0000, kP | kW | kG);  // global
  p.map(0x61000, 0xa1000, kP | kW);       // not global
  m.wr64(0xa0000, 0xa0);
  m.wr64(0xa1000, 0xa1);
  m.wr64(0xb0000, 0xb0);
  m.wr64(0xb1000, 0xb1);
  m.start(s);
  m.load_asm(kCode, R"(.code64
    mov 0x60000, %rax          # both translations cached
    mov 0x61000, %rax
    movq $0xb0003, 0x13300     # remap both PTEs, no INVLPG
    movq $0xb1003, 0x13308
    mov %cr3, %rax
    mov %rax, %cr3             # drops the non-global one only
    mov 0x60000, %rbx          # 0xa0: still the old, global translation
    mov 0x61000, %rcx          # 0xb1
    mov %cr4, %rax
    and $~0x80, %rax
    mov %rax, %cr4             # clearing PGE drops everything
    mov 0x60000, %rdx          # 0xb0
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 0xa0u);
  BOOST_TEST(m.reg(core::kRcx) == 0xb1u);
  BOOST_TEST(m.reg(core::kRdx) == 0xb0u);
}

BOOST_AUTO_TEST_CASE(invlpg_drops_a_global_translation) {
  TestMachine m;
  core::X86CpuState s = paged_long_mode(m, core::cr4::kPge);
  Paged{m}.map(0x60000, 0xa0000, kP | kW | kG);
  m.wr64(0xa0000, 0xa0);
  m.wr64(0xb0000, 0xb0);
  m.start(s);
  m.load_asm(kCode, R"(.code64
    mov 0x60000, %rax
    movq $0xb0103, 0x13300
    invlpg 0x60000
    mov 0x60000, %rbx
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 0xb0u);
}

BOOST_AUTO_TEST_CASE(pcid_cr3_bit_63_keeps_the_translations_of_the_same_pcid) {
  TestMachine m;
  core::X86CpuState s = paged_long_mode(m);
  Paged{m}.map(0x60000, 0xa0000, kP | kW);
  m.wr64(0xa0000, 0xa0);
  m.wr64(0xb0000, 0xb0);
  set_gate64(m, 13, kCode + 0x200);
  m.start(s);
  m.load_asm(kCode, R"(.code64
    mov %cr4, %rax
    or $(1 << 17), %rax
    mov %rax, %cr4              # PCIDE with PCID 0 in CR3
    mov 0x60000, %rax
    movq $0xb0003, 0x13300      # remap, no INVLPG
    mov $0x8000000000010000, %rax
    mov %rax, %cr3              # bit 63, same PCID: nothing dropped
    mov 0x60000, %rbx           # 0xa0
    mov %cr3, %rsi              # bit 63 is not stored
    mov $0x10000, %eax
    mov %rax, %cr3              # without bit 63: dropped
    mov 0x60000, %rcx           # 0xb0
    movq $0xa0003, 0x13300
    mov $0x8000000000010001, %rax
    mov %rax, %cr3              # another PCID: this one's translations are gone
    mov 0x60000, %rdx           # 0xa0
    hlt
  .org 0x200
    mov $0xdead, %rbx
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 0xa0u);
  BOOST_TEST(m.reg(core::kRsi) == 0x10000u);
  BOOST_TEST(m.reg(core::kRcx) == 0xb0u);
  BOOST_TEST(m.reg(core::kRdx) == 0xa0u);
  BOOST_TEST((m.st().cr3 & 0xfff) == 1u);
}

BOOST_AUTO_TEST_CASE(invpcid_types_and_faults) {
  TestMachine m;
  core::X86CpuState s = paged_long_mode(m, core::cr4::kPge);
  Paged p{m};
  p.map(0x60000, 0xa0000, kP | kW | kG);
  p.map(0x61000, 0xa1000, kP | kW);
  for (uint64_t a : {0xa0000ull, 0xa1000ull, 0xb0000ull, 0xb1000ull}) m.wr64(a, a >> 12);
  set_gate64(m, 13, kCode + 0x800);
  m.start(s);
  // Descriptor at 0x3000: PCID 0, address 0x61000.
  m.wr64(0x3000, 0);
  m.wr64(0x3008, 0x61000);
  m.load_asm(kCode, std::string(R"(.code64
    mov 0x60000, %rax
    mov 0x61000, %rax
    movq $0xb0103, 0x13300
    movq $0xb1003, 0x13308
    xor %eax, %eax
    invpcid 0x3000, %rax        # type 0: 0x61000 only
    mov 0x60000, %rbx           # 0xa0 (kept)
    mov 0x61000, %rcx           # 0xb1
    mov $3, %eax
    invpcid 0x3000, %rax        # type 3: all but global
    mov 0x60000, %rdx           # 0xa0
    mov $2, %eax
    invpcid 0x3000, %rax        # type 2: everything
    mov 0x60000, %rsi           # 0xb0
    lea 1f(%rip), %r12
    mov $4, %eax
    invpcid 0x3000, %rax        # type 4: #GP(0)
  1:mov %r13, %rdi
    lea 2f(%rip), %r12
    movq $1, 0x3000             # PCID 1 without CR4.PCIDE, type 1: #GP(0)
    mov $1, %eax
    invpcid 0x3000, %rax
  2:hlt
  .org 0x800
    pop %r15
    inc %r13
    mov %r12, (%rsp)
    iretq
  )"));
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 0xa0u);
  BOOST_TEST(m.reg(core::kRcx) == 0xb1u);
  BOOST_TEST(m.reg(core::kRdx) == 0xa0u);
  BOOST_TEST(m.reg(core::kRsi) == 0xb0u);
  BOOST_TEST(m.reg(core::kRdi) == 1u);
  BOOST_TEST(m.reg(core::kR13) == 2u);
  BOOST_TEST(m.reg(core::kR15) == 0u);
}

BOOST_AUTO_TEST_CASE(cr4_refuses_bits_the_cpu_model_lacks) {
  TestMachine m;
  core::X86CpuState s = paged_long_mode(m);
  set_gate64(m, 13, kCode + 0x800);
  m.start(s);
  m.load_asm(kCode, std::string(R"(.code64
    lea 1f(%rip), %r12
    mov %cr4, %rax
    or $(1 << 16), %rax         # FSGSBASE: not in CPUID, #GP(0)
    mov %rax, %cr4
  1:lea 2f(%rip), %r12
    mov $0x10001, %eax
    mov %rax, %cr3
    mov %cr4, %rax
    or $(1 << 17), %rax         # PCIDE with PCID 1 in CR3: #GP(0)
    mov %rax, %cr4
  2:hlt
  )") + kPfHandler);
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kR13) == 2u);
  BOOST_TEST((m.st().cr4 & (core::cr4::kFsgsbase | core::cr4::kPcide)) == 0u);
}

// #AC(0) at CPL 3 with CR0.AM and EFLAGS.AC: an instruction that raises it
// has no effect at all (here an x87 store whose FPU work would have set the
// status word); at CPL 0, or with AM clear, nothing is checked.
BOOST_AUTO_TEST_CASE(alignment_check_at_cpl3_undoes_the_instruction) {
  TestMachine m;
  core::X86CpuState s = paged_long_mode(m);
  for (uint64_t va = 0; va < 0x200000; va += 0x1000) Paged{m}.map(va, va, kP | kW | kU);
  s.cr0 |= core::cr0::kAm | core::cr0::kNe;
  s.cr4 |= core::cr4::kOsfxsr;
  set_gate64(m, 17, kCode + 0x100);
  m.start(s);
  m.load_asm(kCode, R"(.code64
    mov $0x38, %ax
    ltr %ax
    pushfq
    orl $0x40000, (%rsp)
    popfq                       # AC at CPL 0: not checked
    movl $1, 0x20001
    lea user(%rip), %rcx
    mov $0x40002, %r11
    mov $0x70000, %rsp
    sysretq
  user:
    fninit
    fldpi
    movl $2, 0x20008            # aligned: written
  store:
    fstps 0x20006               # #AC: neither stored nor rounded (no precision flag)
  .org 0x100
    mov (%rsp), %rdx            # error code 0
    lea store(%rip), %rcx
    sub 8(%rsp), %rcx           # 0: the faulting RIP is the store's
    fnstsw %ax
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.rd32(0x20001) == 1u);
  BOOST_TEST(m.rd32(0x20008) == 2u);
  BOOST_TEST(m.rd32(0x20004) == 0u);
  BOOST_TEST(m.reg(core::kRdx) == 0u);
  BOOST_TEST(m.reg(core::kRcx) == 0u);
  BOOST_TEST((m.reg(core::kRax) & 0xffff) == 0x3800u);  // TOP 7, no flags
}

// Canonical addresses: a near CALL, RET, far return or IRETQ to a
// non-canonical RIP faults on the branch (#GP(0), nothing changed); running
// off the end of the lower half faults on the fetch of the first
// non-canonical byte.
BOOST_AUTO_TEST_CASE(non_canonical_targets_fault_on_the_branch) {
  TestMachine m;
  core::X86CpuState s = paged_long_mode(m);
  // The last page of the lower half, 0x00007ffffffff000 -> physical 0x30000.
  m.wr64(kPml4 + 255 * 8, 0x14000 | kP | kW);
  m.wr64(0x14000 + 511 * 8, 0x15000 | kP | kW);
  m.wr64(0x15000 + 511 * 8, 0x16000 | kP | kW);
  m.wr64(0x16000 + 511 * 8, 0x30000 | kP | kW);
  m.ram[0x30ffe] = 0x90;  // nop at 0x00007ffffffffffe
  m.ram[0x30fff] = 0x90;  // nop at 0x00007fffffffffff, then RIP 0x0000800000000000
  set_gate64(m, 13, kCode + 0x800);
  m.start(s);
  m.load_asm(kCode, R"(.code64
    mov $0x70000, %rsp
    mov $0x0000800000000000, %rbp
    lea 1f(%rip), %r12
    call *%rbp                   # #GP: nothing pushed
  1:mov %rsp, %r8
    lea 2f(%rip), %r12
    push %rbp
    ret                          # #GP at the RET: RSP still points at the target
  2:mov %rsp, %r9
    pop %rax
    lea 3f(%rip), %r12
    pushq $0x10
    pushq $0x70000
    pushq $2
    pushq $0x18
    push %rbp
    iretq                        # #GP at the IRETQ
  3:mov %rsp, %r10
    add $40, %rsp
    lea 4f(%rip), %r12
    mov $0x00007ffffffffffe, %rax
    jmp *%rax                    # runs two NOPs, then the fetch faults
  4:hlt
  .org 0x800
    pop %r15                     # error code
    mov (%rsp), %rbx             # the faulting RIP
    mov %rbx, 0x3000(,%r13,8)
    inc %r13
    mov %r12, (%rsp)
    iretq
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kR13) == 4u);
  BOOST_TEST(m.reg(core::kR15) == 0u);
  BOOST_TEST(m.reg(core::kR8) == 0x70000u);
  BOOST_TEST(m.reg(core::kR9) == 0x70000u - 8);
  BOOST_TEST(m.reg(core::kR10) == 0x70000u - 40);
  BOOST_TEST(m.rd64(0x3000 + 3 * 8) == 0x0000800000000000ull);
  BOOST_TEST(m.st().icount > 0u);
}

// Without CR4.PCIDE the current PCID is 0, whatever CR3's low bits (PWT,
// PCD) hold: INVPCID single-context for PCID 0 drops its translations.
BOOST_AUTO_TEST_CASE(invpcid_single_context_without_pcide_is_pcid_0) {
  TestMachine m;
  core::X86CpuState s = paged_long_mode(m);
  s.cr3 |= 0x18;  // PWT, PCD
  Paged{m}.map(0x60000, 0xa0000, kP | kW);
  m.wr64(0xa0000, 0xa0);
  m.wr64(0xb0000, 0xb0);
  m.wr64(0x3000, 0);
  m.wr64(0x3008, 0);
  m.start(s);
  m.load_asm(kCode, R"(.code64
    mov 0x60000, %rax
    movq $0xb0003, 0x13300
    mov $1, %eax
    invpcid 0x3000, %rax        # type 1, PCID 0: the current context
    mov 0x60000, %rbx           # 0xb0
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 0xb0u);
}
