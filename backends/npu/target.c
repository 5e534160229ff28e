/* backends/npu/target.c - the target registry.  A new target adds its
 * description to the table below (see backends/target-template/). */
#include <string.h>

#include "backends/npu/npu.h"

static const qir_target *const targets[] = {
    &qir_target_bpu_bernoulli2, &qir_target_bpu_bayes, &qir_target_ax650,
    &qir_target_ax620e, &qir_target_ax615,
};

#define NUM_TARGETS (sizeof targets / sizeof targets[0])

unsigned qir_target_count(void) { return NUM_TARGETS; }

const qir_target *qir_target_at(unsigned i) {
  return i < NUM_TARGETS ? targets[i] : NULL;
}

const qir_target *qir_target_lookup(const char *name) {
  for (unsigned i = 0; name && i < NUM_TARGETS; i++)
    if (!strcmp(targets[i]->name, name))
      return targets[i];
  return NULL;
}

bool qir_target_has_op(const qir_target *t, unsigned op_id) {
  for (const unsigned *p = t->ops; p && *p != QIR_NUM_OPS; p++)
    if (*p == op_id)
      return true;
  return false;
}

double qir_target_peak_macs(const qir_target *t, unsigned cores) {
  if (!cores || cores > t->cores)
    cores = t->cores;
  return (double)cores * t->macs_per_core * t->clock_mhz * 1e6;
}

void qir_target_print_all(FILE *out) {
  fprintf(out, "%-15s %5s %6s %9s %9s %9s %9s %-8s %5s  %s\n", "target",
          "cores", "MACs", "clock MHz", "int8 TOPS", "SRAM KiB", "DDR GB/s",
          "quant", "int16", "description");
  for (unsigned i = 0; i < NUM_TARGETS; i++) {
    const qir_target *t = targets[i];
    fprintf(out, "%-15s %5u %6u %9.0f %9.1f %9llu %9.1f %-8s %5s  %s\n",
            t->name, t->cores, t->macs_per_core, t->clock_mhz, t->tops_int8,
            (unsigned long long)(t->sram_bytes >> 10), t->ddr_gbps,
            t->quant_scheme, t->has_int16 ? "yes" : "no", t->summary);
  }
}
