/* qir/npu.h - NPU code generation: legalization and partitioning,
 * compilation to the NPU ISA (docs/NPU.md), the artifact file
 * (docs/Artifact.md) and the emulator that executes it.
 *
 *   qir_compile_options o;
 *   qir_compile_options_init(&o);
 *   o.target = "ax650";
 *   if (qir_npu_compile(module, &o, "model.qbin")) ...
 *
 *   qir_artifact *a = qir_artifact_read_file(ctx, "model.qbin");
 *   qir_emu *e = qir_emu_create(ctx, a);
 *   qir_emu_set_input(e, 0, &x);
 *   if (qir_emu_run(e)) use(qir_emu_output(e, 0));
 *   qir_emu_destroy(e);
 *   qir_artifact_free(a);
 */
#ifndef QIR_NPU_H
#define QIR_NPU_H

#include "qir/interp.h"
#include "qir/builder.h"
#include "qir/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Compilation ---------------------------------------------------------- */

typedef struct qir_compile_options {
  const char *target;     /* target name (required) */
  unsigned npu_cores;     /* 0: all of the target's cores */
  const char *run_on_cpu; /* comma list of op names (an op's name is the name
                             of its first result) forced to the CPU */
  const char *run_on_npu; /* comma list of op names that must run on the NPU
                             (an error when one cannot) */
  FILE *placement_out;    /* when set, the placement table goes here */
  FILE *asm_out;          /* when set, the NPU program as assembly text */
} qir_compile_options;

void qir_compile_options_init(qir_compile_options *o);

/* Legalizes and partitions `m` in place: the entry function (`@main`, else
 * the first function) becomes a sequence of `call`s of NPU functions
 * (attribute `npu.placement = "npu"`) and CPU functions ("cpu").  Errors
 * (unknown target or op name, an op forced onto the NPU that cannot run
 * there, no NPU op at all, too many outputs) are emitted through the
 * module's context and give false. */
bool qir_npu_partition(qir_module *m, const qir_compile_options *o);

/* Partitions, lowers the NPU functions to the ISA and writes the artifact
 * to `artifact_path` (atomically; NULL writes none). */
bool qir_npu_compile(qir_module *m, const qir_compile_options *o,
                     const char *artifact_path);

/* ---- Artifacts --------------------------------------------------------------- */

typedef struct qir_artifact qir_artifact;

/* Parses an artifact from memory (copied).  Every offset, size and count is
 * checked before use; a malformed file gives `error: 'name': reason` through
 * ctx and NULL. */
qir_artifact *qir_artifact_read_buffer(qir_context *ctx, const void *data,
                                       size_t size, const char *name);
qir_artifact *qir_artifact_read_file(qir_context *ctx, const char *path);
void qir_artifact_free(qir_artifact *a);
/* The target the artifact was compiled for. */
const char *qir_artifact_target(const qir_artifact *a);
/* Prints the NPU programs of the artifact as assembly. */
void qir_artifact_print_asm(const qir_artifact *a, FILE *out);
/* Prints the cost model's estimate (docs/NPU.md): per instruction MACs,
 * DDR bytes, cycles and the bound, then latency, FPS, DDR bytes per frame
 * against the compulsory minimum, and the roofline bound. */
void qir_artifact_print_cost(const qir_artifact *a, FILE *out);

/* ---- Emulator ---------------------------------------------------------------- */

typedef struct qir_emu qir_emu;

/* Prepares to run an artifact (parses its CPU functions).  The artifact
 * must outlive the emulator.  NULL after an error. */
qir_emu *qir_emu_create(qir_context *ctx, const qir_artifact *a);
void qir_emu_destroy(qir_emu *e);
unsigned qir_emu_num_inputs(const qir_emu *e);
unsigned qir_emu_num_outputs(const qir_emu *e);
const char *qir_emu_input_name(const qir_emu *e, unsigned i);
const char *qir_emu_output_name(const qir_emu *e, unsigned i);
const qir_type *qir_emu_input_type(const qir_emu *e, unsigned i);
/* Copies `t` into input i; an error when its type does not match. */
bool qir_emu_set_input(qir_emu *e, unsigned i, const qir_tensor *t);
/* Runs the NPU programs in the emulator and the CPU functions with the
 * reference interpreter, in the artifact's order. */
