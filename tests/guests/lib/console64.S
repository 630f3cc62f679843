/* COM1 output for the guests' 64-bit code (longmode, usermode, fuzz_harness):
 * the 32-bit side has lib/rt.c. putc64 and puts64 keep every register but
 * rax, rdx and rdi; hex64, hex8_64 and check64 also use rcx and rsi. */
#define COM1 0x3f8

        .text
        .code64
        .globl putc64, puts64, hex64, hex8_64, check64, exit64, failures64

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

hex64:                                  /* rdi = value: "0x" + 16 digits */
        movl $16, %ecx
        jmp hex_digits
hex8_64:                                /* dil = value: "0x" + 2 digits */
        shlq $56, %rdi
        movl $2, %ecx
hex_digits:                             /* rdi = value (top rcx nibbles printed) */
        pushq %rbx
        pushq %r12
        movq %rdi, %rbx
        movl %ecx, %r12d
        movl $'0', %edi
        call putc64
        movl $'x', %edi
        call putc64
1:      rolq $4, %rbx
        movl %ebx, %edi
        andl $0xf, %edi
        leaq hexdigits(%rip), %rax
        movzbl (%rax, %rdi), %edi
        call putc64
        decl %r12d
        jnz 1b
        popq %r12
        popq %rbx
        ret

check64:                                /* rsi = label, eax = 1 if ok: "<label>: ok\n" or ": FAIL\n" */
        pushq %rax
        call puts64
        popq %rax
        leaq msg_ok(%rip), %rsi
        testl %eax, %eax
        jnz 1f
        incl failures64(%rip)
        leaq msg_fail(%rip), %rsi
1:      jmp puts64

exit64:                                 /* rsi = the last line; exit value 0, or 1 if a check failed */
        call puts64
        movl failures64(%rip), %eax
        testl %eax, %eax
        setnz %al
        outb %al, $0xf4                 /* isa-debug-exit */
1:      cli
        hlt
        jmp 1b

        .section .rodata
hexdigits:      .ascii "0123456789abcdef"
msg_ok:         .asciz ": ok\n"
msg_fail:       .asciz ": FAIL\n"

        .bss
        .balign 4
failures64:     .long 0

        .section .note.GNU-stack, "", @progbits
