/* backends/npu/report.c - the performance reports of qir-llc: -perf-json
 * (json-c) and -perf-report, an HTML page built with libxml2's tree API
 * (a summary, the per-layer table and an SVG timeline).  qir-llc writes
 * them atomically; docs/NPU.md, "Performance reports", defines the
 * fields. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "backends/npu/perf.h"
#include "backends/npu/run.h"

/* The op of a layer: the first word of its name ("conv2d %c"). */
static void op_of(const npu_perf_layer *l, char *buf, size_t n) {
  size_t len = strcspn(l->name, " ");
  if (len >= n)
    len = n - 1;
  memcpy(buf, l->name, len);
  buf[len] = 0;
}

static double ratio(double x, double y) { return y > 0 ? x / y : 0; }

/* ---- JSON ----------------------------------------------------------------------- */

/* Integral values print as integers, others with 15 significant digits
 * (json-c's own format prints 17, with noise). */
static json_object *jnum(double v) {
  if (!isfinite(v))
    return NULL;
  if (v == floor(v) && fabs(v) < 9007199254740992.0)
    return json_object_new_int64((int64_t)v);
  char text[40];
  snprintf(text, sizeof text, "%.15g", v);
  return json_object_new_double_s(v, text);
}

static void jset(json_object *o, const char *key, json_object *v) {
  json_object_object_add(o, key, v);
}

static json_object *json_summary(const npu_perf *p) {
  const npu_cost *s = &p->total;
  double bytes = s->ddr_read_bytes + s->ddr_write_bytes;
  json_object *o = json_object_new_object();
  jset(o, "macs", jnum(s->macs));
  jset(o, "vector_ops", jnum(s->vector_ops));
  jset(o, "cycles", jnum(s->cycles));
  jset(o, "latency_us", jnum(p->latency_us));
  jset(o, "fps", jnum(p->fps));
  jset(o, "ddr_load_bytes", jnum(s->ddr_read_bytes));
  jset(o, "ddr_weight_load_bytes", jnum(p->weight_load_bytes));
  jset(o, "ddr_store_bytes", jnum(s->ddr_write_bytes));
  jset(o, "ddr_bytes", jnum(bytes));
  jset(o, "compulsory_weight_bytes", jnum(p->weight_bytes));
  jset(o, "compulsory_input_bytes", jnum(p->input_bytes));
  jset(o, "compulsory_output_bytes", jnum(p->output_bytes));
  jset(o, "compulsory_bytes", jnum(p->compulsory_bytes));
  jset(o, "ddr_vs_compulsory", jnum(ratio(bytes, p->compulsory_bytes)));
  jset(o, "roofline_compute_us", jnum(p->compute_bound_us));
  jset(o, "roofline_ddr_us", jnum(p->memory_bound_us));
  jset(o, "roofline_us", jnum(p->roofline_us));
  jset(o, "roofline_bound", json_object_new_string(npu_perf_roofline_bound(p)));
  jset(o, "latency_vs_roofline", jnum(ratio(p->latency_us, p->roofline_us)));
  jset(o, "engine_compute_us", jnum(p->engine_compute_us));
  jset(o, "engine_bound_us", jnum(p->engine_bound_us));
  jset(o, "latency_vs_engine_bound", jnum(ratio(p->latency_us, p->engine_bound_us)));
  jset(o, "shared_bus_us", jnum(p->shared_bus_us));
  jset(o, "shared_bus_vs_latency", jnum(ratio(p->shared_bus_us, p->latency_us)));
  jset(o, "mac_utilization", jnum(p->mac_utilization));
  jset(o, "ddr_utilization", jnum(p->ddr_utilization));
  return o;
}

static json_object *json_layer(const npu_perf_layer *l, unsigned index) {
  char op[64];
  op_of(l, op, sizeof op);
  json_object *o = json_object_new_object();
  jset(o, "index", json_object_new_int64(index));
  jset(o, "program", json_object_new_string(l->program));
  jset(o, "name", json_object_new_string(l->name));
  jset(o, "op", json_object_new_string(op));
  jset(o, "insn", json_object_new_string(l->insn));
  jset(o, "engine", json_object_new_string(l->engine));
  jset(o, "macs", jnum(l->cost.macs));
  jset(o, "vector_ops", jnum(l->cost.vector_ops));
  jset(o, "compute_cycles", jnum(l->cost.compute_cycles));
  jset(o, "load_bytes", jnum(l->cost.ddr_read_bytes));
  jset(o, "weight_load_bytes", jnum(l->weight_load_bytes));
  jset(o, "load_cycles", jnum(l->load_cycles));
  jset(o, "store_bytes", jnum(l->cost.ddr_write_bytes));
  jset(o, "store_cycles", jnum(l->store_cycles));
  jset(o, "cycles", jnum(l->cost.cycles));
  jset(o, "start_cycle", jnum(l->start_cycle));
  jset(o, "core", json_object_new_int((int)l->core));
  jset(o, "bound", json_object_new_string(npu_perf_layer_bound(l)));
  return o;
}

/* What each core did: its instructions, the time its compute and DMA
 * engines were busy and the time it waited for the others (us). */
static json_object *json_cores(const npu_perf *p) {
  json_object *arr = json_object_new_array();
  for (unsigned c = 0; c < p->cores; c++) {
    const npu_core_figures *f = &p->core[c];
    json_object *o = json_object_new_object();
    jset(o, "core", json_object_new_int((int)c));
    jset(o, "instructions", json_object_new_int((int)f->insns));
    jset(o, "compute_us", jnum(f->busy_cycles[0] / p->clock_mhz));
    jset(o, "dma_us", jnum(f->busy_cycles[1] / p->clock_mhz));
    jset(o, "waiting_us", jnum(f->sync_wait_cycles / p->clock_mhz));
    json_object_array_add(arr, o);
  }
  return arr;
}

