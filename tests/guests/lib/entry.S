/* Common entry for the rewind test guests: own GDT, stack, kmain(magic, info),
 * then exit with kmain's return value.  The Multiboot header is in mbheader.S
 * (or, for hello_aout, hello_aout_header.S). */
        .text
        .globl _start
        .type _start, @function
_start:
        cli
        /* Multiboot guarantees flat segment caches but not a valid GDTR: load ours. */
        lgdt rt_gdt_desc
        ljmp $0x08, $1f
1:      movw $0x10, %cx
        movw %cx, %ds
        movw %cx, %es
        movw %cx, %fs
        movw %cx, %gs
        movw %cx, %ss
        movl $rt_stack_top, %esp
        xorl %ebp, %ebp
        pushl $0                /* EFLAGS: IF = 0, DF = 0 */
        popfl
        pushl %ebx              /* struct mb_info * */
        pushl %eax              /* magic */
        call kmain
        movzbl %al, %eax
        pushl %eax
        call rt_exit

        .section .rodata
        .balign 8
        .globl rt_gdt
rt_gdt:
        .quad 0                         /* 0x00 null */
        .quad 0x00CF9A000000FFFF        /* 0x08 code: base 0, 4 GiB, 32-bit, ring 0 */
        .quad 0x00CF92000000FFFF        /* 0x10 data: base 0, 4 GiB, writable */
rt_gdt_end:
        .balign 4
        .word 0
rt_gdt_desc:
        .word rt_gdt_end - rt_gdt - 1
        .long rt_gdt

        .bss
        .balign 16
rt_stack:
        .skip 16384
rt_stack_top:

        .section .note.GNU-stack, "", @progbits
