/* backends/cpu/interp.c - the reference interpreter: plans the activation
 * memory of a function and runs its ops with the CPU kernels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "backends/cpu/cpu.h"

#define QIR_ALIGN 64

/* Where a value's data lives. */
typedef enum slot_kind {
  SLOT_ARENA,    /* an op result, planned in the activation arena */
  SLOT_INPUT,    /* a function argument (own buffer) */
  SLOT_CONSTANT, /* a constant (own aligned copy of the dense data) */
  SLOT_DYNAMIC,  /* a result whose shape depends on values (own buffer,
                    sized at run time: constant_of_shape, range) */
} slot_kind;

typedef struct slot {
  const qir_value *value;
  slot_kind kind;
  qir_tensor t;     /* data points into the arena or the own buffer */
  size_t offset;    /* SLOT_ARENA */
  size_t size;      /* bytes reserved (aligned) */
  int first, last;  /* op indices of the definition and the last use */
  bool input_set;
} slot;

/* An open-addressing map from value pointers to slot numbers. */
typedef struct value_map {
  const qir_value **keys;
  unsigned *vals;
  size_t cap;
} value_map;

/* One step of execution: an op, or a fused region of consecutive ops. */
typedef struct exec_step {
  unsigned first, count;
  unsigned conv; /* the conv2d of a conv step (first, or after the pad) */
  /* pad + conv2d: the zero padding of the spatial dims (top, left,
   * bottom, right) added to the conv's own (its window reads zeros there
   * either way), so the padded tensor is never written. */
  bool pre_pad;
  int64_t pads[4];
  qir_ew_region *region;
  bool is_region;
  bool conv_clamp; /* conv2d + relu/clip: the clamp runs in the conv */
  float lo, hi;
  /* conv2d + batch_norm [+ relu/clip]: the norm folded into copies of the
   * conv's constant weights and bias (as ONNX Runtime does). */
  bool conv_bn;
  qir_tensor fw, fb;
  /* conv2d with constant weights: prepared once (k_conv.c). */
  qir_conv_plan *plan;
  /* call: an interpreter of the callee (sharing the caller's pool). */
  qir_interp *callee;
} exec_step;

struct qir_interp {
  qir_func *func;
  qir_context *ctx;
  unsigned num_ops; /* without the return */
  const qir_op **ops;
  slot *slots;
  unsigned num_slots;
  value_map map;
  unsigned num_inputs, num_outputs;
  unsigned *input_slots;
  unsigned *output_slots;
  const char **output_names;
  uint8_t *arena;
  size_t arena_size, naive_size, constant_bytes;
  qir_pool *pool;
  bool owns_pool;  /* false in the interpreter of a callee */
  unsigned depth;  /* of calls, 0 for the outermost function */
  unsigned threads;
  qir_interp_observer observer;
  void *observer_user;
  bool profile;
  double *prof_ms;      /* per step */
  unsigned prof_runs;
  exec_step *steps;
  unsigned num_steps;
};

/* ---- Value map ---------------------------------------------------------------- */

static size_t hash_ptr(const void *p, size_t cap) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return (size_t)x & (cap - 1);
}

static void map_init(value_map *m, size_t n) {
  m->cap = 16;
  while (m->cap < 2 * n + 1)
    m->cap *= 2;
  m->keys = qir_xcalloc(m->cap, sizeof *m->keys);
  m->vals = qir_xcalloc(m->cap, sizeof *m->vals);
}

static void map_put(value_map *m, const qir_value *v, unsigned slot) {
  size_t i = hash_ptr(v, m->cap);
  while (m->keys[i] && m->keys[i] != v)
    i = (i + 1) & (m->cap - 1);
  m->keys[i] = v;
  m->vals[i] = slot;
}

static int map_get(const value_map *m, const qir_value *v) {
  size_t i = hash_ptr(v, m->cap);
  while (m->keys[i]) {
    if (m->keys[i] == v)
      return (int)m->vals[i];
    i = (i + 1) & (m->cap - 1);
  }
  return -1;
}

/* ---- Options, support ------------------------------------------------------ */

void qir_interp_options_init(qir_interp_options *o) {
  memset(o, 0, sizeof *o);
}

bool qir_interp_supports_op(unsigned id) {
  return id == QIR_OP_CALL || (id < QIR_NUM_OPS && qir_cpu_kernel(id) &&
                               qir_cpu_kernel(id)->fn != NULL);
}

/* ---- Creation: slots, liveness, memory plan -------------------------------- */

static size_t align_up(size_t n) { return (n + QIR_ALIGN - 1) / QIR_ALIGN * QIR_ALIGN; }

static bool check_static(qir_interp *it, const qir_op *op, const qir_type *t) {
  if (qir_type_is_tensor(t) && qir_tensor_is_static(t))
    return true;
  qir_op_emit_error(op, "the interpreter needs static shapes (run shape "
                        "inference with fixed input shapes first)");
  return false;
}

/* A result whose shape comes from operand values at run time. */
static bool is_value_shaped(const qir_op *op, const qir_type *t) {
  return (qir_op_is(op, QIR_OP_CONSTANT_OF_SHAPE) ||
          qir_op_is(op, QIR_OP_RANGE)) &&
         qir_type_is_tensor(t) && !qir_tensor_is_static(t);
}

/* Sizes a SLOT_DYNAMIC result from its op's operand values. */
static bool size_dynamic(const qir_op *op, const qir_tensor *const *in,
                         qir_tensor *out) {
  if (qir_op_is(op, QIR_OP_CONSTANT_OF_SHAPE)) {
    const qir_tensor *sh = in[0];
    if (qir_tensor_numel(sh) != (int64_t)out->rank) {
      qir_op_emit_error(op, "shape operand has %lld elements for a result of "
                            "rank %u", (long long)qir_tensor_numel(sh), out->rank);
      return false;
    }
    for (unsigned d = 0; d < out->rank; d++) {
      out->dims[d] = qir_load_int(sh->scalar, sh->data, d);
      if (out->dims[d] < 0) {
        qir_op_emit_error(op, "negative dimension %lld", (long long)out->dims[d]);
        return false;
      }
    }
  } else {
    double start = qir_load_f64(in[0]->scalar, in[0]->data, 0);
    double limit = qir_load_f64(in[1]->scalar, in[1]->data, 0);
    double delta = qir_load_f64(in[2]->scalar, in[2]->data, 0);
    double n = delta != 0 ? ceil((limit - start) / delta) : -1;
    if (delta == 0 || !(n < 1e9)) {
      qir_op_emit_error(op, "range of a zero delta or too many elements");
      return false;
    }
    out->dims[0] = n > 0 ? (int64_t)n : 0;
  }
  qir_tensor_free_data(out);
  if (!qir_tensor_alloc(out)) {
    qir_op_emit_error(op, "result too large");
    return false;
  }
  return true;
}

