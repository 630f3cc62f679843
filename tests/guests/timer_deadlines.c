/* timer_deadlines: a timer armed while the guest runs fires at its deadline,
 * not whenever the emulator next looks up from running guest code.
 * Every trial arms a timer from a busy loop (no hlt: the vCPU never stops on
 * its own), reads the ACPI PM timer (3.579545 MHz, port 0x608) right after
 * arming and again in the interrupt handler, and checks that the elapsed time
 * is the programmed one, within a few microseconds. Trials start at different
 * points of the run (spins of different lengths in between), so a timer that
 * fires only at the end of an emulator time slice cannot pass by luck.
 *  1. PIT channel 0, mode 0 (interrupt on terminal count), counts 100..800.
 *  2. RTC periodic interrupt at 8192 Hz: the first interrupt after PIE is set
 *     comes within one period, the next ones a period apart.
 *  3. Local APIC timer (xAPIC at 0xfee00000, divide by 1: one count per ns on
 *     rewind and QEMU), one-shot with counts of 50..260 us, then periodic at
 *     100 us. (The TSC-deadline mode, which QEMU's TCG does not offer, is
 *     covered by the unit tests and by Linux, whose clock events use it.)
 *  4. HPET timer 0 in legacy replacement mode (IRQ 0), 32-bit: one-shot
 *     comparators 40..285 us ahead of the main counter. (Periodic HPET
 *     timers are covered by the unit tests: QEMU 7.2 under -icount delivers
 *     the first period's interrupt twice, 10 ns apart.)
 * Under QEMU this needs -icount shift=0 -rtc clock=vm (check_under_qemu.sh
 * passes them): then QEMU's time is instructions too, as rewind's is.
 * Exit value 0 on success, else the number of the failed step. */
#include "lib/rt.h"

#define PM_TIMER  0x608             /* PM1a block at 0x600 (rewind; SeaBIOS on QEMU) */
#define PM_HZ     3579545u
#define PIT_CH0   0x40
#define PIT_CMD   0x43
#define PIT_HZ    1193182u
#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define SLACK     8u                /* PM ticks (~2.2 us) for interrupt delivery */
#define LAPIC     0xFEE00000u
#define HPET      0xFED00000u
#define LAPIC_VECTOR 0x2E              /* rt_idt_init sets up vectors 0-47 */
#define SPURIOUS_VECTOR 0x2F

static volatile uint32_t fired_at[4];
static volatile uint32_t fired;

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static uint32_t pm_now(void) { return inl(PM_TIMER) & 0xFFFFFF; }
static uint32_t pm_since(uint32_t from, uint32_t to) { return (to - from) & 0xFFFFFF; }

static void spin(uint32_t n)
{
    for (volatile uint32_t i = 0; i < n; i++)
        ;
}

static void record_fire(void)
{
    uint32_t now = pm_now();
    if (fired < 4)
        fired_at[fired] = now;
    fired++;
}

static void on_pit(struct rt_frame *f)
{
    (void)f;
    record_fire();
    rt_pic_eoi(0);
}

static void on_rtc(struct rt_frame *f)
{
    (void)f;
    outb(CMOS_INDEX, 0x0C);             /* reading register C acknowledges */
    (void)inb(CMOS_DATA);
    record_fire();
    rt_pic_eoi(8);
}

static volatile uint32_t *lapic(uint32_t offset)
{
    return (volatile uint32_t *)(LAPIC + offset);
}

static void on_lapic_timer(struct rt_frame *f)
{
    (void)f;
    record_fire();
    *lapic(0xB0) = 0;                   /* EOI */
}

static void on_spurious(struct rt_frame *f)
{
    (void)f;                            /* no EOI for the spurious vector */
}

/* Busy-waits (interrupts on, no hlt) until `count` interrupts were recorded. */
static int wait_fired(uint32_t count)
{
    __asm__ volatile("sti" ::: "memory");
    for (uint32_t i = 0; i < 50000000 && fired < count; i++)
        ;
    __asm__ volatile("cli" ::: "memory");
    return fired >= count;
}

/* Elapsed PM ticks between `low` and `high` (+ SLACK for delivery). */
static int within(uint32_t got, uint32_t low, uint32_t high)
{
    return got + 1 >= low && got <= high + SLACK;
}

static void report(const char *what, uint32_t trial, int ok, uint32_t got, uint32_t want)
{
    if (ok)
        return;
    rt_puts(what);
    rt_puts(" trial ");
    rt_put_dec(trial);
    rt_puts(": ");
    rt_put_dec(got);
    rt_puts(" PM ticks, expected ");
    rt_put_dec(want);
    rt_puts("\n");
}

