/* backends/npu/partition.c - places every op on the NPU or the CPU and
 * splits the entry function into NPU and CPU functions joined by `call`s.
 *
 * Ops are taken in program order (a topological order), each CPU op
 * moved down to just before its first reader; a maximal run of ops with
 * the same placement becomes one function.  Values that cross
 * runs become arguments and results; constants are cloned into every
 * function that uses them.  The tensors at the boundaries keep their
 * (quantized) types: the quantize of a float input and the dequantize of
 * a float output are CPU ops of their own, so they sit at the edges. */
#include <stdlib.h>
#include <string.h>

#include "backends/npu/npu.h"

typedef struct placement {
  qir_op *op;
  bool npu;
  char reason[192];
} placement;

typedef struct plan {
  qir_context *ctx;
  const qir_target *target;
  qir_func *func;
  unsigned num_ops;
  placement *ops;     /* every op but constants and the return */
} plan;

static const char *op_name(const qir_op *op) {
  return op->num_results && op->results[0].name ? op->results[0].name : NULL;
}

static void legalize_all(plan *p) {
  p->ops = qir_xcalloc(p->func->body.num_ops + 1, sizeof *p->ops);
  qir_foreach_op(op, &p->func->body) {
    if (qir_op_is(op, QIR_OP_CONSTANT) || qir_op_is(op, QIR_OP_RETURN))
      continue;
    placement *pl = &p->ops[p->num_ops++];
    pl->op = op;
    pl->npu = npu_op_is_legal(p->target, op, pl->reason, sizeof pl->reason);
  }
}

static placement *find_op(plan *p, const char *name, size_t len) {
  for (unsigned i = 0; i < p->num_ops; i++) {
    const char *n = op_name(p->ops[i].op);
    if (n && strlen(n) == len && !strncmp(n, name, len))
      return &p->ops[i];
  }
  return NULL;
}

/* Applies a comma list of op names: to_npu false forces them to the CPU;
 * true requires them on the NPU. */
static bool apply_overrides(plan *p, const char *list, bool to_npu) {
  const char *flag = to_npu ? "-run-on-npu" : "-run-on-cpu";
  bool ok = true;
  for (const char *s = list; s && *s;) {
    const char *e = strchr(s, ',');
    size_t len = e ? (size_t)(e - s) : strlen(s);
    if (len && *s == '%')
      s++, len--;
    placement *pl = len ? find_op(p, s, len) : NULL;
    if (len && !pl) {
      qir_emit_error(p->ctx, qir_loc_unknown(), "%s: no op named '%.*s'", flag,
                     (int)len, s);
      ok = false;
    } else if (pl && to_npu && !pl->npu) {
      qir_op_emit_error(pl->op, "cannot run '%.*s' on the NPU (%s): %s",
                        (int)len, s, flag, pl->reason);
      ok = false;
    } else if (pl && !to_npu) {
      pl->npu = false;
      snprintf(pl->reason, sizeof pl->reason, "requested by -run-on-cpu");
    }
    s = e ? e + 1 : s + len;
  }
  return ok;
}

static void print_placement(const plan *p, FILE *out) {
  unsigned npu = 0;
  for (unsigned i = 0; i < p->num_ops; i++)
    npu += p->ops[i].npu;
  fprintf(out, "placement on %s: %u ops, %u on the NPU, %u on the CPU\n",
          p->target->name, p->num_ops, npu, p->num_ops - npu);
  fprintf(out, "%5s  %-18s %-24s %-4s  %s\n", "#", "op", "name", "unit",
          "reason (CPU)");
  for (unsigned i = 0; i < p->num_ops; i++) {
    const placement *pl = &p->ops[i];
    const char *n = op_name(pl->op);
    fprintf(out, "%5u  %-18s %-24s %s%s%s\n", i, pl->op->def->name,
            n ? n : "-", pl->npu ? "NPU" : "CPU", pl->npu ? "" : "   ",
            pl->npu ? "" : pl->reason);
  }
}

/* ---- Splitting into functions ---------------------------------------------- */

typedef struct segment {
  bool npu;
  unsigned first, count;   /* range of p->ops */
} segment;