static json_object *json_perf(const npu_perf *p) {
  json_object *root = json_object_new_object();
  jset(root, "format", json_object_new_string("qir-perf"));
  jset(root, "version", json_object_new_int(1));
  jset(root, "target", json_object_new_string(p->target->name));
  jset(root, "cores", json_object_new_int((int)p->cores));
  jset(root, "target_cores", json_object_new_int((int)p->target->cores));
  jset(root, "clock_mhz", jnum(p->clock_mhz));
  jset(root, "ddr_gbps", jnum(p->ddr_gbps));
  jset(root, "target_ddr_gbps", jnum(p->target_ddr_gbps));
  jset(root, "peak_macs_per_s", jnum(p->peak_macs));
  jset(root, "npu_steps", json_object_new_int((int)p->npu_steps));
  jset(root, "cpu_steps", json_object_new_int((int)p->cpu_steps));
  jset(root, "summary", json_summary(p));
  jset(root, "cores_used", json_object_new_int((int)p->cores_used));
  jset(root, "syncs", json_object_new_int((int)p->syncs));
  jset(root, "per_core", json_cores(p));
  json_object *layers = json_object_new_array();
  for (unsigned i = 0; i < p->num_layers; i++)
    json_object_array_add(layers, json_layer(&p->layers[i], i));
  jset(root, "layers", layers);
  return root;
}

/* ---- The emulator's counters against the estimate --------------------------------- */

/* (emulated - estimated) / estimated in percent; 0 when both are 0. */
static double pct_diff(double emulated, double estimated) {
  if (fabs(emulated - estimated) <= 1e-9 * fabs(estimated)) /* rounding of sums */
    return 0;
  if (estimated == 0)
    return emulated == 0 ? 0 : 100;
  return 100.0 * (emulated - estimated) / estimated;
}

typedef struct program_estimate {
  double load, wgt, store, cycles;
} program_estimate;

/* Row of the first instruction of program `prog` in perf->layers. */
static unsigned first_layer(const qir_artifact *a, unsigned prog) {
  unsigned n = 0;
  for (unsigned i = 0; i < prog && i < a->num_programs; i++)
    n += a->programs[i].num_insns;
  return n;
}

/* The estimate of one run of program `prog`: its layers' bytes, and the
 * cycles from its first layer's start to the next program's (programs
 * run one after the other on the estimate's timeline). */
static program_estimate estimate_of(const npu_perf *perf, const qir_artifact *a,
                                    unsigned prog) {
  program_estimate e = {0, 0, 0, 0};
  unsigned first = first_layer(a, prog), n = a->programs[prog].num_insns;
  if (!n || first + n > perf->num_layers)
    return e;
  for (unsigned k = first; k < first + n; k++) {
    e.load += perf->layers[k].cost.ddr_read_bytes;
    e.wgt += perf->layers[k].weight_load_bytes;
    e.store += perf->layers[k].cost.ddr_write_bytes;
  }
  double end = perf->total.cycles;
  if (first + n < perf->num_layers)
    end = perf->layers[first + n].start_cycle;
  e.cycles = end - perf->layers[first].start_cycle;
  return e;
}

static double stats_bytes(const qir_emu_stats *s) {
  return (double)(s->ddr_load_bytes + s->ddr_store_bytes);
}

static double step_bytes(const qir_emu_step_stats *s) {
  return (double)(s->ddr_load_bytes + s->ddr_store_bytes);
}

/* The estimate of each counted row (one run of its program, in the
 * artifact's own graph or in the batch variant it ran) and the estimated
 * totals over the rows' runs. */
typedef struct emu_compare {
  program_estimate *rows;
  double load, wgt, store, cycles;
} emu_compare;

/* The variant of `a` compiled at `batch` frames (a itself for 1). */
static const qir_artifact *variant_of(const qir_artifact *a, unsigned batch) {
  for (unsigned i = 0, b; batch > 1 && i < npu_artifact_num_variants(a); i++) {
    const qir_artifact *v = npu_artifact_variant(a, i, &b);
    if (b == batch)
      return v;
  }
  return a;
}

static void compare_build(const npu_perf *perf, const qir_artifact *a,
                          const qir_emu_stats *s, emu_compare *c) {
  memset(c, 0, sizeof *c);
  c->rows = qir_xcalloc(s->num_steps + 1, sizeof *c->rows);
  npu_perf_options po = {perf->ddr_gbps};
  npu_perf vp;
  unsigned vp_batch = 0;
  for (unsigned i = 0; i < s->num_steps; i++) {
    const qir_emu_step_stats *st = &s->steps[i];
    const qir_artifact *v = variant_of(a, st->batch);
    const npu_perf *p = perf;
    if (v != a) {
      if (vp_batch != st->batch) {
        if (vp_batch)
          npu_perf_free(&vp);
        vp_batch = npu_perf_compute(v, &po, &vp) ? st->batch : 0;
      }
      if (!vp_batch)
        continue;
      p = &vp;
    }
    program_estimate e = estimate_of(p, v, v->steps[st->step].index);
    double runs = (double)st->runs;
    c->rows[i] = e;
    c->load += e.load * runs;
    c->wgt += e.wgt * runs;
    c->store += e.store * runs;
    c->cycles += e.cycles * runs;
  }
  if (vp_batch)
    npu_perf_free(&vp);
  if (s->frames <= 1) { /* one run of the artifact's own graph: its estimate */
    c->load = perf->total.ddr_read_bytes;
    c->wgt = perf->weight_load_bytes;
    c->store = perf->total.ddr_write_bytes;
    c->cycles = perf->total.cycles;
  }
}

