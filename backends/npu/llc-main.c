/* backends/npu/llc-main.c - the qir-llc command line (tools/qir-llc/main.c
 * calls qir_llc_main).
 *
 *   qir-llc model.q.qir -target=ax650 -o model.qbin     the artifact
 *   qir-llc model.q.qir -target=bpu-bayes -emit=asm     the NPU program
 *   qir-llc model.q.qir -target=ax615 -emit=qir         the partitioned IR
 *   qir-llc model.q.qir -target=ax650 -check=equal      compile, emulate and
 *                                                       compare bit for bit
 *   qir-llc -emulate model.qbin --input x=x.npy --output-dir out/ */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backends/cpu/cpu.h"
#include "backends/npu/perf.h"
#include "backends/npu/run.h"
#include "ir/cli.h"
#include "qir/io.h"
#include "qir/npy.h"

#define MAX_INPUTS 64

typedef struct llc_opts {
  const char *input, *output, *emit, *check, *save_inputs, *output_dir;
  bool per_layer;                      /* -check-mode=per-layer */
  double check_rtol, check_atol, check_cosine;
  const char *perf_json, *perf_report;
  const char *inputs[MAX_INPUTS];
  unsigned num_inputs;
  bool emulate, random_inputs, print_placement, print_cost, emu_stats;
  long samples, seed;
  unsigned schedule; /* enum npu_schedule */
  /* Batching: the sizes of -static-batch (ascending), or the limit of
   * -max-dynamic-batch; the frames of a run (-batch). */
  unsigned static_batch[NPU_MAX_BATCH], num_static_batch, max_dynamic_batch;
  const char *static_batch_text;
  long frames;
  npu_perf_options perf;
  qir_compile_options co;
} llc_opts;

static void usage(FILE *out) {
  fprintf(out, "usage: qir-llc MODEL.q.qir -target=NAME [options]\n"
        "       qir-llc -emulate MODEL.qbin [emulation options]\n"
        "       qir-llc --print-targets\n"
        "  -target=NAME (-march=NAME)  the NPU target (see --print-targets)\n"
        "  -npu-cores=N                cores to compile for (AX650: 1, 2 or 3)\n"
        "  -o FILE                     the artifact (or the -emit output)\n"
        "  -emit=artifact|asm|qir|null what to write (default artifact);\n"
        "                              -filetype=obj|asm|null is a synonym\n"
        "  -npu-schedule=none|sram|tile where activations live: none keeps\n"
        "                              each in its own DDR range; sram reuses\n"
        "                              memory by liveness and keeps\n"
        "                              intermediates in SRAM when they fit;\n"
        "                              tile (default) also runs layer groups\n"
        "                              tile by tile through SRAM\n"
        "  -print-placement            the table of ops, NPU or CPU, and why\n"
        "  -print-cost                 the cost model's estimate per instruction\n"
        "                              and for the model (latency, DDR bytes)\n"
        "  -perf-json=FILE             the estimate as JSON (summary, layers)\n"
        "  -perf-report=FILE           the estimate as an HTML page (summary,\n"
        "                              layer table, timeline)\n"
        "  -emu-stats                  emulate one frame (random inputs when\n"
        "                              compiling) and print the emulator's DDR\n"
        "                              bytes and cycles against the estimate\n"
        "                              (also in -perf-json)\n"
        "  -ddr-bw-limit=GBPS          DDR bandwidth left to the NPU (a busy\n"
        "                              bus) for the estimate; default the target's\n"
        "  -static-batch=N,...         also compile the model at these batch sizes\n"
        "                              (and 1) into the one artifact, sharing\n"
        "                              the weights (at most %d)\n"
        "  -max-dynamic-batch=N        batch sizes 1, 2, 4, ... up to N while\n"
        "                              the estimated time per frame improves\n"
        "  -batch=N                    frames per run for -emulate and -check\n"
        "                              (the batch sizes of the artifact,\n"
        "                              largest first: 9 = 4 + 4 + 1)\n"
        "  -run-on-cpu=NAME,...        force ops (named by their result) to the CPU\n"
        "  -run-on-npu=NAME,...        require ops on the NPU (error if illegal)\n"
        "  -check=none|equal|close|cosine  emulate the artifact on random inputs\n"
        "                              and compare with the interpreter: bit for\n"
        "                              bit; within one step (quantized) or the\n"
        "                              tolerances (float); or by cosine\n"
        "  -check-rtol=X, -check-atol=X  close: |got - want| <= max(atol,\n"
        "                              rtol |want|) for float values (1e-4, 1e-4)\n"
        "  -check-cosine=X             cosine: the least similarity (0.9999)\n"
        "  -check-mode=output|per-layer  compare the outputs, or every value\n"
        "                              between steps (NPU programs, CPU functions)\n"
"  -check-samples=N            random inputs for -check (default 16)\n"
        "  -seed=N                     seed of the random inputs (default 1)\n"
        "emulation (-emulate MODEL.qbin):\n"
        "  --input NAME=FILE.npy       an input (NAME= may be left out)\n"
        "  --random-inputs             random data for inputs not given\n"
        "  --save-inputs DIR           write the inputs used as DIR/<name>.npy\n"
        "  --output-dir DIR            write DIR/<output-name>.npy per output\n",
        NPU_MAX_BATCH);
}

