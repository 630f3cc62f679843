/* serial_echo: reads COM1 and echoes each byte transformed.
 *  phase 1, polling LSR bit 0: upper-cased, until '.' (not echoed);
 *  phase 2, RX-data interrupt through IRQ4 (vector 0x24): case swapped, until
 *  0x04 (EOT, not echoed).
 * The UART FIFO is left off (FCR never written) so that a byte the emulator has
 * already delivered before the guest starts is not flushed by a FIFO reset. */
#include "lib/rt.h"

#define LSR_DR 0x01

static volatile uint8_t ring[256];
static volatile uint8_t ring_head, ring_tail;   /* wrap at 256 */

static void on_irq4(struct rt_frame *f)
{
    (void)f;
    while (inb(COM1 + 5) & LSR_DR)
        ring[ring_head++] = inb(COM1);
    rt_pic_eoi(4);
}

static char upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 32) : c; }
static char swapcase(char c)
{
    if (c >= 'a' && c <= 'z')
        return (char)(c - 32);
    if (c >= 'A' && c <= 'Z')
        return (char)(c + 32);
    return c;
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    (void)mbi;
    rt_serial_init(0);
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;

    rt_puts("serial_echo: polled phase, upper-casing until '.'\n");
    uint32_t n = 0;
    for (;;) {
        while (!(inb(COM1 + 5) & LSR_DR))
            ;
        char c = (char)inb(COM1);
        if (c == '.')
            break;
        rt_putc(upper(c));
        n++;
    }
    rt_puts("\npolled phase: ");
    rt_put_dec(n);
    rt_puts(" bytes\n");

    rt_puts("serial_echo: irq4 phase, swapping case until 0x04\n");
    rt_idt_init();
    rt_pic_init(0x20);
    rt_set_handler(0x24, on_irq4);
    rt_pic_set_mask(0xEF, 0xFF);        /* IRQ4 only */
    outb(COM1 + 1, 0x01);               /* IER: received data available */
    n = 0;
    for (int done = 0; !done;) {
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        while (!done && ring_tail != ring_head) {
            char c = (char)ring[ring_tail++];
            if (c == 0x04)
                done = 1;
            else {
                rt_putc(swapcase(c));
                n++;
            }
        }
    }
    outb(COM1 + 1, 0x00);
    rt_pic_set_mask(0xFF, 0xFF);
    rt_puts("\nirq4 phase: ");
    rt_put_dec(n);
    rt_puts(" bytes\nserial_echo: done\n");
    return 0;
}
