#include "tcg-llvm/interp/form_binding.h"

#include "tcg-llvm/interp/interp_cpu.h"
#include "tcg-llvm/semantics/binding.h"

namespace rwd::tcg {

Binding bind_form(const DecodedInsn& d) {
  Handler handler = Bind<InterpCpu>::handler(d);
  if (!handler) return Binding{Bind<InterpCpu>::h<Unimplemented>(), true};
  return Binding{handler, form_ends_block(d.form)};
}

bool form_has_semantics(Form f) {
  DecodedInsn d{};
  d.form = f;
  // Every size and operand kind a row binds is implemented together, so one
  // probe per form answers for all of them.
  d.op_size = 4;
  return Bind<InterpCpu>::handler(d) != nullptr;
}

}  // namespace rwd::tcg
