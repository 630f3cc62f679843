/* realmode: 16-bit protected mode, real mode and unreal mode, as firmware
 * and boot loaders use them (realmode16.S does the work):
 *  1. a 16-bit code segment in protected mode (PUSH/POP of a word);
 *  2. back to real mode by clearing CR0.PE: CS 0x0800 after a far jump;
 *  3. unreal mode: DS keeps the 4 GiB limit it had in protected mode, so a
 *     32-bit address reaches above 1 MiB;
 *  4. 32-bit operations with an operand-size prefix, INT n through the IVT
 *     and IRET, a far CALL and RETF, port I/O (a line through COM1);
 *  5. back to 32-bit protected mode.
 * Exit value 0 on success, else the number of the failed check. */
#include "lib/rt.h"

struct rm_results {
    uint16_t pm16_pop;
    uint16_t int_count;
    uint16_t far;
    uint16_t pad;
    uint32_t unreal;
    uint32_t opsize;
    uint16_t cs;
};
#define RESULTS ((volatile struct rm_results *)0x7e00)

void rm_test(void);

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    (void)mbi;
    rt_serial_init(1);
    rt_puts("realmode: start\n");
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    memset((void *)RESULTS, 0, sizeof *RESULTS);
    rm_test();
    rt_puts("realmode: back in 32-bit protected mode\n");
    if (!rt_check("16-bit protected mode: PUSH/POP of a word", RESULTS->pm16_pop == 0x1234))
        return 1;
    if (!rt_check("real mode: CS 0x0800 after the far jump", RESULTS->cs == 0x0800))
        return 2;
    if (!rt_check("unreal mode: a dword written and read at 0x200000 through DS",
                  RESULTS->unreal == 0x5aa5c33c && *(volatile uint32_t *)0x200000 == 0x5aa5c33c))
        return 3;
    if (!rt_check("real mode: 32-bit ADD with an operand-size prefix", RESULTS->opsize == 0x23456789))
        return 4;
    if (!rt_check("real mode: INT 0x30 through the IVT, twice", RESULTS->int_count == 2))
        return 5;
    if (!rt_check("real mode: far CALL and RETF", RESULTS->far == 0x4321))
        return 6;
    return 0;
}
