// The glue functions: everything the semantics reach outside the CPU state
// when they are compiled to bitcode for the JIT tier (jit_cpu.h). Each takes
// an opaque context (the vCPU's TLB, memory and devices) and plain values,
// never the CPU state or an interpreter object, so LLVM may keep the state in
// registers across a block and delete dead flag work around the calls.
// tcg-llvm/jit/check_bitcode.sh fails the build when the bitcode references
// any function that is not declared here.
//
// A fault word is 0 when the access succeeded, else
//   bit 0 set | second_page << 1 | vector << 8 | has_error_code << 16 | error_code << 32
// where second_page says a page-crossing access faulted on its second page
// (CR2 is then the first byte of that page).
// Access kinds: bit 0 = CPL 3, bit 1 = an implicit supervisor access
// (descriptor tables, TSS; supervisor whatever bit 0 says), bit 2 =
// EFLAGS.AC (SMAP, alignment checking with CR0.AM), bit 3 = a piece of a
// wider access that alignment checking leaves alone.
#pragma once

#include <cstdint>

namespace rwd::tcg {
struct JitContext;  // opaque to the semantics
}

extern "C" {
uint64_t rwd_glue_load(rwd::tcg::JitContext* ctx, uint64_t linear, uint32_t size, uint32_t kind, uint64_t* value);
uint64_t rwd_glue_store(rwd::tcg::JitContext* ctx, uint64_t linear, uint32_t size, uint32_t kind, uint64_t value);
uint64_t rwd_glue_probe_store(rwd::tcg::JitContext* ctx, uint64_t linear, uint32_t size, uint32_t kind);
uint64_t rwd_glue_probe_load(rwd::tcg::JitContext* ctx, uint64_t linear, uint32_t size, uint32_t kind);
uint32_t rwd_glue_io_in(rwd::tcg::JitContext* ctx, uint32_t port, uint32_t size);
void rwd_glue_io_out(rwd::tcg::JitContext* ctx, uint32_t port, uint32_t size, uint32_t value);
// CS, SS, CPL or the mode changed: chained successors are stale.
void rwd_glue_code_context_changed(rwd::tcg::JitContext* ctx);
// CR0/CR3/CR4/EFER changed: translations are stale (the walker gets the values).
void rwd_glue_paging_changed(rwd::tcg::JitContext* ctx, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
                             uint32_t flush);  // TlbFlush
void rwd_glue_invlpg(rwd::tcg::JitContext* ctx, uint64_t linear);
// Entropy for RDRAND/RDSEED (recorded and replayed); 0 when there is none.
uint32_t rwd_glue_entropy(rwd::tcg::JitContext* ctx, uint64_t* value);
// The local APIC: x2APIC MSRs and IA32_TSC_DEADLINE (value in/out; 0 means #GP),
// an IA32_APIC_BASE write (the new value is in the state), CR8 (TPR[7:4]).
uint32_t rwd_glue_apic_msr(rwd::tcg::JitContext* ctx, uint32_t write, uint32_t index, uint64_t* value);
void rwd_glue_apic_base_changed(rwd::tcg::JitContext* ctx, uint64_t old_value);
uint64_t rwd_glue_read_cr8(rwd::tcg::JitContext* ctx);
uint32_t rwd_glue_apic_id(rwd::tcg::JitContext* ctx);
// CPUID: the features -cpu removed are taken out of the result (in place).
void rwd_glue_mask_cpuid(rwd::tcg::JitContext* ctx, uint32_t leaf, uint32_t subleaf, uint32_t* eax, uint32_t* ebx,
                         uint32_t* ecx, uint32_t* edx);
// PAUSE: the vCPU's turn ends after this instruction.
void rwd_glue_spin_wait_hint(rwd::tcg::JitContext* ctx);
void rwd_glue_write_cr8(rwd::tcg::JitContext* ctx, uint64_t value);
// FERR#: a waiting x87 instruction found an unmasked exception with CR0.NE clear.
void rwd_glue_fpu_error(rwd::tcg::JitContext* ctx);
// DR0-DR7 were written: the breakpoints change (the tier re-reads them).
void rwd_glue_debug_registers_changed(rwd::tcg::JitContext* ctx);
// RFLAGS's system bits may have changed (TF or RF set: the tier leaves the
// block and single-steps).
void rwd_glue_flags_reloaded(rwd::tcg::JitContext* ctx, uint64_t rflags);
// INVPCID (type as InvpcidType).
void rwd_glue_invalidate_pcid(rwd::tcg::JitContext* ctx, uint32_t type, uint32_t pcid, uint64_t linear);
// A form without semantics (warned once per form) and a feature not built yet.
void rwd_glue_unimplemented(rwd::tcg::JitContext* ctx, uint32_t form, uint32_t cs_selector, uint64_t rip);
void rwd_glue_unimplemented_feature(rwd::tcg::JitContext* ctx, const char* what, uint32_t cs_selector, uint64_t rip);
}