static int fail(const char *fmt, ...) QIR_PRINTF(1, 2);
static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("qir-llc: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 1;
}

static void llc_diag_handler(qir_context *ctx, const qir_diag *d, void *user) {
  (void)user;
  qir_cli_print_diag(ctx, d, "qir-llc");
}

static bool parse_long(const char *s, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || !*s || *end || v < min || v > max)
    return false;
  *out = v;
  return true;
}

/* A number in [min, max] (min excluded when open_min). */
static bool parse_double(const char *s, double min, bool open_min, double max,
                         double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || !*s || *end || !(open_min ? v > min : v >= min) || !(v <= max))
    return false;
  *out = v;
  return true;
}

/* A batch size of option `opt` from text s (one item of a list); -1 to
 * go on, else the exit status after the error. */
static int parse_batch_size(const char *opt, const char *whole, const char *s, char **end,
                            unsigned *out) {
  if (*s < '0' || *s > '9')
    return fail("bad -%s value '%s': not a %s", opt, whole,
                strcmp(opt, "static-batch") ? "batch size" : "comma list of batch sizes");
  errno = 0;
  long n = strtol(s, end, 10);
  if (n == 0)
    return fail("bad -%s value '%s': a batch size is at least 1", opt, whole);
  if (errno || n > NPU_MAX_BATCH)
    return fail("bad -%s value '%s': a batch size is at most %d", opt, whole, NPU_MAX_BATCH);
  *out = (unsigned)n;
  return -1;
}

/* -static-batch=N,...: sizes from 1 to NPU_MAX_BATCH, each once; kept
 * ascending. */
static int parse_static_batch(const char *v, llc_opts *o) {
  o->static_batch_text = v;
  o->num_static_batch = 0;
  for (const char *p = v;;) {
    char *end;
    unsigned n;
    int rc = parse_batch_size("static-batch", v, p, &end, &n);
    if (rc >= 0)
      return rc;
    unsigned i = o->num_static_batch;
    for (unsigned k = 0; k < i; k++)
      if (o->static_batch[k] == n)
        return fail("bad -static-batch value '%s': batch size %u is listed twice", v, n);
    for (; i > 0 && o->static_batch[i - 1] > n; i--)
      o->static_batch[i] = o->static_batch[i - 1];
    o->static_batch[i] = n;
    o->num_static_batch++;
    if (!*end)
      return -1;
    if (*end != ',')
      return fail("bad -static-batch value '%s': not a comma list of batch sizes", v);
    p = end + 1;
  }
}

static int parse_max_dynamic_batch(const char *v, llc_opts *o) {
  char *end;
  int rc = parse_batch_size("max-dynamic-batch", v, v, &end, &o->max_dynamic_batch);
  if (rc < 0 && *end)
    return fail("bad -max-dynamic-batch value '%s': not a batch size", v);
  return rc;
}

/* The combinations the options forbid; -1 when there is none. */
static int check_batch_options(const llc_opts *o) {
  bool batching = o->num_static_batch || o->max_dynamic_batch;
  if (o->num_static_batch && o->max_dynamic_batch)
    return fail("-static-batch and -max-dynamic-batch cannot be used together");
  if (batching && o->emulate)
    return fail("-static-batch and -max-dynamic-batch compile a model (not with -emulate)");
  if (batching && !strcmp(o->emit, "qir"))
    return fail("-static-batch and -max-dynamic-batch apply to the artifact (not to -emit=qir)");
  if (o->emu_stats && o->perf.ddr_gbps_limit > 0)
    return fail("-emu-stats times the target's DDR bandwidth (not with -ddr-bw-limit)");
  if (o->frames > 1 && o->per_layer)
    return fail("-batch does not apply to -check-mode=per-layer");
  return -1;
}

