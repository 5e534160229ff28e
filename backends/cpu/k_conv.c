/* backends/cpu/k_conv.c - conv2d, conv_transpose2d, matmul and gemm in f32.
 *
 * conv2d: a plan (made once per op when the weights are constant) holds
 * the weights reordered for the accumulation order below.  1x1 stride-1
 * unpadded convolutions are sgemms straight on the input; other regular
 * and grouped convolutions im2col one channel block of one pixel tile at
 * a time (it stays in cache) and sgemm it; the tiles are split across
 * the threads, each running a single-threaded sgemm.  Depthwise
 * convolutions use a direct kernel over rows of (image, channel) planes,
 * the planes split across threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"

/* ---- Accumulation order -----------------------------------------------------
 *
 * Float sums depend on their order, and imported models often sum large
 * terms to small results (batch norms folded into the weights), so the
 * order is part of what the interpreter computes.  It follows ONNX
 * Runtime's x86 kernels, so that both agree to the last bit where they
 * can:
 *
 * - every product is accumulated with a fused multiply-add, from 0;
 * - depthwise: one chain over the taps, row-major;
 * - other convolutions: the input channels of a group split into blocks
 *   (128 channels for 1x1 kernels, 16 for larger ones, 1 when a group
 *   has fewer than 16 channels); each block is one chain over
 *   (kh, kw, channel), and the blocks' sums are added to the result in
 *   order;
 * - then the bias is added, then the activation applied. */

#define POINTWISE_BLOCK 128
#define CHANNEL_BLOCK 16
/* Output pixels per im2col tile: the tile of one channel block
 * (CHANNEL_BLOCK * kh * kw rows) stays in the L2 cache. */
#define PIXEL_TILE 256

/* Depthwise kernels (below): one tap on one output row, or the interior
 * of one output row. */
typedef void (*dw_tap_fn)(float *restrict y, const float *restrict x, float w,
                          int64_t sw, int64_t lo, int64_t hi);
typedef void (*dw_row_fn)(float *restrict y, const float *const *rows,
                          const float *wk, int64_t lo, int64_t hi);

struct qir_conv_plan {
  qir_conv_params p;
  int64_t cg, og, kdim; /* channels and outputs per group, cg * kh * kw */
  int64_t block;        /* input channels per block */
  bool depthwise, direct_1x1;
  /* Stride 1: B's rows read in place from a zero-padded copy of the input
   * (no im2col), one output row segment per tile. */
  bool padded_rows;
  int64_t panel_rows; /* og rounded up to the gemm panels */
  dw_tap_fn dw_tap;
  dw_row_fn dw_row; /* NULL: tap by tap */
  /* Depthwise: the weights as given.  Others: per group, per channel
   * block, the packed panels (k_gemm.c) of the block's (kh, kw, channel)
   * columns. */
  float *w;
};

static dw_tap_fn choose_dw_tap(void);
static void pad_plane(const qir_conv_params *p, const float *xp, float *pad);

/* Every window lies in the zero-padded (pt + h + pb) x (pl + w + pr)
 * input. */
static bool fits_padded(const qir_conv_params *p) {
  return p->pt >= 0 && p->pl >= 0 && p->pb >= 0 && p->pr >= 0 && p->oh >= 1 &&
         p->ow >= 1 &&
         (p->oh - 1) * p->sh + (p->kh - 1) * p->dh + 1 <= p->pt + p->h + p->pb &&
         (p->ow - 1) * p->sw + (p->kw - 1) * p->dw + 1 <= p->pl + p->w + p->pr;
}
static dw_row_fn choose_dw_row(const qir_conv_params *p);

static bool is_depthwise(const qir_conv_params *p) {
  return p->group == p->c && p->group > 1 && p->o % p->c == 0;
}

static int64_t channel_block(const qir_conv_params *p, int64_t cg) {
  if (p->kh == 1 && p->kw == 1)
    return cg < POINTWISE_BLOCK ? cg : POINTWISE_BLOCK;
  if (cg < CHANNEL_BLOCK)
    return 1;
  return CHANNEL_BLOCK;
}

/* Reorders O x Cg x KH x KW weights into the blocked order. */
static void pack_weights(const qir_conv_plan *c, const float *w, float *dst) {
  const qir_conv_params *p = &c->p;
  int64_t kk = p->kh * p->kw;
  for (int64_t o = 0; o < p->o; o++)
    for (int64_t c0 = 0; c0 < c->cg; c0 += c->block) {
      int64_t nb = c->cg - c0 < c->block ? c->cg - c0 : c->block;
      float *d = dst + o * c->kdim + c0 * kk;
      for (int64_t k = 0; k < kk; k++)
        for (int64_t j = 0; j < nb; j++)
          d[k * nb + j] = w[(o * c->cg + c0 + j) * kk + k];
    }
}

/* Where the packed panels of group g, channel block c0 start. */
static int64_t panels_offset(const qir_conv_plan *c, int64_t g, int64_t c0) {
  return (g * c->kdim + c0 * c->p.kh * c->p.kw) * c->panel_rows;
}

