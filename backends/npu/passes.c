/* backends/npu/passes.c - the NPU passes of passes/passes.def, for qir-opt
 * and lit tests: npu-legalize reports the placement of every op as
 * remarks; npu-partition splits the entry function into NPU and CPU
 * functions (what qir-llc does before lowering); npu-schedule reports the
 * schedule of each NPU function as remarks. */
#include <stdlib.h>
#include <string.h>

#include "backends/npu/npu.h"
#include "qir/pass.h"

static void options_of(qir_pass *p, qir_compile_options *o) {
  qir_compile_options_init(o);
  o->target = qir_pass_opt_string(p, "target");
  o->npu_cores = (unsigned)qir_pass_opt_int(p, "npu-cores");
}

bool qir_pass_run_npu_legalize(qir_pass *p, void *unit) {
  qir_func *f = unit;
  qir_compile_options o;
  options_of(p, &o);
  const qir_target *t = npu_target_of(qir_pass_context(p), &o);
  if (!t)
    return false;
  qir_foreach_op(op, &f->body) {
    if (qir_op_is(op, QIR_OP_CONSTANT) || qir_op_is(op, QIR_OP_RETURN))
      continue;
    char why[192];
    if (npu_op_is_legal(t, op, why, sizeof why))
      qir_op_emit_remark(op, "NPU");
    else
      qir_op_emit_remark(op, "CPU: %s", why);
    qir_pass_stat(p, "ops", 1);
  }
  return true;
}

bool qir_pass_run_npu_partition(qir_pass *p, void *unit) {
  qir_compile_options o;
  options_of(p, &o);
  o.run_on_cpu = qir_pass_opt_string(p, "run-on-cpu");
  o.run_on_npu = qir_pass_opt_string(p, "run-on-npu");
  return qir_npu_partition(unit, &o);
}

/* ---- npu-schedule ---- */

typedef struct schedule_report {
  qir_func *f;
  const qir_target *t;
} schedule_report;

/* The op whose instructions carry `comment` ("conv2d %name"), or NULL. */
static const qir_op *op_of(qir_func *f, const char *comment) {
  qir_foreach_op(op, &f->body) {
    const char *name = op->num_results ? op->results[0].name : NULL;
    size_t n = strlen(op->def->name);
    if (name && !strncmp(comment, op->def->name, n) && !strncmp(comment + n, " %", 2) &&
        !strcmp(comment + n + 2, name))
      return op;
  }
  return NULL;
}

static void report_group(void *ctx, const npu_sched_group *g) {
  const schedule_report *r = ctx;
  const qir_op *op = g->first ? op_of(r->f, g->first) : NULL;
  double us = 1.0 / r->t->clock_mhz;
  char what[384];
  if (g->split)
    snprintf(what, sizeof what, "split along its output channels over %u cores", g->cores);
  else {
    char cols[48] = "";
    if (g->tile_cols)
      snprintf(cols, sizeof cols, " x %lld column(s)", (long long)g->tile_cols);
    snprintf(what, sizeof what, "%u instruction(s) to '%s': %lld tile(s) of %lld row(s)%s%s, %s "
             "buffered, on %u core(s)", g->num_insns, g->last ? g->last : "?",
             (long long)g->tiles, (long long)g->tile_rows, cols,
             g->per_frame ? ", one frame each" : "", g->double_buffer ? "double" : "single",
             g->cores);
    if (g->keep) {
      size_t n = strlen(what);
      snprintf(what + n, sizeof what - n, g->keep == 1 ? ", input halo kept" : ", halos kept");
    }
    if (g->pooled_by) {
      size_t n = strlen(what);
      snprintf(what + n, sizeof what - n, ", pooled band by band by '%s'", g->pooled_by);
    }
    if (g->escaping) {
      size_t n = strlen(what);
      snprintf(what + n, sizeof what - n, ", rows of '%s'%s also copied out", g->escape,
               g->escaping > 1 ? " and later results" : "");
    }
  }
  const char *fmt = "npu-schedule: %s; %.2f us -> %.2f us, DDR %.0f -> %.0f bytes";
  if (op)
    qir_op_emit_remark(op, fmt, what, g->untiled_cycles * us, g->cycles * us,
                       g->untiled_ddr_bytes, g->ddr_bytes);
  else
    qir_emit_remark(r->f->module->ctx, r->f->loc, fmt, what, g->untiled_cycles * us,
                    g->cycles * us, g->untiled_ddr_bytes, g->ddr_bytes);
}

bool qir_pass_run_npu_schedule(qir_pass *p, void *unit) {
  qir_func *f = unit;
  qir_context *ctx = qir_pass_context(p);
  const qir_attr *pl = qir_func_get_attr(f, "npu.placement");
  qir_compile_options o;
  options_of(p, &o);
  const char *mode_name = qir_pass_opt_string(p, "mode");
  unsigned mode;
  if (!npu_schedule_from_name(mode_name, &mode)) {
    qir_emit_error(ctx, f->loc, "npu-schedule: unknown mode '%s' (none, sram or tile)",
                   mode_name);
    return false;
  }
  const qir_target *t = npu_target_of(ctx, &o);
  if (!t)
    return false;
  if (!pl || pl->kind != QIR_ATTR_STRING || strcmp(pl->u.str.data, "npu"))
    return true; /* a CPU function, or the module before npu-partition */
  npu_program prog = {0};
  npu_blob w = {0};
  schedule_report r = {f, t};
  bool ok = npu_lower_scheduled(f, t, &prog, &w, mode, o.npu_cores, report_group, &r);
  if (ok) {
    qir_emit_remark(ctx, f->loc, "npu-schedule: @%s: %u instructions, %llu bytes of DDR "
                    "activations, %llu of SRAM", f->name, prog.num_insns,
                    (unsigned long long)prog.ddr_size, (unsigned long long)prog.sram_size);
    qir_pass_stat(p, "instructions", prog.num_insns);
  }
  npu_program_free(&prog);
  free(w.data);
  return ok;
}
