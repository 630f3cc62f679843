// Binding of decoded forms to interpreter handlers: the SEM column of
// x86_forms.inc (semantics/binding.h) instantiated for InterpCpu, chosen once
// at decode time so the block loop dispatches with one indirect call.
#pragma once

#include "tcg-llvm/interp/block_cache.h"

namespace rwd::tcg {

// A form without semantics is bound to a handler that warns and raises #UD.
struct Binding {
  Handler handler;
  bool ends_block;     // the block must end after this instruction (mode may change)
};

Binding bind_form(const DecodedInsn& d);

// Whether a form has semantics in the interpreter (for coverage reports).
bool form_has_semantics(Form f);

}  // namespace rwd::tcg
