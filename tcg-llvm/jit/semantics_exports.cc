// Every form's semantics as one extern "C" function, compiled to LLVM bitcode
// by clang-19 as the JIT tier will compile it (tcg-llvm/CMakeLists.txt,
// target rewind_semantics_bitcode). The JIT calls rwd_sem_<FORM> with a
// constant DecodedInsn, so the row's choice of instantiation folds away and
// the semantics inline into the block. This file is compiled only to bitcode:
// the interpreter instantiates the same templates for InterpCpu directly.
#include "tcg-llvm/jit/jit_cpu.h"
#include "tcg-llvm/semantics/binding.h"

namespace rwd::tcg {
namespace {

// The SEM column of each row, evaluated where Bind<JitCpu>'s helpers are in
// scope: one function per form.
struct Rows : Bind<JitCpu> {
#define X86_FORM(name, map, opc, modrm, pfx, modc, osz, imm, flags, ...) \
  static Handler name(const DecodedInsn& d) {                           \
    (void)d;                                                            \
    return __VA_ARGS__;                                                 \
  }
#include "tcg-llvm/decoder/x86_forms.inc"
#undef X86_FORM
};

inline Status run_row(Bind<JitCpu>::Handler h, JitCpu* m, const DecodedInsn* d) {
  if (!h) return Unimplemented::run(*m, *d);
  return h(*m, *d);
}

}  // namespace
}  // namespace rwd::tcg

#define X86_FORM(name, ...)                                                                 \
  extern "C" rwd::tcg::Status rwd_sem_##name(rwd::tcg::JitCpu* m, const rwd::tcg::DecodedInsn* d) { \
    return rwd::tcg::run_row(rwd::tcg::Rows::name(*d), m, d);                               \
  }
#include "tcg-llvm/decoder/x86_forms.inc"
#undef X86_FORM
