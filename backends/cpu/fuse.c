/* backends/cpu/fuse.c - fused elementwise regions.
 *
 * Imported models spell many computations as chains of elementwise ops
 * over large activations (x * clip(x + 3, 0, 6) / 6, batch norms as mul
 * and add).  Run op by op, each one streams whole tensors through memory.
 * A region runs such a chain tile by tile instead: every op of the chain
 * computes one tile (TILE elements) before the next tile starts, so the
 * intermediates live in a small per-thread scratch in cache, and only the
 * values used outside the region are written out.  The results are the
 * same as op by op: each op still computes every element with the same
 * kernel. */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"

#define TILE 1024

bool qir_cpu_ew_fusable(const qir_op *op) {
  switch (op->def->id) {
  case QIR_OP_ADD: case QIR_OP_SUB: case QIR_OP_MUL: case QIR_OP_DIV:
  case QIR_OP_POW: case QIR_OP_MAX: case QIR_OP_MIN: case QIR_OP_PRELU:
  case QIR_OP_NEG: case QIR_OP_ABS: case QIR_OP_SQRT: case QIR_OP_RSQRT:
  case QIR_OP_RECIPROCAL: case QIR_OP_EXP: case QIR_OP_LOG: case QIR_OP_ERF:
  case QIR_OP_SIN: case QIR_OP_COS: case QIR_OP_FLOOR: case QIR_OP_CEIL:
  case QIR_OP_ROUND: case QIR_OP_SIGN: case QIR_OP_RELU: case QIR_OP_CLIP:
  case QIR_OP_SIGMOID: case QIR_OP_TANH: case QIR_OP_HARD_SIGMOID:
  case QIR_OP_HARD_SWISH: case QIR_OP_LEAKY_RELU: case QIR_OP_ELU:
  case QIR_OP_SELU: case QIR_OP_SOFTPLUS: case QIR_OP_MISH: case QIR_OP_GELU:
  case QIR_OP_SILU:
    break;
  default:
    return false;
  }
  if (op->num_results != 1 || op->num_operands < 1 || op->num_operands > 2)
    return false;
  const qir_type *t = op->results[0].type;
  if (!qir_type_is_tensor(t) || t->elem->kind != QIR_TYPE_SCALAR ||
      t->scalar != QIR_F32)
    return false;
  for (unsigned i = 0; i < op->num_operands; i++) {
    const qir_type *o = op->operands[i].value->type;
    if (!qir_type_is_tensor(o) || o->elem->kind != QIR_TYPE_SCALAR ||
        o->scalar != QIR_F32)
      return false;
  }
  return true;
}

int64_t qir_cpu_ew_offset(const qir_ew_region *r, const qir_tensor *t,
                          int64_t i) {
  int64_t off = 0, st = 1;
  for (int d = (int)r->rank - 1; d >= 0; d--) {
    int64_t idx = i % r->dims[d];
    i /= r->dims[d];
    int td = d - (int)(r->rank - t->rank);
    if (td >= 0) {
      if (t->dims[td] != 1)
        off += idx * st;
      st *= t->dims[td];
    }
  }
  return off;
}

int64_t qir_cpu_ew_run_length(const qir_ew_region *r, const qir_tensor *t) {
  int64_t run = 1;
  for (int d = (int)r->rank - 1; d >= 0; d--) {
    int td = d - (int)(r->rank - t->rank);
    if (td >= 0 && t->dims[td] != 1)
      break;
    run *= r->dims[d];
  }
  return run;
}

typedef struct region_job {
  const qir_ew_region *r;
  int64_t tiles_per_run;
} region_job;

/* Pointer and stride of an operand for the tile at i0 of n elements. */
static const float *operand_ptr(const qir_ew_region *r, const qir_ew_operand *o,
                                float *scratch, int64_t i0, int64_t n,
                                int64_t *stride) {
  *stride = 1;
  switch (o->kind) {
  case QIR_EW_SCRATCH:
    return scratch + (size_t)o->slot * TILE;
  case QIR_EW_FULL:
    return o->data + i0;
  case QIR_EW_RUNCONST:
    *stride = 0;
    return o->data + qir_cpu_ew_offset(r, o->t, i0);
  default: {
    float *dst = scratch + (size_t)o->slot * TILE;
    for (int64_t k = 0; k < n; k++)
      dst[k] = o->data[qir_cpu_ew_offset(r, o->t, i0 + k)];
    return dst;
  }
  }
}

static void run_tile(const qir_ew_region *r, float *scratch, int64_t i0,
                     int64_t n) {
  for (unsigned s = 0; s < r->nsteps; s++) {
    const qir_ew_step *st = &r->steps[s];
    float *y = st->out.kind == QIR_EW_SCRATCH
                   ? scratch + (size_t)st->out.slot * TILE
                   : st->out.data + i0;
    int64_t sa, sb;
    const float *a = operand_ptr(r, &st->in[0], scratch, i0, n, &sa);
    if (st->binary) {
      const float *b = operand_ptr(r, &st->in[1], scratch, i0, n, &sb);
      st->binary(a, sa, b, sb, y, n);
    } else if (sa) {
      qir_cpu_unary_apply(&st->unary, a, y, n);
    } else { /* a unary op of a constant run */
      qir_cpu_unary_apply(&st->unary, a, y, 1);
      for (int64_t k = 1; k < n; k++)
        y[k] = y[0];
    }
  }
}

static void region_range(void *arg, int64_t begin, int64_t end) {
  const region_job *j = arg;
  const qir_ew_region *r = j->r;
  float *scratch = qir_xmalloc((size_t)(r->nscratch + 1) * TILE * sizeof(float));
  for (int64_t t = begin; t < end; t++) {
    int64_t run = t / j->tiles_per_run, k = t % j->tiles_per_run;
    int64_t i0 = run * r->run + k * TILE;
    int64_t n = r->run - k * TILE;
    if (n > TILE)
      n = TILE;
    if (i0 + n > r->total)
      n = r->total - i0;
    if (n > 0)
      run_tile(r, scratch, i0, n);
  }
  free(scratch);
}

void qir_cpu_ew_run(qir_pool *pool, const qir_ew_region *r) {
  region_job j = {r, (r->run + TILE - 1) / TILE};
  int64_t runs = (r->total + r->run - 1) / r->run;
  qir_parallel_for(pool, runs * j.tiles_per_run, 16, region_range, &j);
}
