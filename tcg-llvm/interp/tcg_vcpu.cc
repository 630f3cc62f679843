#include "tcg-llvm/interp/tcg_vcpu.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/memory.h"
#include "core/run_control.h"
#include "tcg-llvm/decoder/x86_decoder.h"
#include "tcg-llvm/interp/form_binding.h"

namespace rwd::tcg {

namespace {

constexpr unsigned kMaxBlockInsns = 128;

bool contributory(uint8_t v) { return v == vec::kDe || (v >= vec::kTs && v <= vec::kGp); }

std::string describe_exception(uint8_t v, bool has_err, uint32_t err) {
  static const char* const kNames[] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
                                       "#DF", "#MF9", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
                                       "#MF", "#AC", "#MC", "#XM"};
  char buf[48];
  const char* name = v < 20 ? kNames[v] : nullptr;
  if (name && has_err) std::snprintf(buf, sizeof buf, "%s(0x%x)", name, err);
  else if (name) std::snprintf(buf, sizeof buf, "%s", name);
  else std::snprintf(buf, sizeof buf, "vector %u", v);
  return buf;
}

}  // namespace

TcgVcpu::TcgVcpu(const core::CpuEnvironment& env, const core::X86CpuState& initial,
                 std::shared_ptr<CodePeers> peers)
    : env_(env), cpu_(env, blocks_, std::move(peers)) {
  cpu_.s = initial;
  state_changed();
}

bool TcgVcpu::block_has_breakpoint(const Block& b, size_t first, const std::vector<uint64_t>& breakpoints) const {
  const uint64_t start = cpu_.s.linear_pc();
  uint64_t end = start;
  if (first == 0) {
    end += b.bytes + b.bytes2;  // the whole block (the chaining step's case)
  } else {
    for (size_t i = first; i < b.insns.size(); ++i) end += b.insns[i].d.length;
  }
  auto it = std::lower_bound(breakpoints.begin(), breakpoints.end(), start);
  return it != breakpoints.end() && *it < end;
}

void TcgVcpu::state_changed() {
  last_delivery_icount_ = ~0ull;
  resume_ = Resume{};
  trap_linear_ = trap_icount_ = ~0ull;  // another point in time: no trap to resume from
  cpu_.segments_changed();
  cpu_.debug_registers_changed();  // flushes the translations too
}

void TcgVcpu::memory_written(uint64_t paddr, uint64_t len) {
  if (blocks_.invalidate_range(paddr, len)) cpu_.exit_block = true;
}

void TcgVcpu::memory_map_changed() {
  // Blocks are keyed by physical address, translations point at host memory:
  // after a remap neither may be trusted.
  blocks_.invalidate_all();
  state_changed();
  cpu_.exit_block = true;
}

void TcgVcpu::set_irq(unsigned pin, bool level) {
  if (pin == core::kCpuPinIntr) {
    intr_ = level;
  } else if (pin == core::kCpuPinNmi) {
    if (level && !nmi_level_) cpu_.s.nmi_pending = true;  // NMI is edge-triggered
    nmi_level_ = level;
  }
  // A device may raise a line in the middle of an instruction: end the block.
  cpu_.exit_block = true;
}

