/* backends/npu/cost.c - a first cost model of the NPU programs: compute
 * cycles per engine from the work of each instruction and the target's
 * MAC array, DDR traffic from the bytes each instruction reads and
 * writes, the two overlapped per instruction; the estimate of a whole
 * artifact against its compulsory traffic and its roofline, and the text
 * of -print-cost (docs/NPU.md, "Performance reports").
 * The schedule (sched.c) decides which activations live in SRAM: their
 * reads and writes cost no DDR traffic.  Copies between DDR and SRAM run
 * on the DMA engine, alongside the compute engines (the timeline). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/npu/perf.h"

/* Elementwise, pooling and data-movement engines handle this many
 * elements per cycle per core for every 16 MACs of the array (an
 * assumption of the model, documented with it). */
#define VECTOR_RATIO 16

static int64_t fld(const npu_insn *in, const char *f) {
  return in->f[npu_field(in->opcode, f)];
}

static const npu_tensor *tensor(const npu_program *p, const npu_insn *in,
                                const char *f) {
  int64_t i = fld(in, f);
  return i >= 0 && i < p->num_tensors ? &p->tensors[i] : NULL;
}

static double bytes_of(const npu_tensor *t) {
  return t ? (double)npu_tensor_numel(t) * (double)qir_scalar_size(t->dtype) : 0;
}

/* The elements a copy moves: its region, not its whole tensors. */
static double copy_elements(const npu_insn *in) {
  return (double)fld(in, "n0") * (double)fld(in, "n1") * (double)fld(in, "n2") *
         (double)fld(in, "n3");
}

uint64_t npu_insn_moved_bytes(const npu_insn *in, unsigned f, const npu_tensor *t) {
  if (in->opcode == NPU_GPOOL && f == npu_field(NPU_GPOOL, "out") &&
      (fld(in, "part") == 1 || fld(in, "part") == 2))
    return 0; /* (a band pooled into the accumulator: no result yet) */
  if (in->opcode == NPU_COPY)
    return (uint64_t)copy_elements(in) * qir_scalar_size(t->dtype);
  if (in->opcode == NPU_DMA)
    return (uint64_t)fld(in, "bytes");
  return (uint64_t)bytes_of(t);
}

uint64_t npu_insn_side_loads(const npu_program *p, const npu_insn *in) {
  unsigned space;
  uint64_t lo, bytes;
  if (npu_insn_params(p, in, &space, &lo, &bytes)) /* (in SRAM: no DDR) */
    return space == NPU_SPACE_WGT ? bytes : 0;
  switch (in->opcode) {
  case NPU_LUT: /* the whole table */
    return (uint64_t)fld(in, "entries") * 4;
  case NPU_GATHER: /* one source index per output pixel */
    return (uint64_t)(tensor(p, in, "out")->dims[2] * tensor(p, in, "out")->dims[3]) * 4;
  case NPU_SOFTMAX: /* per line, one table row: the row of its largest input */
    return (uint64_t)(fld(in, "outer") * fld(in, "inner") * fld(in, "entries")) * 4;
  default:
    return 0;
  }
}

/* Bytes moved between DDR and the engines: operands read, result written
 * (SRAM-resident tensors cost nothing here).  The reads of the weight
 * space (weights, channel parameters, tables) also go to *wgt. */
static void traffic(const npu_program *p, const npu_insn *in, npu_cost *c,
                    double *wgt) {
  const npu_insn_info *info = npu_insn_info_of(in->opcode);
  for (unsigned i = 0; i < info->num_fields; i++) {
    bool out = npu_field_role(in->opcode, i) == NPU_FIELD_RESULT;
    const npu_tensor *t = npu_field_tensor(p, in, i);
    if (!t || t->space == NPU_SPACE_SRAM)
      continue;
    if (out)
      c->ddr_write_bytes += (double)npu_insn_moved_bytes(in, i, t);
    else
      c->ddr_read_bytes += (double)npu_insn_moved_bytes(in, i, t);
    if (!out && t->space == NPU_SPACE_WGT)
      *wgt += (double)npu_insn_moved_bytes(in, i, t);
  }
  double side = (double)npu_insn_side_loads(p, in);
  c->ddr_read_bytes += side;
  *wgt += side;
}