static void row_label(const qir_emu_step_stats *st, char *buf, size_t n) {
  if (st->batch > 1)
    snprintf(buf, n, "b%u:%s", st->batch, st->program ? st->program : "");
  else
    snprintf(buf, n, "%s", st->program ? st->program : "");
}

void npu_emu_stats_print_text(const npu_perf *perf, const qir_artifact *a,
                              const qir_emu_stats *s, FILE *out) {
  emu_compare c;
  compare_build(perf, a, s, &c);
  double est_bytes = c.load + c.store, clock = perf->clock_mhz;
  fprintf(out, "emulated vs estimated on %s (NPU steps; diff = (emulated - estimated) "
               "/ estimated)\n", perf->target->name);
  fprintf(out, "  %-4s %-24s %6s %12s %12s %8s %12s %12s %8s\n", "step", "program",
          "runs", "DDR emu", "DDR est", "diff", "cycles emu", "cycles est", "diff");
  for (unsigned i = 0; i < s->num_steps; i++) {
    const qir_emu_step_stats *st = &s->steps[i];
    if (!st->runs && s->frames > 1)
      continue;
    const program_estimate *e = &c.rows[i];
    double runs = (double)st->runs, eb = (e->load + e->store) * runs, ec = e->cycles * runs;
    char label[96];
    row_label(st, label, sizeof label);
    fprintf(out, "  %-4u %-24s %6llu %12.0f %12.0f %+7.2f%% %12.0f %12.0f %+7.2f%%\n",
            st->step, label, (unsigned long long)st->runs, step_bytes(st), eb,
            pct_diff(step_bytes(st), eb), st->cycles, ec, pct_diff(st->cycles, ec));
  }
  fprintf(out, "emulated: %llu instructions, %.0f cycles, %.2f us; DDR %.0f bytes "
               "(%llu read, %llu of them weights, %llu written)\n",
          (unsigned long long)s->instructions, s->cycles, s->latency_us, stats_bytes(s),
          (unsigned long long)s->ddr_load_bytes,
          (unsigned long long)s->ddr_weight_load_bytes,
          (unsigned long long)s->ddr_store_bytes);
  fprintf(out, "estimated: %.0f cycles, %.2f us; DDR %.0f bytes (%.0f read, %.0f of them "
               "weights, %.0f written)\n",
          c.cycles, c.cycles / clock, est_bytes, c.load, c.wgt, c.store);
  fprintf(out, "difference: DDR %+.2f%% (read %+.2f%%, write %+.2f%%), cycles %+.2f%%\n",
          pct_diff(stats_bytes(s), est_bytes), pct_diff((double)s->ddr_load_bytes, c.load),
          pct_diff((double)s->ddr_store_bytes, c.store), pct_diff(s->cycles, c.cycles));
  if (s->frames > 1) {
    double f = (double)s->frames;
    fprintf(out, "per frame (%llu frames in %llu runs): emulated %.2f us, %.1f FPS, DDR "
                 "%.0f bytes; estimated %.2f us, %.1f FPS, DDR %.0f bytes\n",
            (unsigned long long)s->frames, (unsigned long long)s->runs, s->latency_us / f,
            s->latency_us > 0 ? 1e6 * f / s->latency_us : 0, stats_bytes(s) / f,
            c.cycles / clock / f, c.cycles > 0 ? 1e6 * f * clock / c.cycles : 0, est_bytes / f);
  }
  free(c.rows);
}

static json_object *json_emu_step(const qir_emu_step_stats *st, const program_estimate *e) {
  double runs = (double)st->runs, eb = (e->load + e->store) * runs;
  json_object *o = json_object_new_object();
  jset(o, "step", json_object_new_int64(st->step));
  if (st->batch > 1)
    jset(o, "batch", json_object_new_int64(st->batch));
  jset(o, "program", json_object_new_string(st->program ? st->program : ""));
  jset(o, "runs", jnum((double)st->runs));
  jset(o, "instructions", jnum((double)st->instructions));
  jset(o, "ddr_load_bytes", jnum((double)st->ddr_load_bytes));
  jset(o, "ddr_weight_load_bytes", jnum((double)st->ddr_weight_load_bytes));
  jset(o, "ddr_store_bytes", jnum((double)st->ddr_store_bytes));
  jset(o, "ddr_bytes", jnum(step_bytes(st)));
  jset(o, "cycles", jnum(st->cycles));
  jset(o, "estimated_ddr_bytes", jnum(eb));
  jset(o, "estimated_cycles", jnum(e->cycles * runs));
  jset(o, "ddr_bytes_diff_pct", jnum(pct_diff(step_bytes(st), eb)));
  jset(o, "cycles_diff_pct", jnum(pct_diff(st->cycles, e->cycles * runs)));
  return o;
}

