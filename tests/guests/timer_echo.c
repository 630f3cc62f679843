/* timer_echo: serial input interleaved with one-shot timer interrupts in a
 * guest that never halts, so that a timer firing at any other instruction
 * than its deadline changes the guest's state (the spin counts below), and
 * a replay in which one does diverges from its recording.
 * For each byte received on COM1 (polled, until '.'): reads the RTC seconds
 * (an input answered mid-instruction), arms PIT channel 0 in mode 0
 * (interrupt on terminal count) for 50 + (byte & 63) ticks, spins with
 * interrupts enabled, counting, until IRQ0 arrives, adds the count to a sum
 * kept in memory (not printed: it depends on the emulator's speed), and
 * echoes the byte.
 * Exit value 0, or 1 if some round saw no spin at all. */
#include "lib/rt.h"

#define LSR_DR 0x01
#define PIT_CH0 0x40
#define PIT_CMD 0x43

static volatile uint32_t fired;
volatile uint32_t spin_sum;             /* global: part of the state replay compares */
volatile uint8_t last_seconds;

static void on_irq0(struct rt_frame *f)
{
    (void)f;
    fired = 1;
    rt_pic_eoi(0);
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    (void)mbi;
    rt_serial_init(0);
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    rt_idt_init();
    rt_pic_init(0x20);
    rt_set_handler(0x20, on_irq0);
    rt_pic_set_mask(0xFE, 0xFF);        /* IRQ0 only */
    rt_puts("timer_echo: echoing until '.', a one-shot timer per byte\n");

    uint32_t rounds = 0, empty_rounds = 0;
    for (;;) {
        while (!(inb(COM1 + 5) & LSR_DR))
            ;
        char c = (char)inb(COM1);
        if (c == '.')
            break;
        outb(0x70, 0x00);
        last_seconds = inb(0x71);
        uint16_t count = (uint16_t)(50 + (c & 63));
        fired = 0;
        outb(PIT_CMD, 0x30);            /* channel 0, lobyte/hibyte, mode 0, binary */
        outb(PIT_CH0, (uint8_t)count);
        outb(PIT_CH0, (uint8_t)(count >> 8));
        uint32_t spins = 0;
        __asm__ volatile("sti" ::: "memory");
        while (!fired)
            spins++;
        __asm__ volatile("cli" ::: "memory");
        spin_sum += spins;
        if (spins == 0)
            empty_rounds++;
        rounds++;
        rt_putc(c);
    }
    rt_puts("\ntimer_echo: ");
    rt_put_dec(rounds);
    if (!rt_check(" rounds, each ended by IRQ0 after some spinning", empty_rounds == 0))
        return 1;
    return 0;
}
