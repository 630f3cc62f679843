/* hello: greeting plus the Multiboot information the loader passed.
 * Output is loader-independent for any correct loader given the harness's
 * command line, modules and -m 128M (see README.md); "verbose" on the command
 * line adds the raw memory map, whose entries differ between firmwares. */
#include "lib/rt.h"

static void put_text(const unsigned char *p, uint32_t n)
{
    for (uint32_t i = 0; i < n && i < 40 && p[i] != '\n'; i++)
        rt_putc(p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.');
}

/* Is [a, b) inside one entry of type 1 (available RAM)? */
static int mmap_covers(const struct mb_info *mbi, uint64_t a, uint64_t b)
{
    uint32_t off = 0;
    while (off + 4 <= mbi->mmap_length) {
        const struct mb_mmap_entry *e = (const void *)(mbi->mmap_addr + off);
        uint64_t base = ((uint64_t)e->base_hi << 32) | e->base_lo;
        uint64_t len = ((uint64_t)e->len_hi << 32) | e->len_lo;
        if (e->type == 1 && base <= a && base + len >= b)
            return 1;
        off += e->size + 4;
    }
    return 0;
}

extern char __kernel_end[];

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    rt_serial_init(1);
    rt_puts("hello from a rewind test guest\n");
    if (!rt_check("multiboot magic 0x2badb002", magic == MB_BOOT_MAGIC)) {
        rt_puts("got ");
        rt_put_hex32(magic);
        rt_putc('\n');
        return 1;
    }
    const uint32_t need = MBI_MEM | MBI_CMDLINE | MBI_MODS | MBI_MMAP;
    if (!rt_check("info flags: mem, cmdline, mods, mmap present", (mbi->flags & need) == need))
        return 2;

    /* The exact values depend on the firmware (SeaBIOS keeps the EBDA and the top
     * 128 KiB for itself), so only ranges valid for -m 128M are printed. */
    const char *args = rt_cmdline_args(mbi);
    int ok = 1;
    if (rt_find(args, "verbose")) {
        rt_puts("mem_lower: ");
        rt_put_dec(mbi->mem_lower);
        rt_puts(" KiB\nmem_upper: ");
        rt_put_dec(mbi->mem_upper);
        rt_puts(" KiB\n");
    }
    ok &= rt_check("mem_lower in [600, 640] KiB", mbi->mem_lower >= 600 && mbi->mem_lower <= 640);
    ok &= rt_check("mem_upper in [120, 127] MiB (-m 128M)",
                   mbi->mem_upper >= 120 * 1024 && mbi->mem_upper <= 127 * 1024);

    rt_puts("cmdline: \"");
    rt_puts(args);
    rt_puts("\"\n");

    rt_puts("modules: ");
    rt_put_dec(mbi->mods_count);
    rt_putc('\n');
    const struct mb_module *mods = (const void *)mbi->mods_addr;
    for (uint32_t i = 0; i < mbi->mods_count; i++) {
        uint32_t n = mods[i].mod_end - mods[i].mod_start;
        int aligned = (mods[i].mod_start & 0xfff) == 0;
        rt_puts("module ");
        rt_put_dec(i);
        rt_puts(": ");
        rt_put_dec(n);
        rt_puts(" bytes, page-aligned: ");
        rt_puts(aligned ? "yes" : "NO");
        rt_puts(", text: \"");
        put_text((const unsigned char *)mods[i].mod_start, n);
        rt_puts("\"\n");
        ok &= aligned;
    }

    /* Raw entries only on request: they depend on the firmware/loader. */
    int well_formed = mbi->mmap_length > 0;
    uint64_t avail_above_1m_kib = 0;
    for (uint32_t off = 0; off + 4 <= mbi->mmap_length;) {
        const struct mb_mmap_entry *e = (const void *)(mbi->mmap_addr + off);
        if (e->size < 20 || e->type == 0)
            well_formed = 0;
        if (rt_find(args, "verbose")) {
            rt_puts("mmap entry: base ");
            rt_put_hex32(e->base_hi);
            rt_putc(':');
            rt_put_hex32(e->base_lo);
            rt_puts(" length ");
            rt_put_hex32(e->len_hi);
            rt_putc(':');
            rt_put_hex32(e->len_lo);
            rt_puts(" type ");
            rt_put_dec(e->type);
            rt_putc('\n');
        }
        uint64_t base = ((uint64_t)e->base_hi << 32) | e->base_lo;
        uint64_t len = ((uint64_t)e->len_hi << 32) | e->len_lo;
        if (e->type == 1 && base >= 0x100000)
            avail_above_1m_kib += len >> 10;
        if (e->size < 20)
            break;
        off += e->size + 4;
    }
    ok &= rt_check("mmap: entries well-formed", well_formed);
    ok &= rt_check("mmap: low memory [0, 0x9f000) available", mmap_covers(mbi, 0, 0x9f000));
    ok &= rt_check("mmap: kernel image available", mmap_covers(mbi, 0x100000, (uint32_t)__kernel_end));
    ok &= rt_check("mmap: at least 120 MiB available above 1 MiB", avail_above_1m_kib >= 120 * 1024);

    rt_puts("bye\n");
    return ok ? 0 : 3;
}
