/* usermode: the 64-bit half (see usermode.c).
 *  1. Ring 3 entered by SYSRET, left by SYSCALL (RCX = the next user RIP,
 *     R11 = the user RFLAGS) and returned to by SYSRET.
 *  2. INT 0x80 from ring 3 through a DPL-3 gate: the frame on the TSS's
 *     RSP0 stack holds CS 0x23, SS 0x1b and the user RSP.
 *  3. Faults from ring 3: HLT is #GP(0); a read of a supervisor page, a
 *     write of a read-only page and a fetch from an NX page are #PF with
 *     error codes 0x05, 0x07 and 0x15 and CR2 the address.
 *  4. The PIT's interrupt taken in ring 3 (the saved CS is 0x23).
 *  5. Ring 3 entered by IRETQ, left by SYSCALL.
 *  6. Supervisor protections: a fetch from an NX page (#PF 0x11); with
 *     CR4.SMEP a fetch from a user page (#PF 0x11); with CR4.SMAP a read
 *     and a write of a user page (#PF 0x01, 0x03), allowed between STAC
 *     and CLAC.
 * Handlers record what they see (they may change rax, rcx, rdx) and resume
 * faults at the address in r12; the kernel prints the checks. Exit value
 * 0, or 1 if a check failed. */
#define KCODE 0x08
#define KDATA 0x10
#define UDATA 0x1b                      /* 0x18, RPL 3 */
#define UCODE 0x23                      /* 0x20, RPL 3 */
#define TSSSEL 0x28

        .code32
        .text
        .globl um_enter
um_enter:                               /* void um_enter(uint32_t pml4) */
        movl 4(%esp), %eax
        movl %eax, %cr3
        movl %cr4, %eax
        orl $0x20, %eax                 /* PAE */
        movl %eax, %cr4
        movl $0xC0000080, %ecx          /* IA32_EFER: LME, NXE, SCE */
        rdmsr
        orl $0x901, %eax
        wrmsr
        lgdt gdt_desc
        movl %cr0, %eax
        orl $0x80010000, %eax           /* PG, WP */
        movl %eax, %cr0
        ljmp $KCODE, $entry64

        .code64
entry64:
        movl $KDATA, %eax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        xorl %eax, %eax
        movw %ax, %fs
        movw %ax, %gs
        leaq kstack_top(%rip), %rsp

        /* The TSS: RSP0, and its address in the descriptor. */
        leaq kstack_top(%rip), %rax
        movq %rax, tss+4(%rip)
        leaq tss(%rip), %rax
        movw %ax, gdt+TSSSEL+2(%rip)
        shrq $16, %rax
        movb %al, gdt+TSSSEL+4(%rip)
        movb %ah, gdt+TSSSEL+7(%rip)
        movw $TSSSEL, %ax
        ltr %ax

        movl $13, %edi
        leaq gp_handler(%rip), %rsi
        xorl %edx, %edx
        call set_gate
        movl $14, %edi
        leaq pf_handler(%rip), %rsi
        xorl %edx, %edx
        call set_gate
        movl $0x20, %edi
        leaq timer_handler(%rip), %rsi
        xorl %edx, %edx
        call set_gate
        movl $0x80, %edi
        leaq int80_handler(%rip), %rsi
        movl $(3 << 13), %edx
        call set_gate
        leaq idt(%rip), %rax
        movw $(256 * 16 - 1), idtr(%rip)
        movq %rax, idtr+2(%rip)
        lidt idtr(%rip)

        movl $0xC0000081, %ecx          /* STAR: SYSCALL 0x08/0x10, SYSRET 0x23/0x1b */
        xorl %eax, %eax
        movl $0x00100008, %edx
        wrmsr
        movl $0xC0000082, %ecx          /* LSTAR */
        leaq syscall_entry(%rip), %rax
        movq %rax, %rdx
        shrq $32, %rdx
        wrmsr
        movl $0xC0000084, %ecx          /* FMASK: IF, TF, DF, AC */
        movl $0x40700, %eax
        xorl %edx, %edx
        wrmsr

        /* 1. To ring 3 by SYSRET, interrupts on. */
        leaq user_stack_top(%rip), %rsp
        leaq user_entry_sysret(%rip), %rcx
        movl $0x202, %r11d
        sysretq

