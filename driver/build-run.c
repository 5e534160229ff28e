/* driver/build-run.c - the steps of qir-build, in order: import, optimize,
 * calibrate, precision analysis, quantize, QDQ ONNX export, compile, the
 * compiler check.  Each step drives the library (pass pipelines, the ONNX
 * frontend, the NPU compiler); a step whose pass or API is missing from
 * this build stops the build with an error that names it. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/npu/perf.h"
#include "driver/build.h"
#include "qir/dataset.h"
#include "qir/npu.h"
#include "qir/onnx.h"

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool build_error(build *b, const char *fmt, ...) QIR_PRINTF(2, 3);
static bool build_error(build *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  qir_emitv(b->ctx, QIR_SEV_ERROR, qir_loc_unknown(), fmt, ap);
  va_end(ap);
  return false;
}

/* ---- Pipelines ----------------------------------------------------------- */

static bool need_pass(build *b, const char *pass, const char *step) {
  if (qir_lookup_pass(b->ctx, pass))
    return true;
  return build_error(b, "the %s pass is not available in this build (the %s "
                        "step needs it)", pass, step);
}

/* Appends ` name="value"` (quoted, so paths may hold spaces and commas). */
void build_opt_append(FILE *f, const char *name, const char *value) {
  fprintf(f, " %s=\"", name);
  for (const char *s = value; *s; s++) {
    if (*s == '"' || *s == '\\')
      fputc('\\', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static bool run_pipeline(build *b, const char *text) {
  build_log(b, "pipeline: %s", text);
  qir_pipeline *pl = qir_pipeline_parse(b->ctx, text);
  if (!pl)
    return false;
  qir_pm_options o;
  qir_pm_options_init(&o);
  bool ok = qir_pipeline_run(pl, b->m, &o);
  qir_pipeline_destroy(pl);
  return ok;
}

static bool write_module(build *b, const char *name, char **path_out) {
  char *path = build_outdir_file(&b->od, name);
  qir_print_options po;
  qir_print_options_init(&po);
  bool ok = qir_write_module(b->ctx, path, b->m, &po);
  if (ok)
    build_say(b, "      wrote %s", name);
  if (path_out && ok)
    *path_out = path;
  else
    free(path);
  return ok;
}

static bool write_json_file(build *b, const char *path, json_object *v) {
  qir_output out;
  if (!qir_output_open(b->ctx, &out, path, false))
    return false;
  fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PRETTY |
                                              JSON_C_TO_STRING_NOSLASHESCAPE),
        out.fp);
  fputc('\n', out.fp);
  return qir_output_commit(b->ctx, &out);
}

static qir_func *main_func(build *b) {
  qir_func *f = qir_module_lookup(b->m, "main");
  return f ? f : b->m->first;
}

/* ---- Import -------------------------------------------------------------- */

static bool is_qir_model(const build *b) {
  const char *type = cfg_string(b->c, "model_type");
  if (strcmp(type, "Auto") != 0)
    return strcmp(type, "QIR") == 0;
  const char *in = cfg_string(b->c, "input");
  size_t n = strlen(in);
  return n > 4 && strcmp(in + n - 4, ".qir") == 0;
}

/* input_shapes as the importer's text: "x:1x3x8x8;y:1x4". */
static char *shapes_text(const build *b) {
  const cfg_key *k;
  json_object *v = cfg_lookup(b->c, "input_shapes", &k);
  if (!v)
    return NULL;
  if (json_object_is_type(v, json_type_string))
    return qir_xstrdup(json_object_get_string(v));
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  bool first = true;
  json_object_object_foreach(v, name, dims) {
    fprintf(f, "%s%s:", first ? "" : ";", name);
    for (size_t i = 0; i < json_object_array_length(dims); i++)
      fprintf(f, "%s%lld", i ? "x" : "",
              (long long)json_object_get_int64(
                  json_object_array_get_idx(dims, i)));
    first = false;
  }
  fclose(f);
  return text;
}

static bool step_import(build *b) {
  const char *in = cfg_string(b->c, "input");
  if (is_qir_model(b)) {
    b->m = qir_parse_file(b->ctx, in);
    return b->m && qir_verify_module(b->m);
  }
  qir_onnx_import_options o;
  qir_onnx_import_options_init(&o);
  char *shapes = shapes_text(b);
  o.input_shapes = shapes;
  b->m = qir_onnx_import_file(b->ctx, in, &o);
  free(shapes);
  return b->m != NULL;
}

/* ---- Preprocessing in the model ----------------------------------------- */

static bool step_preprocess(build *b) {
  qir_func *f = main_func(b);
  if (!build_insert_preprocessing(b, f))
    return false;
  for (unsigned i = 0; i < f->body.num_args; i++)
    build_say(b, "      the model takes the deployed input: %s %s",
              f->body.args[i]->name ? f->body.args[i]->name : "",
              qir_type_text(f->body.args[i]->type, NULL));
  return true;
}

/* ---- Optimize ------------------------------------------------------------ */

static bool has_items(const build *b, const char *path) {
  const cfg_key *k;
  json_object *v = cfg_lookup(b->c, path, &k);
  return v && json_object_array_length(v) > 0;
}

/* "x:1x3x8x8;y:1x4" as {"x": [1, 3, 8, 8], "y": [1, 4]}; NULL (with an
 * error) when malformed. */
static json_object *parse_shapes(build *b, const char *text) {
  json_object *o = json_object_new_object();
  char *copy = qir_xstrdup(text), *save = NULL;
  bool ok = true;
  for (char *item = strtok_r(copy, ";", &save); item && ok;
       item = strtok_r(NULL, ";", &save)) {
    char *colon = strrchr(item, ':');
    json_object *dims = json_object_new_array();
    ok = colon && colon != item;
    for (char *d = colon ? colon + 1 : NULL, *end; ok && d;
         d = *end == 'x' ? end + 1 : NULL) {
      long long v = strtoll(d, &end, 10);
      ok = end != d && v > 0 && (*end == 'x' || !*end);
      json_object_array_add(dims, json_object_new_int64(v));
    }
    if (ok) {
      *colon = 0;
      json_object_object_add(o, item, dims);
    } else {
      json_object_put(dims);
    }
  }
  free(copy);
  if (ok)
    return o;
  json_object_put(o);
  build_error(b, "input_shapes: expected NAME:DIMxDIM...;NAME:..., got "
                 "\"%s\"", text);
  return NULL;
}

/* The constant-patch config: const_processors, op_processors, and the
 * input_shapes of a .qir model (ONNX models take them at import). */
static bool patch_config(build *b, char **path) {
  json_object *p = json_object_new_object();
  static const char *const keys[] = {"const_processors", "op_processors",
                                     NULL};
  for (const char *const *k = keys; *k; k++) {
    const cfg_key *key;
    json_object *v = cfg_lookup(b->c, *k, &key), *copy = NULL;
    if (v && json_object_deep_copy(v, &copy, NULL) == 0)
      json_object_object_add(p, *k, copy);
  }
  const cfg_key *key;
  json_object *shapes = is_qir_model(b) ? cfg_lookup(b->c, "input_shapes",
                                                     &key)
                                        : NULL;
  json_object *obj = NULL;
  if (shapes && json_object_is_type(shapes, json_type_string)) {
    if (!(obj = parse_shapes(b, json_object_get_string(shapes))))
      return json_object_put(p), false;
  } else if (shapes) {
    json_object_deep_copy(shapes, &obj, NULL);
  }
  if (obj)
    json_object_object_add(p, "input_shapes", obj);
  *path = build_outdir_file(&b->od, "constant-patch.json");
  bool ok = write_json_file(b, *path, p);
  json_object_put(p);
  return ok;
}

static bool needs_patch(const build *b) {
  const cfg_key *k;
  return has_items(b, "const_processors") || has_items(b, "op_processors") ||
         (is_qir_model(b) && cfg_lookup(b->c, "input_shapes", &k));
}

static bool step_optimize(build *b) {
  static const char *const passes[] = {"canonicalize", "fuse", "cse", "dce",
                                       NULL};
  for (const char *const *p = passes; *p; p++)
    if (!need_pass(b, *p, "optimize"))
      return false;
  if (needs_patch(b)) {
    char *cfg = NULL;
    if (!need_pass(b, "constant-patch", "optimize") || !patch_config(b, &cfg))
      return free(cfg), false;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fputs("constant-patch{", f);
    build_opt_append(f, "config", cfg);
    fputc('}', f);
    fclose(f);
    bool ok = run_pipeline(b, text);
    free(text);
    free(cfg);
    if (!ok)
      return false;
  }
  if (!run_pipeline(b, "canonicalize,fuse,cse,dce"))
    return false;
  char name[512];
  snprintf(name, sizeof name, "%s.opt.qir", b->stem);
  return write_module(b, name, &b->float_qir);
}

/* ---- Calibrate ----------------------------------------------------------- */

static const char *lower_method(const char *m) {
  if (!strcmp(m, "Auto"))
    return "auto";
  if (!strcmp(m, "MinMax"))
    return "minmax";
  if (!strcmp(m, "Percentile"))
    return "percentile";
  return !strcmp(m, "MSE") ? "mse" : "kl";
}

static bool skip_calibration(const build *b) {
  return strcmp(cfg_string(b->c, "model_type"), "QuantONNX") == 0 &&
         !has_items(b, "quant.input_configs");
}

/* Reads the first sample of the data before the long calibration, so that
 * a wrong format or shape stops the build at once, and shows the input
 * table with the number of samples. */
static bool check_samples(build *b, qir_func *f) {
  unsigned n = f->body.num_args;
  size_t *counts = qir_xcalloc(n ? n : 1, sizeof *counts);
  bool ok = true;
  for (unsigned i = 0; i < n && ok; i++) {
    build_input_data d;
    ok = build_input_data_of(b, f, i, &d);
    counts[i] = ok ? (size_t)d.samples : 0;
  }
  qir_dataset *ds = ok ? build_open_dataset(b, f, 0) : NULL;
  qir_tensor *in = qir_xcalloc(n ? n : 1, sizeof *in);
  ok = ds && qir_dataset_size(ds) > 0 && qir_dataset_load(ds, 0, in);
  for (unsigned i = 0; ok && i < n; i++) {
    qir_tensor_free_data(&in[i]);
    if (counts[i] > qir_dataset_size(ds))
      counts[i] = qir_dataset_size(ds);
  }
  if (ds)
    qir_dataset_close(ds);
  if (ok)
    build_report_inputs(b, f, counts);
  free(in);
  free(counts);
  return ok;
}

/* quantize options: the target's scheme and the layer_configs. */
static bool quant_options(build *b, FILE *out) {
  build_opt_append(out, "target", b->target->name);
  if (!has_items(b, "quant.layer_configs"))
    return true;
  const cfg_key *k;
  json_object *lc = cfg_lookup(b->c, "quant.layer_configs", &k), *copy = NULL;
  json_object *doc = json_object_new_object();
  json_object_deep_copy(lc, &copy, NULL);
  json_object_object_add(doc, "layer_configs", copy);
  char *path = build_outdir_file(&b->od, "layer_configs.json");
  bool ok = write_json_file(b, path, doc);
  json_object_put(doc);
  if (ok)
    build_opt_append(out, "config", path);
  free(path);
  return ok;
}

static bool step_calibrate(build *b) {
  if (skip_calibration(b)) {
    build_say(b, "      skipped: the QuantONNX model carries its scales");
    return true;
  }
  if (!need_pass(b, "calibrate", "calibrate"))
    return false;
  if (!has_items(b, "quant.input_configs"))
    return build_error(b, "quant.input_configs: calibration needs at least "
                          "one input config with a calibration_dataset");
  qir_func *f = main_func(b);
  if (!check_samples(b, f))
    return false;
  char *data = NULL, *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&data, &len);
  bool ok = build_data_options(b, f, out);
  fclose(out);
  out = open_memstream(&text, &len);
  /* Bias correction (and method=auto's comparison) measure the model as
   * quantize will round it: with the target's scheme and the layer
   * configs. */
  fprintf(out, "calibrate{%s method=%s", data,
          lower_method(cfg_string(b->c, "quant.calibration_method")));
  ok = ok && quant_options(b, out);
  fputc('}', out);
  fclose(out);
  ok = ok && run_pipeline(b, text);
  free(data);
  free(text);
  return ok;
}

