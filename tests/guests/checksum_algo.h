/* checksum: the algorithm, the command-line parsing and the output text, shared
 * verbatim by the guest (checksum.c, freestanding i386) and the host program
 * checksum_expected.c, so the expected serial output is computed from this
 * source, not taken from an emulator run.
 *
 * Work: CRC-32 (reflected, polynomial 0xEDB88320, table-driven) over a 4 KiB
 * buffer of xorshift32 bytes, `rounds` times; after each round one byte of the
 * buffer is changed (so no round repeats another).  Built by gcc 12 -O2 the
 * guest's inner loop is 9 instructions per byte, ~36,900 instructions per
 * round, so the default 5400 rounds are ~199 million guest instructions (plus
 * ~0.1 million for set-up and output).  The cost is linear in rounds=N given on
 * the command line. */
#ifndef REWIND_CHECKSUM_ALGO_H
#define REWIND_CHECKSUM_ALGO_H

#include <stdint.h>

#define CHECKSUM_BUF_SIZE 4096u
#define CHECKSUM_DEFAULT_ROUNDS 5400u

static inline void checksum_make_table(uint32_t table[256])
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        table[i] = c;
    }
}

static inline void checksum_fill(uint8_t buf[CHECKSUM_BUF_SIZE])
{
    uint32_t x = 0x2545F491u;
    for (uint32_t i = 0; i < CHECKSUM_BUF_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)(x >> 24);
    }
}

static inline uint32_t checksum_run(uint32_t rounds, uint8_t buf[CHECKSUM_BUF_SIZE],
                                    const uint32_t table[256])
{
    uint32_t crc = 0xFFFFFFFFu;
    for (uint32_t r = 0; r < rounds; r++) {
        for (uint32_t i = 0; i < CHECKSUM_BUF_SIZE; i++)
            crc = table[(crc ^ buf[i]) & 0xFF] ^ (crc >> 8);
        buf[r % CHECKSUM_BUF_SIZE] ^= (uint8_t)crc;
    }
    return ~crc;
}

/* "rounds=N" anywhere in the command line (N decimal), else the default. */
static inline uint32_t checksum_rounds(const char *cmdline)
{
    static const char key[] = "rounds=";
    for (const char *s = cmdline; *s; s++) {
        int i = 0;
        while (key[i] && s[i] == key[i])
            i++;
        if (key[i])
            continue;
        s += i;
        if (*s < '0' || *s > '9')
            break;
        uint32_t n = 0;
        while (*s >= '0' && *s <= '9')
            n = n * 10 + (uint32_t)(*s++ - '0');
        return n;
    }
    return CHECKSUM_DEFAULT_ROUNDS;
}

/* The guest's whole serial output; out needs 128 bytes.  Returns the length. */
static inline int checksum_format(char *out, uint32_t rounds, uint32_t crc)
{
    static const char head[] = "checksum: crc32 of a 4096-byte buffer, rounds=";
    static const char mid[] = "\nchecksum: result 0x";
    static const char tail[] = "\nchecksum: done\n";
    static const char hex[] = "0123456789abcdef";
    int n = 0;
    for (const char *p = head; *p; p++)
        out[n++] = *p;
    char dec[10];
    int d = 0;
    do {
        dec[d++] = (char)('0' + rounds % 10);
        rounds /= 10;
    } while (rounds);
    while (d)
        out[n++] = dec[--d];
    for (const char *p = mid; *p; p++)
        out[n++] = *p;
    for (int sh = 28; sh >= 0; sh -= 4)
        out[n++] = hex[(crc >> sh) & 0xF];
    for (const char *p = tail; *p; p++)
        out[n++] = *p;
    out[n] = 0;
    return n;
}

#endif