bool qir_emu_run(qir_emu *e);
/* Output i of the last run; valid until the next run or destroy. */
const qir_tensor *qir_emu_output(const qir_emu *e, unsigned i);
/* Every value the artifact passes between its steps (its inputs and the
 * results of each NPU program and CPU function), named after the values
 * of the module it was compiled from; the tensors of the last run. */
unsigned qir_emu_num_values(const qir_emu *e);
const char *qir_emu_value_name(const qir_emu *e, unsigned i);
const qir_tensor *qir_emu_value(const qir_emu *e, unsigned i);

/* Counters of the work the emulator executed in the last run
 * (docs/NPU.md, "Emulator counters"): the DDR bytes of the transfers it
 * performed (loads from the ddr and wgt spaces, stores to ddr) and the
 * cycles of a per-instruction model on the DMA and compute queues. */
typedef struct qir_emu_step_stats {
  unsigned step;                   /* index in the steps of its graph */
  unsigned batch;                  /* frames per run: 1 for the artifact's
                                      own graph, else a batch variant's */
  const char *program;             /* the NPU program it ran */
  uint64_t runs;                   /* times the program ran */
  uint64_t instructions;           /* instructions executed */
  uint64_t ddr_load_bytes;         /* loads from ddr and wgt */
  uint64_t ddr_weight_load_bytes;  /* the part of them from wgt */
  uint64_t ddr_store_bytes;
  double cycles;
} qir_emu_step_stats;

typedef struct qir_emu_stats {
  uint64_t runs;                   /* graphs run: 1, or with several frames
                                      the pieces of the batch (4 + 4 + 1) */
  uint64_t frames;                 /* frames of the run */
  uint64_t instructions;
  uint64_t ddr_load_bytes, ddr_weight_load_bytes, ddr_store_bytes;
  double cycles;                   /* NPU steps one after the other */
  double clock_mhz;                /* of the artifact's target */
  double latency_us;               /* cycles / clock */
  unsigned num_steps;              /* NPU steps, in artifact order (with
                                      several frames, those of the artifact's
                                      graph and then of each variant) */
  const qir_emu_step_stats *steps; /* valid until the next run or destroy */
} qir_emu_stats;

/* The counters of the last qir_emu_run (all zero before the first run). */
void qir_emu_get_stats(const qir_emu *e, qir_emu_stats *s);

/* Batches (docs/NPU.md, "Batching").  An artifact compiled with qir-llc
 * -static-batch or -max-dynamic-batch holds programs for several batch
 * sizes on one weight space.  The batch sizes it runs, ascending (the
 * first is 1). */
unsigned qir_emu_num_batch_sizes(const qir_emu *e);
unsigned qir_emu_batch_size(const qir_emu *e, unsigned i);
#define QIR_EMU_MAX_FRAMES 65536
/* Sets the frames of the next runs (1 by default): every input and output
 * then holds that many frames along dimension 0 (qir_emu_input_type gives
 * the type), and a run covers them with the batch sizes, the largest that
 * fits first (9 frames with sizes 1, 2 and 4: 4 + 4 + 1); the result
 * equals running frame by frame.  Inputs are to be set again.  An error
 * when frames is 0 or over QIR_EMU_MAX_FRAMES, or when frames > 1 and the
 * model's inputs and outputs do not have one frame in dimension 0.  With
 * several frames, qir_emu_value gives the values of the artifact's own
 * graph's last run (a piece of one frame), if any. */
bool qir_emu_set_frames(qir_emu *e, unsigned frames);
unsigned qir_emu_frames(const qir_emu *e);

/* ---- Tools ------------------------------------------------------------------- */

/* The qir-llc command line; returns the exit status. */
int qir_llc_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