typedef struct vlist {
  qir_value **v;
  unsigned n, cap;
} vlist;

static void vlist_push(vlist *l, qir_value *v) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 8;
    l->v = qir_xrealloc(l->v, l->cap * sizeof *l->v);
  }
  l->v[l->n++] = v;
}

/* op->aux holds segment + 1 for the ops of segments, 0 otherwise. */
static void collect_boundary(plan *p, const segment *s, unsigned sid,
                             vlist *ins, vlist *outs) {
  for (unsigned i = s->first; i < s->first + s->count; i++) {
    qir_op *op = p->ops[i].op;
    for (unsigned k = 0; k < op->num_operands; k++) {
      qir_value *v = qir_op_operand(op, k);
      qir_op *d = qir_value_def(v);
      if (v->aux || qir_value_constant(v) || (d && d->aux == (intptr_t)sid + 1))
        continue;
      v->aux = 1;
      vlist_push(ins, v);
    }
    for (unsigned r = 0; r < op->num_results; r++)
      for (qir_use *u = op->results[r].uses; u; u = u->next)
        if (u->owner->aux != (intptr_t)sid + 1) {
          vlist_push(outs, &op->results[r]);
          break;
        }
  }
}

static qir_value *map_operand(qir_block *body, qir_value *v, vlist *touched) {
  if (v->aux)
    return (qir_value *)v->aux;
  /* Only constants are unmapped here: clone them into the function. */
  qir_op *c = qir_value_def(v);
  QIR_ASSERT(c && qir_op_is(c, QIR_OP_CONSTANT));
  qir_op *cl = qir_op_create(c->ctx, c->def, c->loc, 0, NULL, 1, &v->type,
                             c->num_attrs, c->attrs);
  qir_block_append(body, cl);
  if (v->name)
    qir_value_set_name(c->ctx, qir_op_result(cl, 0), v->name);
  v->aux = (intptr_t)qir_op_result(cl, 0);
  vlist_push(touched, v);
  return qir_op_result(cl, 0);
}

static qir_op *clone_into(qir_block *body, qir_op *op, vlist *touched) {
  unsigned n = op->num_operands, nr = op->num_results;
  qir_value *ops[n ? n : 1];
  const qir_type *types[nr ? nr : 1];
  for (unsigned k = 0; k < n; k++)
    ops[k] = map_operand(body, qir_op_operand(op, k), touched);
  for (unsigned r = 0; r < nr; r++)
    types[r] = op->results[r].type;
  qir_op *cl = qir_op_create(op->ctx, op->def, op->loc, n, ops, nr, types,
                             op->num_attrs, op->attrs);
  qir_block_append(body, cl);
  for (unsigned r = 0; r < nr; r++) {
    if (op->results[r].name)
      qir_value_set_name(op->ctx, qir_op_result(cl, r), op->results[r].name);
    op->results[r].aux = (intptr_t)qir_op_result(cl, r);
    vlist_push(touched, &op->results[r]);
  }
  return cl;
}

static qir_func *make_func(plan *p, const segment *s, unsigned sid,
                           vlist *ins, vlist *outs, vlist *touched) {
  qir_context *ctx = p->ctx;
  char name[256];
  snprintf(name, sizeof name, "%s_%s%u", p->func->name, s->npu ? "npu" : "cpu",
           sid);
  const qir_type *at[ins->n + 1], *rt[outs->n + 1];
  const char *an[ins->n + 1];
  for (unsigned i = 0; i < ins->n; i++) {
    at[i] = ins->v[i]->type;
    an[i] = ins->v[i]->name;
  }
  for (unsigned i = 0; i < outs->n; i++)
    rt[i] = outs->v[i]->type;
  qir_func *f = qir_func_create(p->func->module, name, p->func->loc, ins->n, at,
                                an, outs->n, rt);
  if (!f)
    return NULL;
  qir_func_set_attr(f, "npu.placement", qir_attr_cstr(ctx, s->npu ? "npu" : "cpu"));
  if (s->npu)
    qir_func_set_attr(f, "npu.target", qir_attr_cstr(ctx, p->target->name));
  for (unsigned i = 0; i < ins->n; i++)
    ins->v[i]->aux = (intptr_t)f->body.args[i];
  for (unsigned i = s->first; i < s->first + s->count; i++)
    clone_into(&f->body, p->ops[i].op, touched);
  qir_value *rets[outs->n + 1];
  for (unsigned i = 0; i < outs->n; i++)
    rets[i] = (qir_value *)outs->v[i]->aux;
  qir_op *ret = qir_op_create(ctx, qir_builtin_op(ctx, QIR_OP_RETURN),
                              p->func->loc, outs->n, rets, 0, NULL, 0, NULL);
  qir_block_append(&f->body, ret);
  return f;
}

