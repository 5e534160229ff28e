/* backends/npu/run.h - running an artifact file: the one path that qir-run
 * (backends/cpu/run-main.c) and qir-llc -emulate (llc-main.c) share to
 * load, check and execute a compiled model (docs/Artifact.md). */
#ifndef QIR_BACKENDS_NPU_RUN_H
#define QIR_BACKENDS_NPU_RUN_H

#include <stdio.h>

#include "backends/npu/perf.h"
#include "qir/npu.h"

/* True when data[0..size) begins with the artifact magic. */
bool npu_is_artifact(const void *data, size_t size);
/* True when the file at `path` begins with the artifact magic (false when
 * it cannot be read: the caller reports that). */
bool npu_file_is_artifact(const char *path);

/* Sets the inputs of the emulator before the first run; false after an
 * error (reported through the context). */
typedef bool npu_bind_inputs_fn(qir_context *ctx, qir_emu *e, void *user);

/* Prepares the emulator of `a`, calls bind(ctx, e, user) and runs the
 * model once: the NPU programs in the emulator, the CPU functions with the
 * reference interpreter.  Returns the emulator holding the outputs of that
 * run (it can run again); NULL after an error, reported through ctx. */
qir_emu *npu_artifact_run(qir_context *ctx, const qir_artifact *a,
                          npu_bind_inputs_fn *bind, void *user);
/* Reads the artifact at `path` (every check of qir_artifact_read_buffer:
 * magic, version, size, checksum, offsets, programs) and runs it as
 * npu_artifact_run does; the artifact goes to *a (free both with
 * npu_artifact_close).  NULL after an error. */
qir_emu *npu_artifact_run_file(qir_context *ctx, const char *path,
                               npu_bind_inputs_fn *bind, void *user,
                               qir_artifact **a);
void npu_artifact_close(qir_emu *e, qir_artifact *a);

/* Prints what running the artifact takes, one `prefix: key: value` line
 * each: target, cores, programs and instructions, NPU and CPU steps,
 * weight bytes, and the DDR and SRAM the programs need. */
void npu_artifact_print_stats(const qir_artifact *a, FILE *out,
                              const char *prefix);

/* ---- Batch variants (docs/NPU.md, "Batching") ------------------------------------ */

/* The largest batch -static-batch and -max-dynamic-batch accept. */
#define NPU_MAX_BATCH 64

/* Sets dimension 0 of the entry function's inputs of `m` to `batch` and
 * infers every type again; false after an error (reported through the
 * module's context) when the model's batch is fixed: a value computed from
 * the inputs that does not keep the batch in dimension 0 (a reshape to a
 * constant shape, ...) or an op that works across it (an axis 0). */
bool npu_module_set_batch(qir_module *m, int64_t batch);

/* A new, empty artifact (every artifact is allocated here: it can hold
 * batch variants). */
qir_artifact *npu_artifact_new(void);
/* Batch variants of an artifact: the artifact's own graph runs one frame;
 * each variant (a graph, its programs and CPU functions, compiled at
 * `batch` frames) shares its weight space. */
unsigned npu_artifact_num_variants(const qir_artifact *a);
/* Variant i (its weights are a's: do not free them). */
const qir_artifact *npu_artifact_variant(const qir_artifact *a, unsigned i,
                                         unsigned *batch);
/* Adds variant `v` (compiled at `batch` frames from the same model) to a,
 * which takes it: its weights become a's (appended when they differ, the
 * programs' weight offsets moved accordingly).  Variants are kept sorted
 * by batch. */
void npu_artifact_add_variant(qir_artifact *a, unsigned batch, qir_artifact *v);

/* The emulator's counters of one run (qir_emu_get_stats) next to the
 * estimate `perf` of the same artifact, per NPU step and in total, with
 * the difference (emulated - estimated) / estimated in percent (report.c;
 * docs/NPU.md, "Emulator counters"). */
void npu_emu_stats_print_text(const npu_perf *perf, const qir_artifact *a,
                              const qir_emu_stats *s, FILE *out);
/* The JSON of -perf-json, with an "emulated" object when `emu` is set. */
void npu_perf_print_json_emu(const npu_perf *perf, const qir_artifact *a,
                             const qir_emu_stats *emu, FILE *out);

#endif