static bool add_constant(qir_interp *it, slot *s, const qir_op *op) {
  const qir_attr *a = qir_op_get_attr(op, "value");
  if (!a || a->kind != QIR_ATTR_DENSE) {
    qir_op_emit_error(op, "has no dense `value` attribute");
    return false;
  }
  qir_tensor_init_from_type(&s->t, op->results[0].type);
  if (!qir_tensor_alloc(&s->t))
    return false;
  size_t esize = qir_scalar_size(s->t.scalar);
  if (a->u.dense.splat) {
    for (size_t off = 0; off < s->t.nbytes; off += esize)
      memcpy((uint8_t *)s->t.data + off, a->u.dense.data, esize);
  } else if (a->u.dense.nbytes == s->t.nbytes) {
    memcpy(s->t.data, a->u.dense.data, s->t.nbytes);
  } else {
    qir_op_emit_error(op, "constant data does not match its type");
    return false;
  }
  s->kind = SLOT_CONSTANT;
  it->constant_bytes += s->t.nbytes;
  return true;
}

static bool create_slots(qir_interp *it) {
  qir_block *body = &it->func->body;
  unsigned n = body->num_args;
  qir_foreach_op(op, body) n += op->num_results;
  it->slots = qir_xcalloc(n ? n : 1, sizeof *it->slots);
  map_init(&it->map, n);
  it->ops = qir_xcalloc(body->num_ops + 1, sizeof *it->ops);
  it->num_inputs = body->num_args;
  it->input_slots = qir_xcalloc(n + 1, sizeof *it->input_slots);
  for (unsigned i = 0; i < body->num_args; i++) {
    slot *s = &it->slots[it->num_slots];
    s->value = body->args[i];
    s->kind = SLOT_INPUT;
    s->first = -1;
    s->last = -1;
    if (!qir_type_is_tensor(s->value->type) ||
        !qir_tensor_is_static(s->value->type)) {
      qir_emit_error(it->ctx, it->func->loc,
                     "the interpreter needs static shapes: input %u of @%s "
                     "has a dynamic shape",
                     i, it->func->name);
      return false;
    }
    qir_tensor_init_from_type(&s->t, s->value->type);
    if (!qir_tensor_alloc(&s->t))
      return false;
    it->input_slots[i] = it->num_slots;
    map_put(&it->map, s->value, it->num_slots++);
  }
  int index = 0;
  qir_foreach_op(op, body) {
    if (qir_op_is(op, QIR_OP_RETURN))
      break;
    if (!qir_interp_supports_op(op->def->id)) {
      qir_op_emit_error(op, "has no interpreter kernel");
      return false;
    }
    it->ops[it->num_ops++] = op;
    for (unsigned r = 0; r < op->num_results; r++) {
      slot *s = &it->slots[it->num_slots];
      s->value = &op->results[r];
      s->first = s->last = index;
      if (is_value_shaped(op, s->value->type)) {
        qir_tensor_init_from_type(&s->t, s->value->type);
        s->kind = SLOT_DYNAMIC;
        map_put(&it->map, s->value, it->num_slots++);
        continue;
      }
      if (!check_static(it, op, s->value->type))
        return false;
      if (qir_op_is(op, QIR_OP_CONSTANT)) {
        if (!add_constant(it, s, op))
          return false;
      } else {
        qir_tensor_init_from_type(&s->t, s->value->type);
        int64_t nb = qir_tensor_num_bytes(s->value->type);
        if (nb < 0) {
          qir_op_emit_error(op, "result too large");
          return false;
        }
        s->t.nbytes = (size_t)nb;
        s->size = align_up(s->t.nbytes ? s->t.nbytes : 1);
        s->kind = SLOT_ARENA;
      }
      map_put(&it->map, s->value, it->num_slots++);
    }
    index++;
  }
  return true;
}

static bool compute_liveness(qir_interp *it) {
  for (unsigned i = 0; i < it->num_ops; i++) {
    const qir_op *op = it->ops[i];
    for (unsigned j = 0; j < op->num_operands; j++) {
      int s = map_get(&it->map, op->operands[j].value);
      if (s < 0) {
        qir_op_emit_error(op, "uses a value from outside the function");
        return false;
      }
      if (it->slots[s].last < (int)i)
        it->slots[s].last = (int)i;
    }
  }
  qir_op *ret = qir_block_terminator(&it->func->body);
  if (!ret || !qir_op_is(ret, QIR_OP_RETURN)) {
    qir_emit_error(it->ctx, it->func->loc, "@%s has no return",
                   it->func->name);
    return false;
  }
  it->num_outputs = ret->num_operands;
  it->output_slots = qir_xcalloc(ret->num_operands + 1, sizeof(unsigned));
  it->output_names = qir_xcalloc(ret->num_operands + 1, sizeof(char *));
  for (unsigned j = 0; j < ret->num_operands; j++) {
    const qir_value *v = ret->operands[j].value;
    int s = map_get(&it->map, v);
    if (s < 0)
      return false;
    it->slots[s].last = (int)it->num_ops; /* live to the end */
    it->output_slots[j] = (unsigned)s;
    if (v->name) {
      it->output_names[j] = v->name;
    } else {
      char buf[32];
      snprintf(buf, sizeof buf, "output%u", j);
      it->output_names[j] = qir_intern_cstr(it->ctx, buf);
    }
  }
  return true;
}

static int cmp_size_desc(const void *a, const void *b, void *slots) {
  const slot *sa = &((slot *)slots)[*(const unsigned *)a];
  const slot *sb = &((slot *)slots)[*(const unsigned *)b];
  if (sa->size != sb->size)
    return sa->size > sb->size ? -1 : 1;
  return sa->first - sb->first;
}

static int cmp_offset(const void *a, const void *b, void *slots) {
  const slot *sa = &((slot *)slots)[*(const unsigned *)a];
  const slot *sb = &((slot *)slots)[*(const unsigned *)b];
  return sa->offset < sb->offset ? -1 : sa->offset > sb->offset;
}

/* The placed buffers, by start of live range, in a segment tree of the
 * latest end of a placed range below each node: the placed buffers whose
 * ranges meet a given one are found without looking at the others, so a
 * long chain plans in O(n log n) instead of O(n^2). */
typedef struct placed_index {
  const slot *slots;
  unsigned *by_first; /* arena slot indices sorted by `first` */
  unsigned *pos;      /* slot index -> position in by_first */
  int *max_last;      /* tree over positions; -1: nothing placed */
  unsigned size;      /* leaves (a power of two) */
} placed_index;

static int cmp_first(const void *a, const void *b, void *slots) {
  const slot *sa = &((slot *)slots)[*(const unsigned *)a];
  const slot *sb = &((slot *)slots)[*(const unsigned *)b];
  return (sa->first > sb->first) - (sa->first < sb->first);
}

