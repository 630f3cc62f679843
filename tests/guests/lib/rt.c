/* Tiny runtime shared by the rewind test guests. */
#include "rt.h"

/* ---------------------------------------------------------------- serial */
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20

void rt_serial_init(int fifo)
{
    outb(COM1 + UART_IER, 0x00);        /* no interrupts */
    outb(COM1 + UART_LCR, 0x80);        /* DLAB = 1 */
    outb(COM1 + 0, 0x01);               /* divisor 1 = 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + UART_LCR, 0x03);        /* 8 data bits, no parity, 1 stop bit, DLAB = 0 */
    if (fifo)
        outb(COM1 + UART_FCR, 0xC7);    /* FIFO on, clear RX/TX, 14-byte trigger */
    outb(COM1 + UART_MCR, 0x0B);        /* DTR, RTS, OUT2 (IRQ line enable) */
}

void rt_putc(char c)
{
    while (!(inb(COM1 + UART_LSR) & LSR_THRE))
        ;
    outb(COM1 + UART_THR, (uint8_t)c);
}

void rt_puts(const char *s)
{
    while (*s)
        rt_putc(*s++);
}

static const char hexdig[] = "0123456789abcdef";

void rt_put_hex32(uint32_t v)
{
    rt_puts("0x");
    for (int i = 28; i >= 0; i -= 4)
        rt_putc(hexdig[(v >> i) & 0xf]);
}

void rt_put_hex8(uint8_t v)
{
    rt_puts("0x");
    rt_putc(hexdig[v >> 4]);
    rt_putc(hexdig[v & 0xf]);
}

void rt_put_dec(uint32_t v)
{
    char buf[11];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        rt_putc(buf[--n]);
}

int rt_check(const char *label, int ok)
{
    rt_puts(label);
    rt_puts(ok ? ": ok\n" : ": FAIL\n");
    return ok;
}

/* ---------------------------------------------------------------- exit */
void rt_exit(uint8_t value)
{
    outb(DEBUG_EXIT_PORT, value);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---------------------------------------------------------------- strings */
void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

size_t rt_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

const char *rt_find(const char *s, const char *key)
{
    size_t k = rt_strlen(key);
    for (; *s; s++) {
        size_t i = 0;
        while (i < k && s[i] == key[i])
            i++;
        if (i == k)
            return s + k;
    }
    return NULL;
}

uint32_t rt_parse_dec(const char *s, int *ok)
{
    uint32_t v = 0;
    *ok = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (uint32_t)(*s++ - '0');
        *ok = 1;
    }
    return v;
}

const char *rt_cmdline_args(const struct mb_info *mbi)
{
    if (!(mbi->flags & MBI_CMDLINE) || !mbi->cmdline)
        return "";
    const char *s = (const char *)mbi->cmdline;
    while (*s == ' ')
        s++;
    const char *w = s;
    int has_eq = 0;
    while (*w && *w != ' ') {
        if (*w == '=')
            has_eq = 1;
        w++;
    }
    if (has_eq)
        return s;
    while (*w == ' ')
        w++;
    return w;
}

/* ---------------------------------------------------------------- IDT */
struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t zero, type_attr;
    uint16_t off_hi;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(8)));
static rt_handler handlers[256];
extern const uint32_t rt_isr_table[48];     /* isr.S: stubs for vectors 0..47 */
extern char rt_isr_0x80[];

static void set_gate(uint8_t v, uint32_t off, uint8_t type_attr)
{
    idt[v].off_lo = (uint16_t)off;
    idt[v].sel = SEL_CODE;
    idt[v].zero = 0;
    idt[v].type_attr = type_attr;
    idt[v].off_hi = (uint16_t)(off >> 16);
}

void rt_idt_init(void)
{
    for (int v = 0; v < 48; v++)
        set_gate((uint8_t)v, rt_isr_table[v], 0x8E);       /* present, DPL0, 32-bit interrupt gate */
    set_gate(0x80, (uint32_t)rt_isr_0x80, 0x8F);          /* present, DPL0, 32-bit trap gate */
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) idtr = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

void rt_set_handler(uint8_t vector, rt_handler h)
{
    handlers[vector] = h;
}

void rt_interrupt(struct rt_frame *f)
{
    rt_handler h = handlers[f->vector & 0xff];
    if (h) {
        h(f);
        return;
    }
    rt_puts("unexpected interrupt: vector ");
    rt_put_hex32(f->vector);
    rt_puts(" err ");
    rt_put_hex32(f->err);
    rt_puts(" eip ");
    rt_put_hex32(f->eip);
    rt_putc('\n');
    rt_exit(0x7f);
}

/* ---------------------------------------------------------------- PIC */
void rt_pic_init(uint8_t base)
{
    outb(0x20, 0x11);           /* ICW1: edge, cascade, ICW4 needed */
    outb(0xA0, 0x11);
    outb(0x21, base);           /* ICW2: vector base */
    outb(0xA1, (uint8_t)(base + 8));
    outb(0x21, 0x04);           /* ICW3: slave on IR2 */
    outb(0xA1, 0x02);           /* ICW3: slave identity 2 */
    outb(0x21, 0x01);           /* ICW4: 8086 mode, normal EOI */
    outb(0xA1, 0x01);
    rt_pic_set_mask(0xFF, 0xFF);
}

void rt_pic_set_mask(uint8_t master, uint8_t slave)
{
    outb(0x21, master);
    outb(0xA1, slave);
}

void rt_pic_eoi(uint8_t irq)
{
    if (irq >= 8)
        outb(0xA0, 0x20);       /* non-specific EOI */
    outb(0x20, 0x20);
}
