/* hw_breakpoints: DR0-DR3 and DR7 (SDM vol. 3, 18.2).
 *  1. An instruction breakpoint (DR0, RW 00) faults with #DB before the
 *     instruction runs, DR6.B0 set; the handler sets RF in the saved EFLAGS,
 *     so after IRET the instruction runs once without faulting again.
 *  2. A write watchpoint (DR1, RW 01, 4 bytes) traps after a store into its
 *     range, DR6.B1 set, the saved EIP after the store; a read of the same
 *     bytes does not trap.
 *  3. As a read/write watchpoint (RW 11) the read traps too.
 *  4. Disabled in DR7, nothing traps.
 *  5. Two instruction breakpoints at one address, one of them disabled: when
 *     the enabled one fires, DR6 names both (B0 and B3).
 *  6. An I/O breakpoint (CR4.DE, DR2 = port 0x80, RW2 = 10) traps after an
 *     OUT to that port, DR6.B2 set; an OUT to another port does not.
 *  7. With `rf=1` (guest hw_breakpoints_rf): the EFLAGS image a fault
 *     pushes has RF set (#UD), as the SDM says (vol. 3, 17.3.1.1); a trap's
 *     and INT n's have it clear. QEMU 7.2 pushes RF clear for faults, so
 *     check_under_qemu.sh skips that guest.
 * Exit value 0 on success, else the number of the failed check. */
#include "lib/rt.h"

extern char bp_insn[], bp_insn2[], after_store[], after_load[], after_out[];
static volatile uint32_t watched[2] __attribute__((aligned(8)));
static volatile uint32_t db_count, last_dr6, last_eip, exec_faults, ud_eflags, int_eflags, db_eflags;

static void on_db(struct rt_frame *f)
{
    uint32_t dr6;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
    last_dr6 = dr6;
    last_eip = f->eip;
    __asm__ volatile("mov %0, %%dr6" :: "r"(0xffff0ff0u));
    if (dr6 & 1) {
        exec_faults++;
        f->eflags |= 0x10000;           /* RF: run the instruction on return */
    }
    db_eflags = f->eflags;
    db_count++;
}

static void on_ud(struct rt_frame *f)
{
    ud_eflags = f->eflags;
    f->eip += 2;                          /* past UD2 */
}

static void on_int(struct rt_frame *f) { int_eflags = f->eflags; }

static void set_dr7(uint32_t v) { __asm__ volatile("mov %0, %%dr7" :: "r"(v)); }

static void report(const char *what, uint32_t b_bit, uint32_t eip_want, int ok_extra, int step)
{
    int ok = (last_dr6 & 0xf) == b_bit && last_eip == eip_want && ok_extra;
    rt_puts(what);
    rt_puts(": #DB ");
    rt_put_dec(db_count);
    rt_puts(", DR6 B0-B3 ");
    rt_put_hex8((uint8_t)(last_dr6 & 0xf));
    if (!rt_check(", at the expected EIP", ok))
        rt_exit((uint8_t)step);
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    rt_serial_init(1);
    rt_puts("hw_breakpoints: start\n");
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    rt_idt_init();
    rt_set_handler(1, on_db);
    uint32_t v;

    __asm__ volatile("mov %0, %%dr0" :: "r"((uint32_t)bp_insn));
    set_dr7(0x1);                                            /* L0, execute */
    __asm__ volatile("mov $1, %%eax\n bp_insn: add $2, %%eax\n mov %%eax, %0" : "=r"(v) :: "eax");
    set_dr7(0);
    report("instruction breakpoint", 0x1, (uint32_t)bp_insn, exec_faults == 1 && db_count == 1 && v == 3, 1);

    __asm__ volatile("mov %0, %%dr1" :: "r"((uint32_t)&watched[0]));
    set_dr7(0x4 | (0x1u << 20) | (0x3u << 22));             /* L1, RW1 = 01 (write), LEN1 = 11 (4 bytes) */
    __asm__ volatile("movl $7, %0\n after_store:" : "=m"(watched[0]));
    report("write watchpoint, store", 0x2, (uint32_t)after_store, db_count == 2, 2);
    __asm__ volatile("mov %1, %0\n" : "=r"(v) : "m"(watched[0]));
    __asm__ volatile("movl $9, %0" : "=m"(watched[1]));     /* next 4 bytes: outside */
    if (!rt_check("write watchpoint, load and a store beside it: no #DB", db_count == 2 && v == 7))
        return 3;

    set_dr7(0x4 | (0x3u << 20) | (0x3u << 22));             /* RW1 = 11: reads too */
    __asm__ volatile("mov %1, %0\n after_load:" : "=r"(v) : "m"(watched[0]));
    report("read/write watchpoint, load", 0x2, (uint32_t)after_load, db_count == 3 && v == 7, 4);

    set_dr7(0);
    __asm__ volatile("movl $5, %0" : "=m"(watched[0]));
    if (!rt_check("disabled: no #DB", db_count == 3))
        return 5;

    __asm__ volatile("mov %0, %%dr0\n mov %0, %%dr3" :: "r"((uint32_t)bp_insn2));
    set_dr7(0x1);                                            /* L0 only; DR3 also RW 00 */
    __asm__ volatile("bp_insn2: nop");
    set_dr7(0);
    report("enabled and disabled breakpoints at one address", 0x9, (uint32_t)bp_insn2, db_count == 4, 6);

    uint32_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | 0x8));    /* DE */
    __asm__ volatile("mov %0, %%dr2" :: "r"(0x80u));
    set_dr7(0x10 | (0x2u << 24));                            /* L2, RW2 = 10 (I/O), LEN2 = 00 */
    __asm__ volatile("outb %%al, $0x81" ::: "memory");        /* another port */
    __asm__ volatile("outb %%al, $0x80\n after_out:" ::: "memory");
    set_dr7(0);
    report("I/O breakpoint, OUT to port 0x80", 0x4, (uint32_t)after_out, db_count == 5, 7);

    if (!rt_find(rt_cmdline_args(mbi), "rf=1"))
        return 0;
    rt_set_handler(6, on_ud);
    rt_set_handler(0x80, on_int);
    __asm__ volatile("ud2");
    __asm__ volatile("int $0x80");
    rt_puts("pushed RF: fault ");
    rt_put_dec((ud_eflags >> 16) & 1);
    rt_puts(", INT n ");
    rt_put_dec((int_eflags >> 16) & 1);
    rt_puts(", single-step trap ");
    __asm__ volatile("pushf\n orl $0x100, (%%esp)\n popf\n nop\n pushf\n andl $~0x100, (%%esp)\n popf" ::: "memory", "cc");
    rt_put_dec((db_eflags >> 16) & 1);
    if (!rt_check("", (ud_eflags & 0x10000) && !(int_eflags & 0x10000) && !(db_eflags & 0x10000)))
        return 8;
    return 0;
}
