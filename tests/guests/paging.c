/* paging: 32-bit paging with 4 KiB pages and a 4 MiB (PSE) page.
 *   0x00000000-0x003fffff  identity, 4 KiB pages (page_table0)
 *   0x00400000-0x007fffff  identity, one 4 MiB page (PDE 1)
 *   0x40005000, 0x40009000 both -> page_p (aliases), 0x4000c000 -> page_q
 *   0x80000000-0x803fffff  -> physical 0x00400000, one 4 MiB page (PDE 0x200)
 * Exit value 0 on success, else the number of the first failed check (1..9). */
#include "lib/rt.h"

#define P   0x001u
#define RW  0x002u
#define A   0x020u
#define D   0x040u
#define PS  0x080u

static volatile uint32_t page_dir[1024] __attribute__((aligned(4096)));
static volatile uint32_t page_table0[1024] __attribute__((aligned(4096)));
static volatile uint32_t page_table_hi[1024] __attribute__((aligned(4096)));
static volatile uint32_t page_p[1024] __attribute__((aligned(4096)));
static volatile uint32_t page_q[1024] __attribute__((aligned(4096)));

#define V1 0x40005000u
#define V2 0x40009000u
#define V3 0x4000c000u
#define BIG_ALIAS 0x80000000u

static void put_ad(const char *what, uint32_t e)
{
    rt_puts(what);
    rt_puts(": accessed ");
    rt_put_dec((e & A) ? 1 : 0);
    rt_puts(" dirty ");
    rt_put_dec((e & D) ? 1 : 0);
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    (void)mbi;
    rt_serial_init(1);
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;

    for (uint32_t i = 0; i < 1024; i++)
        page_table0[i] = (i << 12) | RW | P;
    page_dir[0] = (uint32_t)page_table0 | RW | P;
    page_dir[1] = 0x00400000u | PS | RW | P;
    page_dir[V1 >> 22] = (uint32_t)page_table_hi | RW | P;
    page_dir[BIG_ALIAS >> 22] = 0x00400000u | PS | RW | P;
    page_table_hi[(V1 >> 12) & 0x3ff] = (uint32_t)page_p | RW | P;
    page_table_hi[(V2 >> 12) & 0x3ff] = (uint32_t)page_p | RW | P;
    page_table_hi[(V3 >> 12) & 0x3ff] = (uint32_t)page_q | RW | P;
    page_q[0] = 0x0badf00d;

    uint32_t cr4, cr0;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | 0x10));          /* PSE */
    __asm__ volatile("mov %0, %%cr3" : : "r"(page_dir) : "memory");
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | 0x80000000u) : "memory");
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    if (!rt_check("paging: CR0.PG and CR4.PSE set", (cr0 & 0x80000000u) && (cr4 & 0x10)))
        return 1;

    /* Two virtual aliases of one physical page. */
    volatile uint32_t *v1 = (volatile uint32_t *)V1, *v2 = (volatile uint32_t *)V2;
    v1[4] = 0xcafebabe;
    uint32_t r = v2[4];
    rt_puts("alias: wrote 0xcafebabe via 0x40005010, read ");
    rt_put_hex32(r);
    rt_puts(" via 0x40009010");
    if (!rt_check("", r == 0xcafebabe && page_p[4] == 0xcafebabe))
        return 2;

    /* Accessed/dirty bits the CPU set. */
    uint32_t e1 = page_table_hi[(V1 >> 12) & 0x3ff];
    uint32_t e2 = page_table_hi[(V2 >> 12) & 0x3ff];
    uint32_t e3 = page_table_hi[(V3 >> 12) & 0x3ff];
    put_ad("PTE 0x40005000 (written)", e1);
    if (!rt_check("", (e1 & (A | D)) == (A | D)))
        return 3;
    put_ad("PTE 0x40009000 (read)", e2);
    if (!rt_check("", (e2 & (A | D)) == A))
        return 4;
    put_ad("PTE 0x4000c000 (untouched)", e3);
    if (!rt_check("", (e3 & (A | D)) == 0))
        return 5;

    /* 4 MiB pages: write through the alias at 2 GiB, read through the identity. */
    *(volatile uint32_t *)(BIG_ALIAS + 0x1234) = 0x12345678;
    r = *(volatile uint32_t *)0x00401234u;
    rt_puts("4 MiB page: wrote 0x12345678 via 0x80001234, read ");
    rt_put_hex32(r);
    rt_puts(" via 0x00401234");
    if (!rt_check("", r == 0x12345678))
        return 6;
    uint32_t big_w = page_dir[BIG_ALIAS >> 22], big_r = page_dir[1];
    put_ad("PDE 0x80000000 (4 MiB, written)", big_w);
    if (!rt_check("", (big_w & (A | D)) == (A | D)))
        return 7;
    put_ad("PDE 0x00400000 (4 MiB, read)", big_r);
    if (!rt_check("", (big_r & (A | D)) == A))
        return 8;

    /* Remap V1 to page_q; INVLPG drops the cached translation. */
    page_table_hi[(V1 >> 12) & 0x3ff] = (uint32_t)page_q | RW | P;
    __asm__ volatile("invlpg (%0)" : : "r"(V1) : "memory");
    r = v1[0];
    rt_puts("invlpg: 0x40005000 remapped to another page, read ");
    rt_put_hex32(r);
    if (!rt_check("", r == 0x0badf00d))
        return 9;

    rt_puts("paging: done\n");
    return 0;
}