void TcgVcpu::deliver(uint8_t vector, EventKind kind, bool has_err, uint32_t err) {
  event_delivered_ = true;
  // Deliveries at one icount: a handler that faults before its first
  // instruction retires can loop forever (a stack that wraps through
  // unassigned memory never faults the pushes). Real CPUs spin; rewind calls
  // the CPU stuck, by a rule of guest state alone, so the run ends.
  if (cpu_.s.icount != last_delivery_icount_) {
    last_delivery_icount_ = cpu_.s.icount;
    deliveries_at_icount_ = 0;
  }
  if (++deliveries_at_icount_ > kMaxDeliveriesWithoutRetiring) {
    char where[96];
    std::snprintf(where, sizeof where, "%u events delivered at icount %llu without an instruction retiring",
                  kMaxDeliveriesWithoutRetiring, static_cast<unsigned long long>(cpu_.s.icount));
    shutdown_ = true;
    if (env_.run_control)
      env_.run_control->request_shutdown(std::string("exception storm: ") + where + " (the last: " +
                                         describe_exception(vector, has_err, err) + ")");
    return;
  }
  std::string chain = describe_exception(vector, has_err, err);
  for (int attempt = 0; attempt < 3; ++attempt) {
    cpu_.exc_vector = 0xff;
    // The RF pushed (SDM Vol. 3 §17.3.1.1): 1 for a fault (the handler
    // returns to re-run the instruction without its instruction breakpoint)
    // and for an event between the iterations of a REP string instruction;
    // 0 for INT n; else EFLAGS.RF.
    const bool rf = kind == EventKind::kSoftware ? false
                    : kind == EventKind::kException && fault_class(vector)
                        ? true
                        : mid_rep() || (cpu_.s.rflags & core::rflags::kRf);
    if (deliver_event(cpu_, vector, kind, has_err, err, rf)) return;
    uint8_t v2 = cpu_.exc_vector;
    bool err2 = cpu_.exc_has_error;
    uint32_t e2 = cpu_.exc_error;
    chain += " -> " + describe_exception(v2, err2, e2);
    if (vector == vec::kDf) break;  // a fault while delivering #DF: shutdown
    if ((contributory(vector) && contributory(v2)) || (vector == vec::kPf && (contributory(v2) || v2 == vec::kPf))) {
      vector = vec::kDf;
      has_err = true;
      err = 0;
      chain += " => #DF";
    } else {
      vector = v2;
      has_err = err2;
      err = e2;
    }
    kind = EventKind::kException;
  }
  char where[64];
  std::snprintf(where, sizeof where, " at %04x:%llx", unsigned(cpu_.s.seg[kSegCs].selector),
                static_cast<unsigned long long>(cpu_.s.rip));
  shutdown_ = true;
  if (env_.run_control) env_.run_control->request_shutdown("triple fault: " + chain + where);
}

void TcgVcpu::raise_pending_exception() {
  uint8_t v = cpu_.exc_vector;
  // An instruction that raises #AC has no effect (the host CPU checks
  // alignment before it changes anything: x87 status, MMX state).
  if (v == vec::kAc && before_step_ && !cpu_.ac_keeps_effects) {
    cpu_.s = *before_step_;
    cpu_.segments_changed();
  }
  bool has_err = cpu_.exc_has_error || exception_has_error(v);
  deliver(v, EventKind::kException, has_err, cpu_.exc_has_error ? cpu_.exc_error : 0);
}

