/* Host program: the fpbench guest's output for a command line, computed on
 * the host CPU with the guest's own fpbench_kernel.h.
 *   fpbench_expected [-o FILE] [ARG...] */
#include <stdio.h>
#include <string.h>
#include "fpbench_kernel.h"

int main(int argc, char **argv)
{
    const char *outpath = NULL;
    char cmdline[1024] = "";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            outpath = argv[++i];
            continue;
        }
        if (strlen(cmdline) + strlen(argv[i]) + 2 > sizeof cmdline)
            return 2;
        if (cmdline[0])
            strcat(cmdline, " ");
        strcat(cmdline, argv[i]);
    }
    static struct fpb_state st;
    uint32_t rounds = fpb_rounds(cmdline);
    fpb_init(&st);
    for (uint32_t r = 0; r < rounds; r++)
        fpb_round(&st);
    char out[64];
    int n = fpb_format(out, rounds, fpb_digest(&st));
    FILE *f = outpath ? fopen(outpath, "wb") : stdout;
    if (!f || fwrite(out, 1, (size_t)n, f) != (size_t)n || (outpath && fclose(f) != 0)) {
        perror("fpbench_expected");
        return 1;
    }
    return 0;
}
