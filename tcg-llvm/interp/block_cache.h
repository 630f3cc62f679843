// Predecoded blocks: straight-line runs of decoded instructions, each with the
// handler chosen at decode time, cached by guest-physical address and code
// mode, plus a small jump cache from linear PC to block so the common lookup
// skips both the TLB and the hash table.
//
// Invalidation: a block lives in one physical page, except a block made of
// one instruction that straddles a page end, which also covers the first
// bytes of the next page (its second page's physical address is part of the
// block: a lookup that finds another translation there decodes afresh). The
// pages holding blocks are "code pages": the TLB never grants them a fast
// write tag, so every write to one reaches invalidate_range(). Each code
// page knows which of its bytes hold decoded instructions; a write that
// touches none of them (data next to code) drops nothing, one that does
// drops the blocks it overlaps. Dropped blocks are kept in a graveyard until
// the vCPU is between blocks, because the block being executed may be the
// one a store just dropped.
//
// Memory: the cache holds at most a budget of bytes (blocks, their
// instructions, the index, the code pages' byte maps). An insert that would
// pass it first drops every block, as QEMU flushes a full code buffer: a
// guest that keeps executing new code (or runs through memory where every
// instruction starts a block) costs bounded memory, and code that is really
// hot is decoded again at once.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tcg-llvm/decoder/decoded_insn.h"
#include "tcg-llvm/semantics/types.h"

namespace rwd::tcg {

class InterpCpu;
using Handler = Status (*)(InterpCpu&, const DecodedInsn&);

struct Insn {
  Handler handler;
  DecodedInsn d;
};

struct Block {
  static constexpr uint64_t kNoPage = ~0ull;
  uint64_t paddr = 0;        // of its first byte
  uint64_t paddr2 = kNoPage; // the second page of a page-straddling instruction
  uint16_t bytes = 0;        // bytes decoded in the first page, from paddr
  uint16_t bytes2 = 0;       // bytes decoded in the second page, from its start
  DecodeMode mode = DecodeMode::k32;
  uint32_t cache_bytes = 0;  // what it counts against the budget, set by insert()
  std::vector<Insn> insns;
  // Successor cache (block chaining): the blocks that followed this one at
  // these RIPs, valid while BlockCache::epoch() is unchanged (the epoch moves
  // on every translation flush, invalidation and CS/CPL/mode change).
  uint64_t next_epoch = 0;
  uint64_t next_rip[2] = {~0ull, ~0ull};
  Block* next[2] = {nullptr, nullptr};
  // Already in the vCPU's execution footprint, found at this linear
  // address (TcgVcpu::noted); the same physical code may run at several.
  uint64_t footprint_epoch = 0;
  uint64_t footprint_linear = 0;
};

class BlockCache {
 public:
  static constexpr unsigned kJumpCacheSize = 1024;
  static constexpr size_t kDefaultBudgetBytes = 32u << 20;

  explicit BlockCache(size_t budget_bytes = kDefaultBudgetBytes);

  Block* find(uint64_t paddr, DecodeMode mode) const {
    auto it = blocks_.find(key(paddr, mode));
    return it == blocks_.end() ? nullptr : it->second.get();
  }
  // Takes ownership (replacing a block with the same key); `new_code_page`
  // is called for each of its pages that just became a code page. May first
  // drop every block to stay within the budget (flushes() counts those): the
  // caller must not run a block it held from before.
  template <class F> void insert(std::unique_ptr<Block> block, F&& new_code_page) {
    const uint64_t p1 = block->paddr & ~uint64_t(4095), p2 = block->paddr2;
    const bool fresh1 = !is_code_page(p1), fresh2 = p2 != Block::kNoPage && !is_code_page(p2);
    if (insert(std::move(block))) {  // flushed: every page is fresh
      new_code_page(p1);
      if (p2 != Block::kNoPage) new_code_page(p2);
      return;
    }
    if (fresh1) new_code_page(p1);
    if (fresh2) new_code_page(p2);
  }

  bool is_code_page(uint64_t ppage) const { return !pages_.empty() && pages_.count(ppage); }
  // A write of `len` bytes at `paddr`: drops the blocks whose instructions
  // it touches; returns whether there were any.
  bool invalidate_range(uint64_t paddr, uint64_t len);
  void invalidate_all();
  // Frees invalidated blocks; only while no block is executing.
  void collect_garbage() { graveyard_.clear(); }

  // Jump cache: `tag` folds in everything besides the linear PC that the
  // lookup depends on (code mode, user/supervisor).
  Block* jump_lookup(uint64_t linear_pc, uint32_t tag) const {
    const JumpEntry& e = jump_[jump_index(linear_pc)];
    return e.pc == linear_pc && e.tag == tag ? e.block : nullptr;
  }
  void jump_store(uint64_t linear_pc, uint32_t tag, Block* b) { jump_[jump_index(linear_pc)] = {linear_pc, tag, b}; }
  void flush_jump_cache();
  uint64_t epoch() const { return epoch_; }
  void bump_epoch() { ++epoch_; }

  size_t size() const { return blocks_.size(); }
  uint64_t invalidations() const { return invalidations_; }
  size_t bytes() const { return bytes_; }
  size_t budget_bytes() const { return budget_bytes_; }
  uint64_t flushes() const { return flushes_; }

 private:
  struct JumpEntry {
    uint64_t pc;
    uint32_t tag;
    Block* block;
  };
  static constexpr uint64_t kPage = 4096;
  // A code page: the blocks with bytes in it, and which of its bytes they cover.
  struct CodePage {
    std::vector<uint64_t> keys;
    uint64_t code[kPage / 64] = {};
  };
  static uint64_t key(uint64_t paddr, DecodeMode mode) { return paddr | (uint64_t(mode) << 62); }
  // Calls f(begin, end) for each run of block b's bytes in page `ppage`.
  template <class F> static void for_each_extent(const Block& b, uint64_t ppage, F&& f);
  static void mark(CodePage& page, unsigned begin, unsigned end);
  static bool overlaps(const CodePage& page, unsigned begin, unsigned end);
  // Inserts; true when the budget made it drop every block first.
  bool insert(std::unique_ptr<Block> block);
  void drop(uint64_t key);
  // Rebuilds a page's byte map from its live blocks (forgetting dead keys);
  // erases the page when none is left.
  void rebuild(uint64_t ppage);
  static unsigned jump_index(uint64_t pc) { return unsigned((pc ^ (pc >> 10)) & (kJumpCacheSize - 1)); }

  std::unordered_map<uint64_t, std::unique_ptr<Block>> blocks_;
  std::unordered_map<uint64_t, CodePage> pages_;
  std::vector<std::unique_ptr<Block>> graveyard_;
  std::vector<JumpEntry> jump_;
  uint64_t invalidations_ = 0;
  uint64_t epoch_ = 1;
  size_t budget_bytes_;
  size_t bytes_ = 0;
  uint64_t flushes_ = 0;
};

}  // namespace rwd::tcg
