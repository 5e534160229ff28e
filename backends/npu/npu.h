/* backends/npu/npu.h - private declarations of the shared NPU model: the
 * target table, legalization, the ISA (docs/NPU.md), programs, lowering,
 * the artifact (docs/Artifact.md) and the emulator. */
#ifndef QIR_BACKENDS_NPU_H
#define QIR_BACKENDS_NPU_H

#include "qir/npu.h"
#include "qir/quant.h"

/* ---- Targets (backends/bpu, backends/ax) ------------------------------------ */

extern const qir_target qir_target_bpu_bernoulli2;
extern const qir_target qir_target_bpu_bayes;
extern const qir_target qir_target_ax650;
extern const qir_target qir_target_ax620e;
extern const qir_target qir_target_ax615;
extern const qir_target qir_target_template; /* backends/target-template */

/* The target of the options, checked (with the core count); NULL after an
 * error. */
const qir_target *npu_target_of(qir_context *ctx, const qir_compile_options *o);

/* ---- Legalization ------------------------------------------------------------ */

/* True when `op` can run on the NPU of `t`; else the reason goes to
 * reason[0..size). */
bool npu_op_is_legal(const qir_target *t, const qir_op *op, char *reason,
                     size_t size);

/* ---- The ISA ----------------------------------------------------------------
 * A program has a table of tensor descriptors (views of memory) and a list
 * of instructions whose arguments are int64 fields.  NPU_INSN(ID, mnemonic,
 * field names...) is the single list: encoder, decoder, printer and
 * emulator use it.  Tensor fields are indices into the tensor table;
 * `params` fields are byte offsets into the weight space, or into the
 * SRAM space where `psram` is 1 (a tiled group's copy of them). */
#define NPU_INSN_LIST(X)                                                      \
  X(CONV, "conv", "out", "in", "w", "params", "zx", "zy", "lo", "hi", "sh",   \
    "sw", "dh", "dw", "pt", "pl", "group", "wide", "epilogue", "sum", "zs",   \
    "ss", "act", "a0", "a1", "sy", "post", "pm", "pa", "psram")               \
  X(MATMUL, "matmul", "out", "a", "b", "params", "za", "zy", "lo", "hi",      \
    "batch", "m", "k", "n", "a_batched", "trans_a", "trans_b", "wide",        \
    "epilogue", "sum", "zs", "ss", "act", "a0", "a1", "sy", "post", "pm",     \
    "pa", "psram")                                                            \
  X(ADD, "add", "out", "a", "b", "za", "zb", "zy", "lo", "hi", "ma", "ea",    \
    "mb", "eb", "my", "ey", "sub", "wide")                                    \
  X(MUL, "mul", "out", "a", "b", "za", "zb", "zy", "lo", "hi", "m", "e",      \
    "wide")                                                                   \
  X(LUT, "lut", "out", "in", "table", "in_min", "entries")                    \
  X(MAXPOOL, "maxpool", "out", "in", "kh", "kw", "sh", "sw", "dh", "dw",      \
    "pt", "pl", "rescale", "m", "e", "zx", "zy", "lo", "hi", "xmin")                  \
  X(AVGPOOL, "avgpool", "out", "in", "kh", "kw", "sh", "sw", "pt", "pl",      \
    "pb", "pr", "count_pad", "zx", "zy", "lo", "hi", "sx", "sy")              \
  X(GPOOL, "gpool", "out", "in", "avg", "rescale", "m", "e", "zx", "zy",      \
    "lo", "hi", "sx", "sy", "acc", "part", "count")                           \
  X(COPY, "copy", "out", "in", "s0", "s1", "s2", "s3", "d0", "d1", "d2",      \
    "d3", "n0", "n1", "n2", "n3", "rescale", "m", "e", "zx", "zy", "lo",      \
    "hi", "wide")                                                             \
  X(DMA, "dma", "dst", "src", "bytes")                                        \
  X(PERMUTE, "permute", "out", "in", "p0", "p1", "p2", "p3", "rescale", "m",  \
    "e", "zx", "zy", "lo", "hi", "wide")                                      \
  X(GATHER, "gather", "out", "in", "table", "rescale", "m", "e", "zx", "zy",  \
    "lo", "hi", "wide", "base")                                               \
  X(RESIZE, "resize", "out", "in", "mode", "coord", "scale_h", "scale_w",     \
    "zx", "sx", "zy", "sy", "lo", "hi")                                       \
  X(SOFTMAX, "softmax", "out", "in", "table", "in_min", "entries", "outer",   \
    "len", "inner", "zy", "sy", "lo", "hi")                                   \
  X(CORE, "core", "id")                                                       \
  X(SYNC, "sync", "cores")

