#include "core/memory.h"

#include "core/dirty_log.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>

namespace rwd::core {

namespace {

uint64_t all_ones(unsigned size) { return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1; }

uint64_t load_le(const uint8_t* p, unsigned size) {
  uint64_t v = 0;
  std::memcpy(&v, p, size);  // x86 hosts are little-endian, like the guest
  return v;
}

void store_le(uint8_t* p, uint64_t v, unsigned size) { std::memcpy(p, &v, size); }

}  // namespace

AddressSpace::AddressSpace(std::string name, uint64_t size) : name_(std::move(name)), size_(size) {}

void AddressSpace::add_ram(std::string name, uint64_t base, uint64_t size, uint8_t* host, int priority,
                           DirtyLog* dirty_log) {
  add_region(Region{std::move(name), base, size, priority, host, dirty_log, nullptr, {}});
}

void AddressSpace::add_io(std::string name, uint64_t base, uint64_t size, RegionOps* ops,
                          AccessRules rules, int priority) {
  add_region(Region{std::move(name), base, size, priority, nullptr, nullptr, ops, rules});
}

void AddressSpace::add_rom(std::string name, uint64_t base, uint64_t size, const uint8_t* host, int priority) {
  Region region{std::move(name), base, size, priority, const_cast<uint8_t*>(host), nullptr, nullptr, {}};
  region.read_only = true;  // `ram` is never written through
  add_region(std::move(region));
}

void AddressSpace::add_alias(std::string name, uint64_t base, uint64_t size, const std::string& target,
                             uint64_t target_offset, int priority) {
  auto it = std::find_if(regions_.begin(), regions_.end(), [&](const auto& r) { return r->name == target; });
  if (it == regions_.end()) throw std::invalid_argument("alias '" + name + "': no region '" + target + "'");
  const Region& t = **it;
  if (target_offset > t.size || size > t.size - target_offset)
    throw std::invalid_argument("alias '" + name + "' runs past the end of '" + target + "'");
  Region region = t;
  region.name = std::move(name);
  region.base = base;
  region.size = size;
  region.priority = priority;
  if (region.ram) region.ram += target_offset;
  else region.ops_offset += target_offset;
  add_region(std::move(region));
}

void AddressSpace::add_region(Region region) {
  regions_.push_back(std::make_unique<Region>(std::move(region)));
  if (!batch_depth_) rebuild_flat_view();
}

void AddressSpace::remove(const std::string& name) {
  std::erase_if(regions_, [&](const auto& r) { return r->name == name; });
  if (!batch_depth_) rebuild_flat_view();
}

void AddressSpace::end_batch() {
  if (batch_depth_ && --batch_depth_ == 0) rebuild_flat_view();
}

// A sweep over the regions' boundaries: between two consecutive boundaries
// the covering region of highest priority wins (among equal priorities the
// one added last). O(R log R), so a machine with thousands of regions builds
// in milliseconds.
void AddressSpace::rebuild_flat_view() {
  std::vector<const Region*> order;
  for (const auto& r : regions_)
    if (r->size) order.push_back(r.get());
  std::stable_sort(order.begin(), order.end(),
                   [](const Region* a, const Region* b) { return a->priority < b->priority; });
  // rank = index in `order`: a larger rank wins.
  struct Edge {
    uint64_t at;
    bool opens;
    size_t rank;
  };
  std::vector<Edge> edges;
  edges.reserve(order.size() * 2);
  for (size_t rank = 0; rank < order.size(); ++rank) {
    const Region* r = order[rank];
    uint64_t last = r->base + (r->size - 1);
    edges.push_back({r->base, true, rank});
    if (last != ~0ull) edges.push_back({last + 1, false, rank});
  }
  std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) { return a.at < b.at; });
  std::set<size_t> active;
  std::vector<FlatRange> flat;
  for (size_t i = 0; i < edges.size();) {
    uint64_t at = edges[i].at;
    for (; i < edges.size() && edges[i].at == at; ++i) {
      if (edges[i].opens) active.insert(edges[i].rank);
      else active.erase(edges[i].rank);
    }
    if (active.empty()) continue;
    // Up to the next boundary, or the end of the address space.
    uint64_t last = i < edges.size() ? edges[i].at - 1 : ~0ull;
    const Region* winner = order[*active.rbegin()];
    uint64_t offset = at - winner->base;
    if (!flat.empty() && flat.back().region == winner && flat.back().last + 1 == at) {
      flat.back().last = last;
    } else {
      flat.push_back({at, last, winner, offset});
    }
  }
  flat_ = std::move(flat);
  if (on_map_change_) on_map_change_();
}

