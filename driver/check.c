/* driver/check.c - calibration samples for the build, and the compiler
 * check: the artifact runs in the NPU emulator and the quantized module in
 * the reference interpreter on the same samples; their outputs must agree
 * at the configured level (equal: bit for bit; close: within one step of
 * the output type, or 1e-4 relative for float outputs; cosine: cosine
 * similarity of at least 0.9999).  The worst cosine of the artifact's
 * outputs against the float model's is the summary's "final cosine". */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "driver/build.h"
#include "qir/dataset.h"
#include "qir/npu.h"
#include "qir/progress.h"

/* ---- Comparing outputs --------------------------------------------------- */

static bool outputs_agree(build *b, const char *level, const char *name,
                          const qir_tensor *got, const qir_tensor *want,
                          const char *sample) {
  const char *why = NULL;
  char buf[96];
  if (!qir_tensor_same_shape(got, want)) {
    why = "its shape or type differs";
  } else if (!strcmp(level, "equal") &&
             memcmp(got->data, want->data, got->nbytes) != 0) {
    why = "it is not bit-exact";
  } else if (!strcmp(level, "close")) {
    double steps = qir_tensor_steps_apart(got, want, 1e-4, 1e-4);
    snprintf(buf, sizeof buf, "it differs by %.3g steps", steps);
    why = steps > 1 ? buf : NULL;
  } else if (!strcmp(level, "cosine")) {
    double c = qir_tensor_cosine(got, want);
    snprintf(buf, sizeof buf, "its cosine is %.6f", c);
    why = c < 0.9999 ? buf : NULL;
  }
  if (why)
    qir_emit_error(b->ctx, qir_loc_unknown(),
                   "compiler check (%s) failed on sample '%s': output '%s' "
                   "of the artifact against the quantized module: %s",
                   level, sample, name, why);
  return why == NULL;
}

/* ---- The check ----------------------------------------------------------- */

typedef struct check_run {
  build *b;
  qir_module *qm, *fm;
  qir_interp *qi, *fi;
  qir_artifact *art;
  qir_emu *emu;
  qir_dataset *ds;
} check_run;

static qir_module *load_module(build *b, const char *path) {
  qir_module *m = qir_parse_file(b->ctx, path);
  if (m && !qir_verify_module(m)) {
    qir_module_destroy(m);
    m = NULL;
  }
  return m;
}

static qir_func *entry(qir_module *m) {
  qir_func *f = qir_module_lookup(m, "main");
  return f ? f : m->first;
}

static bool check_open(check_run *r, const char *artifact) {
  build *b = r->b;
  size_t limit = (size_t)cfg_int(b->c, "compiler.check_samples");
  return (r->qm = load_module(b, b->quant_qir)) &&
         (r->fm = load_module(b, b->float_qir)) &&
         (r->qi = qir_interp_create(entry(r->qm), NULL)) &&
         (r->fi = qir_interp_create(entry(r->fm), NULL)) &&
         (r->art = qir_artifact_read_file(b->ctx, artifact)) &&
         (r->emu = qir_emu_create(b->ctx, r->art)) &&
         (r->ds = build_open_dataset(b, entry(r->qm), limit));
}

static void check_close(check_run *r) {
  if (r->ds)
    qir_dataset_close(r->ds);
  if (r->emu)
    qir_emu_destroy(r->emu);
  if (r->art)
    qir_artifact_free(r->art);
  if (r->fi)
    qir_interp_destroy(r->fi);
  if (r->qi)
    qir_interp_destroy(r->qi);
  if (r->fm)
    qir_module_destroy(r->fm);
  if (r->qm)
    qir_module_destroy(r->qm);
}

static bool set_inputs(check_run *r, qir_tensor *in, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    if (!qir_interp_set_input(r->qi, i, &in[i]) ||
        !qir_interp_set_input(r->fi, i, &in[i]) ||
        !qir_emu_set_input(r->emu, i, &in[i]))
      return false;
  return true;
}

static bool check_sample(check_run *r, size_t s, const char *level) {
  unsigned n = qir_interp_num_inputs(r->qi);
  qir_tensor *in = qir_xcalloc(n ? n : 1, sizeof *in);
  bool ok = qir_dataset_load(r->ds, s, in) && set_inputs(r, in, n) &&
            qir_interp_run(r->qi) && qir_interp_run(r->fi) &&
            qir_emu_run(r->emu);
  for (unsigned i = 0; i < n; i++)
    qir_tensor_free_data(&in[i]);
  free(in);
  const char *sample = qir_dataset_sample_name(r->ds, s);
  for (unsigned o = 0; ok && o < qir_interp_num_outputs(r->qi); o++) {
    const qir_tensor *got = qir_emu_output(r->emu, o);
    const char *oname = build_onnx_name(entry(r->qm), "onnx.outputs", o);
    ok = outputs_agree(r->b, level,
                       oname ? oname : qir_interp_output_name(r->fi, o), got,
                       qir_interp_output(r->qi, o), sample);
    const qir_tensor *ref = qir_interp_output(r->fi, o);
    if (ok && qir_tensor_numel(ref) == qir_tensor_numel(got)) {
      double c = qir_tensor_cosine(got, ref);
      build_summary *sum = &r->b->sum;
      if (!sum->have_cosine || c < sum->cosine) {
        sum->cosine = c;
        const char *name = build_onnx_name(entry(r->qm), "onnx.outputs", o);
        snprintf(sum->cosine_output, sizeof sum->cosine_output, "%s",
                 name ? name : qir_interp_output_name(r->fi, o));
      }
      r->b->sum.have_cosine = true;
    }
  }
  return ok;
}

bool build_check_artifact(build *b, const char *artifact) {
  const char *level = cfg_string(b->c, "compiler.check");
  check_run r = {b, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  bool ok = check_open(&r, artifact);
  size_t n = ok ? qir_dataset_size(r.ds) : 0;
  qir_progress *p = ok && b->out && !b->o->no_progress
                        ? qir_progress_start(b->out, "check", n)
                        : NULL;
  for (size_t s = 0; ok && s < n; s++) {
    ok = check_sample(&r, s, level);
    if (p)
      qir_progress_update(p, s + 1);
  }
  if (p)
    qir_progress_finish(p);
  check_close(&r);
  if (ok) {
    snprintf(b->sum.check_result, sizeof b->sum.check_result, "passed (%s, %zu sample%s)", level, n,
             n == 1 ? "" : "s");
    build_say(b, "      the artifact agrees with the quantized module (%s)",
              level);
  }
  return ok;
}
