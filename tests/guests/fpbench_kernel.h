/* The fpbench guest's work, shared with its host twin (fpbench_expected.c)
 * so the expected output is computed on the host CPU from the same code.
 * Every floating-point operation is inline assembly (the guest is built
 * without SSE or x87 code generation, and the host compiler must not pick
 * other instructions): SSE2 packed and scalar double, SSE single, and x87
 * extended precision (no transcendental: those may differ by an ulp between
 * CPUs). One round: N = 512 elements through each kernel. */
#ifndef FPBENCH_KERNEL_H
#define FPBENCH_KERNEL_H

#include <stdint.h>

#define FPB_N 512

/* The XMM clobbers: the guest is built without SSE, where GCC refuses to
 * name them (and keeps nothing in XMM registers anyway). */
#ifdef __SSE__
#define FPB_XMM(...) __VA_ARGS__
#else
#define FPB_XMM(...) "memory"
#endif

typedef struct { double v[2]; } __attribute__((aligned(16))) fpb_d2;
typedef struct { float v[4]; } __attribute__((aligned(16))) fpb_f4;

struct fpb_state {
    fpb_d2 x[FPB_N / 2], y[FPB_N / 2];
    fpb_f4 s[FPB_N / 4];
    uint64_t x87_bits[2];     /* the 80-bit accumulator, low 8 bytes + exponent word */
};

/* Values from an integer generator (exact conversions, no FP in C). */
static inline void fpb_init(struct fpb_state *st)
{
    uint32_t r = 12345;
    for (int i = 0; i < FPB_N / 2; i++)
        for (int j = 0; j < 2; j++) {
            r = r * 1103515245u + 12345u;
            int32_t a = (int32_t)(r >> 8) - (1 << 22);
            r = r * 1103515245u + 12345u;
            int32_t b = (int32_t)(r >> 9) + 1;
            __asm__ volatile("cvtsi2sd %1, %%xmm0\n cvtsi2sd %2, %%xmm1\n divsd %%xmm1, %%xmm0\n movsd %%xmm0, %0"
                             : "=m"(st->x[i].v[j]) : "r"(a), "r"(b) : FPB_XMM("xmm0", "xmm1"));
            __asm__ volatile("cvtsi2sd %1, %%xmm0\n movsd %%xmm0, %0" : "=m"(st->y[i].v[j]) : "r"(b) : FPB_XMM("xmm0"));
        }
    for (int i = 0; i < FPB_N / 4; i++)
        for (int j = 0; j < 4; j++) {
            r = r * 1103515245u + 12345u;
            int32_t a = (int32_t)(r >> 12) + 3;
            __asm__ volatile("cvtsi2ss %1, %%xmm0\n movss %%xmm0, %0" : "=m"(st->s[i].v[j]) : "r"(a) : FPB_XMM("xmm0"));
        }
    st->x87_bits[0] = 0;
    st->x87_bits[1] = 0;
    __asm__ volatile("fninit\n fld1\n fstpt %0" : "=m"(*(char(*)[10])st->x87_bits));
}