const FlatRange* AddressSpace::lookup(uint64_t addr) const {
  auto it = std::upper_bound(flat_.begin(), flat_.end(), addr,
                             [](uint64_t a, const FlatRange& f) { return a < f.start; });
  if (it == flat_.begin()) return nullptr;
  --it;
  return addr <= it->last ? &*it : nullptr;
}

bool AddressSpace::overlaps_mapping(uint64_t addr, unsigned size) const {
  for (unsigned i = 0; i < size; ++i)
    if (lookup(addr + i)) return true;
  return false;
}

bool AddressSpace::reaches_device(uint64_t addr, unsigned size) const {
  for (unsigned i = 0; i < size; ++i) {
    const FlatRange* f = lookup(addr + i);
    if (f && f->region->ops) return true;
    if (f) i += unsigned(std::min<uint64_t>(f->last - (addr + i), size));  // rest of this range
  }
  return false;
}

uint8_t* AddressSpace::ram_pointer(uint64_t addr, uint64_t len) const {
  bool writable = false;
  const uint8_t* p = readable_pointer(addr, len, writable);
  return writable ? const_cast<uint8_t*>(p) : nullptr;
}

const uint8_t* AddressSpace::readable_pointer(uint64_t addr, uint64_t len, bool& writable) const {
  writable = false;
  const FlatRange* f = lookup(addr);
  if (!f || !f->region->ram || len == 0) return nullptr;
  if (len - 1 > f->last - addr) return nullptr;
  writable = !f->region->read_only;
  return f->region->ram + f->region_offset + (addr - f->start);
}

uint64_t AddressSpace::read(uint64_t addr, unsigned size) {
  const FlatRange* f = lookup(addr);
  if (f && size - 1 <= f->last - addr) {
    if (f->region->ram) return load_le(f->region->ram + f->region_offset + (addr - f->start), size);
    return dispatch_read(*f, addr, size);
  }
  if (!f && !overlaps_mapping(addr, size)) {
    // Entirely unmapped: bus float.
    ++stats_.unassigned_reads;
    return all_ones(size);
  }
  // Straddles a range boundary: assemble byte by byte, each byte by its own rules.
  uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= read(addr + i, 1) << (8 * i);
  return v;
}

void AddressSpace::write(uint64_t addr, uint64_t value, unsigned size) {
  const FlatRange* f = lookup(addr);
  if (f && size - 1 <= f->last - addr) {
    if (f->region->read_only) {
      ++stats_.rom_writes;
      return;
    }
    if (f->region->ram) {
      uint8_t* host = f->region->ram + f->region_offset + (addr - f->start);
      store_le(host, value, size);
      if (f->region->dirty_log) f->region->dirty_log->mark(host, size);
      if (on_ram_write_) on_ram_write_(addr, size);
      return;
    }
    dispatch_write(*f, addr, value, size);
    return;
  }
  if (!f && !overlaps_mapping(addr, size)) {
    ++stats_.unassigned_writes;
    return;
  }
  for (unsigned i = 0; i < size; ++i) write(addr + i, (value >> (8 * i)) & 0xff, 1);
}

