/* ir/pass/equiv.c - the numerical equivalence check (see equiv.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/pass/equiv.h"
#include "qir/interp.h"
#include "qir/npy.h"

struct qir_equiv {
  qir_context *ctx;
  qir_equiv_options o;
  unsigned num_inputs, num_outputs;
  qir_tensor *inputs;  /* in the reference's layout */
  qir_tensor *outputs; /* the reference's results */
  char **output_names;
};

void qir_equiv_options_init(qir_equiv_options *o) {
  memset(o, 0, sizeof *o);
  o->inputs = "random";
  o->seed = 1;
  o->min_cosine = 0.999999;
  o->max_rel_error = 1e-5;
}

static qir_func *main_func(qir_module *m) {
  qir_func *f = qir_module_lookup(m, "main");
  return f ? f : m->first;
}

/* ---- Tensors ---------------------------------------------------------------- */

static bool copy_tensor(qir_tensor *dst, const qir_tensor *src) {
  *dst = *src;
  dst->data = NULL;
  if (!qir_tensor_alloc(dst))
    return false;
  memcpy(dst->data, src->data, src->nbytes);
  return true;
}

/* Element i of t as a double (quantized tensors: the integer storage). */
static double element(const qir_tensor *t, int64_t i) {
  const void *d = t->data;
  switch (t->scalar) {
  case QIR_F64: return ((const double *)d)[i];
  case QIR_F32: return ((const float *)d)[i];
  case QIR_F16: return qir_f16_to_f32(((const uint16_t *)d)[i]);
  case QIR_BF16: return qir_bf16_to_f32(((const uint16_t *)d)[i]);
  case QIR_I1:
  case QIR_U8: return ((const uint8_t *)d)[i];
  case QIR_I8: return ((const int8_t *)d)[i];
  case QIR_I16: return ((const int16_t *)d)[i];
  case QIR_U16: return ((const uint16_t *)d)[i];
  case QIR_I32: return ((const int32_t *)d)[i];
  case QIR_I64: return (double)((const int64_t *)d)[i];
  default: qir_die("no element reader for scalar %d", (int)t->scalar);
  }
}

