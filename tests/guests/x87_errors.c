/* x87_errors: how an unmasked x87 exception reaches software.
 *  1. CR0.NE = 1: a division by zero with ZE unmasked only sets the flags;
 *     the next waiting instruction (FWAIT) takes #MF (vector 16), whose
 *     handler clears the flags with FNCLEX so the FWAIT then completes.
 *  2. The same with a masked zero-divide: the default result (+inf), no #MF.
 *  3. With `ferr=1` on the command line (guest x87_ferr): CR0.NE = 0
 *     (DOS-compatible): the FWAIT asserts FERR#, which the board latches onto
 *     IRQ 13 (the slave PIC's input 5); the handler clears the flags, writes
 *     port 0xF0 to release the latch and sends EOI. No #MF. QEMU 7.2 aborts
 *     on this path (an assertion in tcg_handle_interrupt: FERR# is raised from
 *     a TCG helper without the I/O thread lock), so check_under_qemu.sh skips
 *     x87_ferr; the wiring follows QEMU's pc machine (IRQ 13, port 0xF0).
 * Exit value 0 on success, else the number of the failed step. */
#include "lib/rt.h"

static volatile uint32_t mf_count, irq13_count;
static volatile uint16_t sw_in_handler;

static void on_mf(struct rt_frame *f)
{
    (void)f;
    uint16_t sw;
    __asm__ volatile("fnstsw %0; fnclex" : "=m"(sw));
    sw_in_handler = sw;
    mf_count++;
}

static void on_irq13(struct rt_frame *f)
{
    (void)f;
    uint16_t sw;
    __asm__ volatile("fnstsw %0; fnclex" : "=m"(sw));
    sw_in_handler = sw;
    outb(0xF0, 0);                      /* release FERR#'s latch */
    irq13_count++;
    rt_pic_eoi(13);
}

/* 1 / 0 under control word cw, then FWAIT; returns the status word after. */
static uint16_t divide_by_zero(uint16_t cw)
{
    uint16_t sw;
    __asm__ volatile("fninit\n fldcw %1\n fld1\n fldz\n fdivrp\n fwait\n fnstsw %0\n fstp %%st(0)"
                     : "=m"(sw) : "m"(cw));
    return sw;
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    rt_serial_init(1);
    rt_puts("x87_errors: start\n");
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    rt_idt_init();
    rt_pic_init(0x20);
    rt_set_handler(16, on_mf);
    rt_set_handler(0x2d, on_irq13);

    uint32_t cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    cr0 = (cr0 & ~0xcu) | 0x22u;        /* MP and NE set, EM and TS clear */
    __asm__ volatile("mov %0, %%cr0" :: "r"(cr0));

    uint16_t sw = divide_by_zero(0x037b);   /* ZE unmasked */
    rt_puts("NE=1, zero-divide unmasked: #MF taken ");
    rt_put_dec(mf_count);
    rt_puts(" time(s), exception flags in the handler ");
    rt_put_hex8((uint8_t)sw_in_handler);
    rt_puts(", after ");
    rt_put_hex8((uint8_t)sw);
    if (!rt_check("", mf_count == 1 && (sw_in_handler & 0x84) == 0x84 && (sw & 0xff) == 0))
        return 1;

    sw = divide_by_zero(0x037f);            /* all masked */
    rt_puts("NE=1, zero-divide masked: exception flags ");
    rt_put_hex8((uint8_t)sw);
    if (!rt_check("", mf_count == 1 && (sw & 0xff) == 0x04))
        return 2;
    if (!rt_find(rt_cmdline_args(mbi), "ferr=1"))
        return 0;

    __asm__ volatile("mov %0, %%cr0" :: "r"(cr0 & ~0x20u));
    rt_pic_set_mask(0xFB, 0xDF);            /* cascade (IRQ 2) and IRQ 13 */
    __asm__ volatile("sti");
    sw = divide_by_zero(0x037b);
    __asm__ volatile("nop; nop; cli");
    rt_puts("NE=0, zero-divide unmasked: IRQ 13 taken ");
    rt_put_dec(irq13_count);
    rt_puts(" time(s), #MF ");
    rt_put_dec(mf_count - 1);
    rt_puts(", exception flags in the handler ");
    rt_put_hex8((uint8_t)sw_in_handler);
    if (!rt_check("", irq13_count == 1 && mf_count == 1 && (sw_in_handler & 0x84) == 0x84))
        return 3;
    return 0;
}
