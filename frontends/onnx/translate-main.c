/* frontends/onnx/translate-main.c - the qir-translate driver: ONNX to .qir
 * and .qir to ONNX. */
#include <stdio.h>
#include <string.h>

#include "qir/onnx.h"
#include "qir/qir.h"

static const char usage[] =
    "usage: qir-translate --import-onnx model.onnx [--input-shapes=SHAPES] "
    "[-o out.qir]\n"
    "       qir-translate --export-onnx model.qir [-o out.onnx]\n"
    "\n"
    "Converts between ONNX models and the .qir text format.\n"
    "\n"
    "  --import-onnx          read an ONNX model, write .qir text\n"
    "  --export-onnx          read .qir text, write an ONNX model (opset 17)\n"
    "  --input-shapes=SHAPES  fix dynamic input dims: 'x:1x3x640x640;y:1x16'\n"
    "  --no-fold              keep ops whose operands are all constants\n"
    "  --keep-qdq             QDQ models: keep the float ops between\n"
    "                         quantize and dequantize (default: fold them\n"
    "                         into ops on quantized types)\n"
    "  -elide-constants       print large constants as __elided__\n"
    "  -o FILE                output file (default: standard output)\n"
    "  --help                 show this help\n";

typedef enum { MODE_NONE, MODE_IMPORT, MODE_EXPORT } translate_mode;

typedef struct translate_args {
  translate_mode mode;
  const char *input, *output, *input_shapes;
  bool no_fold, keep_qdq, elide;
} translate_args;

/* Accepts both -name and --name. */
static const char *strip_dashes(const char *a) {
  if (a[0] == '-' && a[1] == '-')
    return a + 2;
  return a[0] == '-' ? a + 1 : a;
}

/* 0: ok, 1: error, 2: --help shown. */
static int parse_args(int argc, char **argv, translate_args *a) {
  memset(a, 0, sizeof *a);
  a->output = "-";
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *opt = strip_dashes(arg);
    if (arg[0] != '-' || strcmp(arg, "-") == 0) {
      if (a->input) {
        fprintf(stderr, "qir-translate: error: more than one input file "
                        "('%s' and '%s')\n", a->input, arg);
        return 1;
      }
      a->input = arg;
    } else if (strcmp(opt, "help") == 0 || strcmp(opt, "h") == 0) {
      fputs(usage, stdout);
      return 2;
    } else if (strcmp(opt, "import-onnx") == 0) {
      a->mode = MODE_IMPORT;
    } else if (strcmp(opt, "export-onnx") == 0) {
      a->mode = MODE_EXPORT;
    } else if (strncmp(opt, "input-shapes=", 13) == 0) {
      a->input_shapes = opt + 13;
    } else if (strcmp(opt, "input-shapes") == 0 && i + 1 < argc) {
      a->input_shapes = argv[++i];
    } else if (strcmp(opt, "no-fold") == 0) {
      a->no_fold = true;
    } else if (strcmp(opt, "keep-qdq") == 0) {
      a->keep_qdq = true;
    } else if (strcmp(opt, "elide-constants") == 0) {
      a->elide = true;
    } else if (strcmp(opt, "o") == 0 && i + 1 < argc) {
      a->output = argv[++i];
    } else if (strncmp(arg, "-o", 2) == 0 && arg[2]) {
      a->output = arg + 2;
    } else {
      fprintf(stderr, "qir-translate: error: unknown option '%s' (see "
                      "--help)\n", arg);
      return 1;
    }
  }
  if (a->mode == MODE_NONE) {
    fprintf(stderr, "qir-translate: error: give --import-onnx or "
                    "--export-onnx (see --help)\n");
    return 1;
  }
  if (!a->input) {
    fprintf(stderr, "qir-translate: error: no input file\n");
    return 1;
  }
  return 0;
}

static bool run_import(qir_context *ctx, const translate_args *a) {
  qir_onnx_import_options o;
  qir_onnx_import_options_init(&o);
  o.input_shapes = a->input_shapes;
  o.fold_constants = !a->no_fold;
  o.keep_qdq = a->keep_qdq;
  qir_module *m = qir_onnx_import_file(ctx, a->input, &o);
  if (!m)
    return false;
  qir_print_options po;
  qir_print_options_init(&po);
  po.elide_constants = a->elide;
  bool ok = qir_write_module(ctx, a->output, m, &po);
  qir_module_destroy(m);
  return ok;
}

static bool run_export(qir_context *ctx, const translate_args *a) {
  if (a->input_shapes) {
    qir_emit_error(ctx, qir_loc_unknown(),
                   "--input-shapes applies to --import-onnx only");
    return false;
  }
  qir_module *m = qir_parse_file(ctx, a->input);
  if (!m)
    return false;
  bool ok = qir_verify_module(m) && qir_onnx_export_file(ctx, m, a->output);
  qir_module_destroy(m);
  return ok;
}

int qir_translate_main(int argc, char **argv) {
  translate_args a;
  int r = parse_args(argc, argv, &a);
  if (r)
    return r == 2 ? 0 : 1;
  qir_context *ctx = qir_context_create();
  bool ok = a.mode == MODE_IMPORT ? run_import(ctx, &a) : run_export(ctx, &a);
  ok = ok && qir_diag_error_count(ctx) == 0;
  qir_context_destroy(ctx);
  return ok ? 0 : 1;
}
