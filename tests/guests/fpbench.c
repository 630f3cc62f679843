/* fpbench: floating-point and SIMD work (fpbench_kernel.h) for the FP/SIMD
 * benchmark (bench/fp_simd_vs_qemu.sh) and as a guest test: SSE and x87
 * enabled (CR4.OSFXSR, CR0.MP/NE), `rounds` rounds, one line with a digest of
 * the final state. The expected line is computed by the host twin
 * fpbench_expected from the same kernel. Exit value 0. */
#include "lib/rt.h"
#include "fpbench_kernel.h"

static struct fpb_state st;

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    rt_serial_init(1);
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    uint32_t cr0, cr4;
    __asm__ volatile("mov %%cr0, %0\n mov %%cr4, %1" : "=r"(cr0), "=r"(cr4));
    __asm__ volatile("mov %0, %%cr0\n mov %1, %%cr4" :: "r"((cr0 & ~0xcu) | 0x22u), "r"(cr4 | 0x600u));
    uint32_t rounds = fpb_rounds(rt_cmdline_args(mbi));
    fpb_init(&st);
    for (uint32_t r = 0; r < rounds; r++)
        fpb_round(&st);
    char line[64];
    int n = fpb_format(line, rounds, fpb_digest(&st));
    line[n] = 0;
    rt_puts(line);
    return 0;
}