/* Multi-core programs (docs/NPU.md, "Machine"): `core id` sends the
 * instructions after it to the queues of core `id`; `sync cores=n` is a
 * barrier: every core waits until all instructions before it have ended,
 * and the instructions after it go to core 0.  A program with neither
 * runs on core 0.  Core c's SRAM is the window [c x sram_bytes,
 * (c + 1) x sram_bytes) of the sram space; between two syncs, no core
 * touches what another one writes, so running the instructions in
 * program order (the emulator) gives the results of any timing. */
#define NPU_MAX_CORES 4

enum npu_opcode {
#define X(id, mn, ...) NPU_##id,
  NPU_INSN_LIST(X)
#undef X
  NPU_NUM_OPCODES
};

#define NPU_MAX_FIELDS 32

typedef struct npu_insn_info {
  const char *mnemonic;
  unsigned num_fields;
  const char *fields[NPU_MAX_FIELDS];
} npu_insn_info;

const npu_insn_info *npu_insn_info_of(unsigned opcode);
/* Index of field `name` of an opcode (internal error when absent).
 * `name` must not change while the program runs (a string literal, a
 * static table): lookups are cached by its address. */
unsigned npu_field(unsigned opcode, const char *name);

/* What field i of an opcode names: its result (out, dst), an operand it
 * reads (in, a, b, src, sum) or its weights (w); 0 for the other fields. */
enum { NPU_FIELD_RESULT = 1, NPU_FIELD_OPERAND = 2, NPU_FIELD_WEIGHTS = 4 };
unsigned npu_field_role(unsigned opcode, unsigned i);

typedef struct npu_insn {
  unsigned opcode;
  int64_t f[NPU_MAX_FIELDS];
  const char *comment; /* the qir op it came from (printed; not encoded) */
} npu_insn;

/* Memory spaces of the machine model. */
enum npu_space { NPU_SPACE_DDR, NPU_SPACE_WGT, NPU_SPACE_SRAM, NPU_NUM_SPACES };

#define NPU_RANK 4
typedef struct npu_tensor {
  unsigned space;           /* enum npu_space */
  qir_scalar dtype;         /* storage: i8 u8 i16 u16; f32 only for the
                               result of a float epilogue (epilogue = 2) */
  uint64_t offset;          /* bytes from the start of the space */
  int64_t dims[NPU_RANK];   /* NCHW (lower ranks padded with leading 1s) */
} npu_tensor;

typedef struct npu_program {
  char *name;
  uint64_t ddr_size;        /* activation bytes the program needs */
  uint64_t sram_size;       /* SRAM bytes it uses (the schedule, sched.c) */
  unsigned num_tensors, cap_tensors;
  npu_tensor *tensors;
  unsigned num_inputs, num_outputs;
  unsigned *inputs, *outputs; /* tensor indices, in argument/result order */
  unsigned num_insns, cap_insns;
  npu_insn *insns;
} npu_program;

/* The tensor field i of `in` names (a field with a role above), or NULL:
 * another field, none (a conv's absent `sum` is -1) or out of the table. */
const npu_tensor *npu_field_tensor(const npu_program *p, const npu_insn *in, unsigned i);

void npu_program_free(npu_program *p);
/* Appends a tensor descriptor to p's table; returns its index. */
unsigned npu_program_add_tensor(npu_program *p, npu_tensor t);
/* A view of indices [at, at + n) of dimension d of tensor i, added to p
 * (dense when the dimensions before d are 1: a frame, or the channels of
 * one frame). */
