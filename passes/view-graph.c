/* passes/view-graph.c - draws the module as a graph: one node per op and
 * per function argument, one edge per use, one cluster per function.
 * Writes Graphviz DOT (.dot, .gv), or SVG (.svg) rendered by Graphviz's
 * libgvc when qir was built with it.  Nodes are colored by one of:
 *
 *   placement  NPU or CPU, from the npu.placement attribute that
 *              npu-partition gives each function (a call takes the
 *              placement of its callee);
 *   precision  the element type of the op's first result: int8, int16,
 *              float, other;
 *   cosine     the op's float attribute quant.cosine, or its row of a
 *              precision-analysis JSON report (cosines=FILE): green >=
 *              0.999, yellow >= 0.99, red below (as precision-analysis's
 *              mermaid chart).
 *
 * The module is left unchanged.  docs/Passes.md and docs/ViewGraph.md
 * describe the output. */
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "passes/passes.h"

#ifdef HAVE_GVC
#include <graphviz/gvc.h>
#endif

typedef enum color_by { BY_PLACEMENT, BY_PRECISION, BY_COSINE } color_by;

typedef struct legend_entry {
  const char *name, *color;
} legend_entry;

static const legend_entry placement_legend[] = {
    {"NPU", "#a1d99b"}, {"CPU", "#fdae6b"}, {"unplaced", "#e0e0e0"}};
static const legend_entry precision_legend[] = {{"int8", "#9ecae1"},
                                                {"int16", "#bcbddc"},
                                                {"float", "#fdd0a2"},
                                                {"other", "#e0e0e0"}};
static const legend_entry cosine_legend[] = {{">= 0.999", "#a1d99b"},
                                             {">= 0.99", "#fee391"},
                                             {"< 0.99", "#fc9272"},
                                             {"no cosine", "#e0e0e0"}};

typedef struct grapher {
  qir_context *ctx;
  qir_module *m;
  FILE *out;
  color_by by;
  bool constants;
  json_object *report; /* precision-analysis JSON, or NULL */
  long next_node;
} grapher;

/* ---- What a node shows --------------------------------------------------- */

/* "NPU", "CPU" or NULL for the ops of f. */
static const char *func_placement(const qir_func *f) {
  const qir_attr *a = qir_func_get_attr(f, "npu.placement");
  if (!a || a->kind != QIR_ATTR_STRING)
    return NULL;
  return !strcmp(a->u.str.data, "npu") ? "NPU" : "CPU";
}

static const char *op_placement(const grapher *g, const qir_op *op) {
  if (qir_op_is(op, QIR_OP_CALL)) {
    const qir_attr *c = qir_op_get_attr(op, "callee");
    qir_func *callee = c && c->kind == QIR_ATTR_SYMBOL
                           ? qir_module_lookup(g->m, c->u.symbol)
                           : NULL;
    if (callee && func_placement(callee))
      return func_placement(callee);
  }
  return func_placement(op->block->func);
}

static bool module_has_placement(const qir_module *m) {
  qir_foreach_func(f, m) {
    if (func_placement(f))
      return true;
  }
  return false;
}

/* "int8", "int16", "float" or "other" for a value's element type. */
static const char *precision_of(const qir_type *t) {
  const qir_type *e = qir_type_is_tensor(t) ? t->elem : t;
  if (e->kind == QIR_TYPE_QUANT) {
    if (e->scalar == QIR_I8 || e->scalar == QIR_U8)
      return "int8";
    if (e->scalar == QIR_I16 || e->scalar == QIR_U16)
      return "int16";
    return "other";
  }
  return qir_scalar_is_float(e->scalar) ? "float" : "other";
}