/* SYSCALL lands here with the user's RSP: eax 1 returns to ring 3, eax 2
 * and 3 go on with the kernel's next phase. */
syscall_entry:
        movq %rsp, user_rsp(%rip)
        leaq kstack_top(%rip), %rsp
        cmpl $1, %eax
        jne 1f
        movq %rcx, sc_rcx1(%rip)
        movq %r11, sc_r11_1(%rip)
1:      movq %rcx, sc_rcx(%rip)
        cmpl $2, %eax
        je phase2
        cmpl $3, %eax
        je phase3
        movq user_rsp(%rip), %rsp
        sysretq

phase2:
        leaq msg_ring3(%rip), %rsi
        call puts64
        leaq user_after_syscall1(%rip), %rax
        cmpq %rax, sc_rcx1(%rip)
        sete %al
        movq sc_r11_1(%rip), %rcx
        shrq $9, %rcx                   /* IF */
        andl %ecx, %eax
        movzbl %al, %eax
        leaq msg_sysret(%rip), %rsi
        call check64

        xorl %eax, %eax
        cmpq $UCODE, int80_cs(%rip)
        sete %al
        cmpq $UDATA, int80_ss(%rip)
        sete %cl
        andb %cl, %al
        leaq user_stack_top(%rip), %rcx
        cmpq %rcx, int80_rsp(%rip)
        sete %cl
        andb %cl, %al
        leaq msg_int80(%rip), %rsi
        call check64

        xorl %eax, %eax
        cmpl $1, gp_count(%rip)
        sete %al
        cmpq $0, gp_err(%rip)
        sete %cl
        andb %cl, %al
        cmpq $UCODE, gp_cs(%rip)
        sete %cl
        andb %cl, %al
        leaq msg_gp(%rip), %rsi
        call check64

        leaq msg_pf3(%rip), %rsi
        call puts64
        xorl %ebx, %ebx
1:      leaq pf_err(%rip), %rax
        movq (%rax, %rbx, 8), %rdi
        call hex8_64
        leaq msg_comma(%rip), %rsi
        cmpl $2, %ebx
        jne 2f
        leaq msg_empty(%rip), %rsi
2:      call puts64
        incl %ebx
        cmpl $3, %ebx
        jb 1b
        xorl %eax, %eax
        cmpq $0x05, pf_err(%rip)
        sete %al
        cmpq $0x07, pf_err+8(%rip)
        sete %cl
        andb %cl, %al
        cmpq $0x15, pf_err+16(%rip)
        sete %cl
        andb %cl, %al
        leaq kernel_secret(%rip), %rcx
        cmpq %rcx, pf_cr2(%rip)
        sete %cl
        andb %cl, %al
        leaq ro_page(%rip), %rcx
        cmpq %rcx, pf_cr2+8(%rip)
        sete %cl
        andb %cl, %al
        leaq nx_page(%rip), %rcx
        cmpq %rcx, pf_cr2+16(%rip)
        sete %cl
        andb %cl, %al
        leaq msg_empty(%rip), %rsi
        call check64

        xorl %eax, %eax
        cmpq $UCODE, timer_cs(%rip)
        sete %al
        leaq msg_timer(%rip), %rsi
        call check64

        /* 5. To ring 3 by IRETQ. */
        pushq $UDATA
        leaq user_stack_top(%rip), %rax
        pushq %rax
        pushq $0x2
        pushq $UCODE
        leaq user_entry_iretq(%rip), %rax
        pushq %rax
        iretq

phase3:
        xorl %eax, %eax
        leaq user_after_syscall3(%rip), %rcx
        cmpq %rcx, sc_rcx(%rip)
        sete %al
        leaq msg_iretq(%rip), %rsi
        call check64

        /* 6. The supervisor's protections. */
        leaq 1f(%rip), %r12
        leaq nx_page(%rip), %rax
        jmp *%rax                       /* #PF 0x11 */
