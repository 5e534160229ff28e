/* backends/cpu/run-main.c - the qir-run driver (tools/qir-run/main.c only
 * calls qir_run_main).
 *
 *   qir-run model.qir --input x=in.npy [--input y=in.bin:1x3x8x8:f32]
 *           [--random-inputs [--seed N]] [--output-dir DIR] [--output F]
 *           [--dump-dir DIR] [--bench=N] [--threads=N] [--stats]
 *           [--func=NAME]
 *   qir-run model.qbin ...     an NPU artifact (qir-llc), told by its magic:
 *                              the NPU programs in the emulator, the CPU
 *                              functions in the interpreter */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "backends/cpu/cpu.h"
#include "backends/npu/run.h"
#include "ir/cli.h"
#include "qir/io.h"
#include "qir/npy.h"

#define MAX_ARGS 64

typedef struct run_opts {
  const char *model;
  const char *func;
  const char *inputs[MAX_ARGS];
  unsigned num_inputs;
  const char *outputs[MAX_ARGS];
  unsigned num_outputs;
  const char *output_dir;
  const char *dump_dir;
  bool random_inputs;
  uint64_t seed;
  long bench;
  long threads;
  bool stats;
  bool profile;
  long batch; /* frames through an artifact (0: not given) */
} run_opts;

static void usage(FILE *out) {
  fputs("usage: qir-run MODEL.qir [options]\n"
        "       qir-run MODEL.qbin [options]   (an NPU artifact)\n"
        "  --input NAME=FILE.npy       an input (repeat for each input; the\n"
        "                              NAME= part may be left out to take the\n"
        "                              inputs in order)\n"
        "  --input NAME=FILE.bin:1x3x224x224:f32\n"
        "                              raw little-endian data, shape and type\n"
        "  --random-inputs [--seed=N]  random inputs for the missing ones\n"
        "  --output-dir DIR            write <output-name>.npy per result\n"
        "  --output FILE.npy           write result i to the i-th --output\n"
        "  --dump-dir DIR              write every intermediate tensor\n"
        "  --bench=N                   time N runs after a warm-up\n"
        "  --threads=N                 worker threads (default: all cores)\n"
        "  --stats                     memory plan and peak RSS\n"
        "  --profile                   time per op kind (with --bench)\n"
        "  --func=NAME                 the function to run (default @main)\n"
        "  --batch=N                   run N frames through an NPU artifact: the\n"
        "                              inputs and outputs hold N frames along\n"
        "                              dimension 0, run with its batch variants\n"
        "                              (9 as 4 + 4 + 1 with sizes 1, 2 and 4)\n"
        "An NPU artifact (qir-llc -o MODEL.qbin) runs its NPU programs in the\n"
        "emulator and its CPU functions in the interpreter; --dump-dir,\n"
        "--profile, --func and --threads do not apply to it.\n",
        out);
}

static int fail(const char *fmt, ...) QIR_PRINTF(1, 2);
static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("qir-run: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 1;
}

/* Diagnostics without a location get the tool's prefix. */
static void run_diag_handler(qir_context *ctx, const qir_diag *d, void *user) {
  (void)user;
  qir_cli_print_diag(ctx, d, "qir-run");
}

static bool parse_long(const char *s, long min, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || !*s || *end || v < min)
    return false;
  *out = v;
  return true;
}

