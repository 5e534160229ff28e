/* backends/npu/emu.c - runs an artifact: the NPU programs on the emulated
 * machine (the integer engines in exec.c, the float unit here), the CPU
 * functions with the reference interpreter, in the order of the
 * artifact's steps. */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "backends/npu/perf.h"
#include "backends/npu/run.h"
#include "qir/io.h"

typedef struct emu_counters emu_counters;
static emu_counters *counters_create(const qir_artifact *a);
static void counters_reset(emu_counters *c, const qir_artifact *a);
static void counters_free(emu_counters *c);

struct qir_emu {
  qir_context *ctx;
  const qir_artifact *a;
  qir_tensor *values;
  qir_module *cpu;
  qir_interp **interps;  /* per step, CPU steps only */
  uint8_t **ddr;         /* per program */
  uint8_t *sram;
  emu_counters *counters;
  /* Batches: an emulator per batch variant, and with several frames the
   * batched inputs and outputs and the counters of the pieces. */
  unsigned num_variants;
  qir_emu **variants;
  unsigned *variant_batch;
  unsigned frames;
  const qir_type **in_types, **out_types;
  qir_tensor *batch_in, *batch_out;
  unsigned num_rows;
  qir_emu_step_stats *rows;
  qir_emu_stats batch_total;
};