unsigned npu_program_view(npu_program *p, unsigned i, unsigned d, int64_t at, int64_t n);
int64_t npu_tensor_numel(const npu_tensor *t);
/* Prints one program as assembly. */
void npu_print_program(FILE *out, const npu_program *p);

/* ---- Graph of the compiled model ----------------------------------------------- */

enum npu_step_kind { NPU_STEP_NPU, NPU_STEP_CPU };

typedef struct npu_step {
  unsigned kind;
  unsigned index;           /* NPU: program index */
  char *func;               /* CPU: function name in the CPU module */
  unsigned num_in, num_out;
  unsigned *in, *out;       /* value indices */
} npu_step;

typedef struct npu_value {
  char *name;
  const qir_type *type;     /* a static tensor type */
} npu_value;

struct qir_artifact {
  qir_context *ctx;
  char *target;
  unsigned npu_cores;
  unsigned num_values;
  npu_value *values;
  unsigned num_inputs, num_outputs;
  unsigned *inputs, *outputs; /* value indices */
  unsigned num_steps;
  npu_step *steps;
  unsigned num_programs;
  npu_program *programs;
  uint8_t *weights;
  uint64_t weights_size;
  char *cpu_text;           /* the CPU functions as .qir text */
  size_t cpu_text_len;
};

typedef struct npu_blob {
  uint8_t *data;
  uint64_t size, cap;
} npu_blob;

uint64_t npu_blob_append(npu_blob *b, const void *data, uint64_t n);
/* Choices of the lowering (flags of npu_lower_func). */
enum {
  NPU_LOWER_IN_PLACE = 1, /* an op whose one use is a concat writes its
                             result into the concat's result */
  NPU_LOWER_SINK = 2      /* an op whose one result has one use is lowered
                             just before that use */
};
/* Lowers the NPU function `f` (already legal) into `p`, appending its
 * constants to the weight blob, with the choices `flags` (docs/NPU.md,
 * "Lowering variants").  False after an error. */
bool npu_lower_func(qir_func *f, const qir_target *t, npu_program *p, npu_blob *weights,
                    unsigned flags);
/* The choices that would change the lowering of `f`. */
unsigned npu_lower_choices(qir_func *f);

/* ---- Scheduling (sched.c; docs/NPU.md, "Scheduling") ---------------------------- */

enum npu_schedule {
  NPU_SCHEDULE_NONE,  /* the lowering's placement: every activation in DDR */
  NPU_SCHEDULE_SRAM,  /* buffers reused by liveness; intermediates in SRAM
                         when they fit */
  NPU_SCHEDULE_TILE,  /* and layer groups whose intermediates stay in DDR
                         run tile by tile (along H, W and the frames)
                         through SRAM */
  NPU_SCHEDULE_BEST = NPU_SCHEDULE_TILE
};

/* The mode named `s` ("none", "sram", "tile"); false for another name. */
bool npu_schedule_from_name(const char *s, unsigned *out);

/* What the tile mode decided for one layer group (a run of instructions
 * that could share SRAM tiles), or for one conv split over the cores. */
typedef struct npu_sched_group {
  unsigned num_insns;       /* the group's instructions, before tiling */
  const char *first, *last; /* the comments of the first and the last */
  int64_t tile_rows;        /* rows per tile; 0: left untiled */
  int64_t tile_cols;        /* columns per tile; 0: the full width */
  int64_t tiles;            /* tiles in all (over frames and cores) */
  bool per_frame;           /* tiles of one frame each */
  bool double_buffer;
  unsigned cores;           /* cores its tiles (or conv pieces) run on */
  bool split;               /* a conv split along its output channels */
  double cycles, ddr_bytes; /* the estimate as scheduled */
  double untiled_cycles, untiled_ddr_bytes; /* and as it was */
  const char *pooled_by;    /* the comment of the gpool that pools the
                               last result band by band, or NULL */
  unsigned keep;            /* what each tile takes from the bands of the
                               tile before: 0 nothing, 1 the input rows
                               (columns) they share, 2 every band's */
  unsigned escaping;        /* results before the last that instructions
                               after the group read too: the tiles copy
                               their rows out */
  const char *escape;       /* the comment of the first, or NULL */
} npu_sched_group;

typedef void (*npu_sched_observer)(void *ctx, const npu_sched_group *g);

