#include "tcg-llvm/interp/softmmu_tlb.h"

#include <cstring>

#include "core/memory.h"

namespace rwd::tcg {

namespace {
constexpr TlbEntry kEmpty{SoftmmuTlb::kNoTag, SoftmmuTlb::kNoTag, SoftmmuTlb::kNoTag, SoftmmuTlb::kNoTag, 0, nullptr, 0,
                          false, false};
}  // namespace

void SoftmmuTlb::flush() {
  for (auto& table : entries_)
    for (TlbEntry& e : table) e = kEmpty;
  large_pages_ = false;
}

void SoftmmuTlb::flush_non_global() {
  bool large_left = false;
  for (auto& table : entries_)
    for (TlbEntry& e : table) {
      if (!e.global) e = kEmpty;
      else large_left = true;  // whether one of them is large is not kept: assume so
    }
  large_pages_ = large_pages_ && large_left;
}

void SoftmmuTlb::flush_page(uint64_t linear) {
  if (large_pages_) {
    flush();
    return;
  }
  uint64_t page = linear & kPageMask;
  for (auto& table : entries_) {
    TlbEntry& e = table[(linear >> 12) & (kSize - 1)];
    if (e.vpage == page) e = kEmpty;
  }
}

void SoftmmuTlb::drop_write_mappings() {
  for (auto& table : entries_)
    for (TlbEntry& e : table) e.write_tag = kNoTag;
}

void SoftmmuTlb::protect_code_page(uint64_t ppage) {
  for (auto& table : entries_)
    for (TlbEntry& e : table)
      if (e.vpage != kNoTag && e.ppage == ppage) e.write_tag = kNoTag;
}

namespace {

constexpr uint64_t kP = 1, kRw = 2, kUs = 4, kA = 0x20, kD = 0x40, kPs = 0x80, kG = 0x100;
constexpr uint64_t kNx = 1ull << 63;
constexpr uint64_t kAddr = 0x000ffffffffff000ull;
// Address bits above MAXPHYADDR (40, CPUID 0x80000008) are reserved in PAE
// and 4-level entries.
constexpr uint64_t kAboveMaxPhys = 0x000fff0000000000ull;

// Page-table entries live in guest-physical memory (normally RAM).
struct PteAccess {
  core::AddressSpace& mem;
  uint64_t read(uint64_t addr, unsigned size) {
    bool writable;
    if (const uint8_t* p = mem.readable_pointer(addr, size, writable)) {
      uint64_t v = 0;
      std::memcpy(&v, p, size);
      return v;
    }
    return mem.read(addr, size);
  }
};

}  // namespace

WalkResult page_walk(core::AddressSpace& memory, const core::X86CpuState& s, uint64_t linear, Access access,
                     Privilege who, const PteWriter* writer) {
  WalkResult r;
  PteAccess pt{memory};
  const bool write = access == Access::kWrite, fetch = access == Access::kFetch;
  const bool user = who == kUser || who == kUserAligned;
  const bool nxe = s.efer & core::efer::kNxe;
  const bool pae = s.cr4 & core::cr4::kPae;
  const bool wp = s.cr0 & core::cr0::kWp;
  const bool smep = s.cr4 & core::cr4::kSmep;
  // I/D is reported only where fetches can be refused (SDM Vol. 3 §4.7).
  uint32_t err_base = (write ? 2u : 0u) | (user ? 4u : 0u) | (fetch && ((nxe && pae) || smep) ? 16u : 0u);

  // Up to four levels: addresses of the entries used, their size, and the AND/OR of permissions.
  uint64_t entry_addr[4];
  uint64_t entry_val[4];
  int levels = 0;
  unsigned esize = pae ? 8 : 4;
  bool rw_all = true, us_all = true, nx_any = false;
  uint64_t phys = 0;

  auto not_present = [&] { r.error_code = err_base; return r; };
  auto reserved = [&] { r.error_code = err_base | 1u | 8u; return r; };

  auto visit = [&](uint64_t addr, uint64_t& val) -> bool {
    val = pt.read(addr, esize);
    entry_addr[levels] = addr;
    entry_val[levels] = val;
    ++levels;
    return val & kP;
  };
  auto account = [&](uint64_t val) {
    rw_all = rw_all && (val & kRw);
    us_all = us_all && (val & kUs);
    nx_any = nx_any || (nxe && (val & kNx));
  };

  uint64_t v;
  if (!pae) {
    uint64_t pde_addr = (s.cr3 & 0xfffff000ull) + ((linear >> 22) & 0x3ff) * 4;
    if (!visit(pde_addr, v)) return not_present();
    account(v);
    if ((v & kPs) && (s.cr4 & core::cr4::kPse)) {
      phys = (v & 0xffc00000ull) | (((v >> 13) & 0xff) << 32) | (linear & 0x3fffff);
      r.large = true;
    } else {
      uint64_t pte_addr = (v & 0xfffff000ull) + ((linear >> 12) & 0x3ff) * 4;
      if (!visit(pte_addr, v)) return not_present();
      account(v);
      phys = (v & 0xfffff000ull) | (linear & 0xfff);
    }
  } else {
    uint64_t table;
    int level;
    if (s.long_mode_active()) {
      table = s.cr3 & kAddr;
      level = 4;
    } else {
      // PAE PDPTEs carry no permission bits; they are read at walk time here
      // (hardware caches them at CR3 load).
      uint64_t pdpte = pt.read((s.cr3 & 0xffffffe0ull) + ((linear >> 30) & 3) * 8, 8);
      if (!(pdpte & kP)) return not_present();
      table = pdpte & kAddr;
      level = 2;
    }
    for (; level >= 1; --level) {
      unsigned shift = 12 + 9 * (level - 1);
      if (!visit(table + ((linear >> shift) & 0x1ff) * 8, v)) return not_present();
      if ((!nxe && (v & kNx)) || (v & kAboveMaxPhys)) return reserved();
      // A large page's frame bits below its size (above the PAT bit) are reserved.
      if ((level == 2 || level == 3) && (v & kPs) && (v & (((1ull << shift) - 1) & ~0x1fffull))) return reserved();
      account(v);
      if (level == 4 && (v & kPs)) return reserved();
      if ((level == 2 || level == 3) && (v & kPs)) {
        uint64_t page_mask = (1ull << shift) - 1;
        phys = ((v & kAddr) & ~page_mask) | (linear & page_mask);
        r.large = true;
        break;
      }
      if (level == 1) phys = (v & kAddr) | (linear & 0xfff);
      table = v & kAddr;
    }
  }

  // Permissions for this privilege. A supervisor data access to a user page
  // is refused under SMAP (kSupervisorSmap), a supervisor fetch under SMEP.
  const bool smap_bars = who == kSupervisorSmap && us_all;
  bool can_write = user ? (rw_all && us_all) : (rw_all || !wp) && !smap_bars;
  bool can_read = user ? us_all : !smap_bars;
  bool can_fetch = (user ? us_all : !(smep && us_all)) && !nx_any;
  bool ok = fetch ? can_fetch : write ? can_write : can_read;
  if (!ok) {
    r.error_code = err_base | 1u;
    return r;
  }
  // Accessed on every level, dirty on the last one for writes.
  for (int i = 0; i < levels && writer; ++i) {
    uint64_t nv = entry_val[i] | kA;
    if (write && i == levels - 1) nv |= kD;
    if (nv != entry_val[i]) writer->write(writer->context, entry_addr[i], nv, esize);
  }
  bool dirty = (entry_val[levels - 1] & kD) || write;
  r.global = (entry_val[levels - 1] & kG) && (s.cr4 & core::cr4::kPge);
  r.ok = true;
  r.phys = phys;
  r.perms = (can_read ? perm::kRead : 0) | (can_write && dirty ? perm::kWrite : 0) | (can_fetch ? perm::kFetch : 0);
  return r;
}

}  // namespace rwd::tcg