static int parse_args(int argc, char **argv, run_opts *o) {
  memset(o, 0, sizeof *o);
  o->threads = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    long n;
    if (qir_cli_opt_flag(a, "help") || qir_cli_opt_flag(a, "h")) {
      usage(stdout);
      exit(0);
    } else if (qir_cli_opt_flag(a, "random-inputs")) {
      o->random_inputs = true;
    } else if (qir_cli_opt_flag(a, "stats")) {
      o->stats = true;
    } else if (qir_cli_opt_flag(a, "profile")) {
      o->profile = true;
    } else if (qir_cli_opt_value(argc, argv, &i, "input", &v)) {
      if (o->num_inputs == MAX_ARGS)
        return fail("too many --input options");
      o->inputs[o->num_inputs++] = v;
    } else if (qir_cli_opt_value(argc, argv, &i, "output-dir", &v)) {
      o->output_dir = v;
    } else if (qir_cli_opt_value(argc, argv, &i, "output", &v)) {
      if (o->num_outputs == MAX_ARGS)
        return fail("too many --output options");
      o->outputs[o->num_outputs++] = v;
    } else if (qir_cli_opt_value(argc, argv, &i, "dump-dir", &v)) {
      o->dump_dir = v;
    } else if (qir_cli_opt_value(argc, argv, &i, "func", &v)) {
      o->func = v;
    } else if (qir_cli_opt_value(argc, argv, &i, "seed", &v)) {
      if (!parse_long(v, 0, &n))
        return fail("--seed needs a non-negative integer, got '%s'", v);
      o->seed = (uint64_t)n;
    } else if (qir_cli_opt_value(argc, argv, &i, "bench", &v)) {
      if (!parse_long(v, 1, &o->bench))
        return fail("--bench needs a positive integer, got '%s'", v);
    } else if (qir_cli_opt_value(argc, argv, &i, "batch", &v)) {
      if (!parse_long(v, 1, &o->batch) || o->batch > QIR_EMU_MAX_FRAMES)
        return fail("--batch needs an integer from 1 to %d, got '%s'",
                    QIR_EMU_MAX_FRAMES, v);
    } else if (qir_cli_opt_value(argc, argv, &i, "threads", &v)) {
      if (!parse_long(v, 1, &o->threads) || o->threads > 1024)
        return fail("--threads needs an integer from 1 to 1024, got '%s'", v);
    } else if (a[0] == '-' && a[1]) {
      return fail("unknown option '%s' (see --help)", a);
    } else if (!o->model) {
      o->model = a;
    } else {
      return fail("more than one model given ('%s' and '%s')", o->model, a);
    }
  }
  if (!o->model)
    return fail("no model given (usage: qir-run MODEL.qir --input NAME=FILE.npy ...)");
  return 0;
}

/* ---- Inputs ------------------------------------------------------------------ */

static bool parse_shape_type(const char *s, qir_tensor *t) {
  t->rank = 0;
  for (;;) {
    char *end;
    errno = 0;
    long long d = strtoll(s, &end, 10);
    if (end == s || errno || d < 0)
      break;
    if (t->rank == QIR_MAX_RANK)
      return false;
    t->dims[t->rank++] = d;
    s = end;
    if (*s == 'x')
      s++;
    else
      break;
  }
  if (*s == ':')
    s++;
  return qir_scalar_from_name(s, strlen(s), &t->scalar);
}

static bool read_bin(qir_context *ctx, const char *spec, qir_tensor *t) {
  /* PATH:SHAPE:TYPE; the path may itself hold ':' so split from the end. */
  const char *c2 = strrchr(spec, ':');
  const char *c1 = NULL;
  for (const char *p = spec; p < c2; p++)
    if (*p == ':')
      c1 = p;
  memset(t, 0, sizeof *t);
  if (!c1 || !parse_shape_type(c1 + 1, t)) {
    fail("raw input '%s' needs the form FILE.bin:DIMS:TYPE (e.g. "
         "in.bin:1x3x224x224:f32)", spec);
    return false;
  }
  char *path = qir_xstrdup(spec);
  path[c1 - spec] = 0;
  size_t len;
  char *buf = qir_read_file(ctx, path, &len);
  if (!buf) {
    free(path);
    return false;
  }
  int64_t n = qir_tensor_numel(t);
  size_t need = (size_t)n * qir_scalar_size(t->scalar);
  if (len != need) {
    fail("'%s' has %zu bytes, expected %zu for the shape and type given",
         path, len, need);
    free(buf);
    free(path);
    return false;
  }
  t->nbytes = need;
  t->data = qir_xmalloc(need ? need : 1);
  memcpy(t->data, buf, need);
  free(buf);
  free(path);
  return true;
}

static bool has_suffix(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcmp(s + a - b, suf);
}

