// TcgVcpu: the interpreter tier of tcg-llvm as a core::Vcpu.
//
// INSTRUCTION COUNT (state().icount) — the one definition, shared by every tier:
//  - an instruction that retires adds exactly 1;
//  - each iteration of a REP-prefixed string instruction adds 1 (interrupts
//    and run limits may fall between iterations, as on hardware); a REP whose
//    count is 0 retires once and adds 1;
//  - an instruction that faults does not retire: icount is unchanged and RIP
//    stays on the faulting instruction;
//  - INT n, INT3 and INTO retire (add 1) before their event is delivered;
//    HLT retires once, however long the vCPU then stays halted;
//  - delivering an exception or interrupt is not an instruction (adds 0);
//  - devices always see the count of instructions retired before the one
//    accessing them (icount is stored before every port or MMIO access).
// run(limit) stops with icount == limit exactly when the limit is reached.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/run_control.h"
#include "core/vcpu.h"
#include "tcg-llvm/interp/block_cache.h"
#include "tcg-llvm/interp/interp_cpu.h"
#include "tcg-llvm/semantics/interrupt.h"

namespace rwd::tcg {

class TcgVcpu final : public core::Vcpu {
 public:
  // `peers`: the other vCPUs of the machine, for code written by one and run by another.
  TcgVcpu(const core::CpuEnvironment& env, const core::X86CpuState& initial,
          std::shared_ptr<CodePeers> peers = nullptr);

  core::X86CpuState& state() override { return cpu_.s; }
  core::VcpuExit run(uint64_t icount_limit) override;
  void state_changed() override;
  void memory_written(uint64_t paddr, uint64_t len) override;
  void memory_map_changed() override;
  void dirty_log_cleared() override;
  bool add_footprint(core::ExecutionFootprint& into) const override {
    into.merge(cpu_.footprint);
    return true;
  }
  void set_irq(unsigned pin, bool level) override;

  // For tests and statistics.
  const BlockCache& blocks() const { return blocks_; }
  uint64_t blocks_decoded() const { return blocks_decoded_; }

 private:
  // Finds or decodes the block at CS:RIP; nullptr after a fetch fault (the
  // exception is then pending in cpu_).
  Block* lookup_block();
  // lookup_block() through prev's successor cache.
  Block* next_block(Block* prev);
  Block* decode_block(uint64_t phys, const uint8_t* host, uint64_t lin);
  uint64_t next_page(uint64_t lin) const;  // the linear page after lin's
  // Executes from instruction `first` of block b on, chaining blocks, until
  // icount reaches `limit` or an event needs the run loop's attention.
  void execute(Block* b, size_t first, uint64_t limit);
  void execute_rep(Block* b, size_t index, uint64_t budget);
  void save_resume(Block* b, size_t index);
  // b, found for `linear`, after adding it to the execution footprint
  // (once an interval for each linear address it runs at).
  Block* noted(Block* b, uint64_t linear);
  void single_step(Block* b, size_t first);
  // Whether a debugger breakpoint lies on an instruction of b from `first` on
  // (their linear addresses follow CS base + RIP, the block's first one).
  bool block_has_breakpoint(const Block& b, size_t first, const std::vector<uint64_t>& breakpoints) const;
  static constexpr uint64_t kDr6SingleStep = 1u << 14;  // DR6.BS
  // Delivers an event, escalating faults during delivery to #DF and a
  // triple fault (shutdown).
  void deliver(uint8_t vector, EventKind kind, bool has_err, uint32_t err);
  void raise_pending_exception();
  // Between two iterations of a REP string instruction (one has retired,
  // more remain): events delivered here push RF = 1.
  void note_mid_rep() { cpu_.s.mid_rep_icount = cpu_.s.icount; }
  bool mid_rep() const { return cpu_.s.icount == cpu_.s.mid_rep_icount; }
  // Attention is taken only where the last thing done was an instruction
  // retiring: a point a replay reaches by its icount alone. Right after an
  // exception or interrupt was delivered, icount N names the point before the
  // faulting instruction too; stopping there would leave a state (the
  // handler's) that the replay, stopping at N, does not have.
  bool attention() const {
    return env_.run_control && env_.run_control->attention_requested() && cpu_.s.icount != last_delivery_icount_;
  }
  static constexpr unsigned kMaxDeliveriesWithoutRetiring = 10000;

  core::CpuEnvironment env_;
  BlockCache blocks_;
  InterpCpu cpu_;
  Block scratch_;  // uncached blocks: code outside RAM
  bool intr_ = false;
  bool nmi_level_ = false;
  bool shutdown_ = false;
  bool event_delivered_ = false;  // deliver() ran (single_step: the instruction raised its own event)
  // With alignment checking on, the state before the instruction single_step
  // runs: an instruction raising #AC is undone (raise_pending_exception).
  const core::X86CpuState* before_step_ = nullptr;
  uint64_t blocks_decoded_ = 0;
  // Where the last debugger trap was taken (DebugTraps): run again from
  // there, the vCPU does not stop at that breakpoint a second time.
  // The debugger's breakpoints while any are set: execute() chains only to
  // blocks without one.
  const std::vector<uint64_t>* breakpoints_ = nullptr;
  uint64_t trap_linear_ = ~0ull;
  uint64_t trap_icount_ = ~0ull;
  // Where the last run() stopped for its budget or for attention (reasons
  // outside the guest), so the next one goes on exactly as if it had not
  // stopped: inside the block at the same instruction, or from the block's
  // end through the same chaining step. A fresh lookup instead could take
  // another path through the TLB and the caches, which a guest that changed
  // its page tables without INVLPG would notice: replay, which stops at
  // other points than its recording did, would then diverge.
  struct Resume {
    Block* block = nullptr;  // nullptr: nothing to resume
    size_t index = 0;        // the next instruction; == size: chain from its end
    uint64_t rip = 0;
    uint64_t icount = 0;
    uint64_t epoch = 0;      // the blocks and chains it relies on are still valid
  };
  Resume resume_;
  // Moves on with every clearing of the footprint: a block stamped with an
  // older one (Block::footprint_epoch) is noted again when it runs.
  uint64_t footprint_epoch_ = 1;
  uint64_t last_delivery_icount_ = ~0ull;  // icount of the last event delivery
  unsigned deliveries_at_icount_ = 0;      // deliveries since an instruction last retired
};

std::unique_ptr<core::Vcpu> make_interpreter_vcpu(const core::CpuEnvironment& env);
std::unique_ptr<core::Vcpu> make_interpreter_vcpu(const core::CpuEnvironment& env, const core::X86CpuState& initial);

}  // namespace rwd::tcg