/* The decisions of one schedule, as the scheduler reported them:
 * npu_sched_record is an observer that appends each to `ctx`, an
 * npu_sched_decisions. */
typedef struct npu_sched_decisions {
  npu_sched_group *v;
  unsigned n;
} npu_sched_decisions;
void npu_sched_record(void *ctx, const npu_sched_group *g);

/* Places the activation buffers of the lowered program `p` for target `t`
 * (enum npu_schedule) and `cores` of its cores (0: all), setting
 * p->ddr_size and p->sram_size; calls `fn` (may be NULL) with each
 * decision of the tile mode: every group of several instructions, every
 * group tiled or split over the cores (in program order).  With
 * `by_value`, the SRAM placement is the better (fewer DDR bytes) of first
 * fit in the order buffers become live and first fit by the DDR bytes
 * each buffer would cost, for programs of at most NPU_MAX_VALUE_PLACEMENT
 * buffers (its cost grows with the square of their number).  True when
 * it took the second.  The tile mode on several cores schedules twice,
 * the second time with the buffers the first left to cores other than 0
 * in DDR from the start, and keeps the faster by the estimate. */
#define NPU_MAX_VALUE_PLACEMENT 4096
bool npu_schedule_variant(npu_program *p, const qir_target *t, unsigned mode, unsigned cores,
                          bool by_value, const uint8_t *weights, uint64_t weights_size,
                          npu_sched_observer fn, void *ctx);

/* Lowers the NPU function `f` (npu_lower_func) and schedules it
 * (npu_schedule_variant) as the fastest by the estimate of its variants:
 * concats in place or not, SRAM placed by value or not.  `fn` (may be
 * NULL) is told the decisions of the schedule kept.  False after an
 * error. */
bool npu_lower_scheduled(qir_func *f, const qir_target *t, npu_program *p, npu_blob *w,
                         unsigned mode, unsigned cores, npu_sched_observer fn, void *ctx);

/* True for the instructions that only direct the cores (core, sync). */
bool npu_insn_is_marker(const npu_insn *in);

/* Partitions and lowers `m` into an artifact in memory with the schedule
 * `mode` (NULL after an error); npu_compile_to_artifact uses the best. */
qir_artifact *npu_compile_scheduled(qir_module *m, const qir_compile_options *o,
                                    unsigned mode);
qir_artifact *npu_compile_to_artifact(qir_module *m, const qir_compile_options *o);

/* Serializes an artifact into a malloc'd buffer. */
uint8_t *npu_artifact_encode(const qir_artifact *a, size_t *size);
/* Writes the encoded artifact atomically (through qir_output). */
bool npu_artifact_write(qir_context *ctx, const qir_artifact *a, const char *path);
/* Checks that every instruction of `p` is well formed against its tensor
 * table and the weight size, and that between two syncs no core touches
 * memory another core writes (the reader and the compiler both call it).
 * Writes the problem into why[0..n) and returns false otherwise. */
bool npu_program_validate(const npu_program *p, const uint8_t *weights,
                          uint64_t weights_size, char *why, size_t n);

/* The bytes [lo, hi) of a space (ddr, sram) an instruction reads or
 * writes: its tensors whole, a dma its bytes; for a copy's region also the
 * region itself (box), which two copies of the same tensor compare
 * exactly: their bands interleave in memory (NCHW). */
typedef struct npu_mem_range {
  unsigned space;
  uint64_t lo, hi;
  bool write;
  const npu_tensor *t; /* with a box: the tensor of the region */
  int64_t start[NPU_RANK], count[NPU_RANK];
} npu_mem_range;
#define NPU_MAX_RANGES 8
/* The parameter table of a conv or matmul: its space (the weight space,
 * or SRAM where `psram` is 1), first byte and size; false for the other
 * instructions. */
bool npu_insn_params(const npu_program *p, const npu_insn *in, unsigned *space,
                     uint64_t *lo, uint64_t *bytes);
/* The ranges of `in` into r[0..NPU_MAX_RANGES); returns their count (a
 * parameter table in SRAM is one of them). */