static bool load_tensor(qir_context *ctx, const char *spec, qir_tensor *t) {
  const char *colon = strrchr(spec, ':');
  if (colon && !has_suffix(spec, ".npy") && strstr(spec, ".bin:"))
    return read_bin(ctx, spec, t);
  return qir_npy_read(ctx, spec, t);
}

static void warn_non_finite(const char *name, const qir_tensor *t) {
  if (!qir_scalar_is_float(t->scalar))
    return;
  int64_t n = qir_tensor_numel(t), bad = 0;
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(qir_load_f64(t->scalar, t->data, i)))
      bad++;
  if (bad)
    fprintf(stderr, "qir-run: warning: input '%s' has %lld NaN or Inf "
            "values\n", name, (long long)bad);
}

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Floats uniform in [-1, 1); quantized storage uniform in [qmin, qmax];
 * i1 0 or 1; other integers uniform in [0, 4). */
static void random_tensor(const qir_type *type, uint64_t *seed, qir_tensor *t) {
  qir_tensor_init_from_type(t, type);
  qir_tensor_alloc(t);
  int64_t n = qir_tensor_numel(t);
  const qir_type *q = type->elem->kind == QIR_TYPE_QUANT ? type->elem : NULL;
  for (int64_t i = 0; i < n; i++) {
    uint64_t r = splitmix(seed);
    if (qir_scalar_is_float(t->scalar)) {
      double v = (double)(r >> 11) / 9007199254740992.0 * 2.0 - 1.0;
      qir_convert(QIR_F64, &v, t->scalar,
                  (uint8_t *)t->data + (size_t)i * qir_scalar_size(t->scalar), 1);
    } else if (q) {
      uint64_t span = (uint64_t)(q->qmax - q->qmin) + 1;
      qir_store_int(t->scalar, t->data, i, q->qmin + (int64_t)(r % span));
    } else {
      qir_store_int(t->scalar, t->data, i, t->scalar == QIR_I1 ? (int64_t)(r & 1)
                                                               : (int64_t)(r % 4));
    }
  }
}

/* ---- The model: a .qir function or an NPU artifact ---------------------------- */

/* What qir-run executes: a function in the interpreter (it), or an NPU
 * artifact in the emulator (emu, with the artifact art). */
typedef struct model {
  qir_interp *it;
  qir_emu *emu;
  qir_artifact *art;
} model;

static unsigned model_num_inputs(const model *m) {
  return m->it ? qir_interp_num_inputs(m->it) : qir_emu_num_inputs(m->emu);
}

static const char *model_input_name(const model *m, unsigned i) {
  return m->it ? qir_interp_input(m->it, i)->name : qir_emu_input_name(m->emu, i);
}

static const qir_type *model_input_type(const model *m, unsigned i) {
  return m->it ? qir_interp_input(m->it, i)->type : qir_emu_input_type(m->emu, i);
}

static int model_find_input(const model *m, const char *name) {
  if (m->it)
    return qir_interp_find_input(m->it, name);
  for (unsigned i = 0; i < qir_emu_num_inputs(m->emu); i++)
    if (!strcmp(qir_emu_input_name(m->emu, i), name))
      return (int)i;
  return -1;
}

static bool model_run(const model *m) {
  return m->it ? qir_interp_run(m->it) : qir_emu_run(m->emu);
}

static unsigned model_num_outputs(const model *m) {
  return m->it ? qir_interp_num_outputs(m->it) : qir_emu_num_outputs(m->emu);
}

static const qir_tensor *model_output(const model *m, unsigned i) {
  return m->it ? qir_interp_output(m->it, i) : qir_emu_output(m->emu, i);
}

static const char *model_output_name(const model *m, unsigned i) {
  return m->it ? qir_interp_output_name(m->it, i) : qir_emu_output_name(m->emu, i);
}

/* ---- Binding the inputs ---------------------------------------------------------- */

static const char *input_label(const model *m, unsigned i, char *buf,
                               size_t size) {
  const char *name = model_input_name(m, i);
  if (name && *name)
    return name;
  snprintf(buf, size, "%u", i);
  return buf;
}

static void list_inputs(const model *m, char *buf, size_t size) {
  size_t n = 0;
  buf[0] = 0;
  for (unsigned i = 0; i < model_num_inputs(m) && n < size; i++) {
    char tmp[32];
    n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
                          input_label(m, i, tmp, sizeof tmp));
  }
}

