/* longmode: the 32-bit half.  Builds the 4-level (PAE) page tables:
 *   0 .. 1 GiB                          identity, 2 MiB pages
 *   0xffffffff80000000 .. +4 MiB        -> physical 0 .. 4 MiB (kernel alias)
 * then hands over to longmode64.S, which enables IA-32e mode and never returns. */
#include "lib/rt.h"

#define P  0x001ull
#define RW 0x002ull
#define PS 0x080ull

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt_lo[512] __attribute__((aligned(4096)));
static uint64_t pd_lo[512] __attribute__((aligned(4096)));
static uint64_t pdpt_hi[512] __attribute__((aligned(4096)));
static uint64_t pd_hi[512] __attribute__((aligned(4096)));

__attribute__((noreturn)) void lm_enter(uint32_t pml4_phys);

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    (void)mbi;
    rt_serial_init(1);
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;

    uint32_t eax, ebx, ecx, edx;
    __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0x80000001u));
    if (!rt_check("longmode: CPUID reports long mode", (edx >> 29) & 1))
        return 1;

    for (uint32_t i = 0; i < 512; i++)
        pd_lo[i] = ((uint64_t)i << 21) | PS | RW | P;
    pdpt_lo[0] = (uint32_t)pd_lo | RW | P;
    pml4[0] = (uint32_t)pdpt_lo | RW | P;
    pd_hi[0] = 0x000000ull | PS | RW | P;
    pd_hi[1] = 0x200000ull | PS | RW | P;
    pdpt_hi[510] = (uint32_t)pd_hi | RW | P;      /* 0xffffffff80000000: PML4 511, PDPT 510 */
    pml4[511] = (uint32_t)pdpt_hi | RW | P;

    rt_puts("longmode: entering IA-32e mode\n");
    lm_enter((uint32_t)pml4);
}