qir_conv_plan *qir_conv_plan_create(const qir_conv_params *p,
                                    const float *w) {
  qir_conv_plan *c = qir_xcalloc(1, sizeof *c);
  c->p = *p;
  c->cg = p->c / p->group;
  c->og = p->o / p->group;
  c->kdim = c->cg * p->kh * p->kw;
  c->depthwise = is_depthwise(p);
  c->block = channel_block(p, c->cg);
  c->padded_rows = !c->depthwise && p->sh == 1 && p->sw == 1 &&
                   fits_padded(p);
  c->direct_1x1 = p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 &&
                  !p->pt && !p->pl && !p->pb && !p->pr;
  size_t n = (size_t)(p->o * c->kdim);
  if (c->depthwise) {
    c->dw_tap = choose_dw_tap();
    c->dw_row = choose_dw_row(p);
    c->w = qir_xmalloc((n ? n : 1) * sizeof(float));
    memcpy(c->w, w, n * sizeof(float));
    return c;
  }
  c->panel_rows = qir_gemm_panel_rows(c->og);
  float *rows = qir_xmalloc((n ? n : 1) * sizeof(float));
  pack_weights(c, w, rows);
  size_t np = (size_t)(p->group * c->panel_rows * c->kdim);
  c->w = qir_xmalloc((np ? np : 1) * sizeof(float));
  int64_t kk = p->kh * p->kw;
  for (int64_t g = 0; g < p->group; g++)
    for (int64_t c0 = 0; c0 < c->cg; c0 += c->block) {
      int64_t nb = c->cg - c0 < c->block ? c->cg - c0 : c->block;
      qir_gemm_pack_a(rows + g * c->og * c->kdim + c0 * kk, c->kdim, c->og,
                      nb * kk, c->w + panels_offset(c, g, c0));
    }
  free(rows);
  return c;
}

void qir_conv_plan_destroy(qir_conv_plan *c) {
  if (!c)
    return;
  free(c->w);
  free(c);
}

/* ---- Epilogue: bias and a clamp ------------------------------------------ */

static void epilogue_row(const qir_conv_params *p, float *restrict y, int64_t n,
                         float bias) {
  if (p->act) {
    float lo = p->act_lo, hi = p->act_hi;
    for (int64_t i = 0; i < n; i++) {
      float v = y[i] + bias;
      v = v < lo ? lo : v;
      y[i] = v > hi ? hi : v;
    }
  } else if (bias != 0.0f) {
    for (int64_t i = 0; i < n; i++)
      y[i] += bias;
  }
}

/* The same epilogue in the matrix kernel, for outputs [o0, o0 + og). */
static qir_gemm_epilogue gemm_epilogue(const qir_conv_params *p,
                                       const float *b, int64_t o0) {
  return (qir_gemm_epilogue){b ? b + o0 : NULL, p->act, p->act_lo, p->act_hi};
}

/* ---- Blocked im2col + sgemm ----------------------------------------------- */

typedef struct conv_job {
  const qir_conv_plan *c;
  const float *x, *b;
  float *y;
  int64_t tiles; /* pixel tiles per (image, group) */
  int64_t tile;
} conv_job;

/* dst[ow - ow0] for output columns [ow0, ow1) of one input row xr (NULL:
 * outside the input): zeros left of lo and right of hi. */
static void im2col_segment(const qir_conv_params *p, const float *xr,
                           int64_t off, int64_t lo, int64_t hi, int64_t ow0,
                           int64_t ow1, float *restrict dst) {
  int64_t a = xr && lo > ow0 ? lo : ow0, b = xr && hi < ow1 - 1 ? hi : ow1 - 1;
  if (!xr || a > b) {
    memset(dst, 0, (size_t)(ow1 - ow0) * sizeof(float));
    return;
  }
  for (int64_t ow = ow0; ow < a; ow++)
    dst[ow - ow0] = 0.0f;
  const float *restrict src = xr + off - p->pl;
  if (p->sw == 1)
    memcpy(dst + (a - ow0), src + a, (size_t)(b - a + 1) * sizeof(float));
  else
    for (int64_t ow = a; ow <= b; ow++)
      dst[ow - ow0] = src[ow * p->sw];
  for (int64_t ow = b + 1; ow < ow1; ow++)
    dst[ow - ow0] = 0.0f;
}

/* Rows (kh, kw, channel) of block [c0, c0 + nb) for output pixels
 * [p0, p0 + ncols) of one image and group. */
static void im2col_block(const qir_conv_params *p, const float *xg, int64_t c0,
                         int64_t nb, int64_t p0, int64_t ncols,
                         float *restrict col) {
  int64_t kk = p->kh * p->kw;
  for (int64_t k = 0; k < kk; k++) {
    int64_t ki = k / p->kw, off = (k % p->kw) * p->dw, lo, hi;
    qk_valid_cols(p->w, p->ow, p->sw, p->pl, off, &lo, &hi);
    for (int64_t j = 0; j < nb; j++) {
      const float *xc = xg + (c0 + j) * p->h * p->w;
      float *dst = col + (k * nb + j) * ncols;
      int64_t oh = p0 / p->ow, ow = p0 % p->ow;
      for (int64_t q = 0; q < ncols;) {
        int64_t ih = oh * p->sh - p->pt + ki * p->dh;
        int64_t run = p->ow - ow < ncols - q ? p->ow - ow : ncols - q;
        const float *xr = ih >= 0 && ih < p->h ? xc + ih * p->w : NULL;
        im2col_segment(p, xr, off, lo, hi, ow, ow + run, dst + q);
        q += run;
        ow = 0;
        oh++;
      }
    }
  }
}

