/* backends/npu/compile.c - qir_npu_compile: partition, lower the NPU
 * functions, gather the graph of calls and write the artifact. */
#include <stdlib.h>
#include <string.h>

#include "backends/npu/npu.h"
#include "backends/npu/run.h"
#include "qir/builder.h"
#include "qir/io.h"
#include "qir/pass.h"

void qir_compile_options_init(qir_compile_options *o) {
  memset(o, 0, sizeof *o);
}

static qir_func *entry_func(qir_module *m) {
  qir_func *f = qir_module_lookup(m, "main");
  return f ? f : m->first;
}

/* ---- The graph of the entry function -------------------------------------------- */

typedef struct builder {
  qir_artifact *a;
  unsigned cap_values;
  unsigned schedule; /* enum npu_schedule */
} builder;

static unsigned add_value(builder *b, qir_value *v) {
  qir_artifact *a = b->a;
  if (a->num_values == b->cap_values) {
    b->cap_values = b->cap_values ? 2 * b->cap_values : 16;
    a->values = qir_xrealloc(a->values, b->cap_values * sizeof *a->values);
  }
  char name[32];
  if (!v->name)
    snprintf(name, sizeof name, "v%u", a->num_values);
  a->values[a->num_values] = (npu_value){qir_xstrdup(v->name ? v->name : name), v->type};
  v->aux = a->num_values + 1;
  return a->num_values++;
}

static unsigned *value_ids(qir_op *op, bool results, unsigned *n) {
  *n = results ? op->num_results : op->num_operands;
  unsigned *ids = qir_xcalloc(*n + 1, sizeof *ids);
  for (unsigned i = 0; i < *n; i++) {
    qir_value *v = results ? qir_op_result(op, i) : qir_op_operand(op, i);
    ids[i] = (unsigned)(v->aux - 1);
  }
  return ids;
}

bool npu_lower_scheduled(qir_func *f, const qir_target *t, npu_program *p, npu_blob *w,
                         unsigned mode, unsigned cores, npu_sched_observer fn, void *ctx) {
  npu_program best = {0};
  uint8_t *best_w = NULL; /* its weights: the blob's bytes from w0 */
  uint64_t w0 = w->size, best_n = 0;
  npu_sched_decisions best_d = {0};
  double best_cycles = 0;
  bool have = false;
  /* The choices that may change f: lowering flags, and VALUE. */
  enum { VALUE = 4 };
  unsigned may = npu_lower_choices(f) | (mode >= NPU_SCHEDULE_SRAM ? VALUE : 0);
  /* Variant v: its lowering flags, and VALUE: SRAM by value.  The first
   * is the plain schedule; a variant that cannot differ from one before
   * is skipped.  Each appends its weights to the blob from w0. */
  for (unsigned v = 0; v < 8; v++) {
    unsigned flags = v & 3;
    if (v & ~may)
      continue;
    npu_program q;
    w->size = w0;
    if (!npu_lower_func(f, t, &q, w, flags)) {
      npu_program_free(&q);
      if (have)
        continue;
      return false;
    }
    if (q.num_tensors > NPU_MAX_VALUE_PLACEMENT) /* (at least its buffers) */
      may &= ~VALUE;
    npu_sched_decisions d = {0};
    bool took = npu_schedule_variant(&q, t, mode, cores, v & VALUE, w->data, w->size,
                                     fn ? npu_sched_record : NULL, &d);
    if ((v & VALUE) && !took) { /* the same as v without it */
      may &= ~VALUE;
      npu_program_free(&q);
      free(d.v);
      continue;
    }
    double cycles = npu_insns_cycles(t, cores, &q, q.insns, q.num_insns);
    if (have && cycles >= best_cycles) {
      npu_program_free(&q);
      free(d.v);
      continue;
    }
    if (have)
      npu_program_free(&best);
    free(best_d.v);
    best = q;
    best_d = d;
    best_cycles = cycles;
    best_n = w->size - w0;
    best_w = qir_xrealloc(best_w, best_n + 1);
    if (best_n)
      memcpy(best_w, w->data + w0, best_n);
    have = true;
  }
  if (w0 + best_n > w->cap) {
    w->cap = w0 + best_n;
    w->data = qir_xrealloc(w->data, w->cap + 1);
  }
  if (best_n)
    memcpy(w->data + w0, best_w, best_n);
  w->size = w0 + best_n;
  free(best_w);
  *p = best;
  for (unsigned i = 0; i < best_d.n; i++)
    fn(ctx, &best_d.v[i]);
  free(best_d.v);
  return true;
}