static void placed_init(placed_index *x, const slot *slots, unsigned nslots,
                        const unsigned *order, unsigned n) {
  x->slots = slots;
  x->by_first = qir_xcalloc(n + 1, sizeof *x->by_first);
  memcpy(x->by_first, order, n * sizeof *order);
  qsort_r(x->by_first, n, sizeof *x->by_first, cmp_first, (void *)slots);
  x->pos = qir_xcalloc(nslots + 1, sizeof *x->pos);
  for (unsigned i = 0; i < n; i++)
    x->pos[x->by_first[i]] = i;
  for (x->size = 1; x->size < n; x->size *= 2)
    ;
  x->max_last = qir_xmalloc(2 * x->size * sizeof *x->max_last);
  for (unsigned i = 0; i < 2 * x->size; i++)
    x->max_last[i] = -1;
}

static void placed_add(placed_index *x, unsigned slot_idx) {
  unsigned k = x->size + x->pos[slot_idx];
  x->max_last[k] = x->slots[slot_idx].last;
  for (k /= 2; k; k /= 2)
    x->max_last[k] = x->max_last[2 * k] > x->max_last[2 * k + 1]
                         ? x->max_last[2 * k] : x->max_last[2 * k + 1];
}

/* Appends to out the placed buffers among positions [0, hi) of node k
 * (covering [lo_k, lo_k + width)) whose range ends at or after `first`. */
static void placed_query(const placed_index *x, unsigned k, unsigned lo_k,
                         unsigned width, unsigned hi, int first,
                         unsigned *out, unsigned *nout) {
  if (lo_k >= hi || x->max_last[k] < first)
    return;
  if (width == 1) {
    out[(*nout)++] = x->by_first[lo_k];
    return;
  }
  placed_query(x, 2 * k, lo_k, width / 2, hi, first, out, nout);
  placed_query(x, 2 * k + 1, lo_k + width / 2, width / 2, hi, first, out,
               nout);
}

static void placed_free(placed_index *x) {
  free(x->by_first);
  free(x->pos);
  free(x->max_last);
}

/* Greedy by size (largest first): each buffer gets the lowest offset that
 * does not overlap a placed buffer whose live range meets its own. */
static void plan_memory(qir_interp *it) {
  unsigned n = 0;
  unsigned *order = qir_xcalloc(it->num_slots + 1, sizeof *order);
  unsigned *live = qir_xcalloc(it->num_slots + 1, sizeof *live);
  for (unsigned i = 0; i < it->num_slots; i++)
    if (it->slots[i].kind == SLOT_ARENA) {
      order[n++] = i;
      it->naive_size += it->slots[i].size;
    }
  qsort_r(order, n, sizeof *order, cmp_size_desc, it->slots);
  placed_index px;
  placed_init(&px, it->slots, it->num_slots, order, n);
  size_t total = 0;
  for (unsigned i = 0; i < n; i++) {
    slot *s = &it->slots[order[i]];
    /* Placed buffers starting at or before s's end: positions [0, hi). */
    unsigned lo = 0, hi = n;
    while (lo < hi) {
      unsigned mid = lo + (hi - lo) / 2;
      if (it->slots[px.by_first[mid]].first <= s->last)
        lo = mid + 1;
      else
        hi = mid;
    }
    unsigned nl = 0;
    placed_query(&px, 1, 0, px.size, lo, s->first, live, &nl);
    qsort_r(live, nl, sizeof *live, cmp_offset, it->slots);
    size_t off = 0;
    for (unsigned j = 0; j < nl; j++) {
      slot *o = &it->slots[live[j]];
      if (off + s->size <= o->offset)
        break;
      if (o->offset + o->size > off)
        off = o->offset + o->size;
    }
    s->offset = off;
    if (off + s->size > total)
      total = off + s->size;
    placed_add(&px, order[i]);
  }
  placed_free(&px);
  it->arena_size = total;
  it->arena = aligned_alloc(QIR_ALIGN, total ? total : QIR_ALIGN);
  if (!it->arena)
    qir_die("out of memory (activation arena of %zu bytes)", total);
  for (unsigned i = 0; i < n; i++)
    it->slots[order[i]].t.data = it->arena + it->slots[order[i]].offset;
  free(order);
  free(live);
}

/* ---- Fused elementwise regions (fuse.c) -------------------------------- */

static bool same_dims(const qir_tensor *t, unsigned rank, const int64_t *dims) {
  if (t->rank != rank)
    return false;
  for (unsigned d = 0; d < rank; d++)
    if (t->dims[d] != dims[d])
      return false;
  return true;
}

static bool broadcasts_to(const qir_tensor *t, unsigned rank,
                          const int64_t *dims) {
  if (t->rank > rank)
    return false;
  for (unsigned d = 0; d < t->rank; d++) {
    int64_t want = dims[rank - t->rank + d];
    if (t->dims[d] != 1 && t->dims[d] != want)
      return false;
  }
  return true;
}

static slot *slot_of(qir_interp *it, const qir_value *v) {
  return &it->slots[map_get(&it->map, v)];
}

/* Can op `k` join the region of ops [first, k) with shape dims? */
static bool joins_region(qir_interp *it, unsigned first, unsigned k,
                         unsigned rank, const int64_t *dims) {
  const qir_op *op = it->ops[k];
  if (qir_op_is(op, QIR_OP_CONSTANT))
    return true; /* nothing to run; its value is ready */
  if (!qir_cpu_ew_fusable(op))
    return false;
  if (!same_dims(&slot_of(it, &op->results[0])->t, rank, dims))
    return false;
  for (unsigned i = 0; i < op->num_operands; i++) {
    slot *s = slot_of(it, op->operands[i].value);
    bool inside = s->kind == SLOT_ARENA && s->first >= (int)first &&
                  s->first < (int)k;
    if (!inside && !broadcasts_to(&s->t, rank, dims))
      return false;
  }
  return true;
}

static bool used_only_inside(qir_interp *it, const qir_value *v,
                             unsigned first, unsigned end) {
  for (const qir_use *u = v->uses; u; u = u->next) {
    bool found = false;
    for (unsigned k = first; k < end && !found; k++)
      found = it->ops[k] == u->owner;
    if (!found)
      return false;
  }
  return true;
}

/* An operand from outside the region: the whole tensor, a broadcast value
 * constant over runs of the region's elements, or a gathered broadcast. */
static qir_ew_operand region_input(qir_interp *it, qir_ew_region *r,
                                   const qir_value *v) {
  slot *s = slot_of(it, v);
  qir_ew_operand o = {QIR_EW_FULL, -1, s->t.data, &s->t};
  if (qir_tensor_numel(&s->t) == r->total)
    return o;
  int64_t len = qir_cpu_ew_run_length(r, &s->t);
  if (len >= 64) {
    o.kind = QIR_EW_RUNCONST;
    if (len < r->run)
      r->run = len;
  } else {
    o.kind = QIR_EW_GATHER;
    o.slot = (int)r->nscratch++;
  }
  return o;
}

