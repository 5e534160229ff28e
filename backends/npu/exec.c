/* backends/npu/exec.c - the emulator of the NPU compute engines: executes
 * the instructions of a validated program (npu_program_validate) on the
 * machine's memories.  Every rescaling is the one of docs/Quantization.md,
 * computed by qir/quant.h, so results equal the reference interpreter's
 * bit for bit; docs/NPU.md states each instruction's semantics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/npu/npu.h"

typedef struct machine {
  const npu_program *p;
  uint8_t *mem[NPU_NUM_SPACES];
} machine;

typedef struct view {
  const npu_tensor *t;
  uint8_t *base;
} view;

static view tensor(const machine *mc, const npu_insn *in, const char *f) {
  const npu_tensor *t = &mc->p->tensors[in->f[npu_field(in->opcode, f)]];
  view v = {t, mc->mem[t->space] + t->offset};
  return v;
}

static int64_t fld(const npu_insn *in, const char *f) {
  return in->f[npu_field(in->opcode, f)];
}

static inline int64_t ld(const view *v, int64_t i) {
  return qir_load_int(v->t->dtype, v->base, i);
}

static inline void st(const view *v, int64_t i, int64_t x) {
  qir_store_int(v->t->dtype, v->base, i, x);
}

static qir_multiplier mult(int64_t m, int64_t e) {
  qir_multiplier r = {(int32_t)m, (int)e};
  return r;
}

/* The accumulator rescale of docs/Quantization.md: the 32-bit rule unless
 * the operands are wide or the value does not fit. */
static int64_t requant(int64_t acc, qir_multiplier m, int64_t zp, int64_t lo,
                       int64_t hi, bool wide) {
  if (!wide && acc >= INT32_MIN && acc <= INT32_MAX)
    return qir_requantize32((int32_t)acc, m, zp, lo, hi);
  return qir_requantize64(acc, m, zp, lo, hi);
}

static int32_t clamp32(int32_t x, int32_t lo, int32_t hi) { return x < lo ? lo : x > hi ? hi : x; }

/* The parameters of output channel c of conv or matmul `in`.  A table in
 * SRAM was written at run time, where the validator cannot see it: its
 * values saturate to the ranges the validator allows in the weight space
 * (a program that copies a valid table reads it unchanged). */
static void load_params(const machine *mc, const npu_insn *in, int64_t c,
                        int32_t out[NPU_PARAM_WORDS]) {
  bool sram = fld(in, "psram") != 0;
  const uint8_t *base = mc->mem[sram ? NPU_SPACE_SRAM : NPU_SPACE_WGT];
  memcpy(out, base + fld(in, "params") + c * NPU_PARAM_WORDS * 4, NPU_PARAM_WORDS * 4);
  if (!sram)
    return;
  out[NPU_PARAM_MULT] = clamp32(out[NPU_PARAM_MULT], 0, INT32_MAX);
  out[NPU_PARAM_SHIFT] = clamp32(out[NPU_PARAM_SHIFT], NPU_MIN_SHIFT, NPU_MAX_SHIFT);
  out[NPU_PARAM_ZW] = clamp32(out[NPU_PARAM_ZW], -NPU_MAX_ZP, NPU_MAX_ZP);
  double sacc;
  memcpy(&sacc, &out[NPU_PARAM_SACC], sizeof sacc);
  if (!(sacc >= 0 && sacc < 1e300)) {
    sacc = 0;
    memcpy(&out[NPU_PARAM_SACC], &sacc, sizeof sacc);
  }
}

static double param_sacc(const int32_t prm[NPU_PARAM_WORDS]) {
  double d;
  memcpy(&d, &prm[NPU_PARAM_SACC], sizeof d);
  return d;
}

static double fld_f64(const npu_insn *in, const char *f) {
  double d;
  int64_t v = fld(in, f);
  memcpy(&d, &v, sizeof d);
  return d;
}

/* ---- The float epilogue of conv and matmul ------------------------------------------
 * real = acc * s_acc (+ dequantize(sum)) in double, rounded to f32, the
 * activation in f32, then quantize: the interpreter's float output stage. */

typedef struct epilogue {
  bool on, has_sum, float_out;
  view sum;
  int64_t sum_c, out_c, plane; /* a conv's sum may have fewer channels
                                  (sum_c < out_c; plane = H x W): the
                                  channels past it add 0 */
  double ss, sy;
  int64_t zs, zy, lo, hi;
  int act;
  float a0, a1;
  bool post;   /* then * pm + pa */
  float pm, pa;
} epilogue;