/* Replaces the segment's ops in the entry function by a call of f. */
static void replace_by_call(plan *p, const segment *s, qir_func *f,
                            vlist *ins, vlist *outs) {
  qir_context *ctx = p->ctx;
  const qir_type *rt[outs->n + 1];
  for (unsigned i = 0; i < outs->n; i++)
    rt[i] = outs->v[i]->type;
  qir_named_attr callee = qir_named(ctx, "callee", qir_attr_symbol(ctx, f->name));
  qir_op *first = p->ops[s->first].op;
  qir_op *call = qir_op_create(ctx, qir_builtin_op(ctx, QIR_OP_CALL), first->loc,
                               ins->n, ins->v, outs->n, rt, 1, &callee);
  qir_op_insert_before(first, call);
  for (unsigned i = 0; i < outs->n; i++) {
    const char *name = outs->v[i]->name;
    qir_value_replace_all_uses(outs->v[i], qir_op_result(call, i));
    qir_value_set_name(ctx, outs->v[i], NULL);
    if (name)
      qir_value_set_name(ctx, qir_op_result(call, i), name);
  }
  for (unsigned i = s->first + s->count; i-- > s->first;)
    qir_op_erase(p->ops[i].op);
}

static bool split_segment(plan *p, const segment *s, unsigned sid) {
  vlist ins = {0}, outs = {0}, touched = {0};
  collect_boundary(p, s, sid, &ins, &outs);
  qir_func *f = make_func(p, s, sid, &ins, &outs, &touched);
  for (unsigned i = 0; i < ins.n; i++)
    ins.v[i]->aux = 0;
  for (unsigned i = 0; i < touched.n; i++)
    touched.v[i]->aux = 0;
  if (f)
    replace_by_call(p, s, f, &ins, &outs);
  free(ins.v);
  free(outs.v);
  free(touched.v);
  return f != NULL;
}

static void erase_dead_constants(qir_func *f) {
  qir_foreach_op_safe(op, tmp, &f->body)
    if (qir_op_is(op, QIR_OP_CONSTANT) && !qir_value_has_uses(qir_op_result(op, 0)))
      qir_op_erase(op);
}

static bool split_all(plan *p) {
  qir_block *b = &p->func->body;
  for (unsigned i = 0; i < b->num_args; i++)
    b->args[i]->aux = 0;
  qir_foreach_op(op, b) {
    op->aux = 0;
    for (unsigned r = 0; r < op->num_results; r++)
      op->results[r].aux = 0;
  }
  unsigned nseg = 0;
  segment *segs = qir_xcalloc(p->num_ops + 1, sizeof *segs);
  for (unsigned i = 0; i < p->num_ops; i++) {
    if (!nseg || segs[nseg - 1].npu != p->ops[i].npu)
      segs[nseg++] = (segment){p->ops[i].npu, i, 0};
    segs[nseg - 1].count++;
    p->ops[i].op->aux = (intptr_t)nseg;
  }
  bool ok = true;
  for (unsigned s = 0; s < nseg && ok; s++)
    ok = split_segment(p, &segs[s], s);
  free(segs);
  qir_foreach_op(op, &p->func->body)
    op->aux = 0;
  erase_dead_constants(p->func);
  return ok;
}

