/* pit: i8259 + i8254.
 *  1. PICs remapped to 0x20/0x28; PIT channel 0 in mode 2 (rate generator) at
 *     ~1000 Hz; IRQ0 unmasked; 50 timer interrupts counted across hlt, each
 *     EOI'd; the handler masks IRQ0 itself at the 50th, so the count is exact.
 *  2. Channel 0 in mode 0 (interrupt on terminal count): OUT0 low after the
 *     count is written (read-back status), counter read twice through the
 *     latch command, decreasing.
 *  3. Channel 2 in mode 0 gated by port 0x61 bit 0: OUT2 (port 0x61 bit 5)
 *     low right after the gate opens, high once the count expires.
 * Exit value 0 on success, else the number of the failed step (1..6). */
#include "lib/rt.h"

#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_B  0x61
#define PIT_HZ  1193182u
#define TICKS   50

static volatile uint32_t ticks;

static void on_irq0(struct rt_frame *f)
{
    (void)f;
    if (++ticks == TICKS)
        rt_pic_set_mask(0xFF, 0xFF);    /* no more timer interrupts */
    rt_pic_eoi(0);
}

static uint16_t ch0_latch_read(void)
{
    outb(PIT_CMD, 0x00);                /* counter latch command, channel 0 */
    uint8_t lo = inb(PIT_CH0);
    uint8_t hi = inb(PIT_CH0);
    return (uint16_t)(lo | (hi << 8));
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    (void)mbi;
    rt_serial_init(1);
    rt_puts("pit: start\n");
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    rt_idt_init();
    rt_pic_init(0x20);
    rt_set_handler(0x20, on_irq0);

    /* 1. periodic interrupts */
    uint16_t div = (uint16_t)((PIT_HZ + 500) / 1000);  /* 1193 */
    outb(PIT_CMD, 0x34);                /* channel 0, lobyte/hibyte, mode 2, binary */
    outb(PIT_CH0, (uint8_t)div);
    outb(PIT_CH0, (uint8_t)(div >> 8));
    rt_pic_set_mask(0xFE, 0xFF);        /* IRQ0 only */
    while (ticks < TICKS)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    rt_puts("channel 0 mode 2 divisor ");
    rt_put_dec(div);
    rt_puts(": timer interrupts counted: ");
    rt_put_dec(ticks);
    if (!rt_check("", ticks == TICKS))
        return 1;

    /* 2. channel 0, mode 0, read back */
    outb(PIT_CMD, 0x30);                /* channel 0, lobyte/hibyte, mode 0, binary */
    outb(PIT_CH0, 0xFF);
    outb(PIT_CH0, 0xFF);                /* count 65535: ~55 ms */
    outb(PIT_CMD, 0xE2);                /* read-back: latch status (not count), channel 0 */
    uint8_t status = inb(PIT_CH0);
    rt_puts("channel 0 mode 0 status ");
    rt_put_hex8(status & 0xBF);         /* bit 6 (null count) masked */
    if (!rt_check(" (OUT0 low, lobyte/hibyte, mode 0)", (status & 0xBF) == 0x30))
        return 2;
    uint16_t first = ch0_latch_read(), second = first;
    for (uint32_t i = 0; i < 10000000 && second == first; i++)
        second = ch0_latch_read();
    if (!rt_check("channel 0 mode 0 latched count decreasing", second < first))
        return 3;

    /* 3. channel 2 through port 0x61 */
    outb(PORT_B, inb(PORT_B) & ~0x03);  /* gate 2 low, speaker off */
    outb(PIT_CMD, 0xB0);                /* channel 2, lobyte/hibyte, mode 0, binary */
    uint16_t c2 = (uint16_t)(PIT_HZ / 100);     /* 11931: ~10 ms */
    outb(PIT_CH2, (uint8_t)c2);
    outb(PIT_CH2, (uint8_t)(c2 >> 8));
    outb(PORT_B, (inb(PORT_B) & ~0x02) | 0x01); /* gate 2 high: counting starts */
    if (!rt_check("channel 2 mode 0 OUT2 low while counting", !(inb(PORT_B) & 0x20)))
        return 4;
    int high = 0;
    for (uint32_t i = 0; i < 100000000 && !high; i++)
        high = (inb(PORT_B) & 0x20) != 0;
    if (!rt_check("channel 2 mode 0 OUT2 high after the count", high))
        return 5;
    outb(PORT_B, inb(PORT_B) & ~0x03);
    rt_puts("pit: done\n");
    return 0;
}