/* The layer of the report whose operator or output names op. */
static json_object *report_row(const grapher *g, const qir_op *op) {
  json_object *layers;
  if (!g->report || !json_object_object_get_ex(g->report, "layers", &layers))
    return NULL;
  const char *name = op->num_results ? op->results[0].name : NULL;
  const char *onnx = qir_op_get_string(op, "onnx.name");
  for (size_t i = 0; i < json_object_array_length(layers); i++) {
    json_object *row = json_object_array_get_idx(layers, i), *s;
    static const char *const keys[] = {"output", "operator"};
    for (unsigned k = 0; k < 2; k++) {
      if (!json_object_object_get_ex(row, keys[k], &s))
        continue;
      const char *v = json_object_get_string(s);
      if (v && *v && ((name && !strcmp(v, name)) || (onnx && !strcmp(v, onnx))))
        return row;
    }
  }
  return NULL;
}

/* The op's cosine, or NAN when nothing gives one. */
static double op_cosine(const grapher *g, const qir_op *op) {
  const qir_attr *a = qir_op_get_attr(op, "quant.cosine");
  if (a && a->kind == QIR_ATTR_FLOAT)
    return a->u.f;
  json_object *row = report_row(g, op), *c;
  if (row && json_object_object_get_ex(row, "cosine", &c))
    return json_object_get_double(c);
  return NAN;
}

static bool module_has_cosine(const grapher *g) {
  qir_foreach_func(f, g->m) {
    qir_foreach_op(op, &f->body) {
      if (!isnan(op_cosine(g, op)))
        return true;
    }
  }
  return false;
}

static const legend_entry *legend_of(color_by by, unsigned *n) {
  switch (by) {
  case BY_PLACEMENT: *n = 3; return placement_legend;
  case BY_PRECISION: *n = 4; return precision_legend;
  default: *n = 4; return cosine_legend;
  }
}

static const char *node_color(const grapher *g, const qir_op *op,
                              const qir_value *v) {
  if (g->by == BY_PRECISION) {
    const char *p = precision_of(v->type);
    for (unsigned i = 0; i < 3; i++)
      if (!strcmp(p, precision_legend[i].name))
        return precision_legend[i].color;
    return precision_legend[3].color;
  }
  if (g->by == BY_PLACEMENT) {
    const char *p = op ? op_placement(g, op) : NULL;
    return p ? placement_legend[!strcmp(p, "CPU")].color
             : placement_legend[2].color;
  }
  double c = op ? op_cosine(g, op) : NAN;
  return isnan(c)      ? cosine_legend[3].color
         : c >= 0.999  ? cosine_legend[0].color
         : c >= 0.99   ? cosine_legend[1].color
                       : cosine_legend[2].color;
}

/* ---- DOT text ------------------------------------------------------------ */

/* Writes s inside a DOT string: quotes and backslashes escaped. */
static void put_escaped(FILE *out, const char *s) {
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fputc('\\', out);
    fputc(*s, out);
  }
}

/* A value as "%name type". */
static void put_value_line(FILE *out, const qir_value *v) {
  if (v->name) {
    fputc('%', out);
    put_escaped(out, v->name);
    fputc(' ', out);
  }
  char ty[256];
  qir_type_format(v->type, ty, sizeof ty);
  put_escaped(out, ty);
}

static void put_op_node(grapher *g, qir_op *op) {
  op->aux = ++g->next_node;
  for (unsigned r = 0; r < op->num_results; r++)
    op->results[r].aux = op->aux;
  fprintf(g->out, "    n%ld [label=\"", (long)op->aux);
  put_escaped(g->out, op->def->name);
  const char *onnx = qir_op_get_string(op, "onnx.name");
  if (onnx) {
    fputs(" (", g->out);
    put_escaped(g->out, onnx);
    fputc(')', g->out);
  }
  for (unsigned r = 0; r < op->num_results; r++) {
    fputs("\\n", g->out);
    put_value_line(g->out, &op->results[r]);
  }
  const char *place = op_placement(g, op);
  const char *prec = op->num_results ? precision_of(op->results[0].type)
                                     : NULL;
  double cos = op_cosine(g, op);
  if (place || prec)
    fprintf(g->out, "\\n%s%s%s", place ? place : "",
            place && prec ? " " : "", prec ? prec : "");
  if (!isnan(cos))
    fprintf(g->out, "\\ncosine %.6f", cos);
  const qir_value *first = op->num_results ? &op->results[0] : NULL;
  fprintf(g->out, "\", fillcolor=\"%s\"];\n",
          first ? node_color(g, op, first) : "#ffffff");
}