static bool emu_error(qir_emu *e, const char *msg, const char *arg) {
  qir_emit_error(e->ctx, qir_loc_unknown(), "emulator: %s%s%s%s", msg,
                 arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
  return false;
}

static bool alloc_values(qir_emu *e) {
  const qir_artifact *a = e->a;
  e->values = qir_xcalloc(a->num_values + 1, sizeof *e->values);
  for (unsigned i = 0; i < a->num_values; i++) {
    qir_tensor_init_from_type(&e->values[i], a->values[i].type);
    if (!qir_tensor_alloc(&e->values[i]))
      return emu_error(e, "cannot allocate the tensor", a->values[i].name);
  }
  return true;
}

static bool types_match(qir_emu *e, const npu_step *s, qir_func *f) {
  if (f->body.num_args != s->num_in || f->num_results != s->num_out)
    return false;
  for (unsigned i = 0; i < s->num_in; i++)
    if (f->body.args[i]->type != e->a->values[s->in[i]].type)
      return false;
  for (unsigned i = 0; i < s->num_out; i++)
    if (f->result_types[i] != e->a->values[s->out[i]].type)
      return false;
  return true;
}

static bool prepare_cpu(qir_emu *e) {
  const qir_artifact *a = e->a;
  e->interps = qir_xcalloc(a->num_steps + 1, sizeof *e->interps);
  for (unsigned i = 0; i < a->num_steps; i++) {
    const npu_step *s = &a->steps[i];
    if (s->kind != NPU_STEP_CPU)
      continue;
    if (!e->cpu) {
      e->cpu = qir_parse_buffer(e->ctx, "<artifact cpu functions>", a->cpu_text,
                                a->cpu_text_len, 1);
      if (!e->cpu || !qir_verify_module(e->cpu))
        return emu_error(e, "the CPU functions do not parse", NULL);
    }
    qir_func *f = qir_module_lookup(e->cpu, s->func);
    if (!f || !types_match(e, s, f))
      return emu_error(e, "missing or mistyped CPU function", s->func);
    /* One thread each: an artifact may hold thousands of CPU steps, and a
     * pool of worker threads per step would exhaust the system's threads. */
    qir_interp_options o;
    qir_interp_options_init(&o);
    o.threads = 1;
    if (!(e->interps[i] = qir_interp_create(f, &o)))
      return false;
  }
  return true;
}

static bool prepare_npu(qir_emu *e) {
  const qir_artifact *a = e->a;
  uint64_t sram = 0;
  e->ddr = qir_xcalloc(a->num_programs + 1, sizeof *e->ddr);
  for (unsigned i = 0; i < a->num_programs; i++) {
    e->ddr[i] = calloc(a->programs[i].ddr_size + 1, 1);
    if (!e->ddr[i])
      return emu_error(e, "out of memory for the DDR of program", a->programs[i].name);
    if (a->programs[i].sram_size > sram)
      sram = a->programs[i].sram_size;
  }
  if (!(e->sram = calloc(sram + 1, 1)))
    return emu_error(e, "out of memory for the SRAM", NULL);
  return true;
}

/* The batch sizes of the variants; their emulators come when they first
 * run (slot_emu): a large batch's memories are not taken for nothing. */
static bool prepare_variants(qir_emu *e) {
  e->num_variants = npu_artifact_num_variants(e->a);
  e->variants = qir_xcalloc(e->num_variants + 1, sizeof *e->variants);
  e->variant_batch = qir_xcalloc(e->num_variants + 1, sizeof *e->variant_batch);
  for (unsigned i = 0; i < e->num_variants; i++)
    npu_artifact_variant(e->a, i, &e->variant_batch[i]);
  return true;
}

static void free_batch_io(qir_emu *e) {
  for (unsigned i = 0; e->batch_in && i < e->a->num_inputs; i++)
    qir_tensor_free_data(&e->batch_in[i]);
  for (unsigned i = 0; e->batch_out && i < e->a->num_outputs; i++)
    qir_tensor_free_data(&e->batch_out[i]);
  free(e->batch_in);
  free(e->batch_out);
  free(e->in_types);
  free(e->out_types);
  e->batch_in = e->batch_out = NULL;
  e->in_types = e->out_types = NULL;
}

qir_emu *qir_emu_create(qir_context *ctx, const qir_artifact *a) {
  qir_emu *e = qir_xcalloc(1, sizeof *e);
  e->ctx = ctx;
  e->a = a;
  e->counters = counters_create(a);
  counters_reset(e->counters, a);
  e->frames = 1;
  if (!alloc_values(e) || !prepare_npu(e) || !prepare_cpu(e) || !prepare_variants(e)) {
    qir_emu_destroy(e);
    return NULL;
  }
  return e;
}

void qir_emu_destroy(qir_emu *e) {
  if (!e)
    return;
  const qir_artifact *a = e->a;
  for (unsigned i = 0; e->values && i < a->num_values; i++)
    qir_tensor_free_data(&e->values[i]);
  for (unsigned i = 0; e->interps && i < a->num_steps; i++)
    qir_interp_destroy(e->interps[i]);
  for (unsigned i = 0; e->ddr && i < a->num_programs; i++)
    free(e->ddr[i]);
  if (e->cpu)
    qir_module_destroy(e->cpu);
  free(e->values);
  free(e->interps);
  free(e->ddr);
  free(e->sram);
  counters_free(e->counters);
  for (unsigned i = 0; i < e->num_variants; i++)
    qir_emu_destroy(e->variants[i]);
  free(e->variants);
  free(e->variant_batch);
  free_batch_io(e);
  free(e->rows);
  free(e);
}

unsigned qir_emu_num_inputs(const qir_emu *e) { return e->a->num_inputs; }
unsigned qir_emu_num_outputs(const qir_emu *e) { return e->a->num_outputs; }

const char *qir_emu_input_name(const qir_emu *e, unsigned i) {
  return i < e->a->num_inputs ? e->a->values[e->a->inputs[i]].name : NULL;
}

const char *qir_emu_output_name(const qir_emu *e, unsigned i) {
  return i < e->a->num_outputs ? e->a->values[e->a->outputs[i]].name : NULL;
}

const qir_type *qir_emu_input_type(const qir_emu *e, unsigned i) {
  if (i >= e->a->num_inputs)
    return NULL;
  return e->frames > 1 ? e->in_types[i] : e->a->values[e->a->inputs[i]].type;
}

bool qir_emu_set_input(qir_emu *e, unsigned i, const qir_tensor *t) {
  if (i >= e->a->num_inputs)
    return emu_error(e, "no such input", NULL);
  qir_tensor *v = e->frames > 1 ? &e->batch_in[i] : &e->values[e->a->inputs[i]];
  if (!qir_tensor_matches_type(t, qir_emu_input_type(e, i)) ||
      t->nbytes != v->nbytes)
    return emu_error(e, "wrong type or shape for input", qir_emu_input_name(e, i));
  memcpy(v->data, t->data, v->nbytes);
  return true;
}

/* ---- The float unit: resize (linear) and softmax ------------------------------
 * Both read quantized integers and write quantized integers; in between
 * they compute in f32 exactly as the reference's float round trip does
 * (docs/NPU.md), so the results equal the interpreter's bit for bit. */

static int64_t ifld(const npu_insn *in, const char *f) {
  return in->f[npu_field(in->opcode, f)];
}

static double dfld(const npu_insn *in, const char *f) {
  double d;
  int64_t v = ifld(in, f);
  memcpy(&d, &v, sizeof d);
  return d;
}

static const npu_tensor *tfld(const npu_program *p, const npu_insn *in,
                              const char *f) {
  return &p->tensors[ifld(in, f)];
}

static uint8_t *tbase(uint8_t *const mem[NPU_NUM_SPACES], const npu_tensor *t) {
  return mem[t->space] + t->offset;
}

/* Bilinear interpolation of the dequantized planes with the reference's
 * f32 kernel (qir_resize2d_f32: taps, weights and summation order). */
static void exec_resize(const npu_program *p, const npu_insn *in,
                        uint8_t *const mem[NPU_NUM_SPACES]) {
  const npu_tensor *x = tfld(p, in, "in"), *y = tfld(p, in, "out");
  const uint8_t *xb = tbase(mem, x);
  uint8_t *yb = tbase(mem, y);
  qir_resize_params rp;
  memset(&rp, 0, sizeof rp);
  rp.nc = x->dims[0] * x->dims[1];
  rp.h = x->dims[2];
  rp.w = x->dims[3];
  rp.oh = y->dims[2];
  rp.ow = y->dims[3];
  rp.mode = (int)ifld(in, "mode");
  rp.coord = (int)ifld(in, "coord");
  rp.scale_h = dfld(in, "scale_h");
  rp.scale_w = dfld(in, "scale_w");
  int64_t nx = npu_tensor_numel(x), ny = npu_tensor_numel(y);
  double sx = dfld(in, "sx"), sy = dfld(in, "sy");
  int64_t zx = ifld(in, "zx"), zy = ifld(in, "zy"), lo = ifld(in, "lo"), hi = ifld(in, "hi");
  float *xf = qir_xmalloc((size_t)(nx + 1) * sizeof *xf);
  float *yf = qir_xmalloc((size_t)(ny + 1) * sizeof *yf);
  for (int64_t i = 0; i < nx; i++)
    xf[i] = (float)qir_dequantize_f64(qir_load_int(x->dtype, xb, i), sx, zx);
  qir_resize2d_f32(NULL, &rp, xf, yf);
  for (int64_t i = 0; i < ny; i++)
    qir_store_int(y->dtype, yb, i, qir_quantize_f64(yf[i], sy, zy, lo, hi));
  free(xf);
  free(yf);
}

/* Softmax along the `len` axis of each (outer, inner) line: the table row
 * of the line's largest input gives exp(x_j - max) for every x_j (f32
 * entries), summed in double in axis order; y_j = (float)(e_j / sum),
 * quantized. */
static void exec_softmax(const npu_program *p, const npu_insn *in,
                         uint8_t *const mem[NPU_NUM_SPACES]) {
  const npu_tensor *x = tfld(p, in, "in"), *y = tfld(p, in, "out");
  const uint8_t *xb = tbase(mem, x), *table = mem[NPU_SPACE_WGT] + ifld(in, "table");
  uint8_t *yb = tbase(mem, y);
  int64_t outer = ifld(in, "outer"), len = ifld(in, "len"), inner = ifld(in, "inner");
  int64_t min = ifld(in, "in_min"), n = ifld(in, "entries");
  int64_t zy = ifld(in, "zy"), lo = ifld(in, "lo"), hi = ifld(in, "hi");
  double sy = dfld(in, "sy");
  float *e = qir_xmalloc((size_t)(len + 1) * sizeof *e);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t base = o * len * inner + i, mx = INT64_MIN;
      for (int64_t j = 0; j < len; j++) {
        int64_t v = qir_load_int(x->dtype, xb, base + j * inner);
        mx = v > mx ? v : mx;
      }
      const uint8_t *row = table + (mx - min) * n * 4;
      double s = 0;
      for (int64_t j = 0; j < len; j++) {
        memcpy(&e[j], row + (qir_load_int(x->dtype, xb, base + j * inner) - min) * 4, 4);
        s += e[j];
      }
      for (int64_t j = 0; j < len; j++)
        qir_store_int(y->dtype, yb, base + j * inner,
                      qir_quantize_f64((float)(e[j] / s), sy, zy, lo, hi));
    }
  free(e);
}