/* A copy without rescale between DDR or the weight space and SRAM (a
 * tile moving in or out, weights loaded once for a tiled group): the DMA
 * engine's work, as a dma instruction's. */
static bool is_dma(const npu_program *p, const npu_insn *in) {
  if (in->opcode == NPU_DMA)
    return true;
  if (in->opcode != NPU_COPY || fld(in, "rescale"))
    return false;
  const npu_tensor *x = tensor(p, in, "in"), *y = tensor(p, in, "out");
  return x && y && x->space != y->space && y->space != NPU_SPACE_WGT;
}

/* Multiply-accumulates on the MAC array; elements on the vector engines. */
static void work(const npu_program *p, const npu_insn *in, npu_cost *c) {
  const npu_tensor *y = tensor(p, in, in->opcode == NPU_DMA ? "dst" : "out");
  double outs = in->opcode == NPU_COPY ? copy_elements(in)
               : y                       ? (double)npu_tensor_numel(y)
                                         : 0;
  switch (in->opcode) {
  case NPU_CONV: {
    const npu_tensor *w = tensor(p, in, "w");
    c->macs += outs * (double)(w->dims[1] * w->dims[2] * w->dims[3]);
    break;
  }
  case NPU_MATMUL:
    c->macs += outs * (double)fld(in, "k");
    break;
  case NPU_MAXPOOL:
  case NPU_AVGPOOL:
    c->vector_ops += outs * (double)(fld(in, "kh") * fld(in, "kw"));
    break;
  case NPU_GPOOL:
    c->vector_ops += (double)npu_tensor_numel(tensor(p, in, "in"));
    break;
  case NPU_DMA:
    break;
  default:
    if (!is_dma(p, in))
      c->vector_ops += outs;
  }
}

/* The engine of the machine model (docs/NPU.md, "Machine") that runs an
 * instruction. */
static const char *engine_of(const npu_program *p, const npu_insn *in) {
  if (is_dma(p, in))
    return "dma";
  switch (in->opcode) {
  case NPU_CONV:
  case NPU_MATMUL:
    return "mac";
  case NPU_ADD:
  case NPU_MUL:
  case NPU_LUT:
    return "vector";
  case NPU_MAXPOOL:
  case NPU_AVGPOOL:
  case NPU_GPOOL:
    return "pool";
  default:
    return "move";
  }
}

static unsigned cores_of(const qir_target *t, unsigned cores) {
  unsigned n = !cores || cores > t->cores ? t->cores : cores;
  return n > NPU_MAX_CORES ? NPU_MAX_CORES : n;
}

/* DDR bytes per NPU clock cycle at `gbps`. */
static double bytes_per_cycle(const qir_target *t, double gbps) {
  return gbps * 1e9 / (t->clock_mhz * 1e6);
}

/* An instruction runs on one core: its MAC array and vector engines. */
static void insn_cost(const qir_target *t, double ddr_gbps, const npu_program *p,
                      const npu_insn *in, npu_cost *c, double *wgt) {
  memset(c, 0, sizeof *c);
  *wgt = 0;
  work(p, in, c);
  traffic(p, in, c, wgt);
  double macs_per_cycle = (double)t->macs_per_core;
  double lanes = macs_per_cycle / VECTOR_RATIO;
  /* A depthwise conv uses one input channel per output: the array runs
   * it at the vector engines' rate. */
  bool depthwise = in->opcode == NPU_CONV && tensor(p, in, "w")->dims[1] == 1 &&
                   fld(in, "group") > 1;
  c->compute_cycles = depthwise ? c->macs / lanes
                                : c->macs / macs_per_cycle + c->vector_ops / lanes;
  c->ddr_cycles = (c->ddr_read_bytes + c->ddr_write_bytes) /
                  bytes_per_cycle(t, ddr_gbps);
  c->cycles = c->compute_cycles > c->ddr_cycles ? c->compute_cycles : c->ddr_cycles;
}

