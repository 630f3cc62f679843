/* longmode: the switch to IA-32e mode and the 64-bit half.
 * Runs first at the identity address, then at the high alias
 * (address + 0xffffffff80000000); all data is reached RIP-relative. */
#define HIGH 0xffffffff80000000

        .code32
        .text
        .globl lm_enter
lm_enter:                               /* void lm_enter(uint32_t pml4) */
        movl 4(%esp), %eax
        movl %eax, %cr3
        movl %cr4, %eax
        orl $0x20, %eax                 /* CR4.PAE */
        movl %eax, %cr4
        movl $0xC0000080, %ecx          /* IA32_EFER */
        rdmsr
        orl $0x100, %eax                /* LME */
        wrmsr
        lgdt gdt64_desc
        movl %cr0, %eax
        orl $0x80000000, %eax           /* PG: IA-32e mode active (compatibility) */
        movl %eax, %cr0
        ljmp $0x08, $long_entry         /* 64-bit code segment */

        .code64
long_entry:
        movl $0x10, %eax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        xorl %eax, %eax
        movw %ax, %fs
        movw %ax, %gs
        movabsq $HIGH, %rax
        leaq stack64_top(%rip), %rsp
        addq %rax, %rsp                 /* the stack too, through the alias */
        leaq high_entry(%rip), %rbx
        addq %rax, %rbx
        jmp *%rbx

high_entry:
        leaq msg_hello(%rip), %rsi
        call puts64

        /* EFER.LMA */
        movl $0xC0000080, %ecx
        rdmsr
        shrl $10, %eax
        andl $1, %eax
        leaq msg_lma(%rip), %rsi
        call check64

        /* RIP in the high alias? */
        leaq high_entry(%rip), %rax
        movabsq $HIGH, %rdx
        cmpq %rdx, %rax
        setae %al
        movzbl %al, %eax
        leaq msg_high(%rip), %rsi
        call check64

        /* IDT with #BP (3) and #UD (6) gates at their high addresses */
        movl $3, %edi
        leaq bp_handler(%rip), %rsi
        call set_gate64
        movl $6, %edi
        leaq ud_handler(%rip), %rsi
        call set_gate64
        leaq idt64(%rip), %rax
        movw $(256 * 16 - 1), idtr64(%rip)
        movq %rax, idtr64+2(%rip)
        lidt idtr64(%rip)

        /* r10-r15 hold values that must survive the exceptions below */
        movabsq $0x1000000000000000, %r10
        movabsq $0x0200000000000000, %r11
        movabsq $0x0030000000000000, %r12
        movabsq $0x0004000000000000, %r13
        movabsq $0x0000500000000000, %r14
        movabsq $0x0000060000000000, %r15

        /* 64 x 64 -> 128-bit multiply */
        movabsq $0x123456789abcdef0, %r8
        movabsq $0x0fedcba987654321, %r9
        movq %r8, %rax
        mulq %r9                        /* rdx:rax */
        movq %rax, %rbx
        movq %rdx, %rbp
        leaq msg_mul(%rip), %rsi
        call puts64
        movq %rbp, %rdi
        call hex64
        movl $':', %edi
        call putc64
        movq %rbx, %rdi
        call hex64
        movabsq $0x0121fa00ad77d742, %rax
        cmpq %rax, %rbp
        sete %cl
        movabsq $0x2236d88fe5618cf0, %rax
        cmpq %rax, %rbx
        sete %al
        andb %cl, %al
        movzbl %al, %eax
        leaq msg_empty(%rip), %rsi
        call check64

        /* #BP: a trap, the saved RIP is the next instruction */
        int3
bp_next:
        leaq bp_next(%rip), %rax
        cmpq %rax, bp_rip(%rip)
        sete %al
        cmpq $1, bp_count(%rip)
        sete %cl
        andb %cl, %al
        movzbl %al, %eax
        leaq msg_bp(%rip), %rsi
        call check64

        /* #UD: a fault, the saved RIP is the ud2; the handler skips it */
ud_site:
        ud2
        leaq ud_site(%rip), %rax
        cmpq %rax, ud_rip(%rip)
        sete %al
        cmpq $1, ud_count(%rip)
        sete %cl
        andb %cl, %al
        cmpq $0x08, ud_cs(%rip)
        sete %cl
        andb %cl, %al
        movzbl %al, %eax
        leaq msg_ud(%rip), %rsi
        call check64

        /* r10-r15 preserved across both handlers */
        movq %r10, %rax
        addq %r11, %rax
        addq %r12, %rax
        addq %r13, %rax
        addq %r14, %rax
        addq %r15, %rax
        movabsq $0x1234560000000000, %rdx
        cmpq %rdx, %rax
        sete %al
        movzbl %al, %eax
        leaq msg_regs(%rip), %rsi
        call check64

        leaq msg_done(%rip), %rsi
        jmp exit64

/* ---- handlers ---- */
bp_handler:
        incq bp_count(%rip)
        pushq %rax
        movq 8(%rsp), %rax
        movq %rax, bp_rip(%rip)
        popq %rax
        iretq

ud_handler:
        incq ud_count(%rip)
        pushq %rax
        movq 8(%rsp), %rax              /* saved RIP */
        movq %rax, ud_rip(%rip)
        movq 16(%rsp), %rax             /* saved CS */
        movq %rax, ud_cs(%rip)
        popq %rax
        addq $2, (%rsp)                 /* skip ud2 (0f 0b) */
        iretq

/* ---- helpers (preserve all registers but rax, rcx, rdx, rsi, rdi) ---- */
set_gate64:                             /* edi = vector, rsi = handler */
        leaq idt64(%rip), %rax
        shlq $4, %rdi
        addq %rdi, %rax
        movw %si, (%rax)
        movw $0x08, 2(%rax)
        movw $0x8E00, 4(%rax)           /* present, DPL 0, 64-bit interrupt gate */
        shrq $16, %rsi
        movw %si, 6(%rax)
        shrq $16, %rsi
        movl %esi, 8(%rax)
        movl $0, 12(%rax)
        ret

        .section .rodata
msg_hello:      .asciz "64-bit: hello from long mode\n"
msg_lma:        .asciz "64-bit: EFER.LMA set"
msg_high:       .asciz "64-bit: running at the 0xffffffff80000000 alias"
msg_mul:        .asciz "64-bit: 0x123456789abcdef0 * 0x0fedcba987654321 = "
msg_empty:      .asciz ""
msg_bp:         .asciz "64-bit: #BP handled, saved rip after int3"
msg_ud:         .asciz "64-bit: #UD handled, saved rip at ud2, cs 0x08"
msg_regs:       .asciz "64-bit: r10-r15 preserved, sum 0x1234560000000000"
msg_done:       .asciz "longmode: done\n"

        .balign 8
gdt64:
        .quad 0                         /* 0x00 null */
        .quad 0x00209A0000000000        /* 0x08 code: present, ring 0, L = 1 */
        .quad 0x00CF92000000FFFF        /* 0x10 data */
gdt64_end:
        .balign 4
        .word 0
gdt64_desc:
        .word gdt64_end - gdt64 - 1
        .long gdt64

        .bss
        .balign 16
idt64:          .skip 256 * 16
idtr64:         .skip 16
bp_count:       .quad 0
bp_rip:         .quad 0
ud_count:       .quad 0
ud_rip:         .quad 0
ud_cs:          .quad 0
        .balign 16
stack64:        .skip 16384
stack64_top:

        .section .note.GNU-stack, "", @progbits