static json_object *json_emulated(const npu_perf *perf, const qir_artifact *a,
                                  const qir_emu_stats *s) {
  emu_compare c;
  compare_build(perf, a, s, &c);
  json_object *o = json_object_new_object();
  jset(o, "runs", jnum((double)s->runs));
  if (s->frames > 1)
    jset(o, "frames", jnum((double)s->frames));
  jset(o, "instructions", jnum((double)s->instructions));
  jset(o, "cycles", jnum(s->cycles));
  jset(o, "latency_us", jnum(s->latency_us));
  jset(o, "ddr_load_bytes", jnum((double)s->ddr_load_bytes));
  jset(o, "ddr_weight_load_bytes", jnum((double)s->ddr_weight_load_bytes));
  jset(o, "ddr_store_bytes", jnum((double)s->ddr_store_bytes));
  jset(o, "ddr_bytes", jnum(stats_bytes(s)));
  if (s->frames > 1) {
    jset(o, "estimated_cycles", jnum(c.cycles));
    jset(o, "estimated_ddr_bytes", jnum(c.load + c.store));
  }
  jset(o, "ddr_bytes_diff_pct", jnum(pct_diff(stats_bytes(s), c.load + c.store)));
  jset(o, "cycles_diff_pct", jnum(pct_diff(s->cycles, c.cycles)));
  json_object *steps = json_object_new_array();
  for (unsigned i = 0; i < s->num_steps; i++)
    json_object_array_add(steps, json_emu_step(&s->steps[i], &c.rows[i]));
  jset(o, "steps", steps);
  free(c.rows);
  return o;
}

void npu_perf_print_json(const npu_perf *perf, FILE *out) {
  npu_perf_print_json_emu(perf, NULL, NULL, out);
}

void npu_perf_print_json_emu(const npu_perf *perf, const qir_artifact *a,
                             const qir_emu_stats *emu, FILE *out) {
  json_object *root = json_perf(perf);
  if (a && emu)
    jset(root, "emulated", json_emulated(perf, a, emu));
  fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                 JSON_C_TO_STRING_SPACED |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE),
        out);
  fputc('\n', out);
  json_object_put(root);
}

/* ---- HTML ----------------------------------------------------------------------- */

/* The timeline draws at most this many layers (the table lists all). */
#define TIMELINE_MAX_ROWS 2000
#define TL_LABEL 220 /* width of the label column, px */
#define TL_PLOT 720  /* width of the time axis, px */
#define TL_ROW 14    /* height of a row, px */
#define TL_AXIS 24   /* height of the axis, px */

static const char STYLE[] =
    "body{font-family:sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;font-size:13px}"
    "th,td{border:1px solid #ccc;padding:2px 6px}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "tr.ddr td{background:#fff4e5}"
    "svg text{font-size:10px;font-family:monospace}";

static xmlNodePtr el(xmlNodePtr parent, const char *name, const char *text) {
  return xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST text);
}

static void attr(xmlNodePtr n, const char *name, const char *fmt, ...)
    QIR_PRINTF(3, 4);
static void attr(xmlNodePtr n, const char *name, const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  xmlNewProp(n, BAD_CAST name, BAD_CAST buf);
}

/* A cell with printf text; `num` right-aligns it. */
static xmlNodePtr cell(xmlNodePtr tr, bool num, const char *fmt, ...) QIR_PRINTF(3, 4);
static xmlNodePtr cell(xmlNodePtr tr, bool num, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  xmlNodePtr td = el(tr, "td", buf);
  if (num)
    xmlNewProp(td, BAD_CAST "class", BAD_CAST "n");
  return td;
}

static void summary_row(xmlNodePtr table, const char *what, const char *fmt, ...)
    QIR_PRINTF(3, 4);
static void summary_row(xmlNodePtr table, const char *what, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  xmlNodePtr tr = el(table, "tr", NULL);
  el(tr, "th", what);
  cell(tr, false, "%s", buf);
}

static void html_summary(xmlNodePtr body, const npu_perf *p) {
  const npu_cost *s = &p->total;
  double bytes = s->ddr_read_bytes + s->ddr_write_bytes;
  el(body, "h2", "Summary");
  xmlNodePtr t = el(body, "table", NULL);
  attr(t, "id", "summary");
  summary_row(t, "target", "%s, %u of %u cores, %.0f MHz", p->target->name,
              p->cores, p->target->cores, p->clock_mhz);
  summary_row(t, "DDR bandwidth", "%.1f GB/s (target %.1f GB/s)", p->ddr_gbps,
              p->target_ddr_gbps);
  summary_row(t, "latency", "%.2f us (%.0f cycles)", p->latency_us, s->cycles);
  summary_row(t, "throughput", "%.0f FPS (batch 1)", p->fps);
  summary_row(t, "MACs", "%.0f", s->macs);
  summary_row(t, "DDR per frame",
              "%.0f bytes: %.0f loaded (%.0f of them weights), %.0f stored", bytes,
              s->ddr_read_bytes, p->weight_load_bytes, s->ddr_write_bytes);
  summary_row(t, "compulsory DDR", "%.0f bytes: %.0f weights, %.0f inputs, %.0f outputs",
              p->compulsory_bytes, p->weight_bytes, p->input_bytes, p->output_bytes);
  summary_row(t, "DDR vs compulsory", "%.2fx", ratio(bytes, p->compulsory_bytes));
  summary_row(t, "roofline", "%.2f us, bound by %s (compute %.2f us, DDR %.2f us)",
              p->roofline_us, npu_perf_roofline_bound(p), p->compute_bound_us,
              p->memory_bound_us);
  summary_row(t, "estimate vs roofline", "%.2fx", ratio(p->latency_us, p->roofline_us));
  summary_row(t, "engine bound", "%.2f us, %.2fx (compute at the engines' rates %.2f us, DDR %.2f us)",
              p->engine_bound_us, ratio(p->latency_us, p->engine_bound_us),
              p->engine_compute_us, p->memory_bound_us);
  summary_row(t, "shared DDR bus",
              "%.2f us, %.2fx (one transfer at a time in program order, where the estimate "
              "gives each the full bandwidth)", p->shared_bus_us,
              ratio(p->shared_bus_us, p->latency_us));
  summary_row(t, "utilization", "MAC array %.1f%%, DDR %.1f%%",
              100.0 * p->mac_utilization, 100.0 * p->ddr_utilization);
  summary_row(t, "cores", "%u of %u ran instructions; %u sync(s)", p->cores_used,
              p->cores, p->syncs);
  for (unsigned c = 0; c < p->cores; c++) {
    const npu_core_figures *f = &p->core[c];
    char what[16];
    snprintf(what, sizeof what, "core %u", c);
    summary_row(t, what, "%u instructions, compute %.2f us, dma %.2f us, waiting %.2f us",
                f->insns, f->busy_cycles[0] / p->clock_mhz,
                f->busy_cycles[1] / p->clock_mhz, f->sync_wait_cycles / p->clock_mhz);
  }
  summary_row(t, "not included", "%u CPU step(s)", p->cpu_steps);
}