static qir_ew_region *build_region(qir_interp *it, unsigned first,
                                   unsigned end) {
  qir_ew_region *r = qir_xcalloc(1, sizeof *r);
  const qir_tensor *shape = &slot_of(it, &it->ops[first]->results[0])->t;
  r->rank = shape->rank;
  memcpy(r->dims, shape->dims, sizeof r->dims);
  r->total = qir_tensor_numel(shape);
  r->run = r->total ? r->total : 1;
  r->steps = qir_xcalloc(end - first, sizeof *r->steps);
  int *step_of = qir_xcalloc(end - first, sizeof(int));
  for (unsigned k = first; k < end; k++) {
    const qir_op *op = it->ops[k];
    if (qir_op_is(op, QIR_OP_CONSTANT))
      continue;
    step_of[k - first] = (int)r->nsteps;
    qir_ew_step *st = &r->steps[r->nsteps++];
    st->op = op;
    st->binary = qir_cpu_binary_f32(op);
    if (!st->binary)
      qir_cpu_unary_init(&st->unary, op);
    slot *out = slot_of(it, &op->results[0]);
    st->out.kind = QIR_EW_FULL;
    st->out.data = out->t.data;
    if (used_only_inside(it, &op->results[0], first, end)) {
      st->out.kind = QIR_EW_SCRATCH;
      st->out.slot = (int)r->nscratch++;
    }
    for (unsigned i = 0; i < op->num_operands; i++) {
      const qir_value *v = op->operands[i].value;
      /* Live ranges were widened to the region: find the definition by op. */
      int def = -1;
      for (unsigned d = first; d < k && def < 0; d++)
        if (it->ops[d] == qir_value_def(v) &&
            !qir_op_is(it->ops[d], QIR_OP_CONSTANT))
          def = (int)d;
      if (def >= 0) {
        st->in[i] = r->steps[step_of[def - (int)first]].out;
      } else {
        st->in[i] = region_input(it, r, v);
      }
    }
  }
  free(step_of);
  return r;
}

static bool is_f32_tensor(const qir_type *t) {
  return qir_type_is_tensor(t) && t->elem->kind == QIR_TYPE_SCALAR &&
         t->scalar == QIR_F32;
}

static unsigned next_runnable(const qir_interp *it, unsigned i);

/* A conv2d with something after its accumulation: a fused activation, a
 * sum or a post-activation affine (the groups below add their own). */
static bool conv_has_epilogue(const qir_op *conv) {
  const char *a = qir_op_get_string(conv, "activation");
  float pm, pa;
  return (a && *a && strcmp(a, "none")) || qir_op_get_bool(conv, "sum_in", false) ||
         qir_op_post_affine(conv, &pm, &pa);
}

/* conv2d (f32, no fused activation or sum) whose only use is the next
 * op, a relu or clip: the clamp becomes the conv's epilogue. */
static bool conv_clamp_pair(qir_interp *it, unsigned i, exec_step *st) {
  const qir_op *conv = it->ops[i];
  unsigned ia = next_runnable(it, i);
  if (!qir_op_is(conv, QIR_OP_CONV2D) || ia >= it->num_ops)
    return false;
  const qir_op *act = it->ops[ia];
  if (conv_has_epilogue(conv))
    return false;
  if (!qir_op_is(act, QIR_OP_RELU) && !qir_op_is(act, QIR_OP_CLIP))
    return false;
  const qir_value *v = &conv->results[0];
  if (act->operands[0].value != v || !qir_value_has_one_use(v) ||
      !is_f32_tensor(v->type) || !is_f32_tensor(act->results[0].type))
    return false;
  for (unsigned k = 0; k < conv->num_operands; k++)
    if (!is_f32_tensor(conv->operands[k].value->type))
      return false;
  st->conv_clamp = true;
  st->lo = qir_op_is(act, QIR_OP_RELU)
               ? 0.0f
               : (float)qir_op_get_float(act, "min", -INFINITY);
  st->hi = qir_op_is(act, QIR_OP_RELU)
               ? INFINITY
               : (float)qir_op_get_float(act, "max", INFINITY);
  return true;
}

/* Kernels of a fused step write results while the step's operands are
 * still being read, so their buffers must not share memory: every result
 * of the step lives from the step's first op, every operand to its last. */
static void extend_live_ranges(qir_interp *it, const exec_step *st) {
  unsigned end = st->first + st->count;
  for (unsigned k = st->first; k < end; k++) {
    const qir_op *op = it->ops[k];
    for (unsigned r = 0; r < op->num_results; r++) {
      slot *s = slot_of(it, &op->results[r]);
      if (s->kind == SLOT_ARENA)
        s->first = (int)st->first;
    }
    for (unsigned i = 0; i < op->num_operands; i++) {
      slot *s = slot_of(it, op->operands[i].value);
      if (s->last < (int)end - 1)
        s->last = (int)end - 1;
    }
  }
}

/* The next op after i that is not a constant (num_ops when none). */
static unsigned next_runnable(const qir_interp *it, unsigned i) {
  unsigned k = i + 1;
  while (k < it->num_ops && qir_op_is(it->ops[k], QIR_OP_CONSTANT))
    k++;
  return k;
}

static const qir_tensor *constant_operand(qir_interp *it, const qir_op *op,
                                          unsigned i) {
  slot *s = slot_of(it, op->operands[i].value);
  return s->kind == SLOT_CONSTANT && s->t.scalar == QIR_F32 &&
                 (!s->t.elem || s->t.elem->kind == QIR_TYPE_SCALAR)
             ? &s->t
             : NULL;
}

/* conv2d with constant weights (and bias), then batch_norm of its result
 * (its only use) with constant parameters, then optionally relu/clip of
 * the norm (its only use). */