/* ---- Quantize and precision analysis ------------------------------------- */

static bool step_precision(build *b) {
  if (!need_pass(b, "precision-analysis", "precision analysis"))
    return false;
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  fputs("precision-analysis{", out);
  bool ok = build_data_options(b, main_func(b), out) &&
            quant_options(b, out);
  fprintf(out, " mode=%s",
          strcmp(cfg_string(b->c, "quant.precision_analysis_method"),
                 "PerLayer") ? "end-to-end" : "per-layer");
  char *csv = build_outdir_file(&b->od, "precision.csv");
  char *json = build_outdir_file(&b->od, "precision.json");
  build_opt_append(out, "csv", csv);
  build_opt_append(out, "json", json);
  fputc('}', out);
  fclose(out);
  free(csv);
  free(json);
  ok = ok && run_pipeline(b, text);
  free(text);
  return ok;
}

/* Runs the quantize pass, unless the model came quantized (QuantONNX
 * without input configs): its ops keep the model's scales, and ops the
 * model left in float stay float. */
static bool step_quantize(build *b) {
  if (skip_calibration(b)) {
    build_say(b, "      skipped: the QuantONNX model is quantized already");
  } else {
    if (!need_pass(b, "quantize", "quantize"))
      return false;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    fputs("quantize{", out);
    bool ok = quant_options(b, out);
    fputc('}', out);
    fclose(out);
    ok = ok && run_pipeline(b, text);
    free(text);
    if (!ok)
      return false;
  }
  build_report_layers(b, main_func(b));
  char name[512];
  snprintf(name, sizeof name, "%s.q.qir", b->stem);
  return write_module(b, name, &b->quant_qir);
}

