/* ir/pass/opt-main.c - the qir-opt driver: read the input (whole or split
 * into parts), parse, verify, run the pipeline, print; optionally check the
 * diagnostics against the input's expected-* comments and that the output
 * round-trips. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "ir/pass/equiv.h"
#include "ir/pass/opt.h"
#include "qir/opt.h"

typedef struct opt_state {
  opt_config *cfg;
  qir_context *ctx;
  qir_pipeline *pl;
  qir_pm_options pm;
  qir_print_options popts;
  const char *filename; /* as diagnostics name the input */
  const char *text;     /* the whole input */
  size_t text_len;
  qir_output out;
  FILE *device; /* -o names a device, written directly */
} opt_state;

#define SPLIT_MARKER "// -----"

/* ---- Roundtrip ------------------------------------------------------- */

/* Line number (1-based) of the first difference of a and b; *la, *lb get
 * that line of each. */
static unsigned first_diff_line(const char *a, const char *b, const char **la,
                                const char **lb) {
  unsigned line = 1;
  const char *sa = a, *sb = b;
  while (*a && *a == *b) {
    if (*a == '\n') {
      line++;
      sa = a + 1;
      sb = b + 1;
    }
    a++;
    b++;
  }
  *la = sa;
  *lb = sb;
  return line;
}

static int line_len(const char *s) {
  const char *nl = strchr(s, '\n');
  return (int)(nl ? (size_t)(nl - s) : strlen(s));
}

static bool check_roundtrip(opt_state *st, qir_module *m) {
  qir_print_options ro = st->popts;
  ro.elide_constants = false; /* elided data cannot be read back */
  size_t n1, n2;
  char *s1 = qir_print_module_to_string(m, &ro, &n1);
  qir_module *m2 = qir_parse_buffer(st->ctx, "<roundtrip>", s1, n1, 1);
  if (!m2) {
    qir_emit_error(st->ctx, qir_loc_unknown(),
                   "roundtrip failed: the printed module does not parse");
    free(s1);
    return false;
  }
  char *s2 = qir_print_module_to_string(m2, &ro, &n2);
  bool same = n1 == n2 && memcmp(s1, s2, n1) == 0;
  if (!same) {
    const char *l1, *l2;
    unsigned line = first_diff_line(s1, s2, &l1, &l2);
    qir_emit_error(st->ctx, qir_loc_unknown(), "roundtrip mismatch");
    qir_emit_note(st->ctx, qir_loc_unknown(),
                  "first difference at line %u: printed '%.*s', printed "
                  "again '%.*s'", line, line_len(l1), l1, line_len(l2), l2);
  }
  qir_module_destroy(m2);
  free(s1);
  free(s2);
  return same;
}

/* ---- Equivalence ------------------------------------------------------ */

static bool check_after_pass(qir_pass *p, qir_module *m, void *user) {
  return qir_equiv_check(user, m, p->def->name, true);
}

/* Runs the reference for -check-equivalence / -check-each; NULL when
 * there is no check, *failed when the reference could not run. */
static qir_equiv *start_check(opt_state *st, qir_module *m, bool *failed) {
  opt_config *c = st->cfg;
  *failed = false;
  if (!c->check_inputs && !c->check_each)
    return NULL;
  qir_equiv_options o;
  qir_equiv_options_init(&o);
  if (c->check_inputs)
    o.inputs = c->check_inputs;
  o.seed = (uint64_t)c->check_seed;
  o.min_cosine = c->check_min_cosine;
  o.max_rel_error = c->check_max_rel_error;
  o.report = stderr;
  qir_equiv *e = qir_equiv_create(m, &o);
  *failed = e == NULL;
  if (e && st->pl && c->check_each) {
    st->pl->after_pass = check_after_pass;
    st->pl->after_pass_user = e;
  }
  return e;
}

/* Runs the pipeline, with the equivalence checks that were asked for. */
static bool transform(opt_state *st, qir_module *m) {
  bool failed;
  qir_equiv *e = start_check(st, m, &failed);
  bool ok = !failed;
  if (ok && st->pl)
    ok = qir_pipeline_run(st->pl, m, &st->pm);
  if (ok && e && !(st->cfg->check_each && st->pl))
    ok = qir_equiv_check(e, m, NULL, true);
  if (st->pl) {
    st->pl->after_pass = NULL;
    st->pl->after_pass_user = NULL;
  }
  qir_equiv_destroy(e);
  return ok;
}

/* ---- One module ------------------------------------------------------- */

/* -time-passes: the driver's own rows around the passes'. */
static void report_times(opt_state *st, double parse, double roundtrip,
                         double print) {
  qir_time_row before[] = {{"(parse)", parse}};
  qir_time_row after[] = {{"(roundtrip)", roundtrip}, {"(print)", print}};
  bool rt = st->cfg->verify_roundtrip;
  qir_pipeline_report_times(st->pl, before, 1, after + !rt, 1 + rt, stderr);
}