static bool add_npu_program(qir_artifact *a, qir_func *f, const qir_target *t,
                            npu_blob *w, unsigned schedule) {
  a->programs = qir_xrealloc(a->programs, (a->num_programs + 1) * sizeof *a->programs);
  if (!npu_lower_scheduled(f, t, &a->programs[a->num_programs], w, schedule, a->npu_cores,
                           NULL, NULL))
    return false;
  a->num_programs++;
  return true;
}

static bool add_step(qir_artifact *a, builder *b, qir_op *call,
                     const qir_target *t, npu_blob *w) {
  const qir_attr *callee = qir_op_get_attr(call, "callee");
  qir_func *f = qir_module_lookup(call->block->func->module, callee->u.symbol);
  const char *pl = qir_func_get_attr(f, "npu.placement")
                       ? qir_func_get_attr(f, "npu.placement")->u.str.data
                       : "cpu";
  npu_step s = {0};
  s.kind = strcmp(pl, "npu") ? NPU_STEP_CPU : NPU_STEP_NPU;
  if (s.kind == NPU_STEP_NPU) {
    s.index = a->num_programs;
    if (!add_npu_program(a, f, t, w, b->schedule))
      return false;
  }
  s.func = qir_xstrdup(s.kind == NPU_STEP_CPU ? f->name : "");
  s.in = value_ids(call, false, &s.num_in);
  for (unsigned i = 0; i < call->num_results; i++)
    add_value(b, qir_op_result(call, i));
  s.out = value_ids(call, true, &s.num_out);
  a->steps = qir_xrealloc(a->steps, (a->num_steps + 1) * sizeof *a->steps);
  a->steps[a->num_steps++] = s;
  return true;
}

static bool build_graph(qir_artifact *a, qir_func *main, const qir_target *t,
                        npu_blob *w, unsigned schedule) {
  builder b = {a, 0, schedule};
  qir_block *body = &main->body;
  for (unsigned i = 0; i < body->num_args; i++)
    add_value(&b, body->args[i]);
  a->num_inputs = body->num_args;
  a->inputs = qir_xcalloc(a->num_inputs + 1, sizeof *a->inputs);
  for (unsigned i = 0; i < a->num_inputs; i++)
    a->inputs[i] = i;
  qir_foreach_op(op, body) {
    if (qir_op_is(op, QIR_OP_CALL)) {
      if (!add_step(a, &b, op, t, w))
        return false;
    } else if (qir_op_is(op, QIR_OP_RETURN)) {
      for (unsigned i = 0; i < op->num_operands; i++)
        if (!qir_op_operand(op, i)->aux) {
          qir_op_emit_error(op, "a constant model output is not supported");
          return false;
        }
      a->outputs = value_ids(op, false, &a->num_outputs);
    } else {
      qir_op_emit_error(op, "op left in @%s after partitioning", main->name);
      return false;
    }
  }
  return true;
}

/* The CPU functions alone, as .qir text: the partitioned module printed,
 * parsed back and stripped of everything else. */
static char *cpu_module_text(qir_module *m, size_t *len) {
  qir_print_options po;
  qir_print_options_init(&po);
  size_t n;
  char *text = qir_print_module_to_string(m, &po, &n);
  qir_module *copy = qir_parse_buffer(m->ctx, "<cpu>", text, n, 1);
  free(text);
  QIR_ASSERT(copy);
  for (qir_func *f = copy->first, *next; f; f = next) {
    next = f->next;
    const qir_attr *pl = qir_func_get_attr(f, "npu.placement");
    if (!pl || strcmp(pl->u.str.data, "cpu"))
      qir_func_erase(f);
  }
  text = copy->num_funcs ? qir_print_module_to_string(copy, &po, len) : qir_xstrdup("");
  if (!copy->num_funcs)
    *len = 0;
  qir_module_destroy(copy);
  return text;
}