/* ---- Export, compile, check ---------------------------------------------- */

static bool step_export(build *b) {
  char name[512];
  snprintf(name, sizeof name, "%s.q.onnx", b->stem);
  char *path = build_outdir_file(&b->od, name);
  bool ok = qir_onnx_export_file(b->ctx, b->m, path);
  free(path);
  if (ok)
    build_say(b, "      wrote %s (QDQ ONNX)", name);
  return ok;
}

/* "a,b,c" from an array of strings (NULL when empty). */
static char *comma_list(const build *b, const char *path) {
  const cfg_key *k;
  json_object *v = cfg_lookup(b->c, path, &k);
  if (!v || !json_object_array_length(v))
    return NULL;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  for (size_t i = 0; i < json_object_array_length(v); i++)
    fprintf(f, "%s%s", i ? "," : "",
            json_object_get_string(json_object_array_get_idx(v, i)));
  fclose(f);
  return text;
}

static void count_placement(build *b) {
  qir_foreach_func(f, b->m) {
    const qir_attr *a = qir_func_get_attr(f, "npu.placement");
    const char *p = a && a->kind == QIR_ATTR_STRING ? a->u.str.data : NULL;
    if (!p)
      continue;
    unsigned n = 0;
    qir_foreach_op(op, &f->body) n += strcmp(op->def->name, "return") != 0 &&
                                      strcmp(op->def->name, "constant") != 0;
    if (!strcmp(p, "npu"))
      b->sum.ops_npu += n;
    else
      b->sum.ops_cpu += n;
    b->sum.have_placement = true;
  }
}