/* ---- A shared DDR bus (perf.h) -------------------------------------------------- */

/* Appends [lo, hi) to `to` (n intervals), joined to the last where they touch. */
static void bus_append(double (*to)[2], unsigned *n, double lo, double hi) {
  if (*n && to[*n - 1][1] >= lo) {
    to[*n - 1][1] = hi > to[*n - 1][1] ? hi : to[*n - 1][1];
    return;
  }
  to[*n][0] = lo;
  to[(*n)++][1] = hi;
}

double npu_bus_take(npu_bus *b, double start, double cycles) {
  if (cycles <= 0)
    return start;
  /* The free pieces taken: at most one in the gap before each busy
   * interval, and one after the last. */
  double (*take)[2] = qir_xmalloc((b->num + 1) * sizeof *take);
  unsigned n = 0;
  double t = start;
  for (unsigned i = 0; i < b->num && cycles > 0; i++) {
    if (b->busy[i][1] <= t)
      continue;
    if (b->busy[i][0] > t) {
      double len = b->busy[i][0] - t < cycles ? b->busy[i][0] - t : cycles;
      take[n][0] = t;
      take[n++][1] = t + len;
      cycles -= len;
    }
    t = b->busy[i][1];
  }
  if (cycles > 0) {
    take[n][0] = t;
    take[n++][1] = t + cycles;
  }
  double end = take[n - 1][1];
  /* Both lists are in order: merged, joining the intervals that touch. */
  double (*merged)[2] = qir_xmalloc((b->num + n) * sizeof *merged);
  unsigned m = 0, i = 0, j = 0;
  while (i < b->num || j < n) {
    bool old = j == n || (i < b->num && b->busy[i][0] <= take[j][0]);
    double *v = old ? b->busy[i++] : take[j++];
    bus_append(merged, &m, v[0], v[1]);
  }
  free(take);
  free(b->busy);
  b->busy = merged;
  b->num = m;
  return end;
}

void npu_bus_prune(npu_bus *b, double t) {
  unsigned k = 0;
  while (k < b->num && b->busy[k][1] <= t)
    k++;
  if (k) {
    memmove(b->busy, &b->busy[k], (b->num - k) * sizeof *b->busy);
    b->num -= k;
  }
}

void npu_bus_free(npu_bus *b) {
  free(b->busy);
  b->busy = NULL;
  b->num = 0;
}

/* ---- The timeline ---------------------------------------------------------------
 * Each core has two in-order queues: its DMA engine (copies between DDR
 * and SRAM) and its compute engines (the rest, each instruction with its
 * own DDR traffic overlapped as above).  `core` markers send the
 * instructions that follow to a core's queues; a `sync` makes every core
 * wait for all of them.  Within a core, an instruction starts when its
 * queue is free and every earlier instruction of the core's other queue
 * that writes what it reads or reads what it writes has ended (earlier
 * instructions are looked at over a window; those that left it count as
 * dependencies).  Between cores there are no other dependencies: the
 * scheduler emits a sync where there are.  All cores share the DDR bus: a
 * program takes at least its DDR bytes over the bandwidth. */

#define WINDOW 48

typedef struct footprint {
  unsigned space;
  uint64_t lo, hi;
  bool write;
} footprint;

#define MAX_FOOTPRINTS 8 /* memory ranges of one instruction */

typedef struct slot {
  bool dma;
  double end;
  unsigned n;
  footprint f[MAX_FOOTPRINTS];
} slot;