static epilogue epilogue_of(const machine *mc, const npu_insn *in) {
  epilogue ep;
  memset(&ep, 0, sizeof ep);
  ep.on = fld(in, "epilogue") != 0;
  if (!ep.on)
    return ep;
  ep.float_out = fld(in, "epilogue") == 2;
  ep.has_sum = fld(in, "sum") >= 0;
  if (ep.has_sum) {
    const npu_tensor *y = tensor(mc, in, "out").t;
    ep.sum = tensor(mc, in, "sum");
    ep.out_c = ep.sum_c = y->dims[1];
    ep.plane = y->dims[2] * y->dims[3];
    if (in->opcode == NPU_CONV)
      ep.sum_c = ep.sum.t->dims[1];
  }
  ep.ss = fld_f64(in, "ss");
  ep.zs = fld(in, "zs");
  ep.sy = fld_f64(in, "sy");
  ep.zy = fld(in, "zy");
  ep.lo = fld(in, "lo");
  ep.hi = fld(in, "hi");
  ep.act = (int)fld(in, "act");
  ep.a0 = (float)fld_f64(in, "a0");
  ep.a1 = (float)fld_f64(in, "a1");
  ep.post = fld(in, "post") != 0;
  ep.pm = (float)fld_f64(in, "pm");
  ep.pa = (float)fld_f64(in, "pa");
  return ep;
}

static float sigmoidf(float x) {
  return x >= 0 ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
}

static float activate(const epilogue *ep, float x) {
  switch (ep->act) {
  case NPU_ACT_RELU: return x < 0 ? 0.0f : x;
  case NPU_ACT_CLIP: x = x < ep->a0 ? ep->a0 : x; return x > ep->a1 ? ep->a1 : x;
  case NPU_ACT_SIGMOID: return sigmoidf(x);
  case NPU_ACT_HARD_SIGMOID: return fmaxf(0, fminf(1, ep->a0 * x + ep->a1));
  case NPU_ACT_HARD_SWISH: return x * fmaxf(0, fminf(1, x / 6.0f + 0.5f));
  case NPU_ACT_LEAKY_RELU: return x < 0 ? ep->a0 * x : x;
  default: return x;
  }
}

/* Element idx of the result: quantized, or stored as f32 (epilogue 2). */
static void epilogue_store(const epilogue *ep, const view *y, int64_t acc,
                           double s_acc, int64_t idx) {
  double v = (double)acc * s_acc;
  if (ep->has_sum && ep->sum_c == ep->out_c) {
    v += qir_dequantize_f64(ld(&ep->sum, idx), ep->ss, ep->zs);
  } else if (ep->has_sum) {
    int64_t p = idx % ep->plane, c = idx / ep->plane % ep->out_c, n = idx / ep->plane / ep->out_c;
    v += c < ep->sum_c ? qir_dequantize_f64(ld(&ep->sum, (n * ep->sum_c + c) * ep->plane + p),
                                            ep->ss, ep->zs)
                       : 0.0;
  }
  float f = activate(ep, (float)v);
  if (ep->post)
    f = qir_post_affine_f32(f, ep->pm, ep->pa);
  if (ep->float_out)
    memcpy(y->base + idx * sizeof f, &f, sizeof f);
  else
    st(y, idx, qir_quantize_f64(f, ep->sy, ep->zy, ep->lo, ep->hi));
}

/* ---- conv ----------------------------------------------------------------------- */

/* The input as int32 values minus its zero point (one conversion instead
 * of one per multiply). */
static int32_t *centered(const view *x, int64_t zx) {
  int64_t n = npu_tensor_numel(x->t);
  int32_t *c = qir_xmalloc((size_t)(n + 1) * sizeof *c);
  for (int64_t i = 0; i < n; i++)
    c[i] = (int32_t)(ld(x, i) - zx);
  return c;
}

/* First and one-past-last output column whose input column
 * ow * s + off lies in [0, W). */
static void valid_cols(int64_t off, int64_t s, int64_t W, int64_t OW,
                       int64_t *lo, int64_t *hi) {
  int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t b = W - off <= 0 ? 0 : (W - off + s - 1) / s;
  *lo = a < OW ? a : OW;
  *hi = b < OW ? b : OW;
}

typedef struct conv_geom {
  int64_t C, H, W, OH, OW, KH, KW, cg, sh, sw, dh, dw, pt, pl;
} conv_geom;

/* Output channels accumulated together: each input row is read once for
 * the block. */
#define OC_BLOCK 4

/* acc[b][OH*OW] += the taps of the `nb` output channels of a block
 * (weights wrow[b], input channels from c0) over image xs, in int32:
 * the caller checked that no partial sum can leave int32 (integer sums
 * are exact in any order, so the result is the int64 one). */
