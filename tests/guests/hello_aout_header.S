/* hello_aout: Multiboot header with the a.out kludge (flags bit 16): the loader
 * must take the load addresses and the entry point from this header rather than
 * from the ELF headers.  hello_aout.ld lays the file out so that both views put
 * the same bytes at the same addresses (file offset = address - 0x100000), except
 * for two things that tell the paths apart:
 *  - the ELF entry point (hello_aout_elf_entry) is not entry_addr (_start);
 *  - the file holds 256 bytes of 0xAA (.fakebss) in [load_end_addr, bss_end_addr),
 *    which the kludge path must not load and must zero. */
#define MB_FLAGS 0x00010003     /* bit 16: address fields valid; bits 0, 1 */

        .section .multiboot, "a"
        .balign 4
mb_header:
        .long 0x1BADB002
        .long MB_FLAGS
        .long -(0x1BADB002 + MB_FLAGS)
        .long mb_header                 /* header_addr */
        .long __load_start              /* load_addr: the start of the file */
        .long __load_end                /* load_end_addr */
        .long __bss_end                 /* bss_end_addr */
        .long _start                    /* entry_addr */

        .text
        .globl hello_aout_elf_entry
hello_aout_elf_entry:                   /* only an ELF loader comes here */
        movl $1, hello_aout_via_elf
        jmp _start

        .data
        .globl hello_aout_via_elf
        .balign 4
hello_aout_via_elf:
        .long 0

        .section .fakebss, "aw"
        .globl hello_aout_fakebss
hello_aout_fakebss:
        .fill 256, 1, 0xAA

        .section .note.GNU-stack, "", @progbits
