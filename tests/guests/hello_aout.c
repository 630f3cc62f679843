/* hello_aout: minimal greeting from a kernel loaded through the Multiboot a.out
 * kludge (header flags bit 16); see hello_aout_header.S. */
#include "lib/rt.h"

extern volatile uint32_t hello_aout_via_elf;
extern volatile unsigned char hello_aout_fakebss[256];
static volatile uint32_t bss_word;

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    (void)mbi;
    rt_serial_init(1);
    rt_puts("hello from a rewind test guest (a.out kludge)\n");
    if (!rt_check("multiboot magic 0x2badb002", magic == MB_BOOT_MAGIC))
        return 1;
    if (!rt_check("entered at the header's entry_addr", hello_aout_via_elf == 0))
        return 2;
    int zero = bss_word == 0;
    for (int i = 0; i < 256; i++)
        zero &= hello_aout_fakebss[i] == 0;
    if (!rt_check("[load_end_addr, bss_end_addr) zeroed", zero))
        return 3;
    rt_puts("bye\n");
    return 0;
}