uint64_t AddressSpace::dispatch_read(const FlatRange& f, uint64_t addr, unsigned size) {
  const AccessRules& rules = f.region->rules;
  uint64_t offset = f.region->ops_offset + f.region_offset + (addr - f.start);
  if (size < rules.valid_min || size > rules.valid_max ||
      (!rules.unaligned_ok && (offset & (size - 1)))) {
    ++stats_.refused_reads;
    return all_ones(size);
  }
  RegionOps* ops = f.region->ops;
  if (size < rules.impl_min) {
    // Widen to the aligned impl_min-sized word(s) holding the bytes: an
    // unaligned access may straddle two of them.
    unsigned wide = rules.impl_min;
    uint64_t v = 0;
    for (unsigned done = 0; done < size;) {
      uint64_t aligned = (offset + done) & ~uint64_t(wide - 1);
      unsigned skip = static_cast<unsigned>(offset + done - aligned);
      unsigned n = std::min(size - done, wide - skip);
      uint64_t word = ops->read(aligned, wide);
      v |= ((word >> (8 * skip)) & all_ones(n)) << (8 * done);
      done += n;
    }
    return v;
  }
  if (size > rules.impl_max) {
    uint64_t v = 0;
    for (unsigned done = 0; done < size; done += rules.impl_max)
      v |= (ops->read(offset + done, rules.impl_max) & all_ones(rules.impl_max)) << (8 * done);
    return v;
  }
  return ops->read(offset, size) & all_ones(size);
}

void AddressSpace::dispatch_write(const FlatRange& f, uint64_t addr, uint64_t value, unsigned size) {
  const AccessRules& rules = f.region->rules;
  uint64_t offset = f.region->ops_offset + f.region_offset + (addr - f.start);
  if (size < rules.valid_min || size > rules.valid_max ||
      (!rules.unaligned_ok && (offset & (size - 1)))) {
    ++stats_.refused_writes;
    return;
  }
  RegionOps* ops = f.region->ops;
  value &= all_ones(size);
  if (size < rules.impl_min) {
    // Read-modify-write of the narrowest access the device implements, word
    // by word when an unaligned access straddles two of them.
    unsigned wide = rules.impl_min;
    for (unsigned done = 0; done < size;) {
      uint64_t aligned = (offset + done) & ~uint64_t(wide - 1);
      unsigned skip = static_cast<unsigned>(offset + done - aligned);
      unsigned n = std::min(size - done, wide - skip);
      uint64_t mask = all_ones(n) << (8 * skip);
      uint64_t piece = ((value >> (8 * done)) & all_ones(n)) << (8 * skip);
      uint64_t old = ops->read(aligned, wide) & all_ones(wide);
      ops->write(aligned, (old & ~mask) | piece, wide);
      done += n;
    }
    return;
  }
  if (size > rules.impl_max) {
    for (unsigned done = 0; done < size; done += rules.impl_max)
      ops->write(offset + done, (value >> (8 * done)) & all_ones(rules.impl_max), rules.impl_max);
    return;
  }
  ops->write(offset, value, size);
}

void AddressSpace::read_bytes(uint64_t addr, void* dst, uint64_t len) {
  auto* out = static_cast<uint8_t*>(dst);
  while (len) {
    const FlatRange* f = lookup(addr);
    if (f && f->region->ram) {
      uint64_t chunk = std::min<uint64_t>(len, f->last - addr + 1);
      if (chunk == 0) chunk = len;  // range reaching 2^64-1 with len overflow
      std::memcpy(out, f->region->ram + f->region_offset + (addr - f->start), chunk);
      out += chunk;
      addr += chunk;
      len -= chunk;
    } else {
      *out++ = static_cast<uint8_t>(read(addr++, 1));
      --len;
    }
  }
}

void AddressSpace::write_bytes(uint64_t addr, const void* src, uint64_t len) {
  auto* in = static_cast<const uint8_t*>(src);
  while (len) {
    const FlatRange* f = lookup(addr);
    if (f && f->region->ram && !f->region->read_only) {
      uint64_t chunk = std::min<uint64_t>(len, f->last - addr + 1);
      if (chunk == 0) chunk = len;
      uint8_t* host = f->region->ram + f->region_offset + (addr - f->start);
      std::memcpy(host, in, chunk);
      if (f->region->dirty_log) f->region->dirty_log->mark(host, chunk);
      if (on_ram_write_) on_ram_write_(addr, chunk);
      in += chunk;
      addr += chunk;
      len -= chunk;
    } else {
      write(addr++, *in++, 1);
      --len;
    }
  }
}

}  // namespace rwd::core
