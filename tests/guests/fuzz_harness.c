/* fuzz_harness: runs machine code it is given as a module (-initrd code.bin)
 * as 16-bit protected-mode, 32-bit or 64-bit code (-append mode=16|32|64),
 * for the guest-code fuzzer (tests/fuzz/guest_code_fuzz.cc). The code starts
 * with every general register 0 but the stack pointer, interrupts enabled and
 * the PIT ticking at 1 kHz; every exception is counted and the code resumes
 * one byte further on (after a trap, where the CPU left it); after 64
 * exceptions or 20 ticks the harness reports and exits with value 0 through
 * isa-debug-exit, at port 0xf4 or the one -append exit=PORT (decimal) names
 * (the fuzzer moves it where `out imm8` cannot reach).
 *   16: CS = 16-bit code segment (base 0), code at 0x7000 (up to 4 KiB),
 *       DS/ES/SS flat 32-bit data; the handlers are the 32-bit ones.
 *   32: flat, code at 0x400000 (up to 64 KiB).
 *   64: IA-32e mode, 0-1 GiB identity mapped, code at 0x400000
 *       (fuzz_harness64.S holds the 64-bit side).
 * Without a module it runs "sti; int3; 1: hlt; jmp 1b" in each mode in turn:
 * its expected output. */
#include "lib/rt.h"

#define CODE16_ADDR 0x7000u
#define CODE16_MAX  0x1000u
#define CODE_ADDR   0x400000u
#define CODE_MAX    0x10000u
#define STACK_TOP   0x500000u
#define PAD         256u
#define MAX_EXCEPTIONS 64u
#define MAX_TICKS      20u

struct h_frame {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
    uint32_t vector, err;
    uint32_t eip, cs, eflags;
};

/* Shared with fuzz_harness64.S. */
volatile uint32_t h_exceptions, h_ticks, h_first_vector, h_first_offset;
uint32_t h_code_base;
uint16_t h_exit_port = 0xf4;

extern const uint32_t h_stub32_table[256];
extern const uint32_t h_stub64_table[256];
__attribute__((noreturn)) void h_enter32(uint32_t eip, uint32_t cs, uint32_t esp);
__attribute__((noreturn)) void h_enter64(uint32_t pml4);

static uint64_t gdt[6] __attribute__((aligned(8))) = {
    0,
    0x00CF9A000000FFFFull,  /* 0x08 code, 32-bit, flat */
    0x00CF92000000FFFFull,  /* 0x10 data, flat */
    0x00009A000000FFFFull,  /* 0x18 code, 16-bit, base 0, 64 KiB */
    0x000092000000FFFFull,  /* 0x20 data, 16-bit, base 0, 64 KiB */
    0x00AF9A000000FFFFull,  /* 0x28 code, 64-bit */
};
static uint64_t idt32[256] __attribute__((aligned(8)));
uint64_t h_idt64[512] __attribute__((aligned(16)));  /* 256 16-byte gates */
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));

static const uint8_t self_test_code[] = {0xfb, 0xcc, 0xf4, 0xeb, 0xfd};
static const uint8_t *code;
static uint32_t code_len;
static unsigned mode;
static int self_test;

static void load_descriptor_tables(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } g = {sizeof gdt - 1, (uint32_t)gdt};
    __asm__ volatile("lgdt %0" : : "m"(g));
    for (int v = 0; v < 256; v++) {
        uint32_t a = h_stub32_table[v];
        idt32[v] = (a & 0xFFFFu) | (0x08ull << 16) | (0x8E00ull << 32) | ((uint64_t)(a >> 16) << 48);
        uint32_t b = h_stub64_table[v];
        h_idt64[2 * v] = (b & 0xFFFFu) | (0x28ull << 16) | (0x8E00ull << 32) | ((uint64_t)(b >> 16) << 48);
        h_idt64[2 * v + 1] = 0;
    }
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } i = {sizeof idt32 - 1, (uint32_t)idt32};
    __asm__ volatile("lidt %0" : : "m"(i));
}

static void start_timer(void)
{
    rt_pic_init(0x20);
    uint16_t div = 1193;                /* ~1 kHz */
    outb(0x43, 0x34);                   /* channel 0, lobyte/hibyte, mode 2 */
    outb(0x40, (uint8_t)div);
    outb(0x40, (uint8_t)(div >> 8));
    rt_pic_set_mask(0xFE, 0xFF);        /* IRQ0 only */
}

