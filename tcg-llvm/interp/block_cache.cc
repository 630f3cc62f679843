#include "tcg-llvm/interp/block_cache.h"

#include "tcg-llvm/interp/softmmu_tlb.h"

namespace rwd::tcg {

BlockCache::BlockCache() : jump_(kJumpCacheSize) { flush_jump_cache(); }

void BlockCache::flush_jump_cache() {
  ++epoch_;
  for (JumpEntry& e : jump_) e = {~0ull, 0, nullptr};
}

bool BlockCache::insert(std::unique_ptr<Block> block) {
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
  pages_.clear();
  flush_jump_cache();
}

}  // namespace rwd::tcg
