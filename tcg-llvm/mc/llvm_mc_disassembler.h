// A small wrapper around the LLVM MC x86 disassembler: the decoder's test
// oracle and the tools' disassembler. No LLVM types cross this header, so
// only rewind_mc compiles against LLVM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "tcg-llvm/decoder/decoded_insn.h"

namespace rwd::tcg {

enum class AsmSyntax : uint8_t { kIntel, kAtt };

class LlvmMcDisassembler {
 public:
  // Builds disassemblers for all three modes (x86_64-unknown-linux-gnu with
  // +16bit-mode/+32bit-mode/+64bit-mode). Aborts with a message if the LLVM
  // X86 target is missing, which would be a broken installation.
  explicit LlvmMcDisassembler(AsmSyntax syntax = AsmSyntax::kIntel);
  ~LlvmMcDisassembler();
  LlvmMcDisassembler(const LlvmMcDisassembler&) = delete;
  LlvmMcDisassembler& operator=(const LlvmMcDisassembler&) = delete;

  // Length of the instruction at the start of `bytes`, or nullopt when MC
  // does not decode it (invalid, truncated, or longer than 15 bytes).
  std::optional<size_t> instruction_length(std::span<const uint8_t> bytes, DecodeMode mode) const;

  // The instruction as assembly text (no leading tab), or "(bad)" when MC
  // does not decode it.
  std::string disassemble(std::span<const uint8_t> bytes, DecodeMode mode, uint64_t address = 0) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rwd::tcg
