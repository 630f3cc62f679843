/* exceptions: #DE, #UD, #GP, #BP, two #PFs and an int $0x80 software gate.
 * Each handler records what it saw and moves EIP past the faulting instruction;
 * one line per event; exit value 0 if all as expected, else the number of the
 * first failing check (1..7). */
#include "lib/rt.h"

extern char de_fault[], de_resume[], ud_fault[], ud_resume[], gp_fault[], gp_resume[];
extern char bp_after[], pf_read_fault[], pf_read_resume[], pf_write_fault[], pf_write_resume[];
void trig_de(void), trig_ud(void), trig_gp(void), trig_bp(void);
void trig_pf_read(uint32_t addr), trig_pf_write(uint32_t addr);
uint32_t trig_int80(uint32_t arg);

/* What the last exception looked like. */
static volatile uint32_t seen_count, seen_vector, seen_err, seen_eip, seen_cr2;

/* Fault sites and where to resume. */
static const struct { char *fault, *resume; } fixups[] = {
    { de_fault, de_resume }, { ud_fault, ud_resume }, { gp_fault, gp_resume },
    { pf_read_fault, pf_read_resume }, { pf_write_fault, pf_write_resume },
};

static void on_exception(struct rt_frame *f)
{
    seen_count++;
    seen_vector = f->vector;
    seen_err = f->err;
    seen_eip = f->eip;
    if (f->vector == 14) {
        uint32_t cr2;
        __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
        seen_cr2 = cr2;
    }
    if (f->vector == 3)
        return;                 /* trap: already past int3 */
    for (unsigned i = 0; i < sizeof fixups / sizeof fixups[0]; i++)
        if (f->eip == (uint32_t)fixups[i].fault) {
            f->eip = (uint32_t)fixups[i].resume;
            return;
        }
    rt_puts("exception at an unexpected place: vector ");
    rt_put_dec(f->vector);
    rt_puts(" eip ");
    rt_put_hex32(f->eip);
    rt_putc('\n');
    rt_exit(0x7e);
}

static void on_int80(struct rt_frame *f)
{
    seen_count++;
    seen_vector = f->vector;
    f->eax = f->eax * 2 + 1;    /* the result goes back through the saved EAX */
}

static void reset(void)
{
    seen_count = 0;
    seen_vector = seen_err = seen_eip = seen_cr2 = 0xffffffff;
}

/* Prints "<name>: vector V, error code E, at the faulting instruction: ok/FAIL". */
static int report(const char *name, uint32_t vector, int has_err, uint32_t err, const char *eip)
{
    int ok = seen_count == 1 && seen_vector == vector && (uint32_t)eip == seen_eip;
    rt_puts(name);
    rt_puts(": vector ");
    rt_put_dec(seen_vector);
    if (has_err) {
        ok &= seen_err == err;
        rt_puts(", error code ");
        rt_put_hex32(seen_err);
    }
    rt_puts((uint32_t)eip == seen_eip ? ", eip as expected" : ", eip WRONG");
    return rt_check("", ok);
}

/* Paging for the #PF tests: 0-4 MiB identity-mapped with 4 KiB pages, the page
 * at 0x300000 read-only; nothing mapped above 4 MiB. */
static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t page_table[1024] __attribute__((aligned(4096)));
#define RO_PAGE 0x00300000u
#define UNMAPPED_ADDR 0x00800123u

static void enable_paging(void)
{
    for (uint32_t i = 0; i < 1024; i++)
        page_table[i] = (i << 12) | 0x3;                /* present, writable */
    page_table[RO_PAGE >> 12] = RO_PAGE | 0x1;          /* present, read-only */
    page_dir[0] = (uint32_t)page_table | 0x3;
    __asm__ volatile("mov %0, %%cr3" : : "r"(page_dir) : "memory");
    uint32_t cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    cr0 |= 0x80010000u;                                 /* PG, WP */
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    (void)mbi;
    rt_serial_init(1);
    rt_puts("exceptions: start\n");
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    rt_idt_init();
    for (int v = 0; v < 32; v++)
        rt_set_handler((uint8_t)v, on_exception);
    rt_set_handler(0x80, on_int80);

    reset();
    trig_de();
    if (!report("#DE divide error", 0, 0, 0, de_fault))
        return 1;

    reset();
    trig_ud();
    if (!report("#UD invalid opcode", 6, 0, 0, ud_fault))
        return 2;

    reset();
    trig_gp();
    if (!report("#GP load of selector 0x40 into DS", 13, 1, 0x40, gp_fault))
        return 3;

    reset();
    trig_bp();
    if (!report("#BP int3", 3, 0, 0, bp_after))
        return 4;

    enable_paging();
    reset();
    trig_pf_read(UNMAPPED_ADDR);
    if (!report("#PF read of an unmapped page", 14, 1, 0x0, pf_read_fault) ||
        !rt_check("#PF cr2 = 0x00800123", seen_cr2 == UNMAPPED_ADDR))
        return 5;

    reset();
    trig_pf_write(RO_PAGE + 0x10);
    if (!report("#PF write to a read-only page", 14, 1, 0x3, pf_write_fault) ||
        !rt_check("#PF cr2 = 0x00300010", seen_cr2 == RO_PAGE + 0x10))
        return 6;

    reset();
    uint32_t r = trig_int80(20);
    rt_puts("int $0x80: vector ");
    rt_put_dec(seen_vector);
    rt_puts(", eax 20 -> ");
    rt_put_dec(r);
    if (!rt_check("", seen_count == 1 && seen_vector == 0x80 && r == 41))
        return 7;

    rt_puts("exceptions: all as expected\n");
    return 0;
}