/* One tile: output pixels [p0, p0 + nc) of image n, group g. */
static void conv_tile(const conv_job *j, int64_t n, int64_t g, int64_t p0,
                      int64_t nc, float *col) {
  const qir_conv_plan *c = j->c;
  const qir_conv_params *p = &c->p;
  int64_t hw = p->h * p->w, npix = p->oh * p->ow, kk = p->kh * p->kw;
  const float *xg = j->x + (n * p->c + g * c->cg) * hw;
  float *yg = j->y + (n * p->o + g * c->og) * npix;
  qir_gemm_epilogue e = gemm_epilogue(p, j->b, g * c->og);
  for (int64_t c0 = 0; c0 < c->cg; c0 += c->block) {
    int64_t nb = c->cg - c0 < c->block ? c->cg - c0 : c->block;
    const float *ap = c->w + panels_offset(c, g, c0);
    const qir_gemm_epilogue *last = c0 + nb >= c->cg ? &e : NULL;
    if (c->direct_1x1) {
      qir_gemm_packed(ap, c->og, nc, nb, xg + c0 * hw + p0, hw, yg + p0, npix,
                      c0 > 0, last);
    } else {
      im2col_block(p, xg, c0, nb, p0, nc, col);
      qir_gemm_packed(ap, c->og, nc, nb * kk, col, nc, yg + p0, npix, c0 > 0,
                      last);
    }
  }
}

static void conv_range(void *arg, int64_t begin, int64_t end) {
  const conv_job *j = arg;
  const qir_conv_plan *c = j->c;
  const qir_conv_params *p = &c->p;
  int64_t npix = p->oh * p->ow;
  float *col = c->direct_1x1
                   ? NULL
                   : qir_xmalloc((size_t)(c->block * p->kh * p->kw * j->tile) *
                                 sizeof(float));
  for (int64_t t = begin; t < end; t++) {
    int64_t ng = t / j->tiles, p0 = (t % j->tiles) * j->tile;
    int64_t nc = npix - p0 < j->tile ? npix - p0 : j->tile;
    conv_tile(j, ng / p->group, ng % p->group, p0, nc, col);
  }
  free(col);
}

/* ---- Stride 1: rows in place ------------------------------------------------
 *
 * In the zero-padded input (PH x PW planes), output pixel (oh, ow) reads
 * tap (ki, kj) at (oh + ki * dh) * PW + ow + kj * dw: a column q = oh * PW
 * + ow of the product reads B's row of that tap at q + tap offset.  So the
 * columns run over the output rows at the padded width, PW - OW of every
 * PW of them outside the output (computed, then dropped), and a tile of
 * columns may span several output rows: the micro-kernel always sees full
 * widths, also when the rows are short.  A tile's product goes to a
 * scratch block; the epilogue copies its valid columns out. */

typedef struct rows_job {
  const qir_conv_plan *c;
  const float *xpad, *b; /* xpad: N x C x PH x PW */
  float *y;
  int64_t cols;  /* columns per (image, group): (OH - 1) * PW + OW */
  int64_t tile;  /* columns per tile */
  int64_t tiles; /* tiles per (image, group) */
} rows_job;

/* The valid columns of a tile from the scratch block ct (og rows of ldc)
 * into y. */
static void rows_copy_out(const rows_job *j, const float *ct, int64_t ldc,
                          int64_t q0, int64_t nc, float *yg) {
  const qir_conv_plan *c = j->c;
  const qir_conv_params *p = &c->p;
  int64_t pw = p->pl + p->w + p->pr, npix = p->oh * p->ow;
  for (int64_t q = q0; q < q0 + nc;) {
    int64_t oh = q / pw, ow = q % pw, row = oh * pw;
    int64_t stop = row + p->ow < q0 + nc ? row + p->ow : q0 + nc;
    for (int64_t o = 0; ow < p->ow && o < c->og; o++)
      memcpy(yg + o * npix + oh * p->ow + ow, ct + o * ldc + (q - q0),
             (size_t)(stop - q) * sizeof(float));
    q = row + pw;
  }
}

/* Columns [q0, q0 + nc) of image n, group g. */
static void rows_tile(const rows_job *j, int64_t n, int64_t g, int64_t q0,
                      int64_t nc, const float **rows, float *ct) {
  const qir_conv_plan *c = j->c;
  const qir_conv_params *p = &c->p;
  int64_t ph = p->pt + p->h + p->pb, pw = p->pl + p->w + p->pr;
  int64_t kk = p->kh * p->kw;
  const float *xg = j->xpad + (n * p->c + g * c->cg) * ph * pw;
  qir_gemm_epilogue e = gemm_epilogue(p, j->b, g * c->og);
  for (int64_t c0 = 0; c0 < c->cg; c0 += c->block) {
    int64_t nb = c->cg - c0 < c->block ? c->cg - c0 : c->block;
    for (int64_t k = 0; k < kk; k++) {
      const float *xr =
          xg + (k / p->kw) * p->dh * pw + (k % p->kw) * p->dw + q0;
      for (int64_t ch = 0; ch < nb; ch++)
        rows[k * nb + ch] = xr + (c0 + ch) * ph * pw;
    }
    qir_gemm_packed_rows(c->w + panels_offset(c, g, c0), c->og, nc, nb * kk,
                         rows, ct, j->tile, c0 > 0,
                         c0 + nb >= c->cg ? &e : NULL);
  }
  rows_copy_out(j, ct, j->tile, q0, nc,
                j->y + (n * p->o + g * c->og) * p->oh * p->ow);
}