typedef struct core_line {
  double queue_end[2]; /* compute, dma */
  double retired_end;  /* latest end of the instructions out of the window */
  unsigned next, count;
  slot window[WINDOW];
} core_line;

typedef struct timeline {
  unsigned cores, cur; /* cores in use; the core that gets the next insns */
  double end;
  double ddr_cycles;   /* the DDR bus is shared: no faster than its traffic */
  bool shared_bus;     /* traffic on `bus` (the report's second figure) */
  npu_bus bus;
  npu_core_figures fig[NPU_MAX_CORES];
  core_line core[NPU_MAX_CORES];
} timeline;

/* (The windows' slots are read only below each core's count: they are
 * not cleared, which matters when the scheduler estimates many short
 * candidate lists.) */
static void timeline_init(timeline *tl, unsigned cores, bool shared_bus) {
  tl->cores = cores ? cores : 1;
  tl->cur = 0;
  tl->end = tl->ddr_cycles = 0;
  tl->shared_bus = shared_bus;
  tl->bus.num = 0;
  memset(tl->fig, 0, sizeof tl->fig);
  for (unsigned c = 0; c < NPU_MAX_CORES; c++) {
    core_line *l = &tl->core[c];
    l->queue_end[0] = l->queue_end[1] = l->retired_end = 0;
    l->next = l->count = 0;
  }
}

/* The activation memory an instruction reads and writes. */
static unsigned footprint_of(const npu_program *p, const npu_insn *in, footprint *f) {
  const npu_insn_info *info = npu_insn_info_of(in->opcode);
  unsigned n = 0;
  for (unsigned i = 0; i < info->num_fields && n < MAX_FOOTPRINTS; i++) {
    unsigned role = npu_field_role(in->opcode, i);
    bool out = role == NPU_FIELD_RESULT;
    const npu_tensor *t = npu_field_tensor(p, in, i);
    if (!t || t->space == NPU_SPACE_WGT)
      continue;
    f[n++] = (footprint){t->space, t->offset, t->offset + (uint64_t)bytes_of(t), out};
    /* (a copy's whole tensors: its region's rows are not contiguous) */
  }
  unsigned space;
  uint64_t lo, bytes;
  if (n < MAX_FOOTPRINTS && npu_insn_params(p, in, &space, &lo, &bytes) &&
      space == NPU_SPACE_SRAM)
    f[n++] = (footprint){space, lo, lo + bytes, false};
  return n;
}

static bool conflicts(const slot *a, const footprint *f, unsigned n) {
  for (unsigned i = 0; i < a->n; i++)
    for (unsigned j = 0; j < n; j++)
      if ((a->f[i].write || f[j].write) && a->f[i].space == f[j].space &&
          a->f[i].lo < f[j].hi && f[j].lo < a->f[i].hi)
        return true;
  return false;
}

static double max2(double a, double b) { return a > b ? a : b; }

static double core_end(const core_line *l) { return max2(l->queue_end[0], l->queue_end[1]); }

/* A core or sync marker: switches the core that gets the next
 * instructions (a program for more cores than the estimate's runs core c's
 * instructions on core c mod cores), or makes every core wait for the
 * latest end and counts each core's wait.  Returns the cycle the core it
 * leaves current is free from. */
static double timeline_marker(timeline *tl, const npu_insn *in) {
  if (in->opcode == NPU_CORE) {
    tl->cur = (unsigned)in->f[0] % tl->cores;
    return core_end(&tl->core[tl->cur]);
  }
  double at = 0;
  for (unsigned c = 0; c < tl->cores; c++)
    at = max2(at, core_end(&tl->core[c]));
  for (unsigned c = 0; c < tl->cores; c++) {
    core_line *l = &tl->core[c];
    tl->fig[c].sync_wait_cycles += at - core_end(l);
    l->queue_end[0] = l->queue_end[1] = l->retired_end = at;
  }
  tl->cur = 0;
  return at;
}

/* The earliest any later instruction may start: when the first of the
 * queues in use is free. */