static bool step_compile(build *b) {
  qir_compile_options o;
  qir_compile_options_init(&o);
  o.target = b->target->name;
  o.npu_cores = b->cores;
  char *cpu = comma_list(b, "compiler.run_on_cpu");
  char *npu = comma_list(b, "compiler.run_on_npu");
  o.run_on_cpu = cpu;
  o.run_on_npu = npu;
  char *table = build_outdir_file(&b->od, "placement.txt");
  char *asm_path = build_outdir_file(&b->od, "npu.s");
  o.placement_out = fopen(table, "w");
  o.asm_out = cfg_bool(b->c, "compiler.asm") ? fopen(asm_path, "w") : NULL;
  char name[512];
  snprintf(name, sizeof name, "%s.qbin", b->stem);
  char *artifact = build_outdir_file(&b->od, name);
  bool ok = o.placement_out && qir_npu_compile(b->m, &o, artifact);
  if (o.placement_out)
    fclose(o.placement_out);
  if (o.asm_out)
    fclose(o.asm_out);
  if (ok) {
    count_placement(b);
    build_say(b, "      wrote %s, placement.txt%s", name,
              o.asm_out ? ", npu.s" : "");
  }
  free(cpu), free(npu), free(table), free(asm_path), free(artifact);
  return ok;
}