static void conv_block32(const conv_geom *g, const int32_t *xs,
                         const int32_t *const wrow[OC_BLOCK], int nb,
                         int64_t c0, int32_t *const acc[OC_BLOCK]) {
  for (int64_t c = 0; c < g->cg; c++)
    for (int64_t ki = 0; ki < g->KH; ki++)
      for (int64_t kj = 0; kj < g->KW; kj++) {
        int64_t r = (c * g->KH + ki) * g->KW + kj;
        int32_t wv[OC_BLOCK] = {0};
        bool any = false;
        for (int b = 0; b < nb; b++)
          any |= (wv[b] = wrow[b][r]) != 0;
        if (!any)
          continue;
        int64_t off = kj * g->dw - g->pl, lo, hi;
        valid_cols(off, g->sw, g->W, g->OW, &lo, &hi);
        for (int64_t oh = 0; oh < g->OH; oh++) {
          int64_t ih = oh * g->sh - g->pt + ki * g->dh;
          if (ih < 0 || ih >= g->H)
            continue;
          const int32_t *row = xs + ((c0 + c) * g->H + ih) * g->W + off;
          int64_t o = oh * g->OW;
          if (nb == OC_BLOCK && g->sw == 1) {
            int32_t *a0 = acc[0] + o, *a1 = acc[1] + o, *a2 = acc[2] + o, *a3 = acc[3] + o;
            for (int64_t ow = lo; ow < hi; ow++) {
              int32_t v = row[ow];
              a0[ow] += wv[0] * v;
              a1[ow] += wv[1] * v;
              a2[ow] += wv[2] * v;
              a3[ow] += wv[3] * v;
            }
            continue;
          }
          for (int b = 0; b < nb; b++) {
            int32_t *a = acc[b] + o;
            for (int64_t ow = lo; ow < hi; ow++)
              a[ow] += wv[b] * row[ow * g->sw];
          }
        }
      }
}

/* acc[OH*OW] += the taps of output channel oc in int64 (weights wrow,
 * input channels from c0) over image xs. */
static void conv_channel(const conv_geom *g, const int32_t *xs,
                         const int64_t *wrow, int64_t c0, int64_t *acc) {
  for (int64_t c = 0; c < g->cg; c++)
    for (int64_t ki = 0; ki < g->KH; ki++)
      for (int64_t kj = 0; kj < g->KW; kj++) {
        int64_t wv = wrow[(c * g->KH + ki) * g->KW + kj];
        if (!wv)
          continue;
        int64_t off = kj * g->dw - g->pl, lo, hi;
        valid_cols(off, g->sw, g->W, g->OW, &lo, &hi);
        for (int64_t oh = 0; oh < g->OH; oh++) {
          int64_t ih = oh * g->sh - g->pt + ki * g->dh;
          if (ih < 0 || ih >= g->H)
            continue;
          const int32_t *row = xs + ((c0 + c) * g->H + ih) * g->W + off;
          int64_t *a = acc + oh * g->OW;
          for (int64_t ow = lo; ow < hi; ow++)
            a[ow] += wv * row[ow * g->sw];
        }
      }
}

typedef struct conv_run {
  const machine *mc;
  const npu_insn *in;
  conv_geom g;
  view w, y;
  int64_t N, O, og, kdim, npix, zy, lo, hi;
  bool wide;
  epilogue ep;
  int32_t *xs;
  int32_t xmax;  /* largest |x - zx| */
} conv_run;

static void conv_store(const conv_run *r, const int32_t prm[NPU_PARAM_WORDS],
                       int64_t acc, int64_t idx) {
  if (r->ep.on)
    epilogue_store(&r->ep, &r->y, acc, param_sacc(prm), idx);
  else
    st(&r->y, idx, requant(acc, mult(prm[NPU_PARAM_MULT], prm[NPU_PARAM_SHIFT]),
                           r->zy, r->lo, r->hi, r->wide));
}

/* Weights of channel oc minus its zero point; false when a sum over them
 * could leave int32 (then the channel takes the int64 path). */
static bool channel_weights(const conv_run *r, int64_t oc,
                            const int32_t prm[NPU_PARAM_WORDS], int64_t *w64,
                            int32_t *w32) {
  int64_t bound = llabs((long long)prm[NPU_PARAM_BIAS]);
  bool fits = true;
  for (int64_t k = 0; k < r->kdim; k++) {
    w64[k] = ld(&r->w, oc * r->kdim + k) - prm[NPU_PARAM_ZW];
    w32[k] = (int32_t)w64[k];
    bound += llabs((long long)w64[k]) * r->xmax;
    fits &= bound <= INT32_MAX;
  }
  return fits;
}