static double timeline_floor(const timeline *tl) {
  double t = INFINITY;
  for (unsigned c = 0; c < tl->cores; c++)
    for (unsigned q = 0; q < 2; q++)
      t = tl->core[c].queue_end[q] < t ? tl->core[c].queue_end[q] : t;
  return t;
}

/* Puts an instruction of `cycles` (its compute or its DDR traffic of
 * `ddr_cycles`, the longer) on the current core's timeline; returns its
 * start.  With a shared bus it ends no earlier than its traffic does on
 * the bus. */
static double timeline_add(timeline *tl, const npu_program *p, const npu_insn *in,
                           double cycles, double ddr_cycles, bool dma) {
  core_line *l = &tl->core[tl->cur];
  npu_core_figures *fig = &tl->fig[tl->cur];
  tl->ddr_cycles += ddr_cycles;
  slot cur = {dma, 0, 0, {{0}}};
  cur.n = footprint_of(p, in, cur.f);
  double start = max2(l->queue_end[dma], l->retired_end);
  for (unsigned i = 0; i < l->count; i++) {
    const slot *o = &l->window[i];
    if (o->dma != dma && o->end > start && conflicts(o, cur.f, cur.n))
      start = o->end;
  }
  cur.end = start + cycles;
  if (tl->shared_bus)
    cur.end = max2(cur.end, npu_bus_take(&tl->bus, start, ddr_cycles));
  l->queue_end[dma] = cur.end;
  if (l->count == WINDOW)
    l->retired_end = max2(l->retired_end, l->window[l->next].end);
  else
    l->count++;
  l->window[l->next] = cur;
  l->next = (l->next + 1) % WINDOW;
  tl->end = max2(tl->end, cur.end);
  if (tl->shared_bus)
    npu_bus_prune(&tl->bus, timeline_floor(tl));
  fig->insns++;
  fig->busy_cycles[dma] += cycles;
  return start;
}

static double timeline_end(const timeline *tl) { return max2(tl->end, tl->ddr_cycles); }

/* The cycles of instructions insns[0..n) of p on `cores` cores at `gbps`
 * (with a shared bus or not). */
static double timeline_cycles(const qir_target *t, unsigned cores, double gbps, bool shared_bus,
                              const npu_program *p, const npu_insn *insns, unsigned n) {
  timeline *tl = qir_xmalloc(sizeof *tl);
  tl->bus.busy = NULL;
  timeline_init(tl, cores, shared_bus);
  for (unsigned i = 0; i < n; i++) {
    if (npu_insn_is_marker(&insns[i])) {
      timeline_marker(tl, &insns[i]);
      continue;
    }
    npu_cost c;
    double wgt;
    insn_cost(t, gbps, p, &insns[i], &c, &wgt);
    timeline_add(tl, p, &insns[i], c.cycles, c.ddr_cycles, is_dma(p, &insns[i]));
  }
  double end = timeline_end(tl);
  npu_bus_free(&tl->bus);
  free(tl);
  return end;
}

double npu_insns_cycles(const qir_target *t, unsigned cores, const npu_program *p,
                        const npu_insn *insns, unsigned n) {
  return timeline_cycles(t, cores_of(t, cores), t->ddr_gbps, false, p, insns, n);
}

void npu_insn_cost(const qir_target *t, const npu_program *p, const npu_insn *in,
                   npu_cost *c) {
  double wgt;
  insn_cost(t, t->ddr_gbps, p, in, c, &wgt);
}

void npu_cost_add(npu_cost *sum, const npu_cost *c) {
  sum->macs += c->macs;
  sum->vector_ops += c->vector_ops;
  sum->compute_cycles += c->compute_cycles;
  sum->ddr_read_bytes += c->ddr_read_bytes;
  sum->ddr_write_bytes += c->ddr_write_bytes;
  sum->ddr_cycles += c->ddr_cycles;
  sum->cycles += c->cycles;
}

