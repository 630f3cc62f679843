/* linux_boot: the protected-mode kernel's entry points, at the load address
 * (1 MiB) as the boot protocol places them:
 *   +0x000  32-bit entry: flat protected mode, paging off, ESI = boot_params;
 *   +0x200  64-bit entry: long mode, identity-mapped, RSI = boot_params.
 * The 64-bit entry records what it found (linux_entry64_*), then goes back
 * to 32-bit protected mode -- compatibility mode, paging off, EFER.LME clear,
 * as the SDM prescribes -- and joins the 32-bit path, which zeroes the bss
 * (no loader is asked to) and calls the runtime's _start with
 * EAX = LINUX_BOOT_MAGIC and EBX = boot_params. */
#define LINUX_BOOT_MAGIC 0x4c696e78     /* "Linx" */

        .section .text.entry, "ax"
        .code32
        .globl linux_startup_32
linux_startup_32:
        cli
        cld
        jmp common

        .org 0x200
        .code64
linux_startup_64:
        cli
        movl $1, linux_entered_64(%rip)
        movw %cs, linux_entry64_cs(%rip)
        movq %cr3, %rax
        movq %rax, linux_entry64_cr3(%rip)
        movq %cr4, %rax
        movl %eax, linux_entry64_cr4(%rip)
        movl $0xc0000080, %ecx
        rdmsr
        movl %eax, linux_entry64_efer(%rip)
        movq %rsi, linux_entry64_rsi(%rip)
        lgdt gdt64_desc(%rip)
        leaq entry64_stack_top(%rip), %rsp      /* the protocol provides no stack */
        pushq $0x08
        leaq compat(%rip), %rax
        pushq %rax
        lretq
        .code32
compat:
        movl %cr0, %eax
        andl $0x7fffffff, %eax          /* paging off: EFER.LMA clears */
        movl %eax, %cr0
        movl $0xc0000080, %ecx
        rdmsr
        andl $~0x100, %eax              /* LME off */
        wrmsr
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        cld
common:
        movl %esi, %edx
        movl $__bss_start, %edi
        movl $__bss_end, %ecx
        subl %edi, %ecx
        xorl %eax, %eax
        rep stosb
        movl %edx, %ebx
        movl $LINUX_BOOT_MAGIC, %eax
        jmp _start

        .section .rodata
        .balign 8
gdt64:  .quad 0
        .quad 0x00cf9a000000ffff        /* 0x08: flat 32-bit code */
        .quad 0x00cf92000000ffff        /* 0x10: flat data */
gdt64_end:
        .balign 8
        .word 0, 0, 0
gdt64_desc:
        .word gdt64_end - gdt64 - 1
        .long gdt64, 0                  /* a 64-bit base (an ELF32 object has no 64-bit relocation) */

        .data
        .balign 8
        .globl linux_entered_64, linux_entry64_cs, linux_entry64_cr3, linux_entry64_cr4
        .globl linux_entry64_efer, linux_entry64_rsi
linux_entry64_cr3:  .quad 0
linux_entry64_rsi:  .quad 0
linux_entered_64:   .long 0
linux_entry64_cr4:  .long 0
linux_entry64_efer: .long 0
linux_entry64_cs:   .word 0
        .balign 16
entry64_stack:      .skip 64
entry64_stack_top:

        .section .note.GNU-stack, "", @progbits
