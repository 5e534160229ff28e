/* backends/npu/emu.c - runs an artifact: the NPU programs on the emulated
 * machine (exec.c), the CPU functions with the reference interpreter, in
 * the order of the artifact's steps. */
#include <stdlib.h>
#include <string.h>

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
    if (!(e->interps[i] = qir_interp_create(f, NULL)))
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

static void run_npu(qir_emu *e, const npu_step *s) {
  const npu_program *p = &e->a->programs[s->index];
  uint8_t *ddr = e->ddr[s->index];
  for (unsigned k = 0; k < s->num_in; k++) {
    const qir_tensor *v = &e->values[s->in[k]];
    memcpy(ddr + p->tensors[p->inputs[k]].offset, v->data, v->nbytes);
  }
  npu_execute(p, ddr, e->sram, e->a->weights);
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
