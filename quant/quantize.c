/* quant/quantize.c - the quantize rewrite (docs/Quantization.md, "The
 * quantize pass").
 *
 * Planning comes first and changes nothing, so that every error leaves the
 * function as it was:
 *  1. each op gets a precision (config, defaults) and a mode: quantized
 *     when it is quantizable and all its activation operands and results
 *     have calibrated ranges, float otherwise;
 *  2. each float value gets a bit width (the widest of its producer and
 *     quantized consumers) and a range;
 *  3. values that must share parameters (the operands and results of
 *     concat, data movement, max/min, max pooling) are merged, their
 *     ranges joined; fixed parameters (fixed-range ops, declared inputs)
 *     win;
 *  4. parameters come from each group's range and the scheme.
 * Then the rewrite: results of quantized ops are retyped, weights become
 * per-channel int8 constants and biases int32, quantize/dequantize ops go
 * where a float value meets a quantized op and back. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "backends/cpu/cpu.h"
#include "qir/target.h"
#include "quant/quant.h"

typedef enum scheme_kind { SCH_SYM_I8, SCH_ASYM_I8, SCH_ASYM_U8, SCH_POW2_I8 } scheme_kind;

static const char *const scheme_names[] = {"sym-i8", "asym-i8", "asym-u8",
                                           "pow2-i8"};

/* Quantization parameters of one value. */
typedef struct qparams {
  qir_scalar storage;
  double scale;
  int64_t zp;
  const char *how; /* "calibrated", "fixed-range", "input-scale", ... */
} qparams;

typedef struct vinfo {
  qir_value *v;
  bool has_range;
  double lo, hi, mlo, mhi; /* chosen and observed ranges */
  unsigned bits;           /* 0: stays float */
  unsigned parent;         /* union-find over share groups */
  bool fixed;
  qparams p;
  const qir_type *float_type; /* the type before retyping */
  qir_value *quantized;       /* cached quantize(v) */
  qir_value *dequantized;     /* cached dequantize(v) */
} vinfo;

typedef struct plan {
  qir_func *f;
  qir_context *ctx;
  const qir_quantize_options *o;
  scheme_kind scheme;
  bool share_add;       /* add/sub operands share a scale (targets) */
  bool target_int16;
  unsigned nops, nvals;
  qir_op **ops;         /* body order; op->aux = index + 1 */
  qq_prec *prec;
  const qq_rule **why;
  bool *qmode;          /* op runs quantized */
  bool *float_out;      /* its results stay float (high-precision output) */
  vinfo *vals;          /* value->aux = index + 1 */
  qq_config cfg;
  const qq_prec *overrides; /* per op, from auto-mixed-precision */
  qir_op *last_arg_op;       /* the last quantize of an argument */
  bool bias_corrections;     /* apply q.bias_correction */
} plan;

void qir_quantize_options_init(qir_quantize_options *o) {
  memset(o, 0, sizeof *o);
  o->scheme = "asym-i8";
  o->bits = 8;
  o->float_output = true;
}

const char *qq_scheme_name(const qir_quantize_options *o) {
  if (o->target) {
    const qir_target *t = qir_target_lookup(o->target);
    return t ? t->quant_scheme : NULL;
  }
  return o->scheme ? o->scheme : "asym-i8";
}

bool qq_options_from_pass(qir_pass *pass, qir_quantize_options *o) {
  qir_quantize_options_init(o);
  const char *s;
  o->scheme = qir_pass_opt_string(pass, "scheme");
  s = qir_pass_opt_string(pass, "target");
  o->target = *s ? s : NULL;
  o->bits = (unsigned)qir_pass_opt_int(pass, "bits");
  s = qir_pass_opt_string(pass, "config");
  o->config = *s ? s : NULL;
  s = qir_pass_opt_string(pass, "input-scale");
  o->input_scale = *s ? s : NULL;
  o->float_output = qir_pass_opt_bool(pass, "float-output");
  s = qir_pass_opt_string(pass, "dump");
  o->dump = *s ? s : NULL;
  o->report = stderr;
  return true;
}

const char *qq_layer_name(const qir_op *op) {
  const char *n = op->num_results ? op->results[0].name : NULL;
  return n ? n : "";
}

/* ---- Ranges stored in the IR -------------------------------------------- */

static bool pair_of(const qir_attr *a, unsigned i, double *lo, double *hi) {
  double v[2 * 64];
  int n = a ? qir_attr_get_floats(a, v, 2 * 64) : -1;
  if (n < 0 || (unsigned)n < 2 * i + 2)
    return false;
  *lo = v[2 * i];
  *hi = v[2 * i + 1];
  /* Hand-edited ranges may hold anything: only finite, ordered ones. */
  return isfinite(*lo) && isfinite(*hi) && *lo <= *hi && *hi - *lo < 1e30;
}

static bool value_attr_range(const qir_value *v, const char *op_attr,
                             const char *arg_attr, double *lo, double *hi) {
  if (v->kind == QIR_VALUE_ARG)
    return pair_of(qir_func_get_attr(v->owner.block->func, arg_attr),
                   v->index, lo, hi);
  return pair_of(qir_op_get_attr(v->owner.op, op_attr), v->index, lo, hi);
}

bool qq_value_range(const qir_value *v, double *lo, double *hi) {
  return value_attr_range(v, QQ_ATTR_RANGE, QQ_ATTR_ARG_RANGE, lo, hi);
}

bool qq_value_minmax(const qir_value *v, double *lo, double *hi) {
  return value_attr_range(v, QQ_ATTR_MINMAX, QQ_ATTR_ARG_MINMAX, lo, hi);
}

/* ---- Which ops quantize -------------------------------------------------- */

static bool is_weighted(const qir_op *op) {
  return qir_op_is(op, QIR_OP_CONV2D) || qir_op_is(op, QIR_OP_MATMUL) ||
         qir_op_is(op, QIR_OP_GEMM);
}

/* Ops with an integer kernel take quantized constants; the others run the
 * float round trip and keep theirs in float. */