static bool conv_bn_group(qir_interp *it, unsigned i, exec_step *st) {
  const qir_op *conv = it->ops[i];
  unsigned ib = next_runnable(it, i);
  if (!qir_op_is(conv, QIR_OP_CONV2D) || ib >= it->num_ops)
    return false;
  if (conv_has_epilogue(conv) || conv->num_operands > 3)
    return false;
  const qir_op *bn = it->ops[ib];
  const qir_value *v = &conv->results[0];
  if (!qir_op_is(bn, QIR_OP_BATCH_NORM) || bn->operands[0].value != v ||
      !qir_value_has_one_use(v) || !is_f32_tensor(v->type) ||
      !is_f32_tensor(conv->operands[0].value->type) ||
      !is_f32_tensor(bn->results[0].type))
    return false;
  const qir_tensor *w = constant_operand(it, conv, 1);
  const qir_tensor *b = conv->num_operands > 2 ? constant_operand(it, conv, 2) : NULL;
  if (!w || (conv->num_operands > 2 && !b) || w->rank != 4)
    return false;
  const qir_tensor *prm[4];
  int64_t o = w->dims[0];
  for (unsigned k = 0; k < 4; k++)
    if (!(prm[k] = constant_operand(it, bn, k + 1)) || qir_tensor_numel(prm[k]) != o)
      return false;
  if (b && qir_tensor_numel(b) != o)
    return false;
  double eps = qir_op_get_float(bn, "epsilon", 1e-5);
  st->fw = *w;
  qir_tensor_alloc(&st->fw);
  st->fb = *prm[0];
  st->fb.rank = 1;
  st->fb.dims[0] = o;
  qir_tensor_alloc(&st->fb);
  const float *sc = prm[0]->data, *bi = prm[1]->data, *mean = prm[2]->data,
              *var = prm[3]->data, *wd = w->data, *bd = b ? b->data : NULL;
  int64_t per = qir_tensor_numel(w) / (o ? o : 1);
  for (int64_t c = 0; c < o; c++) {
    double k = sc[c] / sqrt((double)var[c] + eps);
    for (int64_t j = 0; j < per; j++)
      ((float *)st->fw.data)[c * per + j] = (float)(wd[c * per + j] * k);
    ((float *)st->fb.data)[c] =
        (float)(((bd ? bd[c] : 0.0) - mean[c]) * k + bi[c]);
  }
  st->conv_bn = true;
  st->count = ib - i + 1;
  unsigned ia = next_runnable(it, ib);
  if (ia < it->num_ops) {
    const qir_op *act = it->ops[ia];
    const qir_value *n = &bn->results[0];
    if ((qir_op_is(act, QIR_OP_RELU) || qir_op_is(act, QIR_OP_CLIP)) &&
        act->operands[0].value == n && qir_value_has_one_use(n) &&
        is_f32_tensor(act->results[0].type)) {
      st->conv_clamp = true;
      st->lo = qir_op_is(act, QIR_OP_RELU) ? 0.0f
               : (float)qir_op_get_float(act, "min", -INFINITY);
      st->hi = qir_op_is(act, QIR_OP_RELU) ? INFINITY
               : (float)qir_op_get_float(act, "max", INFINITY);
      st->count = ia - i + 1;
    }
  }
  return true;
}

/* pad (f32, zeros, only the last two dims, none negative) whose only use
 * is the input of the next op, a conv2d with constant weights: *ic is
 * that conv2d, st->pads the padding. */
static bool pad_before_conv(qir_interp *it, unsigned i, exec_step *st,
                            unsigned *ic) {
  const qir_op *pad = it->ops[i];
  unsigned k = next_runnable(it, i);
  if (!qir_op_is(pad, QIR_OP_PAD) || k >= it->num_ops)
    return false;
  const qir_op *conv = it->ops[k];
  const qir_value *v = &pad->results[0];
  const char *mode = qir_op_get_string(pad, "mode");
  int64_t pads[8];
  if (!qir_op_is(conv, QIR_OP_CONV2D) || conv->num_operands < 2 ||
      conv->operands[0].value != v || !qir_value_has_one_use(v) ||
      pad->num_operands != 1 || !is_f32_tensor(v->type) ||
      !is_f32_tensor(pad->operands[0].value->type) ||
      (mode && strcmp(mode, "constant")) ||
      qir_op_get_float(pad, "value", 0.0) != 0.0 ||
      qir_op_get_ints(pad, "pads", pads, 8) != 8 ||
      v->type->rank != 4 || !constant_operand(it, conv, 1))
    return false;
  if (pads[0] || pads[1] || pads[4] || pads[5] ||
      !is_f32_tensor(conv->results[0].type))
    return false;
  for (unsigned k = 1; k < conv->num_operands; k++)
    if (!is_f32_tensor(conv->operands[k].value->type))
      return false;
  int64_t spatial[4] = {pads[2], pads[3], pads[6], pads[7]};
  for (unsigned d = 0; d < 4; d++)
    if (spatial[d] < 0)
      return false;
  st->pre_pad = true;
  memcpy(st->pads, spatial, sizeof spatial);
  *ic = k;
  return true;
}

/* Groups the ops into steps (before memory planning). */
static void find_steps(qir_interp *it) {
  /* QIR_INTERP_NO_FUSE: "conv", "ew" or anything else (all) turns fused
   * steps off, to tell a kernel bug from a fusion bug. */
  const char *nf = getenv("QIR_INTERP_NO_FUSE");
  bool no_conv = nf && *nf && strcmp(nf, "ew");
  bool no_ew = nf && *nf && strcmp(nf, "conv");
  it->steps = qir_xcalloc(it->num_ops + 1, sizeof *it->steps);
  unsigned i = 0;
  while (i < it->num_ops) {
    exec_step *st = &it->steps[it->num_steps++];
    st->first = i;
    st->count = 1;
    const qir_op *op = it->ops[i];
    unsigned ic = i;
    bool pre_pad = !no_conv && pad_before_conv(it, i, st, &ic);
    st->conv = ic;
    if (!no_conv && conv_bn_group(it, ic, st)) {
      st->count += ic - i; /* conv_bn_group counted from the conv */
    } else if (!no_conv && conv_clamp_pair(it, ic, st)) {
      st->count = next_runnable(it, ic) - i + 1;
    } else if (pre_pad) {
      st->count = ic - i + 1;
    } else if (!no_ew && qir_cpu_ew_fusable(op) &&
               qir_tensor_numel(&slot_of(it, &op->results[0])->t) >= 4096) {
      /* Small tensors never form a region: test the size before the scan,
       * which would otherwise make long chains of them quadratic. */
      const qir_tensor *t = &slot_of(it, &op->results[0])->t;
      unsigned end = i + 1;
      if (joins_region(it, i, i, t->rank, t->dims))
        while (end < it->num_ops && joins_region(it, i, end, t->rank, t->dims))
          end++;
      while (end > i && qir_op_is(it->ops[end - 1], QIR_OP_CONSTANT))
        end--; /* trailing constants stay outside */
      if (end - i >= 2) {
        st->count = end - i;
        st->is_region = true;
      }
    }
    if (st->count > 1)
      extend_live_ranges(it, st);
    i += st->count;
  }
}

static void plan_conv(qir_interp *it, exec_step *st);

/* Builds the fused regions (after memory planning: they keep pointers)
 * and the conv2d plans. */
static void build_regions(qir_interp *it) {
  for (unsigned i = 0; i < it->num_steps; i++) {
    exec_step *st = &it->steps[i];
    if (st->is_region)
      st->region = build_region(it, st->first, st->first + st->count);
    else
      plan_conv(it, st);
  }
}

static void free_steps(qir_interp *it) {
  for (unsigned i = 0; i < it->num_steps; i++) {
    free(it->steps[i].fw.data);
    free(it->steps[i].fb.data);
    qir_conv_plan_destroy(it->steps[i].plan);
    qir_interp_destroy(it->steps[i].callee);
  }
  for (unsigned i = 0; i < it->num_steps; i++)
    if (it->steps[i].region) {
      free(it->steps[i].region->steps);
      free(it->steps[i].region);
    }
  free(it->steps);
}

/* Calls deeper than this are taken for recursion. */
#define MAX_CALL_DEPTH 64

