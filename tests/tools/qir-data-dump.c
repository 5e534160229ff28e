/* tests/tools/qir-data-dump.c - opens a calibration dataset for a .qir
 * function and writes every sample as .npy files, so lit tests can check
 * the loader and the preprocessing against NumPy.
 *
 *   qir-data-dump model.qir [--func NAME] [--limit N] [-o DIR] [--progress]
 *       [--max-samples N] [--max-entries N] [--max-file-bytes N]
 *       [--max-image-side N] [--max-image-pixels N]
 *       --input [NAME=]PATH [--format auto|npy|bin|image]
 *         [--channel-order RGB|BGR|GRAY] [--nhwc] [--mean A[,B,C]]
 *         [--std A[,B,C]] [--no-resize]
 *         (options after --input apply to that input)
 *       [--input ...]
 *   qir-data-dump --decode IMAGE [-o OUT.npy]
 *
 * Prints the sample names; writes DIR/<input>/<sample>.npy.  --decode
 * writes the decoded pixels as an HxWxC u8 array. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "qir/dataset.h"
#include "qir/io.h"
#include "qir/npy.h"
#include "qir/progress.h"

enum { MAX_INPUTS = 8 };

typedef struct dump_opts {
  const char *model, *func, *out, *decode;
  size_t limit;
  bool progress;
  qir_data_limits limits;
  unsigned num_inputs;
  qir_input_config inputs[MAX_INPUTS];
} dump_opts;

static int usage_error(const char *fmt, const char *arg) {
  fputs("qir-data-dump: error: ", stderr);
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  return 1;
}

static void diag_handler(qir_context *ctx, const qir_diag *d, void *user) {
  (void)ctx, (void)user;
  fprintf(stderr, "qir-data-dump: %s: %s\n",
          d->severity == QIR_SEV_ERROR ? "error" : "warning", d->message);
}

static bool parse_list(const char *s, double *v, unsigned *n) {
  *n = 0;
  while (*s && *n < 4) {
    char *end;
    v[(*n)++] = strtod(s, &end);
    if (end == s || (*end && *end != ','))
      return false;
    s = *end ? end + 1 : end;
  }
  return !*s;
}

static bool parse_format(const char *s, qir_data_format *f) {
  static const char *names[] = {"auto", "npy", "bin", "image"};
  for (unsigned i = 0; i < 4; i++)
    if (!strcmp(s, names[i])) {
      *f = (qir_data_format)i;
      return true;
    }
  return false;
}

static int add_input(dump_opts *o, char *spec) {
  if (o->num_inputs == MAX_INPUTS)
    return usage_error("too many --input options%s", "");
  qir_input_config *c = &o->inputs[o->num_inputs++];
  qir_input_config_init(c);
  char *eq = strchr(spec, '=');
  if (eq) {
    *eq = 0;
    c->name = spec;
    c->path = eq + 1;
  } else {
    c->path = spec;
  }
  return 0;
}

/* An option of the last --input. */
static int input_option(dump_opts *o, const char *opt, char *val) {
  if (!o->num_inputs)
    return usage_error("%s must follow an --input", opt);
  qir_input_config *c = &o->inputs[o->num_inputs - 1];
  if (!strcmp(opt, "--format"))
    return parse_format(val, &c->format) ? 0
                                          : usage_error("bad --format '%s'", val);
  if (!strcmp(opt, "--channel-order")) {
    c->channel_order = val;
    return 0;
  }
  if (!strcmp(opt, "--mean"))
    return parse_list(val, c->mean, &c->num_mean)
               ? 0
               : usage_error("bad --mean '%s'", val);
  return parse_list(val, c->std, &c->num_std)
             ? 0
             : usage_error("bad --std '%s'", val);
}

static int limit_option(dump_opts *o, const char *opt, const char *val) {
  char *end;
  unsigned long long v = strtoull(val, &end, 10);
  if (*end || end == val)
    return usage_error("bad number '%s'", val);
  if (!strcmp(opt, "--limit"))
    o->limit = (size_t)v;
  else if (!strcmp(opt, "--max-samples"))
    o->limits.max_samples = (size_t)v;
  else if (!strcmp(opt, "--max-entries"))
    o->limits.max_entries = (size_t)v;
  else if (!strcmp(opt, "--max-file-bytes"))
    o->limits.max_file_bytes = v;
  else if (!strcmp(opt, "--max-image-side"))
    o->limits.max_image_side = (unsigned)v;
  else
    o->limits.max_image_pixels = v;
  return 0;
}

static bool is_one_of(const char *a, const char *const *names) {
  for (; *names; names++)
    if (!strcmp(a, *names))
      return true;
  return false;
}