static bool has_int_kernel(const qir_op *op) {
  return qir_cpu_qkernel(op->def->id) != NULL;
}

/* Operand i of op is a weight/bias slot of a conv2d/matmul/gemm. */
static bool is_param_operand(const qir_op *op, unsigned i) {
  if (!is_weighted(op))
    return false;
  if (qir_op_is(op, QIR_OP_CONV2D) && qir_op_get_bool(op, "sum_in", false) &&
      i == op->num_operands - 1)
    return false;
  return i >= 1 && qir_value_constant(qir_op_operand(op, i)) != NULL;
}

bool qq_op_is_layer(const qir_op *op) {
  if (!qir_op_has_trait(op, QIR_TRAIT_QUANTIZABLE) || !op->num_results)
    return false;
  for (unsigned r = 0; r < op->num_results; r++)
    if (!qq_is_float_tensor(op->results[r].type))
      return false;
  return true;
}

static bool fixed_range(const qir_op *op, double *lo, double *hi) {
  switch (op->def->id) {
  case QIR_OP_SIGMOID:
  case QIR_OP_HARD_SIGMOID:
  case QIR_OP_SOFTMAX:
    *lo = 0;
    *hi = 1;
    return true;
  case QIR_OP_TANH:
    *lo = -1;
    *hi = 1;
    return true;
  default:
    return false;
  }
}

static vinfo *info(plan *p, const qir_value *v) {
  return v->aux > 0 ? &p->vals[v->aux - 1] : NULL;
}

/* An activation operand: a float tensor that is not a constant. */
static bool is_activation(const qir_value *v) {
  return qq_is_float_tensor(v->type) && !qir_value_constant(v);
}

static bool op_can_quantize(plan *p, qir_op *op) {
  if (!qq_op_is_layer(op) || p->prec[op->aux - 1] == QQ_PREC_FLOAT)
    return false;
  if (qir_op_is(op, QIR_OP_GEMM) &&
      (qir_op_get_float(op, "alpha", 1.0) != 1.0 ||
       qir_op_get_float(op, "beta", 1.0) != 1.0))
    return false;
  bool any_act = false;
  for (unsigned i = 0; i < op->num_operands; i++) {
    qir_value *v = qir_op_operand(op, i);
    if (is_activation(v)) {
      vinfo *vi = info(p, v);
      if (!vi || !vi->has_range)
        return false;
      any_act = true;
    } else if (!qq_is_float_tensor(v->type) &&
               !(qir_op_is(op, QIR_OP_GATHER) && i == 1)) {
      return false;
    }
  }
  if (!any_act)
    return false;
  double lo, hi;
  for (unsigned r = 0; r < op->num_results; r++)
    if (!info(p, &op->results[r])->has_range && !fixed_range(op, &lo, &hi))
      return false;
  return true;
}

/* ---- Planning ----------------------------------------------------------- */

static unsigned find(plan *p, unsigned i) {
  while (p->vals[i].parent != i)
    i = p->vals[i].parent = p->vals[p->vals[i].parent].parent;
  return i;
}

static void unite(plan *p, const qir_value *a, const qir_value *b) {
  vinfo *ia = info(p, a), *ib = info(p, b);
  if (!ia || !ib)
    return;
  unsigned ra = find(p, (unsigned)(ia - p->vals));
  unsigned rb = find(p, (unsigned)(ib - p->vals));
  if (ra != rb)
    p->vals[rb].parent = ra;
}

/* Ops that only move data: a model output computed before them is
 * still an output. */
static bool is_movement(const qir_op *op) {
  switch (op->def->id) {
  case QIR_OP_RESHAPE:
  case QIR_OP_TRANSPOSE:
  case QIR_OP_IDENTITY:
    return true;
  default:
    return false;
  }
}

/* Does v reach only `return`, maybe through data movement? */
bool qq_reaches_only_return(const qir_value *v) {
  if (!v->uses)
    return false;
  for (const qir_use *u = v->uses; u; u = u->next) {
    const qir_op *o = u->owner;
    if (!qir_op_is(o, QIR_OP_RETURN) &&
        !(is_movement(o) && qq_reaches_only_return(&o->results[0])))
      return false;
  }
  return true;
}

static void add_value(plan *p, qir_value *v) {
  vinfo *vi = &p->vals[p->nvals];
  memset(vi, 0, sizeof *vi);
  vi->v = v;
  vi->parent = p->nvals;
  vi->float_type = v->type;
  v->aux = (intptr_t)++p->nvals;
  if (qq_value_range(v, &vi->lo, &vi->hi)) {
    vi->has_range = true;
    if (!qq_value_minmax(v, &vi->mlo, &vi->mhi)) {
      vi->mlo = vi->lo;
      vi->mhi = vi->hi;
    }
    /* Model outputs are never clipped: clipping pays off inside the
     * network, where later layers average the error out. */
    if (qq_reaches_only_return(v)) {
      vi->lo = fmin(vi->mlo, 0);
      vi->hi = fmax(vi->mhi, 0);
    }
  }
}

static void index_func(plan *p) {
  qir_block *b = &p->f->body;
  unsigned nv = b->num_args;
  p->nops = 0;
  qir_foreach_op(op, b) {
    p->nops++;
    nv += op->num_results;
  }
  p->ops = qir_xcalloc(p->nops + 1, sizeof *p->ops);
  p->prec = qir_xcalloc(p->nops + 1, sizeof *p->prec);
  p->why = qir_xcalloc(p->nops + 1, sizeof *p->why);
  p->qmode = qir_xcalloc(p->nops + 1, sizeof *p->qmode);
  p->float_out = qir_xcalloc(p->nops + 1, sizeof *p->float_out);
  p->vals = qir_xcalloc(nv + 1, sizeof *p->vals);
  for (unsigned i = 0; i < b->num_args; i++) {
    b->args[i]->aux = 0;
    if (qq_is_float_tensor(b->args[i]->type))
      add_value(p, b->args[i]);
  }
  unsigned k = 0;
  qir_foreach_op(op, b) {
    p->ops[k++] = op;
    op->aux = (intptr_t)k;
    for (unsigned r = 0; r < op->num_results; r++) {
      op->results[r].aux = 0;
      if (qq_is_float_tensor(op->results[r].type))
        add_value(p, &op->results[r]);
    }
  }
}

