// Predecoded blocks: straight-line runs of decoded instructions, each with the
// handler chosen at decode time, cached by guest-physical address and code
// mode, plus a small jump cache from linear PC to block so the common lookup
// skips both the TLB and the hash table.
//
// Invalidation: a block lives in one physical page (an instruction that
// straddles a page end gets an uncached block of its own). The pages holding
// blocks are "code pages": the TLB never grants them a fast write tag, so the
// first write to one reaches invalidate_page(). Invalidated blocks are kept in
// a graveyard until the vCPU is between blocks, because the block being
// executed may be the one a store just invalidated.
//
// Memory: the cache holds at most a budget of bytes (blocks, their
// instructions, the index). An insert that would pass it first drops every
// block, as QEMU flushes a full code buffer: a guest that keeps executing new
// code (or runs through memory where every instruction starts a block) costs
// bounded memory, and code that is really hot is decoded again at once.
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
  uint64_t paddr = 0;
  DecodeMode mode = DecodeMode::k32;
  uint32_t cache_bytes = 0;  // what it counts against the budget, set by insert()
  std::vector<Insn> insns;
  // Successor cache (block chaining): the blocks that followed this one at
  // these RIPs, valid while BlockCache::epoch() is unchanged (the epoch moves
  // on every translation flush, invalidation and CS/CPL/mode change).
  uint64_t next_epoch = 0;
  uint64_t next_rip[2] = {~0ull, ~0ull};
  Block* next[2] = {nullptr, nullptr};
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
  // Takes ownership; returns true when the block's page just became a code
  // page. May first drop every block to stay within the budget (flushes()
  // counts those): the caller must not run a block it held from before.
  bool insert(std::unique_ptr<Block> block);

  bool is_code_page(uint64_t ppage) const { return !pages_.empty() && pages_.count(ppage); }
  // Drops every block in the page; returns whether there were any.
  bool invalidate_page(uint64_t ppage);
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
  static uint64_t key(uint64_t paddr, DecodeMode mode) { return paddr | (uint64_t(mode) << 62); }
  static unsigned jump_index(uint64_t pc) { return unsigned((pc ^ (pc >> 10)) & (kJumpCacheSize - 1)); }

  std::unordered_map<uint64_t, std::unique_ptr<Block>> blocks_;
  std::unordered_map<uint64_t, std::vector<uint64_t>> pages_;  // ppage -> block keys
  std::vector<std::unique_ptr<Block>> graveyard_;
  std::vector<JumpEntry> jump_;
  uint64_t invalidations_ = 0;
  uint64_t epoch_ = 1;
  size_t budget_bytes_;
  size_t bytes_ = 0;
  uint64_t flushes_ = 0;
};

}  // namespace rwd::tcg
