#include "tcg-llvm/interp/interp_cpu.h"

#include <cstdio>

#include "core/dirty_log.h"
#include "core/memory.h"
#include "core/run_control.h"
#include "tcg-llvm/decoder/x86_decoder.h"

namespace rwd::tcg {

void InterpCpu::segments_changed() {
  blocks_.bump_epoch();  // chained successors assume an unchanged CS and CPL
  mode_ = decode_mode_of(s);
  stack_size_ = stack_size_of(s, mode_);
  update_privileges();
  for (int i = 0; i < 6; ++i) {
    const auto& c = s.seg[i];
    if (mode_ == DecodeMode::k64) {
      seg_base_[i] = i >= kSegFs ? c.base : 0;
      seg_limit_[i] = ~0ull;
      seg_slow_[i] = false;
      seg_readonly_[i] = false;
      continue;
    }
    seg_base_[i] = c.base & 0xffffffffull;
    seg_limit_[i] = c.limit;
    seg_slow_[i] = segment_needs_full_check(s, i);
    seg_readonly_[i] = segment_read_only(s, i);
  }
}

bool InterpCpu::to_linear_slow(int seg, uint64_t off, unsigned n, bool write, uint64_t& lin) {
  uint8_t v = segment_access_fault(s, seg, off, n, write);
  if (v != 0xff) return fail(*this, v, 0);
  lin = (seg_base_[seg] + off) & 0xffffffffull;
  return true;
}

void InterpCpu::flush_translations() {
  tlb_.flush();
  blocks_.flush_jump_cache();
}

void InterpCpu::update_privileges() {
  const bool cpl3 = s.protected_mode() && s.cpl() == 3;
  const bool ac = s.rflags & core::rflags::kAc;
  const bool was_checking = data_ == kUserAligned;
  // SMAP bars supervisor data accesses from user pages: implicit ones
  // (descriptor tables, TSS, IDT) always, explicit ones (CPL < 3) unless
  // EFLAGS.AC is set (SDM Vol. 3 §4.6.1).
  const bool smap = s.cr4 & core::cr4::kSmap;
  sys_ = smap ? kSupervisorSmap : kSupervisor;
  fetch_ = cpl3 ? kUser : kSupervisor;
  data_ = !cpl3 ? (smap && !ac ? kSupervisorSmap : kSupervisor)
                : (ac && (s.cr0 & core::cr0::kAm)) ? kUserAligned : kUser;
  if (data_ == kUserAligned && !was_checking) exit_block = true;  // the tier steps one at a time
}

bool InterpCpu::check_alignment_slow(int seg, uint64_t off, unsigned n, bool undo) {
  uint64_t lin;
  if (!to_linear(seg, off, n, false, lin)) return false;  // segment and canonical faults come first
  if (lin & (n - 1)) {
    ac_keeps_effects = !undo;
    return fail(*this, vec::kAc, 0);
  }
  return true;
}

void InterpCpu::paging_changed(TlbFlush flush) {
  update_privileges();  // CR0.AM, CR4.SMAP
  if (flush == TlbFlush::kNone) return;
  if (flush == TlbFlush::kAll) tlb_.flush();
  else tlb_.flush_non_global();
  blocks_.flush_jump_cache();
}

void InterpCpu::invalidate_pcid(InvpcidType type, uint16_t pcid, uint64_t linear) {
  // The TLB holds the current PCID's translations and global ones only;
  // without CR4.PCIDE the current PCID is 0 (CR3's low bits are PWT/PCD).
  const bool current = pcid == ((s.cr4 & core::cr4::kPcide) ? (s.cr3 & 0xfff) : 0);
  switch (type) {
    case InvpcidType::kAddress: tlb_.flush_page(linear); break;
    case InvpcidType::kSingleContext:
      if (!current) return;
      tlb_.flush_non_global();
      break;
    case InvpcidType::kAllContexts: tlb_.flush(); break;
    case InvpcidType::kAllNonGlobal: tlb_.flush_non_global(); break;
  }
  blocks_.flush_jump_cache();
}

void InterpCpu::debug_registers_changed() {
  exec_bp_ = exec_bp_any_ = data_bp_ = io_bp_ = 0;
  const uint64_t dr7 = s.dr[7];
  for (unsigned i = 0; i < 4; ++i) {
    const unsigned rw = (dr7 >> (16 + 4 * i)) & 3;
    if (rw == 0) exec_bp_any_ |= uint8_t(1u << i);
    if (!((dr7 >> (2 * i)) & 3)) continue;  // neither Ln nor Gn
    if (rw == 0) exec_bp_ |= uint8_t(1u << i);
    else if (rw == 1 || rw == 3) data_bp_ |= uint8_t(1u << i);
    else if (s.cr4 & core::cr4::kDe) io_bp_ |= uint8_t(1u << i);  // RW = 10 without DE is undefined: ignored
  }
  flush_translations();  // fast tags installed before a data breakpoint bypass it
  exit_block = true;     // the tier re-reads the breakpoints before the next instruction
}

// Marks the data breakpoints an access of n bytes at lin hits: RW = 01 on
// writes, RW = 11 on reads and writes; LEN 1, 2, 8 or 4 bytes, aligned.
void InterpCpu::note_data_access(uint64_t lin, unsigned n, bool write) {
  const uint64_t dr7 = s.dr[7];
  for (unsigned i = 0; i < 4; ++i) {
    if (!((data_bp_ >> i) & 1)) continue;
    const unsigned rw = (dr7 >> (16 + 4 * i)) & 3, len_code = (dr7 >> (18 + 4 * i)) & 3;
    if (rw == 1 && !write) continue;
    const uint64_t len = len_code == 0 ? 1 : len_code == 1 ? 2 : len_code == 2 ? 8 : 4;
    const uint64_t start = s.dr[i] & ~(len - 1);
    if (lin < start + len && start < lin + n) data_hits |= uint8_t(1u << i);
  }
}

// A debugger's watchpoint the access touches: noted for the trap that ends
// the instruction (the first one it touched).
void InterpCpu::note_debugger_access(uint64_t lin, unsigned n, bool write) {
  core::DebugTraps* traps = env_.debug_traps;
  if (!traps || traps->watch_hit) return;
  for (const core::DebugTraps::Watch& w : traps->watches) {
    if (w.kind == core::DebugTraps::kWatchWrite && !write) continue;
    if (w.kind == core::DebugTraps::kWatchRead && write) continue;
    if (lin < w.address + w.length && w.address < lin + n) {
      traps->watch_hit = core::DebugTraps::WatchHit{std::max(lin, w.address), w.kind};
      exit_block = true;
      return;
    }
  }
}

// Marks the I/O breakpoints an access to ports [port, port + n) hits (the
// port range of DRn is LEN bytes from DRn, aligned).
void InterpCpu::note_io_access(uint16_t port, unsigned n) {
  const uint64_t dr7 = s.dr[7];
  for (unsigned i = 0; i < 4; ++i) {
    if (!((io_bp_ >> i) & 1)) continue;
    const unsigned len_code = (dr7 >> (18 + 4 * i)) & 3;
    const uint64_t len = len_code == 0 ? 1 : len_code == 1 ? 2 : len_code == 2 ? 8 : 4;
    const uint64_t start = (s.dr[i] & 0xffff) & ~(len - 1);
    if (port < start + len && start < uint64_t(port) + n) data_hits |= uint8_t(1u << i);
  }
}

void InterpCpu::invlpg(uint64_t linear) {
  tlb_.flush_page(linear);
  blocks_.flush_jump_cache();
}

bool InterpCpu::check_alignment(uint64_t lin, unsigned n, Privilege& who) {
  if (who != kUserAligned) return true;
  who = kUser;
  if (lin & (n - 1)) return fail(*this, vec::kAc, 0);
  return true;
}

bool InterpCpu::translate(uint64_t lin, Access access, Privilege who, uint64_t& phys, uint8_t*& host) {
  TlbEntry& e = tlb_.entry(who, lin);
  uint64_t page = lin & kPageMask;
  uint8_t need = access == Access::kRead ? perm::kRead : access == Access::kWrite ? perm::kWrite : perm::kFetch;
  // Every write comes here at least once a page after the dirty log is
  // cleared (which drops the write mappings): the footprint sees them all.
  if (access == Access::kWrite) footprint.add_write(lin);
  if (e.vpage != page || !(e.perms & need)) {
    uint64_t ppage;
    uint8_t perms;
    bool global = false;
    if (!s.paging()) {
      ppage = page;
      perms = perm::kRead | perm::kWrite | perm::kFetch;
    } else {
      const PteWriter writer{this, [](void* self, uint64_t phys, uint64_t v, unsigned size) {
                               static_cast<InterpCpu*>(self)->write_pte(phys, v, size);
                             }};
      WalkResult w = page_walk(*env_.memory, s, lin, access, who, &writer);
      if (!w.ok) {
        s.cr2 = lin;
        return fail(*this, vec::kPf, w.error_code);
      }
      ppage = w.phys & kPageMask;
      perms = w.perms;
      global = w.global;
      if (w.large) tlb_.note_large_page();
    }
    if (e.vpage != page || e.ppage != ppage) {
      bool writable = false;
      const uint8_t* host = env_.memory->readable_pointer(ppage, kPageSize, writable);
      e = TlbEntry{SoftmmuTlb::kNoTag, SoftmmuTlb::kNoTag, SoftmmuTlb::kNoTag, page,      ppage,
                   const_cast<uint8_t*>(host), 0,   global, host && !writable};
    }
    e.perms |= perms;
    e.global = e.global && global;  // a walk that found it not global is the newer truth
  }
  if (e.host) {
    // With a data breakpoint armed, every data access stays slow (checked).
    if ((e.perms & perm::kRead) && !slow_data()) e.read_tag = page;
    // A writable mapping is installed only by a write, and marks its page in
    // the dirty log: every later write through it is then already logged.
    if (access == Access::kWrite && (e.perms & perm::kWrite) && !e.read_only && !is_code_page(e.ppage) && !slow_data()) {
      e.write_tag = page;
      if (env_.dirty_log) env_.dirty_log->mark(e.host, kPageSize);
    }
    if (e.perms & perm::kFetch) e.fetch_tag = page;
  }
  phys = e.ppage | (lin & ~kPageMask);
  // A write to ROM goes to the address space, which drops it.
  host = e.host && !(access == Access::kWrite && e.read_only) ? e.host + (lin & ~kPageMask) : nullptr;
  return true;
}

// An accessed/dirty-bit update of the page walker: a write to guest memory
// like a store's (logged, and code translated from the page dropped).
void InterpCpu::write_pte(uint64_t phys, uint64_t v, unsigned n) {
  if (uint8_t* host = env_.memory->ram_pointer(phys, n)) {
    store_ram(phys, host, v, n);
    return;
  }
  env_.memory->write(phys, v, n);
}

bool InterpCpu::store_ram(uint64_t phys, uint8_t* host, uint64_t v, unsigned n) {
  // Only a write to the bytes of a decoded instruction drops blocks: data
  // next to code costs the slow path, nothing more.
  const bool dropped = blocks_.invalidate_range(phys, n);
  if (dropped) exit_block = true;  // the running block may be among them
  if (peers_) peers_->invalidate(phys, n, this);
  std::memcpy(host, &v, n);
  if (env_.dirty_log) env_.dirty_log->mark(host, n);
  return dropped;
}

bool InterpCpu::translate_fetch(uint64_t lin, uint64_t& phys, uint8_t*& host) {
  // Every branch checks its target, so only running off the end of the
  // lower half reaches a non-canonical RIP: the fetch faults.
  if (mode_ == DecodeMode::k64 && !canonical(lin)) return fail(*this, vec::kGp, 0);
  TlbEntry& e = tlb_.entry(fetch_, lin);
  if (e.fetch_tag == (lin & kPageMask)) {
    phys = e.ppage | (lin & ~kPageMask);
    host = e.host + (lin & ~kPageMask);
    return true;
  }
  return translate(lin, Access::kFetch, fetch_, phys, host);
}

bool InterpCpu::read_slow(uint64_t lin, unsigned n, Privilege who, uint64_t& v) {
  if (!check_alignment(lin, n, who)) return false;
  if (data_bp_) note_data_access(lin, n, false);
  if (debugger_watch_) note_debugger_access(lin, n, false);
  if ((lin & ~kPageMask) + n > kPageSize) {
    // Crosses a page: byte by byte, each with its own translation.
    uint64_t r = 0;
    for (unsigned i = 0; i < n; ++i) {
      uint64_t b;
      if (!read_slow(truncate(lin + i), 1, who, b)) return false;
      r |= b << (8 * i);
    }
    v = r;
    return true;
  }
  uint64_t phys;
  uint8_t* host;
  if (!translate(lin, Access::kRead, who, phys, host)) return false;
  if (host) {
    v = 0;
    std::memcpy(&v, host, n);
    return true;
  }
  // A device that saw the access may have raised a line or asked to stop:
  // end the block. Unassigned memory has no one to see it, and ending a block
  // at each such access would start a new cached block at every instruction.
  if (env_.memory->reaches_device(phys, n)) exit_block = true;
  v = env_.memory->read(phys, n);
  return true;
}

bool InterpCpu::write_slow(uint64_t lin, unsigned n, Privilege who, uint64_t v) {
  if (!check_alignment(lin, n, who)) return false;
  if (data_bp_) note_data_access(lin, n, true);
  if (debugger_watch_) note_debugger_access(lin, n, true);
  if ((lin & ~kPageMask) + n > kPageSize) {
    // Both pages must be writable before any byte is stored.
    uint64_t phys;
    uint8_t* host;
    uint64_t second = truncate((lin | ~kPageMask) + 1);
    if (!translate(lin, Access::kWrite, who, phys, host) || !translate(second, Access::kWrite, who, phys, host))
      return false;
    for (unsigned i = 0; i < n; ++i)
      if (!write_slow(truncate(lin + i), 1, who, (v >> (8 * i)) & 0xff)) return false;
    return true;
  }
  uint64_t phys;
  uint8_t* host;
  if (!translate(lin, Access::kWrite, who, phys, host)) return false;
  if (host) {
    const uint64_t ppage = phys & kPageMask;
    const bool code_page = is_code_page(ppage);
    store_ram(phys, host, v, n);
    if (code_page && !is_code_page(ppage)) {
      // Its last block is gone: the page's writes may take the fast path again.
      TlbEntry& e = tlb_.entry(who, lin);
      if ((e.perms & perm::kWrite) && !slow_data()) e.write_tag = lin & kPageMask;
    }
    return true;
  }
  if (env_.memory->reaches_device(phys, n)) exit_block = true;
  env_.memory->write(phys, v, n);
  return true;
}

bool InterpCpu::check_write(int seg, uint64_t off, unsigned n) {
  uint64_t lin;
  if (!to_linear(seg, off, n, true, lin)) return false;
  return probe_write(lin, n, data_access<false>());
}

bool InterpCpu::check_read(int seg, uint64_t off, unsigned n) {
  uint64_t lin, phys;
  uint8_t* host;
  if (!to_linear(seg, off, n, false, lin)) return false;
  const Privilege who = data_access<false>();
  if (!translate(lin, Access::kRead, who, phys, host)) return false;
  uint64_t last = truncate(lin + n - 1);
  if ((last & kPageMask) != (lin & kPageMask)) return translate(last & kPageMask, Access::kRead, who, phys, host);
  return true;
}

bool InterpCpu::probe_write(uint64_t lin, unsigned n, Privilege who) {
  uint64_t phys;
  uint8_t* host;
  if (!translate(lin, Access::kWrite, who, phys, host)) return false;
  // A fault on the second page names its first byte (CR2), as on silicon.
  uint64_t last = truncate(lin + n - 1);
  if ((last & kPageMask) != (lin & kPageMask)) return translate(last & kPageMask, Access::kWrite, who, phys, host);
  return true;
}

uint32_t InterpCpu::io_in(uint16_t port, unsigned n) {
  exit_block = true;
  if (io_bp_) note_io_access(port, n);
  return uint32_t(env_.io->read(port, n));
}

void InterpCpu::io_out(uint16_t port, unsigned n, uint32_t v) {
  exit_block = true;
  if (io_bp_) note_io_access(port, n);
  env_.io->write(port, v, n);
}

void InterpCpu::unimplemented(const DecodedInsn& d) {
  char where[64];
  uint64_t rip = s.rip - d.length;
  std::snprintf(where, sizeof where, "%04x:%016llx", unsigned(s.seg[kSegCs].selector),
                static_cast<unsigned long long>(rip));
  if (env_.run_control) {
    std::string key = std::string("no semantics for ") + form_name(d.form);
    env_.run_control->warn_once(key, key + " (" + describe_encoding(d) + ") at " + where + ": raising #UD");
  }
}

void InterpCpu::unimplemented_feature(const char* what) {
  char where[64];
  std::snprintf(where, sizeof where, "%04x:%016llx", unsigned(s.seg[kSegCs].selector),
                static_cast<unsigned long long>(s.rip));
  if (env_.run_control) {
    std::string key = std::string("not implemented: ") + what;
    env_.run_control->warn_once(key, key + " near " + where);
  }
}

bool CodePeers::is_code_page(uint64_t ppage) const {
  for (const InterpCpu* cpu : cpus_)
    if (cpu->blocks().is_code_page(ppage)) return true;
  return false;
}

void CodePeers::protect(uint64_t ppage, const InterpCpu* from) {
  for (InterpCpu* cpu : cpus_)
    if (cpu != from) cpu->tlb().protect_code_page(ppage);
}

void CodePeers::invalidate(uint64_t paddr, uint64_t len, const InterpCpu* from) {
  // The others are between turns: their blocks can go (a dropped block also
  // bumps their epoch, so none resumes inside one).
  for (InterpCpu* cpu : cpus_)
    if (cpu != from) cpu->blocks().invalidate_range(paddr, len);
}

}  // namespace rwd::tcg