/* ---- The estimate of an artifact ------------------------------------------------ */

void npu_perf_options_init(npu_perf_options *o) { memset(o, 0, sizeof *o); }

/* Weights, and the inputs and outputs of the NPU programs, once: the
 * least DDR traffic a frame can have. */
static void compulsory_bytes(const qir_artifact *a, npu_perf *perf) {
  perf->weight_bytes = (double)a->weights_size;
  for (unsigned i = 0; i < a->num_programs; i++) {
    const npu_program *p = &a->programs[i];
    for (unsigned k = 0; k < p->num_inputs; k++)
      perf->input_bytes += bytes_of(&p->tensors[p->inputs[k]]);
    for (unsigned k = 0; k < p->num_outputs; k++)
      perf->output_bytes += bytes_of(&p->tensors[p->outputs[k]]);
  }
  perf->compulsory_bytes = perf->weight_bytes + perf->input_bytes + perf->output_bytes;
}

/* One row per instruction (the core and sync markers cost nothing),
 * programs in order, each starting when the previous one ends. */
static void cost_layers(const qir_artifact *a, npu_perf *perf) {
  size_t n = 0;
  for (unsigned i = 0; i < a->num_programs; i++)
    n += a->programs[i].num_insns;
  perf->layers = qir_xcalloc(n + 1, sizeof *perf->layers);
  double bpc = bytes_per_cycle(perf->target, perf->ddr_gbps), clock = 0, engine = 0;
  timeline *tl = qir_xcalloc(1, sizeof *tl);
  for (unsigned i = 0; i < a->num_programs; i++) {
    const npu_program *p = &a->programs[i];
    timeline_init(tl, perf->cores, false);
    for (unsigned k = 0; k < p->num_insns; k++) {
      const npu_insn *in = &p->insns[k];
      npu_perf_layer *l = &perf->layers[perf->num_layers++];
      l->program = p->name;
      l->name = in->comment ? in->comment : p->name;
      l->insn = npu_insn_info_of(in->opcode)->mnemonic;
      if (npu_insn_is_marker(in)) {
        perf->syncs += in->opcode == NPU_SYNC;
        l->start_cycle = clock + timeline_marker(tl, in);
        l->engine = "sync";
        l->core = tl->cur;
        continue;
      }
      insn_cost(perf->target, perf->ddr_gbps, p, in, &l->cost, &l->weight_load_bytes);
      perf->weight_load_bytes += l->weight_load_bytes;
      l->engine = engine_of(p, in);
      l->core = tl->cur;
      l->load_cycles = l->cost.ddr_read_bytes / bpc;
      l->store_cycles = l->cost.ddr_write_bytes / bpc;
      l->start_cycle = clock + timeline_add(tl, p, in, l->cost.cycles, l->cost.ddr_cycles,
                                            is_dma(p, in));
      npu_cost_add(&perf->total, &l->cost);
      engine += is_dma(p, in) ? 0 : l->cost.compute_cycles;
    }
    /* A program ends when all its cores have: what is left of that wait
     * counts as each core's wait too. */
    double end = timeline_end(tl);
    for (unsigned c = 0; c < tl->cores; c++) {
      npu_core_figures *f = &perf->core[c], *g = &tl->fig[c];
      const core_line *cl = &tl->core[c];
      f->insns += g->insns;
      f->busy_cycles[0] += g->busy_cycles[0];
      f->busy_cycles[1] += g->busy_cycles[1];
      f->sync_wait_cycles += g->sync_wait_cycles + end - core_end(cl);
      if (g->insns && c + 1 > perf->cores_used)
        perf->cores_used = c + 1;
    }
    clock += end;
  }
  /* The frame's cycles: the programs' timelines one after the other. */
  perf->total.cycles = clock;
  /* The same programs with the bus shared (each timeline again). */
  double shared = 0;
  for (unsigned i = 0; i < a->num_programs; i++) {
    const npu_program *p = &a->programs[i];
    shared += timeline_cycles(perf->target, perf->cores, perf->ddr_gbps, true, p, p->insns,
                              p->num_insns);
  }
  perf->shared_bus_us = shared / perf->clock_mhz;
  perf->engine_compute_us = engine / perf->cores / perf->clock_mhz;
  free(tl);
}

