/* linux_boot: a bzImage started through the Linux boot protocol. It checks
 * what a loader must hand a kernel -- boot_params with the setup header, the
 * command line, the initrd and the e820 map -- and the entry state. Its output
 * is the same whichever entry the loader took (QEMU runs linux_boot_setup.S
 * and comes in at the 32-bit entry; rewind enters at the 64-bit one, or at
 * the 32-bit one for linux_boot32) and whatever the firmware reserves, for
 * -m 128M and the manifest's command line and initrd. */
#include "lib/rt.h"

#define LINUX_BOOT_MAGIC 0x4c696e78

extern char __kernel_end[];
extern uint32_t linux_entered_64, linux_entry64_cr4, linux_entry64_efer;
extern uint64_t linux_entry64_cr3, linux_entry64_rsi;
extern uint16_t linux_entry64_cs;

static const uint8_t *bp;
static uint8_t u8(uint32_t off) { return bp[off]; }
static uint16_t u16(uint32_t off) { return (uint16_t)(bp[off] | bp[off + 1] << 8); }
static uint32_t u32(uint32_t off) { return u16(off) | (uint32_t)u16(off + 2) << 16; }
static uint64_t u64(uint32_t off) { return u32(off) | (uint64_t)u32(off + 4) << 32; }

struct e820 { uint64_t base, len; uint32_t type; };
static struct e820 entry(unsigned i)
{
    struct e820 e = { u64(0x2d0 + 20 * i), u64(0x2d0 + 20 * i + 8), u32(0x2d0 + 20 * i + 16) };
    return e;
}

/* Is [a, b) inside usable RAM (entries of type 1, adjacent ones joined)? */
static int usable(uint64_t a, uint64_t b)
{
    unsigned n = u8(0x1e8);
    while (a < b) {
        unsigned i;
        for (i = 0; i < n; i++) {
            struct e820 e = entry(i);
            if (e.type == 1 && e.base <= a && a < e.base + e.len) {
                a = e.base + e.len;
                break;
            }
        }
        if (i == n) return 0;
    }
    return 1;
}

int kmain(uint32_t magic, const struct mb_info *info)
{
    rt_serial_init(1);
    if (!rt_check("linux_boot: entered through the boot protocol", magic == LINUX_BOOT_MAGIC))
        return 1;
    bp = (const uint8_t *)info;
    int ok = 1;
    ok &= rt_check("boot_params: setup header (HdrS, protocol 2.12)",
                   u32(0x202) == 0x53726448 && u16(0x206) == 0x020c && u16(0x1fe) == 0xaa55);
    ok &= rt_check("boot_params: type_of_loader set", u8(0x210) != 0);

    /* The 64-bit entry state (boot.rst, "64-bit Boot Protocol"). */
    int entry_ok = 1;
    if (linux_entered_64) {
        entry_ok = linux_entry64_cs == 0x10 && (linux_entry64_cr4 & 0x20) && (linux_entry64_efer & 0x500) == 0x500 &&
                   linux_entry64_cr3 != 0 && linux_entry64_rsi == (uint32_t)bp;
    }
    ok &= rt_check("entry: state as the protocol specifies", entry_ok);

    const char *cmdline = (const char *)u32(0x228);
    rt_puts("cmdline: ");
    rt_puts(cmdline ? cmdline : "(none)");
    rt_putc('\n');

    uint32_t initrd = u32(0x218), initrd_size = u32(0x21c);
    ok &= rt_check("initrd: page-aligned, above the kernel, below initrd_addr_max",
                   initrd_size != 0 && initrd % 4096 == 0 && initrd >= (uint32_t)__kernel_end &&
                   initrd + initrd_size - 1 <= u32(0x22c));
    rt_puts("initrd: ");
    for (uint32_t i = 0; i < initrd_size && i < 60; i++) {
        char c = ((const char *)initrd)[i];
        rt_putc(c == '\n' || (c >= 0x20 && c < 0x7f) ? c : '.');
    }

    unsigned n = u8(0x1e8);
    int sorted = n > 0 && n <= 128;
    for (unsigned i = 1; i < n && sorted; i++)
        sorted = entry(i - 1).base + entry(i - 1).len <= entry(i).base;
    ok &= rt_check("e820: entries sorted and disjoint", sorted);
    ok &= rt_check("e820: usable RAM holds the kernel and the initrd",
                   usable(0x100000, (uint32_t)__kernel_end) && usable(initrd, (uint64_t)initrd + initrd_size));
    uint64_t total = 0;
    for (unsigned i = 0; i < n; i++)
        if (entry(i).type == 1) total += entry(i).len;
    ok &= rt_check("e820: usable RAM between 120 and 128 MiB", total >= (120u << 20) && total <= (128u << 20));
    return ok ? 0 : 2;
}