static unsigned prec_bits(const plan *p, qq_prec pr) {
  if (pr == QQ_PREC_INT16)
    return 16;
  if (pr == QQ_PREC_INT8)
    return 8;
  return p->o->bits;
}

static void widen(plan *p, const qir_value *v, unsigned bits) {
  vinfo *vi = info(p, v);
  if (vi && vi->bits < bits)
    vi->bits = bits;
}

/* Whether some conv2d/matmul/gemm that quantizes lies after op k. */
static void mark_weighted_below(plan *p, bool *below) {
  for (unsigned k = p->nops; k-- > 0;) {
    qir_op *op = p->ops[k];
    for (unsigned r = 0; r < op->num_results && !below[k]; r++)
      for (const qir_use *u = op->results[r].uses; u && !below[k]; u = u->next) {
        unsigned j = (unsigned)u->owner->aux - 1;
        below[k] = (is_weighted(u->owner) && p->qmode[j]) || below[j];
      }
  }
}

/* High-precision outputs: the last conv2d/matmul/gemm of each path gives
 * f32 from its accumulator, and what follows it (the model's
 * postprocessing: reshapes, sigmoids, NMS-like masks) stays float. */
static void choose_float_outputs(plan *p) {
  bool *below = qir_xcalloc(p->nops + 1, sizeof *below);
  bool *after = qir_xcalloc(p->nops + 1, sizeof *after);
  mark_weighted_below(p, below);
  for (unsigned k = 0; k < p->nops; k++) {
    qir_op *op = p->ops[k];
    for (unsigned i = 0; i < op->num_operands && !after[k]; i++) {
      const qir_op *d = qir_value_def(qir_op_operand(op, i));
      after[k] = d && (p->float_out[d->aux - 1] || after[d->aux - 1]);
    }
    if (after[k])
      p->qmode[k] = false;
    else if (p->qmode[k] && is_weighted(op) && !below[k])
      p->float_out[k] = true;
  }
  free(below);
  free(after);
}

static void choose_modes(plan *p) {
  for (unsigned k = 0; k < p->nops; k++)
    p->qmode[k] = op_can_quantize(p, p->ops[k]);
  bool float_output = p->cfg.output_prec != QQ_PREC_DEFAULT
                          ? p->cfg.output_prec == QQ_PREC_FLOAT
                          : p->o->float_output;
  if (float_output)
    choose_float_outputs(p);
  for (unsigned k = 0; k < p->nops; k++) {
    qir_op *op = p->ops[k];
    if (!p->qmode[k])
      continue;
    unsigned bits = prec_bits(p, p->prec[k]);
    for (unsigned r = 0; r < op->num_results && !p->float_out[k]; r++)
      widen(p, &op->results[r], bits);
    for (unsigned i = 0; i < op->num_operands; i++)
      if (is_activation(qir_op_operand(op, i)))
        widen(p, qir_op_operand(op, i), bits);
  }
}

static bool shares_all(const plan *p, const qir_op *op) {
  switch (op->def->id) {
  case QIR_OP_MAX_POOL2D:
  case QIR_OP_GLOBAL_MAX_POOL:
  case QIR_OP_MAX:
  case QIR_OP_MIN:
    return true;
  case QIR_OP_ADD:
  case QIR_OP_SUB:
    return false;
  case QIR_OP_RESIZE: {
    const char *mode = qir_op_get_string(op, "mode");
    return !mode || !strcmp(mode, "nearest");
  }
  default:
    (void)p;
    return qir_op_has_trait(op, QIR_TRAIT_SAME_SCALE);
  }
}

/* Values that must carry the same parameters. */
static void join_groups(plan *p) {
  for (unsigned k = 0; k < p->nops; k++) {
    qir_op *op = p->ops[k];
    if (!p->qmode[k])
      continue;
    bool all = shares_all(p, op);
    bool operands = all || (p->share_add && (qir_op_is(op, QIR_OP_ADD) ||
                                             qir_op_is(op, QIR_OP_SUB)));
    if (!operands)
      continue;
    qir_value *first = NULL;
    for (unsigned i = 0; i < op->num_operands; i++) {
      qir_value *v = qir_op_operand(op, i);
      if (!is_activation(v))
        continue;
      if (first)
        unite(p, first, v);
      else
        first = v;
    }
    for (unsigned r = 0; all && first && r < op->num_results; r++)
      unite(p, first, &op->results[r]);
  }
}

static void params_from_range(const plan *p, unsigned bits, double lo,
                              double hi, qparams *q) {
  lo = fmin(lo, 0);
  hi = fmax(hi, 0);
  double amax = fmax(-lo, hi);
  q->zp = 0;
  if (bits == 16) {
    q->storage = QIR_I16;
    q->scale = amax / 32767.0;
  } else if (p->scheme == SCH_SYM_I8 || p->scheme == SCH_POW2_I8) {
    q->storage = QIR_I8;
    q->scale = amax / 127.0;
  } else {
    q->storage = p->scheme == SCH_ASYM_U8 ? QIR_U8 : QIR_I8;
    q->scale = (hi - lo) / 255.0;
  }
  if (!(q->scale > 1e-9))
    q->scale = 1e-9 > amax ? 1.0 / 256 : 1e-9;
  if (p->scheme == SCH_POW2_I8)
    q->scale = ldexp(1.0, (int)ceil(log2(q->scale)));
  if (bits != 16 && (p->scheme == SCH_ASYM_I8 || p->scheme == SCH_ASYM_U8)) {
    int64_t qmin = qir_scalar_min(q->storage);
    q->zp = (int64_t)qir_saturate(qmin + llround(-lo / q->scale), qmin,
                                  qir_scalar_max(q->storage));
  }
}

