/* backends/npu/perf.h - the performance estimate of a compiled artifact
 * (cost.c) and its reports: text, JSON and HTML (report.c).  docs/NPU.md,
 * "Performance reports", defines every figure. */
#ifndef QIR_BACKENDS_NPU_PERF_H
#define QIR_BACKENDS_NPU_PERF_H

#include "backends/npu/npu.h"

typedef struct npu_perf_options {
  double ddr_gbps_limit; /* DDR bandwidth left to the NPU on a busy bus,
                            GB/s; 0 (or over the target's): no limit */
} npu_perf_options;

/* One instruction of an NPU program: a piece of a layer (the qir op it
 * came from, in its comment). */
typedef struct npu_perf_layer {
  const char *program;    /* program name */
  const char *name;       /* "conv2d %c", else the program name */
  const char *insn;       /* mnemonic */
  const char *engine;     /* mac, vector, pool, move, dma, or sync (the
                             core and sync markers, which cost nothing) */
  npu_cost cost;
  double weight_load_bytes; /* the part of the loads from the weight space */
  double load_cycles, store_cycles; /* DDR reads and writes alone */
  double start_cycle;     /* on the frame's timeline (NPU steps only) */
  unsigned core;          /* the core that runs it */
} npu_perf_layer;

/* What one core did over the frame. */
typedef struct npu_core_figures {
  unsigned insns;           /* instructions it ran */
  double busy_cycles[2];    /* its compute engines, its DMA engine */
  double sync_wait_cycles;  /* waiting at syncs and at the ends of the
                               programs for the other cores */
} npu_core_figures;

typedef struct npu_perf {
  const qir_target *target;
  unsigned cores;
  double clock_mhz;
  double ddr_gbps;        /* the bandwidth the estimate assumes */
  double target_ddr_gbps; /* the target's own */
  double peak_macs;       /* MACs per second on `cores` cores */
  unsigned num_layers;
  npu_perf_layer *layers;
  npu_cost total;
  double weight_load_bytes; /* loads of the weight space, all layers */
  unsigned npu_steps, cpu_steps;
  unsigned cores_used;      /* cores that ran instructions (at least 1) */
  unsigned syncs;           /* sync instructions executed */
  npu_core_figures core[NPU_MAX_CORES];
  /* The compulsory DDR traffic of a frame: weights (with their channel
   * parameters and alignment), NPU inputs and outputs, each once. */
  double weight_bytes, input_bytes, output_bytes, compulsory_bytes;
  double latency_us, fps;
  double compute_bound_us;  /* MACs / peak MAC rate */
  double memory_bound_us;   /* compulsory bytes / DDR bandwidth */
  double roofline_us;       /* the larger of the two */
  /* The bound of the engines: the compute cycles of every instruction but
   * the DMA copies, each at its engine's rate (a depthwise conv at the
   * vector rate), spread evenly over `cores`; and the larger of that and
   * memory_bound_us.  What no schedule of these instructions beats. */
  double engine_compute_us, engine_bound_us;
  /* The latency with the DDR bus shared: the timeline gives every core's
   * DMA queue and every instruction's own traffic the full bandwidth at
   * once (and bounds only a program's total by it); this is the same
   * programs on a bus that moves one transfer at a time, serving them in
   * program order.  Two arbitrations, not bounds: a bus that interleaves
   * the transfers gives a later one a share sooner and an earlier one
   * less. */
  double shared_bus_us;
  double mac_utilization;   /* MACs / (peak rate x latency), 0..1 */
  double ddr_utilization;   /* DDR bytes / (bandwidth x latency), 0..1 */
} npu_perf;

/* The shared DDR bus of the report's second timeline (shared_bus_us): it
 * moves one transfer at a time at the full bandwidth and serves the
 * transfers in the order they are placed, each in the earliest cycles it
 * has free from the transfer's start on (in pieces around the transfers
 * placed before it).  `busy` holds the disjoint intervals it is taken, in
 * order, touching ones joined; {0, NULL} is an idle bus. */
typedef struct npu_bus {
  unsigned num;
  double (*busy)[2];
} npu_bus;

/* Takes `cycles` of the bus from `start` on; returns the cycle the last
 * of them ends (start when cycles is 0). */
double npu_bus_take(npu_bus *b, double start, double cycles);
/* Forgets the intervals that end by t (when nothing starts before t). */
void npu_bus_prune(npu_bus *b, double t);
void npu_bus_free(npu_bus *b);

void npu_perf_options_init(npu_perf_options *o);
/* Estimates artifact `a`.  False (nothing to free) when its target is
 * unknown. */
bool npu_perf_compute(const qir_artifact *a, const npu_perf_options *o,
                      npu_perf *perf);
void npu_perf_free(npu_perf *perf);

/* "ddr" when the layer waits on DDR longer than it computes, else
 * "compute". */
const char *npu_perf_layer_bound(const npu_perf_layer *l);
/* "compute" or "ddr": which side of the roofline bounds the model. */
const char *npu_perf_roofline_bound(const npu_perf *perf);

/* The text of -print-cost. */
void npu_perf_print_text(const npu_perf *perf, FILE *out);
/* The JSON of -perf-json. */
void npu_perf_print_json(const npu_perf *perf, FILE *out);
/* The HTML page of -perf-report for artifact `a` (whose estimate `perf`
 * is; its graph is drawn from `a`, NULL: no graph); false when libxml2
 * fails to serialize it. */
bool npu_perf_print_html(const npu_perf *perf, const qir_artifact *a, FILE *out);

#endif