static void put_arg_node(grapher *g, qir_value *arg) {
  arg->aux = ++g->next_node;
  fprintf(g->out, "    n%ld [shape=ellipse, label=\"", (long)arg->aux);
  put_value_line(g->out, arg);
  fprintf(g->out, "\", fillcolor=\"%s\"];\n", node_color(g, NULL, arg));
}

static bool hidden(const grapher *g, const qir_op *op) {
  return !g->constants && qir_op_is(op, QIR_OP_CONSTANT);
}

static void put_edges(grapher *g, const qir_op *op) {
  for (unsigned i = 0; i < op->num_operands; i++) {
    const qir_value *v = op->operands[i].value;
    const qir_op *def = qir_value_def(v);
    if (def && hidden(g, def))
      continue;
    fprintf(g->out, "    n%ld -> n%ld;\n", (long)v->aux, (long)op->aux);
  }
}

static void put_func(grapher *g, qir_func *f) {
  fputs("  subgraph \"cluster_", g->out);
  put_escaped(g->out, f->name);
  fputs("\" {\n    label=\"@", g->out);
  put_escaped(g->out, f->name);
  const char *place = func_placement(f);
  if (place)
    fprintf(g->out, " (%s)", place);
  fputs("\";\n", g->out);
  for (unsigned i = 0; i < f->body.num_args; i++)
    put_arg_node(g, f->body.args[i]);
  qir_foreach_op(op, &f->body) {
    op->aux = 0;
    if (!hidden(g, op))
      put_op_node(g, op);
  }
  qir_foreach_op(op, &f->body) {
    if (!hidden(g, op))
      put_edges(g, op);
  }
  fputs("  }\n", g->out);
}

static void put_legend(grapher *g) {
  static const char *const titles[] = {"placement", "precision", "cosine"};
  unsigned n;
  const legend_entry *e = legend_of(g->by, &n);
  fprintf(g->out, "  subgraph cluster_legend {\n    label=\"colored by %s\";\n",
          titles[g->by]);
  for (unsigned i = 0; i < n; i++)
    fprintf(g->out, "    legend%u [label=\"%s\", fillcolor=\"%s\"];\n", i,
            e[i].name, e[i].color);
  fputs("  }\n", g->out);
}

static void put_graph(grapher *g) {
  fputs("digraph \"", g->out);
  put_escaped(g->out, g->m->name ? g->m->name : "module");
  fputs("\" {\n  node [shape=box, style=\"rounded,filled\", "
        "fontname=\"Helvetica\", fontsize=10];\n",
        g->out);
  qir_foreach_func(f, g->m) put_func(g, f);
  put_legend(g);
  fputs("}\n", g->out);
}

/* ---- Options and output ------------------------------------------------ */