static void clear_aux(qir_func *f) {
  for (unsigned i = 0; i < f->body.num_args; i++)
    f->body.args[i]->aux = 0;
  qir_foreach_op(op, &f->body)
    for (unsigned r = 0; r < op->num_results; r++)
      op->results[r].aux = 0;
}

bool npu_artifact_write(qir_context *ctx, const qir_artifact *a,
                        const char *path) {
  size_t size;
  uint8_t *data = npu_artifact_encode(a, &size);
  qir_output out;
  bool ok = qir_output_open(ctx, &out, path, true);
  if (ok && fwrite(data, 1, size, out.fp) != size) {
    qir_emit_error(ctx, qir_loc_unknown(), "cannot write '%s'", path);
    qir_output_abort(&out);
    ok = false;
  } else if (ok) {
    ok = qir_output_commit(ctx, &out);
  }
  free(data);
  return ok;
}

/* The reader must accept what the compiler writes: a rejection is a bug
 * in one of the two. */
static void check_readable(const qir_artifact *a) {
  size_t size;
  uint8_t *data = npu_artifact_encode(a, &size);
  qir_artifact *back = qir_artifact_read_buffer(a->ctx, data, size, "<compiled>");
  free(data);
  if (!back)
    qir_die("the compiled artifact does not pass its own reader");
  qir_artifact_free(back);
}

qir_artifact *npu_compile_to_artifact(qir_module *m, const qir_compile_options *o) {
  return npu_compile_scheduled(m, o, NPU_SCHEDULE_BEST);
}

qir_artifact *npu_compile_scheduled(qir_module *m, const qir_compile_options *o,
                                    unsigned schedule) {
  const qir_target *t = npu_target_of(m->ctx, o);
  if (!t || !qir_npu_partition(m, o))
    return NULL;
  if (!qir_verify_module(m))
    qir_die("the partitioned module does not verify");
  qir_artifact *a = npu_artifact_new();
  a->ctx = m->ctx;
  a->target = qir_xstrdup(t->name);
  a->npu_cores = o->npu_cores ? o->npu_cores : t->cores;
  npu_blob w = {0};
  qir_func *main = entry_func(m);
  bool ok = build_graph(a, main, t, &w, schedule);
  clear_aux(main);
  a->weights = w.data;
  a->weights_size = w.size;
  if (ok)
    a->cpu_text = cpu_module_text(m, &a->cpu_text_len);
  if (!ok) {
    qir_artifact_free(a);
    return NULL;
  }
  check_readable(a);
  return a;
}

bool qir_npu_compile(qir_module *m, const qir_compile_options *o,
                     const char *artifact_path) {
  qir_artifact *a = npu_compile_to_artifact(m, o);
  if (!a)
    return false;
  if (o->asm_out)
    qir_artifact_print_asm(a, o->asm_out);
  bool ok = !artifact_path || npu_artifact_write(m->ctx, a, artifact_path);
  qir_artifact_free(a);
  return ok;
}

/* ---- Batch variants (docs/NPU.md, "Batching") ------------------------------------ */

/* Marks values computed from the inputs (aux = 1) as the ops go. */
static bool reads_frames(const qir_op *op) {
  for (unsigned i = 0; i < op->num_operands; i++)
    if (qir_op_operand((qir_op *)op, i)->aux)
      return true;
  return false;
}

/* True when entry i of a slice's axes (dimension 0) takes every frame:
 * from 0, step 1, to an end past the batch (a slice to a fixed end stops
 * keeping the batch at another size, which the shape check finds). */
static bool keeps_all_frames(const qir_op *op, int i) {
  int64_t starts[QIR_MAX_RANK], ends[QIR_MAX_RANK], steps[QIR_MAX_RANK];
  int ns = qir_op_get_ints(op, "starts", starts, QIR_MAX_RANK);
  int ne = qir_op_get_ints(op, "ends", ends, QIR_MAX_RANK);
  int nt = qir_op_get_ints(op, "steps", steps, QIR_MAX_RANK);
  int64_t frames = qir_op_operand((qir_op *)op, 0)->type->dims[0];
  return i < ns && i < ne && starts[i] == 0 && ends[i] >= frames &&
         (nt <= i || steps[i] == 1);
}

