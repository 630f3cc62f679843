// The memory API: RAM, MMIO and port-I/O regions placed in an address space,
// flattened into a sorted list of ranges for dispatch. Devices see (offset, size)
// within their own region, never an absolute address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rwd::core {

class DirtyLog;

// A device's register file. Called with offsets relative to the region start
// and sizes the region's AccessRules allow (1, 2, 4 or 8 bytes).
class RegionOps {
 public:
  virtual ~RegionOps() = default;
  virtual uint64_t read(uint64_t offset, unsigned size) = 0;
  virtual void write(uint64_t offset, uint64_t value, unsigned size) = 0;
};

// Access-size rules of a region, in the spirit of real buses:
//  - an access outside [valid_min, valid_max] (or unaligned when !unaligned_ok)
//    is refused: reads give all-ones, writes are dropped, and it is counted;
//  - an accepted access wider than impl_max is split into impl_max-sized pieces
//    (little-endian), one narrower than impl_min is widened and masked, so the
//    device only ever sees sizes in [impl_min, impl_max].
struct AccessRules {
  uint8_t valid_min = 1;
  uint8_t valid_max = 8;
  bool unaligned_ok = true;
  uint8_t impl_min = 1;
  uint8_t impl_max = 8;
};

// One region placed in an address space.
struct Region {
  std::string name;
  uint64_t base = 0;
  uint64_t size = 0;
  int priority = 0;          // higher wins where regions overlap
  uint8_t* ram = nullptr;    // RAM / ROM: host memory backing [base, base+size)
  DirtyLog* dirty_log = nullptr;  // RAM: where writes through this space are logged
  RegionOps* ops = nullptr;  // MMIO / PIO: the device
  AccessRules rules;
  bool read_only = false;    // ROM: reads from `ram`, writes dropped (counted)
  uint64_t ops_offset = 0;   // an alias of part of a device: added to the offsets it sees
};

// A piece of the flattened view: [start, end] maps to region at region_offset.
struct FlatRange {
  uint64_t start;
  uint64_t last;             // inclusive, so a range may end at 2^64-1
  const Region* region;
  uint64_t region_offset;    // offset within region of `start`
};

struct AccessStats {
  uint64_t unassigned_reads = 0;
  uint64_t unassigned_writes = 0;
  uint64_t refused_reads = 0;    // broke a region's AccessRules
  uint64_t refused_writes = 0;
  uint64_t rom_writes = 0;       // dropped: the bytes are read-only
};

// An address space (system memory, or the 64 KiB port-I/O space). Regions are
// added at machine build time; the flat view is rebuilt on each change (rare:
// board build, PCI BAR moves) or once per batch, lookups are a binary search.
class AddressSpace {
 public:
  AddressSpace(std::string name, uint64_t size);

  void add_ram(std::string name, uint64_t base, uint64_t size, uint8_t* host, int priority = 0,
               DirtyLog* dirty_log = nullptr);
  void add_io(std::string name, uint64_t base, uint64_t size, RegionOps* ops,
              AccessRules rules = {}, int priority = 0);
  // Read-only memory: code and data read from `host`, writes dropped.
  void add_rom(std::string name, uint64_t base, uint64_t size, const uint8_t* host, int priority = 0);
  // [base, base+size) shows the region named `target` from `target_offset`
  // on: the same bytes (RAM, ROM) or the same device, under another address.
  // Throws std::invalid_argument when there is no such region or the alias
  // would run past its end.
  void add_alias(std::string name, uint64_t base, uint64_t size, const std::string& target, uint64_t target_offset,
                 int priority = 0);
  void remove(const std::string& name);

  // Many changes at once (a board mapping its devices): the flat view is
  // rebuilt once, when the outermost batch ends.
  void begin_batch() { ++batch_depth_; }
  void end_batch();
  class Batch {
   public:
    explicit Batch(AddressSpace& space) : space_(space) { space_.begin_batch(); }
    ~Batch() { space_.end_batch(); }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

   private:
    AddressSpace& space_;
  };

  // The range covering addr, or nullptr when nothing is mapped there.
  const FlatRange* lookup(uint64_t addr) const;
  // Host pointer for [addr, addr+len) when it lies entirely in one RAM region
  // (writable: ROM is not included).
  uint8_t* ram_pointer(uint64_t addr, uint64_t len) const;
  // The same for reading: RAM or ROM; `writable` tells which.
  const uint8_t* readable_pointer(uint64_t addr, uint64_t len, bool& writable) const;
  // True when an access to [addr, addr+size) would reach a device (an MMIO or
  // port region), not only RAM or nothing.
  bool reaches_device(uint64_t addr, unsigned size) const;

  // Accesses of 1, 2, 4 or 8 bytes; little-endian. Never fail: unmapped reads
  // return all-ones, unmapped writes are dropped, both counted in stats().
  uint64_t read(uint64_t addr, unsigned size);
  void write(uint64_t addr, uint64_t value, unsigned size);
  // Bulk copies (loaders, DMA); bytes outside RAM follow read()/write() rules.
  void read_bytes(uint64_t addr, void* dst, uint64_t len);
  void write_bytes(uint64_t addr, const void* src, uint64_t len);

  // Listeners (the machine, for its vCPUs' block caches and TLBs): a RAM
  // write through this space -- a loader, a device's DMA; vCPUs write RAM
  // through their own host pointers -- and a change of the map.
  using RamWriteListener = std::function<void(uint64_t addr, uint64_t len)>;
  void set_ram_write_listener(RamWriteListener listener) { on_ram_write_ = std::move(listener); }
  void set_map_listener(std::function<void()> listener) { on_map_change_ = std::move(listener); }

  const std::string& name() const { return name_; }
  uint64_t size() const { return size_; }
  const AccessStats& stats() const { return stats_; }
  const std::vector<FlatRange>& flat_view() const { return flat_; }

 private:
  void add_region(Region region);
  void rebuild_flat_view();
  bool overlaps_mapping(uint64_t addr, unsigned size) const;
  uint64_t dispatch_read(const FlatRange& r, uint64_t addr, unsigned size);
  void dispatch_write(const FlatRange& r, uint64_t addr, uint64_t value, unsigned size);

  std::string name_;
  uint64_t size_;
  std::vector<std::unique_ptr<Region>> regions_;
  std::vector<FlatRange> flat_;
  AccessStats stats_;
  unsigned batch_depth_ = 0;
  RamWriteListener on_ram_write_;
  std::function<void()> on_map_change_;
};

}  // namespace rwd::core
