/* frontends/data/dataset.c - calibration datasets (qir/dataset.h): matching
 * the configurations to the function's inputs, pairing the files of
 * several inputs into samples, and loading a sample as input tensors. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/data/data.h"
#include "qir/npy.h"

typedef struct ds_input {
  const qir_value *arg;
  char *name;          /* the input's name, for messages */
  char *path;
  qir_input_config cfg; /* channel_order points into the plan's choice */
  data_source src;
  data_file **by_sample; /* the input's file of each sample */
  bool has_images, has_bins;
  data_image_plan plan;
} ds_input;

struct qir_dataset {
  qir_context *ctx;
  qir_data_limits limits;
  unsigned num_inputs;
  ds_input *in;
  size_t num_samples;
};

void qir_input_config_init(qir_input_config *c) {
  memset(c, 0, sizeof *c);
  c->format = QIR_DATA_AUTO;
  c->channel_order = "RGB";
}

static bool ds_fail(qir_dataset *ds, const char *fmt, ...) QIR_PRINTF(2, 3);

static bool ds_fail(qir_dataset *ds, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  qir_emitv(ds->ctx, QIR_SEV_ERROR, qir_loc_unknown(), fmt, ap);
  va_end(ap);
  return false;
}

static char *input_name(const qir_value *arg) {
  if (arg->name)
    return qir_xstrdup(arg->name);
  char buf[32];
  snprintf(buf, sizeof buf, "%u", arg->index);
  return qir_xstrdup(buf);
}

/* "x, y, z": the input names, for messages. */
static void list_inputs(const qir_dataset *ds, char *buf, size_t size) {
  size_t n = 0;
  buf[0] = 0;
  for (unsigned i = 0; i < ds->num_inputs && n < size; i++)
    n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
                          ds->in[i].name);
}

/* ---- Configurations ------------------------------------------------------ */

static int find_input(const qir_dataset *ds, const char *name) {
  for (unsigned i = 0; i < ds->num_inputs; i++)
    if (!strcmp(ds->in[i].name, name))
      return (int)i;
  return -1;
}

static int config_target(qir_dataset *ds, const qir_func *f,
                         const qir_input_config *c, unsigned n) {
  char names[512];
  list_inputs(ds, names, sizeof names);
  if (!c->name) {
    if (ds->num_inputs == 1 && n == 1)
      return 0;
    ds_fail(ds,
            "a data configuration without an input name needs a function "
            "with one input; @%s has inputs %s",
            f->name, names);
    return -1;
  }
  int i = find_input(ds, c->name);
  if (i < 0)
    ds_fail(ds, "no input named '%s' in @%s (inputs: %s)", c->name, f->name,
            names);
  return i;
}

static bool assign_configs(qir_dataset *ds, const qir_func *f,
                           const qir_input_config *configs, unsigned n) {
  bool *seen = qir_xcalloc(ds->num_inputs, sizeof *seen);
  bool ok = true;
  for (unsigned j = 0; ok && j < n; j++) {
    int i = config_target(ds, f, &configs[j], n);
    ok = i >= 0;
    if (ok && seen[i])
      ok = ds_fail(ds, "two data configurations for input '%s'",
                   ds->in[i].name);
    else if (ok && !configs[j].path)
      ok = ds_fail(ds, "input '%s': no data path", ds->in[i].name);
    if (ok) {
      seen[i] = true;
      ds->in[i].cfg = configs[j];
      ds->in[i].path = qir_xstrdup(configs[j].path);
    }
  }
  for (unsigned i = 0; ok && i < ds->num_inputs; i++)
    if (!seen[i])
      ok = ds_fail(ds, "input '%s' of @%s has no data configuration",
                   ds->in[i].name, f->name);
  free(seen);
  return ok;
}

/* ---- Samples -------------------------------------------------------------- */

/* By sample name, then by file name (so messages do not depend on the
 * order the folder lists its files in). */
static int compare_files(const void *a, const void *b) {
  const data_file *x = *(data_file *const *)a, *y = *(data_file *const *)b;
  int c = strcmp(x->key, y->key);
  return c ? c : strcmp(x->display, y->display);
}