static inline void fpb_round(struct fpb_state *st)
{
    static const fpb_d2 k = {{0.999755859375, 1.000244140625}};
    static const fpb_f4 half = {{0.5f, 0.5f, 0.5f, 0.5f}};
    /* SSE2: y = sqrt(|x * k + y|) / k, then x = x - y * k, min/max mixed in. */
    for (int i = 0; i < FPB_N / 2; i++) {
        __asm__ volatile(
            "movapd %0, %%xmm0\n mulpd %2, %%xmm0\n addpd %1, %%xmm0\n"
            "movapd %%xmm0, %%xmm2\n mulpd %%xmm2, %%xmm2\n sqrtpd %%xmm2, %%xmm2\n sqrtpd %%xmm2, %%xmm2\n"
            "divpd %2, %%xmm2\n movapd %%xmm2, %%xmm3\n mulpd %2, %%xmm3\n movapd %0, %%xmm4\n subpd %%xmm3, %%xmm4\n"
            "maxpd %%xmm0, %%xmm4\n minpd %%xmm2, %%xmm4\n haddpd %%xmm4, %%xmm4\n addsd %%xmm4, %%xmm2\n"
            "movapd %%xmm2, %1\n movapd %%xmm4, %0"
            : "+m"(st->x[i]), "+m"(st->y[i]) : "m"(k) : FPB_XMM("xmm0", "xmm2", "xmm3", "xmm4"));
    }
    /* SSE: s = (s * 0.5 + s / (s + 3)) converted to int and back every round. */
    for (int i = 0; i < FPB_N / 4; i++) {
        __asm__ volatile(
            "movaps %0, %%xmm0\n movaps %%xmm0, %%xmm1\n mulps %1, %%xmm1\n movaps %%xmm0, %%xmm2\n"
            "addps %1, %%xmm2\n addps %1, %%xmm2\n divps %%xmm2, %%xmm0\n addps %%xmm1, %%xmm0\n"
            "sqrtps %%xmm0, %%xmm0\n addps %%xmm1, %%xmm0\n cvtps2dq %%xmm0, %%xmm3\n cvtdq2ps %%xmm3, %%xmm3\n"
            "subps %%xmm3, %%xmm0\n addps %%xmm1, %%xmm0\n movaps %%xmm0, %0"
            : "+m"(st->s[i]) : "m"(half) : FPB_XMM("xmm0", "xmm1", "xmm2", "xmm3"));
    }
    /* x87: acc = acc * x[i] + y[i], reduced with FPREM and FSCALE, in extended precision. */
    for (int i = 0; i < FPB_N / 2; i++) {
        __asm__ volatile(
            "fldt %0\n fmull %1\n faddl %2\n fld1\n faddp\n fldl %2\n fabs\n fxch\n"
            "1: fprem\n fnstsw %%ax\n test $4, %%ah\n jnz 1b\n fstp %%st(1)\n"
            "fld1\n fxch\n fscale\n fstp %%st(1)\n fsqrt\n fld1\n faddp\n fstpt %0"
            : "+m"(*(char(*)[10])st->x87_bits) : "m"(st->x[i].v[0]), "m"(st->y[i].v[1]) : "eax", "cc");
    }
}

/* A checksum of the state: the XOR of its 32-bit words, rotated. */
static inline uint32_t fpb_digest(const struct fpb_state *st)
{
    const uint32_t *w = (const uint32_t *)st;
    uint32_t h = 0;
    for (unsigned i = 0; i < sizeof *st / 4; i++)
        h = ((h << 5) | (h >> 27)) ^ w[i];
    return h;
}

/* rounds=N from a command line (default 20). */
static inline uint32_t fpb_rounds(const char *cmdline)
{
    const char *p = cmdline;
    for (; p && *p; p++)
        if (p[0] == 'r' && p[1] == 'o' && p[2] == 'u' && p[3] == 'n' && p[4] == 'd' && p[5] == 's' && p[6] == '=') {
            uint32_t n = 0;
            for (p += 7; *p >= '0' && *p <= '9'; p++)
                n = n * 10 + (uint32_t)(*p - '0');
            return n;
        }
    return 20;
}

/* The output line; returns its length. */
static inline int fpb_format(char *out, uint32_t rounds, uint32_t digest)
{
    static const char hex[] = "0123456789abcdef";
    const char *head = "fpbench: rounds ";
    int n = 0;
    while (*head)
        out[n++] = *head++;
    char d[12];
    int k = 0;
    do {
        d[k++] = (char)('0' + rounds % 10);
        rounds /= 10;
    } while (rounds);
    while (k)
        out[n++] = d[--k];
    const char *mid = " digest 0x";
    while (*mid)
        out[n++] = *mid++;
    for (int s = 28; s >= 0; s -= 4)
        out[n++] = hex[(digest >> s) & 15];
    out[n++] = '\n';
    return n;
}

#endif