/* ---- Counters (docs/NPU.md, "Emulator counters") -----------------------------------
 * Each executed instruction adds the DDR bytes it moves and takes its
 * place on its core's two in-order queues, the DMA engine and the compute
 * engines: it starts when its queue is free and every instruction of any
 * other queue that writes what it reads or reads what it writes has
 * ended. */

typedef struct emu_slot {
  double end;
  unsigned n;
  npu_mem_range r[NPU_MAX_RANGES];
} emu_slot;

typedef struct emu_queue {
  double end;
  unsigned num, cap;
  emu_slot *pending; /* its instructions the other queue may still wait for */
} emu_queue;

struct emu_counters {
  npu_perf perf;             /* the estimate: compute cycles and engines */
  bool have_perf;
  unsigned *first_layer;     /* per program: its first row in perf.layers */
  double bytes_per_cycle;    /* DDR bytes per NPU cycle */
  unsigned *step_slot;       /* per artifact step: its row in steps */
  qir_emu_step_stats *steps; /* per NPU step */
  qir_emu_stats total;
  unsigned cores, cur;       /* cores of the estimate; the current one */
  emu_queue q[2 * NPU_MAX_CORES]; /* per core: compute, DMA */
  double ddr_cycles;         /* of the program running */
};

typedef struct emu_traffic {
  uint64_t load, wgt, store;
} emu_traffic;

