// Interpreter tier, the predecoded-block cache against writes: data next to
// code drops nothing, a write into code drops just the blocks it touches,
// an instruction that straddles a page end is cached like any other (and
// dropped by a write to either page, or not used when its second page maps
// elsewhere), and code changed through another linear mapping or by a
// device is decoded afresh.
#define BOOST_TEST_MODULE test_interp_code_cache
#include "tests/unit/test_interp_machine.h"

using namespace rwd;
using namespace rwd::tcg;
using namespace rwd::tcg::test;
using core::VcpuExit;

BOOST_AUTO_TEST_CASE(data_next_to_code_drops_no_block) {
  TestMachine m;
  m.start(flat32_state(kCode));
  m.load_asm(kCode, R"(.code32
    mov $1000, %ecx
  1:incl counter             # data on the loop's own page
    addl %ecx, counter + 4
    dec %ecx
    jnz 1b
    mov counter, %eax
    mov counter + 4, %edx
    hlt
  counter:
    .long 0, 0
  )");
  BOOST_TEST(int(m.vcpu->run(100000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.vcpu->blocks().invalidations() == 0u);
  BOOST_TEST(m.vcpu->blocks_decoded() < 5u);
  BOOST_TEST(m.reg(core::kRax) == 1000u);
  BOOST_TEST(m.reg(core::kRdx) == 500500u);
}

BOOST_AUTO_TEST_CASE(a_write_into_code_drops_only_the_blocks_it_touches) {
  TestMachine m;
  m.start(flat32_state(kCode));
  m.load_asm(kCode, R"(.code32
    mov $100, %ecx
  loop:
    call patched             # a block of its own
    incb patched + 1         # patch it: only that block goes
    dec %ecx
    jnz loop
    hlt
  .org 0x100
  patched:
    mov $0, %al
    add %eax, %ebx
    ret
  )");
  BOOST_TEST(int(m.vcpu->run(100000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 4950u);  // 0 + 1 + ... + 99
  BOOST_TEST(m.vcpu->blocks().invalidations() == 100u);
  // The loop's own blocks stay: about one fresh decode per patch.
  BOOST_TEST(m.vcpu->blocks_decoded() < 110u);
}

BOOST_AUTO_TEST_CASE(a_page_straddling_instruction_is_cached) {
  TestMachine m;
  m.start(flat32_state(kCode));
  // MOV EAX, imm32 at 0x100ffe: two bytes in the first page, three in the next.
  m.load_asm(kCode, R"(.code32
    mov $1000, %ecx
    jmp straddle
  .org 0xffe
  straddle:
    mov $0x01020304, %eax
    add %eax, %ebx
    dec %ecx
    jnz straddle
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(100000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 1000u * 0x01020304u);
  BOOST_TEST(m.vcpu->blocks_decoded() < 6u);
}

BOOST_AUTO_TEST_CASE(a_write_to_either_page_of_a_straddling_instruction_drops_it) {
  TestMachine m;
  m.start(flat32_state(kCode));
  m.load_asm(kCode, R"(.code32
    mov $10, %ecx
    jmp straddle
  .org 0xffd
  straddle:
    mov $0x00000000, %eax    # opcode and imm byte 0 in the first page, imm bytes 1-3 in the next
    add %eax, %ebx
    incb straddle + 1        # the first page's byte
    incb straddle + 3        # the second page's byte
    dec %ecx
    jnz straddle
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(100000)) == int(VcpuExit::kHalted));
  // Iteration i adds i * 0x00010001.
  BOOST_TEST(m.reg(core::kRbx) == 45u * 0x00010001u);
}

// The same linear code, its second page remapped (with INVLPG): the block
// decoded from the old second page is not used.
BOOST_AUTO_TEST_CASE(a_straddling_instruction_follows_its_second_page_mapping) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x47);
  // 32-bit paging, identity over 4 MiB, except linear 0x401000, which maps
  // the physical page at 0x201000 or at 0x202000.
  m.wr32(0x10000, 0x11000 | 3);
  m.wr32(0x10004, 0x12000 | 3);
  for (uint32_t i = 0; i < 1024; ++i) m.wr32(0x11000 + i * 4, (i << 12) | 3);
  m.wr32(0x12000, 0x200000 | 3);       // linear 0x400000: physical 0x200000
  m.wr32(0x12004, 0x201000 | 3);       // linear 0x401000: physical 0x201000
  s.cr3 = 0x10000;
  s.cr0 |= core::cr0::kPg;
  // At linear 0x400ffe: B8 04 | 03 02 01 (mov $0x01020304, %eax), then RET.
  // The alternative second page holds 33 22 11 (mov $0x11223304) and RET.
  m.ram[0x200ffe] = 0xb8;
  m.ram[0x200fff] = 0x04;
  const uint8_t page_a[] = {0x03, 0x02, 0x01, 0xc3}, page_b[] = {0x33, 0x22, 0x11, 0xc3};
  std::memcpy(&m.ram[0x201000], page_a, 4);
  std::memcpy(&m.ram[0x202000], page_b, 4);
  m.start(s);
  m.load_asm(kCode, R"(.code32
    mov $0x400ffe, %esi
    call *%esi
    mov %eax, %ebx
    movl $0x202003, 0x12004   # remap linear 0x401000
    invlpg 0x401000
    call *%esi
    mov %eax, %ecx
    movl $0x201003, 0x12004   # and back
    invlpg 0x401000
    call *%esi
    mov %eax, %edx
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 0x01020304u);
  BOOST_TEST(m.reg(core::kRcx) == 0x11223304u);
  BOOST_TEST(m.reg(core::kRdx) == 0x01020304u);
}

// Cross-modifying code: the bytes change through another linear mapping of
// the same physical page, or through a device (memory_written).
BOOST_AUTO_TEST_CASE(code_changed_through_an_alias_or_a_device_is_decoded_afresh) {
  TestMachine m;
  core::X86CpuState s = pm_state(m, 0x47);
  m.wr32(0x10000, 0x11000 | 3);
  m.wr32(0x10004, 0x12000 | 3);
  for (uint32_t i = 0; i < 1024; ++i) m.wr32(0x11000 + i * 4, (i << 12) | 3);
  m.wr32(0x12000, 0x300000 | 3);   // linear 0x400000 aliases physical 0x300000
  s.cr3 = 0x10000;
  s.cr0 |= core::cr0::kPg;
  const uint8_t code[] = {0xb8, 0x05, 0x00, 0x00, 0x00, 0xc3};  // mov $5, %eax; ret
  std::memcpy(&m.ram[0x300000], code, sizeof code);
  m.start(s);
  m.load_asm(kCode, R"(.code32
    call 0x300000             # through the identity mapping
    mov %eax, %ebx
    movb $7, 0x400001         # through the alias
    call 0x300000
    mov %eax, %ecx
    hlt
    call 0x300000
    mov %eax, %edx
    hlt
  )");
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRbx) == 5u);
  BOOST_TEST(m.reg(core::kRcx) == 7u);
  // A device writes the code while the vCPU is stopped.
  m.ram[0x300001] = 9;
  m.vcpu->memory_written(0x300001, 1);
  m.st().halted = false;
  BOOST_TEST(int(m.vcpu->run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.reg(core::kRdx) == 9u);
}

// Two vCPUs of one machine (core::Machine runs them in turns): code one of
// them has run and the other then rewrites runs as rewritten, as when Linux
// patches kernel text while other CPUs run. The writer had written data into
// the page before it held code, so its TLB had a fast write mapping there
// that the other vCPU's decode must take away.
BOOST_AUTO_TEST_CASE(a_write_by_another_vcpu_drops_the_blocks_it_touches) {
  TestMachine m;
  auto peers = std::make_shared<CodePeers>();
  m.load_asm(kCode + 0x100, R"(.code32
    mov $1, %eax
    hlt
  )");
  m.load_asm(kCode + 0x200, R"(.code32
    movb $0x55, 0x1001f0     # data in the code's page: a fast write mapping
    hlt
    movb $2, 0x100101        # the immediate of "mov $1, %eax"
    hlt
  )");
  TcgVcpu writer(m.env, flat32_state(kCode + 0x200), peers);
  BOOST_TEST(int(writer.run(1000)) == int(VcpuExit::kHalted));
  TcgVcpu reader(m.env, flat32_state(kCode + 0x100), peers);
  BOOST_TEST(int(reader.run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(reader.state().gpr[core::kRax] == 1u);

  writer.state().halted = false;
  BOOST_TEST(int(writer.run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(m.ram[kCode + 0x101] == 2u);
  BOOST_TEST(reader.blocks().invalidations() == 1u);
  reader.state().halted = false;
  reader.state().rip = kCode + 0x100;
  reader.state_changed();
  BOOST_TEST(int(reader.run(1000)) == int(VcpuExit::kHalted));
  BOOST_TEST(reader.state().gpr[core::kRax] == 2u);
}
