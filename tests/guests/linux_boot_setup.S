/* linux_boot: the real-mode part of a bzImage -- the boot sector with the
 * setup header (Linux boot protocol 2.12) and one setup sector.
 *
 * rewind never runs this code: it reads the header and enters the
 * protected-mode part directly (64-bit entry with XLF_KERNEL_64, 32-bit entry
 * without). QEMU's option ROM runs it, in real mode at CS = setup segment +
 * 0x20, IP = 0 (the jump at 0x200): it builds boot_params as Linux's setup
 * does (the header QEMU filled in, and the e820 map from INT 15h), enters
 * protected mode and jumps to the 32-bit entry with ESI = boot_params.
 *
 * XLOADFLAGS: 1 (XLF_KERNEL_64) unless the includer defines it. */
#ifndef XLOADFLAGS
#define XLOADFLAGS 1
#endif
#define BP 0x1000                       /* boot_params, from the setup segment's base */
#define HEADER_START 0x1f1
#define HEADER_END 0x268                /* protocol 2.12's header ends here */

        .code16
        .section .setup, "ax"
        .org HEADER_START
        .byte 1                         /* setup_sects */
        .word 0                         /* root_flags */
        .long __syssize                 /* syssize: 16-byte units of the protected-mode part */
        .word 0                         /* ram_size (obsolete) */
        .word 0xffff                    /* vid_mode: normal */
        .word 0                         /* root_dev */
        .word 0xaa55                    /* boot_flag */
        .byte 0xeb, real_start - 0x202  /* jump: the header ends at 0x202 + this byte */
        .ascii "HdrS"
        .word 0x020c                    /* version 2.12 */
        .long 0                         /* realmode_swtch */
        .word 0x1000                    /* start_sys_seg (obsolete) */
        .word 0                         /* kernel_version: no string */
        .byte 0                         /* type_of_loader: the loader writes it */
        .byte 0x01                      /* loadflags: LOADED_HIGH */
        .word 0x8000                    /* setup_move_size */
        .long 0x100000                  /* code32_start */
        .long 0                         /* ramdisk_image */
        .long 0                         /* ramdisk_size */
        .long 0                         /* bootsect_kludge */
        .word 0                         /* heap_end_ptr */
        .byte 0                         /* ext_loader_ver */
        .byte 0                         /* ext_loader_type */
        .long 0                         /* cmd_line_ptr */
        .long 0x07ffffff                /* initrd_addr_max: below 128 MiB */
        .long 0x1000                    /* kernel_alignment */
        .byte 0                         /* relocatable_kernel: no, linked at 1 MiB */
        .byte 12                        /* min_alignment: 4 KiB */
        .word XLOADFLAGS                /* xloadflags */
        .long 255                       /* cmdline_size */
        .long 0                         /* hardware_subarch: PC */
        .quad 0                         /* hardware_subarch_data */
        .long 0                         /* payload_offset */
        .long 0                         /* payload_length */
        .quad 0                         /* setup_data */
        .quad 0x100000                  /* pref_address */
        .long __init_size               /* init_size: the image and its bss */
        .long 0                         /* handover_offset */

real_start:
        cli
        cld
        movw %cs, %ax
        subw $0x20, %ax                 /* the segment of the setup's first byte */
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movw $0xfff0, %sp

        /* boot_params: zeroed, then the header as the loader left it. */
        movw $BP, %di
        xorw %ax, %ax
        movw $2048, %cx
        rep stosw
        movw $HEADER_START, %si
        movw $BP + HEADER_START, %di
        movw $HEADER_END - HEADER_START, %cx
        rep movsb

        /* e820 from the BIOS, as Linux's setup collects it. */
        xorl %ebx, %ebx
        movw $BP + 0x2d0, %di
1:      movl $0xe820, %eax
        movl $20, %ecx
        movl $0x534d4150, %edx          /* "SMAP" */
        int $0x15
        jc 2f
        cmpl $0x534d4150, %eax
        jne 2f
        incb BP + 0x1e8
        addw $20, %di
        cmpb $128, BP + 0x1e8
        jae 2f
        testl %ebx, %ebx
        jnz 1b
2:
        inb $0x92, %al                  /* fast A20 */
        orb $2, %al
        andb $0xfe, %al
        outb %al, $0x92

        xorl %ebx, %ebx
        movw %ds, %bx
        shll $4, %ebx                   /* the setup's linear address */
        leal gdt(%ebx), %eax
        movl %eax, gdt_desc + 2
        lgdtl gdt_desc
        leal BP(%ebx), %esi
        movl %cr0, %eax
        orb $1, %al
        movl %eax, %cr0
        movw $0x18, %ax                 /* __BOOT_DS */
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        xorl %ebp, %ebp
        xorl %edi, %edi
        xorl %ebx, %ebx
        ljmpl $0x10, $0x100000          /* __BOOT_CS: the 32-bit entry */

        .balign 8
gdt:    .quad 0, 0
        .quad 0x00cf9a000000ffff        /* 0x10: flat 32-bit code */
        .quad 0x00cf92000000ffff        /* 0x18: flat data */
gdt_desc:
        .word 31
        .long 0                         /* filled in: the setup's linear address + gdt */

        .org 1024                       /* boot sector + one setup sector */

        .section .note.GNU-stack, "", @progbits
