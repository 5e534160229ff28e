/* backends/cpu/k_elementwise.c - elementwise kernels: binary ops with numpy
 * broadcasting, comparisons, logical ops, where, unary math, activations,
 * cast. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "backends/cpu/cpu.h"

bool qk_fail(const qir_kargs *k, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  qir_op_emit_error(k->op, "%s", buf);
  return false;
}

int qk_axis(int64_t axis, unsigned rank) {
  if (axis < 0)
    axis += rank;
  return axis < 0 || axis >= (int64_t)(rank ? rank : 1) ? -1 : (int)axis;
}

static bool unsupported(const qir_kargs *k, const qir_tensor *t) {
  return qk_fail(k, "has no interpreter kernel for element type %s",
                 qir_scalar_name(t->scalar));
}

/* ---- Broadcasting plan ------------------------------------------------------ */

/* The output iterated as outer x inner, with the strides (in elements) of
 * each operand; dims where all operands behave alike are merged. */
typedef struct bcast {
  unsigned rank;           /* merged outer dims (inner excluded) */
  int64_t dims[QIR_MAX_RANK];
  int64_t st[3][QIR_MAX_RANK];
  int64_t inner;
  int64_t ist[3];          /* inner strides: 0 or 1 */
  int64_t outer;           /* product of dims */
} bcast;

static void bcast_plan(bcast *b, const qir_tensor *out, unsigned nops,
                       const qir_tensor *const *ops) {
  int64_t dims[QIR_MAX_RANK];
  int full[3][QIR_MAX_RANK];
  unsigned r = 0;
  for (unsigned d = 0; d < out->rank; d++) {
    if (out->dims[d] == 1)
      continue;
    int cat[3];
    for (unsigned o = 0; o < nops; o++) {
      int od = (int)d - (int)(out->rank - ops[o]->rank);
      cat[o] = od >= 0 && ops[o]->dims[od] != 1;
    }
    bool same = r > 0;
    for (unsigned o = 0; o < nops && same; o++)
      same = full[o][r - 1] == cat[o];
    if (same) {
      dims[r - 1] *= out->dims[d];
    } else {
      dims[r] = out->dims[d];
      for (unsigned o = 0; o < nops; o++)
        full[o][r] = cat[o];
      r++;
    }
  }
  if (r == 0) {
    dims[0] = 1;
    for (unsigned o = 0; o < nops; o++)
      full[o][0] = 1;
    r = 1;
  }
  /* Strides of the merged shape. */
  int64_t acc[3] = {1, 1, 1};
  int64_t st[3][QIR_MAX_RANK];
  for (int d = (int)r - 1; d >= 0; d--)
    for (unsigned o = 0; o < nops; o++) {
      st[o][d] = full[o][d] ? acc[o] : 0;
      if (full[o][d])
        acc[o] *= dims[d];
    }
  b->inner = dims[r - 1];
  for (unsigned o = 0; o < nops; o++)
    b->ist[o] = st[o][r - 1];
  b->rank = r - 1;
  b->outer = 1;
  for (unsigned d = 0; d < b->rank; d++) {
    b->dims[d] = dims[d];
    b->outer *= dims[d];
    for (unsigned o = 0; o < nops; o++)
      b->st[o][d] = st[o][d];
  }
}

/* Offsets of each operand for outer index i. */
static void bcast_offsets(const bcast *b, unsigned nops, int64_t i,
                          int64_t *off) {
  for (unsigned o = 0; o < nops; o++)
    off[o] = 0;
  for (int d = (int)b->rank - 1; d >= 0; d--) {
    int64_t idx = i % b->dims[d];
    i /= b->dims[d];
    for (unsigned o = 0; o < nops; o++)
      off[o] += idx * b->st[o][d];
  }
}

/* ---- Binary ops -------------------------------------------------------------- */

typedef qir_binary_inner binary_inner;

