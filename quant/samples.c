/* quant/samples.c - the inputs the quantization passes run the model on:
 * a dataset (qir/dataset.h) or seeded random tensors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "qir/dataset.h"
#include "quant/quant.h"

struct qq_samples {
  qir_func *f;
  qir_dataset *ds;    /* NULL: random samples */
  size_t count;
  uint64_t seed;
  double rmin, rmax;
  bool progress;
  char name[32];
};

/* splitmix64: a small, portable generator (the same samples everywhere). */
static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* "127.5:127.5:127.5" into v[0..4); the count, -1 when malformed. */
static int parse_channels(const char *s, double *v) {
  if (!*s)
    return 0;
  int n = 0;
  while (n < 4) {
    char *end;
    v[n++] = strtod(s, &end);
    if (end == s)
      return -1;
    if (!*end)
      return n;
    if (*end != ':')
      return -1;
    s = end + 1;
  }
  return -1;
}

static bool read_preprocessing(qir_pass *pass, qir_func *f,
                               qir_input_config *c) {
  const char *opts[2] = {"mean", "std"};
  double *dst[2] = {c->mean, c->std};
  unsigned *num[2] = {&c->num_mean, &c->num_std};
  for (int k = 0; k < 2; k++) {
    int n = parse_channels(qir_pass_opt_string(pass, opts[k]), dst[k]);
    if (n < 0) {
      qir_emit_error(f->module->ctx, f->loc,
                     "option '%s' must be up to 4 numbers separated by ':'",
                     opts[k]);
      return false;
    }
    *num[k] = (unsigned)n;
  }
  c->channel_order = qir_pass_opt_string(pass, "channel-order");
  c->nhwc = qir_pass_opt_bool(pass, "nhwc");
  return true;
}

static qir_dataset *open_dataset(qir_pass *pass, qir_func *f,
                                 const char *data, size_t limit) {
  unsigned n = f->body.num_args ? f->body.num_args : 1;
  qir_input_config *cfg = qir_xcalloc(n, sizeof *cfg);
  char **paths = qir_xcalloc(n, sizeof *paths);
  bool ok = true;
  for (unsigned i = 0; i < n && ok; i++) {
    qir_input_config_init(&cfg[i]);
    ok = read_preprocessing(pass, f, &cfg[i]);
    cfg[i].path = data;
    if (f->body.num_args > 1) {
      const char *name = f->body.args[i]->name ? f->body.args[i]->name : "";
      size_t len = strlen(data) + strlen(name) + 2;
      paths[i] = qir_xmalloc(len);
      snprintf(paths[i], len, "%s/%s", data, name);
      cfg[i].name = name;
      cfg[i].path = paths[i];
    }
  }
  qir_dataset *ds = ok ? qir_dataset_open(f, cfg, n, limit) : NULL;
  for (unsigned i = 0; i < n; i++)
    free(paths[i]);
  free(paths);
  free(cfg);
  return ds;
}