static int parse_args(int argc, char **argv, dump_opts *o) {
  static const char *const input_opts[] = {"--format", "--channel-order",
                                           "--mean", "--std", NULL};
  static const char *const number_opts[] = {
      "--limit",          "--max-samples",    "--max-entries",
      "--max-file-bytes", "--max-image-side", "--max-image-pixels", NULL};
  memset(o, 0, sizeof *o);
  qir_data_limits_init(&o->limits);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_val = i + 1 < argc;
    int rc = 0;
    if (!strcmp(a, "--nhwc") && o->num_inputs)
      o->inputs[o->num_inputs - 1].nhwc = true;
    else if (!strcmp(a, "--no-resize") && o->num_inputs)
      o->inputs[o->num_inputs - 1].no_resize = true;
    else if (!strcmp(a, "--progress"))
      o->progress = true;
    else if (a[0] != '-' && !o->model)
      o->model = a;
    else if (!has_val)
      return usage_error("bad or incomplete option '%s'", a);
    else if (!strcmp(a, "--input"))
      rc = add_input(o, argv[++i]);
    else if (is_one_of(a, input_opts))
      rc = input_option(o, a, argv[++i]);
    else if (is_one_of(a, number_opts))
      rc = limit_option(o, a, argv[++i]);
    else if (!strcmp(a, "--func"))
      o->func = argv[++i];
    else if (!strcmp(a, "--decode"))
      o->decode = argv[++i];
    else if (!strcmp(a, "-o"))
      o->out = argv[++i];
    else
      return usage_error("unknown option '%s'", a);
    if (rc)
      return rc;
  }
  if (!o->decode && (!o->model || !o->num_inputs))
    return usage_error("usage: qir-data-dump model.qir --input [NAME=]PATH "
                       "... [-o DIR]%s",
                       "");
  return 0;
}

/* ---- --decode ------------------------------------------------------------- */

static int decode_image(qir_context *ctx, const dump_opts *o) {
  size_t len;
  char *data = qir_read_file(ctx, o->decode, &len);
  if (!data)
    return 1;
  qir_image img;
  bool ok = qir_image_decode_limits(ctx, o->decode, data, len, &o->limits,
                                    &img);
  free(data);
  if (!ok)
    return 1;
  printf("%ux%ux%u\n", img.height, img.width, img.channels);
  qir_tensor t = {.scalar = QIR_U8, .rank = 3, .data = img.pixels};
  t.dims[0] = img.height, t.dims[1] = img.width, t.dims[2] = img.channels;
  t.nbytes = (size_t)img.height * img.width * img.channels;
  ok = !o->out || qir_npy_write(ctx, o->out, &t);
  qir_image_free(&img);
  return ok ? 0 : 1;
}

/* ---- Datasets -------------------------------------------------------------- */

static bool make_dir(const char *path) {
  if (mkdir(path, 0777) && errno != EEXIST) {
    usage_error("cannot create '%s'", path);
    return false;
  }
  return true;
}

static bool write_sample(qir_context *ctx, const dump_opts *o, qir_func *f,
                         const char *name, const qir_tensor *in) {
  for (unsigned k = 0; k < f->body.num_args; k++) {
    const char *input = f->body.args[k]->name ? f->body.args[k]->name : "arg";
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", o->out, input);
    if (!make_dir(path))
      return false;
    snprintf(path, sizeof path, "%s/%s/%s.npy", o->out, input, name);
    if (!qir_npy_write(ctx, path, &in[k]))
      return false;
  }
  return true;
}

static int dump_samples(qir_context *ctx, const dump_opts *o, qir_func *f,
                        qir_dataset *ds) {
  size_t n = qir_dataset_size(ds);
  printf("%zu samples\n", n);
  if (o->out && !make_dir(o->out))
    return 1;
  qir_progress *p = o->progress ? qir_progress_start(stdout, "load", n) : NULL;
  qir_tensor in[MAX_INPUTS];
  for (size_t i = 0; i < n; i++) {
    if (!o->progress)
      printf("%zu: %s\n", i, qir_dataset_sample_name(ds, i));
    if (!qir_dataset_load(ds, i, in))
      return 1;
    bool ok = !o->out || write_sample(ctx, o, f, qir_dataset_sample_name(ds, i), in);
    for (unsigned k = 0; k < f->body.num_args; k++)
      qir_tensor_free_data(&in[k]);
    if (!ok)
      return 1;
    qir_progress_update(p, i + 1);
  }
  qir_progress_finish(p);
  return 0;
}

static int dump_model(qir_context *ctx, const dump_opts *o) {
  qir_module *m = qir_parse_file(ctx, o->model);
  if (!m)
    return 1;
  int rc = 1;
  qir_func *f = m->first;
  if (o->func && !(f = qir_module_lookup(m, o->func)))
    usage_error("no function @%s", o->func);
  else if (!f)
    usage_error("no function in '%s'", o->model);
  else if (f->body.num_args > MAX_INPUTS)
    usage_error("too many inputs in '%s'", o->model);
  else if (qir_verify_module(m)) {
    qir_dataset *ds = qir_dataset_open_limits(f, o->inputs, o->num_inputs,
                                              o->limit, &o->limits);
    if (ds)
      rc = dump_samples(ctx, o, f, ds);
    qir_dataset_close(ds);
  }
  qir_module_destroy(m);
  return rc;
}

int main(int argc, char **argv) {
  dump_opts o;
  if (parse_args(argc, argv, &o))
    return 1;
  qir_context *ctx = qir_context_create();
  qir_diag_set_handler(ctx, diag_handler, NULL, NULL, NULL);
  int rc = o.decode ? decode_image(ctx, &o) : dump_model(ctx, &o);
  qir_context_destroy(ctx);
  return rc;
}