static void rows_range(void *arg, int64_t begin, int64_t end) {
  const rows_job *j = arg;
  const qir_conv_params *p = &j->c->p;
  const float **rows =
      qir_xmalloc((size_t)(j->c->block * p->kh * p->kw) * sizeof *rows);
  float *ct = qir_xmalloc((size_t)(j->c->og * j->tile) * sizeof(float));
  for (int64_t t = begin; t < end; t++) {
    int64_t ng = t / j->tiles, q0 = (t % j->tiles) * j->tile;
    int64_t nc = j->cols - q0 < j->tile ? j->cols - q0 : j->tile;
    rows_tile(j, ng / p->group, ng % p->group, q0, nc, rows, ct);
  }
  free(ct);
  free(rows);
}

typedef struct pad_job {
  const qir_conv_params *p;
  const float *x;
  float *xpad;
} pad_job;

static void pad_range(void *arg, int64_t begin, int64_t end) {
  const pad_job *j = arg;
  const qir_conv_params *p = j->p;
  int64_t plane = (p->pt + p->h + p->pb) * (p->pl + p->w + p->pr);
  for (int64_t i = begin; i < end; i++)
    pad_plane(p, j->x + i * p->h * p->w, j->xpad + i * plane);
}

static void conv_rows(qir_pool *pool, const qir_conv_plan *c, const float *x,
                      const float *b, float *y) {
  const qir_conv_params *p = &c->p;
  int64_t pw = p->pl + p->w + p->pr;
  int64_t plane = (p->pt + p->h + p->pb) * pw;
  float *xpad = qir_xmalloc((size_t)(p->n * p->c * plane) * sizeof(float));
  pad_job pj = {p, x, xpad};
  qir_parallel_for(pool, p->n * p->c, 1, pad_range, &pj);
  rows_job j = {c, xpad, b, y, (p->oh - 1) * pw + p->ow, PIXEL_TILE, 0};
  /* Enough tiles for every thread when there are few. */
  int64_t threads = qir_pool_threads(pool), jobs = p->n * p->group;
  if (jobs < threads && j.cols < j.tile * threads * 2)
    j.tile = (j.cols / (threads * 2) + 31) / 32 * 32;
  if (j.tile < 32)
    j.tile = 32;
  j.tiles = (j.cols + j.tile - 1) / j.tile;
  int64_t per_tile = c->og * c->kdim * j.tile;
  qir_parallel_for(pool, jobs * j.tiles,
                   per_tile >= (1 << 16) ? 1 : (1 << 16) / per_tile,
                   rows_range, &j);
  free(xpad);
}

static void conv_gemm(qir_pool *pool, const qir_conv_plan *c, const float *x,
                      const float *b, float *y) {
  const qir_conv_params *p = &c->p;
  int64_t npix = p->oh * p->ow;
  int64_t threads = qir_pool_threads(pool), tile = PIXEL_TILE;
  /* Enough tiles for every thread. */
  int64_t jobs = p->n * p->group;
  if (jobs < threads && npix < tile * threads)
    tile = (npix + threads - 1) / threads;
  if (tile < 16)
    tile = 16;
  if (tile > npix)
    tile = npix ? npix : 1;
  conv_job j = {c, x, b, y, (npix + tile - 1) / tile, tile};
  /* A tile of a few thousand multiply-adds is not worth a thread. */
  int64_t per_tile = c->og * c->kdim * tile;
  qir_parallel_for(pool, jobs * j.tiles, per_tile >= (1 << 16) ? 1 : 1 << 16,
                   conv_range, &j);
}

/* ---- Direct depthwise ------------------------------------------------------- */

typedef struct dw_job {
  const qir_conv_plan *c;
  const float *x, *b;
  float *y;
  int64_t mult; /* output channels per input channel */
  dw_tap_fn tap;
} dw_job;

/* y[ow] = fma(x[ow * sw], w, y[ow]) over [lo, hi]: one tap on one row.
 * Compiled a second time for FMA hardware, where fmaf is one instruction
 * and the loops vectorize; the results are the same on every machine. */

static inline __attribute__((always_inline)) void
dw_tap_body(float *restrict y, const float *restrict x, float w, int64_t sw,
            int64_t lo, int64_t hi) {
  if (sw == 1)
    for (int64_t i = lo; i <= hi; i++)
      y[i] = fmaf(x[i], w, y[i]);
  else if (sw == 2)
    for (int64_t i = lo; i <= hi; i++)
      y[i] = fmaf(x[2 * i], w, y[i]);
  else
    for (int64_t i = lo; i <= hi; i++)
      y[i] = fmaf(x[i * sw], w, y[i]);
}

static void dw_tap_generic(float *restrict y, const float *restrict x, float w,
                           int64_t sw, int64_t lo, int64_t hi) {
  dw_tap_body(y, x, w, sw, lo, hi);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) static void
dw_tap_fma(float *restrict y, const float *restrict x, float w, int64_t sw,
           int64_t lo, int64_t hi) {
  dw_tap_body(y, x, w, sw, lo, hi);
}
#endif

static dw_tap_fn choose_dw_tap(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return dw_tap_fma;
#endif
  return dw_tap_generic;
}