/* Sorts an input's files by sample name; two files may not share one. */
static bool sort_input_files(qir_dataset *ds, ds_input *in) {
  size_t n = in->src.num_files;
  if (!n)
    return ds_fail(ds, "no samples in '%s'", in->path);
  in->by_sample = qir_xmalloc(n * sizeof *in->by_sample);
  for (size_t i = 0; i < n; i++) {
    in->by_sample[i] = &in->src.files[i];
    in->has_images |= in->src.files[i].format == QIR_DATA_IMAGE;
    in->has_bins |= in->src.files[i].format == QIR_DATA_BIN;
  }
  qsort(in->by_sample, n, sizeof *in->by_sample, compare_files);
  for (size_t i = 1; i < n; i++)
    if (!strcmp(in->by_sample[i - 1]->key, in->by_sample[i]->key))
      return ds_fail(ds, "'%s' and '%s' are both sample '%s'",
                     in->by_sample[i - 1]->display, in->by_sample[i]->display,
                     in->by_sample[i]->key);
  return true;
}

/* Every input must have a file for every sample of the first input, and
 * no others: reports the first sample (in name order) that one lacks. */
static bool match_samples(qir_dataset *ds, const ds_input *first,
                          const ds_input *in) {
  size_t na = first->src.num_files, nb = in->src.num_files, a = 0, b = 0;
  while (a < na || b < nb) {
    int c = a == na   ? 1
            : b == nb ? -1
                      : strcmp(first->by_sample[a]->key, in->by_sample[b]->key);
    if (c < 0)
      return ds_fail(ds, "sample '%s' has no file for input '%s' in '%s'",
                     first->by_sample[a]->key, in->name, in->path);
    if (c > 0)
      return ds_fail(ds, "sample '%s' has no file for input '%s' in '%s'",
                     in->by_sample[b]->key, first->name, first->path);
    a++, b++;
  }
  return true;
}

/* The checks that depend on which formats an input's files have. */
static bool check_formats(qir_dataset *ds, ds_input *in) {
  const qir_type *t = in->arg->type;
  if (in->has_bins && !qir_tensor_is_static(t))
    return ds_fail(ds,
                   "input '%s' of type %s has a dynamic shape; .bin files "
                   "need a static one",
                   in->name, qir_type_text(t, NULL));
  return !in->has_images || data_image_plan_make(ds->ctx, &in->cfg, t,
                                                 in->name, &ds->limits,
                                                 &in->plan);
}

static bool collect_samples(qir_dataset *ds, size_t limit) {
  for (unsigned i = 0; i < ds->num_inputs; i++) {
    ds_input *in = &ds->in[i];
    if (!data_source_open(ds->ctx, &in->src, in->path, in->cfg.format,
                          &ds->limits) ||
        !sort_input_files(ds, in) ||
        (i && !match_samples(ds, &ds->in[0], in)) || !check_formats(ds, in))
      return false;
  }
  size_t n = ds->in[0].src.num_files;
  ds->num_samples = limit && limit < n ? limit : n;
  if (ds->num_samples <= ds->limits.max_samples)
    return true;
  qir_emit_error(ds->ctx, qir_loc_unknown(),
                 "'%s': %zu samples exceed the limit of %zu samples",
                 ds->in[0].path, ds->num_samples, ds->limits.max_samples);
  return false;
}

qir_dataset *qir_dataset_open_limits(qir_func *f,
                                     const qir_input_config *configs,
                                     unsigned n, size_t limit,
                                     const qir_data_limits *limits) {
  qir_dataset *ds = qir_xcalloc(1, sizeof *ds);
  ds->ctx = f->module->ctx;
  if (limits)
    ds->limits = *limits;
  else
    qir_data_limits_init(&ds->limits);
  ds->num_inputs = f->body.num_args;
  ds->in = qir_xcalloc(ds->num_inputs ? ds->num_inputs : 1, sizeof *ds->in);
  for (unsigned i = 0; i < ds->num_inputs; i++) {
    ds->in[i].arg = f->body.args[i];
    ds->in[i].name = input_name(f->body.args[i]);
  }
  bool ok = ds->num_inputs
                ? assign_configs(ds, f, configs, n) &&
                      collect_samples(ds, limit)
                : ds_fail(ds, "@%s has no inputs to read data for", f->name);
  if (!ok) {
    qir_dataset_close(ds);
    return NULL;
  }
  return ds;
}

