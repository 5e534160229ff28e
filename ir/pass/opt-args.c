/* ir/pass/opt-args.c - qir-opt's command line: the option table, parsing
 * (`-flag`, `--flag`, `-flag=value`, `-flag value`) and --help. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "ir/pass/opt.h"

typedef enum arg_kind {
  ARG_FLAG,     /* -flag or -flag=<bool> */
  ARG_VALUE,    /* -flag=value or -flag value */
  ARG_OPTIONAL, /* -flag or -flag=value */
} arg_kind;

typedef enum arg_id {
  A_OUTPUT,
  A_PASS,
  A_SPLIT,
  A_VERIFY_DIAGS,
  A_VERIFY_ROUNDTRIP,
  A_VERIFY_EACH,
  A_PRINT_AFTER_ALL,
  A_PRINT_AFTER,
  A_PRINT_BEFORE_ALL,
  A_PRINT_BEFORE,
  A_TIME_PASSES,
  A_PASS_STATS,
  A_DUMP_PIPELINE,
  A_DEBUG,
  A_DEBUG_ONLY,
  A_LOAD,
  A_ELIDE,
  A_DEBUGINFO,
  A_INLINE_LIMIT,
  A_PRINT_PASSES,
  A_PRINT_OPS,
  A_HELP,
  A_VERSION,
  A_CHECK_EQUIV,
  A_CHECK_EACH,
  A_CHECK_SEED,
  A_CHECK_COSINE,
  A_CHECK_REL,
  A_VIEW_GRAPH,
} arg_id;

typedef struct arg_def {
  const char *name;
  arg_kind kind;
  arg_id id;
  const char *meta; /* shown in --help */
  const char *help;
} arg_def;

static const arg_def arg_defs[] = {
    {"o", ARG_VALUE, A_OUTPUT, " <file>",
     "Write the output to <file> ('-' is stdout, the default); nothing is "
     "written on failure"},
    {"pass", ARG_VALUE, A_PASS, "=<pipeline>",
     "Passes to run, e.g. -pass='canonicalize,cse,quantize{bits=8}'"},
    {"split-input-file", ARG_FLAG, A_SPLIT, "",
     "Split the input on '// -----' lines and process each part on its own"},
    {"verify-diagnostics", ARG_FLAG, A_VERIFY_DIAGS, "",
     "Check the diagnostics against the expected-* comments of the input"},
    {"verify-roundtrip", ARG_FLAG, A_VERIFY_ROUNDTRIP, "",
     "Check that the printed output parses back to the same text"},
    {"verify-each", ARG_FLAG, A_VERIFY_EACH, "[=<bool>]",
     "Run the verifier after each pass (default true)"},
    {"print-after-all", ARG_FLAG, A_PRINT_AFTER_ALL, "",
     "Print the IR after every pass (on stderr)"},
    {"print-after", ARG_VALUE, A_PRINT_AFTER, "=<passes>",
     "Print the IR after the passes of a comma list"},
    {"print-before-all", ARG_FLAG, A_PRINT_BEFORE_ALL, "",
     "Print the IR before every pass"},
    {"print-before", ARG_VALUE, A_PRINT_BEFORE, "=<passes>",
     "Print the IR before the passes of a comma list"},
    {"time-passes", ARG_FLAG, A_TIME_PASSES, "",
     "Report the wall time of each pass on stderr"},
    {"pass-stats", ARG_FLAG, A_PASS_STATS, "",
     "Report the statistics of each pass on stderr"},
    {"dump-pass-pipeline", ARG_FLAG, A_DUMP_PIPELINE, "",
     "Print the pipeline with every option value on stderr"},
    {"debug", ARG_FLAG, A_DEBUG, "", "Enable every debug channel"},
    {"debug-only", ARG_VALUE, A_DEBUG_ONLY, "=<channels>",
     "Enable the debug channels of a comma list"},
    {"load", ARG_VALUE, A_LOAD, "=<plugin.so>",
     "Load a pass plugin (may be repeated)"},
    {"elide-constants", ARG_FLAG, A_ELIDE, "",
     "Print out-of-line constant data as __elided__"},
    {"print-debuginfo", ARG_FLAG, A_DEBUGINFO, "",
     "Print the location of each op"},
    {"inline-limit", ARG_VALUE, A_INLINE_LIMIT, "=<bytes>",
     "Print dense data larger than this out of line (default 64, 0: never)"},
    {"check-equivalence", ARG_VALUE, A_CHECK_EQUIV, "=<random|dir>",
     "Run the input and the output of the pipeline on the same inputs "
     "(random, or <dir>/<input>.npy) and compare every output"},
    {"check-each", ARG_FLAG, A_CHECK_EACH, "",
     "Check equivalence after every pass; name the first pass that breaks "
     "it (random inputs unless -check-equivalence=<dir>)"},
    {"check-seed", ARG_VALUE, A_CHECK_SEED, "=<n>",
     "Seed of the random inputs of the equivalence check (default 1)"},
    {"check-min-cosine", ARG_VALUE, A_CHECK_COSINE, "=<x>",
     "Lowest cosine an output may have (default 0.999999)"},
    {"check-max-rel-error", ARG_VALUE, A_CHECK_REL, "=<x>",
     "Largest max |a - b| / max |a| an output may have (default 1e-5)"},
    {"view-graph", ARG_VALUE, A_VIEW_GRAPH, "=<file>",
     "After the passes, draw the module into <file> (.dot, .gv or .svg); "
     "see the view-graph pass"},
    {"print-passes", ARG_OPTIONAL, A_PRINT_PASSES, "[=markdown]",
     "List the registered passes and exit"},
    {"print-ops", ARG_FLAG, A_PRINT_OPS, "",
     "List the registered ops and exit"},
    {"help", ARG_FLAG, A_HELP, "", "Show this help and exit"},
    {"version", ARG_FLAG, A_VERSION, "", "Show the version and exit"},
};
#define NUM_ARG_DEFS (sizeof arg_defs / sizeof arg_defs[0])