#define DEFINE_INNER(NAME, TA, TY, EXPR)                                      \
  static void NAME(const void *pa, int64_t sa, const void *pb, int64_t sb,    \
                   void *py, int64_t n) {                                     \
    const TA *A = pa, *B = pb;                                                \
    TY *Y = py;                                                               \
    if (sa && sb)                                                             \
      for (int64_t i = 0; i < n; i++) {                                       \
        TA a = A[i], b = B[i];                                                \
        Y[i] = (EXPR);                                                        \
      }                                                                       \
    else if (sa)                                                              \
      for (int64_t i = 0; i < n; i++) {                                       \
        TA a = A[i], b = B[0];                                                \
        Y[i] = (EXPR);                                                        \
      }                                                                       \
    else if (sb)                                                              \
      for (int64_t i = 0; i < n; i++) {                                       \
        TA a = A[0], b = B[i];                                                \
        Y[i] = (EXPR);                                                        \
      }                                                                       \
    else                                                                      \
      for (int64_t i = 0; i < n; i++) {                                       \
        TA a = A[0], b = B[0];                                                \
        Y[i] = (EXPR);                                                        \
      }                                                                       \
  }

static float f_mod_py(float a, float b) {
  float r = fmodf(a, b);
  return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
}
static int64_t i_div(int64_t a, int64_t b) {
  return b == 0 ? 0 : (a == INT64_MIN && b == -1) ? INT64_MIN : a / b;
}
static int64_t i_mod_c(int64_t a, int64_t b) {
  return b == 0 || b == -1 ? 0 : a % b;
}
static int64_t i_mod_py(int64_t a, int64_t b) {
  int64_t r = i_mod_c(a, b);
  return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
}
static int64_t i_pow(int64_t a, int64_t b) {
  if (b < 0)
    return a == 1 ? 1 : a == -1 ? (b % 2 ? -1 : 1) : 0;
  uint64_t r = 1, base = (uint64_t)a;
  while (b) {
    if (b & 1)
      r *= base;
    base *= base;
    b >>= 1;
  }
  return (int64_t)r;
}
static int64_t wrap_add(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static int64_t wrap_sub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static int64_t wrap_mul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }

DEFINE_INNER(f_add, float, float, a + b)
DEFINE_INNER(f_sub, float, float, a - b)
DEFINE_INNER(f_mul, float, float, a * b)
DEFINE_INNER(f_div, float, float, a / b)
DEFINE_INNER(f_pow, float, float, powf(a, b))
DEFINE_INNER(f_max, float, float, isnan(a) || a > b ? a : b)
DEFINE_INNER(f_min, float, float, isnan(a) || a < b ? a : b)
DEFINE_INNER(f_fmod, float, float, fmodf(a, b))
DEFINE_INNER(f_mod, float, float, f_mod_py(a, b))
DEFINE_INNER(f_prelu, float, float, a < 0 ? a * b : a)
DEFINE_INNER(i_add, int64_t, int64_t, wrap_add(a, b))
DEFINE_INNER(i_sub, int64_t, int64_t, wrap_sub(a, b))
DEFINE_INNER(i_mul, int64_t, int64_t, wrap_mul(a, b))
DEFINE_INNER(i_divide, int64_t, int64_t, i_div(a, b))
DEFINE_INNER(i_power, int64_t, int64_t, i_pow(a, b))
DEFINE_INNER(i_max, int64_t, int64_t, a > b ? a : b)
DEFINE_INNER(i_min, int64_t, int64_t, a < b ? a : b)
DEFINE_INNER(i_fmod, int64_t, int64_t, i_mod_c(a, b))
DEFINE_INNER(i_mod, int64_t, int64_t, i_mod_py(a, b))
DEFINE_INNER(i_prelu, int64_t, int64_t, a < 0 ? wrap_mul(a, b) : a)
DEFINE_INNER(f_eq, float, uint8_t, a == b)
DEFINE_INNER(f_lt, float, uint8_t, a < b)
DEFINE_INNER(f_le, float, uint8_t, a <= b)
DEFINE_INNER(f_gt, float, uint8_t, a > b)
DEFINE_INNER(f_ge, float, uint8_t, a >= b)
DEFINE_INNER(i_eq, int64_t, uint8_t, a == b)
DEFINE_INNER(i_lt, int64_t, uint8_t, a < b)
DEFINE_INNER(i_le, int64_t, uint8_t, a <= b)
DEFINE_INNER(i_gt, int64_t, uint8_t, a > b)
DEFINE_INNER(i_ge, int64_t, uint8_t, a >= b)
DEFINE_INNER(b_eq, uint8_t, uint8_t, (a != 0) == (b != 0))
DEFINE_INNER(b_and, uint8_t, uint8_t, a && b)
DEFINE_INNER(b_or, uint8_t, uint8_t, a || b)
DEFINE_INNER(b_xor, uint8_t, uint8_t, (a != 0) != (b != 0))