/* xorshift64*: the same numbers on every machine for a seed. */
static uint64_t next_random(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

/* Floats uniform in [-1, 1), booleans 0/1, other integers 0 (they are
 * mostly indices and shapes, where random values mean nothing). */
static void fill_random(qir_tensor *t, uint64_t seed) {
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  int64_t n = qir_tensor_numel(t);
  for (int64_t i = 0; i < n; i++) {
    double u = (double)(next_random(&s) >> 11) / 9007199254740992.0;
    switch (t->scalar) {
    case QIR_F64: ((double *)t->data)[i] = 2 * u - 1; break;
    case QIR_F32: ((float *)t->data)[i] = (float)(2 * u - 1); break;
    case QIR_F16: ((uint16_t *)t->data)[i] = qir_f32_to_f16((float)(2 * u - 1)); break;
    case QIR_BF16: ((uint16_t *)t->data)[i] = qir_f32_to_bf16((float)(2 * u - 1)); break;
    case QIR_I1: ((uint8_t *)t->data)[i] = u < 0.5; break;
    default: break; /* zeroed by qir_tensor_alloc */
    }
  }
}

/* ---- The reference inputs ------------------------------------------------------- */

static const char *input_name(const qir_value *v, unsigned i, char *buf,
                              size_t n) {
  if (v->name)
    return v->name;
  snprintf(buf, n, "input%u", i);
  return buf;
}

/* The interpreter runs static shapes only: say which input to fix. */
static bool inputs_static(qir_func *f) {
  for (unsigned i = 0; i < f->body.num_args; i++) {
    const qir_value *v = f->body.args[i];
    if (qir_tensor_is_static(v->type))
      continue;
    char ty[128], buf[32];
    qir_type_format(v->type, ty, sizeof ty);
    qir_emit_error(f->module->ctx, qir_loc_unknown(),
                   "check-equivalence: input '%s' of @%s has the dynamic type "
                   "%s; fix its shape first (qir-translate --input-shapes, "
                   "or constant-patch with input_shapes)",
                   input_name(v, i, buf, sizeof buf), f->name, ty);
    return false;
  }
  return true;
}

static bool random_input(qir_equiv *e, const qir_value *v, const char *name,
                         qir_tensor *t) {
  qir_tensor_init_from_type(t, v->type);
  if (!qir_tensor_alloc(t)) {
    qir_emit_error(e->ctx, qir_loc_unknown(),
                   "check-equivalence: input '%s' is too large", name);
    return false;
  }
  fill_random(t, e->o.seed + v->index);
  return true;
}

static bool npy_input(qir_equiv *e, const char *name, qir_tensor *t) {
  size_t n = strlen(e->o.inputs) + strlen(name) + 6;
  char *path = qir_xmalloc(n);
  snprintf(path, n, "%s/%s.npy", e->o.inputs, name);
  bool ok = qir_npy_read(e->ctx, path, t);
  free(path);
  return ok;
}

static bool make_inputs(qir_equiv *e, qir_interp *it) {
  bool random = strcmp(e->o.inputs, "random") == 0;
  for (unsigned i = 0; i < e->num_inputs; i++) {
    const qir_value *v = qir_interp_input(it, i);
    char buf[32];
    const char *name = input_name(v, i, buf, sizeof buf);
    bool ok = random ? random_input(e, v, name, &e->inputs[i])
                     : npy_input(e, name, &e->inputs[i]);
    if (!ok || !qir_interp_set_input(it, i, &e->inputs[i]))
      return false;
  }
  return true;
}

static bool keep_outputs(qir_equiv *e, qir_interp *it) {
  for (unsigned i = 0; i < e->num_outputs; i++) {
    e->output_names[i] = qir_xstrdup(qir_interp_output_name(it, i));
    if (!copy_tensor(&e->outputs[i], qir_interp_output(it, i))) {
      qir_emit_error(e->ctx, qir_loc_unknown(),
                     "check-equivalence: output '%s' is too large",
                     e->output_names[i]);
      return false;
    }
  }
  return true;
}

qir_equiv *qir_equiv_create(qir_module *m, const qir_equiv_options *o) {
  qir_func *f = main_func(m);
  if (!f) {
    qir_emit_error(m->ctx, qir_loc_unknown(),
                   "check-equivalence: the module has no function");
    return NULL;
  }
  qir_interp *it = inputs_static(f) ? qir_interp_create(f, NULL) : NULL;
  if (!it)
    return NULL;
  qir_equiv *e = qir_xcalloc(1, sizeof *e);
  e->ctx = m->ctx;
  e->o = *o;
  e->num_inputs = qir_interp_num_inputs(it);
  e->num_outputs = qir_interp_num_outputs(it);
  e->inputs = qir_xcalloc(e->num_inputs + 1, sizeof *e->inputs);
  e->outputs = qir_xcalloc(e->num_outputs + 1, sizeof *e->outputs);
  e->output_names = qir_xcalloc(e->num_outputs + 1, sizeof *e->output_names);
  bool ok = make_inputs(e, it) && qir_interp_run(it) && keep_outputs(e, it);
  qir_interp_destroy(it);
  if (!ok) {
    qir_equiv_destroy(e);
    return NULL;
  }
  return e;
}

void qir_equiv_destroy(qir_equiv *e) {
  if (!e)
    return;
  for (unsigned i = 0; i < e->num_inputs; i++)
    qir_tensor_free_data(&e->inputs[i]);
  for (unsigned i = 0; i < e->num_outputs; i++) {
    qir_tensor_free_data(&e->outputs[i]);
    free(e->output_names[i]);
  }
  free(e->inputs);
  free(e->outputs);
  free(e->output_names);
  free(e);
}

/* ---- Feeding the transformed function --------------------------------------- */

/* The layout fuse{nchw-inputs} recorded for input i ("" when none). */
static const char *input_layout(const qir_func *f, unsigned i) {
  const qir_attr *a = qir_func_get_attr(f, "input_layouts");
  if (!a || a->kind != QIR_ATTR_ARRAY || i >= a->u.array.n ||
      a->u.array.elems[i]->kind != QIR_ATTR_STRING)
    return "";
  return a->u.array.elems[i]->u.str.data;
}

/* NHWC data for an input that now takes NCHW. */
static bool nhwc_to_nchw(const qir_tensor *src, qir_tensor *dst) {
  if (src->rank != 4)
    return false;
  *dst = *src;
  dst->data = NULL;
  int64_t n = src->dims[0], h = src->dims[1], w = src->dims[2],
          c = src->dims[3];
  dst->dims[1] = c;
  dst->dims[2] = h;
  dst->dims[3] = w;
  if (!qir_tensor_alloc(dst))
    return false;
  size_t es = qir_scalar_size(src->scalar);
  const char *s = src->data;
  char *d = dst->data;
  for (int64_t in = 0; in < n; in++)
    for (int64_t y = 0; y < h; y++)
      for (int64_t x = 0; x < w; x++)
        for (int64_t k = 0; k < c; k++)
          memcpy(d + (((in * c + k) * h + y) * w + x) * es,
                 s + (((in * h + y) * w + x) * c + k) * es, es);
  return true;
}

static bool set_input(qir_equiv *e, qir_interp *it, const qir_func *f,
                      unsigned i) {
  const qir_tensor *t = &e->inputs[i];
  if (strcmp(input_layout(f, i), "NHWC") != 0 ||
      qir_tensor_matches_type(t, qir_interp_input(it, i)->type))
    return qir_interp_set_input(it, i, t);
  qir_tensor nchw;
  if (!nhwc_to_nchw(t, &nchw))
    return qir_interp_set_input(it, i, t); /* which reports the mismatch */
  bool ok = qir_interp_set_input(it, i, &nchw);
  qir_tensor_free_data(&nchw);
  return ok;
}

/* ---- Comparing ------------------------------------------------------------------- */

typedef struct output_error {
  double cosine, max_abs, max_rel;
} output_error;

static output_error compare(const qir_tensor *ref, const qir_tensor *got) {
  double dot = 0, na = 0, nb = 0, max_abs = 0, max_ref = 0;
  int64_t n = qir_tensor_numel(ref);
  for (int64_t i = 0; i < n; i++) {
    double a = element(ref, i), b = element(got, i);
    if (!isfinite(a) || !isfinite(b)) {
      /* The same infinity or two NaNs agree; they stay out of the sums. */
      if (a != b && !(isnan(a) && isnan(b)))
        max_abs = INFINITY;
      continue;
    }
    double d = fabs(a - b);
    dot += a * b;
    na += a * a;
    nb += b * b;
    max_abs = d > max_abs ? d : max_abs;
    max_ref = fabs(a) > max_ref ? fabs(a) : max_ref;
  }
  output_error r;
  if (na == 0 && nb == 0)
    r.cosine = 1;
  else if (na == 0 || nb == 0)
    r.cosine = 0;
  else
    r.cosine = dot / (sqrt(na) * sqrt(nb));
  r.max_abs = max_abs;
  r.max_rel = max_abs == 0 ? 0 : max_ref > 0 ? max_abs / max_ref : INFINITY;
  return r;
}

static bool within(const qir_equiv *e, const output_error *r) {
  return r->cosine >= e->o.min_cosine && r->max_rel <= e->o.max_rel_error;
}

static void describe(char *buf, size_t n, const char *name, unsigned i,
                     const qir_tensor *t, const output_error *r) {
  char shape[128];
  qir_tensor_format_shape(t, shape, sizeof shape);
  snprintf(buf, n,
           "output %u '%s' (%s): cosine %.9f, max abs error %.3g, max rel "
           "error %.3g",
           i, name, shape, r->cosine, r->max_abs, r->max_rel);
}

static bool same_shape(const qir_tensor *a, const qir_tensor *b) {
  return a->rank == b->rank && a->scalar == b->scalar &&
         memcmp(a->dims, b->dims, a->rank * sizeof a->dims[0]) == 0;
}

/* What broke, for the error: "pass 'X' broke equivalence" or "the
 * pipeline broke equivalence". */
static void culprit(char *buf, size_t n, const char *after) {
  if (after)
    snprintf(buf, n, "pass '%s' broke equivalence", after);
  else
    snprintf(buf, n, "the optimized module is not equivalent to the input");
}

static bool compare_outputs(qir_equiv *e, qir_interp *it, const char *after,
                            bool verbose) {
  char what[128], line[512];
  culprit(what, sizeof what, after);
  bool ok = true;
  for (unsigned i = 0; i < e->num_outputs && ok; i++) {
    const qir_tensor *ref = &e->outputs[i], *got = qir_interp_output(it, i);
    if (!same_shape(ref, got)) {
      char s1[128], s2[128];
      qir_tensor_format_shape(ref, s1, sizeof s1);
      qir_tensor_format_shape(got, s2, sizeof s2);
      qir_emit_error(e->ctx, qir_loc_unknown(),
                     "check-equivalence: %s: output %u '%s' was %s and is %s",
                     what, i, e->output_names[i], s1, s2);
      return false;
    }
    output_error r = compare(ref, got);
    describe(line, sizeof line, e->output_names[i], i, ref, &r);
    ok = within(e, &r);
    if (!ok)
      qir_emit_error(e->ctx, qir_loc_unknown(),
                     "check-equivalence: %s: %s (needed: cosine >= %g, max "
                     "rel error <= %g)",
                     what, line, e->o.min_cosine, e->o.max_rel_error);
    else if (verbose && e->o.report)
      fprintf(e->o.report, "check-equivalence: %s%s%s: %s\n",
              after ? "after '" : "", after ? after : "pipeline",
              after ? "'" : "", line);
  }
  return ok;
}

bool qir_equiv_check(qir_equiv *e, qir_module *m, const char *after,
                     bool verbose) {
  qir_func *f = main_func(m);
  char what[128];
  culprit(what, sizeof what, after);
  qir_interp *it = f ? qir_interp_create(f, NULL) : NULL;
  if (!it) {
    qir_emit_error(e->ctx, qir_loc_unknown(),
                   "check-equivalence: %s: the module cannot run", what);
    return false;
  }
  bool ok = true;
  if (qir_interp_num_inputs(it) != e->num_inputs ||
      qir_interp_num_outputs(it) != e->num_outputs) {
    qir_emit_error(e->ctx, qir_loc_unknown(),
                   "check-equivalence: %s: @%s has %u inputs and %u outputs, "
                   "it had %u and %u",
                   what, f->name, qir_interp_num_inputs(it),
                   qir_interp_num_outputs(it), e->num_inputs, e->num_outputs);
    ok = false;
  }
  for (unsigned i = 0; i < e->num_inputs && ok; i++)
    ok = set_input(e, it, f, i);
  ok = ok && qir_interp_run(it) && compare_outputs(e, it, after, verbose);
  qir_interp_destroy(it);
  if (ok && verbose && e->o.report)
    fflush(e->o.report);
  return ok;
}
