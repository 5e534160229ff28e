/* backends/cpu/k_gemm.c - the matrix kernel of conv2d: C (+)= A x B with
 * A packed once, each element of the product one fused multiply-add chain
 * over k from 0 (the accumulation order of k_conv.c).
 *
 * A is packed in panels of GEMM_MR rows, k-major (the MR values of one k
 * are adjacent), zero rows padding the last panel.  The micro-kernel keeps
 * an MR x NR block of C in registers: AVX-512 (NR = 32) or AVX2 with FMA
 * (NR = 16), chosen at run time; other machines and the column tails use
 * a scalar loop with fmaf.  Every variant computes the same chain, so the
 * results are the same bits on every machine. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GEMM_X86 1
#endif

#define GEMM_MR 6

int64_t qir_gemm_panel_rows(int64_t m) {
  return (m + GEMM_MR - 1) / GEMM_MR * GEMM_MR;
}

void qir_gemm_pack_a(const float *a, int64_t lda, int64_t m, int64_t k,
                     float *dst) {
  for (int64_t r0 = 0; r0 < m; r0 += GEMM_MR)
    for (int64_t kk = 0; kk < k; kk++)
      for (int64_t r = 0; r < GEMM_MR; r++)
        *dst++ = r0 + r < m ? a[(r0 + r) * lda + kk] : 0.0f;
}

/* Rows [0, rows) and columns [j0, j1) of one panel, one element at a
 * time. */
static void panel_scalar(const float *ap, int64_t rows, int64_t j0,
                         int64_t j1, int64_t k, const float *const *b,
                         float *c, int64_t ldc, bool accumulate,
                         const qir_gemm_epilogue *e) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = j0; j < j1; j++) {
      float acc = 0.0f;
      for (int64_t kk = 0; kk < k; kk++)
        acc = fmaf(ap[kk * GEMM_MR + r], b[kk][j], acc);
      float v = accumulate ? c[r * ldc + j] + acc : acc;
      if (e) {
        float bias = e->bias ? e->bias[r] : 0.0f;
        if (e->act || bias != 0.0f)
          v += bias;
        if (e->act) {
          v = v < e->lo ? e->lo : v;
          v = v > e->hi ? e->hi : v;
        }
      }
      c[r * ldc + j] = v;
    }
}

#ifdef GEMM_X86
/* The epilogue of one row r of a panel on a vector v: bias, then clamp
 * (max/min with v second: NaN and -0 come out as the scalar code's). */
#define EPILOGUE_VEC(PFX, v, e, r)                                            \
  do {                                                                        \
    if (e) {                                                                  \
      float bias_ = (e)->bias ? (e)->bias[r] : 0.0f;                          \
      if ((e)->act || bias_ != 0.0f)                                          \
        v = PFX##_add_ps(v, PFX##_set1_ps(bias_));                            \
      if ((e)->act)                                                           \
        v = PFX##_min_ps(PFX##_set1_ps((e)->hi),                              \
                         PFX##_max_ps(PFX##_set1_ps((e)->lo), v));            \
    }                                                                         \
  } while (0)