static bool fail(qir_context *ctx, const char *fmt, const char *arg) {
  char msg[512];
  snprintf(msg, sizeof msg, fmt, arg);
  qir_emit_error(ctx, qir_loc_unknown(), "view-graph: %s", msg);
  return false;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

static bool choose_colors(grapher *g, const char *color) {
  if (!strcmp(color, "placement"))
    g->by = BY_PLACEMENT;
  else if (!strcmp(color, "precision"))
    g->by = BY_PRECISION;
  else if (!strcmp(color, "cosine"))
    g->by = BY_COSINE;
  else if (!strcmp(color, "auto"))
    g->by = module_has_placement(g->m) ? BY_PLACEMENT
            : module_has_cosine(g)     ? BY_COSINE
                                       : BY_PRECISION;
  else
    return fail(g->ctx, "unknown color '%s' (expected auto, placement, "
                        "precision or cosine)", color);
  return true;
}

static bool read_report(grapher *g, const char *path) {
  if (!*path)
    return true;
  size_t len;
  char *text = qir_read_file(g->ctx, path, &len);
  if (!text)
    return false;
  g->report = json_tokener_parse(text);
  free(text);
  json_object *layers;
  if (g->report && json_object_object_get_ex(g->report, "layers", &layers) &&
      json_object_is_type(layers, json_type_array))
    return true;
  return fail(g->ctx, "'%s' is not a precision-analysis JSON report (no "
                      "\"layers\" array)", path);
}

static bool write_text(qir_context *ctx, const char *path, const char *text,
                       size_t len) {
  qir_output o;
  if (!qir_output_open(ctx, &o, path, false))
    return false;
  fwrite(text, 1, len, o.fp);
  return qir_output_commit(ctx, &o);
}

#ifdef HAVE_GVC
/* Renders `graph` as SVG into `path` through a qir_output. */
static bool render_svg(qir_context *ctx, GVC_t *gvc, Agraph_t *graph,
                       const char *path) {
  qir_output o;
  if (!qir_output_open(ctx, &o, path, true))
    return false;
  if (gvRender(gvc, graph, "svg", o.fp) != 0) {
    qir_output_abort(&o);
    return fail(ctx, "Graphviz could not render '%s'", path);
  }
  return qir_output_commit(ctx, &o);
}

/* Lays the DOT text out with dot and renders it as SVG into `path`. */
static bool write_svg(qir_context *ctx, const char *path, char *dot) {
  GVC_t *gvc = gvContext();
  if (!gvc)
    return fail(ctx, "Graphviz could not start to render '%s'", path);
  Agraph_t *graph = agmemread(dot);
  bool ok = graph && gvLayout(gvc, graph, "dot") == 0;
  if (!ok)
    fail(ctx, "Graphviz could not lay out the graph of '%s'", path);
  else
    ok = render_svg(ctx, gvc, graph, path);
  if (graph) {
    gvFreeLayout(gvc, graph);
    agclose(graph);
  }
  gvFreeContext(gvc);
  return ok;
}
#else
/* Without libgvc an .svg request gives DOT next to it: x.svg -> x.dot. */
static bool write_svg(qir_context *ctx, const char *path, char *dot) {
  size_t n = strlen(path) - 4;
  char *dot_path = qir_xmalloc(n + 5);
  memcpy(dot_path, path, n);
  memcpy(dot_path + n, ".dot", 5);
  qir_emit_warning(ctx, qir_loc_unknown(),
                   "view-graph: qir was built without Graphviz (libgvc), so "
                   "it cannot write SVG; wrote DOT to '%s' instead",
                   dot_path);
  bool ok = write_text(ctx, dot_path, dot, strlen(dot));
  free(dot_path);
  return ok;
}
#endif

bool qir_pass_run_view_graph(qir_pass *pass, void *unit) {
  grapher g = {qir_pass_context(pass), unit, NULL, BY_PRECISION,
               qir_pass_opt_bool(pass, "constants"), NULL, 0};
  const char *path = qir_pass_opt_string(pass, "output");
  bool svg = ends_with(path, ".svg");
  if (!*path)
    return fail(g.ctx, "%s", "no output file given "
                             "(view-graph{output=model.svg})");
  if (!svg && !ends_with(path, ".dot") && !ends_with(path, ".gv"))
    return fail(g.ctx, "cannot tell the format of '%s' (expected a name "
                       "ending in .dot, .gv or .svg)", path);
  bool ok = read_report(&g, qir_pass_opt_string(pass, "cosines")) &&
            choose_colors(&g, qir_pass_opt_string(pass, "color"));
  char *dot = NULL;
  size_t len = 0;
  if (ok) {
    g.out = open_memstream(&dot, &len);
    if (!g.out)
      qir_die("view-graph: open_memstream failed");
    put_graph(&g);
    fclose(g.out);
    ok = svg ? write_svg(g.ctx, path, dot) : write_text(g.ctx, path, dot, len);
  }
  free(dot);
  if (g.report)
    json_object_put(g.report);
  return ok;
}