static emu_traffic insn_traffic(const npu_program *p, const npu_insn *in) {
  emu_traffic t = {0, 0, 0};
  for (unsigned i = 0; i < npu_insn_info_of(in->opcode)->num_fields; i++) {
    const npu_tensor *x = npu_field_tensor(p, in, i);
    if (!x || x->space == NPU_SPACE_SRAM)
      continue;
    uint64_t b = npu_insn_moved_bytes(in, i, x);
    if (npu_field_role(in->opcode, i) == NPU_FIELD_RESULT)
      t.store += b;
    else
      t.load += b;
    if (x->space == NPU_SPACE_WGT)
      t.wgt += b;
  }
  uint64_t side = npu_insn_side_loads(p, in);
  t.load += side;
  t.wgt += side;
  return t;
}

static bool slots_conflict(const emu_slot *a, const emu_slot *b) {
  for (unsigned i = 0; i < a->n; i++)
    for (unsigned j = 0; j < b->n; j++)
      if (npu_mem_ranges_conflict(&a->r[i], &b->r[j]))
        return true;
  return false;
}

/* Drops the slots of q that end by `t`: nothing starting at t or later
 * waits for them. */
static void queue_prune(emu_queue *q, double t) {
  unsigned k = 0;
  for (unsigned i = 0; i < q->num; i++)
    if (q->pending[i].end > t)
      q->pending[k++] = q->pending[i];
  q->num = k;
}

static double max2(double a, double b) { return a > b ? a : b; }

/* The queues in use: compute and DMA of each core. */
static unsigned num_queues(const emu_counters *c) { return 2 * c->cores; }

/* Drops every slot no queue can wait for any more: those that end by the
 * time every other queue is free. */
static void prune_all(emu_counters *c) {
  for (unsigned i = 0; i < num_queues(c); i++) {
    double t = -1;
    for (unsigned k = 0; k < num_queues(c); k++)
      if (k != i)
        t = t < 0 || c->q[k].end < t ? c->q[k].end : t;
    queue_prune(&c->q[i], t < 0 ? c->q[i].end : t);
  }
}

/* Puts `cur` (cycles long) on the DMA or compute queue of the current
 * core, after every conflicting instruction of the other queues (of this
 * core and of the others: exact, where the estimate trusts the syncs). */
static void queue_place(emu_counters *c, bool dma, emu_slot *cur, double cycles) {
  unsigned me = 2 * c->cur + dma;
  emu_queue *mine = &c->q[me];
  double start = mine->end;
  for (unsigned k = 0; k < num_queues(c); k++)
    for (unsigned i = 0; k != me && i < c->q[k].num; i++)
      if (c->q[k].pending[i].end > start && slots_conflict(&c->q[k].pending[i], cur))
        start = c->q[k].pending[i].end;
  cur->end = mine->end = start + cycles;
  if (mine->num == mine->cap) {
    mine->cap = mine->cap ? 2 * mine->cap : 16;
    mine->pending = qir_xrealloc(mine->pending, mine->cap * sizeof *mine->pending);
  }
  mine->pending[mine->num++] = *cur;
  prune_all(c);
}

/* A `core` marker sends the next instructions to core id mod the cores of
 * the estimate; a `sync` makes every queue wait for the latest. */