__attribute__((target("avx512f"))) static void
panel_avx512(const float *ap, int64_t rows, int64_t n, int64_t k,
             const float *const *b, float *c, int64_t ldc, bool accumulate,
             const qir_gemm_epilogue *e) {
  int64_t j = 0;
  /* 6 x 64: 24 accumulators, one broadcast of A feeds four FMAs. */
  for (; j + 64 <= n; j += 64) {
    __m512 acc[GEMM_MR][4];
#pragma GCC unroll 8
    for (int r = 0; r < GEMM_MR; r++)
      acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = _mm512_setzero_ps();
    const float *a = ap;
    for (int64_t kk = 0; kk < k; kk++, a += GEMM_MR) {
      const float *bp = b[kk] + j;
      __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
      __m512 b2 = _mm512_loadu_ps(bp + 32), b3 = _mm512_loadu_ps(bp + 48);
#pragma GCC unroll 8
      for (int r = 0; r < GEMM_MR; r++) {
        __m512 av = _mm512_set1_ps(a[r]);
        acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        acc[r][2] = _mm512_fmadd_ps(av, b2, acc[r][2]);
        acc[r][3] = _mm512_fmadd_ps(av, b3, acc[r][3]);
      }
    }
#pragma GCC unroll 8
    for (int64_t r = 0; r < rows; r++) {
      float *cr = c + r * ldc + j;
#pragma GCC unroll 4
      for (int q = 0; q < 4; q++) {
        if (accumulate)
          acc[r][q] = _mm512_add_ps(_mm512_loadu_ps(cr + 16 * q), acc[r][q]);
        EPILOGUE_VEC(_mm512, acc[r][q], e, r);
        _mm512_storeu_ps(cr + 16 * q, acc[r][q]);
      }
    }
  }
  for (; j + 32 <= n; j += 32) {
    __m512 acc[GEMM_MR][2];
#pragma GCC unroll 8
    for (int r = 0; r < GEMM_MR; r++)
      acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    const float *a = ap;
    for (int64_t kk = 0; kk < k; kk++, a += GEMM_MR) {
      const float *bp = b[kk] + j;
      __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
#pragma GCC unroll 8
    for (int r = 0; r < GEMM_MR; r++) {
        __m512 av = _mm512_set1_ps(a[r]);
        acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
      }
    }
#pragma GCC unroll 8
    for (int64_t r = 0; r < rows; r++) {
      float *cr = c + r * ldc + j;
      if (accumulate) {
        acc[r][0] = _mm512_add_ps(_mm512_loadu_ps(cr), acc[r][0]);
        acc[r][1] = _mm512_add_ps(_mm512_loadu_ps(cr + 16), acc[r][1]);
      }
      EPILOGUE_VEC(_mm512, acc[r][0], e, r);
      EPILOGUE_VEC(_mm512, acc[r][1], e, r);
      _mm512_storeu_ps(cr, acc[r][0]);
      _mm512_storeu_ps(cr + 16, acc[r][1]);
    }
  }
  for (; j < n; j += 16) { /* masked tail, 16 columns at a time */
    __mmask16 mask = n - j >= 16 ? 0xffff : (__mmask16)((1u << (n - j)) - 1);
    __m512 acc[GEMM_MR];
#pragma GCC unroll 8
    for (int r = 0; r < GEMM_MR; r++)
      acc[r] = _mm512_setzero_ps();
    const float *a = ap;
    for (int64_t kk = 0; kk < k; kk++, a += GEMM_MR) {
      const float *bp = b[kk] + j;
      __m512 b0 = _mm512_maskz_loadu_ps(mask, bp);
#pragma GCC unroll 8
    for (int r = 0; r < GEMM_MR; r++)
        acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r]), b0, acc[r]);
    }
#pragma GCC unroll 8
    for (int64_t r = 0; r < rows; r++) {
      float *cr = c + r * ldc + j;
      if (accumulate)
        acc[r] = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, cr), acc[r]);
      EPILOGUE_VEC(_mm512, acc[r], e, r);
      _mm512_mask_storeu_ps(cr, mask, acc[r]);
    }
  }
}

__attribute__((target("avx2,fma"))) static void
panel_avx2(const float *ap, int64_t rows, int64_t n, int64_t k,
           const float *const *b, float *c, int64_t ldc, bool accumulate,
           const qir_gemm_epilogue *e) {
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    __m256 acc[GEMM_MR][2];
#pragma GCC unroll 8
    for (int r = 0; r < GEMM_MR; r++)
      acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    const float *a = ap;
    for (int64_t kk = 0; kk < k; kk++, a += GEMM_MR) {
      const float *bp = b[kk] + j;
      __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
#pragma GCC unroll 8
    for (int r = 0; r < GEMM_MR; r++) {
        __m256 av = _mm256_broadcast_ss(a + r);
        acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
      }
    }
#pragma GCC unroll 8
    for (int64_t r = 0; r < rows; r++) {
      float *cr = c + r * ldc + j;
      if (accumulate) {
        acc[r][0] = _mm256_add_ps(_mm256_loadu_ps(cr), acc[r][0]);
        acc[r][1] = _mm256_add_ps(_mm256_loadu_ps(cr + 8), acc[r][1]);
      }
      EPILOGUE_VEC(_mm256, acc[r][0], e, r);
      EPILOGUE_VEC(_mm256, acc[r][1], e, r);
      _mm256_storeu_ps(cr, acc[r][0]);
      _mm256_storeu_ps(cr + 8, acc[r][1]);
    }
  }
  if (j < n)
    panel_scalar(ap, rows, j, n, k, b, c, ldc, accumulate, e);
}
#endif