/* The cost model's figures from the report's total line; the summary
 * leaves them out when the line is not there. */
static void read_perf_totals(build *b, const char *report) {
  const char *total = strstr(report, "\ntotal: ");
  double us, fps, ddr;
  if (total && sscanf(total, "\ntotal: %*f MACs, %lf us, %lf FPS, DDR %lf "
                             "bytes per frame", &us, &fps, &ddr) == 3) {
    b->sum.fps = fps;
    b->sum.ddr_bytes = ddr;
    b->sum.have_perf = true;
  }
}

/* One report of the estimate into output_dir; false after an error. */
static bool write_perf_file(build *b, const npu_perf *perf, const qir_artifact *a,
                            const char *name, char **text, size_t *len) {
  char *path = build_outdir_file(&b->od, name);
  qir_output out;
  bool ok = qir_output_open(b->ctx, &out, path, false);
  if (ok) {
    if (text) {
      FILE *mem = open_memstream(text, len);
      npu_perf_print_text(perf, mem);
      fclose(mem);
      fwrite(*text, 1, *len, out.fp);
    } else if (strstr(name, ".json")) {
      npu_perf_print_json(perf, out.fp);
    } else if (!npu_perf_print_html(perf, a, out.fp)) {
      qir_emit_error(b->ctx, qir_loc_unknown(),
                     "cannot write '%s': HTML serialization failed", path);
      qir_output_abort(&out);
      ok = false;
    }
    if (ok)
      ok = qir_output_commit(b->ctx, &out);
  }
  free(path);
  return ok;
}

/* The cost model's estimate as text (perf.txt, whose total line feeds the
 * summary), JSON and HTML, as `qir-llc -print-cost -perf-json
 * -perf-report` write them. */
static bool step_perf(build *b) {
  char name[512];
  snprintf(name, sizeof name, "%s.qbin", b->stem);
  char *artifact = build_outdir_file(&b->od, name);
  qir_artifact *a = qir_artifact_read_file(b->ctx, artifact);
  free(artifact);
  if (!a)
    return false;
  npu_perf perf;
  if (!npu_perf_compute(a, NULL, &perf)) {
    qir_artifact_free(a);
    build_say(b, "      no cost model for this target: no perf report");
    return true;
  }
  char *text = NULL;
  size_t len = 0;
  bool ok = write_perf_file(b, &perf, a, "perf.txt", &text, &len) &&
            write_perf_file(b, &perf, a, "perf.json", NULL, NULL) &&
            write_perf_file(b, &perf, a, "perf.html", NULL, NULL);
  if (ok) {
    read_perf_totals(b, text);
    build_say(b, "      wrote perf.txt, perf.json, perf.html (the cost model's "
                 "estimate)");
  }
  free(text);
  npu_perf_free(&perf);
  qir_artifact_free(a);
  return ok;
}

static bool step_check(build *b) {
  if (skip_calibration(b)) {
    build_say(b, "      skipped: no quant.input_configs to take samples from");
    snprintf(b->sum.check_result, sizeof b->sum.check_result,
             "skipped (no input data)");
    return true;
  }
  char name[512];
  snprintf(name, sizeof name, "%s.qbin", b->stem);
  char *artifact = build_outdir_file(&b->od, name);
  bool ok = build_check_artifact(b, artifact);
  free(artifact);
  return ok;
}

/* ---- The steps in order -------------------------------------------------- */

typedef struct build_step {
  const char *name;
  bool (*run)(build *b);
  bool (*wanted)(const build *b); /* NULL: always */
} build_step;

static bool want_preprocess(const build *b) {
  return has_items(b, "input_processors");
}
static bool want_precision(const build *b) {
  return cfg_bool(b->c, "quant.precision_analysis");
}
static bool want_export(const build *b) {
  return cfg_bool(b->c, "export_onnx");
}
static bool want_check(const build *b) {
  return strcmp(cfg_string(b->c, "compiler.check"), "none") != 0;
}