/* Fixed-range results ([0, 1] or [-1, 1]): exact power-of-two steps. */
static void params_fixed_range(const plan *p, unsigned bits, double lo,
                               qparams *q) {
  q->how = "fixed-range";
  if (bits == 16) {
    q->storage = QIR_I16;
    q->scale = 1.0 / 32768;
    q->zp = 0;
  } else if (lo < 0 || p->scheme == SCH_SYM_I8 || p->scheme == SCH_POW2_I8) {
    q->storage = QIR_I8;
    q->scale = lo < 0 ? 1.0 / 128 : 1.0 / 128;
    q->zp = 0;
  } else {
    q->storage = p->scheme == SCH_ASYM_U8 ? QIR_U8 : QIR_I8;
    q->scale = 1.0 / 256;
    q->zp = p->scheme == SCH_ASYM_U8 ? 0 : -128;
  }
}

/* "x:0.0078125:0;y:0.5" -> fixed parameters of the named inputs. */
static bool apply_input_scales(plan *p) {
  const char *s = p->o->input_scale;
  while (s && *s) {
    const char *end = strchr(s, ';');
    size_t len = end ? (size_t)(end - s) : strlen(s);
    char buf[256];
    if (len >= sizeof buf)
      len = sizeof buf - 1;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *c1 = strchr(buf, ':');
    double scale = 0;
    long long zp = 0;
    char *e = NULL;
    if (c1) {
      *c1 = 0;
      scale = strtod(c1 + 1, &e);
      if (*e == ':')
        zp = strtoll(e + 1, &e, 10);
    }
    if (!c1 || *e || !(scale > 0) || !isfinite(scale)) {
      qir_emit_error(p->ctx, p->f->loc, "quantize: bad input-scale entry '%s' "
                     "(expected NAME:SCALE[:ZERO_POINT])", s);
      return false;
    }
    vinfo *vi = NULL;
    for (unsigned i = 0; i < p->f->body.num_args; i++) {
      const qir_value *a = p->f->body.args[i];
      if (a->name && !strcmp(a->name, buf))
        vi = info(p, a);
    }
    if (!vi) {
      qir_emit_error(p->ctx, p->f->loc, "quantize: input-scale names '%s', "
                     "which is not a float input of @%s", buf, p->f->name);
      return false;
    }
    vi->fixed = true;
    vi->p.scale = scale;
    vi->p.zp = zp;
    vi->p.how = "input-scale";
    vi->p.storage = p->scheme == SCH_ASYM_U8 ? QIR_U8 : QIR_I8;
    if (zp < qir_scalar_min(vi->p.storage) ||
        zp > qir_scalar_max(vi->p.storage)) {
      qir_emit_error(p->ctx, p->f->loc, "quantize: input-scale zero point "
                     "%lld of '%s' does not fit %s", zp, buf,
                     qir_scalar_name(vi->p.storage));
      return false;
    }
    s = end ? end + 1 : NULL;
  }
  return true;
}

static void mark_fixed_ranges(plan *p) {
  for (unsigned k = 0; k < p->nops; k++) {
    qir_op *op = p->ops[k];
    double lo, hi;
    if (!p->qmode[k] || !fixed_range(op, &lo, &hi))
      continue;
    vinfo *vi = info(p, &op->results[0]);
    /* A result that stays well inside the fixed range (a sigmoid of
     * logits below 0) is better served by its calibrated range. */
    if (vi->has_range && fmax(vi->mhi, 0) - fmin(vi->mlo, 0) < 0.5 * (hi - lo))
      continue;
    vi->fixed = true;
    params_fixed_range(p, vi->bits ? vi->bits : 8, lo, &vi->p);
    vi->has_range = true;
    vi->lo = vi->mlo = lo;
    vi->hi = vi->mhi = hi;
  }
}

/* A group's parameters: declared input parameters win; fixed-range
 * parameters hold when every member has them; otherwise they come from
 * the union of the members' ranges (a fixed-range member contributing its
 * range). */
typedef struct group {
  bool has_range, mixed;
  double lo, hi, mlo, mhi;
  unsigned bits;
  const vinfo *strong, *fixed;
} group;

static void group_add(group *g, const vinfo *vi) {
  g->bits = g->bits > vi->bits ? g->bits : vi->bits;
  if (vi->fixed && !strcmp(vi->p.how, "input-scale"))
    g->strong = vi;
  else if (vi->fixed)
    g->fixed = vi;
  else
    g->mixed = true;
  if (!vi->has_range)
    return;
  g->lo = g->has_range ? fmin(g->lo, vi->lo) : vi->lo;
  g->hi = g->has_range ? fmax(g->hi, vi->hi) : vi->hi;
  g->mlo = g->has_range ? fmin(g->mlo, vi->mlo) : vi->mlo;
  g->mhi = g->has_range ? fmax(g->mhi, vi->mhi) : vi->mhi;
  g->has_range = true;
}

/* int16 ranges are the observed ones times this: images that were not
 * calibrated on go beyond the observed range, and saturating costs more
 * than a step twice as coarse (BlazeFace, all int16, on 12 images not
 * calibrated on: output cosine 0.99975 at 1, 0.999997 at 2, 0.99999 at
 * 4). */
#define INT16_HEADROOM 2.0

static void group_params(const plan *p, const group *g, qparams *q) {
  if (g->strong) {
    *q = g->strong->p;
  } else if (g->fixed && !g->mixed) {
    *q = g->fixed->p;
  } else if (g->bits == 16) {
    /* 16 bits keep the whole observed range, with headroom: clipping pays
     * off at 8 bits, but at 16 the images not calibrated on go beyond the
     * observed range more often than the step size matters. */
    params_from_range(p, 16, g->mlo * INT16_HEADROOM,
                     g->mhi * INT16_HEADROOM, q);
    q->how = "calibrated";
  } else {
    params_from_range(p, 8, g->lo, g->hi, q);
    q->how = "calibrated";
  }
}