1:      xorl %eax, %eax
        cmpq $0x11, pf_err+24(%rip)
        sete %al
        leaq msg_nx(%rip), %rsi
        call check64

        movl $7, %eax
        xorl %ecx, %ecx
        cpuid
        movl %ebx, %eax
        shrl $7, %eax                   /* SMEP */
        shrl $20, %ebx                  /* SMAP */
        andl %ebx, %eax
        andl $1, %eax
        leaq msg_cpuid(%rip), %rsi
        call check64

        movq %cr4, %rax
        orq $(1 << 20), %rax            /* SMEP */
        movq %rax, %cr4
        leaq 1f(%rip), %r12
        leaq user_code(%rip), %rax
        jmp *%rax                       /* #PF 0x11 */
1:      movq %cr4, %rax
        andq $~(1 << 20), %rax
        movq %rax, %cr4
        xorl %eax, %eax
        cmpq $0x11, pf_err+32(%rip)
        sete %al
        leaq user_code(%rip), %rcx
        cmpq %rcx, pf_cr2+32(%rip)
        sete %cl
        andb %cl, %al
        leaq msg_smep(%rip), %rsi
        call check64

        movq %cr4, %rax
        orq $(1 << 21), %rax            /* SMAP */
        movq %rax, %cr4
        leaq 1f(%rip), %r12
        movq ticks(%rip), %rbx          /* #PF 0x01 */
1:      stac
        movq ticks(%rip), %rbx          /* allowed */
        movq $7, user_word(%rip)        /* a write to a user page: allowed */
        clac
        leaq 1f(%rip), %r12
        movq $6, ticks(%rip)            /* #PF 0x03 */
1:      movq %cr4, %rax
        andq $~(1 << 21), %rax          /* SMAP off again: the check reads the user page */
        movq %rax, %cr4
        xorl %eax, %eax
        cmpq $0x01, pf_err+40(%rip)
        sete %al
        cmpq $0x03, pf_err+48(%rip)
        sete %cl
        andb %cl, %al
        cmpl $7, pf_count(%rip)
        sete %cl
        andb %cl, %al
        cmpq $7, user_data+8(%rip)
        sete %cl
        andb %cl, %al
        leaq msg_smap(%rip), %rsi
        call check64

        leaq msg_done(%rip), %rsi
        jmp exit64

/* ---- handlers ---- */
gp_handler:                             /* the error code on top */
        popq gp_err(%rip)
        movq 8(%rsp), %rax
        movq %rax, gp_cs(%rip)
        incl gp_count(%rip)
        movq %r12, (%rsp)
        iretq

pf_handler:                             /* the error code on top */
        movl pf_count(%rip), %ecx
        leaq pf_err(%rip), %rax
        popq (%rax, %rcx, 8)
        movq %cr2, %rdx
        leaq pf_cr2(%rip), %rax
        movq %rdx, (%rax, %rcx, 8)
        incl pf_count(%rip)
        movq %r12, (%rsp)
        iretq

int80_handler:
        movq 8(%rsp), %rax
        movq %rax, int80_cs(%rip)
        movq 24(%rsp), %rax
        movq %rax, int80_rsp(%rip)
        movq 32(%rsp), %rax
        movq %rax, int80_ss(%rip)
        iretq

timer_handler:                          /* any point of ring-3 code: keeps every register */
        pushq %rax
        movq 16(%rsp), %rax
        movq %rax, timer_cs(%rip)
        incq ticks(%rip)
        movb $0x20, %al
        outb %al, $0x20                 /* EOI */
        popq %rax
        iretq

set_gate:                               /* edi = vector, rsi = handler, edx = DPL << 13 */
        leaq idt(%rip), %rax
        shlq $4, %rdi
        addq %rdi, %rax
        movw %si, (%rax)
        movw $KCODE, 2(%rax)
        orl $0x8E00, %edx               /* present, 64-bit interrupt gate */
        movw %dx, 4(%rax)
        shrq $16, %rsi
        movw %si, 6(%rax)
        shrq $16, %rsi
        movl %esi, 8(%rax)
        movl $0, 12(%rax)
        ret