/* A periodic timer armed at `armed`: the first interrupt at least
 * `first_low` PM ticks later and within a period, the next two a period
 * apart (a grid finer than the PM timer may make a gap a tick or two longer
 * or shorter). */
static int check_periodic(const char *what, uint32_t trial, uint32_t armed, uint32_t first_low,
                          uint32_t period)
{
    uint32_t first = pm_since(armed, fired_at[0]);
    int ok = within(first, first_low, period + 1);
    report(what, trial, ok, first, period);
    int all_ok = ok;
    for (int i = 1; i < 3; i++) {
        uint32_t gap = pm_since(fired_at[i - 1], fired_at[i]);
        ok = gap + 2 >= period && gap <= period + 2;
        report(what, trial, ok, gap, period);
        all_ok &= ok;
    }
    return all_ok;
}

static int pit_one_shots(void)
{
    int all_ok = 1;
    for (uint32_t trial = 0; trial < 8; trial++) {
        uint32_t count = 100 * (trial + 1);
        spin(1000 + trial * 7919);
        fired = 0;
        outb(PIT_CMD, 0x30);            /* channel 0, lobyte/hibyte, mode 0 */
        outb(PIT_CH0, (uint8_t)count);
        outb(PIT_CH0, (uint8_t)(count >> 8));   /* counting starts */
        uint32_t armed = pm_now();
        if (!wait_fired(1)) {
            report("pit one-shot: no interrupt,", trial, 0, 0, 0);
            return 0;
        }
        /* Mode 0: OUT rises count + 1 input clocks after the count is
         * written on an 8254 (the first loads the counter); QEMU takes count. */
        uint32_t low = (count * PM_HZ + PIT_HZ / 2) / PIT_HZ;           /* < 2^32 */
        uint32_t want = ((count + 1) * PM_HZ + PIT_HZ / 2) / PIT_HZ;
        uint32_t got = pm_since(armed, fired_at[0]);
        int ok = within(got, low, want);
        report("pit one-shot", trial, ok, got, want);
        all_ok &= ok;
    }
    return all_ok;
}

static void cmos_write(uint8_t index, uint8_t value)
{
    outb(CMOS_INDEX, index);
    outb(CMOS_DATA, value);
}

static uint8_t cmos_read(uint8_t index)
{
    outb(CMOS_INDEX, index);
    return inb(CMOS_DATA);
}

static int rtc_periodic(void)
{
    /* Rate 3: 32768 Hz / 4 = 8192 Hz, a period of 122.07 us. */
    const uint32_t period = (4 * PM_HZ + 16384) / 32768;
    int all_ok = 1;
    cmos_write(0x0A, (uint8_t)((cmos_read(0x0A) & 0xF0) | 3));
    for (uint32_t trial = 0; trial < 4; trial++) {
        spin(3000 + trial * 10007);
        fired = 0;
        /* PF is set at the periodic rate whether or not PIE is (an 8192 Hz
         * flag is stale by now): clear it, or PIE raises IRQ8 at once. */
        (void)cmos_read(0x0C);
        cmos_write(0x0B, (uint8_t)(cmos_read(0x0B) | 0x40));    /* PIE on */
        uint32_t armed = pm_now();
        int got_all = wait_fired(3);
        cmos_write(0x0B, (uint8_t)(cmos_read(0x0B) & ~0x40));
        (void)cmos_read(0x0C);
        if (!got_all) {
            report("rtc periodic: too few interrupts,", trial, 0, fired, 3);
            return 0;
        }
        /* The RTC's interrupts keep the phase of its 32 kHz divider chain. */
        all_ok &= check_periodic("rtc periodic", trial, armed, 0, period);
    }
    return all_ok;
}

/* Eight one-shot trials of first_us, first_us + step_us, ... microseconds:
 * `arm` starts the timer, which must fire the programmed time after it did
 * (+1 PM tick of rounding, + SLACK). */