typedef struct binary_job {
  bcast plan;
  binary_inner fn;
  const uint8_t *a, *b;
  uint8_t *y;
  size_t ea, eb, ey; /* element sizes */
} binary_job;

static void binary_range(void *arg, int64_t begin, int64_t end) {
  binary_job *j = arg;
  const bcast *p = &j->plan;
  if (p->outer == 1) { /* split the inner dimension */
    j->fn(j->a + (size_t)(begin * p->ist[0]) * j->ea, p->ist[0],
          j->b + (size_t)(begin * p->ist[1]) * j->eb, p->ist[1],
          j->y + (size_t)begin * j->ey, end - begin);
    return;
  }
  for (int64_t i = begin; i < end; i++) {
    int64_t off[2];
    bcast_offsets(p, 2, i, off);
    j->fn(j->a + (size_t)off[0] * j->ea, p->ist[0],
          j->b + (size_t)off[1] * j->eb, p->ist[1],
          j->y + (size_t)(i * p->inner) * j->ey, p->inner);
  }
}

static void run_binary(const qir_kargs *k, binary_inner fn) {
  binary_job j;
  const qir_tensor *ops[2] = {k->in[0], k->in[1]};
  bcast_plan(&j.plan, k->out[0], 2, ops);
  j.fn = fn;
  j.a = k->in[0]->data;
  j.b = k->in[1]->data;
  j.y = k->out[0]->data;
  j.ea = qir_scalar_size(k->in[0]->scalar);
  j.eb = qir_scalar_size(k->in[1]->scalar);
  j.ey = qir_scalar_size(k->out[0]->scalar);
  if (j.plan.outer == 1)
    qir_parallel_for(k->pool, j.plan.inner, 1 << 15, binary_range, &j);
  else
    qir_parallel_for(k->pool, j.plan.outer,
                     j.plan.inner > (1 << 15) ? 1 : (1 << 15) / j.plan.inner,
                     binary_range, &j);
}

bool qir_cpu_k_binary(const qir_kargs *k) {
  bool f = k->in[0]->scalar == QIR_F32;
  if ((!f && k->in[0]->scalar != QIR_I64) || k->in[1]->scalar != k->in[0]->scalar)
    return unsupported(k, k->in[0]);
  bool fmod_c = qir_op_get_int(k->op, "fmod", 0) != 0;
  binary_inner fn = NULL;
  switch (k->op->def->id) {
  case QIR_OP_ADD: fn = f ? f_add : i_add; break;
  case QIR_OP_SUB: fn = f ? f_sub : i_sub; break;
  case QIR_OP_MUL: fn = f ? f_mul : i_mul; break;
  case QIR_OP_DIV: fn = f ? f_div : i_divide; break;
  case QIR_OP_POW: fn = f ? f_pow : i_power; break;
  case QIR_OP_MAX: fn = f ? f_max : i_max; break;
  case QIR_OP_MIN: fn = f ? f_min : i_min; break;
  case QIR_OP_MOD: fn = fmod_c ? (f ? f_fmod : i_fmod) : (f ? f_mod : i_mod); break;
  case QIR_OP_PRELU: fn = f ? f_prelu : i_prelu; break;
  default: return qk_fail(k, "is not a binary op");
  }
  run_binary(k, fn);
  return true;
}

bool qir_cpu_k_compare(const qir_kargs *k) {
  qir_scalar s = k->in[0]->scalar;
  if (k->in[1]->scalar != s || (s != QIR_F32 && s != QIR_I64 && s != QIR_I1))
    return unsupported(k, k->in[0]);
  binary_inner fn = NULL;
  bool f = s == QIR_F32, b = s == QIR_I1;
  switch (k->op->def->id) {
  case QIR_OP_EQUAL: fn = f ? f_eq : b ? b_eq : i_eq; break;
  case QIR_OP_LESS: fn = f ? f_lt : i_lt; break;
  case QIR_OP_LESS_EQUAL: fn = f ? f_le : i_le; break;
  case QIR_OP_GREATER: fn = f ? f_gt : i_gt; break;
  case QIR_OP_GREATER_EQUAL: fn = f ? f_ge : i_ge; break;
  default: return qk_fail(k, "is not a comparison");
  }
  if (b && k->op->def->id != QIR_OP_EQUAL)
    return unsupported(k, k->in[0]);
  run_binary(k, fn);
  return true;
}

