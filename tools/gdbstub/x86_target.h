// What the gdbstub tells a debugger about an x86 vCPU: the target
// description XML (GDB manual, "Target Descriptions" and "i386 Features")
// and the registers in its order, as the 'g' and 'p' packets carry them
// (little-endian, each register's bytes in hex).
//
// Features: org.gnu.gdb.i386.core (general registers, RIP, EFLAGS, the
// segment selectors, the x87 stack and its control registers),
// org.gnu.gdb.i386.sse (XMM0-15, MXCSR), org.gnu.gdb.i386.segments (FS and GS
// base) and org.rewind.x86.sys (CR0, CR2, CR3, CR4, CR8, EFER), which gdb
// shows like any other registers; for i386, the 32-bit registers, XMM0-7 and
// no segments feature. The x87 registers go in gdb's order, st0
// the top of the stack; ftag is the full tag word.
// gdb knows no segments: its PC (eip/rip) is the linear address CS base +
// IP, as breakpoints and memory reads are. In flat and 64-bit code that is
// the register itself; in real mode it is CS * 16 + IP, so a breakpoint at
// 0x7c00 stops with $pc 0x7c00 whatever CS:IP reached it (`info registers
// cs` still gives the segment), and `set architecture i8086` disassembles.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/x86_cpu_state.h"

namespace rwd::tools::gdb {

// Which description gdb gets: x86-64 for a vCPU in long mode when gdb
// connects, i386 otherwise (a 32-bit kernel's i386 ELF then loads as it is;
// gdb rejects a 64-bit description once an i386 file chose its architecture).
enum class GdbArch : uint8_t { kI386, kX86_64 };
GdbArch gdb_arch_for(const core::X86CpuState& s);

// The description, for qXfer:features:read:target.xml.
const std::string& target_xml(GdbArch arch);
// How many registers it has; register n's bytes for 'p'; all of them for 'g'.
unsigned register_count(GdbArch arch);
std::optional<std::string> register_bytes(GdbArch arch, const core::X86CpuState& s, unsigned n);
std::string all_registers(GdbArch arch, const core::X86CpuState& s);

}  // namespace rwd::tools::gdb