static bool usage_error(const char *fmt, ...) QIR_PRINTF(1, 2);
static bool usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("qir-opt: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return false;
}

static const arg_def *find_arg(const char *name, size_t len) {
  for (size_t i = 0; i < NUM_ARG_DEFS; i++)
    if (strlen(arg_defs[i].name) == len &&
        memcmp(arg_defs[i].name, name, len) == 0)
      return &arg_defs[i];
  if (len == 1 && name[0] == 'h')
    return find_arg("help", 4);
  return NULL;
}

static bool unknown_arg(const char *arg, const char *dashes, const char *name,
                        size_t len) {
  qir_close_match m;
  qir_close_match_init(&m, name, len);
  for (size_t i = 0; i < NUM_ARG_DEFS; i++)
    qir_close_match_offer(&m, arg_defs[i].name);
  if (m.best)
    return usage_error("unknown option '%s'; did you mean '%s%s'?", arg,
                       dashes, m.best);
  return usage_error("unknown option '%s'", arg);
}

static bool parse_bool_value(const char *arg, const char *v, bool *out) {
  if (!strcmp(v, "true") || !strcmp(v, "1")) {
    *out = true;
    return true;
  }
  if (!strcmp(v, "false") || !strcmp(v, "0")) {
    *out = false;
    return true;
  }
  return usage_error("option '%s' expects true or false, got '%s'", arg, v);
}

static bool set_flag(opt_config *c, arg_id id, bool v) {
  switch (id) {
  case A_SPLIT: c->split = v; break;
  case A_VERIFY_DIAGS: c->verify_diags = v; break;
  case A_VERIFY_ROUNDTRIP: c->verify_roundtrip = v; break;
  case A_VERIFY_EACH: c->verify_each = v; break;
  case A_PRINT_AFTER_ALL: c->print_after_all = v; break;
  case A_PRINT_BEFORE_ALL: c->print_before_all = v; break;
  case A_TIME_PASSES: c->time_passes = v; break;
  case A_PASS_STATS: c->pass_stats = v; break;
  case A_DUMP_PIPELINE: c->dump_pipeline = v; break;
  case A_DEBUG: c->debug_all = v; break;
  case A_ELIDE: c->elide_constants = v; break;
  case A_DEBUGINFO: c->print_debuginfo = v; break;
  case A_PRINT_OPS: c->print_ops = v; break;
  case A_HELP: c->help = v; break;
  case A_VERSION: c->version = v; break;
  case A_CHECK_EACH: c->check_each = v; break;
  default: qir_die("option %d is not a flag", (int)id);
  }
  return true;
}

/* Appends `v` to a comma list held in a malloc'd string. */
static void append_list(char **list, const char *v) {
  size_t old = *list ? strlen(*list) : 0, n = strlen(v);
  *list = qir_xrealloc(*list, old + n + 2);
  if (old)
    (*list)[old++] = ',';
  memcpy(*list + old, v, n + 1);
}

static void push_plugin(opt_config *c, const char *path) {
  c->plugins = qir_xrealloc(c->plugins, (c->num_plugins + 1) * sizeof(char *));
  c->plugins[c->num_plugins++] = path;
}

static bool parse_inline_limit(const char *arg, const char *v, long *out) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (!*v || *end || n < 0 || *v == '-' || *v == '+' || *v == ' ' ||
      errno == ERANGE)
    return usage_error("option '%s' expects a non-negative integer, got '%s'",
                       arg, v);
  *out = n;
  return true;
}