/* True when an attribute of `op` (axis, axes, perm) reaches across the
 * frames of a batch: dimension 0 of a rank-`rank` operand. */
static bool mixes_frames(const qir_op *op, unsigned rank) {
  int64_t v[QIR_MAX_RANK];
  const qir_attr *axis = qir_op_get_attr(op, "axis");
  if (axis && axis->kind == QIR_ATTR_INT &&
      (qir_op_get_int(op, "axis", 1) == 0 || qir_op_get_int(op, "axis", 1) == -(int64_t)rank))
    return true;
  int n = qir_op_get_ints(op, "axes", v, QIR_MAX_RANK);
  for (int i = 0; i < n; i++)
    if ((v[i] == 0 || v[i] == -(int64_t)rank) && !keeps_all_frames(op, i))
      return true;
  return qir_op_get_ints(op, "perm", v, QIR_MAX_RANK) > 0 && v[0] != 0;
}

static const char *value_label(const qir_value *v) { return v->name ? v->name : "?"; }

/* Sets aux of the entry's arguments to `args` and of every op result to
 * 0: the start (args 1) and the end (args 0) of a walk marking the values
 * computed from the inputs. */
static void mark_inputs(qir_func *f, intptr_t args) {
  qir_foreach_op(op, &f->body) {
    for (unsigned r = 0; r < op->num_results; r++)
      op->results[r].aux = 0;
  }
  for (unsigned i = 0; i < f->body.num_args; i++)
    f->body.args[i]->aux = args;
}

/* Every value computed from the inputs must keep the batch in dimension
 * 0, and no op may work across it; else an error at the op. */
static bool batch_flows(qir_func *f, int64_t batch) {
  mark_inputs(f, 1);
  bool ok = true;
  qir_foreach_op(op, &f->body) {
    if (!reads_frames(op) || qir_op_is(op, QIR_OP_RETURN))
      continue;
    unsigned rank = qir_op_operand(op, 0)->type->rank;
    if (mixes_frames(op, rank)) {
      qir_op_emit_error(op, "works across the frames of a batch (dimension 0): "
                        "the model cannot be batched");
      ok = false;
      break;
    }
    for (unsigned r = 0; r < op->num_results; r++) {
      const qir_type *t = op->results[r].type;
      if (!qir_type_is_tensor(t) || !t->rank || t->dims[0] != batch) {
        qir_op_emit_error(op, "fixes the batch: result %%%s does not keep the batch of "
                          "%lld in dimension 0", value_label(&op->results[r]),
                          (long long)batch);
        ok = false;
        break;
      }
      op->results[r].aux = 1;
    }
    if (!ok)
      break;
  }
  mark_inputs(f, 0);
  return ok;
}

/* `op`'s int-array attribute `name` with entry 0 set to `batch` when it
 * is `from` (a reshape's `shape` or a resize's `sizes` written for the
 * model's own batch, `from`). */
static void retarget_dim0(qir_context *ctx, qir_op *op, const char *name, int64_t from,
                          int64_t batch) {
  int64_t v[QIR_MAX_RANK];
  int n = qir_op_get_ints(op, name, v, QIR_MAX_RANK);
  if (n > 0 && v[0] == from) {
    v[0] = batch;
    qir_op_set_attr(op, name, qir_attr_ints(ctx, (unsigned)n, v));
  }
}

/* A constant with dimension 0 of 1 repeated `batch` times, placed before
 * `user`; NULL when `v` is not such a constant. */
