/* realmode: the 16-bit half (see realmode.c). rm_test() copies the blob
 * below to 0x8000, enters 16-bit protected mode through a 16-bit code
 * segment based there, loads DS and ES with a 4 GiB data segment, clears
 * CR0.PE and runs in real mode with those limits kept (unreal mode), then
 * returns to 32-bit protected mode. Results go to struct rm_results at
 * RM_RESULTS (realmode.c). */
#define BLOB 0x8000
#define RM_RESULTS 0x7e00
#define R_PM16_POP 0                    /* word: popped in 16-bit protected mode */
#define R_INT_COUNT 2                   /* word: INT 0x30 handler runs */
#define R_FAR 4                         /* word: set by a far-called routine */
#define R_UNREAL 8                      /* dword: read back from 0x200000 */
#define R_OPSIZE 12                     /* dword: a 32-bit operation in real mode */
#define R_CS 16                         /* word: CS in real mode */

        .code32
        .text
        .globl rm_test
rm_test:                                /* void rm_test(void) */
        pushal
        movl %esp, saved_esp
        movl $blob_start, %esi
        movl $BLOB, %edi
        movl $(blob_end - blob_start), %ecx
        cld
        rep movsb
        lgdt gdt16_desc
        ljmp $0x18, $(pm16_entry - blob_start)

back32:                                 /* 32-bit protected mode again */
        movl $0x10, %eax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movl saved_esp, %esp
        popal
        ret

/* ---- copied to BLOB; offsets are relative to blob_start ---- */
        .code16
blob_start:
pm16_entry:                             /* 16-bit protected mode: CS 0x18, base BLOB */
        movw $0x20, %ax                 /* 16-bit data, base 0, limit 0xffff */
        movw %ax, %ss
        movw %ax, %ds
        movw $0x7000, %sp
        pushw $0x1234
        popw %bx
        movw %bx, RM_RESULTS + R_PM16_POP
        movw $0x28, %ax                 /* flat data, 4 GiB limit */
        movw %ax, %ds
        movw %ax, %es
        movl %cr0, %eax
        andb $0xfe, %al
        movl %eax, %cr0                 /* real mode */
        ljmp $(BLOB >> 4), $(real_entry - blob_start)

real_entry:
        xorw %ax, %ax
        movw %ax, %ss
        movw $0x7000, %sp
        movw %ax, %ds                   /* base 0; the 4 GiB limit stays: unreal mode */
        movw %cs, RM_RESULTS + R_CS

        movl $0x00200000, %esi          /* above 1 MiB */
        movl $0x5aa5c33c, %eax
        addr32 movl %eax, (%esi)
        addr32 movl (%esi), %ebx
        movl %ebx, RM_RESULTS + R_UNREAL

        movl $0x12345678, %eax          /* 32-bit arithmetic in real mode */
        addl $0x11111111, %eax
        movl %eax, RM_RESULTS + R_OPSIZE

        movw $(int30 - blob_start), 0x30 * 4       /* the IVT's entry for INT 0x30 */
        movw $(BLOB >> 4), 0x30 * 4 + 2
        movw $0, RM_RESULTS + R_INT_COUNT
        int $0x30
        int $0x30

        lcall $(BLOB >> 4), $(far_routine - blob_start)

        movw $(msg_real - blob_start + BLOB), %si
1:      movb (%si), %al
        testb %al, %al
        jz 3f
        movw $0x3fd, %dx                /* COM1's LSR: wait for room */
        movb %al, %bl
2:      inb %dx, %al
        testb $0x20, %al
        jz 2b
        movw $0x3f8, %dx
        movb %bl, %al
        outb %al, %dx
        incw %si
        jmp 1b

3:      movl %cr0, %eax
        orb $1, %al
        movl %eax, %cr0                 /* protected mode */
        ljmpl $0x08, $back32

int30:
        incw RM_RESULTS + R_INT_COUNT   /* DS is 0 */
        iret

far_routine:
        movw $0x4321, RM_RESULTS + R_FAR
        lret

msg_real:       .asciz "real mode: serial output through COM1\n"
blob_end:

        .code32
        .data
        .balign 8
gdt16:
        .quad 0                         /* 0x00 */
        .quad 0x00CF9A000000FFFF        /* 0x08 32-bit code, flat */
        .quad 0x00CF92000000FFFF        /* 0x10 32-bit data, flat */
        .quad 0x00009A008000FFFF        /* 0x18 16-bit code, base 0x8000, limit 0xffff */
        .quad 0x000092000000FFFF        /* 0x20 16-bit data, base 0, limit 0xffff */
        .quad 0x008F92000000FFFF        /* 0x28 16-bit data, base 0, limit 4 GiB */
gdt16_end:
        .balign 4
        .word 0
gdt16_desc:
        .word gdt16_end - gdt16 - 1
        .long gdt16
saved_esp:      .long 0

        .section .note.GNU-stack, "", @progbits
