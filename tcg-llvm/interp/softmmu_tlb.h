// The softmmu TLB: guest-linear page -> host pointer, one direct-mapped table
// per kind of access (Privilege below), with separate read / write / fetch
// tags so the fast path of an access is one compare. A tag only matches when
// the access is allowed without further work: write tags also require the
// page-table D bit already set and the page to hold no predecoded code;
// MMIO pages never get a fast tag. Everything else takes the slow path in
// InterpCpu, which walks the page tables (page_walk below) and refills.
//
// Like a hardware TLB it keeps translations until they are invalidated:
// global ones (G with CR4.PGE) survive CR3 writes, and with CR4.PCIDE a CR3
// write with bit 63 set to the same PCID keeps them all. Entries are those
// of the current PCID only: a switch to another PCID drops the non-global
// ones, which the architecture allows at any time.
#pragma once

#include <cstdint>

#include "core/x86_cpu_state.h"

namespace rwd::core {
class AddressSpace;
}

namespace rwd::tcg {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kPageMask = ~(kPageSize - 1);

enum class Access : uint8_t { kRead, kWrite, kFetch };

// Who accesses, which decides the permission checks (SDM Vol. 3 §4.6) and so
// the table. kSupervisorSmap is a supervisor data access that CR4.SMAP bars
// from user pages (SMAP on, and CPL 3 or EFLAGS.AC clear); kUserAligned is a
// CPL-3 data access with alignment checking on (CR0.AM and EFLAGS.AC): its
// table never holds a tag, so every such access takes the slow path, which
// checks the alignment and translates as kUser. Fetches use kSupervisor or
// kUser (SMEP is a fetch permission).
enum Privilege : uint8_t { kSupervisor, kSupervisorSmap, kUser, kUserAligned, kPrivilegeCount };

namespace perm {
inline constexpr uint8_t kRead = 1, kWrite = 2, kFetch = 4;
}

struct TlbEntry {
  uint64_t read_tag;   // linear page, or kNoTag
  uint64_t write_tag;
  uint64_t fetch_tag;
  uint64_t vpage;      // the translation this entry caches (slow path), or kNoTag
  uint64_t ppage;
  uint8_t* host;       // host address of the page; nullptr for MMIO / unassigned
  uint8_t perms;       // perm:: bits granted by the page tables (write: D already set)
  bool global;         // G set with CR4.PGE: kept across CR3 writes
  bool read_only;      // host is ROM: writes take the slow path (and are dropped)
};

class SoftmmuTlb {
 public:
  static constexpr unsigned kSize = 512;
  static constexpr uint64_t kNoTag = 1;  // never equal to a page-aligned address

  SoftmmuTlb() { flush(); }

  TlbEntry& entry(Privilege p, uint64_t linear) { return entries_[p][(linear >> 12) & (kSize - 1)]; }

  // Everything (CR4 changes, INVPCID all-context), or all but the global
  // translations (CR3 writes).
  void flush();
  void flush_non_global();
  // INVLPG: one page, global or not, or everything when large pages were
  // cached (their 4 KiB pieces sit in several entries).
  void flush_page(uint64_t linear);
  // A page now holds predecoded code: writes to it must take the slow path.
  void protect_code_page(uint64_t ppage);
  // Every write must take the slow path (and be logged) again.
  void drop_write_mappings();
  void note_large_page() { large_pages_ = true; }

 private:
  TlbEntry entries_[kPrivilegeCount][kSize];
  bool large_pages_ = false;
};

// Result of a page walk for one access.
struct WalkResult {
  bool ok = false;
  uint64_t phys = 0;        // physical address of the accessed byte
  uint8_t perms = 0;        // perm:: bits the same privilege may use without a new walk
  bool large = false;       // mapped by a 2 MiB / 4 MiB / 1 GiB page
  bool global = false;      // G in the final entry, with CR4.PGE
  uint32_t error_code = 0;  // #PF error code when !ok
};

// Where a walk's accessed/dirty-bit updates go: a CPU access writes them as
// guest memory writes like any other (the caller logs them in the dirty log
// and drops code translated from that page); a debugger's walk passes none
// and leaves memory alone.
struct PteWriter {
  void* context;
  void (*write)(void* context, uint64_t phys, uint64_t value, unsigned size);
};

// Walks 32-bit (4 KiB + PSE 4 MiB), PAE or 4-level long-mode page tables in
// guest-physical memory, setting A bits on the way and D on a write through
// `writer` (nullptr: no side effects), and checks the access of `who`
// (kUserAligned checks as kUser): U/S, R/W with CR0.WP, NX, SMEP and SMAP.
WalkResult page_walk(core::AddressSpace& memory, const core::X86CpuState& s, uint64_t linear, Access access,
                     Privilege who, const PteWriter* writer);

}  // namespace rwd::tcg