static void choose_params(plan *p) {
  group *groups = qir_xcalloc(p->nvals + 1, sizeof *groups);
  for (unsigned i = 0; i < p->nvals; i++)
    if (p->vals[i].bits)
      group_add(&groups[find(p, i)], &p->vals[i]);
  for (unsigned i = 0; i < p->nvals; i++) {
    vinfo *vi = &p->vals[i];
    if (!vi->bits)
      continue;
    const group *g = &groups[find(p, i)];
    group_params(p, g, &vi->p);
    vi->bits = g->bits;
  }
  free(groups);
}

static bool read_scheme(plan *p) {
  const char *name = p->o->scheme ? p->o->scheme : "asym-i8";
  p->target_int16 = true;
  if (p->o->target) {
    const qir_target *t = qir_target_lookup(p->o->target);
    if (!t) {
      qir_emit_error(p->ctx, p->f->loc, "quantize: unknown target '%s'",
                     p->o->target);
      return false;
    }
    name = t->quant_scheme;
    p->share_add = true;
    p->target_int16 = t->has_int16;
  }
  for (unsigned i = 0; i < 4; i++)
    if (!strcmp(name, scheme_names[i])) {
      p->scheme = (scheme_kind)i;
      return true;
    }
  qir_emit_error(p->ctx, p->f->loc, "quantize: unknown scheme '%s' (expected "
                 "sym-i8, asym-i8, asym-u8 or pow2-i8)", name);
  return false;
}

static bool check_ranges(plan *p) {
  for (unsigned i = 0; i < p->nvals; i++)
    if (p->vals[i].has_range)
      return true;
  qir_emit_error(p->ctx, p->f->loc, "quantize: @%s has no calibration "
                 "ranges (run the calibrate pass first)", p->f->name);
  return false;
}

static bool check_int16(plan *p) {
  if (p->target_int16)
    return true;
  if (p->o->bits == 16) {
    qir_emit_error(p->ctx, p->f->loc, "quantize: bits=16 asked, but target "
                   "'%s' has no int16 support", p->o->target);
    return false;
  }
  for (unsigned k = 0; k < p->nops; k++)
    if (p->prec[k] == QQ_PREC_INT16 && qq_op_is_layer(p->ops[k])) {
      qir_op_emit_error(p->ops[k], "int16 asked for this layer, but target "
                        "'%s' has no int16 support", p->o->target);
      return false;
    }
  return true;
}

/* Corrections measured with pow2-i8 weights do not fit the others', and
 * the reverse. */
static bool corrections_apply(const plan *p) {
  const qir_attr *a = qir_func_get_attr(p->f, QQ_ATTR_BIAS_SCHEME);
  if (!a || a->kind != QIR_ATTR_STRING)
    return true;
  bool pow2 = a->u.str.len == 7 && !memcmp(a->u.str.data, "pow2-i8", 7);
  return pow2 == (p->scheme == SCH_POW2_I8);
}

static bool make_plan(plan *p) {
  if (p->o->bits != 8 && p->o->bits != 16) {
    qir_emit_error(p->ctx, p->f->loc, "quantize: bits must be 8 or 16");
    return false;
  }
  if (!read_scheme(p))
    return false;
  if (p->o->config && !qq_config_load(p->ctx, p->o->config, &p->cfg))
    return false;
  index_func(p);
  if (!check_ranges(p))
    return false;
  if (p->o->config && !qq_config_apply(&p->cfg, p->f, p->prec, p->why))
    return false;
  for (unsigned k = 0; p->overrides && k < p->nops; k++)
    if (p->overrides[k] != QQ_PREC_DEFAULT)
      p->prec[k] = p->overrides[k];
  if (!check_int16(p) || !apply_input_scales(p))
    return false;
  p->bias_corrections = corrections_apply(p);
  choose_modes(p);
  join_groups(p);
  mark_fixed_ranges(p);
  choose_params(p);
  return true;
}

/* ---- Rewriting ---------------------------------------------------------- */

static const qir_type *quant_elem(plan *p, const qparams *q) {
  return qir_quant_type_simple(p->ctx, q->storage, q->scale, q->zp);
}

static const qir_type *quant_tensor(plan *p, const vinfo *vi) {
  return qir_tensor_with_elem(p->ctx, vi->float_type, quant_elem(p, &vi->p));
}

/* Per-channel symmetric weights along `axis` (-1: per tensor). */
static qir_value *quantize_weight(plan *p, qir_op *at, const qir_attr *w,
                                  int axis, unsigned bits,
                                  const double *min_scale, double **scales_out) {
  const qir_type *t = w->u.dense.type;
  int64_t n = qir_dense_num_elements(w);
  int64_t ch = axis >= 0 ? t->dims[axis] : 1, inner = 1;
  for (unsigned d = (unsigned)(axis + 1); axis >= 0 && d < t->rank; d++)
    inner *= t->dims[d];
  double qmax = bits == 16 ? 32767.0 : 127.0;
  double *scales = qir_xcalloc((size_t)ch, sizeof *scales);
  for (int64_t i = 0; i < n; i++) {
    int64_t c = axis >= 0 ? (i / inner) % ch : 0;
    scales[c] = fmax(scales[c], fabs(qir_dense_get_f64(w, i)));
  }
  for (int64_t c = 0; c < ch; c++) {
    scales[c] = scales[c] > 0 && isfinite(scales[c]) ? scales[c] / qmax : 1.0;
    if (min_scale && scales[c] < min_scale[c])
      scales[c] = min_scale[c];
    if (p->scheme == SCH_POW2_I8)
      scales[c] = ldexp(1.0, (int)ceil(log2(scales[c])));
  }
  qir_scalar st = bits == 16 ? QIR_I16 : QIR_I8;
  const qir_type *q = qir_quant_type(p->ctx, at->loc, st, axis, (unsigned)ch,
                                     scales, NULL, qir_scalar_min(st),
                                     qir_scalar_max(st));
  int64_t *vals = qir_xmalloc((size_t)(n ? n : 1) * sizeof *vals);
  for (int64_t i = 0; i < n; i++) {
    int64_t c = axis >= 0 ? (i / inner) % ch : 0;
    vals[i] = qir_quantize_f64(qir_dense_get_f64(w, i), scales[c], 0,
                               -(int64_t)qmax, (int64_t)qmax);
  }
  qir_builder b;
  qir_builder_init(&b, p->ctx);
  qir_builder_set_before(&b, at);
  qir_value *v = qir_build_constant(
      &b, qir_attr_dense_from_i64(p->ctx, qir_tensor_with_elem(p->ctx, t, q),
                                  vals));
  free(vals);
  *scales_out = scales;
  return v;
}