/* Parses, verifies, transforms and prints one part of the input. */
static bool process_part(opt_state *st, const char *buf, size_t len,
                         unsigned first_line) {
  double t0 = qir_now_seconds();
  qir_module *m =
      qir_parse_buffer(st->ctx, st->filename, buf, len, first_line);
  if (st->cfg->split) /* line numbers of diagnostics are the whole file's */
    qir_diag_register_source(st->ctx, st->filename, st->text, st->text_len);
  if (!m)
    return false;
  bool ok = qir_verify_module(m);
  bool timed = ok && st->cfg->time_passes; /* the pipeline runs */
  double t1 = qir_now_seconds();
  if (ok)
    ok = transform(st, m);
  double t2 = qir_now_seconds();
  if (ok && st->cfg->verify_roundtrip)
    ok = check_roundtrip(st, m);
  double t3 = qir_now_seconds();
  if (ok)
    qir_print_module(st->out.fp, m, &st->popts);
  if (timed)
    report_times(st, t1 - t0, t3 - t2, qir_now_seconds() - t3);
  qir_module_destroy(m);
  return ok;
}

static bool process_checked(opt_state *st, const char *buf, size_t len,
                            unsigned first_line) {
  if (!st->cfg->verify_diags)
    return process_part(st, buf, len, first_line);
  qir_expect_set *s =
      qir_expect_collect(st->ctx, st->filename, buf, len, first_line);
  qir_expect_begin(s);
  process_part(st, buf, len, first_line);
  return qir_expect_finish(s);
}

/* Is the line [p, end) a split marker (`// -----`, trailing blanks ok)? */
static bool is_split_line(const char *p, const char *end) {
  size_t n = strlen(SPLIT_MARKER);
  if ((size_t)(end - p) < n || memcmp(p, SPLIT_MARKER, n) != 0)
    return false;
  for (p += n; p < end; p++)
    if (*p != ' ' && *p != '\t' && *p != '\r')
      return false;
  return true;
}

static bool process_split(opt_state *st) {
  const char *text = st->text, *end = text + st->text_len;
  const char *part = text;
  unsigned line = 1, part_line = 1;
  bool ok = true, first = true;
  for (const char *ls = text; ls <= end; line++) {
    const char *le = memchr(ls, '\n', (size_t)(end - ls));
    if (!le)
      le = end;
    bool marker = is_split_line(ls, le);
    if (marker || le == end) {
      const char *part_end = marker ? ls : end;
      if (!first)
        fputs(SPLIT_MARKER "\n", st->out.fp);
      first = false;
      ok &= process_checked(st, part, (size_t)(part_end - part), part_line);
      part = le + (le < end);
      part_line = line + 1;
      if (marker && le == end) { /* a marker on the last line: empty part */
        fputs(SPLIT_MARKER "\n", st->out.fp);
        ok &= process_checked(st, end, 0, part_line);
      }
    }
    if (le == end)
      break;
    ls = le + 1;
  }
  return ok;
}

/* ---- Set-up ------------------------------------------------------------ */

static void enable_debug(opt_config *c, qir_context *ctx) {
  if (c->debug_all)
    qir_debug_enable(ctx, "all");
  if (!c->debug_only)
    return;
  char *list = qir_xstrdup(c->debug_only);
  for (char *save = NULL, *t = strtok_r(list, ",", &save); t;
       t = strtok_r(NULL, ",", &save))
    qir_debug_enable(ctx, t);
  free(list);
}

static bool load_plugins(opt_config *c, qir_context *ctx) {
  for (unsigned i = 0; i < c->num_plugins; i++)
    if (!qir_load_plugin(ctx, c->plugins[i]))
      return false;
  return true;
}

static void offer_pass_name(const qir_pass_def *d, void *user) {
  qir_close_match_offer(user, d->name);
}

static bool unknown_pass_in_list(qir_context *ctx, const char *name,
                                 const char *flag) {
  qir_close_match m;
  qir_close_match_init(&m, name, strlen(name));
  qir_foreach_pass_def(ctx, offer_pass_name, &m);
  fprintf(stderr, "qir-opt: error: unknown pass '%s' in -%s", name, flag);
  if (m.best)
    fprintf(stderr, "; did you mean '%s'?", m.best);
  fputc('\n', stderr);
  return false;
}

/* Every name of a -print-after/-print-before list must be a pass. */
static bool check_pass_list(qir_context *ctx, const char *list,
                            const char *flag) {
  if (!list)
    return true;
  char *copy = qir_xstrdup(list);
  bool ok = true;
  for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && ok;
       t = strtok_r(NULL, ",", &save))
    if (!qir_lookup_pass(ctx, t))
      ok = unknown_pass_in_list(ctx, t, flag);
  free(copy);
  return ok;
}

/* -print-before-all is -print-before with every pass of the pipeline. */
static char *all_pass_names(const qir_pipeline *pl) {
  size_t n = 1;
  for (unsigned i = 0; i < pl->num_passes; i++)
    n += strlen(pl->passes[i]->def->name) + 1;
  char *s = qir_xcalloc(n, 1);
  for (unsigned i = 0; i < pl->num_passes; i++) {
    if (i)
      strcat(s, ",");
    strcat(s, pl->passes[i]->def->name);
  }
  return s;
}

