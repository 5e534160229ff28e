/* backends/npu/stubs.c - entry points not written yet. */
#include <string.h>

#include "backends/npu/npu.h"

void qir_compile_options_init(qir_compile_options *o) {
  memset(o, 0, sizeof *o);
}

bool qir_npu_partition(qir_module *m, const qir_compile_options *o) {
  (void)o;
  qir_emit_error(m->ctx, qir_loc_unknown(), "NPU partitioning is not supported yet");
  return false;
}

bool qir_npu_compile(qir_module *m, const qir_compile_options *o,
                     const char *artifact_path) {
  (void)artifact_path;
  return qir_npu_partition(m, o);
}

qir_artifact *qir_artifact_read_buffer(qir_context *ctx, const void *data,
                                       size_t size, const char *name) {
  (void)data;
  (void)size;
  qir_emit_error(ctx, qir_loc_unknown(), "'%s': artifacts are not supported yet",
                 name);
  return NULL;
}

qir_artifact *qir_artifact_read_file(qir_context *ctx, const char *path) {
  return qir_artifact_read_buffer(ctx, NULL, 0, path);
}

void qir_artifact_free(qir_artifact *a) { (void)a; }
const char *qir_artifact_target(const qir_artifact *a) { return a->target; }
void qir_artifact_print_asm(const qir_artifact *a, FILE *out) {
  (void)a;
  (void)out;
}

qir_emu *qir_emu_create(qir_context *ctx, const qir_artifact *a) {
  (void)a;
  qir_emit_error(ctx, qir_loc_unknown(), "the emulator is not supported yet");
  return NULL;
}
void qir_emu_destroy(qir_emu *e) { (void)e; }
unsigned qir_emu_num_inputs(const qir_emu *e) { (void)e; return 0; }
unsigned qir_emu_num_outputs(const qir_emu *e) { (void)e; return 0; }
const char *qir_emu_input_name(const qir_emu *e, unsigned i) { (void)e; (void)i; return NULL; }
const char *qir_emu_output_name(const qir_emu *e, unsigned i) { (void)e; (void)i; return NULL; }
const qir_type *qir_emu_input_type(const qir_emu *e, unsigned i) { (void)e; (void)i; return NULL; }
bool qir_emu_set_input(qir_emu *e, unsigned i, const qir_tensor *t) { (void)e; (void)i; (void)t; return false; }
bool qir_emu_run(qir_emu *e) { (void)e; return false; }
const qir_tensor *qir_emu_output(const qir_emu *e, unsigned i) { (void)e; (void)i; return NULL; }