qir_dataset *qir_dataset_open(qir_func *f, const qir_input_config *configs,
                              unsigned n, size_t limit) {
  return qir_dataset_open_limits(f, configs, n, limit, NULL);
}

size_t qir_dataset_size(const qir_dataset *ds) { return ds->num_samples; }

const char *qir_dataset_sample_name(const qir_dataset *ds, size_t i) {
  return i < ds->num_samples ? ds->in[0].by_sample[i]->key : NULL;
}

void qir_dataset_close(qir_dataset *ds) {
  if (!ds)
    return;
  for (unsigned i = 0; i < ds->num_inputs; i++) {
    data_source_close(&ds->in[i].src);
    free(ds->in[i].by_sample);
    free(ds->in[i].name);
    free(ds->in[i].path);
  }
  free(ds->in);
  free(ds);
}

/* ---- Loading -------------------------------------------------------------- */

static bool load_npy(qir_dataset *ds, const ds_input *in, const data_file *f,
                     const void *buf, size_t len, qir_tensor *out) {
  if (!qir_npy_read_buffer(ds->ctx, f->display, buf, len, out))
    return false;
  const qir_type *t = in->arg->type;
  if (qir_tensor_matches_type(out, t)) {
    out->elem = t->elem;
    return true;
  }
  char shape[256];
  qir_tensor_format_shape(out, shape, sizeof shape);
  qir_tensor_free_data(out);
  return ds_fail(ds, "'%s': array of %s does not match input '%s' of type %s",
                 f->display, shape, in->name, qir_type_text(t, NULL));
}

static bool load_bin(qir_dataset *ds, const ds_input *in, const data_file *f,
                     void *buf, size_t len, qir_tensor *out) {
  const qir_type *t = in->arg->type;
  int64_t need = qir_tensor_num_bytes(t);
  if (need < 0 || (uint64_t)need != len) {
    qir_emit_error(ds->ctx, qir_loc_unknown(),
                   "'%s': %zu bytes, but input '%s' of type %s takes %lld",
                   f->display, len, in->name, qir_type_text(t, NULL),
                   (long long)need);
    free(buf);
    return false;
  }
  qir_tensor_init_from_type(out, t);
  out->data = buf;
  out->nbytes = len;
  return true;
}

static bool load_image(qir_dataset *ds, const ds_input *in, const data_file *f,
                       const void *buf, size_t len, qir_tensor *out) {
  qir_image img;
  if (!qir_image_decode_limits(ds->ctx, f->display, buf, len, &ds->limits,
                               &img))
    return false;
  bool ok = data_image_to_tensor(ds->ctx, f->display, &img, &in->plan, out);
  qir_image_free(&img);
  return ok;
}

static bool load_input(qir_dataset *ds, ds_input *in, size_t i,
                       qir_tensor *out) {
  const data_file *f = in->by_sample[i];
  void *buf;
  size_t len;
  memset(out, 0, sizeof *out);
  if (!data_source_read(&in->src, f, &buf, &len))
    return false;
  if (f->format == QIR_DATA_BIN)
    return load_bin(ds, in, f, buf, len, out); /* takes buf */
  bool ok = f->format == QIR_DATA_NPY ? load_npy(ds, in, f, buf, len, out)
                                      : load_image(ds, in, f, buf, len, out);
  free(buf);
  return ok;
}

bool qir_dataset_load(qir_dataset *ds, size_t i, qir_tensor *inputs) {
  QIR_ASSERT(i < ds->num_samples);
  for (unsigned k = 0; k < ds->num_inputs; k++)
    if (!load_input(ds, &ds->in[k], i, &inputs[k])) {
      while (k--)
        qir_tensor_free_data(&inputs[k]);
      return false;
    }
  return true;
}
