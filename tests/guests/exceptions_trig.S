/* exceptions: the faulting instructions.  Each trigger is a function; the
 * <name>_fault label marks the instruction expected to fault and <name>_resume
 * where the handler sends execution back. */
        .text

        .globl trig_de, de_fault, de_resume
trig_de:                        /* #DE: unsigned divide by zero */
        pushl %ebx
        xorl %ebx, %ebx
        movl $1, %eax
        xorl %edx, %edx
de_fault:
        divl %ebx
de_resume:
        popl %ebx
        ret

        .globl trig_ud, ud_fault, ud_resume
trig_ud:                        /* #UD: ud2 */
ud_fault:
        ud2
ud_resume:
        ret

        .globl trig_gp, gp_fault, gp_resume
trig_gp:                        /* #GP(0x40): selector index 8 is beyond the GDT limit (23) */
        movw $0x40, %ax
gp_fault:
        movw %ax, %ds
gp_resume:
        ret

        .globl trig_bp, bp_after
trig_bp:                        /* #BP: a trap, the saved EIP is after int3 */
        int3
bp_after:
        ret

        .globl trig_pf_read, pf_read_fault, pf_read_resume
trig_pf_read:                   /* #PF reading an address whose PDE is not present */
        movl 4(%esp), %ecx
pf_read_fault:
        movl (%ecx), %eax
pf_read_resume:
        ret

        .globl trig_pf_write, pf_write_fault, pf_write_resume
trig_pf_write:                  /* #PF writing (CR0.WP = 1) a present read-only page */
        movl 4(%esp), %ecx
pf_write_fault:
        movl $0x5a5a5a5a, (%ecx)
pf_write_resume:
        ret

        .globl trig_int80
trig_int80:                     /* int $0x80 with EAX = argument; returns the handler's EAX */
        movl 4(%esp), %eax
        int $0x80
        ret

        .section .note.GNU-stack, "", @progbits
