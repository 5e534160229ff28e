/* backends/npu/emu.c - runs an artifact: the NPU programs on the emulated
 * machine (the integer engines in exec.c, the float unit here), the CPU
 * functions with the reference interpreter, in the order of the
 * artifact's steps. */
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "backends/npu/npu.h"
#include "qir/io.h"

struct qir_emu {
  qir_context *ctx;
  const qir_artifact *a;
  qir_tensor *values;
  qir_module *cpu;
  qir_interp **interps;  /* per step, CPU steps only */
  uint8_t **ddr;         /* per program */
  uint8_t *sram;
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

qir_emu *qir_emu_create(qir_context *ctx, const qir_artifact *a) {
  qir_emu *e = qir_xcalloc(1, sizeof *e);
  e->ctx = ctx;
  e->a = a;
  if (!alloc_values(e) || !prepare_npu(e) || !prepare_cpu(e)) {
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
  return i < e->a->num_inputs ? e->a->values[e->a->inputs[i]].type : NULL;
}

bool qir_emu_set_input(qir_emu *e, unsigned i, const qir_tensor *t) {
  if (i >= e->a->num_inputs)
    return emu_error(e, "no such input", NULL);
  qir_tensor *v = &e->values[e->a->inputs[i]];
  if (!qir_tensor_matches_type(t, e->a->values[e->a->inputs[i]].type) ||
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

static bool is_float_unit(unsigned opcode) {
  return opcode == NPU_RESIZE || opcode == NPU_SOFTMAX;
}

/* Runs the instructions in order: each run of integer-engine
 * instructions through npu_execute (a view of the program holding just
 * that run), the float unit's here. */
void npu_run_program(const npu_program *p, uint8_t *ddr, uint8_t *sram,
                     const uint8_t *weights) {
  uint8_t *const mem[NPU_NUM_SPACES] = {ddr, (uint8_t *)weights, sram};
  for (unsigned i = 0; i < p->num_insns;) {
    const npu_insn *in = &p->insns[i];
    if (is_float_unit(in->opcode)) {
      if (in->opcode == NPU_RESIZE)
        exec_resize(p, in, mem);
      else
        exec_softmax(p, in, mem);
      i++;
      continue;
    }
    unsigned j = i;
    while (j < p->num_insns && !is_float_unit(p->insns[j].opcode))
      j++;
    npu_program run = *p;
    run.insns = &p->insns[i];
    run.num_insns = j - i;
    npu_execute(&run, ddr, sram, weights);
    i = j;
  }
}

static void run_npu(qir_emu *e, const npu_step *s) {
  const npu_program *p = &e->a->programs[s->index];
  uint8_t *ddr = e->ddr[s->index];
  for (unsigned k = 0; k < s->num_in; k++) {
    const qir_tensor *v = &e->values[s->in[k]];
    memcpy(ddr + p->tensors[p->inputs[k]].offset, v->data, v->nbytes);
  }
  npu_run_program(p, ddr, e->sram, e->a->weights);
  for (unsigned k = 0; k < s->num_out; k++) {
    qir_tensor *v = &e->values[s->out[k]];
    const npu_tensor *t = &p->tensors[p->outputs[k]];
    const uint8_t *base = t->space == NPU_SPACE_WGT ? e->a->weights
                          : t->space == NPU_SPACE_SRAM ? e->sram : ddr;
    memcpy(v->data, base + t->offset, v->nbytes);
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

bool qir_emu_run(qir_emu *e) {
  for (unsigned i = 0; i < e->a->num_steps; i++) {
    const npu_step *s = &e->a->steps[i];
    if (s->kind == NPU_STEP_NPU)
      run_npu(e, s);
    else if (!run_cpu(e, i))
      return false;
  }
  return true;
}

const qir_tensor *qir_emu_output(const qir_emu *e, unsigned i) {
  return i < e->a->num_outputs ? &e->values[e->a->outputs[i]] : NULL;
}

unsigned qir_emu_num_values(const qir_emu *e) { return e->a->num_values; }

const char *qir_emu_value_name(const qir_emu *e, unsigned i) {
  return i < e->a->num_values ? e->a->values[i].name : NULL;
}

const qir_tensor *qir_emu_value(const qir_emu *e, unsigned i) {
  return i < e->a->num_values ? &e->values[i] : NULL;
}