core::VcpuExit TcgVcpu::run(uint64_t icount_limit) {
  auto& s = cpu_.s;
  shutdown_ = false;
  // A debugger's stop at an instruction count of this vCPU: a limit that traps.
  const std::optional<uint64_t> trap_at = env_.debug_traps ? env_.debug_traps->stop_at_icount : std::nullopt;
  if (trap_at) icount_limit = std::min(icount_limit, std::max(*trap_at, s.icount));
  for (;;) {
    blocks_.collect_garbage();
    cpu_.exit_block = false;
    if (shutdown_ || (env_.run_control && env_.run_control->stop_requested()))
      return core::VcpuExit::kStopRequested;
    if (trap_at && s.icount >= *trap_at) return core::VcpuExit::kDebugTrap;
    // A debugger's watchpoint touched by the instruction that just ran.
    if (env_.debug_traps && env_.debug_traps->watch_hit) return core::VcpuExit::kDebugTrap;
    // Before the limit: a PAUSE that happens to retire at it still ends the turn.
    if (cpu_.yield_requested) {
      cpu_.yield_requested = false;
      return core::VcpuExit::kYielded;
    }
    if (s.icount >= icount_limit) return core::VcpuExit::kLimitReached;
    if (attention()) return core::VcpuExit::kAttention;

    if (s.wait_for_sipi) return core::VcpuExit::kHalted;  // only a start-up IPI (the machine's) wakes it
    // Events are taken between instructions, never inside the STI/MOV SS shadow.
    if (!s.interrupt_shadow) {
      if (s.nmi_pending && !s.nmi_blocked) {
        s.nmi_pending = false;
        deliver(vec::kNmi, EventKind::kExternal, false, 0);
        continue;
      }
      if (intr_ && (s.rflags & core::rflags::kIf) && env_.interrupt_controller) {
        uint8_t vector = env_.interrupt_controller->acknowledge();
        deliver(vector, EventKind::kExternal, false, 0);
        continue;
      }
    }
    if (s.halted) return core::VcpuExit::kHalted;
    // Before any block is looked up: arming watchpoints drops the translations.
    cpu_.set_debugger_watching(env_.debug_traps && !env_.debug_traps->watches.empty());

    // Go on where the last run stopped for a reason outside the guest, as if
    // it had not stopped; else find the block at CS:RIP.
    Block* b = nullptr;
    size_t first = 0;
    Resume r = resume_;
    resume_ = Resume{};
    if (r.block && r.rip == s.rip && r.icount == s.icount && r.epoch == blocks_.epoch()) {
      if (r.index < r.block->insns.size()) {
        b = r.block;
        first = r.index;
      } else {
        b = next_block(r.block);  // the chaining step the block's end would have taken
      }
    } else {
      b = lookup_block();
    }
    if (!b) {
      raise_pending_exception();
      continue;
    }
    // A debugger's traps: a block with a breakpoint on it (or any block, to
    // step) runs one instruction at a time, a breakpoint checked before each
    // (but not again where the last trap was taken); others run as usual and
    // chain on to blocks without one (a watchpoint's hit ends its block).
    const core::DebugTraps* traps = env_.debug_traps;
    breakpoints_ = traps && !traps->breakpoints.empty() ? &traps->breakpoints : nullptr;
    if (traps && (traps->step || (breakpoints_ && block_has_breakpoint(*b, first, *breakpoints_)))) {
      // Like an instruction breakpoint, not between the iterations of a REP.
      const uint64_t linear = s.linear_pc();
      const bool resuming = linear == trap_linear_ && s.icount == trap_icount_;
      // A step runs its instruction whatever breakpoint is there.
      if (!traps->step && !resuming && !mid_rep() &&
          std::binary_search(traps->breakpoints.begin(), traps->breakpoints.end(), linear)) {
        trap_linear_ = linear;
        trap_icount_ = s.icount;
        return core::VcpuExit::kDebugTrap;
      }
      single_step(b, first);
      if (traps->step) {
        trap_linear_ = ~0ull;  // a breakpoint right after a step still stops
        return core::VcpuExit::kDebugTrap;
      }
      continue;
    }
    if ((s.rflags & (core::rflags::kTf | core::rflags::kRf)) || cpu_.exec_breakpoints() || cpu_.watching() ||
        cpu_.alignment_checking()) {
      single_step(b, first);
      continue;
    }
    if (s.interrupt_shadow) {
      // Exactly one instruction runs in the shadow; it may set a new one.
      s.interrupt_shadow = 0;
      execute(b, first, s.icount + 1);
      continue;
    }
    execute(b, first, icount_limit);
  }
}