static double ratio(double x, double y) { return y > 0 ? x / y : 0; }

static void summarize(npu_perf *perf) {
  const npu_cost *s = &perf->total;
  double ddr_bytes = s->ddr_read_bytes + s->ddr_write_bytes;
  perf->latency_us = s->cycles / perf->clock_mhz;
  perf->fps = ratio(1e6, perf->latency_us);
  perf->compute_bound_us = 1e6 * ratio(s->macs, perf->peak_macs);
  perf->memory_bound_us = 1e6 * ratio(perf->compulsory_bytes, perf->ddr_gbps * 1e9);
  perf->roofline_us = perf->compute_bound_us > perf->memory_bound_us
                          ? perf->compute_bound_us
                          : perf->memory_bound_us;
  perf->engine_bound_us = perf->engine_compute_us > perf->memory_bound_us
                              ? perf->engine_compute_us
                              : perf->memory_bound_us;
  perf->mac_utilization = ratio(s->macs, perf->peak_macs * perf->latency_us / 1e6);
  perf->ddr_utilization = ratio(ddr_bytes, perf->ddr_gbps * 1e3 * perf->latency_us);
}

bool npu_perf_compute(const qir_artifact *a, const npu_perf_options *o,
                      npu_perf *perf) {
  memset(perf, 0, sizeof *perf);
  const qir_target *t = qir_target_lookup(a->target);
  if (!t)
    return false;
  perf->target = t;
  perf->cores = cores_of(t, a->npu_cores);
  perf->clock_mhz = t->clock_mhz;
  perf->target_ddr_gbps = t->ddr_gbps;
  perf->ddr_gbps = o && o->ddr_gbps_limit > 0 && o->ddr_gbps_limit < t->ddr_gbps
                       ? o->ddr_gbps_limit
                       : t->ddr_gbps;
  perf->peak_macs = qir_target_peak_macs(t, perf->cores);
  perf->cores_used = 1;
  for (unsigned i = 0; i < a->num_steps; i++) {
    perf->cpu_steps += a->steps[i].kind == NPU_STEP_CPU;
    perf->npu_steps += a->steps[i].kind == NPU_STEP_NPU;
  }
  compulsory_bytes(a, perf);
  cost_layers(a, perf);
  summarize(perf);
  return true;
}

void npu_perf_free(npu_perf *perf) {
  free(perf->layers);
  perf->layers = NULL;
  perf->num_layers = 0;
}

const char *npu_perf_layer_bound(const npu_perf_layer *l) {
  return l->cost.compute_cycles >= l->cost.ddr_cycles ? "compute" : "ddr";
}

const char *npu_perf_roofline_bound(const npu_perf *perf) {
  return perf->compute_bound_us >= perf->memory_bound_us ? "compute" : "ddr";
}

/* ---- Text (-print-cost) ------------------------------------------------------------
 * The first columns and the `total:` line keep their original layout:
 * qir-build reads the totals back from it. */

static void print_row(FILE *out, const npu_perf_layer *l, double mhz) {
  const npu_cost *c = &l->cost;
  fprintf(out, "  %-28s %-8s %12.0f %10.0f %10.0f %10.0f %10.3f %-7s %-6s %10.0f %10.0f %10.0f %4u %12.0f\n",
          l->name, l->insn, c->macs, c->ddr_read_bytes, c->ddr_write_bytes,
          c->cycles, c->cycles / mhz, npu_perf_layer_bound(l), l->engine,
          c->compute_cycles, l->load_cycles, l->store_cycles, l->core, l->start_cycle);
}