static qir_interp *interp_create(qir_func *f, const qir_interp_options *o,
                                 unsigned depth, qir_pool *pool);

/* An interpreter for the callee of each call op. */
static bool create_callees(qir_interp *it) {
  for (unsigned i = 0; i < it->num_steps; i++) {
    exec_step *st = &it->steps[i];
    const qir_op *op = it->ops[st->first];
    if (!qir_op_is(op, QIR_OP_CALL))
      continue;
    const qir_attr *a = qir_op_get_attr(op, "callee");
    qir_func *f = a && a->kind == QIR_ATTR_SYMBOL
                      ? qir_module_lookup(it->func->module, a->u.symbol)
                      : NULL;
    if (!f) {
      qir_op_emit_error(op, "calls an unknown function");
      return false;
    }
    if (it->depth + 1 >= MAX_CALL_DEPTH) {
      qir_op_emit_error(op, "calls @%s more than %d levels deep (recursive "
                            "calls are not supported)",
                        f->name, MAX_CALL_DEPTH);
      return false;
    }
    if (f->body.num_args != op->num_operands ||
        f->num_results != op->num_results) {
      qir_op_emit_error(op, "does not match the signature of @%s", f->name);
      return false;
    }
    if (!(st->callee = interp_create(f, NULL, it->depth + 1, it->pool)))
      return false;
  }
  return true;
}

static qir_interp *interp_create(qir_func *f, const qir_interp_options *o,
                                 unsigned depth, qir_pool *pool) {
  qir_interp *it = qir_xcalloc(1, sizeof *it);
  it->func = f;
  it->ctx = f->module->ctx;
  it->depth = depth;
  if (o) {
    it->threads = o->threads;
    it->observer = o->observer;
    it->observer_user = o->observer_user;
  }
  it->owns_pool = !pool;
  it->pool = pool ? pool : qir_pool_create(it->threads);
  it->threads = qir_pool_threads(it->pool);
  if (!create_slots(it) || !compute_liveness(it)) {
    qir_interp_destroy(it);
    return NULL;
  }
  find_steps(it);
  plan_memory(it);
  build_regions(it);
  if (!create_callees(it)) {
    qir_interp_destroy(it);
    return NULL;
  }
  return it;
}

qir_interp *qir_interp_create(qir_func *f, const qir_interp_options *o) {
  return interp_create(f, o, 0, NULL);
}

void qir_interp_destroy(qir_interp *it) {
  if (!it)
    return;
  for (unsigned i = 0; i < it->num_slots; i++)
    if (it->slots[i].kind != SLOT_ARENA)
      free(it->slots[i].t.data);
  free(it->slots);
  free(it->map.keys);
  free(it->map.vals);
  free(it->ops);
  free(it->input_slots);
  free(it->output_slots);
  free(it->output_names);
  free(it->arena);
  free(it->prof_ms);
  if (it->steps)
    free_steps(it);
  if (it->owns_pool)
    qir_pool_destroy(it->pool);
  free(it);
}

/* ---- Accessors ----------------------------------------------------------- */

unsigned qir_interp_num_inputs(const qir_interp *it) { return it->num_inputs; }
unsigned qir_interp_num_outputs(const qir_interp *it) { return it->num_outputs; }

const qir_value *qir_interp_input(const qir_interp *it, unsigned i) {
  return i < it->num_inputs ? it->slots[it->input_slots[i]].value : NULL;
}

int qir_interp_find_input(const qir_interp *it, const char *name) {
  for (unsigned i = 0; i < it->num_inputs; i++) {
    const char *n = it->slots[it->input_slots[i]].value->name;
    if (n && !strcmp(n, name))
      return (int)i;
  }
  return -1;
}

const char *qir_interp_output_name(const qir_interp *it, unsigned i) {
  return i < it->num_outputs ? it->output_names[i] : NULL;
}

const qir_tensor *qir_interp_output(const qir_interp *it, unsigned i) {
  return i < it->num_outputs ? &it->slots[it->output_slots[i]].t : NULL;
}

void qir_interp_set_observer(qir_interp *it, qir_interp_observer fn,
                             void *user) {
  it->observer = fn;
  it->observer_user = user;
}

/* Points it and the interpreters of its callees at `pool`. */
static void share_pool(qir_interp *it, qir_pool *pool) {
  it->pool = pool;
  it->threads = qir_pool_threads(pool);
  for (unsigned i = 0; i < it->num_steps; i++)
    if (it->steps[i].callee)
      share_pool(it->steps[i].callee, pool);
}

void qir_interp_set_threads(qir_interp *it, unsigned threads) {
  if (it->owns_pool)
    qir_pool_destroy(it->pool);
  it->owns_pool = true;
  share_pool(it, qir_pool_create(threads));
}

void qir_interp_get_stats(const qir_interp *it, qir_interp_stats *s) {
  s->peak_activation_bytes = it->arena_size;
  s->naive_activation_bytes = it->naive_size;
  s->constant_bytes = it->constant_bytes;
  s->num_ops = it->num_ops;
  s->num_buffers = it->num_slots;
}

static void input_name(const qir_interp *it, unsigned i, char *buf,
                       size_t size) {
  const char *n = it->slots[it->input_slots[i]].value->name;
  if (n)
    snprintf(buf, size, "'%s'", n);
  else
    snprintf(buf, size, "%u", i);
}

/* The input's type, or a one-element tensor for a one-element input
 * (scalars stored as [1] and the like), or u16 bits for a bf16 input. */
static bool input_compatible(const qir_tensor *t, const qir_type *type) {
  if (qir_tensor_matches_type(t, type))
    return true;
  qir_tensor u = *t;
  if (t->scalar == QIR_U16 && type->scalar == QIR_BF16) {
    u.scalar = QIR_BF16;
    if (qir_tensor_matches_type(&u, type))
      return true;
  }
  return u.scalar == type->scalar && qir_tensor_numel(&u) == 1 &&
         qir_tensor_num_elements(type) == 1;
}

bool qir_interp_set_input(qir_interp *it, unsigned i, const qir_tensor *t) {
  QIR_ASSERT(i < it->num_inputs);
  slot *s = &it->slots[it->input_slots[i]];
  char name[128], want[256], got[256];
  input_name(it, i, name, sizeof name);
  if (!input_compatible(t, s->value->type)) {
    qir_tensor_format_shape(&s->t, want, sizeof want);
    qir_tensor_format_shape(t, got, sizeof got);
    qir_emit_error(it->ctx, qir_loc_unknown(),
                   "input %s expects %s, got %s", name, want, got);
    return false;
  }
  memcpy(s->t.data, t->data, s->t.nbytes);
  s->input_set = true;
  return true;
}

/* ---- Running ------------------------------------------------------------- */

/* A tensor converted for a kernel (QK_F32 / QK_NUM), or the original. */
typedef struct staged {
  qir_tensor t;
  bool owned;
} staged;