static int one_shot_trials(const char *what, uint32_t first_us, uint32_t step_us, uint32_t spin_base,
                           uint32_t spin_step, void (*arm)(uint32_t us))
{
    int all_ok = 1;
    for (uint32_t trial = 0; trial < 8; trial++) {
        uint32_t us = first_us + step_us * trial;
        spin(spin_base + trial * spin_step);
        fired = 0;
        arm(us);
        uint32_t armed = pm_now();
        if (!wait_fired(1)) {
            rt_puts(what);
            rt_puts(": no interrupt\n");
            return 0;
        }
        uint32_t want = (us * PM_HZ + 500000) / 1000000;    /* < 2^32 */
        uint32_t got = pm_since(armed, fired_at[0]);
        int ok = within(got, want, want + 1);
        report(what, trial, ok, got, want);
        all_ok &= ok;
    }
    return all_ok;
}

static void lapic_arm(uint32_t us)
{
    *lapic(0x320) = LAPIC_VECTOR;       /* one-shot, unmasked */
    *lapic(0x380) = us * 1000;          /* counting starts */
}

static int lapic_timer(void)
{
    *lapic(0xF0) = 0x100 | SPURIOUS_VECTOR;   /* SVR: enabled */
    *lapic(0x3E0) = 0xB;                /* divide by 1 */
    int all_ok = one_shot_trials("lapic one-shot", 50, 30, 2000, 6007, lapic_arm);
    const uint32_t period = (100 * PM_HZ + 500000) / 1000000;
    for (uint32_t trial = 0; trial < 3; trial++) {
        spin(3000 + trial * 9001);
        fired = 0;
        *lapic(0x320) = 0x20000 | LAPIC_VECTOR;     /* periodic */
        *lapic(0x380) = 100000;
        uint32_t armed = pm_now();
        int got_all = wait_fired(3);
        *lapic(0x380) = 0;                          /* stop */
        *lapic(0x320) = 0x10000 | LAPIC_VECTOR;
        if (!got_all) {
            report("lapic periodic: too few interrupts,", trial, 0, fired, 3);
            return 0;
        }
        /* The APIC timer's period starts when the count is written. */
        all_ok &= check_periodic("lapic periodic", trial, armed, period, period);
    }
    return all_ok;
}

static volatile uint32_t *hpet(uint32_t offset)
{
    return (volatile uint32_t *)(HPET + offset);
}

static uint32_t hpet_ticks_per_us;

static void hpet_arm(uint32_t us)
{
    *hpet(0x108) = *hpet(0xF0) + us * hpet_ticks_per_us;
}

static int hpet_timers(void)
{
    hpet_ticks_per_us = 1000000000u / *hpet(0x04);  /* COUNTER_CLK_PERIOD in fs */
    /* Timer 0: 32-bit, edge, one-shot. Its comparator resets to all ones,
     * which the 32-bit counter has just passed, and a comparator behind the
     * counter fires at once: put it half the range ahead first. */
    *hpet(0x100) = 0x100;
    *hpet(0x108) = *hpet(0xF0) + 0x7FFFFFFFu;
    *hpet(0x10) = 3;                    /* counter on, legacy replacement: timer 0 -> IRQ 0 */
    *hpet(0x100) = 0x100 | 0x4;         /* interrupt on */
    int ok = one_shot_trials("hpet one-shot", 40, 35, 2500, 5003, hpet_arm);
    *hpet(0x10) = 0;                    /* the PIT gets IRQ 0 back */
    return ok;
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    (void)mbi;
    rt_serial_init(1);
    rt_puts("timer_deadlines: start\n");
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    rt_idt_init();
    rt_pic_init(0x20);
    rt_set_handler(0x20, on_pit);
    rt_set_handler(0x28, on_rtc);
    rt_set_handler(LAPIC_VECTOR, on_lapic_timer);
    rt_set_handler(SPURIOUS_VECTOR, on_spurious);

    rt_pic_set_mask(0xFE, 0xFF);        /* IRQ0 only */
    if (!rt_check("pit one-shots armed in a busy loop fire at their deadline", pit_one_shots()))
        return 1;
    rt_pic_set_mask(0xFB, 0xFE);        /* IRQ8 through the cascade */
    if (!rt_check("rtc periodic interrupts armed in a busy loop keep their period", rtc_periodic()))
        return 2;
    rt_pic_set_mask(0xFF, 0xFF);
    if (!rt_check("local APIC timers armed in a busy loop fire at their deadline", lapic_timer()))
        return 3;
    rt_set_handler(0x20, on_pit);       /* IRQ 0, now from the HPET */
    rt_pic_set_mask(0xFE, 0xFF);
    if (!rt_check("HPET timers armed in a busy loop fire at their deadline", hpet_timers()))
        return 4;
    rt_pic_set_mask(0xFF, 0xFF);
    rt_puts("timer_deadlines: done\n");
    return 0;
}