static void queue_marker(emu_counters *c, const npu_insn *in) {
  if (in->opcode == NPU_CORE) {
    c->cur = (unsigned)(in->f[0] % c->cores);
    return;
  }
  double at = 0;
  for (unsigned k = 0; k < num_queues(c); k++)
    at = max2(at, c->q[k].end);
  for (unsigned k = 0; k < num_queues(c); k++) {
    c->q[k].end = at;
    c->q[k].num = 0;
  }
  c->cur = 0;
}

static void counters_free(emu_counters *c) {
  if (!c)
    return;
  if (c->have_perf)
    npu_perf_free(&c->perf);
  free(c->first_layer);
  free(c->step_slot);
  free(c->steps);
  for (unsigned k = 0; k < 2 * NPU_MAX_CORES; k++)
    free(c->q[k].pending);
  free(c);
}

static emu_counters *counters_create(const qir_artifact *a) {
  emu_counters *c = qir_xcalloc(1, sizeof *c);
  c->have_perf = npu_perf_compute(a, NULL, &c->perf);
  c->cores = 1;
  if (c->have_perf) {
    c->cores = c->perf.cores < 1 ? 1 : c->perf.cores > NPU_MAX_CORES ? NPU_MAX_CORES : c->perf.cores;
    c->bytes_per_cycle = c->perf.ddr_gbps * 1e3 / c->perf.clock_mhz;
    c->total.clock_mhz = c->perf.clock_mhz;
  }
  c->first_layer = qir_xcalloc(a->num_programs + 1, sizeof *c->first_layer);
  for (unsigned i = 1; i <= a->num_programs; i++)
    c->first_layer[i] = c->first_layer[i - 1] + a->programs[i - 1].num_insns;
  c->step_slot = qir_xcalloc(a->num_steps + 1, sizeof *c->step_slot);
  c->steps = qir_xcalloc(a->num_steps + 1, sizeof *c->steps);
  for (unsigned i = 0; i < a->num_steps; i++)
    if (a->steps[i].kind == NPU_STEP_NPU)
      c->step_slot[i] = c->total.num_steps++;
  return c;
}

static void counters_reset(emu_counters *c, const qir_artifact *a) {
  double mhz = c->total.clock_mhz;
  unsigned n = c->total.num_steps;
  memset(&c->total, 0, sizeof c->total);
  c->total.clock_mhz = mhz;
  c->total.num_steps = n;
  memset(c->steps, 0, n * sizeof *c->steps);
  for (unsigned i = 0; i < a->num_steps; i++)
    if (a->steps[i].kind == NPU_STEP_NPU) {
      qir_emu_step_stats *s = &c->steps[c->step_slot[i]];
      s->step = i;
      s->batch = 1;
      s->program = a->programs[a->steps[i].index].name;
    }
}

static void program_begin(emu_counters *c) {
  for (unsigned k = 0; k < 2 * NPU_MAX_CORES; k++) {
    c->q[k].end = 0;
    c->q[k].num = 0;
  }
  c->ddr_cycles = 0;
  c->cur = 0;
}

/* Counts instruction k of program `prog` (just executed) for step s. */
static void count_insn(emu_counters *c, const npu_program *p, unsigned prog,
                       unsigned k, qir_emu_step_stats *s) {
  const npu_insn *in = &p->insns[k];
  emu_traffic t = insn_traffic(p, in);
  s->instructions++;
  s->ddr_load_bytes += t.load;
  s->ddr_weight_load_bytes += t.wgt;
  s->ddr_store_bytes += t.store;
  if (!c->have_perf)
    return;
  if (in->opcode == NPU_CORE || in->opcode == NPU_SYNC) {
    queue_marker(c, in);
    return;
  }
  const npu_perf_layer *l = &c->perf.layers[c->first_layer[prog] + k];
  double ddr = (double)(t.load + t.store) / c->bytes_per_cycle;
  double compute = l->cost.compute_cycles;
  c->ddr_cycles += ddr;
  emu_slot cur = {0, 0, {{0}}};
  cur.n = npu_insn_mem_ranges(p, in, cur.r);
  queue_place(c, !strcmp(l->engine, "dma"), &cur, compute > ddr ? compute : ddr);
}

/* The program's cycles: the later queue, and no less than its DDR bytes
 * over the bandwidth (the queues share the bus). */
static double program_end(const emu_counters *c) {
  double end = c->ddr_cycles;
  for (unsigned k = 0; k < num_queues(c); k++)
    end = max2(end, c->q[k].end);
  return end;
}