static void setup_printing(opt_state *st) {
  opt_config *c = st->cfg;
  qir_print_options_init(&st->popts);
  st->popts.elide_constants = c->elide_constants;
  st->popts.print_locs = c->print_debuginfo;
  if (c->inline_limit >= 0)
    st->popts.inline_limit = (size_t)c->inline_limit;
  qir_pm_options_init(&st->pm);
  st->pm.verify_each = c->verify_each;
  st->pm.print_after_all = c->print_after_all;
  st->pm.print_after = c->print_after;
  st->pm.print_before = c->print_before;
  st->pm.time_passes = false; /* reported with the driver's rows */
  st->pm.pass_stats = c->pass_stats;
  st->pm.print_opts = &st->popts;
}

/* Handles the options that print something and exit; -1 when none did. */
static int run_info_options(opt_config *c, qir_context *ctx) {
  if (c->help) {
    opt_print_help(ctx, stdout);
    return 0;
  }
  if (c->version) {
    printf("qir-opt (qir) %s\n", QIR_VERSION_STRING);
    return 0;
  }
  if (c->print_passes) {
    opt_print_passes(ctx, stdout, c->print_passes == 2);
    return 0;
  }
  if (c->print_ops) {
    opt_print_ops(ctx, stdout);
    return 0;
  }
  return -1;
}

static bool prepare_pipeline(opt_state *st) {
  opt_config *c = st->cfg;
  if (!check_pass_list(st->ctx, c->print_after, "print-after") ||
      !check_pass_list(st->ctx, c->print_before, "print-before"))
    return false;
  if (!c->pipeline)
    return true;
  st->pl = qir_pipeline_parse(st->ctx, c->pipeline);
  if (!st->pl)
    return false;
  if (c->dump_pipeline) {
    qir_pipeline_print(st->pl, stderr);
    fputc('\n', stderr);
  }
  if (c->print_before_all) {
    free(c->print_before);
    c->print_before = all_pass_names(st->pl);
    st->pm.print_before = c->print_before;
  }
  return true;
}

/* Regular files are written atomically through qir_output; a device such
 * as /dev/null cannot be replaced by a rename, so it is written directly. */
static bool is_device(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode);
}

static bool open_output(opt_state *st) {
  const char *path = st->cfg->output ? st->cfg->output : "-";
  if (strcmp(path, "-") == 0 || !is_device(path))
    return qir_output_open(st->ctx, &st->out, path, false);
  memset(&st->out, 0, sizeof st->out);
  st->device = fopen(path, "w");
  if (!st->device) {
    qir_emit_error(st->ctx, qir_loc_unknown(), "cannot open '%s': %s", path,
                   strerror(errno));
    return false;
  }
  st->out.fp = st->device;
  return true;
}

/* Commits the output when `ok`, else drops it; false on any failure. */
static bool close_output(opt_state *st, bool ok) {
  if (st->device) {
    bool closed = fclose(st->device) == 0;
    st->device = NULL;
    return ok && closed;
  }
  if (ok)
    return qir_output_commit(st->ctx, &st->out);
  qir_output_abort(&st->out);
  return false;
}

/* Reads the input, processes it into the output; true on success. */
static bool run_input(opt_state *st) {
  opt_config *c = st->cfg;
  const char *in = c->input ? c->input : "-";
  char *text = qir_read_file(st->ctx, in, &st->text_len);
  if (!text)
    return false;
  st->text = text;
  st->filename = strcmp(in, "-") ? in : "<stdin>";
  /* The diagnostics engine keeps the text for carets.  A whole input is
   * handed over rather than copied; the chunks of -split-input-file are
   * registered under the same name in turn, which would free it. */
  if (c->split)
    qir_diag_register_source(st->ctx, st->filename, text, st->text_len);
  else
    qir_diag_adopt_source(st->ctx, st->filename, text, st->text_len);
  bool ok = open_output(st);
  if (ok) {
    ok = c->split ? process_split(st)
                  : process_checked(st, text, st->text_len, 1);
    ok = close_output(st, ok);
  }
  if (c->split)
    free(text);
  return ok;
}

static int run(opt_config *c, qir_context *ctx) {
  enable_debug(c, ctx);
  if (!load_plugins(c, ctx))
    return 1;
  int info = run_info_options(c, ctx);
  if (info >= 0)
    return info;
  opt_state st;
  memset(&st, 0, sizeof st);
  st.cfg = c;
  st.ctx = ctx;
  setup_printing(&st);
  bool ok = prepare_pipeline(&st) && run_input(&st);
  qir_pipeline_destroy(st.pl);
  return ok ? 0 : 1;
}

int qir_opt_main(int argc, char **argv) {
  opt_config c;
  opt_config_init(&c);
  if (!opt_parse_args(&c, argc, argv)) {
    opt_config_free(&c);
    return 1;
  }
  qir_context *ctx = qir_context_create();
  int status = run(&c, ctx);
  qir_context_destroy(ctx);
  opt_config_free(&c);
  fflush(stdout);
  return status;
}