/* Columns [lo, hi] of one output row of an undilated KxK depthwise conv
 * with stride SW: each output one chain over the taps, row-major, in
 * registers.  rows[ki] are the rows of the zero-padded input (adding
 * 0 * w changes nothing). */
static inline __attribute__((always_inline)) void
dw_row_body(float *restrict y, const float *const *rows,
            const float *restrict wk, int64_t lo, int64_t hi, int K, int SW) {
  const float *r[5];
  float w[25];
  for (int i = 0; i < K; i++)
    r[i] = rows[i];
  for (int i = 0; i < K * K; i++)
    w[i] = wk[i];
  for (int64_t ow = lo; ow <= hi; ow++) {
    float acc = 0.0f;
#pragma GCC unroll 5
    for (int ki = 0; ki < K; ki++)
#pragma GCC unroll 5
      for (int kj = 0; kj < K; kj++)
        acc = fmaf(r[ki][ow * SW + kj], w[ki * K + kj], acc);
    y[ow] = acc;
  }
}

#define DW_ROW(K, SW)                                                         \
  static void dw_row_##K##_##SW(float *restrict y, const float *const *rows, \
                                const float *wk, int64_t lo, int64_t hi) {   \
    dw_row_body(y, rows, wk, lo, hi, K, SW);                                  \
  }                                                                           \
  DW_ROW_FMA(K, SW)
#if defined(__x86_64__) && defined(__GNUC__)
#define DW_ROW_FMA(K, SW)                                                     \
  __attribute__((target("avx2,fma"))) static void dw_row_fma_##K##_##SW(      \
      float *restrict y, const float *const *rows, const float *wk,          \
      int64_t lo, int64_t hi) {                                               \
    dw_row_body(y, rows, wk, lo, hi, K, SW);                                  \
  }
#else
#define DW_ROW_FMA(K, SW)
#endif
DW_ROW(3, 1)
DW_ROW(3, 2)
DW_ROW(5, 1)
DW_ROW(5, 2)

/* The row kernel for p, or NULL. */
static dw_row_fn choose_dw_row(const qir_conv_params *p) {
  if (p->kh != p->kw || (p->kh != 3 && p->kh != 5) || p->dh != 1 ||
      p->dw != 1 || (p->sw != 1 && p->sw != 2) || p->pt < 0 || p->pl < 0 ||
      p->pb < 0 || p->pr < 0 || p->oh < 1 || p->ow < 1 ||
      (p->oh - 1) * p->sh + p->kh > p->pt + p->h + p->pb ||
      (p->ow - 1) * p->sw + p->kw > p->pl + p->w + p->pr)
    return NULL; /* the padded plane must hold every window */
  int i = (p->kh == 5) * 2 + (p->sw == 2);
  static const dw_row_fn plain[] = {dw_row_3_1, dw_row_3_2, dw_row_5_1,
                                    dw_row_5_2};
#if defined(__x86_64__) && defined(__GNUC__)
  static const dw_row_fn fma[] = {dw_row_fma_3_1, dw_row_fma_3_2,
                                  dw_row_fma_5_1, dw_row_fma_5_2};
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return fma[i];
#endif
  return plain[i];
}

/* Copies the input plane into `pad`, a zero-padded (pt + h + pb) x
 * (pl + w + pr) plane, so that every output column runs through the row
 * kernel. */
static void pad_plane(const qir_conv_params *p, const float *xp, float *pad) {
  int64_t pw = p->pl + p->w + p->pr, ph = p->pt + p->h + p->pb;
  memset(pad, 0, (size_t)(p->pt * pw) * sizeof(float));
  for (int64_t ih = 0; ih < p->h; ih++) {
    float *row = pad + (p->pt + ih) * pw;
    memset(row, 0, (size_t)p->pl * sizeof(float));
    memcpy(row + p->pl, xp + ih * p->w, (size_t)p->w * sizeof(float));
    memset(row + p->pl + p->w, 0, (size_t)p->pr * sizeof(float));
  }
  memset(pad + (p->pt + p->h) * pw, 0,
         (size_t)((ph - p->pt - p->h) * pw) * sizeof(float));
}

/* A plane through the row kernel, on a padded copy of its input. */
static void dw_plane_rows(const dw_job *j, const float *xp, const float *wk,
                          float *yp, float bias, float *pad) {
  const qir_conv_params *p = &j->c->p;
  int64_t pw = p->pl + p->w + p->pr;
  pad_plane(p, xp, pad);
  for (int64_t oh = 0; oh < p->oh; oh++) {
    const float *rows[5];
    for (int64_t ki = 0; ki < p->kh; ki++)
      rows[ki] = pad + (oh * p->sh + ki) * pw;
    float *yr = yp + oh * p->ow;
    j->c->dw_row(yr, rows, wk, 0, p->ow - 1);
    epilogue_row(p, yr, p->ow, bias);
  }
}

static void dw_plane_taps(const dw_job *j, const float *xp, const float *wk,
                          float *yp, float bias);

static void dw_plane(const dw_job *j, int64_t n, int64_t oc, float *pad) {
  const qir_conv_params *p = &j->c->p;
  const float *xp = j->x + (n * p->c + oc / j->mult) * p->h * p->w;
  const float *wk = j->c->w + oc * p->kh * p->kw;
  float *yp = j->y + (n * p->o + oc) * p->oh * p->ow;
  float bias = j->b ? j->b[oc] : 0.0f;
  if (j->c->dw_row)
    dw_plane_rows(j, xp, wk, yp, bias, pad);
  else
    dw_plane_taps(j, xp, wk, yp, bias);
}