static qir_scalar staged_scalar(int conv, const qir_tensor *t) {
  if (conv == QK_RAW || (t->elem && t->elem->kind == QIR_TYPE_QUANT))
    return t->scalar;
  if (qir_scalar_is_float(t->scalar))
    return QIR_F32;
  if (t->scalar == QIR_I1)
    return t->scalar;
  /* Integers: i64 for NUM kernels; float kernels (pooling, resize...)
   * compute in f32, exact for 8- and 16-bit storage. */
  return conv == QK_NUM ? QIR_I64 : QIR_F32;
}

static void stage(staged *st, const qir_tensor *t, qir_scalar to, bool copy) {
  st->t = *t;
  st->owned = false;
  if (to == t->scalar)
    return;
  st->t.scalar = to;
  st->t.elem = NULL;
  qir_tensor_alloc(&st->t);
  st->owned = true;
  if (copy)
    qir_convert(t->scalar, t->data, to, st->t.data, qir_tensor_numel(t));
}

/* Dequantizes a quantized tensor to f32 (per axis where the type says). */
static void dequantize_to(const qir_tensor *t, float *out) {
  const qir_type *q = t->elem;
  int64_t n = qir_tensor_numel(t), inner = 1, ch = 1;
  if (q->axis >= 0) {
    ch = t->dims[q->axis];
    for (unsigned d = (unsigned)q->axis + 1; d < t->rank; d++)
      inner *= t->dims[d];
  }
  for (int64_t i = 0; i < n; i++) {
    int64_t c = q->axis >= 0 ? (i / inner) % ch : 0;
    out[i] = (float)qir_dequantize_f64(qir_load_int(t->scalar, t->data, i),
                                       qir_quant_scale(q, c),
                                       qir_quant_zp(q, c));
  }
}

static void quantize_from(const float *in, qir_tensor *t) {
  const qir_type *q = t->elem;
  int64_t n = qir_tensor_numel(t), inner = 1, ch = 1;
  if (q->axis >= 0) {
    ch = t->dims[q->axis];
    for (unsigned d = (unsigned)q->axis + 1; d < t->rank; d++)
      inner *= t->dims[d];
  }
  for (int64_t i = 0; i < n; i++) {
    int64_t c = q->axis >= 0 ? (i / inner) % ch : 0;
    qir_store_int(t->scalar, t->data, i,
                  qir_quantize_f64(in[i], qir_quant_scale(q, c),
                                   qir_quant_zp(q, c), q->qmin, q->qmax));
  }
}

static bool is_quant(const qir_tensor *t) {
  return t->elem && t->elem->kind == QIR_TYPE_QUANT;
}

/* The float round trip of a quantized op without an integer kernel:
 * dequantize the operands, run the float kernel, quantize the results. */
bool qir_cpu_float_round_trip(const qir_kargs *k, const qir_kernel *kern) {
  staged in[k->nin ? k->nin : 1], out[k->nout ? k->nout : 1];
  const qir_tensor *ins[k->nin ? k->nin : 1];
  qir_tensor *outs[k->nout ? k->nout : 1];
  for (unsigned i = 0; i < k->nin; i++) {
    const qir_tensor *t = k->in[i];
    if (is_quant(t)) {
      in[i].t = *t;
      in[i].t.scalar = QIR_F32;
      in[i].t.elem = NULL;
      qir_tensor_alloc(&in[i].t);
      in[i].owned = true;
      dequantize_to(t, in[i].t.data);
    } else {
      stage(&in[i], t, staged_scalar(kern->conv, t), true);
    }
    ins[i] = &in[i].t;
  }
  for (unsigned i = 0; i < k->nout; i++) {
    qir_tensor *t = k->out[i];
    qir_scalar s = is_quant(t) ? QIR_F32 : staged_scalar(kern->conv, t);
    stage(&out[i], t, s, false);
    out[i].t.elem = is_quant(t) ? NULL : out[i].t.elem;
    outs[i] = &out[i].t;
  }
  qir_kargs k2 = *k;
  k2.in = ins;
  k2.out = outs;
  bool ok = kern->fn(&k2);
  for (unsigned i = 0; i < k->nout && ok; i++) {
    if (is_quant(k->out[i]))
      quantize_from(out[i].t.data, k->out[i]);
    else if (out[i].owned)
      qir_convert(out[i].t.scalar, out[i].t.data, k->out[i]->scalar,
                  k->out[i]->data, qir_tensor_numel(k->out[i]));
  }
  for (unsigned i = 0; i < k->nin; i++)
    if (in[i].owned)
      qir_tensor_free_data(&in[i].t);
  for (unsigned i = 0; i < k->nout; i++)
    if (out[i].owned)
      qir_tensor_free_data(&out[i].t);
  return ok;
}

static bool run_op(qir_interp *it, const qir_op *op) {
  unsigned nin = op->num_operands, nout = op->num_results;
  const qir_tensor *in[nin ? nin : 1];
  qir_tensor *out[nout ? nout : 1];
  bool any_quant = false;
  for (unsigned i = 0; i < nin; i++) {
    in[i] = &it->slots[map_get(&it->map, op->operands[i].value)].t;
    any_quant |= is_quant(in[i]);
  }
  for (unsigned i = 0; i < nout; i++) {
    out[i] = &it->slots[map_get(&it->map, &op->results[i])].t;
    any_quant |= is_quant(out[i]);
  }
  qir_kargs k = {op, nin, nout, in, out, it->pool, 0, 0.0f, 0.0f, {0}};
  unsigned id = op->def->id;
  if (id == QIR_OP_CONSTANT)
    return true;
  if (nout == 1 && slot_of(it, &op->results[0])->kind == SLOT_DYNAMIC &&
      !size_dynamic(op, in, out[0]))
    return false;
  if (any_quant) {
    qir_kernel_fn q = qir_cpu_qkernel(id);
    if (q)
      return q(&k);
  }
  const qir_kernel *kern = qir_cpu_kernel(id);
  bool needs_staging = any_quant;
  for (unsigned i = 0; i < nin && !needs_staging; i++)
    needs_staging = staged_scalar(kern->conv, in[i]) != in[i]->scalar;
  for (unsigned i = 0; i < nout && !needs_staging; i++)
    needs_staging = staged_scalar(kern->conv, out[i]) != out[i]->scalar;
  if (!needs_staging)
    return kern->fn(&k);
  return qir_cpu_float_round_trip(&k, kern);
}

/* The kernel arguments of a conv step: conv2d written straight into the
 * last op of the step (relu/clip or batch_norm), with folded batch-norm
 * weights, the clamp and the padding of a pad before it when fused. */