static void conv_channel64(conv_run *r, int64_t oc, const int32_t prm[NPU_PARAM_WORDS],
                           const int64_t *w64, int64_t *acc) {
  for (int64_t n = 0; n < r->N; n++) {
    for (int64_t p = 0; p < r->npix; p++)
      acc[p] = prm[NPU_PARAM_BIAS];
    conv_channel(&r->g, r->xs + n * r->g.C * r->g.H * r->g.W, w64,
                 (oc / r->og) * r->g.cg, acc);
    for (int64_t p = 0; p < r->npix; p++)
      conv_store(r, prm, acc[p], (n * r->O + oc) * r->npix + p);
  }
}

static void exec_conv(const machine *mc, const npu_insn *in) {
  view x = tensor(mc, in, "in");
  conv_run r = {.mc = mc, .in = in, .w = tensor(mc, in, "w"), .y = tensor(mc, in, "out")};
  const int64_t *xd = x.t->dims, *wd = r.w.t->dims, *yd = r.y.t->dims;
  r.g = (conv_geom){xd[1], xd[2], xd[3], yd[2], yd[3], wd[2], wd[3], wd[1],
                    fld(in, "sh"), fld(in, "sw"), fld(in, "dh"), fld(in, "dw"),
                    fld(in, "pt"), fld(in, "pl")};
  r.N = xd[0];
  r.O = yd[1];
  r.og = r.O / fld(in, "group");
  r.kdim = r.g.cg * r.g.KH * r.g.KW;
  r.npix = r.g.OH * r.g.OW;
  r.zy = fld(in, "zy");
  r.lo = fld(in, "lo");
  r.hi = fld(in, "hi");
  r.wide = fld(in, "wide") != 0;
  r.ep = epilogue_of(mc, in);
  r.xs = centered(&x, fld(in, "zx"));
  for (int64_t i = 0, n = npu_tensor_numel(x.t); i < n; i++) {
    int32_t a = r.xs[i] < 0 ? -r.xs[i] : r.xs[i];
    r.xmax = a > r.xmax ? a : r.xmax;
  }
  int64_t *w64 = qir_xmalloc((size_t)(r.kdim + 1) * sizeof *w64);
  int64_t *acc64 = qir_xmalloc((size_t)(r.npix + 1) * sizeof *acc64);
  int32_t *w32[OC_BLOCK], *acc32[OC_BLOCK];
  for (int b = 0; b < OC_BLOCK; b++) {
    w32[b] = qir_xmalloc((size_t)(r.kdim + 1) * sizeof *w32[b]);
    acc32[b] = qir_xmalloc((size_t)(r.npix + 1) * sizeof *acc32[b]);
  }
  for (int64_t oc0 = 0; oc0 < r.O;) {
    /* A block: up to OC_BLOCK channels of one group whose sums fit int32. */
    int32_t prm[OC_BLOCK][NPU_PARAM_WORDS];
    int nb = 0;
    int64_t gend = (oc0 / r.og + 1) * r.og;
    while (nb < OC_BLOCK && oc0 + nb < gend) {
      load_params(mc, in, oc0 + nb, prm[nb]);
      if (!channel_weights(&r, oc0 + nb, prm[nb], w64, w32[nb]))
        break;
      nb++;
    }
    if (!nb) {
      conv_channel64(&r, oc0, prm[0], w64, acc64);
      oc0++;
      continue;
    }
    for (int64_t n = 0; n < r.N; n++) {
      for (int b = 0; b < nb; b++)
        for (int64_t p = 0; p < r.npix; p++)
          acc32[b][p] = prm[b][NPU_PARAM_BIAS];
      conv_block32(&r.g, r.xs + n * r.g.C * r.g.H * r.g.W,
                   (const int32_t *const *)w32, nb, (oc0 / r.og) * r.g.cg, acc32);
      for (int b = 0; b < nb; b++)
        for (int64_t p = 0; p < r.npix; p++)
          conv_store(&r, prm[b], acc32[b][p], (n * r.O + oc0 + b) * r.npix + p);
    }
    oc0 += nb;
  }
  free(r.xs);
  free(w64);
  free(acc64);
  for (int b = 0; b < OC_BLOCK; b++) {
    free(w32[b]);
    free(acc32[b]);
  }
}

/* ---- matmul --------------------------------------------------------------------- */