static void add_step_to_total(emu_counters *c, const qir_emu_step_stats *s) {
  qir_emu_stats *t = &c->total;
  t->instructions += s->instructions;
  t->ddr_load_bytes += s->ddr_load_bytes;
  t->ddr_weight_load_bytes += s->ddr_weight_load_bytes;
  t->ddr_store_bytes += s->ddr_store_bytes;
  t->cycles += s->cycles;
  t->latency_us = t->clock_mhz > 0 ? t->cycles / t->clock_mhz : 0;
}

void qir_emu_get_stats(const qir_emu *e, qir_emu_stats *s) {
  if (e->frames > 1) {
    *s = e->batch_total;
    s->steps = e->rows;
    return;
  }
  *s = e->counters->total;
  s->steps = e->counters->steps;
}

/* ---- Running programs -------------------------------------------------------------- */

/* Runs the instructions in order, one at a time: the integer engines'
 * through npu_execute (a view of the program holding just that one), the
 * float unit's here; with counters `c`, counts each for step s. */
static void run_program(const npu_program *p, unsigned prog, uint8_t *const mem[NPU_NUM_SPACES],
                        emu_counters *c, qir_emu_step_stats *s) {
  if (c)
    program_begin(c);
  for (unsigned i = 0; i < p->num_insns; i++) {
    const npu_insn *in = &p->insns[i];
    if (in->opcode == NPU_RESIZE) {
      exec_resize(p, in, mem);
    } else if (in->opcode == NPU_SOFTMAX) {
      exec_softmax(p, in, mem);
    } else {
      npu_program one = *p;
      one.insns = &p->insns[i];
      one.num_insns = 1;
      npu_execute(&one, mem[NPU_SPACE_DDR], mem[NPU_SPACE_SRAM], mem[NPU_SPACE_WGT]);
    }
    if (c)
      count_insn(c, p, prog, i, s);
  }
  if (c) {
    s->runs++;
    s->cycles += program_end(c);
  }
}

void npu_run_program(const npu_program *p, uint8_t *ddr, uint8_t *sram,
                     const uint8_t *weights) {
  uint8_t *const mem[NPU_NUM_SPACES] = {ddr, (uint8_t *)weights, sram};
  run_program(p, 0, mem, NULL, NULL);
}

static void run_npu(qir_emu *e, unsigned step) {
  const npu_step *s = &e->a->steps[step];
  const npu_program *p = &e->a->programs[s->index];
  uint8_t *ddr = e->ddr[s->index];
  for (unsigned k = 0; k < s->num_in; k++) {
    const qir_tensor *v = &e->values[s->in[k]];
    memcpy(ddr + p->tensors[p->inputs[k]].offset, v->data, v->nbytes);
  }
  uint8_t *const mem[NPU_NUM_SPACES] = {ddr, (uint8_t *)e->a->weights, e->sram};
  qir_emu_step_stats *st = &e->counters->steps[e->counters->step_slot[step]];
  run_program(p, s->index, mem, e->counters, st);
  add_step_to_total(e->counters, st);
  for (unsigned k = 0; k < s->num_out; k++) {
    qir_tensor *v = &e->values[s->out[k]];
    const npu_tensor *t = &p->tensors[p->outputs[k]];
    memcpy(v->data, mem[t->space] + t->offset, v->nbytes);
  }
}

static bool run_cpu(qir_emu *e, unsigned step) {
  const npu_step *s = &e->a->steps[step];
  qir_interp *it = e->interps[step];
  for (unsigned k = 0; k < s->num_in; k++)
    if (!qir_interp_set_input(it, k, &e->values[s->in[k]]))
      return false;
  if (!qir_interp_run(it))
    return false;
  for (unsigned k = 0; k < s->num_out; k++) {
    qir_tensor *v = &e->values[s->out[k]];
    memcpy(v->data, qir_interp_output(it, k)->data, v->nbytes);
  }
  return true;
}

/* Runs the artifact's own graph once (one frame, or a variant's batch). */
static bool run_graph(qir_emu *e) {
  counters_reset(e->counters, e->a);
  e->counters->total.runs = 1;
  e->counters->total.frames = 1;
  for (unsigned i = 0; i < e->a->num_steps; i++) {
    const npu_step *s = &e->a->steps[i];
    if (s->kind == NPU_STEP_NPU)
      run_npu(e, i);
    else if (!run_cpu(e, i))
      return false;
  }
  return true;
}

