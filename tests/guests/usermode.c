/* usermode: the 32-bit half. Builds 4-level page tables (4 KiB pages over
 * the first 2 MiB, supervisor-only, except the pages usermode64.S sets
 * aside for ring 3; 2 MiB supervisor pages up to 1 GiB), starts the PIT at
 * 1 kHz on IRQ 0 (the only unmasked line), and hands over to usermode64.S,
 * which runs the tests in IA-32e mode and never returns.
 * The user pages: user_code (U, read-only), user_data (U), ro_page (U,
 * read-only), nx_page (U, NX) and the user stack (U). */
#include "lib/rt.h"

#define P  0x001ull
#define RW 0x002ull
#define US 0x004ull
#define PS 0x080ull
#define NX (1ull << 63)

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));
static uint64_t pt[512] __attribute__((aligned(4096)));

extern char user_code[], user_code_end[], user_data[], ro_page[], nx_page[], user_stack[], user_stack_top[];

__attribute__((noreturn)) void um_enter(uint32_t pml4_phys);

static void set_pages(const char *from, const char *to, uint64_t flags)
{
    for (uint32_t a = (uint32_t)from; a < (uint32_t)to; a += 4096)
        pt[a >> 12] = (uint64_t)a | flags;
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    (void)mbi;
    rt_serial_init(1);
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    rt_puts("usermode: start\n");

    for (uint32_t i = 0; i < 512; i++)
        pt[i] = ((uint64_t)i << 12) | RW | P;
    set_pages(user_code, user_code_end, US | P);
    set_pages(user_data, user_data + 4096, US | RW | P);
    set_pages(ro_page, ro_page + 4096, US | P);
    set_pages(nx_page, nx_page + 4096, US | RW | P | NX);
    set_pages(user_stack, user_stack_top, US | RW | P);
    pd[0] = (uint32_t)pt | US | RW | P;
    for (uint32_t i = 1; i < 512; i++)
        pd[i] = ((uint64_t)i << 21) | PS | RW | P;
    pdpt[0] = (uint32_t)pd | US | RW | P;
    pml4[0] = (uint32_t)pdpt | US | RW | P;

    rt_pic_init(0x20);
    rt_pic_set_mask(0xfe, 0xff);        /* IRQ 0 only */
    outb(0x43, 0x34);                   /* PIT channel 0, mode 2 */
    outb(0x40, 1193 & 0xff);            /* 1 kHz */
    outb(0x40, 1193 >> 8);

    um_enter((uint32_t)pml4);
}