static void conv_step_kargs(qir_interp *it, const exec_step *st,
                            const qir_tensor **in, qir_tensor **out,
                            qir_pool *pool, qir_kargs *k) {
  const qir_op *conv = it->ops[st->conv];
  const qir_op *last = it->ops[st->first + st->count - 1];
  unsigned nin = st->conv_bn ? 3 : conv->num_operands;
  for (unsigned i = 0; i < nin && i < conv->num_operands; i++)
    in[i] = &slot_of(it, conv->operands[i].value)->t;
  if (st->pre_pad)
    in[0] = &slot_of(it, it->ops[st->first]->operands[0].value)->t;
  if (st->conv_bn) {
    in[1] = &st->fw;
    in[2] = &st->fb;
  }
  out[0] = &slot_of(it, &last->results[0])->t;
  *k = (qir_kargs){conv, nin, 1, in, out, pool, st->conv_clamp ? 1 : 0,
                   st->lo, st->hi, {0}};
  if (st->pre_pad)
    memcpy(k->extra_pads, st->pads, sizeof st->pads);
}

/* A conv step, through its plan when it has one. */
static bool run_conv_clamp(qir_interp *it, const exec_step *st) {
  const qir_tensor *in[4];
  qir_tensor *out[1];
  qir_kargs k;
  conv_step_kargs(it, st, in, out, it->pool, &k);
  if (st->plan)
    return qir_cpu_k_conv2d_planned(&k, st->plan);
  return qir_cpu_k_conv2d(&k);
}

/* A conv2d step (alone or fused) whose operands are all f32 and whose
 * weights are constant gets a plan. */
static bool conv_plannable(qir_interp *it, const exec_step *st) {
  const qir_op *conv = it->ops[st->conv];
  if (!qir_op_is(conv, QIR_OP_CONV2D) || st->is_region ||
      conv->num_operands < 2 || conv->num_operands > 4)
    return false;
  const qir_op *last = it->ops[st->first + st->count - 1];
  if (!is_f32_tensor(last->results[0].type))
    return false;
  for (unsigned i = 0; i < conv->num_operands; i++)
    if (!is_f32_tensor(conv->operands[i].value->type))
      return false;
  return st->conv_bn || constant_operand(it, conv, 1);
}

static void plan_conv(qir_interp *it, exec_step *st) {
  if (!conv_plannable(it, st))
    return;
  const qir_tensor *in[4];
  qir_tensor *out[1];
  qir_kargs k;
  conv_step_kargs(it, st, in, out, NULL, &k);
  st->plan = qir_cpu_conv2d_plan(&k);
}

/* call: the operands into the callee's inputs, its results out. */
static bool run_call(qir_interp *it, const exec_step *st) {
  const qir_op *op = it->ops[st->first];
  qir_interp *callee = st->callee;
  for (unsigned i = 0; i < op->num_operands; i++)
    if (!qir_interp_set_input(callee, i,
                              &slot_of(it, op->operands[i].value)->t))
      return false;
  if (!qir_interp_run(callee))
    return false;
  for (unsigned r = 0; r < op->num_results; r++) {
    const qir_tensor *from = qir_interp_output(callee, r);
    qir_tensor *to = &slot_of(it, &op->results[r])->t;
    if (from->nbytes != to->nbytes || from->scalar != to->scalar) {
      qir_op_emit_error(op, "result %u of @%s does not match the call's "
                            "result type", r, callee->func->name);
      return false;
    }
    memcpy(to->data, from->data, to->nbytes);
  }
  return true;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void observe(qir_interp *it, const qir_op *op) {
  for (unsigned r = 0; r < op->num_results; r++)
    it->observer(op, r, &it->slots[map_get(&it->map, &op->results[r])].t,
                 it->observer_user);
}

bool qir_interp_run(qir_interp *it) {
  for (unsigned i = 0; i < it->num_inputs; i++)
    if (!it->slots[it->input_slots[i]].input_set) {
      char name[128];
      input_name(it, i, name, sizeof name);
      qir_emit_error(it->ctx, qir_loc_unknown(), "input %s was not set", name);
      return false;
    }
  for (unsigned i = 0; i < it->num_steps; i++) {
    const exec_step *st = &it->steps[i];
    double t0 = it->profile ? now_ms() : 0;
    if (st->region && !it->observer) {
      qir_cpu_ew_run(it->pool, st->region);
    } else if ((st->conv_clamp || st->conv_bn || st->plan || st->pre_pad) &&
               !it->observer) {
      if (!run_conv_clamp(it, st))
        return false;
    } else if (st->callee) {
      if (!run_call(it, st))
        return false;
      if (it->observer)
        observe(it, it->ops[st->first]);
    } else {
      for (unsigned k = st->first; k < st->first + st->count; k++) {
        if (!run_op(it, it->ops[k]))
          return false;
        if (it->observer)
          observe(it, it->ops[k]);
      }
    }
    if (it->profile)
      it->prof_ms[i] += now_ms() - t0;
  }
  it->prof_runs++;
  return true;
}

void qir_interp_enable_profile(qir_interp *it, bool on) {
  it->profile = on;
  free(it->prof_ms);
  it->prof_ms = qir_xcalloc(it->num_steps + 1, sizeof(double));
  it->prof_runs = 0;
}

typedef struct prof_row {
  const char *name;
  double ms;
  unsigned count;
} prof_row;

static int cmp_prof(const void *a, const void *b) {
  double x = ((const prof_row *)a)->ms, y = ((const prof_row *)b)->ms;
  return x > y ? -1 : x < y;
}

void qir_interp_print_profile(const qir_interp *it, FILE *out) {
  if (!it->prof_ms || !it->prof_runs)
    return;
  prof_row *rows = qir_xcalloc(it->num_steps + 1, sizeof *rows);
  unsigned n = 0;
  double total = 0;
  for (unsigned i = 0; i < it->num_steps; i++) {
    const exec_step *st = &it->steps[i];
    static const char *const conv_names[2][3] = {
        {"conv2d", "conv2d+clamp", "conv2d+batch_norm"},
        {"pad+conv2d", "pad+conv2d+clamp", "pad+conv2d+batch_norm"}};
    int conv_kind = st->conv_bn ? 2 : st->conv_clamp ? 1 : 0;
    const char *name = st->region ? "(fused elementwise)"
                       : st->pre_pad || conv_kind
                           ? conv_names[st->pre_pad][conv_kind]
                           : it->ops[st->first]->def->name;
    unsigned j = 0;
    while (j < n && strcmp(rows[j].name, name))
      j++;
    if (j == n)
      rows[n++].name = name;
    rows[j].ms += it->prof_ms[i] / it->prof_runs;
    rows[j].count += st->count;
    total += it->prof_ms[i] / it->prof_runs;
  }
  qsort(rows, n, sizeof *rows, cmp_prof);
  fprintf(out, "%-20s %6s %10s %6s\n", "op", "count", "ms/run", "%");
  for (unsigned j = 0; j < n; j++)
    fprintf(out, "%-20s %6u %10.3f %5.1f%%\n", rows[j].name, rows[j].count,
            rows[j].ms, total > 0 ? 100 * rows[j].ms / total : 0.0);
  free(rows);
}