/* ---- ring-3 code, alone in its pages ---- */
        .balign 4096
        .globl user_code
user_code:
user_entry_sysret:
        movl $1, %eax
        syscall
user_after_syscall1:
        int $0x80
        leaq 1f(%rip), %r12
        hlt                             /* #GP(0) */
1:      leaq 1f(%rip), %r12
        movq kernel_secret(%rip), %rax  /* #PF 0x05 */
1:      leaq 1f(%rip), %r12
        movq $1, ro_page(%rip)          /* #PF 0x07 */
1:      leaq 1f(%rip), %r12
        leaq nx_page(%rip), %rax
        jmp *%rax                       /* #PF 0x15 */
1:      cmpq $2, ticks(%rip)            /* 4. wait for two timer ticks */
        jb 1b
        movl $2, %eax
        syscall
user_entry_iretq:
        movl $3, %eax
        syscall
user_after_syscall3:
        .balign 4096
        .globl user_code_end
user_code_end:

        .section .rodata
msg_ring3:      .asciz "usermode: ring 3\n"
msg_sysret:     .asciz "SYSRET to ring 3, SYSCALL back with RCX = the next RIP and R11 = RFLAGS (IF)"
msg_int80:      .asciz "INT 0x80 from ring 3: CS 0x23, SS 0x1b, the user RSP, on the RSP0 stack"
msg_gp:         .asciz "HLT at CPL 3: #GP(0) from CS 0x23"
msg_pf3:        .asciz "#PF from ring 3: supervisor page, read-only page, NX page: "
msg_comma:      .asciz ", "
msg_empty:      .asciz ""
msg_timer:      .asciz "timer interrupt taken in ring 3 (CS 0x23)"
msg_iretq:      .asciz "IRETQ to ring 3, SYSCALL back"
msg_nx:         .asciz "supervisor fetch from an NX page: #PF 0x11"
msg_cpuid:      .asciz "CPUID reports SMEP and SMAP"
msg_smep:       .asciz "SMEP: supervisor fetch from a user page: #PF 0x11"
msg_smap:       .asciz "SMAP: supervisor read and write of a user page #PF 0x01 and 0x03, allowed after STAC"
msg_done:       .asciz "usermode: done\n"

        .data
        .balign 16
gdt:
        .quad 0                         /* 0x00 */
        .quad 0x00209A0000000000        /* 0x08 kernel code, 64-bit */
        .quad 0x00CF92000000FFFF        /* 0x10 kernel data */
        .quad 0x00CFF2000000FFFF        /* 0x18 user data (DPL 3) */
        .quad 0x0020FA0000000000        /* 0x20 user code, 64-bit (DPL 3) */
        .quad 0x0000890000000067        /* 0x28 TSS (base filled in) */
        .quad 0
gdt_end:
        .balign 4
        .word 0
gdt_desc:
        .word gdt_end - gdt - 1
        .long gdt
kernel_secret:  .quad 0x5ec2e7

        .balign 4096
        .globl user_data
user_data:
ticks:          .quad 0
user_word:      .quad 0                 /* user_data + 8 */
        .balign 4096
        .globl ro_page
ro_page:        .quad 0
        .balign 4096
        .globl nx_page
nx_page:        ret
        .balign 4096

        .bss
        .balign 4096
        .globl user_stack, user_stack_top
user_stack:     .skip 4096
user_stack_top:
        .balign 16
idt:            .skip 256 * 16
idtr:           .skip 16
tss:            .skip 104
sc_rcx:         .quad 0
sc_rcx1:        .quad 0
sc_r11_1:       .quad 0
user_rsp:       .quad 0
int80_cs:       .quad 0
int80_ss:       .quad 0
int80_rsp:      .quad 0
gp_count:       .long 0
gp_err:         .quad 0
gp_cs:          .quad 0
pf_count:       .long 0
        .balign 8
pf_err:         .skip 8 * 8
pf_cr2:         .skip 8 * 8
timer_cs:       .quad 0
        .balign 16
kstack:         .skip 16384
kstack_top:

        .section .note.GNU-stack, "", @progbits