/* The emulator takes exactly the input's type; the error reads as the
 * interpreter's. */
static bool model_set_input(qir_context *ctx, const model *m, unsigned i,
                            const qir_tensor *t) {
  if (m->it)
    return qir_interp_set_input(m->it, i, t);
  const qir_type *type = qir_emu_input_type(m->emu, i);
  if (!qir_tensor_matches_type(t, type)) {
    qir_tensor want;
    char label[32], w[256], g[256];
    qir_tensor_init_from_type(&want, type);
    qir_tensor_format_shape(&want, w, sizeof w);
    qir_tensor_format_shape(t, g, sizeof g);
    qir_emit_error(ctx, qir_loc_unknown(), "input '%s' expects %s, got %s",
                   input_label(m, i, label, sizeof label), w, g);
    return false;
  }
  return qir_emu_set_input(m->emu, i, t);
}

static int set_inputs(qir_context *ctx, const model *m, const run_opts *o) {
  unsigned ni = model_num_inputs(m), next = 0;
  bool *set = qir_xcalloc(ni + 1, sizeof *set);
  int rc = 0;
  for (unsigned k = 0; k < o->num_inputs && !rc; k++) {
    const char *spec = o->inputs[k], *eq = strchr(spec, '=');
    const char *label = NULL;
    int idx;
    char name[256];
    if (eq) {
      snprintf(name, sizeof name, "%.*s", (int)(eq - spec), spec);
      spec = eq + 1;
      idx = model_find_input(m, name);
      if (idx < 0) {
        char all[1024];
        list_inputs(m, all, sizeof all);
        rc = fail("unknown input name '%s' (the inputs are: %s)", name, all);
        break;
      }
      label = name;
    } else {
      while (next < ni && set[next])
        next++;
      if (next >= ni) {
        rc = fail("more inputs given than the function takes (%u)", ni);
        break;
      }
      idx = (int)next;
      label = input_label(m, next, name, sizeof name);
    }
    qir_tensor t;
    if (!load_tensor(ctx, spec, &t)) {
      rc = 1;
      break;
    }
    warn_non_finite(label, &t);
    if (!model_set_input(ctx, m, (unsigned)idx, &t))
      rc = 1;
    set[idx] = true;
    qir_tensor_free_data(&t);
  }
  uint64_t seed = o->seed;
  for (unsigned i = 0; i < ni && !rc; i++) {
    if (set[i])
      continue;
    char buf[32];
    if (!o->random_inputs) {
      rc = fail("missing input '%s' (give --input %s=FILE.npy or "
                "--random-inputs)", input_label(m, i, buf, sizeof buf),
                input_label(m, i, buf, sizeof buf));
      break;
    }
    qir_tensor t;
    random_tensor(model_input_type(m, i), &seed, &t);
    if (!model_set_input(ctx, m, i, &t))
      rc = 1;
    qir_tensor_free_data(&t);
  }
  free(set);
  return rc;
}

/* ---- Outputs -------------------------------------------------------------------- */

/* File names: '/', ':' and '\\' become '_'; names over 200 bytes keep
 * their first 180 bytes and get '-' and the FNV-1a hash (8 hex digits) of
 * the whole name, so they stay unique and within file-system limits. */
static void sanitize(const char *name, char *out, size_t size) {
  size_t n = 0, len = strlen(name);
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (uint8_t)name[i]) * 16777619u;
  size_t keep = len > 200 ? 180 : len;
  for (size_t i = 0; i < keep && n + 1 < size; i++)
    out[n++] = name[i] == '/' || name[i] == ':' || name[i] == '\\' ? '_' : name[i];
  out[n] = 0;
  if (len > 200 && n + 10 < size)
    n += (size_t)snprintf(out + n, size - n, "-%08x", h);
  if (!strcmp(out, ".") || !strcmp(out, "..") || !n)
    snprintf(out, size, "_%s", n ? out : "");
}

