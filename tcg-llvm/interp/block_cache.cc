#include "tcg-llvm/interp/block_cache.h"

#include <algorithm>

namespace rwd::tcg {

namespace {

// A block's share of the budget: itself, its instructions and about what a
// hash-table node and page-list entries cost.
size_t cost(const Block& b) { return sizeof(Block) + b.insns.capacity() * sizeof(Insn) + 96; }
// What a code page costs: its byte map and its list, roughly.
constexpr size_t kCodePageCost = 4096 / 8 + 64;

}  // namespace

BlockCache::BlockCache(size_t budget_bytes) : jump_(kJumpCacheSize), budget_bytes_(budget_bytes) { flush_jump_cache(); }

void BlockCache::flush_jump_cache() {
  ++epoch_;
  for (JumpEntry& e : jump_) e = {~0ull, 0, nullptr};
}

template <class F> void BlockCache::for_each_extent(const Block& b, uint64_t ppage, F&& f) {
  if ((b.paddr & ~(kPage - 1)) == ppage) {
    const unsigned begin = unsigned(b.paddr & (kPage - 1));
    f(begin, begin + b.bytes);
  }
  if (b.paddr2 == ppage) f(0u, unsigned(b.bytes2));  // (both, when the two linear pages alias)
}

void BlockCache::mark(CodePage& page, unsigned begin, unsigned end) {
  for (unsigned i = begin; i < end; ++i) page.code[i / 64] |= 1ull << (i % 64);
}

bool BlockCache::overlaps(const CodePage& page, unsigned begin, unsigned end) {
  for (unsigned i = begin; i < end; ++i)
    if (page.code[i / 64] >> (i % 64) & 1) return true;
  return false;
}

bool BlockCache::insert(std::unique_ptr<Block> block) {
  const uint64_t k = key(block->paddr, block->mode);
  if (auto old = blocks_.find(k); old != blocks_.end()) {
    // A straddling block whose second page now maps elsewhere: replaced.
    const uint64_t old_pages[2] = {old->second->paddr & ~(kPage - 1), old->second->paddr2};
    drop(k);
    for (uint64_t p : old_pages)
      if (p != Block::kNoPage) rebuild(p);
    flush_jump_cache();  // chains and the jump cache may point at it
  }
  block->cache_bytes = uint32_t(cost(*block));
  bool flushed = false;
  if (bytes_ + block->cache_bytes + 2 * kCodePageCost > budget_bytes_ && !blocks_.empty()) {
    invalidate_all();
    ++flushes_;
    flushed = true;
  }
  // Room in the graveyard for every live block: dropping them all (a remap,
  // or a board torn down after the host ran out of memory) must not allocate.
  const size_t room = graveyard_.size() + blocks_.size() + 1;
  if (graveyard_.capacity() < room) graveyard_.reserve(2 * room);
  bytes_ += block->cache_bytes;
  for (uint64_t ppage : {block->paddr & ~(kPage - 1), block->paddr2}) {
    if (ppage == Block::kNoPage) continue;
    auto [it, fresh] = pages_.try_emplace(ppage);
    if (fresh) bytes_ += kCodePageCost;
    it->second.keys.push_back(k);
    for_each_extent(*block, ppage, [&](unsigned begin, unsigned end) { mark(it->second, begin, end); });
  }
  blocks_[k] = std::move(block);
  return flushed;
}

void BlockCache::drop(uint64_t k) {
  auto b = blocks_.find(k);
  if (b == blocks_.end()) return;
  bytes_ -= b->second->cache_bytes;
  graveyard_.push_back(std::move(b->second));
  blocks_.erase(b);
}

void BlockCache::rebuild(uint64_t ppage) {
  auto it = pages_.find(ppage);
  if (it == pages_.end()) return;
  CodePage& page = it->second;
  std::fill(std::begin(page.code), std::end(page.code), 0);
  std::sort(page.keys.begin(), page.keys.end());
  page.keys.erase(std::unique(page.keys.begin(), page.keys.end()), page.keys.end());
  auto live_end = std::remove_if(page.keys.begin(), page.keys.end(), [&](uint64_t k) {
    auto b = blocks_.find(k);
    if (b == blocks_.end()) return true;
    bool here = false;  // the key may now name a block that lives elsewhere
    for_each_extent(*b->second, ppage, [&](unsigned begin, unsigned end) {
      mark(page, begin, end);
      here = true;
    });
    return !here;
  });
  page.keys.erase(live_end, page.keys.end());
  if (page.keys.empty()) {
    pages_.erase(it);
    bytes_ -= kCodePageCost;
  }
}

bool BlockCache::invalidate_range(uint64_t paddr, uint64_t len) {
  if (pages_.empty() || len == 0) return false;
  bool any = false;
  const uint64_t last = paddr + len - 1;
  for (uint64_t ppage = paddr & ~(kPage - 1); ppage <= (last & ~(kPage - 1)); ppage += kPage) {
    auto it = pages_.find(ppage);
    if (it != pages_.end()) {
      const unsigned begin = unsigned(std::max(paddr, ppage) - ppage);
      const unsigned end = unsigned(std::min(last, ppage + kPage - 1) - ppage) + 1;
      if (overlaps(it->second, begin, end)) {
        // Drop the blocks the write touches; they may live in a second page too.
        std::vector<uint64_t> touched_pages{ppage};
        for (uint64_t k : it->second.keys) {
          auto b = blocks_.find(k);
          if (b == blocks_.end()) continue;
          bool hit = false;
          for_each_extent(*b->second, ppage, [&](unsigned bb, unsigned be) { hit |= bb < end && begin < be; });
          if (!hit) continue;
          const Block& blk = *b->second;
          const uint64_t other = (blk.paddr & ~(kPage - 1)) == ppage ? blk.paddr2 : blk.paddr & ~(kPage - 1);
          if (other != Block::kNoPage && other != ppage) touched_pages.push_back(other);
          drop(k);
          ++invalidations_;
        }
        for (uint64_t p : touched_pages) rebuild(p);
        any = true;
      }
    }
    if (ppage + kPage < ppage) break;
  }
  if (any) flush_jump_cache();
  return any;
}

void BlockCache::invalidate_all() {
  for (auto& [k, b] : blocks_) graveyard_.push_back(std::move(b));
  blocks_.clear();
  bytes_ = 0;
  pages_.clear();
  flush_jump_cache();
}

}  // namespace rwd::tcg
