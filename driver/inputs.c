/* driver/inputs.c - the model inputs and their calibration data: which
 * input config (quant.input_configs) and which input processor serve each
 * input, the preprocessing the data reader applies, the calibrate pass's
 * data options and the dataset the compiler check reads. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/build.h"
#include "qir/dataset.h"

const char *build_onnx_name(qir_func *f, const char *attr, unsigned i) {
  const qir_attr *a = qir_func_get_attr(f, attr);
  if (!a || a->kind != QIR_ATTR_ARRAY || i >= a->u.array.n)
    return NULL;
  const qir_attr *e = a->u.array.elems[i];
  return e->kind == QIR_ATTR_STRING ? e->u.str.data : NULL;
}

json_object *build_find_for_input(const build *b, const char *list_path,
                                  qir_func *f, unsigned i) {
  const char *name = f->body.args[i]->name;
  const char *onnx = build_onnx_name(f, "onnx.inputs", i);
  const cfg_key *k;
  json_object *list = cfg_lookup(b->c, list_path, &k), *dflt = NULL;
  for (size_t j = 0; list && j < json_object_array_length(list); j++) {
    json_object *e = json_object_array_get_idx(list, j);
    const char *tn = cfg_field_string(e, k->elem, "tensor_name");
    if ((name && !strcmp(tn, name)) || (onnx && !strcmp(tn, onnx)))
      return e;
    if (!strcmp(tn, "DEFAULT") && !dflt)
      dflt = e;
  }
  return dflt;
}

static unsigned copy_numbers(json_object *obj, const char *key, double *out) {
  json_object *arr;
  if (!json_object_object_get_ex(obj, key, &arr))
    return 0;
  size_t n = json_object_array_length(arr);
  for (size_t i = 0; i < n && i < 4; i++)
    out[i] = json_object_get_double(json_object_array_get_idx(arr, i));
  return n < 4 ? (unsigned)n : 4;
}

bool build_input_data_of(build *b, qir_func *f, unsigned i,
                         build_input_data *d) {
  memset(d, 0, sizeof *d);
  json_object *ic = build_find_for_input(b, "quant.input_configs", f, i);
  if (!ic) {
    const char *name = f->body.args[i]->name;
    qir_emit_error(b->ctx, qir_loc_unknown(),
                   "quant.input_configs: no config for input '%s' (give its "
                   "tensor_name, or one DEFAULT config)", name ? name : "?");
    return false;
  }
  const cfg_key *k;
  cfg_lookup(b->c, "quant.input_configs.0", &k);
  d->dataset = cfg_field_string(ic, k, "calibration_dataset");
  d->format = cfg_field_string(ic, k, "calibration_format");
  d->samples = cfg_field_int(ic, k, "calibration_size",
                             cfg_int(b->c, "quant.calibration_size"));
  /* With the preprocessing in the model the reader gives the deployed
   * input as it is: pixels in the source order and layout. */
  if (build_processor_source(b, f, i, &d->channel_order, &d->nhwc)) {
    d->in_model = true;
    return true;
  }
  d->channel_order = cfg_field_string(ic, k, "channel_order");
  d->nhwc = !strcmp(cfg_field_string(ic, k, "tensor_layout"), "NHWC");
  d->nmean = copy_numbers(ic, "mean", d->mean);
  d->nstd = copy_numbers(ic, "std", d->std);
  return true;
}

/* ---- The calibrate pass's options ---------------------------------------- */

static void numbers_text(const double *v, unsigned n, char *buf,
                         size_t size) {
  buf[0] = 0;
  for (unsigned i = 0; i < n; i++) {
    size_t len = strlen(buf);
    char num[40];
    qir_format_double(v[i], num, sizeof num);
    snprintf(buf + len, size - len, "%s%s", i ? ":" : "", num);
  }
}

/* What the calibrate pass takes once for all inputs. */
static void shared_text(const build_input_data *d, char *buf, size_t size) {
  char mean[200], std[200];
  numbers_text(d->mean, d->nmean, mean, sizeof mean);
  numbers_text(d->std, d->nstd, std, sizeof std);
  snprintf(buf, size, "%s|%s|%s|%d|%lld|%s", mean, std, d->channel_order,
           d->nhwc, d->samples, d->format);
}

