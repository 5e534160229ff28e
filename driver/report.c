/* driver/report.c - what qir-build shows: build.log (every message and
 * diagnostic), the input and layer tables, the summary. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "driver/build.h"

/* ---- Messages and the log ------------------------------------------------ */

static void vsay(build *b, bool to_out, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  if (to_out && b->out) {
    vfprintf(b->out, fmt, ap);
    fputc('\n', b->out);
    fflush(b->out);
  }
  if (b->log) {
    vfprintf(b->log, fmt, ap2);
    fputc('\n', b->log);
  }
  va_end(ap2);
}

void build_say(build *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(b, true, fmt, ap);
  va_end(ap);
}

void build_log(build *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(b, false, fmt, ap);
  va_end(ap);
}

/* Diagnostics go where they went before, and into build.log. */
static void tee_handler(qir_context *ctx, const qir_diag *d, void *user) {
  build *b = user;
  if (b->old_handler)
    b->old_handler(ctx, d, b->old_user);
  else
    qir_diag_default_handler(ctx, d, NULL);
  if (b->log) {
    qir_diag_print(ctx, d, b->log);
    fflush(b->log);
  }
}

bool build_log_open(build *b) {
  char *path = build_outdir_file(&b->od, BUILD_MARKER);
  b->log = fopen(path, "w");
  if (!b->log)
    qir_emit_error(b->ctx, qir_loc_unknown(), "cannot create '%s'", path);
  free(path);
  if (!b->log)
    return false;
  qir_diag_set_handler(b->ctx, tee_handler, b, &b->old_handler,
                       &b->old_user);
  return true;
}

void build_log_close(build *b) {
  if (!b->log)
    return;
  qir_diag_set_handler(b->ctx, b->old_handler, b->old_user, NULL, NULL);
  fclose(b->log);
  b->log = NULL;
}

/* ---- Tables -------------------------------------------------------------- */

struct build_table {
  unsigned ncols, nrows, cap;
  char **cells; /* row-major, row 0 the header */
};

build_table *build_table_new(unsigned ncols, const char *const *headers) {
  build_table *t = qir_xcalloc(1, sizeof *t);
  t->ncols = ncols;
  build_table_row(t, headers);
  return t;
}

void build_table_row(build_table *t, const char *const *cells) {
  if (t->nrows == t->cap) {
    t->cap = t->cap ? 2 * t->cap : 8;
    t->cells = qir_xrealloc(t->cells, (size_t)t->cap * t->ncols *
                                          sizeof *t->cells);
  }
  for (unsigned i = 0; i < t->ncols; i++)
    t->cells[(size_t)t->nrows * t->ncols + i] =
        qir_xstrdup(cells[i] ? cells[i] : "");
  t->nrows++;
}

static void print_rule(FILE *f, const size_t *w, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    fputc('+', f);
    for (size_t k = 0; k < w[i] + 2; k++)
      fputc('-', f);
  }
  fputs("+\n", f);
}

static void print_table(FILE *f, const build_table *t, const char *title) {
  size_t w[16] = {0};
  QIR_ASSERT(t->ncols <= 16);
  for (unsigned r = 0; r < t->nrows; r++)
    for (unsigned i = 0; i < t->ncols; i++) {
      size_t n = strlen(t->cells[(size_t)r * t->ncols + i]);
      if (n > w[i])
        w[i] = n;
    }
  fprintf(f, "%s\n", title);
  print_rule(f, w, t->ncols);
  for (unsigned r = 0; r < t->nrows; r++) {
    for (unsigned i = 0; i < t->ncols; i++)
      fprintf(f, "| %-*s ", (int)w[i], t->cells[(size_t)r * t->ncols + i]);
    fputs("|\n", f);
    if (r == 0 || r == t->nrows - 1)
      print_rule(f, w, t->ncols);
  }
}

void build_table_emit(build *b, build_table *t, const char *title) {
  if (b->out)
    print_table(b->out, t, title);
  if (b->log)
    print_table(b->log, t, title);
  for (size_t i = 0; i < (size_t)t->nrows * t->ncols; i++)
    free(t->cells[i]);
  free(t->cells);
  free(t);
}

/* ---- The input table ----------------------------------------------------- */

static void format_numbers(const double *v, unsigned n, char *buf,
                           size_t size) {
  snprintf(buf, size, "-");
  for (unsigned i = 0; i < n; i++) {
    size_t len = i ? strlen(buf) : 0;
    snprintf(buf + len, size - len, "%s%g", i ? " " : "", v[i]);
  }
}