static void html_layers(xmlNodePtr body, const npu_perf *p) {
  static const char *const heads[] = {
      "#", "layer", "op", "insn", "engine", "MACs", "compute cycles",
      "load bytes", "load cycles", "store bytes", "store cycles", "cycles",
      "start us", "bound"};
  el(body, "h2", "Layers");
  xmlNodePtr t = el(body, "table", NULL), tr = el(t, "tr", NULL);
  attr(t, "id", "layers");
  for (unsigned i = 0; i < sizeof heads / sizeof heads[0]; i++)
    el(tr, "th", heads[i]);
  for (unsigned i = 0; i < p->num_layers; i++) {
    const npu_perf_layer *l = &p->layers[i];
    char op[64];
    op_of(l, op, sizeof op);
    tr = el(t, "tr", NULL);
    attr(tr, "class", "%s", npu_perf_layer_bound(l));
    cell(tr, true, "%u", i);
    cell(tr, false, "%s", l->name);
    cell(tr, false, "%s", op);
    cell(tr, false, "%s", l->insn);
    cell(tr, false, "%s", l->engine);
    cell(tr, true, "%.0f", l->cost.macs);
    cell(tr, true, "%.0f", l->cost.compute_cycles);
    cell(tr, true, "%.0f", l->cost.ddr_read_bytes);
    cell(tr, true, "%.0f", l->load_cycles);
    cell(tr, true, "%.0f", l->cost.ddr_write_bytes);
    cell(tr, true, "%.0f", l->store_cycles);
    cell(tr, true, "%.0f", l->cost.cycles);
    cell(tr, true, "%.3f", l->start_cycle / p->clock_mhz);
    cell(tr, false, "%s", npu_perf_layer_bound(l));
  }
}

static xmlNodePtr svg_el(xmlNodePtr parent, const char *name) {
  return xmlNewChild(parent, NULL, BAD_CAST name, NULL);
}

static void svg_axis(xmlNodePtr svg, double total_us, double y) {
  for (int k = 0; k <= 4; k++) {
    double x = TL_LABEL + TL_PLOT * k / 4.0;
    xmlNodePtr tick = svg_el(svg, "line");
    attr(tick, "x1", "%.1f", x);
    attr(tick, "x2", "%.1f", x);
    attr(tick, "y1", "0");
    attr(tick, "y2", "%.1f", y);
    attr(tick, "stroke", "#ddd");
    char label[32];
    snprintf(label, sizeof label, "%.2f us", total_us * k / 4.0);
    xmlNodePtr text = el(svg, "text", label);
    attr(text, "x", "%.1f", x);
    attr(text, "y", "%.1f", y + 14);
    attr(text, "text-anchor", "%s", k == 0 ? "start" : k == 4 ? "end" : "middle");
  }
}

/* One bar per layer at its start, as long as its cycles: blue when it
 * computes longer than it waits on DDR, orange otherwise. */
static void svg_bar(xmlNodePtr svg, const npu_perf_layer *l, unsigned row,
                    double total, double mhz) {
  double y = row * TL_ROW;
  xmlNodePtr label = el(svg, "text", l->name);
  attr(label, "x", "%d", TL_LABEL - 4);
  attr(label, "y", "%.1f", y + TL_ROW - 3);
  attr(label, "text-anchor", "end");
  double x = TL_LABEL + TL_PLOT * ratio(l->start_cycle, total);
  double w = TL_PLOT * ratio(l->cost.cycles, total);
  xmlNodePtr bar = svg_el(svg, "rect");
  attr(bar, "x", "%.2f", x);
  attr(bar, "y", "%.1f", y + 2);
  attr(bar, "width", "%.2f", w < 0.5 ? 0.5 : w);
  attr(bar, "height", "%d", TL_ROW - 4);
  attr(bar, "fill", "%s", !strcmp(npu_perf_layer_bound(l), "ddr") ? "#f0a030" : "#3070c0");
  char tip[512];
  snprintf(tip, sizeof tip, "%s (%s on %s): %.3f us from %.3f us, %s bound", l->name,
           l->insn, l->engine, l->cost.cycles / mhz, l->start_cycle / mhz,
           npu_perf_layer_bound(l));
  el(bar, "title", tip);
}