static bool ensure_dir(const char *dir) {
  if (mkdir(dir, 0777) == 0 || errno == EEXIST) {
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
      return true;
  }
  fail("cannot create directory '%s': %s", dir,
       errno == EEXIST ? "a file of that name exists" : strerror(errno));
  return false;
}

static int write_outputs(qir_context *ctx, const model *m, const run_opts *o) {
  unsigned no = model_num_outputs(m);
  if (o->num_outputs > no)
    return fail("%u --output files given but the function has %u results",
                o->num_outputs, no);
  if (o->output_dir && !ensure_dir(o->output_dir))
    return 1;
  for (unsigned i = 0; i < no; i++) {
    const qir_tensor *t = model_output(m, i);
    const char *name = model_output_name(m, i);
    char shape[256];
    qir_tensor_format_shape(t, shape, sizeof shape);
    char path[4096];
    if (i < o->num_outputs) {
      snprintf(path, sizeof path, "%s", o->outputs[i]);
    } else if (o->output_dir) {
      char file[1024];
      sanitize(name, file, sizeof file);
      snprintf(path, sizeof path, "%s/%s.npy", o->output_dir, file);
    } else {
      printf("%s: %s\n", name, shape);
      continue;
    }
    if (!qir_npy_write(ctx, path, t))
      return 1;
    printf("%s: %s -> %s\n", name, shape, path);
  }
  return 0;
}

/* ---- Dumping intermediates ------------------------------------------------------ */

typedef struct dump_state {
  qir_context *ctx;
  const char *dir;
  FILE *index;
  unsigned anon;
  bool failed;
} dump_state;

static void dump_observer(const qir_op *op, unsigned result,
                          const qir_tensor *t, void *user) {
  dump_state *d = user;
  if (d->failed || qir_op_is(op, QIR_OP_CONSTANT))
    return;
  const qir_value *v = &op->results[result];
  char name[512], file[600], path[4096], shape[256];
  if (v->name)
    sanitize(v->name, name, sizeof name);
  else
    snprintf(name, sizeof name, "%u", d->anon++);
  snprintf(file, sizeof file, "%s.npy", name);
  snprintf(path, sizeof path, "%s/%s", d->dir, file);
  if (!qir_npy_write(d->ctx, path, t)) {
    d->failed = true;
    return;
  }
  qir_tensor_format_shape(t, shape, sizeof shape);
  fprintf(d->index, "%s %s %s\n", file, op->def->name, shape);
}

/* ---- Bench and stats ------------------------------------------------------------- */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int bench(const model *m, long runs) {
  if (!model_run(m)) /* warm-up */
    return 1;
  double *t = qir_xcalloc((size_t)runs, sizeof *t);
  for (long i = 0; i < runs; i++) {
    double t0 = now_ms();
    if (!model_run(m)) {
      free(t);
      return 1;
    }
    t[i] = now_ms() - t0;
  }
  qsort(t, (size_t)runs, sizeof *t, cmp_double);
  double median = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
  printf("qir-run: %ld runs, median %.3f ms, min %.3f ms\n", runs, median, t[0]);
  free(t);
  return 0;
}

/* The interpreter's memory plan, or what the artifact needs, then the
 * peak RSS. */