static const build_step steps[] = {
    {"import", step_import, NULL},
    {"preprocess", step_preprocess, want_preprocess},
    {"optimize", step_optimize, NULL},
    {"calibrate", step_calibrate, NULL},
    {"precision analysis", step_precision, want_precision},
    {"quantize", step_quantize, NULL},
    {"export QDQ ONNX", step_export, want_export},
    {"compile", step_compile, NULL},
    {"perf report", step_perf, NULL},
    {"check", step_check, want_check},
};
#define NUM_STEPS (sizeof steps / sizeof steps[0])

static bool run_steps(build *b) {
  unsigned total = 0, k = 0;
  for (size_t i = 0; i < NUM_STEPS; i++)
    total += !steps[i].wanted || steps[i].wanted(b);
  for (size_t i = 0; i < NUM_STEPS; i++) {
    if (steps[i].wanted && !steps[i].wanted(b))
      continue;
    build_say(b, "[%u/%u] %s", ++k, total, steps[i].name);
    double t0 = now_seconds();
    if (!steps[i].run(b)) {
      qir_emit_note(b->ctx, qir_loc_unknown(), "the build stopped at the %s "
                    "step; output_dir is unchanged", steps[i].name);
      return false;
    }
    build_log(b, "      %s: %.2f s", steps[i].name, now_seconds() - t0);
  }
  return true;
}

/* ---- Set-up -------------------------------------------------------------- */

static char *model_stem(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  char *stem = qir_xstrdup(base);
  char *dot = strrchr(stem, '.');
  if (dot && dot != stem)
    *dot = 0;
  return stem;
}

/* Checks that cannot wait for the step that uses the value. */
static bool preflight(build *b) {
  if (!cfg_check_required((qir_build_config *)b->c))
    return false;
  const char *t = cfg_string(b->c, "target");
  b->target = qir_target_lookup(t);
  if (!b->target) {
    char list[256] = "";
    for (unsigned i = 0; i < qir_target_count(); i++)
      snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
               i ? ", " : "", qir_target_at(i)->name);
    return build_error(b, "target: unknown target '%s' (known: %s)", t, list);
  }
  b->cores = (unsigned)(cfg_string(b->c, "npu_mode")[3] - '0');
  if (b->cores > b->target->cores)
    return build_error(b, "npu_mode: %s needs %u NPU cores; %s has %u",
                       cfg_string(b->c, "npu_mode"), b->cores, t,
                       b->target->cores);
  b->stem = model_stem(cfg_string(b->c, "input"));
  return true;
}

static bool write_merged_config(build *b) {
  size_t len;
  char *text = qir_build_config_to_json(b->c, &len);
  char *path = build_outdir_file(&b->od, "build.merged.json");
  qir_output out;
  bool ok = qir_output_open(b->ctx, &out, path, false);
  if (ok) {
    fwrite(text, 1, len, out.fp);
    ok = qir_output_commit(b->ctx, &out);
  }
  free(path);
  free(text);
  return ok;
}

void qir_build_options_init(qir_build_options *o) {
  o->quiet = false;
  o->no_progress = !isatty(STDOUT_FILENO);
}

static void build_free(build *b) {
  build_log_close(b);
  if (b->m)
    qir_module_destroy(b->m);
  free(b->stem);
  free(b->float_qir);
  free(b->quant_qir);
}

bool qir_build_run(qir_context *ctx, const qir_build_config *c,
                   const qir_build_options *o) {
  qir_build_options dflt;
  if (!o)
    qir_build_options_init(&dflt), o = &dflt;
  build b = {0};
  b.ctx = ctx;
  b.c = c;
  b.o = o;
  b.out = o->quiet ? NULL : stdout;
  double t0 = now_seconds();
  unsigned errors0 = qir_diag_error_count(ctx);
  bool ok = preflight(&b) &&
            build_outdir_begin(ctx, &b.od, cfg_string(c, "output_dir"));
  if (!ok) {
    build_free(&b);
    return false;
  }
  ok = build_log_open(&b) && write_merged_config(&b) && run_steps(&b) &&
       qir_diag_error_count(ctx) == errors0;
  if (ok)
    build_report_summary(&b, now_seconds() - t0);
  build_log_close(&b);
  ok = ok ? build_outdir_commit(ctx, &b.od) : (build_outdir_abort(&b.od), 0);
  build_free(&b);
  return ok;
}