unsigned npu_insn_mem_ranges(const npu_program *p, const npu_insn *in, npu_mem_range *r);
/* One of the two writes and they share a byte (two boxes of the same view:
 * an element). */
bool npu_mem_ranges_conflict(const npu_mem_range *a, const npu_mem_range *b);

/* ---- Cost model (cost.c) ------------------------------------------------------- */

typedef struct npu_cost {
  double macs;             /* multiply-accumulates on the MAC array */
  double vector_ops;       /* elements through the vector/pool/move engines */
  double compute_cycles;
  double ddr_read_bytes, ddr_write_bytes;
  double ddr_cycles;
  double cycles;           /* max(compute, ddr): the two overlap */
} npu_cost;

/* Bytes `in` moves of its tensor t, named by field f (a copy its region,
 * dma its count, a gpool's band before the last none of its result, the
 * others the whole tensor), and what the engines read of the weight
 * space besides tensor operands (the parameters of every output channel
 * unless they are in SRAM, the tables, a gather's source indices).  The
 * cost model and the emulator's counters both count with these. */
uint64_t npu_insn_moved_bytes(const npu_insn *in, unsigned f, const npu_tensor *t);
uint64_t npu_insn_side_loads(const npu_program *p, const npu_insn *in);
/* The estimate of one instruction, on the one core that runs it. */
void npu_insn_cost(const qir_target *t, const npu_program *p, const npu_insn *in,
                   npu_cost *c);
void npu_cost_add(npu_cost *sum, const npu_cost *c);
/* Cycles of the instruction sequence insns[0..n) of program p on `cores`
 * cores (0: all): each core's DMA engine and compute engines run their
 * instructions in order, an instruction waiting for earlier ones of the
 * other side of its core whose memory it shares, and every core at a
 * sync for all the others (docs/NPU.md, "Performance reports"). */
double npu_insns_cycles(const qir_target *t, unsigned cores, const npu_program *p,
                        const npu_insn *insns, unsigned n);

/* Runs one program on memory: ddr (p->ddr_size bytes) and the weights.
 * npu_execute (exec.c) runs the instructions of the integer engines;
 * npu_run_program (emu.c) runs any program, the instructions of the
 * float unit (resize, softmax) included. */
void npu_execute(const npu_program *p, uint8_t *ddr, uint8_t *sram,
                 const uint8_t *weights);
void npu_run_program(const npu_program *p, uint8_t *ddr, uint8_t *sram,
                     const uint8_t *weights);

/* Modes of the resize instruction (field `mode`; nearest resizes are
 * gathers). */
enum npu_resize_mode { NPU_RESIZE_LINEAR = 1 };

/* Per-output-channel parameters of conv and matmul in the weight space:
 * six little-endian 32-bit words per channel: the bias, the multiplier
 * and shift of the integer epilogue, the weight zero point, and the
 * accumulator scale s_x * s_w (a double, low word first) of the float
 * epilogue. */
enum { NPU_PARAM_BIAS, NPU_PARAM_MULT, NPU_PARAM_SHIFT, NPU_PARAM_ZW,
       NPU_PARAM_SACC, NPU_PARAM_WORDS = NPU_PARAM_SACC + 2 };
/* What the validator allows: zero points (of tensors and of weights) in
 * [-NPU_MAX_ZP, NPU_MAX_ZP]; a multiplier in [0, INT32_MAX] with a shift
 * in [NPU_MIN_SHIFT, NPU_MAX_SHIFT]. */
enum { NPU_MAX_ZP = 65536, NPU_MIN_SHIFT = -62, NPU_MAX_SHIFT = 30 };

/* Activations of the float epilogue (field `act`; a0/a1 its float
 * parameters, as the bits of doubles).  With `post` = 1 the activation's
 * f32 result is then multiplied by pm, and pa is added to the product (the
 * post-activation affine of conv2d: two f32 roundings). */
enum npu_act { NPU_ACT_NONE, NPU_ACT_RELU, NPU_ACT_CLIP, NPU_ACT_SIGMOID,
               NPU_ACT_HARD_SIGMOID, NPU_ACT_HARD_SWISH, NPU_ACT_LEAKY_RELU,
               NPU_NUM_ACTS };

#endif
