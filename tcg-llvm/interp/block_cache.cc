#include "tcg-llvm/interp/block_cache.h"

#include "tcg-llvm/interp/softmmu_tlb.h"

namespace rwd::tcg {

namespace {

// A block's share of the budget: itself, its instructions and about what a
// hash-table node and a page-list entry cost.
size_t cost(const Block& b) { return sizeof(Block) + b.insns.capacity() * sizeof(Insn) + 96; }

}  // namespace

BlockCache::BlockCache(size_t budget_bytes) : jump_(kJumpCacheSize), budget_bytes_(budget_bytes) { flush_jump_cache(); }

void BlockCache::flush_jump_cache() {
  ++epoch_;
  for (JumpEntry& e : jump_) e = {~0ull, 0, nullptr};
}

bool BlockCache::insert(std::unique_ptr<Block> block) {
  block->cache_bytes = uint32_t(cost(*block));
  if (bytes_ + block->cache_bytes > budget_bytes_ && !blocks_.empty()) {
    invalidate_all();
    ++flushes_;
  }
  bytes_ += block->cache_bytes;
  uint64_t k = key(block->paddr, block->mode);
  uint64_t page = block->paddr & kPageMask;
  auto& list = pages_[page];
  bool new_page = list.empty();
  list.push_back(k);
  blocks_[k] = std::move(block);
  return new_page;
}

bool BlockCache::invalidate_page(uint64_t ppage) {
  auto it = pages_.find(ppage);
  if (it == pages_.end()) return false;
  for (uint64_t k : it->second) {
    auto b = blocks_.find(k);
    if (b == blocks_.end()) continue;
    bytes_ -= b->second->cache_bytes;
    graveyard_.push_back(std::move(b->second));
    blocks_.erase(b);
  }
  pages_.erase(it);
  ++invalidations_;
  flush_jump_cache();
  return true;
}

void BlockCache::invalidate_all() {
  for (auto& [k, b] : blocks_) graveyard_.push_back(std::move(b));
  blocks_.clear();
  bytes_ = 0;
  pages_.clear();
  flush_jump_cache();
}

}  // namespace rwd::tcg