static const char *filetype_to_emit(const char *v) {
  return !strcmp(v, "obj") ? "artifact" : v;
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, llc_opts *o) {
  memset(o, 0, sizeof *o);
  qir_compile_options_init(&o->co);
  o->emit = "artifact";
  o->check = "none";
  o->check_rtol = o->check_atol = 1e-4;
  o->check_cosine = 0.9999;
  o->samples = 16;
  o->seed = 1;
  o->schedule = NPU_SCHEDULE_BEST;
  o->frames = 1;
  npu_perf_options_init(&o->perf);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    long n;
    if (qir_cli_opt_flag(a, "help") || qir_cli_opt_flag(a, "h")) {
      usage(stdout);
      return 0;
    } else if (qir_cli_opt_flag(a, "print-targets")) {
      qir_target_print_all(stdout);
      return 0;
    } else if (qir_cli_opt_flag(a, "print-placement")) {
      o->print_placement = true;
    } else if (qir_cli_opt_flag(a, "print-cost")) {
      o->print_cost = true;
    } else if (qir_cli_opt_flag(a, "emu-stats")) {
      o->emu_stats = true;
    } else if (qir_cli_opt_flag(a, "emulate")) {
      o->emulate = true;
    } else if (qir_cli_opt_flag(a, "random-inputs")) {
      o->random_inputs = true;
    } else if (qir_cli_opt_value(argc, argv, &i, "target", &v) ||
               qir_cli_opt_value(argc, argv, &i, "march", &v)) {
      o->co.target = v;
    } else if (qir_cli_opt_value(argc, argv, &i, "npu-cores", &v)) {
      if (!parse_long(v, 1, 64, &n))
        return fail("bad -npu-cores value '%s'", v);
      o->co.npu_cores = (unsigned)n;
    } else if (qir_cli_opt_value(argc, argv, &i, "npu-schedule", &v)) {
      if (!npu_schedule_from_name(v, &o->schedule))
        return fail("unknown -npu-schedule value '%s' (none, sram or tile)", v);
    } else if (qir_cli_opt_value(argc, argv, &i, "static-batch", &v)) {
      int rc = parse_static_batch(v, o);
      if (rc >= 0)
        return rc;
    } else if (qir_cli_opt_value(argc, argv, &i, "max-dynamic-batch", &v)) {
      int rc = parse_max_dynamic_batch(v, o);
      if (rc >= 0)
        return rc;
    } else if (qir_cli_opt_value(argc, argv, &i, "batch", &v)) {
      if (!parse_long(v, 1, QIR_EMU_MAX_FRAMES, &o->frames))
        return fail("bad -batch value '%s' (frames per run, from 1 to %d)", v,
                    QIR_EMU_MAX_FRAMES);
    } else if (qir_cli_opt_value(argc, argv, &i, "run-on-cpu", &v)) {
      o->co.run_on_cpu = v;
    } else if (qir_cli_opt_value(argc, argv, &i, "run-on-npu", &v)) {
      o->co.run_on_npu = v;
    } else if (qir_cli_opt_value(argc, argv, &i, "emit", &v) ||
               qir_cli_opt_value(argc, argv, &i, "filetype", &v)) {
      o->emit = filetype_to_emit(v);
      if (strcmp(o->emit, "artifact") && strcmp(o->emit, "asm") &&
          strcmp(o->emit, "qir") && strcmp(o->emit, "null"))
        return fail("unknown -emit value '%s' (artifact, asm, qir or null)", v);
    } else if (qir_cli_opt_value(argc, argv, &i, "perf-json", &v)) {
      o->perf_json = v;
    } else if (qir_cli_opt_value(argc, argv, &i, "perf-report", &v)) {
      o->perf_report = v;
    } else if (qir_cli_opt_value(argc, argv, &i, "ddr-bw-limit", &v)) {
      if (!parse_double(v, 0, true, 1e6, &o->perf.ddr_gbps_limit))
        return fail("bad -ddr-bw-limit value '%s' (GB/s, a number over 0)", v);
    } else if (qir_cli_opt_value(argc, argv, &i, "check-samples", &v)) {
      if (!parse_long(v, 1, 1000000, &o->samples))
        return fail("bad -check-samples value '%s'", v);
    } else if (qir_cli_opt_value(argc, argv, &i, "check-rtol", &v)) {
      if (!parse_double(v, 0, false, 1e6, &o->check_rtol))
        return fail("bad -check-rtol value '%s' (a number of at least 0)", v);
    } else if (qir_cli_opt_value(argc, argv, &i, "check-atol", &v)) {
      if (!parse_double(v, 0, false, 1e30, &o->check_atol))
        return fail("bad -check-atol value '%s' (a number of at least 0)", v);
    } else if (qir_cli_opt_value(argc, argv, &i, "check-cosine", &v)) {
      if (!parse_double(v, -1, false, 1, &o->check_cosine))
        return fail("bad -check-cosine value '%s' (a number from -1 to 1)", v);
    } else if (qir_cli_opt_value(argc, argv, &i, "check-mode", &v)) {
      if (strcmp(v, "output") && strcmp(v, "per-layer"))
        return fail("unknown -check-mode value '%s' (output or per-layer)", v);
      o->per_layer = !strcmp(v, "per-layer");
    } else if (qir_cli_opt_value(argc, argv, &i, "check", &v)) {
      if (strcmp(v, "none") && strcmp(v, "equal") && strcmp(v, "close") &&
          strcmp(v, "cosine"))
        return fail("unknown -check value '%s' (none, equal, close or cosine)", v);
      o->check = v;
    } else if (qir_cli_opt_value(argc, argv, &i, "seed", &v)) {
      if (!parse_long(v, 0, 0x7fffffffL, &o->seed))
        return fail("bad -seed value '%s'", v);
    } else if (qir_cli_opt_value(argc, argv, &i, "input", &v)) {
      if (o->num_inputs == MAX_INPUTS)
        return fail("too many --input options");
      o->inputs[o->num_inputs++] = v;
    } else if (qir_cli_opt_value(argc, argv, &i, "save-inputs", &v)) {
      o->save_inputs = v;
    } else if (qir_cli_opt_value(argc, argv, &i, "output-dir", &v)) {
      o->output_dir = v;
    } else if (!strcmp(a, "-o") && i + 1 < argc) {
      o->output = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      return fail("unknown option '%s' (see --help)", a);
    } else if (o->input) {
      return fail("more than one input file");
    } else {
      o->input = a;
    }
  }
  if (!o->input)
    return fail("no input file (see --help)");
  return check_batch_options(o);
}

/* ---- Random inputs ------------------------------------------------------------- */