static void html_timeline(xmlNodePtr body, const npu_perf *p) {
  el(body, "h2", "Timeline");
  unsigned rows = p->num_layers < TIMELINE_MAX_ROWS ? p->num_layers : TIMELINE_MAX_ROWS;
  char note[256], first[64] = "";
  if (rows < p->num_layers)
    snprintf(first, sizeof first, " Only the first %d layers are drawn.",
             TIMELINE_MAX_ROWS);
  snprintf(note, sizeof note,
           "Layers in execution order over one frame (NPU steps only); blue: "
           "compute bound, orange: DDR bound.%s", first);
  el(body, "p", note);
  double height = rows * TL_ROW + TL_AXIS;
  xmlNodePtr svg = svg_el(body, "svg");
  xmlNsPtr ns = xmlNewNs(svg, BAD_CAST "http://www.w3.org/2000/svg", NULL);
  xmlSetNs(svg, ns);
  attr(svg, "id", "timeline");
  attr(svg, "width", "%d", TL_LABEL + TL_PLOT + 8);
  attr(svg, "height", "%.0f", height);
  svg_axis(svg, p->latency_us, rows * TL_ROW);
  for (unsigned i = 0; i < rows; i++)
    svg_bar(svg, &p->layers[i], i, p->total.cycles, p->clock_mhz);
}

/* ---- The layer graph ----
 * Nodes: the artifact's inputs, the layers of its NPU programs (the
 * instructions of one op: one name), its CPU steps and its outputs.  An
 * edge joins a layer to the layers that read what it wrote: within a
 * program, an instruction reading bytes of a tensor (an operand: in, a, b,
 * sum, src) reads from the latest instructions that wrote bytes of it
 * (its result: out, dst),
 * back to one that wrote all of them; between steps, the artifact's
 * values join the layer that wrote a program output, or the CPU step or
 * input that made the value, to the step that takes it. */

#define GRAPH_MAX_NODES 2000 /* larger graphs are not drawn */
#define GRAPH_SCAN 4096      /* earlier writes looked at, per read */
#define GN_W 170             /* node box, px */
#define GN_H 30
#define GN_GAP_X 14
#define GN_GAP_Y 26

enum { GN_INPUT, GN_LAYER, GN_CPU, GN_OUTPUT };

typedef struct gnode {
  unsigned kind, program;
  const char *name;
  double cycles, compute_cycles, ddr_cycles;
  unsigned depth, col;
} gnode;

typedef struct gwrite {
  unsigned space, node;
  uint64_t lo, hi;
} gwrite;

typedef struct graph {
  unsigned num_nodes, num_edges, cap_edges;
  gnode *nodes;
  unsigned (*edges)[2];
  unsigned num_writes, cap_writes;
  gwrite *writes; /* of the current program, in order */
  unsigned *producer; /* value -> node, UINT32_MAX: none yet */
  bool too_large;
} graph;

static unsigned graph_node(graph *g, unsigned kind, unsigned program, const char *name) {
  if (kind == GN_LAYER) /* one node per name in a program */
    for (unsigned i = g->num_nodes; i-- > 0;) {
      if (g->nodes[i].kind == GN_LAYER && g->nodes[i].program != program)
        break;
      if (g->nodes[i].kind == GN_LAYER && !strcmp(g->nodes[i].name, name))
        return i;
    }
  if (g->num_nodes == GRAPH_MAX_NODES) {
    g->too_large = true;
    return UINT32_MAX;
  }
  g->nodes[g->num_nodes] = (gnode){kind, program, name, 0, 0, 0, 0, 0};
  return g->num_nodes++;
}

static void graph_edge(graph *g, unsigned from, unsigned to) {
  if (from == UINT32_MAX || to == UINT32_MAX || from == to)
    return;
  for (unsigned i = 0; i < g->num_edges; i++)
    if (g->edges[i][0] == from && g->edges[i][1] == to)
      return;
  if (g->num_edges == g->cap_edges) {
    g->cap_edges = g->cap_edges ? 2 * g->cap_edges : 64;
    g->edges = qir_xrealloc(g->edges, g->cap_edges * sizeof *g->edges);
  }
  g->edges[g->num_edges][0] = from;
  g->edges[g->num_edges++][1] = to;
}

static void tensor_range(const npu_tensor *t, uint64_t *lo, uint64_t *hi) {
  *lo = t->offset;
  *hi = t->offset + (uint64_t)npu_tensor_numel(t) * qir_scalar_size(t->dtype);
}

static void graph_write(graph *g, const npu_tensor *t, unsigned node) {
  if (g->num_writes == g->cap_writes) {
    g->cap_writes = g->cap_writes ? 2 * g->cap_writes : 256;
    g->writes = qir_xrealloc(g->writes, g->cap_writes * sizeof *g->writes);
  }
  gwrite *w = &g->writes[g->num_writes++];
  w->space = t->space;
  w->node = node;
  tensor_range(t, &w->lo, &w->hi);
}

/* Edges into `node` from the writers of tensor t's bytes; returns the
 * latest writer (UINT32_MAX: none). */
static unsigned graph_read(graph *g, const npu_tensor *t, unsigned node) {
  uint64_t lo, hi;
  tensor_range(t, &lo, &hi);
  unsigned latest = UINT32_MAX;
  for (unsigned i = g->num_writes, n = 0; i-- > 0 && n < GRAPH_SCAN; n++) {
    const gwrite *w = &g->writes[i];
    if (w->space != t->space || w->hi <= lo || w->lo >= hi)
      continue;
    if (latest == UINT32_MAX)
      latest = w->node;
    graph_edge(g, w->node, node);
    if (w->lo <= lo && w->hi >= hi)
      break;
  }
  return latest;
}