/* Whether op reads a result of `from`. */
static bool reads_from(const qir_op *op, const qir_op *from) {
  for (unsigned i = 0; i < op->num_operands; i++)
    for (unsigned r = 0; r < from->num_results; r++)
      if (qir_op_operand(op, i) == &from->results[r])
        return true;
  return false;
}

/* Each CPU op moves down to just before the first op that reads its
 * results (the last first, so that a chain of CPU ops moves together):
 * the NPU ops it stood between then run as one NPU function.  Legal, as
 * nothing between reads what it computes; and the CPU ops run no later
 * than an op needs them.  BlazeFace's heads, each an NPU conv between
 * reshapes of the CPU in the model's order, join the NPU function of the
 * network (their weights loaded and their outputs stored while it
 * computes) instead of running as three functions after it.  p->ops
 * follows the new order. */
static void defer_cpu_ops(plan *p) {
  for (unsigned i = p->num_ops; i-- > 0;) {
    qir_op *op = p->ops[i].op, *first = op->next, *after = op->next;
    if (p->ops[i].npu)
      continue;
    while (first && !reads_from(first, op))
      first = first->next;
    while (after && qir_op_is(after, QIR_OP_CONSTANT)) /* (no instructions) */
      after = after->next;
    if (first && first != after)
      qir_op_move_before(first, op);
  }
  qir_foreach_op(op, &p->func->body)
    op->aux = 0;
  for (unsigned i = 0; i < p->num_ops; i++)
    p->ops[i].op->aux = (intptr_t)i + 1;
  placement *moved = qir_xcalloc(p->num_ops + 1, sizeof *moved);
  unsigned n = 0;
  qir_foreach_op(op, &p->func->body)
    if (op->aux)
      moved[n++] = p->ops[op->aux - 1];
  qir_foreach_op(op, &p->func->body)
    op->aux = 0;
  memcpy(p->ops, moved, n * sizeof *moved);
  free(moved);
}

/* ---- Entry point ------------------------------------------------------------------ */

static qir_func *entry_func(qir_module *m) {
  qir_func *f = qir_module_lookup(m, "main");
  return f ? f : m->first;
}

const qir_target *npu_target_of(qir_context *ctx, const qir_compile_options *o) {
  const qir_target *t = qir_target_lookup(o->target);
  if (!o->target || !*o->target) {
    qir_emit_error(ctx, qir_loc_unknown(), "no target given (-target=NAME)");
    return NULL;
  }
  if (!t) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "unknown target '%s' (qir-llc --print-targets lists them)",
                   o->target);
    return NULL;
  }
  if (o->npu_cores > t->cores) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "-npu-cores=%u is out of range for %s (1 to %u)", o->npu_cores,
                   t->name, t->cores);
    return NULL;
  }
  return t;
}

static bool check_model(plan *p) {
  qir_op *ret = qir_block_terminator(&p->func->body);
  unsigned max = p->target->limits.max_outputs;
  if (ret && max && ret->num_operands > max) {
    qir_emit_error(p->ctx, p->func->loc,
                   "the model has %u outputs; %s supports at most %u",
                   ret->num_operands, p->target->name, max);
    return false;
  }
  for (unsigned i = 0; i < p->num_ops; i++)
    if (p->ops[i].npu)
      return true;
  qir_emit_error(p->ctx, p->func->loc,
                 "no op of @%s can run on the NPU of %s (see -print-placement "
                 "for the reasons)",
                 p->func->name, p->target->name);
  return false;
}

bool qir_npu_partition(qir_module *m, const qir_compile_options *o) {
  plan p = {m->ctx, npu_target_of(m->ctx, o), entry_func(m), 0, NULL};
  if (!p.target)
    return false;
  if (!p.func) {
    qir_emit_error(m->ctx, qir_loc_unknown(), "the module has no function");
    return false;
  }
  legalize_all(&p);
  bool ok = apply_overrides(&p, o->run_on_cpu, false);
  ok = apply_overrides(&p, o->run_on_npu, true) && ok;
  if (ok && o->placement_out)
    print_placement(&p, o->placement_out);
  if (ok)
    defer_cpu_ops(&p);
  ok = ok && check_model(&p) && split_all(&p);
  free(p.ops);
  return ok;
}