static uint64_t next_random(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* Floats uniform in [-1, 1); integers uniform over their (quantized)
 * range. */
static void fill_random(qir_tensor *t, uint64_t *state) {
  int64_t n = qir_tensor_numel(t);
  const qir_type *e = t->elem;
  bool q = e && e->kind == QIR_TYPE_QUANT;
  for (int64_t i = 0; i < n; i++) {
    uint64_t r = next_random(state);
    if (qir_scalar_is_float(t->scalar)) {
      double v = (double)(r >> 11) / (double)(1ull << 53) * 2.0 - 1.0;
      if (t->scalar == QIR_F32)
        ((float *)t->data)[i] = (float)v;
      else if (t->scalar == QIR_F64)
        ((double *)t->data)[i] = v;
      else
        ((uint16_t *)t->data)[i] = t->scalar == QIR_F16 ? qir_f32_to_f16((float)v)
                                                        : qir_f32_to_bf16((float)v);
    } else {
      int64_t lo = q ? e->qmin : qir_scalar_min(t->scalar);
      int64_t hi = q ? e->qmax : qir_scalar_max(t->scalar);
      if (t->scalar == QIR_I64)
        lo = -1000, hi = 1000;
      qir_store_int(t->scalar, t->data, i,
                    lo + (int64_t)(r % (uint64_t)(hi - lo + 1)));
    }
  }
}

static bool random_input(qir_tensor *t, const qir_type *type, uint64_t *state) {
  qir_tensor_init_from_type(t, type);
  if (!qir_tensor_is_static(type) || !qir_tensor_alloc(t))
    return false;
  fill_random(t, state);
  return true;
}

/* ---- Performance estimate ---------------------------------------------------------- */

static bool wants_perf(const llc_opts *o) {
  return o->print_cost || o->perf_json || o->perf_report || o->emu_stats;
}

typedef struct perf_file {
  const char *path;
  bool html;
  qir_output out;
  bool open;
} perf_file;

/* Writes -perf-json and -perf-report to their temporaries, then commits
 * both, or neither when one fails. */
static bool write_perf_files(qir_context *ctx, const llc_opts *o, const npu_perf *perf,
                             const qir_artifact *a, const qir_emu_stats *emu) {
  perf_file files[2] = {{.path = o->perf_json}, {.path = o->perf_report, .html = true}};
  bool ok = true;
  for (unsigned i = 0; i < 2 && ok; i++) {
    perf_file *f = &files[i];
    if (!f->path)
      continue;
    ok = f->open = qir_output_open(ctx, &f->out, f->path, false);
    if (ok && f->html && !npu_perf_print_html(perf, a, f->out.fp)) {
      qir_emit_error(ctx, qir_loc_unknown(), "cannot write '%s': HTML serialization failed",
                     f->path);
      ok = false;
    } else if (ok && !f->html) {
      npu_perf_print_json_emu(perf, a, emu, f->out.fp);
    }
  }
  for (unsigned i = 0; i < 2; i++) {
    perf_file *f = &files[i];
    if (f->open && ok)
      ok = qir_output_commit(ctx, &f->out);
    else if (f->open)
      qir_output_abort(&f->out);
  }
  return ok;
}

/* The estimate of `a` into -perf-json and -perf-report (when `files`),
 * and to stdout with -print-cost (when `text`); with the emulator's
 * counters `emu` (-emu-stats) in the JSON and, after the estimate, on
 * stdout. */
static bool report_perf(qir_context *ctx, const llc_opts *o, const qir_artifact *a,
                        bool files, bool text, const qir_emu_stats *emu) {
  npu_perf perf;
  if (!npu_perf_compute(a, &o->perf, &perf)) {
    qir_emit_error(ctx, qir_loc_unknown(), "no cost model for target '%s'",
                   qir_artifact_target(a));
    return false;
  }
  bool ok = !files || write_perf_files(ctx, o, &perf, a, emu);
  if (ok && text && o->print_cost)
    npu_perf_print_text(&perf, stdout);
  if (ok && text && emu)
    npu_emu_stats_print_text(&perf, a, emu, stdout);
  npu_perf_free(&perf);
  return ok;
}

/* ---- Emulation of an artifact ----------------------------------------------------- */

static const char *input_file(const llc_opts *o, const char *name, unsigned i) {
  size_t n = strlen(name);
  for (unsigned k = 0; k < o->num_inputs; k++)
    if (!strncmp(o->inputs[k], name, n) && o->inputs[k][n] == '=')
      return o->inputs[k] + n + 1;
  if (i < o->num_inputs && !strchr(o->inputs[i], '='))
    return o->inputs[i];
  return NULL;
}

/* The tensor in the input's element type: quantized inputs read their
 * integer storage from the .npy file. */
static bool load_input(qir_context *ctx, const char *path, const qir_type *type,
                       qir_tensor *t) {
  if (!qir_npy_read(ctx, path, t))
    return false;
  if (t->scalar != type->scalar) {
    qir_emit_error(ctx, qir_loc_unknown(), "'%s': element type %s, expected %s",
                   path, qir_scalar_name(t->scalar), qir_scalar_name(type->scalar));
    return false;
  }
  t->elem = type->elem;
  return true;
}

static bool write_npy(qir_context *ctx, const char *dir, const char *name,
                      const qir_tensor *t) {
  char path[4096];
  mkdir(dir, 0777);
  snprintf(path, sizeof path, "%s/%s.npy", dir, name);
  for (char *p = path + strlen(dir) + 1; *p; p++)
    if (*p == '/')
      *p = '_';
  return qir_npy_write(ctx, path, t);
}

static bool set_inputs(qir_context *ctx, const llc_opts *o, qir_emu *e) {
  uint64_t state = 0x9E3779B97F4A7C15ull ^ (uint64_t)o->seed;
  for (unsigned i = 0; i < qir_emu_num_inputs(e); i++) {
    const char *name = qir_emu_input_name(e, i), *path = input_file(o, name, i);
    qir_tensor t = {0};
    bool ok;
    if (path)
      ok = load_input(ctx, path, qir_emu_input_type(e, i), &t);
    else if (o->random_inputs)
      ok = random_input(&t, qir_emu_input_type(e, i), &state);
    else {
      qir_emit_error(ctx, qir_loc_unknown(),
                     "no data for input '%s' (--input or --random-inputs)", name);
      ok = false;
    }
    ok = ok && qir_emu_set_input(e, i, &t) &&
         (!o->save_inputs || write_npy(ctx, o->save_inputs, name, &t));
    qir_tensor_free_data(&t);
    if (!ok)
      return false;
  }
  return true;
}

/* Sets the frames of a run (-batch) and the inputs. */
static bool bind_inputs(qir_context *ctx, qir_emu *e, void *user) {
  const llc_opts *o = user;
  return qir_emu_set_frames(e, (unsigned)o->frames) && set_inputs(ctx, o, e);
}

static int emulate(qir_context *ctx, const llc_opts *o) {
  qir_artifact *a = qir_artifact_read_file(ctx, o->input);
  if (!a)
    return 1;
  int rc = 1;
  qir_emu *e = NULL;
  if (o->emu_stats) {
    qir_emu_stats st;
    if ((e = npu_artifact_run(ctx, a, bind_inputs, (void *)o))) {
      qir_emu_get_stats(e, &st);
      rc = report_perf(ctx, o, a, true, true, &st) ? 0 : 1;
    }
  } else if (!strcmp(o->emit, "asm") || wants_perf(o)) {
    if (!strcmp(o->emit, "asm"))
      qir_artifact_print_asm(a, stdout);
    rc = !wants_perf(o) || report_perf(ctx, o, a, true, true, NULL) ? 0 : 1;
  } else if ((e = npu_artifact_run(ctx, a, bind_inputs, (void *)o))) {
    rc = 0;
    for (unsigned i = 0; i < qir_emu_num_outputs(e) && o->output_dir; i++)
      if (!write_npy(ctx, o->output_dir, qir_emu_output_name(e, i),
                     qir_emu_output(e, i)))
        rc = 1;
  }
  qir_emu_destroy(e);
  qir_artifact_free(a);
  return rc;
}

/* ---- -check ------------------------------------------------------------------------ */

static qir_func *entry_func(qir_module *m) {
  qir_func *f = qir_module_lookup(m, "main");
  return f ? f : m->first;
}

static unsigned count_diffs(const qir_tensor *x, const qir_tensor *y) {
  size_t es = qir_scalar_size(x->scalar);
  unsigned n = 0;
  for (int64_t i = 0, e = qir_tensor_numel(x); i < e; i++)
    n += memcmp((const uint8_t *)x->data + i * es, (const uint8_t *)y->data + i * es, es) != 0;
  return n;
}

/* Whether the emulator's value agrees with the interpreter's at the level
 * of -check; else why[0..n) says how they differ. */
static bool agree(const llc_opts *o, const qir_tensor *got,
                  const qir_tensor *want, char *why, size_t n) {
  if (!qir_tensor_same_shape(got, want)) {
    snprintf(why, n, "its shape or type differs");
    return false;
  }
  if (!strcmp(o->check, "equal")) {
    unsigned d = count_diffs(got, want);
    snprintf(why, n, "%u of %lld elements differ", d, (long long)qir_tensor_numel(got));
    return !d;
  }
  if (!strcmp(o->check, "close")) {
    double steps = qir_tensor_steps_apart(got, want, o->check_rtol, o->check_atol);
    snprintf(why, n, "it differs by %.3g steps", steps);
    return steps <= 1;
  }
  double c = qir_tensor_cosine(got, want);
  snprintf(why, n, "its cosine is %.6f", c);
  return c >= o->check_cosine;
}

typedef struct checker {
  const llc_opts *o;
  qir_emu *e;
  long sample;
  unsigned bad;          /* values of this sample that differ */
  unsigned compared;     /* values compared in per-layer mode */
} checker;

static void report(checker *c, const char *what, const char *name,
                   const qir_tensor *got, const qir_tensor *want) {
  char why[96];
  if (agree(c->o, got, want, why, sizeof why))
    return;
  if (!c->bad)
    fprintf(stderr, "qir-llc: check: sample %ld: %s '%s': %s\n", c->sample,
            what, name, why);
  c->bad++;
}

/* -check-mode=per-layer: each result the interpreter computes that is
 * also a value of the artifact (the emulator ran first) is compared as it
 * is computed, so the first report names the first value that differs. */
static void observe(const qir_op *op, unsigned r, const qir_tensor *t, void *user) {
  checker *c = user;
  const char *name = op->results[r].name;
  if (!name)
    return;
  for (unsigned i = 0; i < qir_emu_num_values(c->e); i++)
    if (!strcmp(qir_emu_value_name(c->e, i), name)) {
      c->compared++;
      report(c, "value", name, qir_emu_value(c->e, i), t);
      return;
    }
}

/* Runs one random sample through both; false on an error. */
static bool check_sample(qir_interp *it, checker *c, uint64_t *state) {
  qir_emu *e = c->e;
  for (unsigned i = 0; i < qir_emu_num_inputs(e); i++) {
    qir_tensor t;
    if (!random_input(&t, qir_emu_input_type(e, i), state))
      return false;
    bool ok = qir_interp_set_input(it, i, &t) && qir_emu_set_input(e, i, &t);
    qir_tensor_free_data(&t);
    if (!ok)
      return false;
  }
  c->bad = c->compared = 0;
  if (!qir_emu_run(e) || !qir_interp_run(it))
    return false;
  for (unsigned i = 0; i < qir_emu_num_outputs(e); i++)
    report(c, "output", qir_emu_output_name(e, i), qir_emu_output(e, i),
           qir_interp_output(it, i));
  return true;
}

static const char *agreement_word(const char *level) {
  return !strcmp(level, "equal") ? "bit-exact"
         : !strcmp(level, "close") ? "close" : "similar";
}

/* ---- -check with -batch=N ------------------------------------------------------------ */

/* Frame f of the batched tensor b, as a one-frame tensor of type `type`
 * (a view: no data of its own). */
static qir_tensor frame_of(const qir_tensor *b, const qir_type *type, unsigned frames,
                           unsigned f) {
  qir_tensor t;
  qir_tensor_init_from_type(&t, type);
  t.nbytes = b->nbytes / frames;
  t.data = (uint8_t *)b->data + (size_t)f * t.nbytes;
  return t;
}

/* "4+4+1": the pieces a run of `frames` frames takes on the batch sizes
 * of e (the largest that fits first). */
static void pieces_text(const qir_emu *e, unsigned frames, char *buf, size_t n) {
  size_t len = 0;
  buf[0] = 0;
  for (unsigned left = frames; left && len + 8 < n;) {
    unsigned k = qir_emu_num_batch_sizes(e) - 1;
    while (k && qir_emu_batch_size(e, k) > left)
      k--;
    unsigned b = qir_emu_batch_size(e, k);
    len += (size_t)snprintf(buf + len, n - len, "%s%u", len ? "+" : "", b);
    left -= b;
  }
}

typedef struct batch_checker {
  const llc_opts *o;
  qir_emu *batched, *single; /* -batch frames a run; one frame a run */
  qir_interp *it;
  unsigned frames;
  unsigned bad;              /* frames of this sample that differ */
  long sample;
} batch_checker;

/* Runs one frame through the one-frame emulator and the interpreter and
 * compares both with that frame of the batched run. */
static bool check_frame(batch_checker *c, const qir_tensor *in, unsigned f) {
  for (unsigned i = 0; i < qir_emu_num_inputs(c->single); i++) {
    qir_tensor t = frame_of(&in[i], qir_emu_input_type(c->single, i), c->frames, f);
    if (!qir_emu_set_input(c->single, i, &t) || !qir_interp_set_input(c->it, i, &t))
      return false;
  }
  if (!qir_emu_run(c->single) || !qir_interp_run(c->it))
    return false;
  for (unsigned i = 0; i < qir_emu_num_outputs(c->single); i++) {
    const qir_tensor *one = qir_emu_output(c->single, i);
    qir_tensor view = *one; /* frame f of the batched output */
    view.data = (uint8_t *)qir_emu_output(c->batched, i)->data + (size_t)f * one->nbytes;
    char why[96];
    const char *name = qir_emu_output_name(c->single, i);
    if (memcmp(view.data, one->data, one->nbytes)) {
      if (!c->bad++)
        fprintf(stderr, "qir-llc: check: sample %ld: frame %u of output '%s' differs from "
                "the run of that frame alone\n", c->sample, f, name);
    } else if (!agree(c->o, &view, qir_interp_output(c->it, i), why, sizeof why)) {
      if (!c->bad++)
        fprintf(stderr, "qir-llc: check: sample %ld: frame %u of output '%s': %s\n",
                c->sample, f, name, why);
    }
  }
  return true;
}

/* One sample: `frames` random frames through the batched run, then frame
 * by frame; false on an error. */
static bool check_batch_sample(batch_checker *c, uint64_t *state) {
  unsigned n = qir_emu_num_inputs(c->batched);
  qir_tensor *in = qir_xcalloc(n + 1, sizeof *in);
  bool ok = true;
  for (unsigned i = 0; i < n && ok; i++)
    ok = random_input(&in[i], qir_emu_input_type(c->batched, i), state) &&
         qir_emu_set_input(c->batched, i, &in[i]);
  ok = ok && qir_emu_run(c->batched);
  c->bad = 0;
  for (unsigned f = 0; f < c->frames && ok; f++)
    ok = check_frame(c, in, f);
  for (unsigned i = 0; i < n; i++)
    qir_tensor_free_data(&in[i]);
  free(in);
  return ok;
}

/* -check with -batch=N: every output frame of a run of N frames equals
 * the run of that frame alone bit for bit, and agrees with the
 * interpreter at the level of -check. */
static int check_batched(qir_context *ctx, const llc_opts *o, qir_artifact *a) {
  qir_module *ref = qir_parse_file(ctx, o->input);
  if (!ref || !qir_verify_module(ref) || !npu_module_set_batch(ref, 1)) {
    qir_module_destroy(ref);
    return 1;
  }
  batch_checker c = {o, qir_emu_create(ctx, a), qir_emu_create(ctx, a),
                     qir_interp_create(entry_func(ref), NULL), (unsigned)o->frames, 0, 0};
  int rc = 1;
  if (c.batched && c.single && c.it && qir_emu_set_frames(c.batched, c.frames)) {
    uint64_t state = 0x9E3779B97F4A7C15ull ^ (uint64_t)o->seed;
    long bad_samples = 0;
    for (c.sample = 0; c.sample < o->samples; c.sample++) {
      if (!check_batch_sample(&c, &state))
        break;
      bad_samples += c.bad > 0;
    }
    if (c.sample == o->samples) {
      char pieces[256];
      pieces_text(c.batched, c.frames, pieces, sizeof pieces);
      printf("check=%s batch=%u (%s): %ld of %ld samples %s, each frame as run alone and "
             "against the interpreter (%u outputs, target %s)\n", o->check, c.frames, pieces,
             o->samples - bad_samples, o->samples, agreement_word(o->check),
             qir_emu_num_outputs(c.batched), a->target);
      rc = bad_samples ? 1 : 0;
      if (bad_samples)
        fail("the batched run differs");
    }
  }
  qir_emu_destroy(c.batched);
  qir_emu_destroy(c.single);
  qir_interp_destroy(c.it);
  qir_module_destroy(ref);
  return rc;
}

static int check(qir_context *ctx, const llc_opts *o, qir_artifact *a) {
  if (o->frames > 1)
    return check_batched(ctx, o, a);
  qir_module *ref = qir_parse_file(ctx, o->input);
  if (!ref || !qir_verify_module(ref))
    return 1;
  qir_interp *it = qir_interp_create(entry_func(ref), NULL);
  checker c = {o, it ? qir_emu_create(ctx, a) : NULL, 0, 0, 0};
  int rc = 1;
  if (c.e) {
    if (o->per_layer)
      qir_interp_set_observer(it, observe, &c);
    uint64_t state = 0x9E3779B97F4A7C15ull ^ (uint64_t)o->seed;
    long bad_samples = 0;
    for (c.sample = 0; c.sample < o->samples; c.sample++) {
      if (!check_sample(it, &c, &state))
        break;
      bad_samples += c.bad > 0;
    }
    if (c.sample == o->samples) {
      printf("check=%s%s: %ld of %ld samples %s (%u %s, target %s)\n", o->check,
             o->per_layer ? " per-layer" : "", o->samples - bad_samples,
             o->samples, agreement_word(o->check),
             o->per_layer ? c.compared : qir_emu_num_outputs(c.e),
             o->per_layer ? "values" : "outputs", a->target);
      rc = bad_samples ? 1 : 0;
      if (bad_samples)
        fail("the emulated artifact differs from the interpreter");
    }
  }
  qir_emu_destroy(c.e);
  qir_interp_destroy(it);
  qir_module_destroy(ref);
  return rc;
}

/* ---- Compilation ------------------------------------------------------------------- */

static bool write_text(qir_context *ctx, const char *path, qir_module *m,
                       const qir_artifact *a) {
  qir_output out;
  if (!qir_output_open(ctx, &out, path ? path : "-", false))
    return false;
  if (m) {
    qir_print_options po;
    qir_print_options_init(&po);
    qir_print_module(out.fp, m, &po);
  } else {
    qir_artifact_print_asm(a, out.fp);
  }
  return qir_output_commit(ctx, &out);
}

/* The output of -emit (and -o). */
static bool write_emit(qir_context *ctx, const llc_opts *o, qir_module *m,
                       const qir_artifact *a) {
  if (!strcmp(o->emit, "qir"))
    return write_text(ctx, o->output, m, NULL);
  if (!strcmp(o->emit, "asm"))
    return write_text(ctx, o->output, NULL, a);
  if (!strcmp(o->emit, "artifact") && o->output)
    return npu_artifact_write(ctx, a, o->output);
  return true;
}

/* ---- Batch variants (-static-batch, -max-dynamic-batch) ------------------------------ */

/* The model compiled again at `batch` frames; NULL after an error. */
static qir_artifact *compile_at_batch(qir_context *ctx, const llc_opts *o, unsigned batch) {
  qir_module *m = qir_parse_file(ctx, o->input);
  qir_artifact *a = NULL;
  if (m && qir_verify_module(m)) {
    if (npu_module_set_batch(m, batch)) {
      qir_compile_options co = o->co;
      co.placement_out = co.asm_out = NULL;
      a = npu_compile_scheduled(m, &co, o->schedule);
    } else {
      fail("the model cannot be compiled at batch %u", batch);
    }
  }
  qir_module_destroy(m);
  return a;
}

/* The estimated latency of one run of `a` and its DDR bytes. */
static void estimate_run(const llc_opts *o, const qir_artifact *a, double *us, double *ddr) {
  npu_perf perf;
  *us = *ddr = 0;
  if (!npu_perf_compute(a, &o->perf, &perf))
    return;
  *us = perf.latency_us;
  *ddr = perf.total.ddr_read_bytes + perf.total.ddr_write_bytes;
  npu_perf_free(&perf);
}

static void print_batch_row(const qir_artifact *a, unsigned batch, double us, double ddr,
                            const char *note) {
  printf("batch %u on %s: %.2f us, %.2f us per frame (%.1f FPS), DDR %.0f bytes per "
         "frame%s\n", batch, a->target, us, us / batch, us > 0 ? 1e6 * batch / us : 0,
         ddr / batch, note);
  fflush(stdout); /* before an error of the next batch size on stderr */
}

static void print_batch_sizes(const qir_artifact *a) {
  printf("batch sizes: 1");
  for (unsigned i = 0; i < npu_artifact_num_variants(a); i++) {
    unsigned b;
    npu_artifact_variant(a, i, &b);
    printf(",%u", b);
  }
  printf("\n");
}

/* Adds the variants of -static-batch or -max-dynamic-batch to `a` (the
 * model at batch 1), printing the per-frame figures of each (always with
 * -max-dynamic-batch, with -print-cost for -static-batch). */
static bool add_batch_variants(qir_context *ctx, const llc_opts *o, qir_artifact *a) {
  bool dynamic = o->max_dynamic_batch > 0, print = dynamic || o->print_cost;
  double us, ddr;
  estimate_run(o, a, &us, &ddr);
  double best = us;
  if (print)
    print_batch_row(a, 1, us, ddr, "");
  unsigned n = dynamic ? 0 : o->num_static_batch;
  for (unsigned i = 0, b = 2; dynamic ? b <= o->max_dynamic_batch : i < n; i++, b *= 2) {
    unsigned batch = dynamic ? b : o->static_batch[i];
    if (batch == 1)
      continue;
    qir_artifact *v = compile_at_batch(ctx, o, batch);
    if (!v)
      return false;
    estimate_run(o, v, &us, &ddr);
    bool better = us / batch < best;
    if (print)
      print_batch_row(a, batch, us, ddr, dynamic && !better ? ": no faster per frame, not kept" : "");
    if (dynamic && !better) {
      qir_artifact_free(v);
      break;
    }
    best = us / batch;
    npu_artifact_add_variant(a, batch, v);
  }
  if (print)
    print_batch_sizes(a);
  return true;
}

static int compile(qir_context *ctx, llc_opts *o) {
  bool artifact = !strcmp(o->emit, "artifact");
  if (artifact && !o->output && !strcmp(o->check, "none"))
    return fail("-o FILE is required to write an artifact (or -emit=asm|qir|null)");
  qir_module *m = qir_parse_file(ctx, o->input);
  if (!m || !qir_verify_module(m))
    return 1;
  bool batching = o->num_static_batch || o->max_dynamic_batch;
  if (batching && !npu_module_set_batch(m, 1)) {
    qir_module_destroy(m);
    return fail("the model cannot be batched");
  }
  o->co.placement_out = o->print_placement ? stdout : NULL;
  qir_artifact *a = npu_compile_scheduled(m, &o->co, o->schedule);
  if (a && batching && !add_batch_variants(ctx, o, a)) {
    qir_artifact_free(a);
    a = NULL;
  }
  int rc = 1;
  qir_emu *e = NULL;
  qir_emu_stats st, *emu = NULL;
  if (a && o->emu_stats) {
    /* One frame on random inputs (those of --input when given). */
    llc_opts ro = *o;
    ro.random_inputs = true;
    if ((e = npu_artifact_run(ctx, a, bind_inputs, &ro))) {
      qir_emu_get_stats(e, &st);
      emu = &st;
    }
  }
  if (a && (e || !o->emu_stats)) {
    /* The report files go first: a failure there leaves no artifact. */
    bool ok = !(o->perf_json || o->perf_report) || report_perf(ctx, o, a, true, false, emu);
    ok = ok && write_emit(ctx, o, m, a);
    if (ok && (o->print_cost || emu))
      ok = report_perf(ctx, o, a, false, true, emu);
    rc = ok ? 0 : 1;
    if (ok && strcmp(o->check, "none"))
      rc = check(ctx, o, a);
  }
  qir_emu_destroy(e);
  qir_artifact_free(a);
  qir_module_destroy(m);
  return rc;
}

int qir_llc_main(int argc, char **argv) {
  llc_opts o;
  int rc = parse_args(argc, argv, &o);
  if (rc >= 0)
    return rc;
  qir_context *ctx = qir_context_create();
  qir_diag_set_handler(ctx, llc_diag_handler, NULL, NULL, NULL);
  rc = o.emulate ? emulate(ctx, &o) : compile(ctx, &o);
  qir_context_destroy(ctx);
  return rc;
}
