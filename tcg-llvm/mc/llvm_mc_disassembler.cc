#include "tcg-llvm/mc/llvm_mc_disassembler.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "llvm/ADT/ArrayRef.h"
#include "llvm/MC/MCAsmInfo.h"
#include "llvm/MC/MCContext.h"
#include "llvm/MC/MCDisassembler/MCDisassembler.h"
#include "llvm/MC/MCInst.h"
#include "llvm/MC/MCInstPrinter.h"
#include "llvm/MC/MCInstrInfo.h"
#include "llvm/MC/MCRegisterInfo.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/MCTargetOptions.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Triple.h"

namespace rwd::tcg {

namespace {

constexpr const char* kTriple = "x86_64-unknown-linux-gnu";

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "rewind: LLVM MC x86 disassembler unavailable: %s\n", what);
  std::abort();
}

// The x86_64 triple turns 64-bit mode on by default, so each mode names all three.
constexpr const char* kModeFeatures[3] = {
    "+16bit-mode,-32bit-mode,-64bit-mode",
    "-16bit-mode,+32bit-mode,-64bit-mode",
    "-16bit-mode,-32bit-mode,+64bit-mode",
};

// What one mode needs: the disassembler keeps references to the subtarget
// and the context, so they live together.
struct ModeState {
  std::unique_ptr<llvm::MCSubtargetInfo> sti;
  std::unique_ptr<llvm::MCContext> ctx;
  std::unique_ptr<llvm::MCDisassembler> disasm;
};

}  // namespace

struct LlvmMcDisassembler::Impl {
  const llvm::Target* target = nullptr;
  llvm::Triple triple{kTriple};
  llvm::MCTargetOptions options;
  std::unique_ptr<llvm::MCRegisterInfo> mri;
  std::unique_ptr<llvm::MCAsmInfo> mai;
  std::unique_ptr<llvm::MCInstrInfo> mii;
  std::unique_ptr<llvm::MCInstPrinter> printer;
  std::array<ModeState, 3> modes;

  const ModeState& mode(DecodeMode m) const { return modes[static_cast<size_t>(m)]; }

  // Returns the length, or 0 when MC rejects the bytes.
  size_t get(std::span<const uint8_t> bytes, DecodeMode m, uint64_t address, llvm::MCInst& inst) const {
    uint64_t size = 0;
    const llvm::ArrayRef<uint8_t> data(bytes.data(), bytes.size());
    const auto status = mode(m).disasm->getInstruction(inst, size, data, address, llvm::nulls());
    return status == llvm::MCDisassembler::Success ? static_cast<size_t>(size) : 0;
  }
};

LlvmMcDisassembler::LlvmMcDisassembler(AsmSyntax syntax) : impl_(std::make_unique<Impl>()) {
  static std::once_flag init_once;
  std::call_once(init_once, [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86Disassembler();
  });
  Impl& d = *impl_;
  std::string error;
  d.target = llvm::TargetRegistry::lookupTarget(kTriple, error);
  if (!d.target) fail(error.c_str());
  d.mri.reset(d.target->createMCRegInfo(kTriple));
  if (!d.mri) fail("no register info");
  d.mai.reset(d.target->createMCAsmInfo(*d.mri, kTriple, d.options));
  if (!d.mai) fail("no asm info");
  d.mii.reset(d.target->createMCInstrInfo());
  if (!d.mii) fail("no instruction info");
  // Syntax variant 0 is AT&T, 1 is Intel.
  d.printer.reset(d.target->createMCInstPrinter(d.triple, syntax == AsmSyntax::kIntel ? 1 : 0, *d.mai, *d.mii, *d.mri));
  if (!d.printer) fail("no instruction printer");
  for (size_t i = 0; i < d.modes.size(); ++i) {
    ModeState& m = d.modes[i];
    m.sti.reset(d.target->createMCSubtargetInfo(kTriple, "", kModeFeatures[i]));
    if (!m.sti) fail("no subtarget info");
    m.ctx = std::make_unique<llvm::MCContext>(d.triple, d.mai.get(), d.mri.get(), m.sti.get());
    m.disasm.reset(d.target->createMCDisassembler(*m.sti, *m.ctx));
    if (!m.disasm) fail("no disassembler");
  }
}

LlvmMcDisassembler::~LlvmMcDisassembler() = default;

std::optional<size_t> LlvmMcDisassembler::instruction_length(std::span<const uint8_t> bytes, DecodeMode mode) const {
  llvm::MCInst inst;
  const size_t n = impl_->get(bytes, mode, 0, inst);
  if (n == 0) return std::nullopt;
  return n;
}

std::string LlvmMcDisassembler::disassemble(std::span<const uint8_t> bytes, DecodeMode mode, uint64_t address) const {
  llvm::MCInst inst;
  if (impl_->get(bytes, mode, address, inst) == 0) return "(bad)";
  std::string text;
  llvm::raw_string_ostream os(text);
  impl_->printer->printInst(&inst, address, "", *impl_->mode(mode).sti, os);
  os.flush();
  // The printer indents with a tab (objdump style); callers format themselves.
  const size_t start = text.find_first_not_of(" \t");
  return start == std::string::npos ? std::string() : text.substr(start);
}

}  // namespace rwd::tcg