static void print_stats(const model *m) {
  if (m->it) {
    qir_interp_stats s;
    qir_interp_get_stats(m->it, &s);
    printf("qir-run: ops: %u\n", s.num_ops);
    printf("qir-run: peak activation memory: %zu bytes\n", s.peak_activation_bytes);
    printf("qir-run: activation memory without reuse: %zu bytes\n",
           s.naive_activation_bytes);
    printf("qir-run: constant memory: %zu bytes\n", s.constant_bytes);
  } else {
    npu_artifact_print_stats(m->art, stdout, "qir-run");
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("qir-run: peak RSS: %ld KiB\n", ru.ru_maxrss);
}

/* ---- Main -------------------------------------------------------------------------- */

static qir_func *pick_func(qir_module *m, const char *name) {
  if (name)
    return qir_module_lookup(m, name);
  qir_func *f = qir_module_lookup(m, "main");
  return f ? f : m->first;
}

static int run_func(qir_context *ctx, qir_func *f, const run_opts *o);

static int run_model(qir_context *ctx, const run_opts *o) {
  if (o->batch)
    return fail("--batch applies to an NPU artifact, not to '%s'", o->model);
  qir_module *m = qir_parse_file(ctx, o->model);
  if (!m)
    return 1;
  int rc = 1;
  qir_func *f = NULL;
  if (qir_verify_module(m)) {
    f = pick_func(m, o->func);
    if (!f)
      fail(o->func ? "no function @%s in '%s'" : "no function in '%s'",
           o->func ? o->func : o->model, o->model);
    else
      rc = run_func(ctx, f, o);
  }
  qir_module_destroy(m);
  return rc;
}

static int run_func(qir_context *ctx, qir_func *f, const run_opts *o) {
  qir_interp_options io;
  qir_interp_options_init(&io);
  io.threads = (unsigned)o->threads;
  qir_interp *it = qir_interp_create(f, &io);
  if (!it)
    return 1;
  model m = {it, NULL, NULL};
  int rc = set_inputs(ctx, &m, o);
  dump_state ds = {ctx, o->dump_dir, NULL, 0, false};
  if (!rc && o->dump_dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/index.txt", o->dump_dir);
    if (!ensure_dir(o->dump_dir) || !(ds.index = fopen(path, "w")))
      rc = ds.index ? 1 : fail("cannot write '%s': %s", path, strerror(errno));
    else
      qir_interp_set_observer(it, dump_observer, &ds);
  }
  if (!rc)
    rc = qir_interp_run(it) && !ds.failed ? 0 : 1;
  if (ds.index)
    fclose(ds.index);
  qir_interp_set_observer(it, NULL, NULL);
  if (!rc)
    rc = write_outputs(ctx, &m, o);
  if (!rc && o->profile)
    qir_interp_enable_profile(it, true);
  if (!rc && o->bench)
    rc = bench(&m, o->bench);
  if (!rc && o->profile)
    qir_interp_print_profile(it, stdout);
  if (!rc && o->stats)
    print_stats(&m);
  qir_interp_destroy(it);
  return rc;
}

/* ---- NPU artifacts ------------------------------------------------------------------ */

/* An artifact by its magic; a .qbin file whatever it holds, so that a
 * damaged one gets the artifact reader's diagnosis. */
static bool is_artifact(const char *path) {
  return has_suffix(path, ".qbin") || npu_file_is_artifact(path);
}

/* The options that only mean something for a .qir function. */
static int check_artifact_options(const run_opts *o) {
  const char *opt = o->dump_dir ? "--dump-dir" : o->profile ? "--profile"
                    : o->func ? "--func" : o->threads ? "--threads" : NULL;
  if (opt)
    return fail("%s does not apply to an NPU artifact ('%s')", opt, o->model);
  return 0;
}

static bool bind_artifact_inputs(qir_context *ctx, qir_emu *e, void *user) {
  const run_opts *o = user;
  model m = {NULL, e, NULL};
  if (o->batch > 1 && !qir_emu_set_frames(e, (unsigned)o->batch))
    return false;
  return set_inputs(ctx, &m, o) == 0;
}

static int run_artifact(qir_context *ctx, const run_opts *o) {
  if (check_artifact_options(o))
    return 1;
  model m = {NULL, NULL, NULL};
  m.emu = npu_artifact_run_file(ctx, o->model, bind_artifact_inputs,
                                (void *)o, &m.art);
  if (!m.emu)
    return 1;
  int rc = write_outputs(ctx, &m, o);
  if (!rc && o->bench)
    rc = bench(&m, o->bench);
  if (!rc && o->stats)
    print_stats(&m);
  npu_artifact_close(m.emu, m.art);
  return rc;
}

int qir_run_main(int argc, char **argv) {
  run_opts o;
  if (parse_args(argc, argv, &o))
    return 1;
  qir_context *ctx = qir_context_create();
  qir_diag_set_handler(ctx, run_diag_handler, NULL, NULL, NULL);
  int rc = is_artifact(o.model) ? run_artifact(ctx, &o) : run_model(ctx, &o);
  qir_context_destroy(ctx);
  return rc;
}
