/* Interrupt stubs: each pushes (error code or 0) and the vector, then
 * rt_isr_common saves the registers and calls rt_interrupt(struct rt_frame *). */
        .text
/* vectors whose exceptions push an error code: 8, 10-14, 17, 21, 29, 30 */
.macro stub v
        .balign 16
rt_isr_\v:
  .if (\v == 8) || (\v >= 10 && \v <= 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
  .else
        pushl $0
  .endif
        pushl $\v
        jmp rt_isr_common
.endm

.altmacro
.macro stubs from, to
        stub %(\from)
  .if \to-\from
        stubs %(\from+1), \to
  .endif
.endm
        stubs 0, 47

        .globl rt_isr_0x80
        .balign 16
rt_isr_0x80:
        pushl $0
        pushl $0x80
        jmp rt_isr_common

rt_isr_common:
        cld
        pushal
        pushl %esp              /* struct rt_frame * */
        call rt_interrupt
        addl $4, %esp
        popal
        addl $8, %esp           /* vector, error code */
        iretl

        .section .rodata
        .balign 4
        .globl rt_isr_table
rt_isr_table:
.macro entry v
        .long rt_isr_\v
.endm
.macro entries from, to
        entry %(\from)
  .if \to-\from
        entries %(\from+1), \to
  .endif
.endm
        entries 0, 47

        .section .note.GNU-stack, "", @progbits
