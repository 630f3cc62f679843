/* Host program: prints the serial output the checksum guest produces for a given
 * command line, computed with the guest's own checksum_algo.h.
 *   checksum_expected [-o FILE] [ARG...]    ARGs are joined as the guest's
 *   command line, e.g. checksum_expected rounds=100 */
#include <stdio.h>
#include <string.h>
#include "checksum_algo.h"

int main(int argc, char **argv)
{
    const char *outpath = NULL;
    char cmdline[4096] = "";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            outpath = argv[++i];
            continue;
        }
        if (strlen(cmdline) + strlen(argv[i]) + 2 > sizeof cmdline) {
            fprintf(stderr, "checksum_expected: command line too long\n");
            return 2;
        }
        if (cmdline[0])
            strcat(cmdline, " ");
        strcat(cmdline, argv[i]);
    }
    static uint32_t table[256];
    static uint8_t buf[CHECKSUM_BUF_SIZE];
    uint32_t rounds = checksum_rounds(cmdline);
    checksum_make_table(table);
    checksum_fill(buf);
    uint32_t crc = checksum_run(rounds, buf, table);
    char out[128];
    int n = checksum_format(out, rounds, crc);
    FILE *f = outpath ? fopen(outpath, "wb") : stdout;
    if (!f) {
        perror(outpath);
        return 1;
    }
    if (fwrite(out, 1, (size_t)n, f) != (size_t)n || (outpath && fclose(f) != 0)) {
        perror("checksum_expected");
        return 1;
    }
    return 0;
}