// One instruction (or REP iteration) under debug conditions (SDM vol. 3,
// 18.2-18.3): an enabled instruction breakpoint at its address faults with
// #DB before it runs, unless RFLAGS.RF is set; with TF set at its start, or
// when it touched an armed data breakpoint, #DB follows as a trap once it
// retires without delivering an event of its own (a fault, INT n), DR6
// naming the causes (BS, B0-B3). MOV SS / POP SS hold the trap off for one
// instruction. RF set at an instruction's start clears when it completes.
// With alignment checking on (CPL 3, CR0.AM, EFLAGS.AC) instructions also run
// here, one at a time, so that one raising #AC can be undone.
void TcgVcpu::single_step(Block* b, size_t first) {
  auto& s = cpu_.s;
  // Instruction breakpoints are checked at instruction boundaries, not
  // between the iterations of a REP string instruction.
  if (uint8_t exec = cpu_.exec_breakpoints(); exec && !(s.rflags & core::rflags::kRf) && !mid_rep()) {
    // B0-B3 name every instruction breakpoint at this address, enabled or
    // not, once an enabled one fires; the others are cleared.
    const uint64_t pc = cpu_.code_linear_pc();
    const uint8_t any = cpu_.exec_breakpoints_any();
    uint64_t hit = 0;
    for (unsigned i = 0; i < 4; ++i)
      if (((any >> i) & 1) && s.dr[i] == pc) hit |= 1u << i;
    if (hit & exec) {
      s.dr[6] = (s.dr[6] & ~uint64_t(0xf)) | hit;
      deliver(vec::kDb, EventKind::kException, false, 0);
      return;
    }
  }
  const bool tf = s.rflags & core::rflags::kTf, rf = s.rflags & core::rflags::kRf;
  const uint64_t before = s.icount;
  s.interrupt_shadow = 0;
  event_delivered_ = false;
  cpu_.data_hits = 0;
  core::X86CpuState state_before;
  if (cpu_.alignment_checking()) {
    state_before = s;
    before_step_ = &state_before;
    cpu_.ac_keeps_effects = false;
  }
  execute(b, first, s.icount + 1);
  before_step_ = nullptr;
  if (s.icount != before + 1 || event_delivered_ || shutdown_) return;
  // RF, as an IRET loaded it, lasts until the instruction completes (all of
  // a REP's iterations).
  if (rf && !mid_rep()) s.rflags &= ~core::rflags::kRf;
  if (s.interrupt_shadow & core::kShadowMovSs) return;
  if (!tf && !cpu_.data_hits) return;
  // A data or I/O breakpoint hit names its breakpoints in B0-B3 (clearing
  // the others); BS is added to whatever DR6 holds.
  if (cpu_.data_hits) s.dr[6] = (s.dr[6] & ~uint64_t(0xf)) | cpu_.data_hits;
  if (tf) s.dr[6] |= kDr6SingleStep;
  s.halted = false;
  deliver(vec::kDb, EventKind::kException, false, 0);
}

void TcgVcpu::dirty_log_cleared() {
  cpu_.tlb().drop_write_mappings();
  cpu_.footprint.clear();
  ++footprint_epoch_;
  // Every block reached from now on comes through lookup_block() once
  // (chains made before are dropped), where the footprint notes it: blocks
  // running chained cost nothing.
  blocks_.bump_epoch();
}

Block* TcgVcpu::noted(Block* b, uint64_t linear) {
  if (!b) return b;
  const bool scratch = b == &scratch_;  // decoded afresh each time: never stamped
  if (scratch || b->footprint_epoch != footprint_epoch_ || b->footprint_linear != linear) {
    cpu_.footprint.add_code(linear, uint64_t(b->bytes) + b->bytes2);
    if (!scratch) {
      b->footprint_epoch = footprint_epoch_;
      b->footprint_linear = linear;
    }
  }
  return b;
}

void TcgVcpu::save_resume(Block* b, size_t index) {
  resume_ = Resume{b, index, cpu_.s.rip, cpu_.s.icount, blocks_.epoch()};
}