/* An int32 bias with scale s_x * s_w[c] (per channel), less the
 * correction of the bias-correction pass (shift: NULL or per channel). */
static qir_value *quantize_bias(plan *p, qir_op *at, const qir_attr *bias,
                                double s_x, const double *s_w, int64_t ch,
                                const double *shift) {
  const qir_type *t = bias->u.dense.type;
  int64_t n = qir_dense_num_elements(bias);
  if (t->rank != 1 || (n != ch && ch != 1))
    return NULL;
  double *scales = qir_xmalloc((size_t)n * sizeof *scales);
  int64_t *vals = qir_xmalloc((size_t)n * sizeof *vals);
  bool clipped = false;
  for (int64_t c = 0; c < n; c++) {
    scales[c] = s_x * s_w[ch == 1 ? 0 : c];
    double b = qir_dense_get_f64(bias, c) - (shift ? shift[c] : 0);
    double q = nearbyint(b / scales[c]);
    clipped |= fabs(q) > 2147483647.0;
    vals[c] = qir_quantize_f64(b, scales[c], 0, INT32_MIN, INT32_MAX);
  }
  if (clipped)
    qir_op_emit_warning(at, "bias saturates int32 at its scale s_x * s_w");
  const qir_type *q = qir_quant_type(p->ctx, at->loc, QIR_I32, 0, (unsigned)n,
                                     scales, NULL, INT32_MIN, INT32_MAX);
  qir_builder b;
  qir_builder_init(&b, p->ctx);
  qir_builder_set_before(&b, at);
  qir_value *v = qir_build_constant(
      &b, qir_attr_dense_from_i64(p->ctx, qir_tensor_with_elem(p->ctx, t, q),
                                  vals));
  free(scales);
  free(vals);
  return v;
}

/* The smallest weight scale per channel that keeps the bias inside
 * +-2^30 at scale s_x * s_w[c] (a near-zero channel with a large bias
 * would saturate otherwise); NULL without a per-channel bias. */
static double *bias_min_scales(const qir_attr *bias, double s_x, int64_t ch) {
  if (!bias || bias->u.dense.type->rank != 1 ||
      qir_dense_num_elements(bias) != ch)
    return NULL;
  double *m = qir_xcalloc((size_t)ch, sizeof *m);
  for (int64_t c = 0; c < ch; c++)
    m[c] = fabs(qir_dense_get_f64(bias, c)) / (s_x * 1073741824.0);
  return m;
}

static int weight_axis(const qir_op *op, const qir_type *wt) {
  if (qir_op_is(op, QIR_OP_CONV2D))
    return 0;
  if (qir_op_is(op, QIR_OP_GEMM))
    return qir_op_get_int(op, "trans_b", 0) ? 0 : 1;
  return wt->rank >= 2 ? (int)wt->rank - 1 : -1;
}

static void quantize_weights(plan *p, qir_op *op) {
  qir_value *w = qir_op_operand(op, 1);
  const qir_attr *wa = qir_value_constant(w);
  const qir_type *x = qir_op_operand(op, 0)->type;
  if (!wa || !qq_is_float_tensor(w->type) || !qir_tensor_is_quant(x))
    return;
  int axis = weight_axis(op, w->type);
  int64_t ch = axis >= 0 ? w->type->dims[axis] : 1;
  unsigned bi = qir_op_is(op, QIR_OP_CONV2D) || qir_op_is(op, QIR_OP_GEMM) ? 2 : 99;
  const qir_attr *ba = bi < op->num_operands && is_param_operand(op, bi)
                           ? qir_value_constant(qir_op_operand(op, bi))
                           : NULL;
  double s_x = x->elem->scales[0], *sw;
  double *min_scale = bias_min_scales(ba, s_x, ch);
  /* int16 layers take int16 weights: with int8 weights, their error alone
   * keeps a deep network below a 0.999 cosine.  bias_min_scales keeps the
   * int32 bias from overflowing at the finer s_x * s_w. */
  unsigned bits = qir_tensor_is_quant(x) && x->elem->scalar == QIR_I16 ? 16 : 8;
  qir_op_set_operand(op, 1, quantize_weight(p, op, wa, axis, bits, min_scale, &sw));
  free(min_scale);
  /* The bias-correction pass measured int8 layers: int16 ones keep their
   * bias. */
  double *shift = NULL;
  if (ba && bits == 8 && p->bias_corrections &&
      qir_dense_num_elements(ba) == ch) {
    shift = qir_xcalloc((size_t)ch, sizeof *shift);
    if (!qq_bias_correction(op, shift, ch)) {
      free(shift);
      shift = NULL;
    }
  }
  if (ba) {
    qir_value *qb = quantize_bias(p, op, ba, s_x, sw, ch, shift);
    if (qb)
      qir_op_set_operand(op, bi, qb);
  }
  free(shift);
  free(sw);
}

