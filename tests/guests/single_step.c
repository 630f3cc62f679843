/* single_step: EFLAGS.TF single-stepping (SDM vol. 3, 18.3.1.4).
 * A sequence runs with TF set by POPF; the #DB handler records where each
 * trap returns to (as an offset from the sequence's start) and DR6.BS.
 *  - POPF that sets TF traps only after the next instruction;
 *  - every instruction with TF set at its start traps after it, the POPF
 *    that clears TF included;
 *  - MOV SS holds the trap off until after the next instruction;
 *  - INT n clears TF for its handler: no trap inside it, none for the INT.
 * Exit value 0 on success, else the number of the failed check. */
#include "lib/rt.h"

extern char step_start[], step_end[];
static volatile uint32_t traps[32], trap_count, dr6_bs_all = 1, int_tf_clear = 1;

static void on_db(struct rt_frame *f)
{
    uint32_t dr6;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
    if (!(dr6 & 0x4000))
        dr6_bs_all = 0;
    __asm__ volatile("mov %0, %%dr6" :: "r"(0xffff0ff0u));
    if (trap_count < 32)
        traps[trap_count] = f->eip - (uint32_t)step_start;
    trap_count++;
}

static void on_int80(struct rt_frame *f)
{
    (void)f;                            /* its saved EFLAGS has TF set: IRET restores it */
    uint32_t fl;
    __asm__ volatile("pushf; pop %0" : "=r"(fl));
    if (fl & 0x100)
        int_tf_clear = 0;
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    (void)mbi;
    rt_serial_init(1);
    rt_puts("single_step: start\n");
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    rt_idt_init();
    rt_set_handler(1, on_db);
    rt_set_handler(0x80, on_int80);
    __asm__ volatile(
        "step_start:\n"
        "pushf\n orl $0x100, (%%esp)\n popf\n"   /* TF on: no trap after this POPF */
        "nop\n"                                   /* trap at 1: */
        "1: nop\n"                                /* trap at 2: */
        "2: mov %%ss, %%ax\n"                     /* trap at 3: */
        "3: mov %%ax, %%ss\n"                     /* no trap here ... */
        "nop\n"                                   /* ... but after this: trap at 4: */
        "4: int $0x80\n"                          /* no trap: the handler and its IRET run with TF clear */
        "pushf\n"                                 /* trap at 5: */
        "5: andl $~0x100, (%%esp)\n"              /* trap at 6: */
        "6: popf\n"                               /* TF off, but set at its start: trap at step_end */
        "step_end:\n"
        "nop\n" ::: "eax", "memory", "cc");
    rt_puts("traps: ");
    rt_put_dec(trap_count);
    rt_puts(", at offsets");
    for (uint32_t i = 0; i < trap_count && i < 32; i++) {
        rt_puts(" ");
        rt_put_dec(traps[i]);
    }
    rt_puts("\n");
    /* Where each trap returns, from the encodings: pushf (1 byte), orl
     * $0x100,(%esp) (7), popf (1), nop at 9, nop at 10, mov %ss,%ax (3) at
     * 11, mov %ax,%ss (2) at 14, nop at 16, int $0x80 (2) at 17, pushf at 19,
     * andl (7) at 20, popf at 27, step_end at 28. The INT's own trap is lost:
     * it clears TF, and its handler's IRET starts with TF clear. */
    static const uint32_t want[7] = {10, 11, 14, 17, 20, 27, 28};
    int ok = trap_count == 7 && (uint32_t)(step_end - step_start) == 28;
    for (int i = 0; i < 7 && ok; i++)
        ok = traps[i] == want[i];
    if (!rt_check("single-step traps where the SDM puts them", ok))
        return 1;
    if (!rt_check("DR6.BS set in every trap", dr6_bs_all))
        return 2;
    if (!rt_check("INT n runs its handler with TF clear", int_tf_clear))
        return 3;
    return 0;
}
