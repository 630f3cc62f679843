/* rtc: reads the MC146818 real-time clock the way a kernel does at boot, so a
 * recording holds the one host-time input a run takes (the wall clock at the
 * first RTC read) and its replay must hand it out during the same
 * instruction.
 *  1. The very first thing the guest does is read the seconds register
 *     (index written to port 0x70, data read from port 0x71).
 *  2. Then the whole date, as Linux's mach_get_cmos_time() does: wait while
 *     update-in-progress (register A bit 7) is set, read seconds..year and
 *     the century, and read again until two reads agree.
 *  3. Every field must be valid BCD in its range (register B says BCD,
 *     24-hour), and the year at least 2024.
 * The time itself is the host's, so only the checks are printed.
 * Exit value 0 on success, else the number of the failed step. */
#include "lib/rt.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71

static uint8_t cmos_read(uint8_t index)
{
    outb(CMOS_INDEX, index);
    return inb(CMOS_DATA);
}

struct rtc_time {
    uint8_t sec, min, hour, mday, mon, year, century;
};

static void read_once(struct rtc_time *t)
{
    while (cmos_read(0x0A) & 0x80)      /* update in progress */
        ;
    t->sec = cmos_read(0x00);
    t->min = cmos_read(0x02);
    t->hour = cmos_read(0x04);
    t->mday = cmos_read(0x07);
    t->mon = cmos_read(0x08);
    t->year = cmos_read(0x09);
    t->century = cmos_read(0x32);
}

static int same(const struct rtc_time *a, const struct rtc_time *b)
{
    return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->mday == b->mday &&
           a->mon == b->mon && a->year == b->year && a->century == b->century;
}

/* A BCD byte in [lo, hi]; its binary value through *v. */
static int bcd_in(uint8_t b, unsigned lo, unsigned hi, unsigned *v)
{
    if ((b & 0x0F) > 9 || (b >> 4) > 9)
        return 0;
    *v = (b >> 4) * 10u + (b & 0x0Fu);
    return *v >= lo && *v <= hi;
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    (void)mbi;
    uint8_t first_seconds = cmos_read(0x00);    /* step 1: before anything else */
    rt_serial_init(1);
    rt_puts("rtc: start\n");
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    unsigned v;
    if (!rt_check("rtc: first read of the seconds is valid BCD", bcd_in(first_seconds, 0, 59, &v)))
        return 1;

    struct rtc_time a, b;
    read_once(&a);
    for (int tries = 0;; tries++) {
        read_once(&b);
        if (same(&a, &b))
            break;
        if (tries == 10) {
            rt_check("rtc: two reads agree", 0);
            return 2;
        }
        a = b;
    }
    uint8_t reg_b = cmos_read(0x0B);
    if (!rt_check("rtc: register B says BCD, 24-hour", (reg_b & 0x06) == 0x02))
        return 3;
    unsigned sec, min, hour, mday, mon, year, century;
    int ok = bcd_in(a.sec, 0, 59, &sec) && bcd_in(a.min, 0, 59, &min) && bcd_in(a.hour, 0, 23, &hour) &&
             bcd_in(a.mday, 1, 31, &mday) && bcd_in(a.mon, 1, 12, &mon) && bcd_in(a.year, 0, 99, &year) &&
             bcd_in(a.century, 19, 21, &century);
    if (!rt_check("rtc: date and time fields are valid BCD in range", ok))
        return 3;
    if (!rt_check("rtc: the year is 2024 or later", century * 100 + year >= 2024))
        return 3;
    rt_puts("rtc: done\n");
    return 0;
}
