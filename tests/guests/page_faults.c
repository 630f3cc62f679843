/* page_faults: #PF error codes and CR2 under PAE paging with EFER.NXE.
 * The first 4 MiB are identity-mapped with 4 KiB pages, supervisor only;
 * test pages at 0x00400000 and up are set up per case. Each case arms a
 * recovery address; the #PF handler records CR2 and the error code and
 * resumes there.
 *   1. read of a not-present page            error 0x00
 *   2. write of a not-present page           error 0x02
 *   3. write of a read-only page (CR0.WP=1)  error 0x03
 *   4. fetch from an NX page                 error 0x11
 *   6. the write of case 3 with CR0.WP=0 succeeds at CPL 0
 *   5. with `rsvd=1` (guest page_faults_rsvd): a read through a PTE with a
 *      reserved bit (51, above MAXPHYADDR 40) set: error 0x09 (P and RSVD,
 *      as the SDM and silicon report it; QEMU 7.2 reports 0x08, so
 *      check_under_qemu.sh skips that guest)
 * Exit value 0 on success, else the number of the failed case. */
#include "lib/rt.h"

#define P   0x001ull
#define RW  0x002ull
#define NX  (1ull << 63)
#define TEST_VA 0x00400000u

static volatile uint64_t pdpt[4] __attribute__((aligned(32)));
static volatile uint64_t pd[512] __attribute__((aligned(4096)));
static volatile uint64_t pt0[512] __attribute__((aligned(4096)));   /* 0-2 MiB */
static volatile uint64_t pt1[512] __attribute__((aligned(4096)));   /* 2-4 MiB */
static volatile uint64_t pt2[512] __attribute__((aligned(4096)));   /* 4-6 MiB: test pages */
static volatile uint8_t test_page[4096] __attribute__((aligned(4096)));

static volatile uint32_t recover, fault_cr2, fault_err, faults;

static void on_pf(struct rt_frame *f)
{
    uint32_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    fault_cr2 = cr2;
    fault_err = f->err;
    faults++;
    f->eip = recover;
}

static void set_pte(uint64_t v)
{
    pt2[0] = v;
    __asm__ volatile("invlpg (%0)" :: "r"(TEST_VA) : "memory");
}

static int expect(int n, const char *what, uint32_t err, uint32_t faults_before)
{
    rt_puts(what);
    rt_puts(": ");
    if (faults == faults_before) {
        rt_puts("no #PF");
    } else {
        rt_puts("#PF error ");
        rt_put_hex8((uint8_t)fault_err);
        rt_puts(", CR2 ");
        rt_put_hex32(fault_cr2);
    }
    int ok = faults == faults_before + 1 && fault_err == err && fault_cr2 == TEST_VA + 0x10;
    if (!rt_check("", ok))
        rt_exit((uint8_t)n);
    return ok;
}

extern char r1[], r2[], r3[], r4[], r5[];

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    rt_serial_init(1);
    rt_puts("page_faults: start\n");
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    rt_idt_init();
    rt_set_handler(14, on_pf);

    for (int i = 0; i < 512; i++) {
        pt0[i] = ((uint64_t)i << 12) | RW | P;
        pt1[i] = ((uint64_t)(512 + i) << 12) | RW | P;
    }
    pd[0] = (uint32_t)pt0 | RW | P;
    pd[1] = (uint32_t)pt1 | RW | P;
    pd[2] = (uint32_t)pt2 | RW | P;
    pdpt[0] = (uint32_t)pd | P;
    /* EFER.NXE, CR4.PAE, CR3, CR0.PG|WP */
    __asm__ volatile("mov $0xc0000080, %%ecx\n rdmsr\n or $0x800, %%eax\n wrmsr" ::: "eax", "ecx", "edx");
    uint32_t cr0, cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | 0x20));
    __asm__ volatile("mov %0, %%cr3" :: "r"((uint32_t)pdpt));
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %0, %%cr0" :: "r"(cr0 | 0x80010000u) : "memory");

    volatile uint32_t *p = (volatile uint32_t *)(TEST_VA + 0x10);
    uint32_t v, n;

    set_pte(0);
    n = faults; recover = (uint32_t)r1;
    __asm__ volatile("mov (%1), %0\n r1:" : "=r"(v) : "r"(p) : "memory");
    expect(1, "read, not present", 0x00, n);

    n = faults; recover = (uint32_t)r2;
    __asm__ volatile("movl $1, (%0)\n r2:" :: "r"(p) : "memory");
    expect(2, "write, not present", 0x02, n);

    set_pte((uint32_t)test_page | P);                          /* read-only */
    n = faults; recover = (uint32_t)r3;
    __asm__ volatile("movl $2, (%0)\n r3:" :: "r"(p) : "memory");
    expect(3, "write, read-only (WP=1)", 0x03, n);

    set_pte((uint32_t)test_page | RW | P | NX);
    n = faults; recover = (uint32_t)r4;
    __asm__ volatile("jmp *%0\n r4:" :: "r"(p) : "memory");   /* no return address: the handler resumes at r4 */
    expect(4, "fetch, NX", 0x11, n);

    set_pte((uint32_t)test_page | P);
    __asm__ volatile("mov %0, %%cr0" :: "r"((cr0 | 0x80000000u) & ~0x10000u) : "memory");
    n = faults;
    *p = 0x5a5a;
    rt_puts("write, read-only (WP=0): ");
    if (!rt_check(faults == n ? "no #PF" : "#PF", faults == n && test_page[0x10] == 0x5a))
        return 6;

    if (rt_find(rt_cmdline_args(mbi), "rsvd=1")) {
        set_pte((uint32_t)test_page | RW | P | (1ull << 51));
        n = faults; recover = (uint32_t)r5;
        __asm__ volatile("mov (%1), %0\n r5:" : "=r"(v) : "r"(p) : "memory");
        expect(5, "read, reserved bit 51", 0x09, n);
    }
    (void)v;
    return 0;
}
