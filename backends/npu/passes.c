/* backends/npu/passes.c - the NPU passes of passes/passes.def, for qir-opt
 * and lit tests: npu-legalize reports the placement of every op as
 * remarks; npu-partition splits the entry function into NPU and CPU
 * functions (what qir-llc does before lowering). */
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