static bool parse_double_value(const char *arg, const char *v, double *out) {
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (!*v || *end || errno == ERANGE || !isfinite(d) || d < 0)
    return usage_error("option '%s' expects a non-negative number, got '%s'",
                       arg, v);
  *out = d;
  return true;
}

static bool set_value(opt_config *c, const char *arg, arg_id id,
                      const char *v) {
  switch (id) {
  case A_OUTPUT: c->output = v; return true;
  case A_PASS:
    if (c->pipeline && *v)
      append_list(&c->pipeline, v);
    else if (!c->pipeline)
      c->pipeline = qir_xstrdup(v);
    return true;
  case A_PRINT_AFTER: append_list(&c->print_after, v); return true;
  case A_PRINT_BEFORE: append_list(&c->print_before, v); return true;
  case A_DEBUG_ONLY: append_list(&c->debug_only, v); return true;
  case A_LOAD: push_plugin(c, v); return true;
  case A_INLINE_LIMIT: return parse_inline_limit(arg, v, &c->inline_limit);
  case A_CHECK_EQUIV:
    if (!*v)
      return usage_error("option '%s' expects 'random' or a folder", arg);
    c->check_inputs = v;
    return true;
  case A_CHECK_SEED: return parse_inline_limit(arg, v, &c->check_seed);
  case A_CHECK_COSINE: return parse_double_value(arg, v, &c->check_min_cosine);
  case A_CHECK_REL: return parse_double_value(arg, v, &c->check_max_rel_error);
  case A_VIEW_GRAPH: c->view_graph = v; return true;
  case A_PRINT_PASSES:
    if (strcmp(v, "markdown") && strcmp(v, "text"))
      return usage_error("option '%s' expects 'text' or 'markdown', got '%s'",
                         arg, v);
    c->print_passes = strcmp(v, "markdown") ? 1 : 2;
    return true;
  default: qir_die("option %d takes no value", (int)id);
  }
}

static bool set_positional(opt_config *c, const char *arg) {
  if (c->input)
    return usage_error("more than one input file ('%s' and '%s')", c->input,
                       arg);
  c->input = arg;
  return true;
}

/* One option at argv[*i]; may consume argv[*i + 1]. */
static bool parse_one(opt_config *c, int argc, char **argv, int *i) {
  const char *arg = argv[*i];
  const char *name = arg + (arg[1] == '-' ? 2 : 1);
  const char *dashes = arg[1] == '-' ? "--" : "-";
  const char *eq = strchr(name, '=');
  size_t len = eq ? (size_t)(eq - name) : strlen(name);
  const arg_def *d = find_arg(name, len);
  if (!d)
    return unknown_arg(arg, dashes, name, len);
  char shown[64]; /* the option as written, without its value */
  snprintf(shown, sizeof shown, "%s%.*s", dashes, (int)len, name);
  if (d->kind == ARG_FLAG) {
    bool v = true;
    if (eq && !parse_bool_value(shown, eq + 1, &v))
      return false;
    return set_flag(c, d->id, v);
  }
  if (d->kind == ARG_OPTIONAL) /* the only one: -print-passes[=markdown] */
    return set_value(c, shown, d->id, eq ? eq + 1 : "text");
  if (eq)
    return set_value(c, shown, d->id, eq + 1);
  if (*i + 1 >= argc)
    return usage_error("option '%s' needs a value", shown);
  return set_value(c, shown, d->id, argv[++*i]);
}

/* -view-graph=FILE is the pass view-graph{output="FILE"} at the end of
 * the pipeline, so it draws what the other passes made. */
static void append_view_graph(opt_config *c) {
  size_t n = strlen(c->view_graph);
  char *pass = qir_xmalloc(2 * n + 32), *p = pass;
  p += sprintf(p, "view-graph{output=\"");
  for (const char *s = c->view_graph; *s; s++) {
    if (*s == '"' || *s == '\\')
      *p++ = '\\';
    *p++ = *s;
  }
  strcpy(p, "\"}");
  append_list(&c->pipeline, pass);
  free(pass);
}

void opt_config_init(opt_config *c) {
  memset(c, 0, sizeof *c);
  c->verify_each = true;
  c->inline_limit = -1;
  c->check_seed = 1;
  c->check_min_cosine = 0.999999;
  c->check_max_rel_error = 1e-5;
}

void opt_config_free(opt_config *c) {
  free(c->pipeline);
  free(c->print_after);
  free(c->print_before);
  free(c->debug_only);
  free(c->plugins);
}