static void exec_matmul(const machine *mc, const npu_insn *in) {
  view a = tensor(mc, in, "a"), b = tensor(mc, in, "b"), y = tensor(mc, in, "out");
  int64_t B = fld(in, "batch"), M = fld(in, "m"), K = fld(in, "k"), N = fld(in, "n");
  bool ta = fld(in, "trans_a") != 0, tb = fld(in, "trans_b") != 0;
  bool ab = fld(in, "a_batched") != 0, wide = fld(in, "wide") != 0;
  int64_t za = fld(in, "za"), zy = fld(in, "zy"), lo = fld(in, "lo"), hi = fld(in, "hi");
  epilogue ep = epilogue_of(mc, in);
  int64_t *bcol = qir_xmalloc((size_t)(K + 1) * sizeof *bcol);
  for (int64_t j = 0; j < N; j++) {
    int32_t prm[NPU_PARAM_WORDS];
    load_params(mc, in, j, prm);
    for (int64_t k = 0; k < K; k++)
      bcol[k] = ld(&b, tb ? j * K + k : k * N + j) - prm[NPU_PARAM_ZW];
    qir_multiplier m = mult(prm[NPU_PARAM_MULT], prm[NPU_PARAM_SHIFT]);
    for (int64_t bt = 0; bt < B; bt++) {
      int64_t ao = (ab ? bt : 0) * M * K;
      for (int64_t i = 0; i < M; i++) {
        int64_t acc = prm[NPU_PARAM_BIAS];
        for (int64_t k = 0; k < K; k++)
          acc += (ld(&a, ao + (ta ? k * M + i : i * K + k)) - za) * bcol[k];
        int64_t idx = (bt * M + i) * N + j;
        if (ep.on)
          epilogue_store(&ep, &y, acc, param_sacc(prm), idx);
        else
          st(&y, idx, requant(acc, m, zy, lo, hi, wide));
      }
    }
  }
  free(bcol);
}

/* ---- elementwise ------------------------------------------------------------------ */

/* Offset in `a` of element i of `y` (numpy broadcasting on 4-D shapes). */
static int64_t bcast(const npu_tensor *y, const npu_tensor *a, int64_t i) {
  int64_t off = 0, stride = 1;
  for (int d = NPU_RANK - 1; d >= 0; d--) {
    int64_t idx = i % y->dims[d];
    i /= y->dims[d];
    if (a->dims[d] != 1)
      off += idx * stride;
    stride *= a->dims[d];
  }
  return off;
}

static bool same_dims(const npu_tensor *a, const npu_tensor *y) {
  return !memcmp(a->dims, y->dims, sizeof a->dims);
}

/* Offset in `a` of element i of `y`: i itself without broadcasting (the
 * common case: no divisions). */
static int64_t elem_off(const npu_tensor *y, const npu_tensor *a, bool same, int64_t i) {
  return same ? i : bcast(y, a, i);
}

static void exec_add(const machine *mc, const npu_insn *in) {
  view a = tensor(mc, in, "a"), b = tensor(mc, in, "b"), y = tensor(mc, in, "out");
  bool sa = same_dims(a.t, y.t), sb = same_dims(b.t, y.t);
  bool wide = fld(in, "wide") != 0, sub = fld(in, "sub") != 0;
  int shift = wide ? 15 : 20;
  qir_multiplier ma = mult(fld(in, "ma"), fld(in, "ea"));
  qir_multiplier mb = mult(fld(in, "mb"), fld(in, "eb"));
  qir_multiplier my = mult(fld(in, "my"), fld(in, "ey"));
  int64_t za = fld(in, "za"), zb = fld(in, "zb"), zy = fld(in, "zy");
  int64_t lo = fld(in, "lo"), hi = fld(in, "hi");
  for (int64_t i = 0, n = npu_tensor_numel(y.t); i < n; i++) {
    int64_t va = ld(&a, elem_off(y.t, a.t, sa, i)) - za;
    int64_t vb = ld(&b, elem_off(y.t, b.t, sb, i)) - zb;
    int64_t r;
    if (!wide) {
      int32_t xa = qir_mul_by_multiplier((int32_t)(va * (1 << shift)), ma);
      int32_t xb = qir_mul_by_multiplier((int32_t)(vb * (1 << shift)), mb);
      r = requant(sub ? (int64_t)xa - xb : (int64_t)xa + xb, my, zy, lo, hi, false);
    } else {
      int64_t xa = qir_mul_by_multiplier64(va * ((int64_t)1 << shift), ma);
      int64_t xb = qir_mul_by_multiplier64(vb * ((int64_t)1 << shift), mb);
      r = qir_requantize64(sub ? xa - xb : xa + xb, my, zy, lo, hi);
    }
    st(&y, i, r);
  }
}