bool qir_cpu_k_logical(const qir_kargs *k) {
  if (k->in[0]->scalar != QIR_I1 || k->in[1]->scalar != QIR_I1)
    return unsupported(k, k->in[0]);
  switch (k->op->def->id) {
  case QIR_OP_AND: run_binary(k, b_and); break;
  case QIR_OP_OR: run_binary(k, b_or); break;
  case QIR_OP_XOR: run_binary(k, b_xor); break;
  default: return qk_fail(k, "is not a logical op");
  }
  return true;
}

bool qir_cpu_k_not(const qir_kargs *k) {
  const uint8_t *x = k->in[0]->data;
  uint8_t *y = k->out[0]->data;
  for (int64_t i = 0, n = qk_numel(k->out[0]); i < n; i++)
    y[i] = !x[i];
  return true;
}

bool qir_cpu_k_where(const qir_kargs *k) {
  const qir_tensor *ops[3] = {k->in[0], k->in[1], k->in[2]};
  if (k->in[1]->scalar != k->in[2]->scalar ||
      k->in[1]->scalar != k->out[0]->scalar)
    return unsupported(k, k->in[1]);
  bcast p;
  bcast_plan(&p, k->out[0], 3, ops);
  size_t es = qir_scalar_size(k->out[0]->scalar);
  const uint8_t *c = k->in[0]->data, *x = k->in[1]->data, *yv = k->in[2]->data;
  uint8_t *out = k->out[0]->data;
  for (int64_t i = 0; i < p.outer; i++) {
    int64_t off[3];
    bcast_offsets(&p, 3, i, off);
    for (int64_t j = 0; j < p.inner; j++) {
      bool cond = c[off[0] + j * p.ist[0]] != 0;
      const uint8_t *src = cond ? x + (size_t)(off[1] + j * p.ist[1]) * es
                                : yv + (size_t)(off[2] + j * p.ist[2]) * es;
      memcpy(out + (size_t)(i * p.inner + j) * es, src, es);
    }
  }
  return true;
}

/* ---- Unary math and activations ------------------------------------------------ */

typedef qir_unary_job unary_job;

static float sigmoidf(float x) {
  return x >= 0 ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
}
static float softplusf(float x) {
  return x > 20 ? x : log1pf(expf(x));
}
static float signf(float x) { return x > 0 ? 1.0f : x < 0 ? -1.0f : x; }

