/* fuzz_harness: the interrupt stubs and the mode entries (see
 * fuzz_harness.c). 32-bit stubs serve modes 16 and 32: they save and reload
 * the data segments, which the code under test may have changed, and call
 * harness_event(). The 64-bit side counts in assembly and prints its own
 * report, in the same format. */

        .altmacro
/* vectors whose exceptions push an error code */
.macro errcode v
  .if (\v == 8) || (\v >= 10 && \v <= 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
  .else
        pushl $0
  .endif
.endm

        .text
        .code32
/* ---- 32-bit stubs ---- */
.macro hstub32 v
        .balign 16
h_stub32_\v:
        errcode \v
        pushl $\v
        jmp h_common32
.endm
        .set vec, 0
        .rept 256
        hstub32 %vec
        .set vec, vec + 1
        .endr

h_common32:
        pushal
        pushl %ds
        pushl %es
        pushl %fs
        pushl %gs
        movl $0x10, %eax
        movw %ax, %ds
        movw %ax, %es
        cld
        pushl %esp                      /* struct h_frame * */
        call harness_event
        addl $4, %esp
        popl %gs
        popl %fs
        popl %es
        popl %ds
        popal
        addl $8, %esp                   /* vector, error code */
        iretl

/* void h_enter32(eip, cs, esp): into the code, IF set, registers zero. */
        .globl h_enter32
h_enter32:
        movl 4(%esp), %ebx
        movl 8(%esp), %ecx
        movl 12(%esp), %esp
        pushl $0x202
        pushl %ecx
        pushl %ebx
        xorl %eax, %eax
        xorl %ebx, %ebx
        xorl %ecx, %ecx
        xorl %edx, %edx
        xorl %esi, %esi
        xorl %edi, %edi
        xorl %ebp, %ebp
        iretl

/* void h_enter64(pml4): IA-32e mode, then into the code at 0x400000. */
        .globl h_enter64
h_enter64:
        movl 4(%esp), %eax
        movl %eax, %cr3
        movl %cr4, %eax
        orl $0x20, %eax                 /* PAE */
        movl %eax, %cr4
        movl $0xC0000080, %ecx          /* EFER */
        rdmsr
        orl $0x100, %eax                /* LME */
        wrmsr
        lidt idtr64
        movl %cr0, %eax
        orl $0x80000000, %eax           /* PG */
        movl %eax, %cr0
        ljmp $0x28, $long64

        .code64
long64:
        movl $0x10, %eax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %fs
        movw %ax, %gs
        movw %ax, %ss
        movq $0x500000, %rsp
        pushq $0x10                     /* ss */
        pushq $0x500000                 /* rsp */
        pushq $0x202                    /* rflags: IF */
        pushq $0x28                     /* cs */
        pushq $0x400000                 /* rip */
        xorl %eax, %eax
        xorl %ebx, %ebx
        xorl %ecx, %ecx
        xorl %edx, %edx
        xorl %esi, %esi
        xorl %edi, %edi
        xorl %ebp, %ebp
        xorl %r8d, %r8d
        xorl %r9d, %r9d
        xorl %r10d, %r10d
        xorl %r11d, %r11d
        xorl %r12d, %r12d
        xorl %r13d, %r13d
        xorl %r14d, %r14d
        xorl %r15d, %r15d
        iretq

/* ---- 64-bit stubs ---- */
.macro errcode64 v
  .if (\v == 8) || (\v >= 10 && \v <= 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
  .else
        pushq $0
  .endif
.endm
.macro hstub64 v
        .balign 16
h_stub64_\v:
        errcode64 \v
        pushq $\v
        jmp h_common64
.endm
        .set vec, 0
        .rept 256
        hstub64 %vec
        .set vec, vec + 1
        .endr

/* Stack: vector, error code, rip, cs, rflags, rsp, ss; below them the five
 * registers saved here (vector at 40(%rsp), rip at 56(%rsp)). */
h_common64:
        pushq %rax
        pushq %rcx
        pushq %rdx
        pushq %rsi
        pushq %rdi
        movq 40(%rsp), %rax
        cmpq $0x20, %rax
        jb 2f
        cmpq $0x30, %rax
        jae 2f
        /* an IRQ: acknowledge it; IRQ0 is a tick */
        movq %rax, %rcx
        movb $0x20, %al
        cmpq $0x28, %rcx
        jb 1f
        outb %al, $0xA0
1:      outb %al, $0x20
        cmpq $0x20, %rcx
        jne 9f
        incl h_ticks(%rip)
        cmpl $20, h_ticks(%rip)
        jae h_finish64
        jmp 9f
2:      /* an exception or a software interrupt */
        movl h_exceptions(%rip), %ecx
        incl h_exceptions(%rip)
        testl %ecx, %ecx
        jnz 3f
        movl %eax, h_first_vector(%rip)
        movq 56(%rsp), %rdx
        subl h_code_base(%rip), %edx
        movl %edx, h_first_offset(%rip)
3:      cmpq $3, %rax                   /* traps leave RIP past the instruction */
        je 4f
        cmpq $4, %rax
        je 4f
        cmpq $0x20, %rax
        jae 4f
        incq 56(%rsp)                   /* a fault: step over a byte */
4:      cmpl $64, h_exceptions(%rip)
        jae h_finish64
9:      popq %rdi
        popq %rsi
        popq %rdx
        popq %rcx
        popq %rax
        addq $16, %rsp
        iretq

/* The report of fuzz_harness.c's report(), then exit value 0. */
h_finish64:
        leaq msg_mode(%rip), %rsi
        call puts64
        movl h_exceptions(%rip), %edi
        call hex64
        leaq msg_first(%rip), %rsi
        call puts64
        movl h_first_vector(%rip), %edi
        call hex64
        leaq msg_at(%rip), %rsi
        call puts64
        movl h_first_offset(%rip), %edi
        call hex64
        leaq msg_ticks(%rip), %rsi
        call puts64
        movl h_ticks(%rip), %edi
        call hex64
        movl $'\n', %edi
        call putc64
        movw h_exit_port(%rip), %dx
        xorl %eax, %eax
        outb %al, %dx
5:      cli
        hlt
        jmp 5b

hex64:                                  /* edi: "0x" and 8 hex digits */
        pushq %rbx
        pushq %r12
        movl %edi, %ebx
        movl $'0', %edi
        call putc64
        movl $'x', %edi
        call putc64
        movl $28, %r12d
1:      movl %ebx, %eax
        movl %r12d, %ecx
        shrl %cl, %eax
        andl $0xf, %eax
        leaq hexdigits(%rip), %rdx
        movzbl (%rdx,%rax), %edi
        call putc64
        subl $4, %r12d
        jns 1b
        popq %r12
        popq %rbx
        ret

        .section .rodata
msg_mode:   .asciz "fuzz_harness: mode 64: exceptions "
msg_first:  .asciz ", first vector "
msg_at:     .asciz " at +"
msg_ticks:  .asciz ", ticks "
hexdigits:  .ascii "0123456789abcdef"

        .balign 4
        .globl h_stub32_table
h_stub32_table:
.macro entry32 v
        .long h_stub32_\v
.endm
        .set vec, 0
        .rept 256
        entry32 %vec
        .set vec, vec + 1
        .endr
        .globl h_stub64_table
h_stub64_table:
.macro entry64 v
        .long h_stub64_\v
.endm
        .set vec, 0
        .rept 256
        entry64 %vec
        .set vec, vec + 1
        .endr

        .balign 8
idtr64:
        .word 256 * 16 - 1
        .long h_idt64
        .long 0

        .section .note.GNU-stack, "", @progbits