static void exec_mul(const machine *mc, const npu_insn *in) {
  view a = tensor(mc, in, "a"), b = tensor(mc, in, "b"), y = tensor(mc, in, "out");
  qir_multiplier m = mult(fld(in, "m"), fld(in, "e"));
  int64_t za = fld(in, "za"), zb = fld(in, "zb"), zy = fld(in, "zy");
  int64_t lo = fld(in, "lo"), hi = fld(in, "hi");
  bool wide = fld(in, "wide") != 0;
  bool sa = same_dims(a.t, y.t), sb = same_dims(b.t, y.t);
  for (int64_t i = 0, n = npu_tensor_numel(y.t); i < n; i++) {
    int64_t va = ld(&a, elem_off(y.t, a.t, sa, i)) - za;
    int64_t vb = ld(&b, elem_off(y.t, b.t, sb, i)) - zb;
    st(&y, i, requant(va * vb, m, zy, lo, hi, wide));
  }
}

static void exec_lut(const machine *mc, const npu_insn *in) {
  view x = tensor(mc, in, "in"), y = tensor(mc, in, "out");
  const uint8_t *table = mc->mem[NPU_SPACE_WGT] + fld(in, "table");
  int64_t min = fld(in, "in_min");
  for (int64_t i = 0, n = npu_tensor_numel(y.t); i < n; i++) {
    int32_t v;
    memcpy(&v, table + (ld(&x, i) - min) * 4, sizeof v);
    st(&y, i, v);
  }
}

/* ---- pooling -------------------------------------------------------------------- */

static void exec_maxpool(const machine *mc, const npu_insn *in) {
  view x = tensor(mc, in, "in"), y = tensor(mc, in, "out");
  int64_t planes = x.t->dims[0] * x.t->dims[1], H = x.t->dims[2], W = x.t->dims[3];
  int64_t OH = y.t->dims[2], OW = y.t->dims[3];
  int64_t kh = fld(in, "kh"), kw = fld(in, "kw"), sh = fld(in, "sh"), sw = fld(in, "sw");
  int64_t dh = fld(in, "dh"), dw = fld(in, "dw"), pt = fld(in, "pt"), pl = fld(in, "pl");
  bool rescale = fld(in, "rescale") != 0;
  qir_multiplier m = mult(fld(in, "m"), fld(in, "e"));
  int64_t zx = fld(in, "zx"), zy = fld(in, "zy"), lo = fld(in, "lo"),
          hi = fld(in, "hi"), xmin = fld(in, "xmin");
  for (int64_t p = 0; p < planes; p++)
    for (int64_t oh = 0; oh < OH; oh++)
      for (int64_t ow = 0; ow < OW; ow++) {
        int64_t best = INT64_MIN;
        for (int64_t ki = 0; ki < kh; ki++)
          for (int64_t kj = 0; kj < kw; kj++) {
            int64_t ih = oh * sh - pt + ki * dh, iw = ow * sw - pl + kj * dw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W)
              continue;
            int64_t v = ld(&x, (p * H + ih) * W + iw);
            best = v > best ? v : best;
          }
        if (best == INT64_MIN)
          best = xmin;
        if (rescale)
          best = qir_requantize64(best - zx, m, zy, lo, hi);
        st(&y, (p * OH + oh) * OW + ow, best);
      }
}


/* avg = requantize64(sum, s_x / (s_y * count)): one rounding. */
static void avg_write(const view *y, int64_t idx, int64_t sum, int64_t count,
                      double sx, double sy, int64_t zy, int64_t lo, int64_t hi) {
  qir_multiplier m = {0, 0};
  if (count && !qir_multiplier_from_real(sx / (sy * (double)count), &m))
    m = (qir_multiplier){0, 0};
  st(y, idx, qir_requantize64(sum, m, zy, lo, hi));
}

static void exec_avgpool(const machine *mc, const npu_insn *in) {
  view x = tensor(mc, in, "in"), y = tensor(mc, in, "out");
  int64_t planes = x.t->dims[0] * x.t->dims[1], H = x.t->dims[2], W = x.t->dims[3];
  int64_t OH = y.t->dims[2], OW = y.t->dims[3];
  int64_t kh = fld(in, "kh"), kw = fld(in, "kw"), sh = fld(in, "sh"), sw = fld(in, "sw");
  int64_t pt = fld(in, "pt"), pl = fld(in, "pl"), pb = fld(in, "pb"), pr = fld(in, "pr");
  bool count_pad = fld(in, "count_pad") != 0;
  int64_t zx = fld(in, "zx"), zy = fld(in, "zy"), lo = fld(in, "lo"), hi = fld(in, "hi");
  double sx = fld_f64(in, "sx"), sy = fld_f64(in, "sy");
  for (int64_t p = 0; p < planes; p++)
    for (int64_t oh = 0; oh < OH; oh++)
      for (int64_t ow = 0; ow < OW; ow++) {
        int64_t h0 = oh * sh - pt, h1 = h0 + kh, w0 = ow * sw - pl, w1 = w0 + kw;
        if (h1 > H + pb) h1 = H + pb;
        if (w1 > W + pr) w1 = W + pr;
        int64_t padded = (h1 - h0) * (w1 - w0);
        if (h0 < 0) h0 = 0;
        if (w0 < 0) w0 = 0;
        if (h1 > H) h1 = H;
        if (w1 > W) w1 = W;
        int64_t sum = 0;
        for (int64_t ih = h0; ih < h1; ih++)
          for (int64_t iw = w0; iw < w1; iw++)
            sum += ld(&x, (p * H + ih) * W + iw) - zx;
        int64_t cnt = count_pad ? padded : (h1 - h0) * (w1 - w0);
        avg_write(&y, (p * OH + oh) * OW + ow, sum, cnt, sx, sy, zy, lo, hi);
      }
}

