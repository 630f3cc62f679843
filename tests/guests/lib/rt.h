/* Tiny runtime shared by the rewind test guests (32-bit protected mode, ring 0). */
#ifndef REWIND_GUEST_RT_H
#define REWIND_GUEST_RT_H

#include <stdint.h>
#include <stddef.h>
#include "multiboot.h"

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

/* ---- serial port COM1 ---- */
#define COM1 0x3f8
/* fifo != 0: enable and clear the 16550 FIFOs; fifo == 0: leave FCR alone (FIFO off
 * after reset), so a byte already received is not flushed. */
void rt_serial_init(int fifo);
void rt_putc(char c);
void rt_puts(const char *s);
void rt_put_hex32(uint32_t v);      /* "0x" + 8 lower-case digits */
void rt_put_hex8(uint8_t v);        /* "0x" + 2 digits */
void rt_put_dec(uint32_t v);
/* "<label>: ok\n" or "<label>: FAIL\n"; returns ok */
int rt_check(const char *label, int ok);

/* ---- isa-debug-exit (port 0xf4): emulator exit status = (value << 1) | 1 ---- */
#define DEBUG_EXIT_PORT 0xf4
__attribute__((noreturn)) void rt_exit(uint8_t value);

/* ---- strings ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
size_t rt_strlen(const char *s);
/* Pointer just after the first occurrence of key in s, or NULL. */
const char *rt_find(const char *s, const char *key);
/* Parses a decimal number at s; *ok = 0 if there is no digit. */
uint32_t rt_parse_dec(const char *s, int *ok);
/* The multiboot command line without a loader-added first word: GRUB and QEMU
 * put the kernel's file name first; a first word containing no '=' is skipped. */
const char *rt_cmdline_args(const struct mb_info *mbi);

/* ---- descriptor tables ---- */
#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define GDT_LIMIT 23                 /* null, code, data: 3 entries */

struct rt_frame {                    /* as built by isr.S */
    uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
    uint32_t vector, err;            /* err = 0 for vectors without an error code */
    uint32_t eip, cs, eflags;        /* pushed by the CPU (ring 0 -> ring 0) */
};
typedef void (*rt_handler)(struct rt_frame *f);

/* Fills the IDT with the stubs of isr.S (vectors 0-47 as interrupt gates, 0x80 as
 * a trap gate), loads it; handlers default to "unexpected interrupt: exit 0x7f". */
void rt_idt_init(void);
void rt_set_handler(uint8_t vector, rt_handler h);
void rt_interrupt(struct rt_frame *f);    /* called from isr.S */

/* ---- i8259 PICs ---- */
/* ICW1-4: master vectors base..base+7, slave base+8..; all lines masked. */
void rt_pic_init(uint8_t base);
void rt_pic_set_mask(uint8_t master, uint8_t slave);
void rt_pic_eoi(uint8_t irq);

/* Provided by each guest. */
int kmain(uint32_t magic, const struct mb_info *mbi);

#endif