bool opt_parse_args(opt_config *c, int argc, char **argv) {
  bool only_files = false;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    bool ok;
    if (only_files || arg[0] != '-' || arg[1] == '\0')
      ok = set_positional(c, arg);
    else if (!strcmp(arg, "--"))
      ok = only_files = true;
    else
      ok = parse_one(c, argc, argv, &i);
    if (!ok)
      return false;
  }
  if (c->view_graph)
    append_view_graph(c);
  return true;
}

/* ---- --help, --print-passes ------------------------------------------ */

static void print_option_help(FILE *out) {
  for (size_t i = 0; i < NUM_ARG_DEFS; i++) {
    const arg_def *d = &arg_defs[i];
    int n = fprintf(out, "  -%s%s", d->name, d->meta);
    fprintf(out, "%*s%s\n", n < 30 ? 30 - n : 1, "", d->help);
  }
}

static void print_pass_help(const qir_pass_def *d, void *user) {
  FILE *out = user;
  int n = fprintf(out, "  %s", d->name);
  fprintf(out, "%*s%s\n", n < 30 ? 30 - n : 1, "", d->summary);
  for (unsigned i = 0; i < d->num_options; i++) {
    const qir_pass_option_def *o = &d->options[i];
    n = fprintf(out, "      %s=<%s>", o->name, qir_opt_type_name(o->type));
    fprintf(out, "%*s%s", n < 30 ? 30 - n : 1, "", o->help ? o->help : "");
    if (o->dflt && *o->dflt)
      fprintf(out, " (default: %s)", o->dflt);
    fputc('\n', out);
  }
}

void opt_print_help(qir_context *ctx, FILE *out) {
  fputs("OVERVIEW: qir optimizer driver: parses, verifies, transforms and "
        "prints .qir modules\n\n"
        "USAGE: qir-opt [options] [input.qir|-]\n\n"
        "Options take one or two dashes; values follow '=' or come as the "
        "next argument.\n\nOPTIONS:\n",
        out);
  print_option_help(out);
  fputs("\nPASSES (-pass=name{option=value ...},...):\n", out);
  qir_foreach_pass_def(ctx, print_pass_help, out);
}

static void measure_name(const qir_pass_def *d, void *user) {
  int *w = user;
  int n = (int)strlen(d->name);
  if (n > *w)
    *w = n;
}

typedef struct text_list {
  FILE *out;
  int width;
} text_list;

static void print_pass_line(const qir_pass_def *d, void *user) {
  text_list *t = user;
  fprintf(t->out, "%-*s  %s\n", t->width, d->name, d->summary);
}

static const char *unit_text(qir_pass_unit u) {
  return u == QIR_PASS_ON_MODULE ? "the module" : "each function";
}

static void print_pass_markdown(const qir_pass_def *d, void *user) {
  FILE *out = user;
  size_t n = strlen(d->summary);
  bool stop = n && d->summary[n - 1] == '.';
  fprintf(out, "\n## `%s`\n\n%s%s\n\nRuns on %s.\n", d->name, d->summary,
          stop ? "" : ".", unit_text(d->unit));
  if (d->num_options == 0)
    return;
  fputs("\n| Option | Type | Default | Description |\n"
        "|--------|------|---------|-------------|\n",
        out);
  for (unsigned i = 0; i < d->num_options; i++) {
    const qir_pass_option_def *o = &d->options[i];
    fprintf(out, "| `%s` | %s | `%s` | %s |\n", o->name,
            qir_opt_type_name(o->type), o->dflt ? o->dflt : "",
            o->help ? o->help : "");
  }
}

void opt_print_passes(qir_context *ctx, FILE *out, bool markdown) {
  if (markdown) {
    fputs("# Passes\n\n"
          "<!-- Generated by `qir-opt --print-passes=markdown`; do not edit. "
          "-->\n\n"
          "Every built-in pass of qir, in the order of passes/passes.def. "
          "Run them with\n`qir-opt -pass=NAME{option=value ...}`; see "
          "[WritingAPass](WritingAPass.md)\nto add your own.\n",
          out);
    qir_foreach_pass_def(ctx, print_pass_markdown, out);
    return;
  }
  text_list t = {out, 0};
  qir_foreach_pass_def(ctx, measure_name, &t.width);
  qir_foreach_pass_def(ctx, print_pass_line, &t);
}

static void measure_op_name(const qir_op_def *d, void *user) {
  int *w = user;
  int n = (int)strlen(d->name);
  if (n > *w)
    *w = n;
}

static void print_op_line(const qir_op_def *d, void *user) {
  text_list *t = user;
  fprintf(t->out, "%-*s  %s\n", t->width, d->name,
          d->summary ? d->summary : "");
}

void opt_print_ops(qir_context *ctx, FILE *out) {
  text_list t = {out, 0};
  qir_foreach_op_def(ctx, measure_op_name, &t.width);
  qir_foreach_op_def(ctx, print_op_line, &t);
}