/* One line per core of the estimate: its instructions, the time its
 * engines were busy and the time it waited for the others. */
static void print_cores(const npu_perf *perf, FILE *out) {
  fprintf(out, "cores: %u of %u ran instructions; %u sync(s)\n", perf->cores_used,
          perf->cores, perf->syncs);
  for (unsigned c = 0; c < perf->cores; c++) {
    const npu_core_figures *f = &perf->core[c];
    fprintf(out, "core %u: %u instructions, compute %.2f us, dma %.2f us, waiting %.2f us\n",
            c, f->insns, f->busy_cycles[0] / perf->clock_mhz,
            f->busy_cycles[1] / perf->clock_mhz, f->sync_wait_cycles / perf->clock_mhz);
  }
}

void npu_perf_print_text(const npu_perf *perf, FILE *out) {
  const npu_cost *s = &perf->total;
  double total_bytes = s->ddr_read_bytes + s->ddr_write_bytes;
  fprintf(out, "cost on %s, %u of %u cores, %.0f MHz (estimate; NPU steps only)\n",
          perf->target->name, perf->cores, perf->target->cores, perf->clock_mhz);
  fprintf(out, "  %-28s %-8s %12s %10s %10s %10s %10s %-7s %-6s %10s %10s %10s %4s %12s\n",
          "layer", "insn", "MACs", "DDR read", "DDR write", "cycles", "us", "bound",
          "engine", "compute", "load", "store", "core", "start");
  for (unsigned i = 0; i < perf->num_layers; i++)
    print_row(out, &perf->layers[i], perf->clock_mhz);
  fprintf(out, "total: %.0f MACs, %.2f us, %.0f FPS, DDR %.0f bytes per frame "
               "(%.0f read, %.0f written; compulsory %.0f, %.2fx)\n",
          s->macs, perf->latency_us, perf->fps, total_bytes, s->ddr_read_bytes,
          s->ddr_write_bytes, perf->compulsory_bytes,
          ratio(total_bytes, perf->compulsory_bytes));
  fprintf(out, "roofline bound %.2f us (%.2fx); MAC utilization %.1f%%; %u CPU step(s) not included\n",
          perf->roofline_us, ratio(perf->latency_us, perf->roofline_us),
          100.0 * perf->mac_utilization, perf->cpu_steps);
  fprintf(out, "compulsory: %.0f weight, %.0f input, %.0f output bytes; "
               "DDR %.1f GB/s (target %.1f), utilization %.1f%%\n",
          perf->weight_bytes, perf->input_bytes, perf->output_bytes,
          perf->ddr_gbps, perf->target_ddr_gbps, 100.0 * perf->ddr_utilization);
  fprintf(out, "roofline: compute %.2f us (%.0f MACs at %.4g MAC/s), DDR %.2f us "
               "(compulsory bytes); bound by %s\n",
          perf->compute_bound_us, s->macs, perf->peak_macs, perf->memory_bound_us,
          npu_perf_roofline_bound(perf));
  fprintf(out, "engine bound %.2f us (%.2fx): compute %.2f us (the instructions at their "
               "engines' rates over %u core(s)), DDR %.2f us\n",
          perf->engine_bound_us, ratio(perf->latency_us, perf->engine_bound_us),
          perf->engine_compute_us, perf->cores, perf->memory_bound_us);
  fprintf(out, "shared DDR bus %.2f us (%.2fx): one transfer at a time in program order, "
          "where the estimate gives each the full bandwidth\n", perf->shared_bus_us,
          ratio(perf->shared_bus_us, perf->latency_us));
  if (perf->cores > 1)
    print_cores(perf, out);
}

void qir_artifact_print_cost(const qir_artifact *a, FILE *out) {
  npu_perf perf;
  if (!npu_perf_compute(a, NULL, &perf))
    return;
  npu_perf_print_text(&perf, out);
  npu_perf_free(&perf);
}