void build_report_inputs(build *b, qir_func *f, const size_t *counts) {
  static const char *const hdr[] = {"input", "type", "dataset", "format",
                                    "samples", "mean", "std", "order"};
  build_table *t = build_table_new(8, hdr);
  for (unsigned i = 0; i < f->body.num_args; i++) {
    qir_value *arg = f->body.args[i];
    build_input_data d;
    if (!build_input_data_of(b, f, i, &d))
      break;
    char type[128], samples[32], mean[96], std[96];
    qir_type_format(arg->type, type, sizeof type);
    snprintf(samples, sizeof samples, "%zu", counts[i]);
    format_numbers(d.mean, d.nmean, mean, sizeof mean);
    format_numbers(d.std, d.nstd, std, sizeof std);
    if (d.in_model)
      snprintf(mean, sizeof mean, "in the model"),
          snprintf(std, sizeof std, "in the model");
    char order[32];
    snprintf(order, sizeof order, "%s %s", d.channel_order,
             d.nhwc ? "NHWC" : "NCHW");
    const char *row[] = {arg->name ? arg->name : "?", type, d.dataset,
                         d.format, samples, mean, std, order};
    build_table_row(t, row);
  }
  build_table_emit(b, t, "Inputs");
}

/* ---- The layer table ----------------------------------------------------- */

const char *build_precision_of(const qir_type *t) {
  const qir_type *e = qir_type_is_tensor(t) ? t->elem : t;
  if (!e)
    return "none";
  if (e->kind == QIR_TYPE_QUANT && e->qmax - e->qmin <= 15)
    return qir_scalar_is_signed(e->scalar) ? "i4" : "u4";
  return qir_scalar_name(e->scalar);
}

/* Ops that do no arithmetic are left out of the layer table. */
static bool is_layer(const qir_op *op) {
  static const char *const skip[] = {"constant", "return", "quantize",
                                     "dequantize", NULL};
  for (const char *const *s = skip; *s; s++)
    if (strcmp(op->def->name, *s) == 0)
      return false;
  return op->num_results > 0;
}

void build_report_layers(build *b, qir_func *f) {
  static const char *const hdr[] = {"layer", "op", "precision", "output"};
  build_table *t = build_table_new(4, hdr);
  b->sum.ops_float = b->sum.ops_int8 = b->sum.ops_int16 = 0;
  qir_foreach_op(op, &f->body) {
    if (!is_layer(op))
      continue;
    const qir_type *rt = op->results[0].type;
    const char *prec = build_precision_of(rt);
    const qir_type *e = qir_type_is_tensor(rt) ? rt->elem : rt;
    if (!e || e->kind != QIR_TYPE_QUANT)
      b->sum.ops_float++;
    else if (qir_scalar_size(e->scalar) == 1)
      b->sum.ops_int8++;
    else
      b->sum.ops_int16++;
    char type[160];
    qir_type_format(rt, type, sizeof type);
    const char *name = op->results[0].name ? op->results[0].name : "";
    const char *row[] = {name, op->def->name, prec, type};
    build_table_row(t, row);
  }
  build_table_emit(b, t, "Layers");
}

/* ---- The summary --------------------------------------------------------- */

void build_report_summary(build *b, double seconds) {
  build_say(b, "\nSummary");
  build_say(b, "  model        %s", cfg_string(b->c, "input"));
  build_say(b, "  target       %s (%s, %u core%s)", b->target->name,
            cfg_string(b->c, "npu_mode"), b->cores, b->cores == 1 ? "" : "s");
  build_say(b, "  layers       8-bit: %u, 16-bit: %u, float: %u", b->sum.ops_int8,
            b->sum.ops_int16, b->sum.ops_float);
  if (b->sum.have_placement)
    build_say(b, "  placement    %u on the NPU, %u on the CPU",
              b->sum.ops_npu, b->sum.ops_cpu);
  if (b->sum.check_result[0])
    build_say(b, "  check        %s", b->sum.check_result);
  if (b->sum.have_cosine)
    build_say(b, "  cosine       %.6f (artifact vs float model, worst output: "
              "%s)", b->sum.cosine, b->sum.cosine_output);
  if (b->sum.have_perf)
    build_say(b, "  performance  %.0f FPS, %.1f KB DDR per frame (NPU steps, "
              "cost model)", b->sum.fps, b->sum.ddr_bytes / 1024);
  build_say(b, "  outputs      %s", cfg_string(b->c, "output_dir"));
  build_say(b, "  time         %.1f s", seconds);
}