/* A constant operand of an integer-kernel op: per tensor, its own range. */
static void quantize_const_operand(plan *p, qir_op *op, unsigned i,
                                   unsigned bits) {
  qir_value *c = qir_op_operand(op, i);
  const qir_attr *a = qir_value_constant(c);
  int64_t n = qir_dense_num_elements(a);
  double lo = 0, hi = 0;
  for (int64_t k = 0; k < n; k++) {
    double v = qir_dense_get_f64(a, k);
    lo = fmin(lo, v);
    hi = fmax(hi, v);
  }
  qparams q;
  params_from_range(p, bits, lo, hi, &q);
  int64_t *vals = qir_xmalloc((size_t)(n ? n : 1) * sizeof *vals);
  for (int64_t k = 0; k < n; k++)
    vals[k] = qir_quantize_f64(qir_dense_get_f64(a, k), q.scale, q.zp,
                               qir_scalar_min(q.storage),
                               qir_scalar_max(q.storage));
  qir_builder b;
  qir_builder_init(&b, p->ctx);
  qir_builder_set_before(&b, op);
  const qir_type *t = qir_tensor_with_elem(p->ctx, c->type, quant_elem(p, &q));
  qir_op_set_operand(op, i, qir_build_constant(
                                &b, qir_attr_dense_from_i64(p->ctx, t, vals)));
  free(vals);
}

/* Where a new op reading v goes: right after v's definition. */
static void builder_after_def(qir_builder *b, plan *p, qir_value *v) {
  qir_builder_init(b, p->ctx);
  qir_op *def = qir_value_def(v);
  if (def)
    qir_builder_set_after(b, def);
  else if (p->last_arg_op)
    qir_builder_set_after(b, p->last_arg_op);
  else
    qir_builder_set_before(b, p->f->body.first);
}

/* Remembers the op created for an argument, so that the next one goes
 * after it (in argument order). */
static void note_arg_op(plan *p, qir_value *v, qir_op *op) {
  if (v->kind == QIR_VALUE_ARG)
    p->last_arg_op = op;
}

static qir_value *quantized_of(plan *p, qir_value *v) {
  vinfo *vi = info(p, v);
  if (!vi->quantized) {
    qir_builder b;
    builder_after_def(&b, p, v);
    const qir_type *t = quant_tensor(p, vi);
    qir_op *q = qir_build_typed(&b, qir_builtin_op(p->ctx, QIR_OP_QUANTIZE),
                                1, &v, 1, &t, 0, NULL);
    note_arg_op(p, v, q);
    vi->quantized = &q->results[0];
  }
  return vi->quantized;
}

static qir_value *dequantized_of(plan *p, qir_value *v) {
  vinfo *vi = info(p, v);
  if (!vi->dequantized) {
    qir_builder b;
    builder_after_def(&b, p, v);
    qir_op *d = qir_build_typed(&b, qir_builtin_op(p->ctx, QIR_OP_DEQUANTIZE),
                                1, &v, 1, &vi->float_type, 0, NULL);
    vi->dequantized = &d->results[0];
  }
  return vi->dequantized;
}

static bool is_retyped(plan *p, const qir_value *v) {
  vinfo *vi = info(p, v);
  return vi && vi->bits && v->kind == QIR_VALUE_RESULT &&
         p->qmode[v->owner.op->aux - 1] && !p->float_out[v->owner.op->aux - 1];
}

static void retype_results(plan *p) {
  for (unsigned k = 0; k < p->nops; k++) {
    if (!p->qmode[k] || p->float_out[k])
      continue;
    qir_op *op = p->ops[k];
    for (unsigned r = 0; r < op->num_results; r++)
      qir_value_set_type(&op->results[r], quant_tensor(p, info(p, &op->results[r])));
  }
}

/* Makes op's activation operands quantized (qmode) or float. */
static void fix_operands(plan *p, qir_op *op, bool want_quant) {
  for (unsigned i = 0; i < op->num_operands; i++) {
    qir_value *v = qir_op_operand(op, i);
    if (!info(p, v) || qir_value_constant(v))
      continue;
    bool q = is_retyped(p, v);
    if (want_quant && !q)
      qir_op_set_operand(op, i, quantized_of(p, v));
    else if (!want_quant && q)
      qir_op_set_operand(op, i, dequantized_of(p, v));
  }
}

/* Erases the float constants the rewrite replaced (now unused). */
static void erase_dead_constants(plan *p, qir_op **consts, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    if (!qir_value_has_uses(&consts[i]->results[0]))
      qir_op_erase(consts[i]);
}

static void rewrite(plan *p) {
  unsigned nconst = 0;
  qir_op **consts = qir_xcalloc(p->nops + 1, sizeof *consts);
  for (unsigned k = 0; k < p->nops; k++)
    if (qir_op_is(p->ops[k], QIR_OP_CONSTANT) &&
        qir_value_has_uses(&p->ops[k]->results[0]))
      consts[nconst++] = p->ops[k];
  retype_results(p);
  for (unsigned k = 0; k < p->nops; k++) {
    qir_op *op = p->ops[k];
    fix_operands(p, op, p->qmode[k]);
    if (!p->qmode[k])
      continue;
    if (is_weighted(op))
      quantize_weights(p, op);
    if (!has_int_kernel(op))
      continue;
    unsigned bits = info(p, &op->results[0])->bits ? info(p, &op->results[0])->bits : 8;
    for (unsigned i = 0; i < op->num_operands; i++) {
      qir_value *c = qir_op_operand(op, i);
      if (qir_value_constant(c) && qq_is_float_tensor(c->type) &&
          !is_param_operand(op, i))
        quantize_const_operand(p, op, i, bits);
    }
  }
  erase_dead_constants(p, consts, nconst);
  free(consts);
}

static void strip_attrs(plan *p) {
  for (unsigned k = 0; k < p->nops; k++) {
    qir_op *op = p->ops[k];
    qir_op_set_attr(op, QQ_ATTR_RANGE, NULL);
    qir_op_set_attr(op, QQ_ATTR_MINMAX, NULL);
    qir_op_set_attr(op, QQ_ATTR_METHOD, NULL);
  }
  qir_func_set_attr(p->f, QQ_ATTR_ARG_RANGE, NULL);
  qir_func_set_attr(p->f, QQ_ATTR_ARG_MINMAX, NULL);
  qir_func_set_attr(p->f, QQ_ATTR_BIAS_SCHEME, NULL);
}

static void free_plan(plan *p) {
  free(p->ops);
  free(p->prec);
  free(p->why);
  free(p->qmode);
  free(p->float_out);
  free(p->vals);
  qq_config_free(&p->cfg);
}

