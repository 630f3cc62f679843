// What the gdbstub tells a debugger about an x86-64 vCPU: the target
// description XML (GDB manual, "Target Descriptions" and "i386 Features")
// and the registers in its order, as the 'g' and 'p' packets carry them
// (little-endian, each register's bytes in hex).
//
// Features: org.gnu.gdb.i386.core (general registers, RIP, EFLAGS, the
// segment selectors, the x87 stack and its control registers),
// org.gnu.gdb.i386.sse (XMM0-15, MXCSR), org.gnu.gdb.i386.segments (FS and GS
// base) and org.rewind.x86.sys (CR0, CR2, CR3, CR4, CR8, EFER), which gdb
// shows like any other registers. The x87 registers go in gdb's order, st0
// the top of the stack; ftag is the full tag word.
#pragma once

#include <optional>
#include <string>

#include "core/x86_cpu_state.h"

namespace rwd::tools::gdb {

// The description, for qXfer:features:read:target.xml.
const std::string& x86_64_target_xml();

// How many registers the description has; register n's bytes for 'p'.
unsigned x86_64_register_count();
std::optional<std::string> x86_64_register(const core::X86CpuState& s, unsigned n);  // raw bytes
// Every register in order, for 'g'.
std::string x86_64_registers(const core::X86CpuState& s);  // raw bytes

}  // namespace rwd::tools::gdb