void TcgVcpu::execute(Block* b, size_t first, uint64_t limit) {
  auto& s = cpu_.s;
  // RIP and icount are carried in registers and only stored to the state, so
  // no dependency chain runs through memory from one instruction to the next.
  // Only instructions that return something else than kNext may move RIP.
  uint64_t icount = s.icount;
  for (;;) {
    const Insn* begin = b->insns.data();
    const Insn* i = begin + first;
    first = 0;
    const Insn* end = begin + b->insns.size();
    uint64_t budget = limit - icount;
    const Insn* stop = budget < uint64_t(end - i) ? i + budget : end;
    uint64_t rip = s.rip;
    uint64_t start;
    Status st;
    for (;;) {
      start = rip;
      rip += i->d.length;
      s.rip = rip;
      s.icount = icount;
      st = i->handler(cpu_, i->d);
      if (st != Status::kNext) [[unlikely]] break;
      ++icount;
      if (++i == stop || cpu_.exit_block) [[unlikely]] break;
    }
    // Outside 64-bit mode EIP is 32 bits: running off 0xffffffff wraps to 0.
    // (Branches already wrap their targets; only falling through needs it.)
    s.rip &= cpu_.rip_mask();
    if (st == Status::kNext) {
      s.icount = icount;
      if (cpu_.exit_block) return;  // a device was reached
      if (i != end) {               // the budget is spent inside the block
        save_resume(b, size_t(i - begin));
        return;
      }
    } else if (st == Status::kEndBlock) {
      s.icount = ++icount;
    } else {
      switch (st) {
        case Status::kRepeat:
          s.icount = ++icount;
          s.rip = start;
          note_mid_rep();
          if (cpu_.exit_block) return;
          if (icount == limit) {
            save_resume(b, size_t(i - begin));
            return;
          }
          return execute_rep(b, size_t(i - begin), limit - icount);
        case Status::kFault:
          s.rip = start;
          raise_pending_exception();
          return;
        case Status::kSoftInt:
          s.icount = ++icount;
          deliver(cpu_.soft_vector, cpu_.soft_privileged ? EventKind::kException : EventKind::kSoftware, false, 0);
          return;
        case Status::kHalt:
          s.icount = ++icount;
          s.halted = true;
          return;
        default:
          return;
      }
    }
    // Chain to the next block unless something the run loop checks may have
    // changed: devices (interrupt lines, stop requests) are only reached by
    // instructions that set exit_block; IF and the shadow change only in
    // instructions that end their block. An instruction that sets TF or RF or
    // arms a breakpoint sets exit_block (single_step takes over in run).
    if (cpu_.exit_block || s.interrupt_shadow || shutdown_) return;
    if ((intr_ && (s.rflags & core::rflags::kIf)) || s.nmi_pending) return;
    // Stops for reasons outside the guest resume through this chaining step.
    if (icount >= limit || attention()) {
      save_resume(b, b->insns.size());
      return;
    }
    // Successor cache inline (the common case), the full lookup out of line.
    uint64_t next_rip = s.rip;
    Block* next;
    if (b->next_epoch == blocks_.epoch() && b->next_rip[0] == next_rip) [[likely]] {
      next = b->next[0];
    } else {
      next = next_block(b);
      if (!next) {
        raise_pending_exception();
        return;
      }
    }
    // A block with a debugger's breakpoint is for run() to take on.
    if (breakpoints_ && block_has_breakpoint(*next, 0, *breakpoints_)) [[unlikely]] {
      save_resume(b, b->insns.size());
      return;
    }
    b = next;
  }
}

// Continues the REP string instruction b->insns[index] for at most `budget`
// more iterations.
void TcgVcpu::execute_rep(Block* b, size_t index, uint64_t budget) {
  auto& s = cpu_.s;
  const Insn* i = &b->insns[index];
  uint64_t start = s.rip;
  for (;;) {
    s.rip = start + i->d.length;
    Status st = i->handler(cpu_, i->d);
    if (st == Status::kRepeat) {
      ++s.icount;
      s.rip = start;
      note_mid_rep();
      if (cpu_.exit_block) return;
      if (--budget == 0 || attention()) {
        save_resume(b, index);
        return;
      }
      continue;
    }
    if (st == Status::kFault) {
      s.rip = start;
      raise_pending_exception();
      return;
    }
    ++s.icount;  // the last iteration retires the instruction (kNext)
    s.rip &= cpu_.rip_mask();
    return;
  }
}

Block* TcgVcpu::next_block(Block* prev) {
  uint64_t rip = cpu_.s.rip;
  if (prev->next_epoch == blocks_.epoch()) {
    if (prev->next_rip[0] == rip) return prev->next[0];
    if (prev->next_rip[1] == rip) return prev->next[1];
  } else {
    prev->next_epoch = blocks_.epoch();
    prev->next_rip[0] = prev->next_rip[1] = ~0ull;
  }
  Block* b = lookup_block();
  if (b && b != &scratch_ && prev != &scratch_ && prev->next_epoch == blocks_.epoch()) {
    int slot = prev->next_rip[0] == ~0ull ? 0 : 1;
    prev->next_rip[slot] = rip;
    prev->next[slot] = b;
  }
  return b;
}