/* Whole (part 0), or band by band into the i32 accumulator: part 1
 * starts it, part 3 ends it and writes the result (isa.c, check_gpool). */
static void exec_gpool(const machine *mc, const npu_insn *in) {
  view x = tensor(mc, in, "in"), y = tensor(mc, in, "out");
  int64_t planes = x.t->dims[0] * x.t->dims[1], size = x.t->dims[2] * x.t->dims[3];
  bool avg = fld(in, "avg") != 0, rescale = fld(in, "rescale") != 0;
  qir_multiplier m = mult(fld(in, "m"), fld(in, "e"));
  int64_t zx = fld(in, "zx"), zy = fld(in, "zy"), lo = fld(in, "lo"), hi = fld(in, "hi");
  int64_t part = fld(in, "part"), count = part ? fld(in, "count") : size;
  double sx = fld_f64(in, "sx"), sy = fld_f64(in, "sy");
  view a = part ? tensor(mc, in, "acc") : x;
  for (int64_t p = 0; p < planes; p++) {
    int64_t acc = part > 1 ? ld(&a, p) : avg ? 0 : INT32_MIN;
    for (int64_t j = 0; j < size; j++) {
      int64_t v = ld(&x, p * size + j);
      if (avg)
        acc += v - zx;
      else if (v > acc)
        acc = v;
    }
    if (part == 1 || part == 2)
      st(&a, p, acc);
    else if (avg)
      avg_write(&y, p, acc, count, sx, sy, zy, lo, hi);
    else
      st(&y, p, rescale ? qir_requantize64(acc - zx, m, zy, lo, hi) : acc);
  }
}

/* ---- data movement ----------------------------------------------------------------- */

static void exec_copy(const machine *mc, const npu_insn *in) {
  view x = tensor(mc, in, "in"), y = tensor(mc, in, "out");
  const int64_t *xd = x.t->dims, *yd = y.t->dims;
  int64_t s[4] = {fld(in, "s0"), fld(in, "s1"), fld(in, "s2"), fld(in, "s3")};
  int64_t d[4] = {fld(in, "d0"), fld(in, "d1"), fld(in, "d2"), fld(in, "d3")};
  int64_t n[4] = {fld(in, "n0"), fld(in, "n1"), fld(in, "n2"), fld(in, "n3")};
  bool rescale = fld(in, "rescale") != 0, wide = fld(in, "wide") != 0;
  qir_multiplier m = mult(fld(in, "m"), fld(in, "e"));
  int64_t zx = fld(in, "zx"), zy = fld(in, "zy"), lo = fld(in, "lo"), hi = fld(in, "hi");
  size_t fsize = x.t->dtype == QIR_F32 ? sizeof(float) : 0; /* f32: bytes as they are */
  /* The region is read whole before it is written: where the two tensors
   * share bytes (a band whose rows move up in SRAM), from a copy of the
   * source. */
  size_t xbytes = (size_t)npu_tensor_numel(x.t) * qir_scalar_size(x.t->dtype);
  size_t ybytes = (size_t)npu_tensor_numel(y.t) * qir_scalar_size(y.t->dtype);
  uint8_t *snapshot = NULL;
  if (x.t->space == y.t->space && x.base < y.base + ybytes && y.base < x.base + xbytes) {
    snapshot = qir_xmalloc(xbytes);
    memcpy(snapshot, x.base, xbytes);
    x.base = snapshot;
  }
  for (int64_t i0 = 0; i0 < n[0]; i0++)
    for (int64_t i1 = 0; i1 < n[1]; i1++)
      for (int64_t i2 = 0; i2 < n[2]; i2++) {
        int64_t so = (((s[0] + i0) * xd[1] + s[1] + i1) * xd[2] + s[2] + i2) * xd[3] + s[3];
        int64_t dof = (((d[0] + i0) * yd[1] + d[1] + i1) * yd[2] + d[2] + i2) * yd[3] + d[3];
        if (fsize) {
          memmove(y.base + dof * fsize, x.base + so * fsize, (size_t)n[3] * fsize);
          continue;
        }
        for (int64_t i3 = 0; i3 < n[3]; i3++) {
          int64_t v = ld(&x, so + i3);
          if (rescale)
            v = requant(v - zx, m, zy, lo, hi, wide);
          st(&y, dof + i3, v);
        }
      }
  free(snapshot);
}