/* Tap by tap over the valid columns of each row (any shape). */
static void dw_plane_taps(const dw_job *j, const float *xp, const float *wk,
                          float *yp, float bias) {
  const qir_conv_params *p = &j->c->p;
  int64_t lo[p->kw], hi[p->kw];
  for (int64_t kj = 0; kj < p->kw; kj++)
    qk_valid_cols(p->w, p->ow, p->sw, p->pl, kj * p->dw, &lo[kj], &hi[kj]);
  for (int64_t oh = 0; oh < p->oh; oh++) {
    float *yr = yp + oh * p->ow;
    memset(yr, 0, (size_t)p->ow * sizeof(float));
    for (int64_t ki = 0; ki < p->kh; ki++) {
      int64_t ih = oh * p->sh - p->pt + ki * p->dh;
      if (ih < 0 || ih >= p->h)
        continue;
      for (int64_t kj = 0; kj < p->kw; kj++)
        if (lo[kj] <= hi[kj])
          j->tap(yr, xp + ih * p->w + kj * p->dw - p->pl, wk[ki * p->kw + kj],
                 p->sw, lo[kj], hi[kj]);
    }
    epilogue_row(p, yr, p->ow, bias);
  }
}

static void dw_range(void *arg, int64_t begin, int64_t end) {
  const dw_job *j = arg;
  const qir_conv_params *p = &j->c->p;
  float *pad = j->c->dw_row
                   ? qir_xmalloc((size_t)((p->pt + p->h + p->pb) *
                                          (p->pl + p->w + p->pr)) *
                                 sizeof(float))
                   : NULL;
  for (int64_t i = begin; i < end; i++)
    dw_plane(j, i / p->o, i % p->o, pad);
  free(pad);
}

void qir_conv_plan_run(qir_pool *pool, const qir_conv_plan *c, const float *x,
                       const float *b, float *y) {
  const qir_conv_params *p = &c->p;
  if (c->depthwise) {
    dw_job j = {c, x, b, y, p->o / p->c, c->dw_tap};
    int64_t plane = p->oh * p->ow * p->kh * p->kw;
    qir_parallel_for(pool, p->n * p->o, plane >= 4096 ? 1 : 4096 / (plane + 1),
                     dw_range, &j);
  } else if (c->padded_rows && !c->direct_1x1) {
    conv_rows(pool, c, x, b, y);
  } else {
    conv_gemm(pool, c, x, b, y);
  }
}

void qir_conv2d_f32(qir_pool *pool, const qir_conv_params *p, const float *x,
                    const float *w, const float *b, float *y) {
  qir_conv_plan *c = qir_conv_plan_create(p, w);
  qir_conv_plan_run(pool, c, x, b, y);
  qir_conv_plan_destroy(c);
}

static void add_bias(const qir_conv_params *p, const float *b, float *y) {
  int64_t npix = p->oh * p->ow;
  for (int64_t n = 0; n < p->n; n++)
    for (int64_t o = 0; o < p->o; o++) {
      float *yp = y + (n * p->o + o) * npix, bv = b[o];
      for (int64_t i = 0; i < npix; i++)
        yp[i] += bv;
    }
}

/* ---- Transposed convolution: gemm then col2im -------------------------------- */

typedef struct col2im_job {
  const qir_conv_params *p;
  const float *col; /* (og*kh*kw) x (h*w) */
  float *y;         /* og x oh x ow (one image, one group) */
} col2im_job;

static void col2im_range(void *arg, int64_t begin, int64_t end) {
  const col2im_job *j = arg;
  const qir_conv_params *p = j->p;
  int64_t kk = p->kh * p->kw, hw = p->h * p->w;
  for (int64_t o = begin; o < end; o++) {
    float *yo = j->y + o * p->oh * p->ow;
    for (int64_t r = 0; r < kk; r++) {
      int64_t ki = r / p->kw, kj = r % p->kw;
      const float *cr = j->col + (o * kk + r) * hw;
      for (int64_t ih = 0; ih < p->h; ih++) {
        int64_t oh = ih * p->sh - p->pt + ki * p->dh;
        if (oh < 0 || oh >= p->oh)
          continue;
        for (int64_t iw = 0; iw < p->w; iw++) {
          int64_t ow = iw * p->sw - p->pl + kj * p->dw;
          if (ow >= 0 && ow < p->ow)
            yo[oh * p->ow + ow] += cr[ih * p->w + iw];
        }
      }
    }
  }
}

void qir_conv_transpose2d_f32(qir_pool *pool, const qir_conv_params *p,
                              const float *x, const float *w, const float *b,
                              float *y) {
  int64_t cg = p->c / p->group, og = p->o / p->group, kk = p->kh * p->kw;
  int64_t hw = p->h * p->w, ohw = p->oh * p->ow;
  float *col = qir_xmalloc((size_t)(og * kk * hw) * sizeof(float));
  memset(y, 0, (size_t)(p->n * p->o * ohw) * sizeof(float));
  for (int64_t n = 0; n < p->n; n++)
    for (int64_t g = 0; g < p->group; g++) {
      const float *xg = x + (n * p->c + g * cg) * hw;
      const float *wg = w + g * cg * og * kk; /* cg x (og*kk) */
      qir_sgemm_parallel(pool, true, false, og * kk, hw, cg, 1.0f, wg, og * kk,
                         xg, hw, 0.0f, col, hw);
      col2im_job j = {p, col, y + (n * p->o + g * og) * ohw};
      qir_parallel_for(pool, og, 1, col2im_range, &j);
    }
  free(col);
  if (b)
    add_bias(p, b, y);
}