/* Every input has data; the options the pass shares agree. */
static bool gather_inputs(build *b, qir_func *f, build_input_data *first) {
  char ref[600] = "", cur[600];
  for (unsigned i = 0; i < f->body.num_args; i++) {
    build_input_data d;
    if (!build_input_data_of(b, f, i, &d))
      return false;
    shared_text(&d, cur, sizeof cur);
    if (i && strcmp(cur, ref) != 0) {
      qir_emit_error(b->ctx, qir_loc_unknown(),
                     "quant.input_configs: the inputs of one model must "
                     "share mean, std, channel_order, tensor_layout, "
                     "calibration_format and calibration_size");
      return false;
    }
    if (!i)
      *first = d, snprintf(ref, sizeof ref, "%s", cur);
  }
  if (f->body.num_args)
    return true;
  qir_emit_error(b->ctx, qir_loc_unknown(), "the model has no inputs");
  return false;
}

/* With several inputs the calibrate pass reads DIR/<input name>/: a
 * folder of links to each input's dataset. */
static char *multi_input_data(build *b, qir_func *f) {
  char *dir = build_outdir_file(&b->od, "calibration-inputs");
  bool ok = mkdir(dir, 0777) == 0;
  for (unsigned i = 0; ok && i < f->body.num_args; i++) {
    const char *name = f->body.args[i]->name;
    build_input_data d;
    ok = name && build_input_data_of(b, f, i, &d);
    char *link = ok ? build_path_join(dir, name) : NULL;
    ok = ok && symlink(d.dataset, link) == 0;
    free(link);
  }
  if (!ok) {
    qir_emit_error(b->ctx, qir_loc_unknown(),
                   "cannot link the inputs' datasets in '%s'", dir);
    free(dir);
    return NULL;
  }
  return dir;
}

bool build_data_options(build *b, qir_func *f, FILE *out) {
  build_input_data d;
  if (!gather_inputs(b, f, &d))
    return false;
  char *data = f->body.num_args > 1 ? multi_input_data(b, f)
                                    : qir_xstrdup(d.dataset);
  if (!data)
    return false;
  build_opt_append(out, "data", data);
  free(data);
  fprintf(out, " samples=%lld", d.samples);
  char nums[200];
  if (d.nmean)
    numbers_text(d.mean, d.nmean, nums, sizeof nums),
        build_opt_append(out, "mean", nums);
  if (d.nstd)
    numbers_text(d.std, d.nstd, nums, sizeof nums),
        build_opt_append(out, "std", nums);
  build_opt_append(out, "channel-order", d.channel_order);
  fprintf(out, " nhwc=%s progress=%s", d.nhwc ? "true" : "false",
          b->out && !b->o->no_progress ? "true" : "false");
  return true;
}

/* ---- The dataset of the compiler check ----------------------------------- */

static qir_data_format data_format(const char *s) {
  if (!strcmp(s, "Image"))
    return QIR_DATA_IMAGE;
  if (!strcmp(s, "Numpy"))
    return QIR_DATA_NPY;
  return !strcmp(s, "Binary") ? QIR_DATA_BIN : QIR_DATA_AUTO;
}

qir_dataset *build_open_dataset(build *b, qir_func *f, size_t limit) {
  unsigned n = f->body.num_args;
  qir_input_config *cfgs = qir_xcalloc(n ? n : 1, sizeof *cfgs);
  bool ok = true;
  for (unsigned i = 0; i < n && ok; i++) {
    build_input_data d;
    ok = build_input_data_of(b, f, i, &d);
    if (!ok)
      break;
    qir_input_config_init(&cfgs[i]);
    cfgs[i].name = n > 1 ? f->body.args[i]->name : NULL;
    cfgs[i].path = d.dataset;
    cfgs[i].format = data_format(d.format);
    cfgs[i].channel_order = d.channel_order;
    cfgs[i].nhwc = d.nhwc;
    cfgs[i].num_mean = d.nmean;
    cfgs[i].num_std = d.nstd;
    memcpy(cfgs[i].mean, d.mean, sizeof d.mean);
    memcpy(cfgs[i].std, d.std, sizeof d.std);
  }
  qir_dataset *ds = ok ? qir_dataset_open(f, cfgs, n, limit) : NULL;
  free(cfgs);
  return ds;
}