Block* TcgVcpu::lookup_block() {
  uint64_t lin = cpu_.code_linear_pc();
  uint32_t tag = uint32_t(cpu_.mode()) | (cpu_.user() ? 4u : 0u);
  if (Block* b = blocks_.jump_lookup(lin, tag)) return noted(b, lin);
  uint64_t phys;
  uint8_t* host;
  if (!cpu_.translate_fetch(lin, phys, host)) return nullptr;
  if (host) {
    if (Block* b = blocks_.find(phys, cpu_.mode())) {
      // A page-straddling instruction is this block only while its second
      // page maps where it did (the fetch of that page may fault too).
      if (b->paddr2 != Block::kNoPage) {
        uint64_t phys2;
        uint8_t* host2;
        if (!cpu_.translate_fetch(next_page(lin), phys2, host2)) return nullptr;
        if ((phys2 & kPageMask) != b->paddr2 || !host2) b = nullptr;
      }
      if (b) {
        blocks_.jump_store(lin, tag, b);
        return noted(b, lin);
      }
    }
  }
  Block* b = decode_block(phys, host, lin);
  if (b && b != &scratch_) blocks_.jump_store(lin, tag, b);
  return noted(b, lin);
}

uint64_t TcgVcpu::next_page(uint64_t lin) const {
  const uint64_t next = (lin | ~kPageMask) + 1;
  return cpu_.s.long_mode_active() ? next : next & 0xffffffffull;
}

Block* TcgVcpu::decode_block(uint64_t phys, const uint8_t* host, uint64_t lin) {
  ++blocks_decoded_;
  DecodeMode mode = cpu_.mode();
  auto block = std::make_unique<Block>();
  block->paddr = phys;
  block->mode = mode;
  const uint64_t start = phys & ~kPageMask;
  uint64_t off = start;
  bool cacheable = host != nullptr;
  uint8_t buf[kMaxInsnLength];
  while (block->insns.size() < kMaxBlockInsns) {
    size_t avail = kPageSize - off;
    DecodedInsn d{};
    bool ok = host && decode_x86(host + (off - start), avail, mode, d);
    if (!ok) {
      // Straddles the page end (or code outside RAM): only as the block's
      // first instruction, gathered byte by byte; cached, with its second
      // page, when both pages are RAM.
      if (!block->insns.empty()) break;
      bool decoded = false;
      uint64_t phys2 = Block::kNoPage;
      for (size_t n = 0; n < kMaxInsnLength && !decoded; ++n) {
        uint64_t l = cpu_.s.long_mode_active() ? lin + n : (lin + n) & 0xffffffffull;
        uint64_t p;
        uint8_t* hp;
        if (!cpu_.translate_fetch(l, p, hp)) return nullptr;  // #PF (or #GP) pending for the missing byte
        buf[n] = hp ? *hp : uint8_t(env_.memory->read(p, 1));
        if (!hp) cacheable = false;
        if (n == avail) phys2 = p & kPageMask;
        d = DecodedInsn{};
        decoded = decode_x86(buf, n + 1, mode, d);
      }
      if (!decoded) {
        cpu_.set_exception(vec::kGp, true, 0);  // longer than 15 bytes
        return nullptr;
      }
      if (d.length > avail) {
        block->paddr2 = phys2;
        block->bytes2 = uint16_t(d.length - avail);
      }
    }
    Binding bind = bind_form(d);
    block->insns.push_back(Insn{bind.handler, d});
    off += d.length;
    if (bind.ends_block || !cacheable || off >= kPageSize) break;
  }
  if (!cacheable) {
    scratch_ = std::move(*block);
    return &scratch_;
  }
  block->bytes = uint16_t((off < kPageSize ? off : kPageSize) - start);
  block->insns.shrink_to_fit();  // the budget counts capacity
  Block* raw = block.get();
  uint64_t flushes = blocks_.flushes();
  blocks_.insert(std::move(block), [&](uint64_t ppage) { cpu_.code_page_added(ppage); });
  // A full cache was emptied into the graveyard: return to the run loop
  // soon, which frees it.
  if (blocks_.flushes() != flushes) cpu_.exit_block = true;
  return raw;
}

std::unique_ptr<core::Vcpu> make_interpreter_vcpu(const core::CpuEnvironment& env) {
  return std::make_unique<TcgVcpu>(env, core::reset_cpu_state());
}

std::unique_ptr<core::Vcpu> make_interpreter_vcpu(const core::CpuEnvironment& env,
                                                  const core::X86CpuState& initial) {
  return std::make_unique<TcgVcpu>(env, initial);
}

}  // namespace rwd::tcg