static void graph_program(graph *g, const npu_perf *perf, const qir_artifact *a,
                          const npu_step *s, unsigned *layer) {
  const npu_program *p = &a->programs[s->index];
  g->num_writes = 0;
  for (unsigned k = 0; k < p->num_inputs && k < s->num_in; k++)
    graph_write(g, &p->tensors[p->inputs[k]], g->producer[s->in[k]]);
  for (unsigned k = 0; k < p->num_insns; k++, (*layer)++) {
    const npu_insn *in = &p->insns[k];
    if (npu_insn_is_marker(in))
      continue;
    unsigned node = graph_node(g, GN_LAYER, s->index, in->comment ? in->comment : p->name);
    if (node == UINT32_MAX)
      return;
    const npu_perf_layer *l = *layer < perf->num_layers ? &perf->layers[*layer] : NULL;
    if (l) {
      g->nodes[node].cycles += l->cost.cycles;
      g->nodes[node].compute_cycles += l->cost.compute_cycles;
      g->nodes[node].ddr_cycles += l->load_cycles + l->store_cycles;
    }
    const npu_insn_info *info = npu_insn_info_of(in->opcode);
    for (unsigned f = 0; f < info->num_fields; f++)
      if (npu_field_role(in->opcode, f) == NPU_FIELD_OPERAND && npu_field_tensor(p, in, f))
        graph_read(g, npu_field_tensor(p, in, f), node);
    for (unsigned f = 0; f < info->num_fields; f++)
      if (npu_field_role(in->opcode, f) == NPU_FIELD_RESULT && npu_field_tensor(p, in, f))
        graph_write(g, npu_field_tensor(p, in, f), node);
  }
  for (unsigned k = 0; k < p->num_outputs && k < s->num_out; k++) {
    /* (Reading it for no node: its latest writer.) */
    g->producer[s->out[k]] = graph_read(g, &p->tensors[p->outputs[k]], UINT32_MAX);
  }
}

/* The graph of `a`; its layers' cycles from `perf` (rows in program
 * order, as cost.c makes them). */
static void graph_build(graph *g, const npu_perf *perf, const qir_artifact *a) {
  g->nodes = qir_xcalloc(GRAPH_MAX_NODES, sizeof *g->nodes);
  g->producer = qir_xcalloc(a->num_values + 1, sizeof *g->producer);
  for (unsigned v = 0; v < a->num_values; v++)
    g->producer[v] = UINT32_MAX;
  for (unsigned i = 0; i < a->num_inputs; i++)
    g->producer[a->inputs[i]] = graph_node(g, GN_INPUT, 0, a->values[a->inputs[i]].name);
  unsigned layer = 0;
  for (unsigned i = 0; i < a->num_steps && !g->too_large; i++) {
    const npu_step *s = &a->steps[i];
    if (s->kind == NPU_STEP_NPU) {
      graph_program(g, perf, a, s, &layer);
      continue;
    }
    unsigned node = graph_node(g, GN_CPU, 0, s->func);
    for (unsigned k = 0; k < s->num_in; k++)
      graph_edge(g, g->producer[s->in[k]], node);
    for (unsigned k = 0; k < s->num_out; k++)
      g->producer[s->out[k]] = node;
  }
  for (unsigned i = 0; i < a->num_outputs && !g->too_large; i++)
    graph_edge(g, g->producer[a->outputs[i]],
               graph_node(g, GN_OUTPUT, 0, a->values[a->outputs[i]].name));
  /* Rows: the longest path from a source (edges run forward in node
   * order); columns: node order within a row. */
  for (unsigned n = 0; n < g->num_nodes; n++)
    for (unsigned i = 0; i < g->num_edges; i++)
      if (g->edges[i][1] == n && g->edges[i][0] < n &&
          g->nodes[g->edges[i][0]].depth + 1 > g->nodes[n].depth)
        g->nodes[n].depth = g->nodes[g->edges[i][0]].depth + 1;
}

static void graph_free(graph *g) {
  free(g->nodes);
  free(g->edges);
  free(g->writes);
  free(g->producer);
}

static const char *node_fill(const gnode *n) {
  switch (n->kind) {
  case GN_LAYER:
    return n->ddr_cycles > n->compute_cycles ? "#f0a030" : "#3070c0";
  case GN_CPU:
    return "#999999";
  default:
    return "#60a060";
  }
}