typedef void (*panel_fn)(const float *ap, int64_t rows, int64_t n, int64_t k,
                         const float *const *b, float *c, int64_t ldc,
                         bool accumulate, const qir_gemm_epilogue *e);

static void panel_generic(const float *ap, int64_t rows, int64_t n, int64_t k,
                          const float *const *b, float *c, int64_t ldc,
                          bool accumulate, const qir_gemm_epilogue *e) {
  panel_scalar(ap, rows, 0, n, k, b, c, ldc, accumulate, e);
}

/* QIR_GEMM_ISA=avx2 or =scalar forces a narrower kernel (to test that
 * they agree). */
static panel_fn choose_panel(void) {
#ifdef GEMM_X86
  const char *isa = getenv("QIR_GEMM_ISA");
  __builtin_cpu_init();
  bool any = !isa || !*isa;
  if (any && __builtin_cpu_supports("avx512f"))
    return panel_avx512;
  if ((any || !strcmp(isa, "avx2")) && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma"))
    return panel_avx2;
#endif
  return panel_generic;
}

static pthread_once_t panel_once = PTHREAD_ONCE_INIT;
static panel_fn panel;

static void panel_init(void) { panel = choose_panel(); }

void qir_gemm_packed_rows(const float *ap, int64_t m, int64_t n, int64_t k,
                          const float *const *b, float *c, int64_t ldc,
                          bool accumulate, const qir_gemm_epilogue *e) {
  pthread_once(&panel_once, panel_init);
  /* Columns in slices whose rows of B (k x slice) stay in L1 while every
   * panel of A passes over them. */
  int64_t slice = (32 << 10) / (4 * (k ? k : 1)) / 64 * 64;
  slice = slice < 64 ? 64 : slice > 256 ? 256 : slice;
  const float *stack[256];
  const float **bj = k <= 256 ? stack : qir_xmalloc((size_t)k * sizeof *bj);
  for (int64_t j = 0; j < n; j += slice) {
    int64_t nj = n - j < slice ? n - j : slice;
    for (int64_t kk = 0; kk < k; kk++)
      bj[kk] = b[kk] + j;
    for (int64_t r0 = 0; r0 < m; r0 += GEMM_MR) {
      qir_gemm_epilogue pe; /* e with the bias of this panel's rows */
      if (e) {
        pe = *e;
        pe.bias = e->bias ? e->bias + r0 : NULL;
      }
      panel(ap + r0 * k, m - r0 < GEMM_MR ? m - r0 : GEMM_MR, nj, k, bj,
            c + r0 * ldc + j, ldc, accumulate, e ? &pe : NULL);
    }
  }
  if (bj != stack)
    free(bj);
}

void qir_gemm_packed(const float *ap, int64_t m, int64_t n, int64_t k,
                     const float *b, int64_t ldb, float *c, int64_t ldc,
                     bool accumulate, const qir_gemm_epilogue *e) {
  const float *stack[256] = {NULL};
  const float **rows = k <= 256 ? stack : qir_xmalloc((size_t)k * sizeof *rows);
  for (int64_t kk = 0; kk < k; kk++)
    rows[kk] = b + kk * ldb;
  qir_gemm_packed_rows(ap, m, n, k, rows, c, ldc, accumulate, e);
  if (rows != stack)
    free(rows);
}
