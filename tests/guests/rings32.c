/* rings32: privilege levels in 32-bit protected mode (no paging).
 *  1. Ring 3 entered by IRET with IOPL 0; it writes to COM1 itself, the
 *     TSS's I/O permission bitmap allowing ports 0x3f8-0x3ff.
 *  2. A far CALL from ring 3 through a call gate (DPL 3, two parameters)
 *     to ring 0: the routine sees CPL 0, the parameters copied to its stack
 *     from the TSS (SS0:ESP0) and the caller's SS:ESP above them; RETF 8
 *     returns to ring 3.
 *  3. A far CALL from ring 3 to a conforming code segment of DPL 0: it runs
 *     at CPL 3 (CS.RPL 3).
 *  4. OUT to port 0xf4 from ring 3: not in the bitmap, #GP(0).
 *  5. INT 0x80 (a DPL-3 gate) back to ring 0, which ends the run.
 * Exit value 0 on success, else the number of the failed check. */
#include "lib/rt.h"

#define SEL_UCODE 0x1b
#define SEL_UDATA 0x23
#define SEL_TSS   0x28
#define SEL_GATE  0x33
#define SEL_CONF  0x38

static uint64_t gdt[8] __attribute__((aligned(8)));
static struct {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t regs[8], segs[6], ldt;
    uint16_t trap, iomap;
    uint8_t bitmap[0x3ff / 8 + 2];      /* up to port 0x3ff, and the byte after */
} __attribute__((packed, aligned(16))) tss;
static uint8_t kstack[4096] __attribute__((aligned(16)));
static uint8_t ustack[4096] __attribute__((aligned(16)));

volatile uint32_t gate_cpl, gate_p1, gate_p2, gate_old_ss, gate_old_esp, conf_cs, gp_count, gp_err, failures;

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

/* The ring-0 end of the call gate: [esp] EIP, CS, then the two parameters
 * (the first pushed is the higher), the caller's ESP and SS. */
void gate_target(void);
__asm__(".text\n gate_target:\n"
        " mov %cs, %eax\n and $3, %eax\n mov %eax, gate_cpl\n"
        " mov 8(%esp), %eax\n mov %eax, gate_p2\n"
        " mov 12(%esp), %eax\n mov %eax, gate_p1\n"
        " mov 16(%esp), %eax\n mov %eax, gate_old_esp\n"
        " mov 20(%esp), %eax\n mov %eax, gate_old_ss\n"
        " lret $8\n");

/* The conforming segment's routine: records CS. */
void conf_target(void);
__asm__(".text\n conf_target:\n mov %cs, %eax\n mov %eax, conf_cs\n lret\n");

static void on_gp(struct rt_frame *f)
{
    gp_count++;
    gp_err = f->err;
    f->eip += 2;                        /* past OUT imm8, AL */
}

static void on_exit(struct rt_frame *f)
{
    (void)f;
    rt_exit(failures ? 1 : 0);
}

static void check(const char *label, int ok)
{
    if (!rt_check(label, ok))
        failures++;
}

static void user_main(void)
{
    rt_puts("ring 3: output through COM1, allowed by the TSS I/O permission bitmap\n");
    uint32_t sp;
    __asm__ volatile("mov %%esp, %0\n"
                     "push $0x1111\n push $0x2222\n"
                     "lcall $0x33, $0\n" : "=&r"(sp) :: "memory", "eax");
    check("call gate from ring 3: CPL 0, the two parameters and the caller's SS:ESP on the ring-0 stack",
          gate_cpl == 0 && gate_p1 == 0x1111 && gate_p2 == 0x2222 && gate_old_ss == SEL_UDATA &&
              gate_old_esp == sp - 8);
    uint32_t esp_after;
    __asm__ volatile("mov %%esp, %0" : "=r"(esp_after));
    check("RETF 8 back to ring 3 released the parameters", esp_after == sp);
    __asm__ volatile("lcall $0x38, $conf_target" ::: "memory", "eax");
    check("conforming code segment of DPL 0 from ring 3: runs at CPL 3", conf_cs == (SEL_CONF | 3));
    __asm__ volatile("outb %%al, $0xf4" :: "a"(0x55));
    check("OUT to port 0xf4 from ring 3 (not in the bitmap): #GP(0)", gp_count == 1 && gp_err == 0);
    __asm__ volatile("int $0x80");
    for (;;) {
    }
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
    (void)mbi;
    rt_serial_init(1);
    rt_puts("rings32: start\n");
    if (magic != MB_BOOT_MAGIC)
        return 0x7d;
    rt_idt_init();
    rt_set_handler(13, on_gp);
    rt_set_handler(0x80, on_exit);
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    ((uint8_t *)idtr.base)[0x80 * 8 + 5] = 0xef;      /* INT 0x80: DPL 3 */

    gdt[1] = seg_desc(0, 0xfffff, 0x9a, 0xc);          /* 0x08 ring-0 code */
    gdt[2] = seg_desc(0, 0xfffff, 0x92, 0xc);          /* 0x10 ring-0 data */
    gdt[3] = seg_desc(0, 0xfffff, 0xfa, 0xc);          /* 0x18 ring-3 code */
    gdt[4] = seg_desc(0, 0xfffff, 0xf2, 0xc);          /* 0x20 ring-3 data */
    gdt[5] = seg_desc((uint32_t)&tss, sizeof tss - 1, 0x89, 0);   /* 0x28 TSS */
    uint32_t g = (uint32_t)gate_target;                /* 0x30 call gate, DPL 3, 2 parameters */
    gdt[6] = (g & 0xffff) | ((uint64_t)0x08 << 16) | ((uint64_t)0xec02 << 32) | ((uint64_t)(g >> 16) << 48);
    gdt[7] = seg_desc(0, 0xfffff, 0x9e, 0xc);          /* 0x38 conforming code, DPL 0 */
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr = {sizeof gdt - 1, (uint32_t)gdt};
    __asm__ volatile("lgdt %0" :: "m"(gdtr));

    tss.esp0 = (uint32_t)(kstack + sizeof kstack);
    tss.ss0 = 0x10;
    tss.iomap = (uint16_t)((uint32_t)tss.bitmap - (uint32_t)&tss);
    memset(tss.bitmap, 0xff, sizeof tss.bitmap);
    tss.bitmap[0x3f8 / 8] = 0;                         /* COM1: ports 0x3f8-0x3ff */
    __asm__ volatile("ltr %w0" :: "r"(SEL_TSS));

    __asm__ volatile("mov %0, %%ds\n mov %0, %%es\n"
                     "push %0\n push %1\n push $0x2\n push %2\n push %3\n iret"
                     :: "r"(SEL_UDATA), "r"((uint32_t)(ustack + sizeof ustack)), "i"(SEL_UCODE), "r"(user_main)
                     : "memory");
    return 0x7e;
}