/* ---- Op wrappers -------------------------------------------------------------- */

static bool read_conv_params(const qir_kargs *k, qir_conv_params *p,
                             bool transposed) {
  const qir_tensor *x = k->in[0], *w = k->in[1], *y = k->out[0];
  if (x->rank != 4 || w->rank != 4 || y->rank != 4)
    return qk_fail(k, "needs 4-D input, weights and result");
  int64_t v[4];
  memset(p, 0, sizeof *p);
  p->n = x->dims[0];
  p->c = x->dims[1];
  p->h = x->dims[2];
  p->w = x->dims[3];
  p->o = y->dims[1];
  p->oh = y->dims[2];
  p->ow = y->dims[3];
  p->kh = w->dims[2];
  p->kw = w->dims[3];
  p->sh = p->sw = p->dh = p->dw = 1;
  if (qir_op_get_ints(k->op, "strides", v, 2) == 2) {
    p->sh = v[0];
    p->sw = v[1];
  }
  if (qir_op_get_ints(k->op, "dilations", v, 2) == 2) {
    p->dh = v[0];
    p->dw = v[1];
  }
  if (qir_op_get_ints(k->op, "pads", v, 4) == 4) {
    p->pt = v[0];
    p->pl = v[1];
    p->pb = v[2];
    p->pr = v[3];
  }
  if (!transposed) {
    p->pt += k->extra_pads[0];
    p->pl += k->extra_pads[1];
    p->pb += k->extra_pads[2];
    p->pr += k->extra_pads[3];
  }
  p->group = qir_op_get_int(k->op, "group", 1);
  if (p->group < 1 || p->c % p->group || p->o % p->group || p->sh < 1 ||
      p->sw < 1 || p->dh < 1 || p->dw < 1)
    return qk_fail(k, "has invalid group, strides or dilations");
  int64_t wi = transposed ? w->dims[0] : w->dims[1];
  if (transposed ? wi != p->c : wi * p->group != p->c)
    return qk_fail(k, "weights do not match the input channels");
  return true;
}

/* The operands of conv2d: bias (operand 2 unless it is the `sum`) and the
 * `sum` added before the activation (the last operand when sum_in). */
static void conv_extra_operands(const qir_kargs *k, const qir_tensor **bias,
                                const qir_tensor **sum) {
  bool sum_in = qir_op_get_bool(k->op, "sum_in", false);
  *sum = sum_in && k->nin >= 3 ? k->in[k->nin - 1] : NULL;
  *bias = k->nin >= 3 && k->in[2] != *sum ? k->in[2] : NULL;
}

static bool epilogue(const qir_kargs *k, const qir_tensor *sum, float *y,
                     int64_t n) {
  if (sum) {
    if (qk_numel(sum) != n)
      return qk_fail(k, "`sum` operand does not match the result");
    const float *s = sum->data;
    for (int64_t i = 0; i < n; i++)
      y[i] += s[i];
  }
  return qk_apply_fused_activation(k, y, n);
}

/* Parameters, bias and `sum` of a conv2d, with the activation that runs
 * in the kernel's epilogue (a fused relu/clip, or the op's own when there
 * is no `sum` to add before it). */
static bool conv_setup(const qir_kargs *k, qir_conv_params *p,
                       const qir_tensor **bias, const qir_tensor **sum) {
  if (!read_conv_params(k, p, false))
    return false;
  conv_extra_operands(k, bias, sum);
  const char *act = qir_op_get_string(k->op, "activation");
  if (k->fused_act) {
    p->act = 1;
    p->act_lo = k->act_lo;
    p->act_hi = k->act_hi;
  } else if (!*sum && act && (!strcmp(act, "relu") || !strcmp(act, "relu6") ||
                              !strcmp(act, "clip"))) {
    p->act = 1;
    p->act_lo = (float)qir_op_get_float(k->op, "act_min",
                                        strcmp(act, "clip") ? 0.0 : -INFINITY);
    p->act_hi = (float)qir_op_get_float(k->op, "act_max",
                                        !strcmp(act, "relu6") ? 6.0 : INFINITY);
  }
  return true;
}

qir_conv_plan *qir_cpu_conv2d_plan(const qir_kargs *k) {
  qir_conv_params p;
  const qir_tensor *bias, *sum;
  if (!conv_setup(k, &p, &bias, &sum))
    return NULL;
  return qir_conv_plan_create(&p, k->in[1]->data);
}

static bool conv_run(const qir_kargs *k, const qir_conv_plan *c) {
  qir_conv_params p;
  const qir_tensor *bias, *sum;
  if (!conv_setup(k, &p, &bias, &sum))
    return false;
  qir_conv_plan_run(k->pool, c, k->in[0]->data, bias ? bias->data : NULL,
                    k->out[0]->data);
  if (p.act) {
    qk_apply_post_affine(k, k->out[0]->data, qk_numel(k->out[0]));
    return true;
  }
  return epilogue(k, sum, k->out[0]->data, qk_numel(k->out[0]));
}

