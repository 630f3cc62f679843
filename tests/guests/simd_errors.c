/* simd_errors: how an unmasked SSE exception reaches software.
 *  1. CR4.OSXMMEXCPT set: DIVSS by zero with ZE unmasked faults with #XM
 *     (vector 19) before writing its destination; the handler finds ZE in
 *     MXCSR and masks it, so the re-executed DIVSS delivers +inf.
 *  2. CR4.OSXMMEXCPT clear: the same fault is #UD (vector 6).
 *  3. Masked: no fault, the flag alone.
 * QEMU 7.2 TCG raises no #XM (an unmasked exception only sets its flag), so
 * check_under_qemu.sh skips this guest; #XM itself is checked against the
 * host CPU by the difftest (tests/difftest), the #UD case by the SDM alone.
 * Exit value 0 on success, else the number of the failed step. */
#include "lib/rt.h"

static volatile uint32_t xm_count, ud_count, mxcsr_in_handler;

static void mask_zero_divide(void)
{
    uint32_t mx;
    __asm__ volatile("stmxcsr %0" : "=m"(mx));
    mxcsr_in_handler = mx;
    mx |= 1u << 9;                      /* ZM */
    __asm__ volatile("ldmxcsr %0" :: "m"(mx));
}
static void on_xm(struct rt_frame *f) { (void)f; mask_zero_divide(); xm_count++; }
static void on_ud(struct rt_frame *f) { (void)f; mask_zero_divide(); ud_count++; }

/* 1.0f / 0.0f with MXCSR = mxcsr; returns the quotient's bits and MXCSR after. */
static uint32_t divide_by_zero(uint32_t mxcsr, uint32_t *after)
{
    static const uint32_t one = 0x3f800000u, zero = 0;
    uint32_t q = 0x12345678u;
    __asm__ volatile("ldmxcsr %3\n movss %1, %%xmm0\n divss %2, %%xmm0\n movss %%xmm0, %0\n stmxcsr %4"
                     : "+m"(q) : "m"(one), "m"(zero), "m"(mxcsr), "m"(*after) : "memory");
    return q;
}

static int report(const char *what, uint32_t q, uint32_t after, int ok)
{
    rt_puts(what);
    rt_puts(": quotient ");
    rt_put_hex32(q);
    rt_puts(", MXCSR after ");
    rt_put_hex32(after);
    rt_puts(", #XM ");
    rt_put_dec(xm_count);
    rt_puts(", #UD ");
    rt_put_dec(ud_count);
    rt_puts(", MXCSR in the handler ");
    rt_put_hex32(mxcsr_in_handler);
    return rt_check("", ok);
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    (void)mbi;
    rt_serial_init(1);
    rt_puts("simd_errors: start\n");
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    rt_idt_init();
    rt_set_handler(19, on_xm);
    rt_set_handler(6, on_ud);
    uint32_t cr0, cr4, after = 0;
    __asm__ volatile("mov %%cr0, %0\n mov %%cr4, %1" : "=r"(cr0), "=r"(cr4));
    __asm__ volatile("mov %0, %%cr0" :: "r"((cr0 & ~0xcu) | 0x22u));
    __asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | 0x600u));          /* OSFXSR, OSXMMEXCPT */

    uint32_t q = divide_by_zero(0x1d80, &after);                     /* ZM clear */
    if (!report("OSXMMEXCPT=1, ZE unmasked", q, after,
                q == 0x7f800000u && xm_count == 1 && ud_count == 0 && mxcsr_in_handler == 0x1d84))
        return 1;

    __asm__ volatile("mov %0, %%cr4" :: "r"((cr4 | 0x200u) & ~0x400u));  /* OSXMMEXCPT clear */
    q = divide_by_zero(0x1d80, &after);
    if (!report("OSXMMEXCPT=0, ZE unmasked", q, after,
                q == 0x7f800000u && xm_count == 1 && ud_count == 1 && mxcsr_in_handler == 0x1d84))
        return 2;

    q = divide_by_zero(0x1f80, &after);
    if (!report("ZE masked", q, after, q == 0x7f800000u && after == 0x1f84 && xm_count == 1 && ud_count == 1))
        return 3;
    return 0;
}