static qir_value *tiled_constant(qir_context *ctx, qir_value *v, qir_op *user, int64_t batch) {
  qir_op *def = qir_value_def(v);
  const qir_attr *d = def && qir_op_is(def, QIR_OP_CONSTANT) ? qir_op_get_attr(def, "value") : NULL;
  const qir_type *t = v->type;
  if (!d || d->kind != QIR_ATTR_DENSE || !qir_type_is_tensor(t) || !t->rank || t->dims[0] != 1)
    return NULL;
  int64_t dims[QIR_MAX_RANK];
  memcpy(dims, t->dims, t->rank * sizeof *dims);
  dims[0] = batch;
  const qir_type *nt = qir_tensor_with_dims(ctx, t, t->rank, dims);
  const qir_attr *nd;
  if (d->u.dense.splat) {
    nd = qir_attr_dense_splat(ctx, nt, d->u.dense.data);
  } else {
    size_t frame = d->u.dense.nbytes;
    char *data = malloc(frame * (size_t)batch);
    if (!data)
      return NULL;
    for (int64_t i = 0; i < batch; i++)
      memcpy(data + frame * (size_t)i, d->u.dense.data, frame);
    nd = qir_attr_dense(ctx, def->loc, nt, data, frame * (size_t)batch);
    free(data);
  }
  if (!nd)
    return NULL;
  qir_builder b;
  qir_builder_init(&b, ctx);
  qir_builder_set_before(&b, user);
  return qir_build_constant(&b, nd);
}

/* Rewrites what a model states for its own batch so that it holds for
 * `batch` frames: a reshape's target shape and a resize's sizes whose
 * dimension 0 is that batch (`from`), and the constants a concat joins to the frames
 * (the zero padding of a Pad lowered to concat), repeated per frame (from
 * a batch of 1).
 * Marks the values computed from the inputs with aux = 1 as it goes;
 * batch_flows() checks the rest. */
static void rebatch(qir_context *ctx, qir_func *f, int64_t from, int64_t batch) {
  mark_inputs(f, 1);
  qir_foreach_op(op, &f->body) {
    if (!reads_frames(op) || qir_op_is(op, QIR_OP_RETURN))
      continue;
    for (unsigned r = 0; r < op->num_results; r++)
      op->results[r].aux = 1;
    if (qir_op_is(op, QIR_OP_RESHAPE))
      retarget_dim0(ctx, op, "shape", from, batch);
    else if (qir_op_is(op, QIR_OP_RESIZE))
      retarget_dim0(ctx, op, "sizes", from, batch);
    else if (from == 1 && qir_op_is(op, QIR_OP_CONCAT) && !mixes_frames(op, qir_op_operand(op, 0)->type->rank))
      for (unsigned i = 0; i < op->num_operands; i++) {
        qir_value *v = qir_op_operand(op, i);
        qir_value *tiled = v->aux ? NULL : tiled_constant(ctx, v, op, batch);
        if (tiled)
          qir_op_set_operand(op, i, tiled);
      }
  }
  mark_inputs(f, 0);
}

bool npu_module_set_batch(qir_module *m, int64_t batch) {
  qir_func *f = entry_func(m);
  /* The batch the model was written for: the first input's. */
  int64_t from = f->body.num_args && qir_type_is_tensor(f->body.args[0]->type) &&
                 f->body.args[0]->type->rank ? f->body.args[0]->type->dims[0] : 1;
  for (unsigned i = 0; i < f->body.num_args; i++) {
    qir_value *arg = f->body.args[i];
    const qir_type *t = arg->type;
    if (!qir_type_is_tensor(t) || !t->rank || !qir_tensor_is_static(t)) {
      qir_emit_error(m->ctx, qir_loc_unknown(),
                     "input '%s' has no static batch dimension: the model cannot be batched",
                     value_label(arg));
      return false;
    }
    int64_t dims[QIR_MAX_RANK];
    memcpy(dims, t->dims, t->rank * sizeof *dims);
    dims[0] = batch;
    qir_value_set_type(arg, qir_tensor_with_dims(m->ctx, t, t->rank, dims));
  }
  if (batch != from)
    rebatch(m->ctx, f, from, batch);
  qir_pipeline *pl = qir_pipeline_parse(m->ctx, "shape-infer");
  qir_pm_options po;
  qir_pm_options_init(&po);
  bool ok = pl && qir_pipeline_run(pl, m, &po) && batch_flows(f, batch);
  qir_pipeline_destroy(pl);
  return ok;
}