bool qir_cpu_k_conv2d_planned(const qir_kargs *k, const qir_conv_plan *c) {
  return conv_run(k, c);
}

bool qir_cpu_k_conv2d(const qir_kargs *k) {
  qir_conv_plan *c = qir_cpu_conv2d_plan(k);
  if (!c)
    return false;
  bool ok = conv_run(k, c);
  qir_conv_plan_destroy(c);
  return ok;
}

bool qir_cpu_k_conv_transpose2d(const qir_kargs *k) {
  qir_conv_params p;
  if (!read_conv_params(k, &p, true))
    return false;
  qir_conv_transpose2d_f32(k->pool, &p, k->in[0]->data, k->in[1]->data,
                           k->nin > 2 ? k->in[2]->data : NULL,
                           k->out[0]->data);
  return true;
}

/* matmul: numpy semantics.  Batch dims broadcast; when b has no batch dims
 * the batches of a fold into its rows (one sgemm). */
bool qir_cpu_k_matmul(const qir_kargs *k) {
  const qir_tensor *a = k->in[0], *b = k->in[1], *y = k->out[0];
  if (a->rank == 0 || b->rank == 0)
    return qk_fail(k, "needs operands of rank >= 1");
  int64_t m = a->rank >= 2 ? a->dims[a->rank - 2] : 1;
  int64_t kd = a->dims[a->rank - 1];
  int64_t n = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
  int64_t kb = b->rank >= 2 ? b->dims[b->rank - 2] : b->dims[0];
  if (kb != kd)
    return qk_fail(k, "inner dimensions differ (%lld and %lld)",
                   (long long)kd, (long long)kb);
  unsigned ab = a->rank > 2 ? a->rank - 2 : 0, bb = b->rank > 2 ? b->rank - 2 : 0;
  unsigned yb = ab > bb ? ab : bb;
  int64_t batch = 1, abatch = 1, bbatch = 1;
  for (unsigned i = 0; i < ab; i++)
    abatch *= a->dims[i];
  for (unsigned i = 0; i < bb; i++)
    bbatch *= b->dims[i];
  int64_t ydims[QIR_MAX_RANK];
  for (unsigned i = 0; i < yb; i++) {
    int64_t da = (int)i - (int)(yb - ab) >= 0 ? a->dims[i - (yb - ab)] : 1;
    int64_t db = (int)i - (int)(yb - bb) >= 0 ? b->dims[i - (yb - bb)] : 1;
    ydims[i] = da > db ? da : db;
    batch *= ydims[i];
  }
  const float *A = a->data, *B = b->data;
  float *Y = y->data;
  if (bbatch == 1) {
    qir_sgemm_parallel(k->pool, false, false, abatch * m, n, kd, 1.0f, A, kd,
                       B, n, 0.0f, Y, n);
  } else {
    for (int64_t i = 0; i < batch; i++) {
      /* Broadcast index into a's and b's batch dims. */
      int64_t rem = i, ia = 0, ib = 0, sa = 1, sb = 1;
      for (int d = (int)yb - 1; d >= 0; d--) {
        int64_t idx = rem % ydims[d];
        rem /= ydims[d];
        int dA = d - (int)(yb - ab), dB = d - (int)(yb - bb);
        if (dA >= 0) {
          ia += (a->dims[dA] == 1 ? 0 : idx) * sa;
          sa *= a->dims[dA];
        }
        if (dB >= 0) {
          ib += (b->dims[dB] == 1 ? 0 : idx) * sb;
          sb *= b->dims[dB];
        }
      }
      qir_sgemm_parallel(k->pool, false, false, m, n, kd, 1.0f,
                         A + ia * m * kd, kd, B + ib * kd * n, n, 0.0f,
                         Y + i * m * n, n);
    }
  }
  return qk_apply_fused_activation(k, Y, qk_numel(y));
}

bool qir_cpu_k_gemm(const qir_kargs *k) {
  const qir_tensor *a = k->in[0], *b = k->in[1], *y = k->out[0];
  if (a->rank != 2 || b->rank != 2 || y->rank != 2)
    return qk_fail(k, "needs 2-D operands");
  bool ta = qir_op_get_int(k->op, "trans_a", 0) != 0;
  bool tb = qir_op_get_int(k->op, "trans_b", 0) != 0;
  float alpha = (float)qir_op_get_float(k->op, "alpha", 1.0);
  float beta = (float)qir_op_get_float(k->op, "beta", 1.0);
  int64_t m = y->dims[0], n = y->dims[1];
  int64_t kd = ta ? a->dims[0] : a->dims[1];
  float *Y = y->data;
  float gbeta = 0.0f;
  if (k->nin > 2 && beta != 0.0f) {
    const qir_tensor *c = k->in[2];
    const float *C = c->data;
    int64_t cm = c->rank == 2 ? c->dims[0] : 1;
    int64_t cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++)
        Y[i * n + j] = C[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
    gbeta = beta;
  }
  qir_sgemm_parallel(k->pool, ta, tb, m, n, kd, alpha, a->data, a->dims[1],
                     b->data, b->dims[1], gbeta, Y, n);
  return qk_apply_fused_activation(k, Y, m * n);
}
