/* ir/pass/opt.h - private pieces of the qir-opt driver. */
#ifndef QIR_IR_PASS_OPT_H
#define QIR_IR_PASS_OPT_H

#include "ir/pass/pass.h"

typedef struct opt_config {
  const char *input;  /* NULL or "-": stdin */
  const char *output; /* NULL or "-": stdout */
  char *pipeline;     /* NULL: no -pass */
  bool split, verify_diags, verify_roundtrip, verify_each;
  bool print_after_all, print_before_all;
  char *print_after, *print_before; /* comma lists */
  bool time_passes, pass_stats, dump_pipeline;
  bool debug_all;
  char *debug_only;
  const char **plugins;
  unsigned num_plugins;
  bool elide_constants, print_debuginfo;
  long inline_limit;     /* -1: the default */
  int print_passes;      /* 0 no, 1 text, 2 markdown */
  bool print_ops;
  bool help, version;
  /* -check-equivalence=random|DIR, -check-each and their thresholds. */
  const char *check_inputs; /* NULL: no check */
  bool check_each;
  long check_seed;
  double check_min_cosine, check_max_rel_error;
  const char *view_graph; /* -view-graph=FILE: runs view-graph last */
} opt_config;

void opt_config_init(opt_config *c);
void opt_config_free(opt_config *c);
/* Parses argv; prints `qir-opt: error: ...` and returns false on bad use. */
bool opt_parse_args(opt_config *c, int argc, char **argv);
void opt_print_help(qir_context *ctx, FILE *out);
void opt_print_passes(qir_context *ctx, FILE *out, bool markdown);
void opt_print_ops(qir_context *ctx, FILE *out);

#endif
