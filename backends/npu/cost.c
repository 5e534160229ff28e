/* backends/npu/cost.c - a first cost model of the NPU programs: compute
 * cycles per engine from the work of each instruction and the target's
 * MAC array, DDR traffic from the bytes each instruction reads and
 * writes, the two overlapped per instruction (docs/NPU.md, "Cost model").
 * Programs keep every activation in DDR for now, so the DDR figures are
 * those of an untiled schedule; tiling and slicing will lower them. */
#include <string.h>

#include "backends/npu/npu.h"

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

/* Bytes moved between DDR and the engines: operands read, result written
 * (SRAM-resident tensors cost nothing here). */
static void traffic(const npu_program *p, const npu_insn *in, npu_cost *c) {
  const npu_insn_info *info = npu_insn_info_of(in->opcode);
  for (unsigned i = 0; i < info->num_fields; i++) {
    const char *f = info->fields[i];
    bool out = !strcmp(f, "out") || !strcmp(f, "dst");
    bool operand = !strcmp(f, "in") || !strcmp(f, "w") || !strcmp(f, "a") ||
                   !strcmp(f, "b") || !strcmp(f, "src") || !strcmp(f, "sum");
    const npu_tensor *t = (out || operand) ? tensor(p, in, f) : NULL;
    if (!t || t->space == NPU_SPACE_SRAM)
      continue;
    if (out)
      c->ddr_write_bytes += bytes_of(t);
    else
      c->ddr_read_bytes += bytes_of(t);
  }
  if (in->opcode == NPU_CONV)
    c->ddr_read_bytes += (double)tensor(p, in, "out")->dims[1] * NPU_PARAM_WORDS * 4;
  else if (in->opcode == NPU_MATMUL)
    c->ddr_read_bytes += (double)fld(in, "n") * NPU_PARAM_WORDS * 4;
  else if (in->opcode == NPU_LUT)
    c->ddr_read_bytes += (double)fld(in, "entries") * 4;
}

/* Multiply-accumulates on the MAC array; elements on the vector engines. */
static void work(const npu_program *p, const npu_insn *in, npu_cost *c) {
  const npu_tensor *y = tensor(p, in, in->opcode == NPU_DMA ? "dst" : "out");
  double outs = y ? (double)npu_tensor_numel(y) : 0;
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
    c->vector_ops += outs;
  }
}

void npu_insn_cost(const qir_target *t, unsigned cores, const npu_program *p,
                   const npu_insn *in, npu_cost *c) {
  memset(c, 0, sizeof *c);
  if (!cores || cores > t->cores)
    cores = t->cores;
  work(p, in, c);
  traffic(p, in, c);
  double macs_per_cycle = (double)t->macs_per_core * cores;
  double lanes = macs_per_cycle / VECTOR_RATIO;
  double bytes_per_cycle = t->ddr_gbps * 1e9 / (t->clock_mhz * 1e6);
  /* A depthwise conv uses one input channel per output: the array runs
   * it at the vector engines' rate. */
  bool depthwise = in->opcode == NPU_CONV && tensor(p, in, "w")->dims[1] == 1 &&
                   fld(in, "group") > 1;
  c->compute_cycles = depthwise ? c->macs / lanes
                                : c->macs / macs_per_cycle + c->vector_ops / lanes;
  c->ddr_cycles = (c->ddr_read_bytes + c->ddr_write_bytes) / bytes_per_cycle;
  c->cycles = c->compute_cycles > c->ddr_cycles ? c->compute_cycles : c->ddr_cycles;
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

static void print_row(FILE *out, const char *name, const char *what,
                      const npu_cost *c, double mhz) {
  fprintf(out, "  %-28s %-8s %12.0f %10.0f %10.0f %10.0f %10.3f %s\n", name,
          what, c->macs, c->ddr_read_bytes, c->ddr_write_bytes, c->cycles,
          c->cycles / mhz, c->compute_cycles >= c->ddr_cycles ? "compute" : "ddr");
}

/* Weights, and the inputs and outputs of the NPU programs, once: the
 * least DDR traffic a frame can have. */
static double compulsory_bytes(const qir_artifact *a) {
  double b = (double)a->weights_size;
  for (unsigned i = 0; i < a->num_programs; i++) {
    const npu_program *p = &a->programs[i];
    for (unsigned k = 0; k < p->num_inputs; k++)
      b += bytes_of(&p->tensors[p->inputs[k]]);
    for (unsigned k = 0; k < p->num_outputs; k++)
      b += bytes_of(&p->tensors[p->outputs[k]]);
  }
  return b;
}

void qir_artifact_print_cost(const qir_artifact *a, FILE *out) {
  const qir_target *t = qir_target_lookup(a->target);
  if (!t)
    return;
  double mhz = t->clock_mhz, total_bytes;
  npu_cost sum;
  memset(&sum, 0, sizeof sum);
  fprintf(out, "cost on %s, %u of %u cores, %.0f MHz (estimate; NPU steps only)\n",
          t->name, a->npu_cores, t->cores, mhz);
  fprintf(out, "  %-28s %-8s %12s %10s %10s %10s %10s %s\n", "layer", "insn", "MACs",
          "DDR read", "DDR write", "cycles", "us", "bound");
  for (unsigned i = 0; i < a->num_programs; i++) {
    const npu_program *p = &a->programs[i];
    for (unsigned k = 0; k < p->num_insns; k++) {
      npu_cost c;
      npu_insn_cost(t, a->npu_cores, p, &p->insns[k], &c);
      npu_cost_add(&sum, &c);
      const char *name = p->insns[k].comment ? p->insns[k].comment : p->name;
      print_row(out, name, npu_insn_info_of(p->insns[k].opcode)->mnemonic, &c, mhz);
    }
  }
  unsigned cpu = 0;
  for (unsigned i = 0; i < a->num_steps; i++)
    cpu += a->steps[i].kind == NPU_STEP_CPU;
  total_bytes = sum.ddr_read_bytes + sum.ddr_write_bytes;
  double latency_us = sum.cycles / mhz, compulsory = compulsory_bytes(a);
  double peak = qir_target_peak_macs(t, a->npu_cores);
  double compute_bound = sum.macs / peak, ddr_bound = compulsory / (t->ddr_gbps * 1e9);
  double roofline_us = 1e6 * (compute_bound > ddr_bound ? compute_bound : ddr_bound);
  fprintf(out, "total: %.0f MACs, %.2f us, %.0f FPS, DDR %.0f bytes per frame "
               "(%.0f read, %.0f written; compulsory %.0f, %.2fx)\n",
          sum.macs, latency_us, latency_us > 0 ? 1e6 / latency_us : 0, total_bytes,
          sum.ddr_read_bytes, sum.ddr_write_bytes, compulsory,
          compulsory > 0 ? total_bytes / compulsory : 0);
  fprintf(out, "roofline bound %.2f us (%.2fx); MAC utilization %.1f%%; %u CPU step(s) not included\n",
          roofline_us, roofline_us > 0 ? latency_us / roofline_us : 0,
          latency_us > 0 ? 100.0 * sum.macs / (peak * latency_us / 1e6) : 0, cpu);
}