static float unary_one(const unary_job *j, float x) {
  switch (j->id) {
  case QIR_OP_NEG: return -x;
  case QIR_OP_ABS: return fabsf(x);
  case QIR_OP_SQRT: return sqrtf(x);
  case QIR_OP_RSQRT: return 1.0f / sqrtf(x);
  case QIR_OP_RECIPROCAL: return 1.0f / x;
  case QIR_OP_EXP: return expf(x);
  case QIR_OP_LOG: return logf(x);
  case QIR_OP_ERF: return erff(x);
  case QIR_OP_SIN: return sinf(x);
  case QIR_OP_COS: return cosf(x);
  case QIR_OP_FLOOR: return floorf(x);
  case QIR_OP_CEIL: return ceilf(x);
  case QIR_OP_ROUND: return nearbyintf(x);
  case QIR_OP_SIGN: return signf(x);
  case QIR_OP_SIGMOID: return sigmoidf(x);
  case QIR_OP_TANH: return tanhf(x);
  case QIR_OP_HARD_SIGMOID: return fmaxf(0, fminf(1, j->alpha * x + j->beta));
  case QIR_OP_HARD_SWISH: return x * fmaxf(0, fminf(1, x / 6.0f + 0.5f));
  case QIR_OP_LEAKY_RELU: return x < 0 ? j->alpha * x : x;
  case QIR_OP_ELU: return x < 0 ? j->alpha * (expf(x) - 1) : x;
  case QIR_OP_SELU:
    return j->beta * (x <= 0 ? j->alpha * (expf(x) - 1) : x);
  case QIR_OP_SOFTPLUS: return softplusf(x);
  case QIR_OP_MISH: return x * tanhf(softplusf(x));
  case QIR_OP_GELU:
    if (j->gelu_tanh)
      return 0.5f * x *
             (1 + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    return 0.5f * x * (1 + erff(x * 0.7071067811865476f));
  case QIR_OP_SILU: return x * sigmoidf(x);
  default: return x;
  }
}

static void unary_range(void *arg, int64_t begin, int64_t end) {
  const unary_job *j = arg;
  const float *x = j->x;
  float *y = j->y;
  switch (j->id) { /* the common ones get tight loops */
  case QIR_OP_RELU:
    for (int64_t i = begin; i < end; i++)
      y[i] = x[i] < 0 ? 0.0f : x[i]; /* NaN stays NaN */
    return;
  case QIR_OP_CLIP: {
    float lo = j->lo, hi = j->hi;
    for (int64_t i = begin; i < end; i++) {
      float v = x[i]; /* NaN fails both tests and stays NaN */
      v = v < lo ? lo : v;
      y[i] = v > hi ? hi : v;
    }
    return;
  }
  default:
    for (int64_t i = begin; i < end; i++)
      y[i] = unary_one(j, x[i]);
  }
}

static void unary_job_init(unary_job *j, const qir_op *op, unsigned id) {
  memset(j, 0, sizeof *j);
  j->id = id;
  switch (id) {
  case QIR_OP_HARD_SIGMOID:
    j->alpha = (float)qir_op_get_float(op, "alpha", 0.2);
    j->beta = (float)qir_op_get_float(op, "beta", 0.5);
    break;
  case QIR_OP_LEAKY_RELU:
    j->alpha = (float)qir_op_get_float(op, "alpha", 0.01);
    break;
  case QIR_OP_ELU:
    j->alpha = (float)qir_op_get_float(op, "alpha", 1.0);
    break;
  case QIR_OP_SELU:
    j->alpha = (float)qir_op_get_float(op, "alpha", 1.67326319217681884765625);
    j->beta = (float)qir_op_get_float(op, "gamma", 1.05070102214813232421875);
    break;
  case QIR_OP_CLIP:
    j->lo = (float)qir_op_get_float(op, "min", -INFINITY);
    j->hi = (float)qir_op_get_float(op, "max", INFINITY);
    break;
  case QIR_OP_GELU: {
    const char *a = qir_op_get_string(op, "approximate");
    j->gelu_tanh = a && !strcmp(a, "tanh");
    break;
  }
  default: break;
  }
}

static bool unary_int(const qir_kargs *k, unsigned id) {
  const int64_t *x = k->in[0]->data;
  int64_t *y = k->out[0]->data;
  int64_t n = qk_numel(k->out[0]);
  double lo = qir_op_get_float(k->op, "min", -INFINITY);
  double hi = qir_op_get_float(k->op, "max", INFINITY);
  for (int64_t i = 0; i < n; i++) {
    int64_t v = x[i];
    switch (id) {
    case QIR_OP_NEG: y[i] = (int64_t)(0 - (uint64_t)v); break;
    case QIR_OP_ABS: y[i] = v < 0 ? (int64_t)(0 - (uint64_t)v) : v; break;
    case QIR_OP_SIGN: y[i] = v > 0 ? 1 : v < 0 ? -1 : 0; break;
    case QIR_OP_RELU: y[i] = v > 0 ? v : 0; break;
    case QIR_OP_CLIP:
      y[i] = (double)v < lo ? (int64_t)ceil(lo) : (double)v > hi ? (int64_t)floor(hi) : v;
      break;
    default: return unsupported(k, k->in[0]);
    }
  }
  return true;
}

static bool run_unary(const qir_kargs *k) {
  unsigned id = k->op->def->id;
  if (k->in[0]->scalar == QIR_I64 && k->out[0]->scalar == QIR_I64)
    return unary_int(k, id);
  if (k->in[0]->scalar != QIR_F32 || k->out[0]->scalar != QIR_F32)
    return unsupported(k, k->in[0]);
  unary_job j;
  unary_job_init(&j, k->op, id);
  j.x = k->in[0]->data;
  j.y = k->out[0]->data;
  qir_parallel_for(k->pool, qk_numel(k->out[0]), 1 << 14, unary_range, &j);
  return true;
}

void qir_cpu_unary_init(qir_unary_job *j, const qir_op *op) {
  unary_job_init(j, op, op->def->id);
}

void qir_cpu_unary_apply(const qir_unary_job *j, const float *x, float *y,
                         int64_t n) {
  unary_job t = *j;
  t.x = x;
  t.y = y;
  unary_range(&t, 0, n);
}

qir_binary_inner qir_cpu_binary_f32(const qir_op *op) {
  switch (op->def->id) {
  case QIR_OP_ADD: return f_add;
  case QIR_OP_SUB: return f_sub;
  case QIR_OP_MUL: return f_mul;
  case QIR_OP_DIV: return f_div;
  case QIR_OP_POW: return f_pow;
  case QIR_OP_MAX: return f_max;
  case QIR_OP_MIN: return f_min;
  case QIR_OP_PRELU: return f_prelu;
  default: return NULL;
  }
}

bool qir_cpu_k_unary(const qir_kargs *k) { return run_unary(k); }
bool qir_cpu_k_activation(const qir_kargs *k) { return run_unary(k); }

bool qir_cpu_k_identity(const qir_kargs *k) {
  memcpy(k->out[0]->data, k->in[0]->data, k->out[0]->nbytes);
  return true;
}

bool qir_cpu_k_constant(const qir_kargs *k) { return true; }

bool qir_cpu_k_cast(const qir_kargs *k) {
  const qir_tensor *x = k->in[0];
  qir_convert(x->scalar, x->data, k->out[0]->scalar, k->out[0]->data,
              qk_numel(x));
  return true;
}

/* ---- Fused activations of conv2d / matmul / gemm ------------------------------- */

typedef struct post_job {
  float *y, mul, add;
} post_job;

static void post_range(void *arg, int64_t begin, int64_t end) {
  const post_job *j = arg;
  for (int64_t i = begin; i < end; i++)
    j->y[i] = qir_post_affine_f32(j->y[i], j->mul, j->add);
}

static bool apply_activation(const qir_kargs *k, float *y, int64_t n) {
  const char *act = qir_op_get_string(k->op, "activation");
  if (!act || !*act || !strcmp(act, "none"))
    return true;
  unary_job j;
  memset(&j, 0, sizeof j);
  j.x = y;
  j.y = y;
  if (!strcmp(act, "relu")) {
    j.id = QIR_OP_RELU;
  } else if (!strcmp(act, "relu6") || !strcmp(act, "clip")) {
    j.id = QIR_OP_CLIP;
    j.lo = (float)qir_op_get_float(k->op, "act_min", act[4] == '6' ? 0.0 : -INFINITY);
    j.hi = (float)qir_op_get_float(k->op, "act_max", act[4] == '6' ? 6.0 : INFINITY);
  } else if (!strcmp(act, "sigmoid")) {
    j.id = QIR_OP_SIGMOID;
  } else if (!strcmp(act, "hard_sigmoid")) {
    j.id = QIR_OP_HARD_SIGMOID;
    j.alpha = (float)qir_op_get_float(k->op, "act_alpha", 0.2);
    j.beta = (float)qir_op_get_float(k->op, "act_beta", 0.5);
  } else if (!strcmp(act, "hard_swish")) {
    j.id = QIR_OP_HARD_SWISH;
  } else if (!strcmp(act, "leaky_relu")) {
    j.id = QIR_OP_LEAKY_RELU;
    j.alpha = (float)qir_op_get_float(k->op, "act_alpha", 0.01);
  } else {
    return qk_fail(k, "has an unknown fused activation '%s'", act);
  }
  qir_parallel_for(k->pool, n, 1 << 14, unary_range, &j);
  return true;
}

void qk_apply_post_affine(const qir_kargs *k, float *y, int64_t n) {
  post_job p = {y, 1.0f, -0.0f};
  if (qir_op_post_affine(k->op, &p.mul, &p.add))
    qir_parallel_for(k->pool, n, 1 << 14, post_range, &p);
}

bool qk_apply_fused_activation(const qir_kargs *k, float *y, int64_t n) {
  if (!apply_activation(k, y, n))
    return false;
  qk_apply_post_affine(k, y, n);
  return true;
}