/* ---- Batches ------------------------------------------------------------------- */

unsigned qir_emu_num_batch_sizes(const qir_emu *e) { return e->num_variants + 1; }

unsigned qir_emu_batch_size(const qir_emu *e, unsigned i) {
  return i == 0 ? 1 : i <= e->num_variants ? e->variant_batch[i - 1] : 0;
}

unsigned qir_emu_frames(const qir_emu *e) { return e->frames; }

/* The type of `t` with `frames` frames in dimension 0; NULL when it does
 * not hold one frame there. */
static const qir_type *with_frames(qir_emu *e, const qir_type *t, unsigned frames) {
  if (!qir_type_is_tensor(t) || !t->rank || t->dims[0] != 1)
    return NULL;
  int64_t dims[QIR_MAX_RANK];
  memcpy(dims, t->dims, t->rank * sizeof *dims);
  dims[0] = frames;
  return qir_tensor_with_dims(e->ctx, t, t->rank, dims);
}

static bool alloc_batch_side(qir_emu *e, unsigned n, const unsigned *ids,
                             const qir_type **types, qir_tensor *ts) {
  for (unsigned i = 0; i < n; i++) {
    const npu_value *v = &e->a->values[ids[i]];
    if (!(types[i] = with_frames(e, v->type, e->frames)))
      return emu_error(e, "no batch of 1 in dimension 0 to run several frames", v->name);
    qir_tensor_init_from_type(&ts[i], types[i]);
    if (!qir_tensor_alloc(&ts[i]))
      return emu_error(e, "cannot allocate the tensor", v->name);
  }
  return true;
}

/* One row per NPU step of the artifact's graph, then of each variant. */
static void alloc_rows(qir_emu *e);

bool qir_emu_set_frames(qir_emu *e, unsigned frames) {
  if (!frames || frames > QIR_EMU_MAX_FRAMES)
    return emu_error(e, "the frames of a run must be from 1 to 65536", NULL);
  free_batch_io(e);
  e->frames = frames;
  if (frames == 1)
    return true;
  const qir_artifact *a = e->a;
  e->in_types = qir_xcalloc(a->num_inputs + 1, sizeof *e->in_types);
  e->out_types = qir_xcalloc(a->num_outputs + 1, sizeof *e->out_types);
  e->batch_in = qir_xcalloc(a->num_inputs + 1, sizeof *e->batch_in);
  e->batch_out = qir_xcalloc(a->num_outputs + 1, sizeof *e->batch_out);
  if (!e->rows)
    alloc_rows(e);
  if (!alloc_batch_side(e, a->num_inputs, a->inputs, e->in_types, e->batch_in) ||
      !alloc_batch_side(e, a->num_outputs, a->outputs, e->out_types, e->batch_out)) {
    free_batch_io(e);
    e->frames = 1;
    return false;
  }
  return true;
}

/* The artifact of batch slot k: 0 the artifact's own graph, else a
 * variant's. */
static const qir_artifact *slot_artifact(const qir_emu *e, unsigned k) {
  return k ? npu_artifact_variant(e->a, k - 1, NULL) : e->a;
}

/* Its emulator, created the first time (NULL after an error). */
static qir_emu *slot_emu(qir_emu *e, unsigned k) {
  if (!k)
    return e;
  if (!e->variants[k - 1])
    e->variants[k - 1] = qir_emu_create(e->ctx, slot_artifact(e, k));
  return e->variants[k - 1];
}

static unsigned npu_steps_of(const qir_artifact *a) {
  unsigned n = 0;
  for (unsigned i = 0; i < a->num_steps; i++)
    n += a->steps[i].kind == NPU_STEP_NPU;
  return n;
}

/* The first row of slot k's steps. */
static unsigned slot_rows(const qir_emu *e, unsigned k) {
  unsigned base = 0;
  for (unsigned i = 0; i < k; i++)
    base += npu_steps_of(slot_artifact(e, i));
  return base;
}

/* One row per NPU step of the artifact's graph, then of each variant. */
static void alloc_rows(qir_emu *e) {
  e->num_rows = slot_rows(e, e->num_variants + 1);
  e->rows = qir_xcalloc(e->num_rows + 1, sizeof *e->rows);
}