static void exec_permute(const machine *mc, const npu_insn *in) {
  view x = tensor(mc, in, "in"), y = tensor(mc, in, "out");
  const int64_t *xd = x.t->dims, *yd = y.t->dims;
  int64_t xs[NPU_RANK], p[NPU_RANK] = {fld(in, "p0"), fld(in, "p1"), fld(in, "p2"), fld(in, "p3")};
  xs[NPU_RANK - 1] = 1;
  for (int d = NPU_RANK - 2; d >= 0; d--)
    xs[d] = xs[d + 1] * xd[d + 1];
  int64_t s0 = xs[p[0]], s1 = xs[p[1]], s2 = xs[p[2]], s3 = xs[p[3]];
  bool rescale = fld(in, "rescale") != 0, wide = fld(in, "wide") != 0;
  qir_multiplier m = mult(fld(in, "m"), fld(in, "e"));
  int64_t zx = fld(in, "zx"), zy = fld(in, "zy"), lo = fld(in, "lo"), hi = fld(in, "hi");
  int64_t o = 0;
  for (int64_t i0 = 0; i0 < yd[0]; i0++)
    for (int64_t i1 = 0; i1 < yd[1]; i1++)
      for (int64_t i2 = 0; i2 < yd[2]; i2++)
        for (int64_t i3 = 0; i3 < yd[3]; i3++) {
          int64_t v = ld(&x, i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3);
          st(&y, o++, rescale ? requant(v - zx, m, zy, lo, hi, wide) : v);
        }
}

static void exec_gather(const machine *mc, const npu_insn *in) {
  view x = tensor(mc, in, "in"), y = tensor(mc, in, "out");
  const uint8_t *table = mc->mem[NPU_SPACE_WGT] + fld(in, "table");
  int64_t planes = x.t->dims[0] * x.t->dims[1], plane = x.t->dims[2] * x.t->dims[3];
  int64_t n = y.t->dims[2] * y.t->dims[3];
  bool rescale = fld(in, "rescale") != 0, wide = fld(in, "wide") != 0;
  qir_multiplier m = mult(fld(in, "m"), fld(in, "e"));
  int64_t zx = fld(in, "zx"), zy = fld(in, "zy"), lo = fld(in, "lo"), hi = fld(in, "hi");
  int64_t base = fld(in, "base"); /* (x holds the source from pixel `base` on) */
  for (int64_t j = 0; j < n; j++) {
    int32_t idx;
    memcpy(&idx, table + j * 4, 4);
    for (int64_t p = 0; p < planes; p++) {
      int64_t v = ld(&x, p * plane + idx - base);
      st(&y, p * n + j, rescale ? requant(v - zx, m, zy, lo, hi, wide) : v);
    }
  }
}

static void exec_dma(const machine *mc, const npu_insn *in) {
  view s = tensor(mc, in, "src"), d = tensor(mc, in, "dst");
  memmove(d.base, s.base, (size_t)fld(in, "bytes"));
}

void npu_execute(const npu_program *p, uint8_t *ddr, uint8_t *sram,
                 const uint8_t *weights) {
  machine mc = {p, {ddr, (uint8_t *)weights, sram}};
  for (unsigned i = 0; i < p->num_insns; i++) {
    const npu_insn *in = &p->insns[i];
    switch (in->opcode) {
    case NPU_CONV: exec_conv(&mc, in); break;
    case NPU_MATMUL: exec_matmul(&mc, in); break;
    case NPU_ADD: exec_add(&mc, in); break;
    case NPU_MUL: exec_mul(&mc, in); break;
    case NPU_LUT: exec_lut(&mc, in); break;
    case NPU_MAXPOOL: exec_maxpool(&mc, in); break;
    case NPU_AVGPOOL: exec_avgpool(&mc, in); break;
    case NPU_GPOOL: exec_gpool(&mc, in); break;
    case NPU_COPY: exec_copy(&mc, in); break;
    case NPU_DMA: exec_dma(&mc, in); break;
    case NPU_PERMUTE: exec_permute(&mc, in); break;
    case NPU_GATHER: exec_gather(&mc, in); break;
    case NPU_CORE: case NPU_SYNC: break; /* timing only: program order is one valid order */
    default: qir_die("unvalidated opcode %u", in->opcode);
    }
  }
}