static void html_graph(xmlNodePtr body, const npu_perf *p, const qir_artifact *a) {
  el(body, "h2", "Graph");
  graph g = {0};
  graph_build(&g, p, a);
  if (g.too_large) {
    char note[128];
    snprintf(note, sizeof note, "The graph has more than %d nodes and is not drawn.",
             GRAPH_MAX_NODES);
    el(body, "p", note);
    graph_free(&g);
    return;
  }
  el(body, "p", "The inputs and outputs (green), the layers of the NPU programs (blue: "
                "compute bound, orange: DDR bound; the time is the sum of the layer's "
                "instructions) and the CPU steps (gray), joined where one reads what "
                "another wrote.");
  unsigned rows = 0, cols = 0, *fill = qir_xcalloc(g.num_nodes + 1, sizeof *fill);
  for (unsigned n = 0; n < g.num_nodes; n++) {
    gnode *x = &g.nodes[n];
    x->col = fill[x->depth]++;
    rows = x->depth + 1 > rows ? x->depth + 1 : rows;
    cols = fill[x->depth] > cols ? fill[x->depth] : cols;
  }
  free(fill);
  xmlNodePtr svg = svg_el(body, "svg");
  xmlSetNs(svg, xmlNewNs(svg, BAD_CAST "http://www.w3.org/2000/svg", NULL));
  attr(svg, "id", "graph");
  attr(svg, "width", "%u", cols * (GN_W + GN_GAP_X) + GN_GAP_X);
  attr(svg, "height", "%u", rows * (GN_H + GN_GAP_Y) + GN_GAP_Y);
#define NX(n) (GN_GAP_X + (n)->col * (GN_W + GN_GAP_X))
#define NY(n) (GN_GAP_Y / 2 + (n)->depth * (GN_H + GN_GAP_Y))
  for (unsigned i = 0; i < g.num_edges; i++) {
    const gnode *f = &g.nodes[g.edges[i][0]], *t = &g.nodes[g.edges[i][1]];
    xmlNodePtr line = svg_el(svg, "line");
    attr(line, "x1", "%u", NX(f) + GN_W / 2);
    attr(line, "y1", "%u", NY(f) + GN_H);
    attr(line, "x2", "%u", NX(t) + GN_W / 2);
    attr(line, "y2", "%u", NY(t));
    attr(line, "stroke", "#888");
    char text[256];
    snprintf(text, sizeof text, "%s -> %s", f->name, t->name);
    el(line, "title", text);
  }
  for (unsigned n = 0; n < g.num_nodes; n++) {
    const gnode *x = &g.nodes[n];
    xmlNodePtr box = svg_el(svg, "g");
    xmlNodePtr rect = svg_el(box, "rect");
    attr(rect, "x", "%u", NX(x));
    attr(rect, "y", "%u", NY(x));
    attr(rect, "width", "%d", GN_W);
    attr(rect, "height", "%d", GN_H);
    attr(rect, "rx", "4");
    attr(rect, "fill", "%s", node_fill(x));
    static const char *const kinds[] = {"input", "layer", "cpu", "output"};
    char tip[300], label[40], sub[48];
    if (x->kind == GN_LAYER)
      snprintf(tip, sizeof tip, "%s %s: %.3f us, %s bound", kinds[x->kind], x->name,
               x->cycles / p->clock_mhz, x->ddr_cycles > x->compute_cycles ? "ddr" : "compute");
    else
      snprintf(tip, sizeof tip, "%s %s", kinds[x->kind], x->name);
    el(rect, "title", tip);
    /* The name's end (the value; long names differ at the end), then the
     * op or the kind of node, and a layer's time. */
    const char *value = x->kind == GN_LAYER && strchr(x->name, '%') ? strchr(x->name, '%') + 1
                                                                   : x->name;
    size_t len = strlen(value);
    snprintf(label, sizeof label, "%s%s", len > 26 ? "..." : "",
             len > 26 ? value + len - 23 : value);
    xmlNodePtr t1 = el(box, "text", label);
    attr(t1, "x", "%u", NX(x) + 4);
    attr(t1, "y", "%u", NY(x) + 12);
    attr(t1, "fill", "#fff");
    if (x->kind == GN_LAYER)
      snprintf(sub, sizeof sub, "%.*s %.3f us", (int)strcspn(x->name, " "), x->name,
               x->cycles / p->clock_mhz);
    else
      snprintf(sub, sizeof sub, "%s", kinds[x->kind]);
    xmlNodePtr t2 = el(box, "text", sub);
    attr(t2, "x", "%u", NX(x) + 4);
    attr(t2, "y", "%u", NY(x) + 25);
    attr(t2, "fill", "#fff");
  }
#undef NX
#undef NY
  graph_free(&g);
}

static xmlDocPtr html_doc(const npu_perf *p, const qir_artifact *a) {
  xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
  xmlCreateIntSubset(doc, BAD_CAST "html", NULL, NULL);
  xmlNodePtr html = xmlNewDocNode(doc, NULL, BAD_CAST "html", NULL);
  xmlDocSetRootElement(doc, html);
  xmlSetNs(html, xmlNewNs(html, BAD_CAST "http://www.w3.org/1999/xhtml", NULL));
  xmlNewProp(html, BAD_CAST "lang", BAD_CAST "en");
  xmlNodePtr head = el(html, "head", NULL);
  xmlNewProp(el(head, "meta", NULL), BAD_CAST "charset", BAD_CAST "utf-8");
  char title[256];
  snprintf(title, sizeof title, "qir-llc performance estimate: %s", p->target->name);
  el(head, "title", title);
  el(head, "style", STYLE);
  xmlNodePtr body = el(html, "body", NULL);
  el(body, "h1", title);
  el(body, "p", "The cost model's estimate of one frame (docs/NPU.md, "
                "\"Performance reports\"): the NPU steps of the artifact; CPU "
                "steps are not included.");
  html_summary(body, p);
  html_layers(body, p);
  html_timeline(body, p);
  if (a)
    html_graph(body, p, a);
  return doc;
}

static int write_to_file(void *fp, const char *buf, int len) {
  return (int)fwrite(buf, 1, (size_t)len, fp);
}

bool npu_perf_print_html(const npu_perf *perf, const qir_artifact *a, FILE *out) {
  xmlDocPtr doc = html_doc(perf, a);
  /* XHTML rules: empty void elements as <meta ... />, other empty
   * elements with an end tag, so the page is both HTML and well-formed
   * XML. */
  xmlSaveCtxtPtr save = xmlSaveToIO(write_to_file, NULL, out, "UTF-8",
                                    XML_SAVE_FORMAT | XML_SAVE_NO_DECL |
                                        XML_SAVE_XHTML);
  bool ok = save && xmlSaveDoc(save, doc) >= 0;
  if (save)
    ok = xmlSaveClose(save) >= 0 && ok;
  xmlFreeDoc(doc);
  return ok;
}
