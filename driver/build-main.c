/* driver/build-main.c - the qir-build command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/build-internal.h"

static const char usage[] =
    "usage: qir-build --config build.json [--KEY=VALUE...] [options]\n"
    "\n"
    "Runs the whole flow from one configuration (JSON or YAML): import,\n"
    "optimization, calibration, quantization, compilation, the compiler\n"
    "check and the reports, into output_dir.  docs/qir-build.md lists\n"
    "every key.\n"
    "\n"
    "  --config FILE, -c FILE  the configuration\n"
    "  --KEY=VALUE             override a key, in the dotted form:\n"
    "                          --quant.calibration_method=KL,\n"
    "                          --quant.input_configs.0.mean=[127.5]\n"
    "  --print-config          print the merged configuration and stop\n"
    "  --quiet                 no tables, progress or summary\n"
    "  --no-progress           no progress bars\n"
    "  --help                  show this help\n";

typedef struct build_args {
  const char *config;
  const char **overrides;
  unsigned num_overrides;
  bool print_config;
  qir_build_options opts;
} build_args;

static const char *strip_dashes(const char *a) {
  if (a[0] == '-' && a[1] == '-')
    return a + 2;
  return a[0] == '-' ? a + 1 : a;
}

static int arg_error(const char *fmt, const char *arg) {
  fputs("qir-build: error: ", stderr);
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  return 1;
}

/* 0: ok, 1: error, 2: --help shown. */
static int parse_args(int argc, char **argv, build_args *a) {
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i], *opt = strip_dashes(arg);
    if (arg[0] != '-')
      return arg_error("unexpected argument '%s' (give the configuration "
                       "with --config)", arg);
    if (!strcmp(opt, "help") || !strcmp(opt, "h")) {
      fputs(usage, stdout);
      return 2;
    } else if (!strcmp(opt, "config") || !strcmp(opt, "c")) {
      if (i + 1 >= argc)
        return arg_error("%s needs a file name", arg);
      a->config = argv[++i];
    } else if (!strncmp(opt, "config=", 7)) {
      a->config = opt + 7;
    } else if (!strcmp(opt, "print-config")) {
      a->print_config = true;
    } else if (!strcmp(opt, "quiet")) {
      a->opts.quiet = true;
    } else if (!strcmp(opt, "no-progress")) {
      a->opts.no_progress = true;
    } else if (arg[1] == '-' && strchr(opt, '=')) {
      a->overrides[a->num_overrides++] = opt;
    } else {
      return arg_error("unknown option '%s' (see --help)", arg);
    }
  }
  if (!a->config)
    return arg_error("%s", "no configuration (give --config FILE)");
  return 0;
}

static bool print_config(qir_context *ctx, const qir_build_config *c) {
  size_t len;
  char *text = qir_build_config_to_json(c, &len);
  bool ok = fwrite(text, 1, len, stdout) == len;
  free(text);
  if (!ok)
    qir_emit_error(ctx, qir_loc_unknown(), "cannot write to stdout");
  return ok;
}

int qir_build_main(int argc, char **argv) {
  build_args a;
  memset(&a, 0, sizeof a);
  qir_build_options_init(&a.opts);
  a.overrides = qir_xcalloc((size_t)argc + 1, sizeof *a.overrides);
  int r = parse_args(argc, argv, &a);
  if (r) {
    free(a.overrides);
    return r == 2 ? 0 : 1;
  }
  qir_context *ctx = qir_context_create();
  qir_build_config *c = qir_build_config_load(ctx, a.config);
  bool ok = c != NULL;
  for (unsigned i = 0; ok && i < a.num_overrides; i++)
    ok = qir_build_config_override(c, a.overrides[i]);
  if (ok)
    ok = a.print_config ? print_config(ctx, c)
                        : qir_build_run(ctx, c, &a.opts);
  ok = ok && qir_diag_error_count(ctx) == 0;
  qir_build_config_free(c);
  qir_context_destroy(ctx);
  free(a.overrides);
  return ok ? 0 : 1;
}
