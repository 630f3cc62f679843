/* COM1 output for the guests' 64-bit code (longmode, fuzz_harness): the
 * 32-bit side has lib/rt.c. Both keep every register but rax, rdx and rdi. */
#define COM1 0x3f8

        .text
        .code64
        .globl putc64, puts64

putc64:                                 /* dil = byte */
        movw $(COM1 + 5), %dx
1:      inb %dx, %al
        testb $0x20, %al
        jz 1b
        movw $COM1, %dx
        movl %edi, %eax
        outb %al, %dx
        ret

puts64:                                 /* rsi = NUL-terminated string */
        pushq %rsi
1:      movzbl (%rsi), %edi
        testl %edi, %edi
        jz 2f
        call putc64
        incq %rsi
        jmp 1b
2:      popq %rsi
        ret