/* ---- The JSON dump of every tensor's parameters ------------------------- */

static json_object *params_json(const qir_type *q) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "dtype", json_object_new_string(
                                         qir_scalar_name(q->scalar)));
  json_object_object_add(o, "bits", json_object_new_int(
                                        (int)qir_scalar_size(q->scalar) * 8));
  if (q->axis >= 0)
    json_object_object_add(o, "axis", json_object_new_int(q->axis));
  json_object *s = json_object_new_array(), *z = json_object_new_array();
  for (unsigned i = 0; i < q->nparams; i++) {
    json_object_array_add(s, json_object_new_double(q->scales[i]));
    json_object_array_add(z, json_object_new_int64(qir_quant_zp(q, i)));
  }
  json_object_object_add(o, q->axis >= 0 ? "scales" : "scale",
                         q->axis >= 0 ? s : json_object_get(json_object_array_get_idx(s, 0)));
  json_object_object_add(o, q->axis >= 0 ? "zero_points" : "zero_point",
                         q->axis >= 0 ? z : json_object_get(json_object_array_get_idx(z, 0)));
  if (q->axis < 0) {
    json_object_put(s);
    json_object_put(z);
  }
  return o;
}

static const char *value_label(const qir_value *v, char *buf, size_t n) {
  if (v->name)
    return v->name;
  snprintf(buf, n, "%s#%u", v->kind == QIR_VALUE_ARG ? "arg" : "result",
           v->index);
  return buf;
}

static void dump_activation(plan *p, json_object *arr, vinfo *vi) {
  char b1[32], b2[32];
  json_object *o = json_object_new_object();
  json_object_object_add(o, "tensor", json_object_new_string(
                                          value_label(vi->v, b1, sizeof b1)));
  qir_op *def = qir_value_def(vi->v);
  json_object_object_add(o, "op", json_object_new_string(
                                      def ? def->def->name : "input"));
  json_object_object_add(o, "kind", json_object_new_string("activation"));
  const qir_type *q = quant_elem(p, &vi->p);
  json_object *params = params_json(q);
  json_object_object_foreach(params, key, val)
    json_object_object_add(o, key, json_object_get(val));
  json_object_put(params);
  json_object_object_add(o, "how", json_object_new_string(vi->p.how));
  json_object *r = json_object_new_array();
  json_object_array_add(r, json_object_new_double(vi->lo));
  json_object_array_add(r, json_object_new_double(vi->hi));
  json_object_object_add(o, "range", r);
  vinfo *root = &p->vals[find(p, (unsigned)(vi - p->vals))];
  if (root != vi || root->v != vi->v)
    json_object_object_add(o, "shares_with", json_object_new_string(
                                                 value_label(root->v, b2, sizeof b2)));
  json_object_array_add(arr, o);
}

static void dump_constants(qir_func *f, json_object *arr) {
  char b[32];
  qir_foreach_op(op, &f->body) {
    if (!qir_op_is(op, QIR_OP_CONSTANT) ||
        !qir_tensor_is_quant(op->results[0].type))
      continue;
    const qir_use *u = op->results[0].uses;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "tensor", json_object_new_string(
                               value_label(&op->results[0], b, sizeof b)));
    json_object_object_add(o, "op", json_object_new_string(
                                        u ? u->owner->def->name : "constant"));
    const qir_type *q = op->results[0].type->elem;
    bool bias = q->scalar == QIR_I32;
    bool weight = !bias && q->axis >= 0;
    json_object_object_add(o, "kind", json_object_new_string(
                               bias ? "bias" : weight ? "weight" : "constant"));
    json_object *params = params_json(q);
    json_object_object_foreach(params, key, val)
      json_object_object_add(o, key, json_object_get(val));
    json_object_put(params);
    json_object_object_add(o, "how", json_object_new_string(
        bias ? "s_x * s_w" : weight ? "max |w| per output channel"
                                    : "constant min/max"));
    json_object_array_add(arr, o);
  }
}

static bool write_dump(plan *p) {
  json_object *root = json_object_new_object();
  json_object_object_add(root, "function", json_object_new_string(p->f->name));
  json_object_object_add(root, "scheme",
                         json_object_new_string(scheme_names[p->scheme]));
  json_object *arr = json_object_new_array();
  for (unsigned i = 0; i < p->nvals; i++)
    if (p->vals[i].bits)
      dump_activation(p, arr, &p->vals[i]);
  dump_constants(p->f, arr);
  json_object_object_add(root, "tensors", arr);
  qir_output out;
  bool ok = qir_output_open(p->ctx, &out, p->o->dump, false);
  if (ok) {
    fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE),
          out.fp);
    fputc('\n', out.fp);
    ok = qir_output_commit(p->ctx, &out);
  }
  json_object_put(root);
  return ok;
}

/* ---- Entry points ------------------------------------------------------- */

bool qq_quantize(qir_func *f, const qir_quantize_options *o,
                 const qq_prec *overrides, bool quiet) {
  plan p;
  memset(&p, 0, sizeof p);
  p.f = f;
  p.ctx = f->module->ctx;
  p.o = o;
  p.overrides = overrides;
  bool ok = make_plan(&p);
  if (ok && o->config && !quiet)
    qq_config_print_table(o->report ? o->report : stderr, f, p.prec, p.why);
  if (ok) {
    /* Before the rewrite, which erases the replaced constants of p.ops. */
    strip_attrs(&p);
    rewrite(&p);
    /* quantize_weights read them. */
    qir_foreach_op(op, &f->body) qir_op_set_attr(op, QQ_ATTR_BIAS_CORRECTION, NULL);
  }
  if (ok && o->dump)
    ok = write_dump(&p);
  free_plan(&p);
  return ok;
}

bool qir_quantize_func(qir_func *f, const qir_quantize_options *o) {
  return qq_quantize(f, o, NULL, false);
}

bool qir_pass_run_quantize(qir_pass *pass, void *unit_ir) {
  qir_quantize_options o;
  qq_options_from_pass(pass, &o);
  return qir_quantize_func(unit_ir, &o);
}
