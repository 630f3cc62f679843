/* linux_boot32: the same bzImage without XLF_KERNEL_64, so that a loader
 * enters it at the 32-bit entry. */
#define XLOADFLAGS 0
#include "linux_boot_setup.S"
