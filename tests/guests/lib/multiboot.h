/* Multiboot (version 0.6.96) structures, written from the specification. */
#ifndef REWIND_GUEST_MULTIBOOT_H
#define REWIND_GUEST_MULTIBOOT_H

#include <stdint.h>

#define MB_HEADER_MAGIC 0x1BADB002u     /* in the kernel image */
#define MB_BOOT_MAGIC   0x2BADB002u     /* in EAX at entry */

/* multiboot_info.flags bits */
#define MBI_MEM      (1u << 0)
#define MBI_BOOTDEV  (1u << 1)
#define MBI_CMDLINE  (1u << 2)
#define MBI_MODS     (1u << 3)
#define MBI_MMAP     (1u << 6)
#define MBI_LOADER   (1u << 9)

struct mb_info {
    uint32_t flags;
    uint32_t mem_lower;         /* KiB below 1 MiB */
    uint32_t mem_upper;         /* KiB above 1 MiB, up to the first hole */
    uint32_t boot_device;
    uint32_t cmdline;           /* physical address of a NUL-terminated string */
    uint32_t mods_count;
    uint32_t mods_addr;         /* array of struct mb_module */
    uint32_t syms[4];
    uint32_t mmap_length;       /* bytes */
    uint32_t mmap_addr;         /* buffer of struct mb_mmap_entry */
    uint32_t drives_length;
    uint32_t drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
    uint32_t apm_table;
};

struct mb_module {
    uint32_t mod_start;
    uint32_t mod_end;           /* one past the last byte */
    uint32_t string;
    uint32_t reserved;
};

/* 'size' is the size of the rest of the entry (not counting 'size' itself). */
struct mb_mmap_entry {
    uint32_t size;
    uint32_t base_lo, base_hi;
    uint32_t len_lo, len_hi;
    uint32_t type;              /* 1 = available RAM */
} __attribute__((packed));

#endif
