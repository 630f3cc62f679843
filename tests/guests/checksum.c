/* checksum: CPU-bound guest; the work and the output text are in checksum_algo.h. */
#include "lib/rt.h"
#include "checksum_algo.h"

static uint32_t table[256];
static uint8_t buf[CHECKSUM_BUF_SIZE];

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    rt_serial_init(1);
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    uint32_t rounds = checksum_rounds(rt_cmdline_args(mbi));
    checksum_make_table(table);
    checksum_fill(buf);
    uint32_t crc = checksum_run(rounds, buf, table);
    char out[128];
    checksum_format(out, rounds, crc);
    rt_puts(out);
    return 0;
}
