/* Multiboot v1 header of the ELF guests: no a.out kludge, the loader uses the
 * ELF program headers. */
#define MB_FLAGS 0x00000003     /* bit 0: page-aligned modules, bit 1: memory info */

        .section .multiboot, "a"
        .balign 4
        .long 0x1BADB002
        .long MB_FLAGS
        .long -(0x1BADB002 + MB_FLAGS)

        .section .note.GNU-stack, "", @progbits