/* Zero counters on every row, named after its step and batch size. */
static void reset_rows(qir_emu *e) {
  for (unsigned k = 0; k <= e->num_variants; k++) {
    const qir_artifact *a = slot_artifact(e, k);
    qir_emu_step_stats *r = &e->rows[slot_rows(e, k)];
    for (unsigned i = 0; i < a->num_steps; i++)
      if (a->steps[i].kind == NPU_STEP_NPU)
        *r++ = (qir_emu_step_stats){.step = i,
                                    .batch = k ? e->variant_batch[k - 1] : 1,
                                    .program = a->programs[a->steps[i].index].name};
  }
}

/* Adds the counters of piece x (the emulator of batch slot k) to the
 * batch's. */
static void add_piece_stats(qir_emu *e, unsigned k, const qir_emu *x) {
  unsigned base = slot_rows(e, k);
  const emu_counters *c = x->counters;
  for (unsigned j = 0; j < c->total.num_steps; j++) {
    qir_emu_step_stats *r = &e->rows[base + j];
    const qir_emu_step_stats *s = &c->steps[j];
    r->runs += s->runs;
    r->instructions += s->instructions;
    r->ddr_load_bytes += s->ddr_load_bytes;
    r->ddr_weight_load_bytes += s->ddr_weight_load_bytes;
    r->ddr_store_bytes += s->ddr_store_bytes;
    r->cycles += s->cycles;
  }
  qir_emu_stats *t = &e->batch_total;
  t->runs++;
  t->instructions += c->total.instructions;
  t->ddr_load_bytes += c->total.ddr_load_bytes;
  t->ddr_weight_load_bytes += c->total.ddr_weight_load_bytes;
  t->ddr_store_bytes += c->total.ddr_store_bytes;
  t->cycles += c->total.cycles;
  t->latency_us = t->clock_mhz > 0 ? t->cycles / t->clock_mhz : 0;
}

/* Copies frames [done, done + n) between the batch tensors and x's own
 * inputs (in) or outputs. */
static void copy_frames(qir_emu *e, qir_emu *x, unsigned done, unsigned n, bool in) {
  const qir_artifact *a = e->a;
  unsigned count = in ? a->num_inputs : a->num_outputs;
  for (unsigned i = 0; i < count; i++) {
    qir_tensor *b = in ? &e->batch_in[i] : &e->batch_out[i];
    qir_tensor *v = &x->values[in ? x->a->inputs[i] : x->a->outputs[i]];
    size_t frame = b->nbytes / e->frames;
    uint8_t *slice = (uint8_t *)b->data + (size_t)done * frame;
    QIR_ASSERT(v->nbytes == frame * n);
    if (in)
      memcpy(v->data, slice, v->nbytes);
    else
      memcpy(slice, v->data, v->nbytes);
  }
}

/* Covers the frames with the batch sizes, the largest that fits first. */
static bool run_frames(qir_emu *e) {
  reset_rows(e);
  memset(&e->batch_total, 0, sizeof e->batch_total);
  e->batch_total.clock_mhz = e->counters->total.clock_mhz;
  e->batch_total.frames = e->frames;
  e->batch_total.num_steps = e->num_rows;
  for (unsigned done = 0; done < e->frames;) {
    unsigned k = e->num_variants;
    while (k && e->variant_batch[k - 1] > e->frames - done)
      k--;
    qir_emu *x = slot_emu(e, k);
    unsigned n = k ? e->variant_batch[k - 1] : 1;
    if (!x)
      return false;
    copy_frames(e, x, done, n, true);
    if (!run_graph(x))
      return false;
    copy_frames(e, x, done, n, false);
    add_piece_stats(e, k, x);
    done += n;
  }
  return true;
}

bool qir_emu_run(qir_emu *e) {
  return e->frames > 1 ? run_frames(e) : run_graph(e);
}

const qir_tensor *qir_emu_output(const qir_emu *e, unsigned i) {
  if (i >= e->a->num_outputs)
    return NULL;
  return e->frames > 1 ? &e->batch_out[i] : &e->values[e->a->outputs[i]];
}

unsigned qir_emu_num_values(const qir_emu *e) { return e->a->num_values; }

const char *qir_emu_value_name(const qir_emu *e, unsigned i) {
  return i < e->a->num_values ? e->a->values[i].name : NULL;
}

const qir_tensor *qir_emu_value(const qir_emu *e, unsigned i) {
  return i < e->a->num_values ? &e->values[i] : NULL;
}