qq_samples *qq_samples_open(qir_pass *pass, qir_func *f) {
  qir_context *ctx = f->module->ctx;
  const char *data = qir_pass_opt_string(pass, "data");
  int64_t limit = qir_pass_opt_int(pass, "samples");
  int64_t random = qir_pass_opt_int(pass, "random");
  const char *pname = qir_pass_get_def(pass)->name;
  if (limit < 0 || random < 0) {
    qir_emit_error(ctx, f->loc, "%s: 'samples' and 'random' must not be "
                   "negative", pname);
    return NULL;
  }
  if (!*data && random == 0) {
    qir_emit_error(ctx, f->loc, "%s needs samples: give data=DIR or "
                   "random=N", pname);
    return NULL;
  }
  if (*data && random > 0) {
    qir_emit_error(ctx, f->loc, "%s: give data or random, not both", pname);
    return NULL;
  }
  qq_samples *s = qir_xcalloc(1, sizeof *s);
  s->f = f;
  s->progress = qir_pass_opt_bool(pass, "progress");
  if (*data) {
    s->ds = open_dataset(pass, f, data, (size_t)limit);
    if (!s->ds) {
      free(s);
      return NULL;
    }
    s->count = qir_dataset_size(s->ds);
    return s;
  }
  s->count = (size_t)(limit > 0 && limit < random ? limit : random);
  s->seed = (uint64_t)qir_pass_opt_int(pass, "seed");
  s->rmin = qir_pass_opt_float(pass, "random-min");
  s->rmax = qir_pass_opt_float(pass, "random-max");
  if (!(s->rmin < s->rmax)) {
    qir_emit_error(ctx, f->loc, "%s: random-min must be below random-max",
                   pname);
    free(s);
    return NULL;
  }
  for (unsigned i = 0; i < f->body.num_args; i++) {
    const qir_type *t = f->body.args[i]->type;
    if (!qq_is_float_tensor(t) || !qir_tensor_is_static(t)) {
      qir_emit_error(ctx, f->loc, "%s: random samples need float inputs of "
                     "static shape; input #%u is not", pname, i);
      free(s);
      return NULL;
    }
  }
  return s;
}

size_t qq_samples_count(const qq_samples *s) { return s->count; }
bool qq_samples_progress(const qq_samples *s) { return s->progress; }

const char *qq_samples_name(qq_samples *s, size_t i) {
  if (s->ds)
    return qir_dataset_sample_name(s->ds, i);
  snprintf(s->name, sizeof s->name, "random%zu", i);
  return s->name;
}

static bool random_tensor(qq_samples *s, size_t sample, unsigned input,
                          qir_tensor *t) {
  qir_tensor_init_from_type(t, s->f->body.args[input]->type);
  if (!qir_tensor_alloc(t))
    return false;
  uint64_t state = s->seed * 1000003u + sample * 131u + input;
  int64_t n = qir_tensor_numel(t);
  float *tmp = qir_xmalloc((size_t)(n ? n : 1) * sizeof *tmp);
  for (int64_t i = 0; i < n; i++) {
    double u = (double)(next_random(&state) >> 11) / 9007199254740992.0;
    tmp[i] = (float)(s->rmin + u * (s->rmax - s->rmin));
  }
  qir_convert(QIR_F32, tmp, t->scalar, t->data, n);
  free(tmp);
  return true;
}

bool qq_samples_load(qq_samples *s, size_t i, qir_tensor *inputs) {
  if (s->ds)
    return qir_dataset_load(s->ds, i, inputs);
  for (unsigned k = 0; k < s->f->body.num_args; k++)
    if (!random_tensor(s, i, k, &inputs[k])) {
      qir_emit_error(s->f->module->ctx, s->f->loc,
                     "random input #%u is too large", k);
      for (unsigned j = 0; j < k; j++)
        qir_tensor_free_data(&inputs[j]);
      return false;
    }
  return true;
}

void qq_samples_close(qq_samples *s) {
  if (!s)
    return;
  if (s->ds)
    qir_dataset_close(s->ds);
  free(s);
}

qir_interp *qq_observed_interp(qir_func *f, qir_interp_observer observer,
                               void *user) {
  qir_interp_options io;
  qir_interp_options_init(&io);
  io.observer = observer;
  io.observer_user = user;
  return qir_interp_create(f, &io);
}

bool qq_run_sample(qq_samples *s, size_t i, qir_interp *it) {
  unsigned n = s->f->body.num_args;
  qir_tensor *in = qir_xcalloc(n ? n : 1, sizeof *in);
  bool ok = qq_samples_load(s, i, in);
  for (unsigned k = 0; ok && k < n; k++)
    ok = qir_interp_set_input(it, k, &in[k]);
  if (ok)
    ok = qir_interp_run(it);
  for (unsigned k = 0; k < n; k++)
    qir_tensor_free_data(&in[k]);
  free(in);
  return ok;
}