static void report(void)
{
    rt_puts("fuzz_harness: mode ");
    rt_put_dec(mode);
    rt_puts(": exceptions ");
    rt_put_hex32(h_exceptions);
    rt_puts(", first vector ");
    rt_put_hex32(h_first_vector);
    rt_puts(" at +");
    rt_put_hex32(h_first_offset);
    rt_puts(", ticks ");
    rt_put_hex32(h_ticks);
    rt_putc('\n');
}

__attribute__((noreturn)) static void run_mode(unsigned m);

/* The end of one mode: report, then the next mode of the self-test. */
__attribute__((noreturn)) static void finish(void)
{
    report();
    if (self_test && mode == 16)
        run_mode(32);
    if (self_test && mode == 32)
        run_mode(64);
    outb(h_exit_port, 0);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* Every interrupt and exception in modes 16 and 32. */
void harness_event(struct h_frame *f)
{
    if (f->vector >= 0x20 && f->vector < 0x30) {
        if (f->vector >= 0x28)
            outb(0xA0, 0x20);
        outb(0x20, 0x20);
        if (f->vector == 0x20 && ++h_ticks >= MAX_TICKS)
            finish();
        return;
    }
    if (h_exceptions++ == 0) {
        h_first_vector = f->vector;
        h_first_offset = f->eip - h_code_base;
    }
    /* Faults leave EIP on the instruction: step over a byte. Traps
     * (#BP, #OF) and software interrupts have already moved past it. */
    if (!(f->vector == 3 || f->vector == 4 || f->vector >= 0x20))
        f->eip = mode == 16 ? (uint16_t)(f->eip + 1) : f->eip + 1;
    if (h_exceptions >= MAX_EXCEPTIONS)
        finish();
}

static void place(uint8_t *dst, uint32_t max)
{
    uint32_t n = code_len < max - PAD ? code_len : max - PAD;
    memcpy(dst, code, n);
    memset(dst + n, 0xCC, PAD);         /* int3 after the code */
}

static void run_mode(unsigned m)
{
    mode = m;
    h_exceptions = h_ticks = h_first_vector = h_first_offset = 0;
    start_timer();
    if (m == 16) {
        place((uint8_t *)CODE16_ADDR, CODE16_MAX);
        h_code_base = CODE16_ADDR;
        h_enter32(CODE16_ADDR, 0x18, STACK_TOP);
    }
    place((uint8_t *)CODE_ADDR, CODE_MAX);
    h_code_base = CODE_ADDR;
    if (m == 32)
        h_enter32(CODE_ADDR, 0x08, STACK_TOP);
    for (uint32_t i = 0; i < 512; i++)
        pd[i] = ((uint64_t)i << 21) | 0x83;     /* 2 MiB, present, writable */
    pdpt[0] = (uint32_t)pd | 0x3;
    pml4[0] = (uint32_t)pdpt | 0x3;
    h_enter64((uint32_t)pml4);
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    rt_serial_init(1);
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    load_descriptor_tables();
    const char *args = rt_cmdline_args(mbi);
    const char *port = rt_find(args, "exit=");
    int port_ok = 0;
    uint32_t p = port ? rt_parse_dec(port, &port_ok) : 0;
    if (port_ok && p <= 0xffff)
        h_exit_port = (uint16_t)p;
    const char *m = rt_find(args, "mode=");
    int ok = 0;
    unsigned want = m ? rt_parse_dec(m, &ok) : 0;
    if ((mbi->flags & MBI_MODS) && mbi->mods_count > 0) {
        const struct mb_module *mod = (const struct mb_module *)mbi->mods_addr;
        code = (const uint8_t *)mod->mod_start;
        code_len = mod->mod_end - mod->mod_start;
    } else {
        code = self_test_code;
        code_len = sizeof self_test_code;
        self_test = 1;
        rt_puts("fuzz_harness: self-test, in each mode: sti; int3; 1: hlt; jmp 1b\n");
    }
    if (!self_test && !(ok && (want == 16 || want == 32 || want == 64))) {
        rt_puts("fuzz_harness: expected mode=16, mode=32 or mode=64\n");
        return 2;
    }
    run_mode(self_test ? 16 : want);
}
