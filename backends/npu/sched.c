/* backends/npu/sched.c - memory scheduling of a lowered NPU program
 * (docs/NPU.md, "Scheduling").
 *
 * The lowering gives every activation its own DDR range.  This step finds
 * the buffers (DDR ranges; views that overlap, such as a reshape's alias,
 * are one buffer), the instruction range each is live in, and places them
 * again: intermediates in the on-chip SRAM while they fit (first fit,
 * buffers taken in the order they become live, space reused when a
 * buffer dies), the rest and the program's inputs and outputs in DDR with
 * the same reuse.  In tile mode, layer groups whose intermediates would
 * stay in DDR are first rewritten to run tile by tile through SRAM (the
 * second half of this file).  An instruction never sees two live buffers
 * overlap, so the emulated results do not change. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/npu/npu.h"

#define ALIGN 64
/* Longest group (tile mode): the halos, and the rows computed twice, grow
 * with it. */
#define MAX_GROUP 16

typedef struct buffer {
  uint64_t lo, hi;   /* the lowering's DDR byte range [lo, hi) */
  int first, last;   /* instructions it is live over, inclusive; -1 is
                        the program's start (inputs) */
  bool io;           /* holds a program input or output: stays in DDR */
  bool remote;       /* touched by a core other than 0: stays in DDR (the
                        SRAM of core 0 is not theirs) */
  unsigned uses;     /* instruction fields that name it */
  unsigned space;    /* where it goes */
  uint64_t offset;
} buffer;

/* SRAM kept for the bands of a tiled group over its instructions: the
 * bytes below `top`. */
typedef struct reservation {
  unsigned first, last; /* instructions, inclusive */
  uint64_t top;
} reservation;

typedef struct sched {
  npu_program *p;
  unsigned cores;      /* the cores to spread the work over */
  uint64_t sram_bytes; /* one core's SRAM: core c's is the window from
                          c x sram_bytes */
  unsigned num_buffers;
  buffer *buffers;
  unsigned *buffer_of; /* tensor -> buffer, UINT32_MAX when not in DDR */
  uint64_t band_room;  /* SRAM for the bands of a tiled group */
  unsigned num_reserved;
  reservation *reserved; /* by instruction */
  npu_sched_observer observe; /* told each decision (may be NULL) */
  void *observe_ctx;
  double *compute_sum; /* compute cycles of instructions [0, k), by k (tile
                          mode, on several cores) */
  bool *side;          /* side instructions (find_side_insns; tile mode) */
  int *held_by;        /* per instruction: the gather held back whose
                          result it reads as a side operand, or -1
                          (find_held_gathers; tile mode) */
  bool *held;          /* per instruction: a gather not emitted yet */
  int *reader_of;      /* per held gather: the instruction that reads its
                          result (through a side operand, or its part of a
                          concat through its row operand), or -1 */
  unsigned *num_held;  /* per instruction: the gathers held for it */
  bool by_value;       /* SRAM may take place_by_value's placement */
  bool took_value;     /* and did */
  const uint8_t *weights; /* the weight space (a gather's table; may be
                             NULL: no gather is held) */
  uint64_t weights_size;
  const qir_target *t;
  bool stream;         /* groups may form to stream a program output */
  bool streamed;       /* and one did (tile_groups) */
  bool escape;         /* grow_group may run through results read after
                          the group (may_escape), */
  bool escapes;        /* and tile_groups asks it to (escape_or_not) */
} sched;

static uint64_t align_up(uint64_t x) { return (x + ALIGN - 1) / ALIGN * ALIGN; }

static uint64_t tensor_bytes(const npu_tensor *t) {
  return (uint64_t)npu_tensor_numel(t) * qir_scalar_size(t->dtype);
}

/* ---- Buffers ------------------------------------------------------------------ */

typedef struct by_offset_key {
  uint64_t offset;
  unsigned tensor;
} by_offset_key;

static int by_offset(const void *a, const void *b) {
  const by_offset_key *x = a, *y = b;
  if (x->offset != y->offset)
    return x->offset < y->offset ? -1 : 1;
  return x->tensor < y->tensor ? -1 : x->tensor > y->tensor;
}

/* Groups the DDR tensors into buffers: overlapping byte ranges are one. */
static void find_buffers(sched *s) {
  npu_program *p = s->p;
  by_offset_key *order = qir_xcalloc(p->num_tensors + 1, sizeof *order);
  unsigned n = 0;
  s->buffer_of = qir_xcalloc(p->num_tensors + 1, sizeof *s->buffer_of);
  s->buffers = qir_xcalloc(p->num_tensors + 1, sizeof *s->buffers);
  for (unsigned i = 0; i < p->num_tensors; i++) {
    s->buffer_of[i] = UINT32_MAX;
    if (p->tensors[i].space == NPU_SPACE_DDR)
      order[n++] = (by_offset_key){p->tensors[i].offset, i};
  }
  qsort(order, n, sizeof *order, by_offset);
  for (unsigned k = 0; k < n; k++) {
    const npu_tensor *t = &p->tensors[order[k].tensor];
    uint64_t lo = t->offset, hi = t->offset + tensor_bytes(t);
    buffer *cur = s->num_buffers ? &s->buffers[s->num_buffers - 1] : NULL;
    if (!cur || lo >= cur->hi) {
      cur = &s->buffers[s->num_buffers++];
      *cur = (buffer){lo, hi, INT32_MAX, -2, false, false, 0, NPU_SPACE_DDR, 0};
    }
    if (hi > cur->hi)
      cur->hi = hi;
    s->buffer_of[order[k].tensor] = s->num_buffers - 1;
  }
  free(order);
}

/* Field f of an opcode names a tensor ("sum" may be -1: none). */
static bool tensor_field(unsigned opcode, unsigned f) { return npu_field_role(opcode, f) != 0; }

/* Instruction `in` reads tensor t (an operand, not its result). */
static bool reads_tensor(const npu_insn *in, int64_t t) {
  const npu_insn_info *info = npu_insn_info_of(in->opcode);
  for (unsigned f = 0; f < info->num_fields; f++)
    if (npu_field_role(in->opcode, f) == NPU_FIELD_OPERAND && in->f[f] == t)
      return true;
  return false;
}

/* The core that runs the instructions after marker `in` (`core id=c`
 * sends them to core c, a `sync` back to core 0). */
static unsigned core_after(const npu_insn *in) {
  return in->opcode == NPU_CORE ? (unsigned)in->f[0] : 0;
}

static void touch(sched *s, int64_t tensor, int at, unsigned core) {
  if (tensor < 0 || tensor >= s->p->num_tensors || s->buffer_of[tensor] == UINT32_MAX)
    return;
  buffer *b = &s->buffers[s->buffer_of[tensor]];
  b->remote |= core != 0;
  b->uses += at >= 0 && at < (int)s->p->num_insns;
  if (at < b->first)
    b->first = at;
  if (at > b->last)
    b->last = at;
}

/* Live ranges: from the first instruction that touches a buffer to the
 * last.  Inputs and outputs live over the whole run: the runtime writes
 * the inputs before it and reads the outputs after, and may bind them to
 * its own memory, so none of them shares bytes with another buffer. */
static void find_live_ranges(sched *s) {
  npu_program *p = s->p;
  unsigned core = 0;
  for (unsigned k = 0; k < p->num_insns; k++) {
    const npu_insn *in = &p->insns[k];
    if (npu_insn_is_marker(in))
      core = core_after(in);
    const npu_insn_info *info = npu_insn_info_of(in->opcode);
    for (unsigned f = 0; f < info->num_fields; f++)
      if (tensor_field(in->opcode, f))
        touch(s, in->f[f], (int)k, core);
  }
  for (unsigned i = 0; i < p->num_inputs + p->num_outputs; i++) {
    unsigned t = i < p->num_inputs ? p->inputs[i] : p->outputs[i - p->num_inputs];
    touch(s, t, -1, 0);
    touch(s, t, (int)p->num_insns, 0);
    if (s->buffer_of[t] != UINT32_MAX)
      s->buffers[s->buffer_of[t]].io = true;
  }
  for (unsigned i = 0; i < s->num_buffers; i++)
    if (s->buffers[i].first > s->buffers[i].last) /* never touched */
      s->buffers[i].first = s->buffers[i].last = -1;
}

/* ---- Placement ---------------------------------------------------------------- */

/* The buffers placed in one space and still live, by offset. */
typedef struct arena {
  uint64_t capacity, size; /* size: the high-water mark */
  unsigned num, cap;
  buffer **live;
} arena;

static void expire(arena *a, int now) {
  unsigned n = 0;
  for (unsigned i = 0; i < a->num; i++)
    if (a->live[i]->last >= now)
      a->live[n++] = a->live[i];
  a->num = n;
}

/* First fit between the live buffers, from byte `floor` up; false when it
 * does not fit under the capacity. */
static bool arena_place(arena *a, buffer *b, unsigned space, uint64_t floor) {
  expire(a, b->first);
  uint64_t need = b->hi - b->lo, at = floor;
  unsigned pos = 0;
  for (; pos < a->num; pos++) {
    if (at + need <= a->live[pos]->offset)
      break;
    uint64_t end = align_up(a->live[pos]->offset + (a->live[pos]->hi - a->live[pos]->lo));
    at = end > at ? end : at;
  }
  if (at + need > a->capacity)
    return false;
  if (a->num == a->cap) {
    a->cap = a->cap ? 2 * a->cap : 16;
    a->live = qir_xrealloc(a->live, a->cap * sizeof *a->live);
  }
  memmove(&a->live[pos + 1], &a->live[pos], (a->num - pos) * sizeof *a->live);
  a->live[pos] = b;
  a->num++;
  b->space = space;
  b->offset = at;
  if (at + need > a->size)
    a->size = at + need;
  return true;
}

static int by_first(const void *x, const void *y) {
  const buffer *a = *(buffer *const *)x, *b = *(buffer *const *)y;
  if (a->first != b->first)
    return a->first < b->first ? -1 : 1;
  return a->lo < b->lo ? -1 : a->lo > b->lo; /* the lowering's order */
}

/* The SRAM bytes reserved for bands at some instruction of [first, last]. */
static uint64_t reserved_below(const sched *s, int first, int last) {
  unsigned lo = 0, hi = s->num_reserved;
  while (lo < hi) { /* the first reservation that ends at or after `first` */
    unsigned mid = (lo + hi) / 2;
    if ((int)s->reserved[mid].last < first)
      lo = mid + 1;
    else
      hi = mid;
  }
  uint64_t top = 0;
  for (unsigned i = lo; i < s->num_reserved && (int)s->reserved[i].first <= last; i++)
    top = s->reserved[i].top > top ? s->reserved[i].top : top;
  return top;
}

/* May buffer b go to SRAM at all (an input, an output or a buffer
 * another core touches stays in DDR). */
static bool sram_candidate(const buffer *b) { return !b->io && !b->remote; }

/* DDR bytes a placement leaves to the intermediates: each one in DDR is
 * written and read (its uses) there. */
static uint64_t ddr_cost(buffer *const *order, unsigned n, const bool *in_sram) {
  uint64_t c = 0;
  for (unsigned i = 0; i < n; i++)
    if (!in_sram[i] && sram_candidate(order[i]))
      c += (order[i]->hi - order[i]->lo) * order[i]->uses;
  return c;
}

/* More DDR bytes first (then the order buffers become live). */
static int by_value(const void *x, const void *y) {
  const buffer *a = *(buffer *const *)x, *b = *(buffer *const *)y;
  uint64_t va = (a->hi - a->lo) * a->uses, vb = (b->hi - b->lo) * b->uses;
  if (va != vb)
    return va > vb ? -1 : 1;
  return by_first(x, y);
}

static int by_lo(const void *x, const void *y) {
  const uint64_t *a = x, *b = y;
  return a[0] < b[0] ? -1 : a[0] > b[0];
}

/* The lowest offset from `at` up where `need` bytes overlap none of the n
 * byte ranges [lo, hi) of `busy` (which it sorts), each taken to end at
 * the next 64-byte boundary. */
static uint64_t first_fit(uint64_t (*busy)[2], unsigned n, uint64_t at, uint64_t need) {
  qsort(busy, n, sizeof *busy, by_lo);
  for (unsigned i = 0; i < n; i++) {
    if (at + need <= busy[i][0])
      break;
    uint64_t end = align_up(busy[i][1]);
    at = end > at ? end : at;
  }
  return at;
}

/* The SRAM placement by value: the buffers that save the most DDR bytes
 * first, each at the lowest offset above its floor where it overlaps no
 * buffer placed before it and live at the same time.  (By order of
 * liveness, a large buffer may find the SRAM split by smaller ones that
 * became live first.)  Sets in_sram and off per buffer of `order` (by
 * liveness); returns the high-water mark. */
static uint64_t place_by_value(const sched *s, buffer **order, unsigned n,
                               uint64_t sram_bytes, bool *in_sram, uint64_t *off) {
  unsigned *placed = qir_xcalloc(n + 1, sizeof *placed),
           *pos = qir_xcalloc(s->num_buffers + 1, sizeof *pos), num_placed = 0;
  uint64_t(*near)[2] = qir_xcalloc(n + 1, sizeof *near);
  buffer **byv = qir_xcalloc(n + 1, sizeof *byv);
  memcpy(byv, order, n * sizeof *byv);
  qsort(byv, n, sizeof *byv, by_value);
  for (unsigned i = 0; i < n; i++) /* buffer -> its index in `order` */
    pos[order[i] - s->buffers] = i;
  uint64_t top = 0;
  for (unsigned v = 0; v < n; v++) {
    unsigned i = pos[byv[v] - s->buffers];
    const buffer *b = order[i];
    in_sram[i] = false;
    if (!sram_candidate(b))
      continue;
    unsigned m = 0;
    for (unsigned j = 0; j < num_placed; j++) {
      const buffer *c = order[placed[j]];
      if (c->first <= b->last && b->first <= c->last) {
        near[m][0] = off[placed[j]];
        near[m++][1] = off[placed[j]] + (c->hi - c->lo);
      }
    }
    uint64_t need = b->hi - b->lo,
             at = first_fit(near, m, reserved_below(s, b->first, b->last), need);
    if (at + need > sram_bytes)
      continue;
    in_sram[i] = true;
    off[i] = at;
    placed[num_placed++] = i;
    top = at + need > top ? at + need : top;
  }
  free(pos);
  free(byv);
  free(near);
  free(placed);
  return top;
}

/* Intermediates into SRAM as they fit (when `sram`; above the bands
 * reserved over their lives), then everything else into DDR in the order
 * buffers become live.  SRAM takes the better of two placements: first
 * fit in the order buffers become live, and place_by_value. */
static void place_buffers(sched *s, uint64_t sram_bytes, bool sram) {
  unsigned n = s->num_buffers;
  buffer **order = qir_xcalloc(n + 1, sizeof *order);
  for (unsigned i = 0; i < n; i++)
    order[i] = &s->buffers[i];
  qsort(order, n, sizeof *order, by_first);
  arena on_chip = {sram_bytes, 0, 0, 0, NULL}, ddr = {UINT64_MAX, 0, 0, 0, NULL};
  bool *in_sram = qir_xcalloc(n + 1, sizeof *in_sram);
  for (unsigned i = 0; i < n && sram; i++)
    in_sram[i] = sram_candidate(order[i]) &&
                 arena_place(&on_chip, order[i], NPU_SPACE_SRAM,
                             reserved_below(s, order[i]->first, order[i]->last));
  if (sram && s->by_value && n <= NPU_MAX_VALUE_PLACEMENT) {
    bool *by_v = qir_xcalloc(n + 1, sizeof *by_v);
    uint64_t *off = qir_xcalloc(n + 1, sizeof *off);
    uint64_t top = place_by_value(s, order, n, sram_bytes, by_v, off);
    if (ddr_cost(order, n, by_v) < ddr_cost(order, n, in_sram)) {
      for (unsigned i = 0; i < n; i++) {
        in_sram[i] = by_v[i];
        order[i]->space = by_v[i] ? NPU_SPACE_SRAM : NPU_SPACE_DDR;
        order[i]->offset = off[i];
      }
      on_chip.size = top;
      s->took_value = true;
    }
    free(off);
    free(by_v);
  }
  for (unsigned i = 0; i < n; i++)
    if (!in_sram[i])
      arena_place(&ddr, order[i], NPU_SPACE_DDR, 0);
  if (sram && on_chip.size > s->p->sram_size)
    s->p->sram_size = on_chip.size;
  s->p->ddr_size = ddr.size;
  free(in_sram);
  free(on_chip.live);
  free(ddr.live);
  free(order);
}


/* ---- Layer groups tiled along H (and W, and the frames of a batch) ----------------
 * A layer group is a run of instructions that each compute output rows
 * from a window of input rows (conv, pools, elementwise ops without
 * broadcast), each consuming the previous one's result, which nothing
 * else reads (but at most one later instruction of the group, through its
 * other operand: a branch, kept in SRAM until then) and which the
 * placement left in DDR.  The group runs tile by
 * tile: a band of rows of its input is copied into SRAM, every
 * instruction runs on the band (the rows each one needs, halos included,
 * are found backwards from the output band; overlapping halos are
 * computed again by the next tile), and the last result's band is copied
 * out.  The intermediates then never reach DDR.  Tiles use the SRAM left
 * free by the buffers placed over the group's instructions; two tiles'
 * worth of space, when it fits, lets the copies of one tile overlap the
 * compute of the other (double buffering, see cost.c).  Where not even
 * one row across the width fits, the tiles also split the width (halo
 * columns as halo rows); a batch may run one frame per tile. */

/* A tile's part of a tensor: rows [lo, hi) of H, columns [w0, w1) of W. */
typedef struct region {
  int64_t lo, hi, w0, w1;
} region;

typedef struct group {
  unsigned g0, g1;   /* instructions, inclusive */
  uint64_t base;     /* first SRAM byte of its bands */
  uint64_t weights;  /* SRAM bytes for its conv weights (0: read them from
                        the weight space) */
  unsigned cores;    /* the cores its tiles are spread over */
  bool per_frame;    /* tiles of one frame each (a batch: the frames of
                        dimension 0 one after the other, sharing the
                        weights loaded once) */
  int64_t tw;        /* output columns of a tile; 0: the full width */
  bool fits;         /* its intermediates fit in SRAM untiled: it is a
                        group only to spread its tiles over the cores */
  bool reduce;       /* instruction g1 + 1 is a gpool of the last result,
                        which it alone reads: each tile pools its band
                        into an accumulator instead of copying it out
                        (reducer) */
  unsigned keep;     /* what each tile takes from the bands of the tile
                        before it (of the same core and frame) instead of
                        computing or loading it again: KEEP_* */
  int64_t cut_th;    /* the tile height cut[] was found for (0: none) */
  int64_t cut[NPU_MAX_CORES + 1]; /* tiles cut evenly over the cores
                        (rows_cut_evenly): core c's output rows, from
                        cut[c] to cut[c + 1] (balance_cores) */
} group;

/* group.keep: the rows (or columns) the tiles share with the tile before
 * them are loaded and computed again (NONE); the input's are copied from
 * that tile's input band (INPUT); and so are every result's, whose
 * instruction then computes only the rest (ALL; see emit_tiles). */
enum { KEEP_NONE, KEEP_INPUT, KEEP_ALL };

static int64_t field(const npu_insn *in, const char *f) {
  return in->f[npu_field(in->opcode, f)];
}

static const npu_tensor *tensor_at(const npu_program *p, const npu_insn *in,
                                   const char *f) {
  return &p->tensors[field(in, f)];
}

static bool same_dims(const npu_tensor *a, const npu_tensor *b) {
  return !memcmp(a->dims, b->dims, sizeof a->dims);
}

/* A conv's sum row for row with its result: the same frames, rows and
 * columns (it may have fewer channels: a channel-padded residual). */
static bool same_rows(const npu_tensor *a, const npu_tensor *b) {
  return a->dims[0] == b->dims[0] && a->dims[2] == b->dims[2] && a->dims[3] == b->dims[3];
}

/* An operand of add or mul the same for every row (one row, broadcast):
 * each band uses it whole. */
static bool row_broadcast(const npu_tensor *t) { return t->dims[2] == 1; }

/* (A conv's float result, f32, ends a group: nothing else reads it, and
 * its tiles' rows go out by float copies.) */
static bool row_local(const npu_program *p, const npu_insn *in) {
  const npu_tensor *y = tensor_at(p, in, "out");
  switch (in->opcode) {
  case NPU_CONV:
    return field(in, "sum") < 0 || same_rows(tensor_at(p, in, "sum"), y);
  case NPU_MAXPOOL:
  case NPU_AVGPOOL:
    return true;
  case NPU_LUT:
    return same_dims(tensor_at(p, in, "in"), y);
  case NPU_ADD:
  case NPU_MUL: {
    const npu_tensor *a = tensor_at(p, in, "a"), *b = tensor_at(p, in, "b");
    return (same_dims(a, y) && (same_dims(b, y) || row_broadcast(b))) ||
           (same_dims(b, y) && row_broadcast(a));
  }
  default:
    return false;
  }
}

/* Instruction k writes a program output (a buffer that stays in DDR). */
static bool writes_output(const sched *s, unsigned k) {
  int64_t y = field(&s->p->insns[k], "out");
  return y >= 0 && s->buffer_of[y] != UINT32_MAX && s->buffers[s->buffer_of[y]].io;
}

/* Instruction k reads a program input or output (a buffer that stays
 * in DDR). */
static bool reads_io(const sched *s, unsigned k) {
  const npu_insn *in = &s->p->insns[k];
  const npu_insn_info *info = npu_insn_info_of(in->opcode);
  for (unsigned f = 0; f < info->num_fields; f++)
    if (npu_field_role(in->opcode, f) == NPU_FIELD_OPERAND && in->f[f] >= 0 &&
        s->buffer_of[in->f[f]] != UINT32_MAX && s->buffers[s->buffer_of[in->f[f]]].io)
      return true;
  return false;
}

/* A chain of row-local instructions from k writes a program output within
 * MAX_GROUP instructions: tiled, the output goes out band by band while
 * the next tile computes, even where the chain fits in SRAM (an
 * instruction overlaps only its own compute with its stores). */
static bool streams(const sched *s, unsigned k) {
  for (unsigned j = k; j < s->p->num_insns && j < k + MAX_GROUP; j++) {
    if (!row_local(s->p, &s->p->insns[j]))
      return false;
    if (writes_output(s, j))
      return j > k;
  }
  return false;
}

/* The operand through which an instruction takes the group's rows: "in",
 * or of add and mul the one in buffer `b` ("a" when b is none). */
static const char *chain_field(const sched *s, const npu_insn *in, unsigned b) {
  if (in->opcode != NPU_ADD && in->opcode != NPU_MUL)
    return "in";
  if (b != UINT32_MAX)
    return s->buffer_of[field(in, "b")] == b ? "b" : "a";
  const npu_program *p = s->p;
  return same_dims(tensor_at(p, in, "a"), tensor_at(p, in, "out")) ? "a" : "b";
}

/* Instruction j reads buffer `id` whole through a side operand (the
 * other operand of add/mul, a conv's sum) shaped like its result. */
static bool side_reader(const sched *s, unsigned id, int j) {
  const npu_program *p = s->p;
  const npu_insn *in = &p->insns[j];
  static const char *const sides[] = {"a", "b", "sum"};
  if (!row_local(p, in))
    return false;
  for (unsigned i = 0; i < 3; i++) {
    bool has = in->opcode == NPU_CONV ? i == 2 : i < 2 && (in->opcode == NPU_ADD ||
                                                           in->opcode == NPU_MUL);
    int64_t t = has ? field(in, sides[i]) : -1;
    const npu_tensor *y = tensor_at(p, in, "out");
    if (t >= 0 && s->buffer_of[t] == id &&
        (i == 2 ? same_rows(&p->tensors[t], y) : same_dims(&p->tensors[t], y)))
      return true;
  }
  return false;
}

/* Instruction m only feeds a later instruction's side operand: its
 * result is read once, not by m + 1, through a side operand shaped like
 * that reader's result (a residual's skip path through a pooling, as in
 * BlazeFace).  m + 1 continues from m's own chain operand. */
static bool find_side_insn(const sched *s, unsigned m) {
  const npu_program *p = s->p;
  if (m == 0 || m + 1 >= p->num_insns || !row_local(p, &p->insns[m]))
    return false;
  unsigned id = s->buffer_of[field(&p->insns[m], "out")];
  unsigned src = s->buffer_of[field(&p->insns[m - 1], "out")];
  if (id == UINT32_MAX || src == UINT32_MAX)
    return false;
  const buffer *b = &s->buffers[id];
  const npu_insn *a = &p->insns[m], *next = &p->insns[m + 1];
  /* (An input or output is live to num_insns: no instruction there.) */
  return !b->io && b->uses == 2 && b->first == (int)m && b->last > (int)m + 1 &&
         b->last < (int)p->num_insns && side_reader(s, id, b->last) &&
         s->buffer_of[field(a, chain_field(s, a, src))] == src &&
         s->buffer_of[field(next, chain_field(s, next, src))] == src;
}

/* Marks the side instructions, once: the buffers they depend on stay as
 * the trial placement made them while the groups are chosen. */
static void find_side_insns(sched *s) {
  s->side = qir_xcalloc(s->p->num_insns + 1, sizeof *s->side);
  for (unsigned m = 0; m < s->p->num_insns; m++)
    s->side[m] = find_side_insn(s, m);
}

static bool side_insn(const sched *s, unsigned m) { return s->side[m]; }

/* The rows [*r0, *r1) of gather g's source that the rows of region r of
 * its result take (its table, in the weight space); false when the table
 * is out of reach. */
static bool gather_rows(const sched *s, const npu_insn *g, region r, int64_t *r0, int64_t *r1) {
  const npu_program *p = s->p;
  int64_t W = tensor_at(p, g, "out")->dims[3], ws = tensor_at(p, g, "in")->dims[3];
  int64_t off = field(g, "table") + r.lo * W * 4, n = (r.hi - r.lo) * W;
  if (!s->weights || off < 0 || n <= 0 || (uint64_t)off > s->weights_size ||
      (uint64_t)n * 4 > s->weights_size - (uint64_t)off)
    return false;
  int64_t base = field(g, "base");
  *r0 = INT64_MAX;
  *r1 = -1;
  for (int64_t j = 0; j < n; j++) {
    int32_t idx;
    memcpy(&idx, s->weights + off + j * 4, 4);
    int64_t row = idx - base;
    row = row >= 0 ? row / ws : -1;
    *r0 = row < *r0 ? row : *r0;
    *r1 = row + 1 > *r1 ? row + 1 : *r1;
  }
  return *r0 >= 0 && *r1 <= tensor_at(p, g, "in")->dims[2];
}

/* Instructions [k0, k1] read held gathers' results (any still held or
 * not: a quick test before looking for them). */
static bool reads_held(const sched *s, unsigned k0, unsigned k1) {
  for (unsigned k = k0; s->num_held && k <= k1; k++)
    if (s->num_held[k])
      return true;
  return false;
}

/* Channel c of the held gathers whose part of a concat instruction k
 * reads (hold_concat_gathers): the first such gather's index starting at
 * or after c, or -1. */
static int concat_part_from(const sched *s, unsigned k, int64_t c, int64_t *c0) {
  const npu_program *p = s->p;
  unsigned op = p->insns[k].opcode;
  if (!reads_held(s, k, k) || !row_local(p, &p->insns[k]) || op == NPU_ADD || op == NPU_MUL)
    return -1;
  const npu_tensor *x = tensor_at(p, &p->insns[k], "in");
  uint64_t plane = tensor_bytes(x) / (uint64_t)x->dims[1];
  int best = -1;
  for (unsigned m = 0; m < p->num_insns; m++) {
    if (!s->held[m] || s->reader_of[m] != (int)k || p->insns[m].opcode != NPU_GATHER ||
        s->held_by[k] == (int)m)
      continue;
    int64_t at = (int64_t)((tensor_at(p, &p->insns[m], "out")->offset - x->offset) / plane);
    if (at >= c && (best < 0 || at < *c0)) {
      best = (int)m;
      *c0 = at;
    }
  }
  return best;
}

/* The gather whose result add/mul k reads as an operand shaped like its
 * result, when that is the result's one use: a tiled group on one core
 * can then gather each band from the source rows it takes instead of
 * reading the gathered tensor back from DDR (a nearest upsampling before
 * the add of a feature pyramid).  Else -1. */
static int side_gather(const sched *s, unsigned k) {
  const npu_program *p = s->p;
  const npu_insn *in = &p->insns[k];
  static const char *const ops[] = {"a", "b"};
  if (in->opcode != NPU_ADD && in->opcode != NPU_MUL)
    return -1;
  const npu_tensor *y = tensor_at(p, in, "out");
  for (unsigned i = 0; i < 2; i++) {
    int64_t t = field(in, ops[i]);
    unsigned id = s->buffer_of[t];
    if (id == UINT32_MAX || !same_dims(&p->tensors[t], y) || y->dims[0] != 1)
      continue;
    const buffer *b = &s->buffers[id];
    if (b->io || b->uses != 2 || b->last != (int)k || b->first < 0 || b->first >= (int)k)
      continue;
    const npu_insn *g = &p->insns[b->first];
    if (g->opcode != NPU_GATHER)
      continue;
    const npu_tensor *o = tensor_at(p, g, "out");
    int64_t r0, r1;
    if (o->offset != p->tensors[t].offset || !same_dims(o, &p->tensors[t]) ||
        tensor_at(p, g, "in")->dims[0] != 1 ||
        !gather_rows(s, g, (region){0, o->dims[2], 0, o->dims[3]}, &r0, &r1))
      continue;
    return b->first;
  }
  return -1;
}

/* The gathers that write their part of a concat (a channel range, in
 * place) which instruction k alone reads, whole, through its row operand:
 * the feature pyramid's levels upsampled and concatenated before
 * PP-OCRv4 det's head.  A tiled group starting at k can gather each
 * part's band into its input band.  Held like side_gather's. */
static void hold_concat_gathers(sched *s, unsigned k) {
  const npu_program *p = s->p;
  const npu_insn *in = &p->insns[k];
  if (!row_local(p, in) || in->opcode == NPU_ADD || in->opcode == NPU_MUL)
    return;
  int64_t x = field(in, "in");
  unsigned id = s->buffer_of[x];
  const npu_tensor *xt = &p->tensors[x];
  if (id == UINT32_MAX || xt->dims[0] != 1)
    return;
  const buffer *b = &s->buffers[id];
  if (b->io || b->last != (int)k || b->first < 0 || b->hi - b->lo != tensor_bytes(xt))
    return;
  uint64_t plane = tensor_bytes(xt) / (uint64_t)xt->dims[1];
  for (int m = b->first; m < (int)k; m++) { /* k the one reader; its writers */
    const npu_insn *w = &p->insns[m];
    const npu_insn_info *info = npu_insn_info_of(w->opcode);
    for (unsigned f = 0; f < info->num_fields; f++)
      if (tensor_field(w->opcode, f) && w->f[f] >= 0 && s->buffer_of[w->f[f]] == id &&
          npu_field_role(w->opcode, f) != NPU_FIELD_RESULT)
        return;
  }
  for (int m = b->first; m < (int)k; m++) {
    const npu_insn *g = &p->insns[m];
    if (g->opcode != NPU_GATHER || s->held[m] || s->buffer_of[field(g, "out")] != id)
      continue;
    const npu_tensor *o = tensor_at(p, g, "out");
    int64_t r0, r1;
    if (o->dims[0] == 1 && o->dims[2] == xt->dims[2] && o->dims[3] == xt->dims[3] &&
        o->dtype == xt->dtype && o->offset >= xt->offset && (o->offset - xt->offset) % plane == 0 &&
        gather_rows(s, g, (region){0, o->dims[2], 0, o->dims[3]}, &r0, &r1)) {
      s->held[m] = true;
      s->reader_of[m] = (int)k;
    }
  }
}

/* Holds back the gathers side_gather and hold_concat_gathers find, once:
 * each is emitted before the instructions that contain its reader, unless
 * that is a tiled group that gathers the bands itself (release_gathers). */
static void find_held_gathers(sched *s) {
  unsigned n = s->p->num_insns;
  s->held_by = qir_xcalloc(n + 1, sizeof *s->held_by);
  s->held = qir_xcalloc(n + 1, sizeof *s->held);
  s->reader_of = qir_xcalloc(n + 1, sizeof *s->reader_of);
  for (unsigned k = 0; k < n; k++)
    s->reader_of[k] = -1;
  for (unsigned k = 0; k < n; k++) {
    int g = side_gather(s, k);
    s->held_by[k] = g;
    if (g >= 0) {
      s->held[g] = true;
      s->reader_of[g] = (int)k;
    }
  }
  for (unsigned k = 0; k < n; k++)
    hold_concat_gathers(s, k);
  s->num_held = qir_xcalloc(n + 1, sizeof *s->num_held);
  for (unsigned g = 0; g < n; g++)
    if (s->held[g])
      s->num_held[s->reader_of[g]]++;
}

/* The instruction whose result instruction k (after g0, the first of its
 * group) reads through its chain operand: k - 1, or k - 2 past a side
 * instruction. */
static unsigned chain_source(const sched *s, unsigned g0, unsigned k) {
  return k >= g0 + 2 && side_insn(s, k - 1) ? k - 2 : k - 1;
}

/* The buffer of that result (none for g0: it reads the group's input). */
static unsigned chain_buffer(const sched *s, unsigned g0, unsigned k) {
  return k > g0 ? s->buffer_of[field(&s->p->insns[chain_source(s, g0, k)], "out")]
                : UINT32_MAX;
}

/* Instruction k+1 continues the group of k (which starts at g0): it reads
 * k's result (whole, as k wrote it) through its chain operand, and
 * nothing else touches that DDR buffer but, at most, one later
 * instruction through a side operand (a branch: a residual's skip
 * input), which must then be in the group too (grow_group), or
 * instructions after the group's end (an escaping result: may_escape,
 * which grow_group asks once the group's end is known).  A side
 * instruction also links: k + 1 a side instruction reading k's result,
 * k + 2 reading it too; k one, k + 1 reading k - 1's result.  On several
 * cores a result the trial placement keeps in SRAM links too (tiles
 * spread over the cores may beat one core running the layers whole);
 * *crowded tells whether it did not fit. */
static bool links(const sched *s, unsigned g0, unsigned k, bool spread, bool *crowded) {
  const npu_program *p = s->p;
  const npu_insn *a = &p->insns[k], *b = &p->insns[k + 1];
  if (!row_local(p, a) || !row_local(p, b))
    return false;
  bool past_side = side_insn(s, k);
  if (past_side && (k == g0 || (k - 1 > g0 && side_insn(s, k - 1))))
    return false;
  unsigned src = past_side ? k - 1 : k;
  unsigned t = (unsigned)field(&p->insns[src], "out"), id = s->buffer_of[t];
  if (id == UINT32_MAX)
    return false;
  const buffer *buf = &s->buffers[id];
  bool crowds = buf->space != NPU_SPACE_SRAM || buf->hi - buf->lo > s->band_room;
  *crowded = crowds;
  bool ok;
  if (past_side)
    ok = buf->uses == 3 && buf->last == (int)k + 1;
  else if (k + 2 < p->num_insns && side_insn(s, k + 1))
    ok = buf->uses == 3 && buf->last == (int)k + 2;
  else
    ok = (buf->uses == 2 && buf->last == (int)k + 1) ||
         (buf->uses >= 3 && buf->last > (int)k + 1 && buf->last < (int)p->num_insns &&
          (s->escape || (buf->uses == 3 && side_reader(s, id, buf->last))));
  if (buf->io || !(crowds || spread) || !ok || buf->first != (int)src ||
      buf->hi - buf->lo != tensor_bytes(&p->tensors[t]))
    return false;
  int64_t c = field(b, chain_field(s, b, id));
  return s->buffer_of[c] == id && same_dims(&p->tensors[c], &p->tensors[t]) &&
         (p->tensors[c].dims[2] == tensor_at(p, b, "out")->dims[2] ||
          (b->opcode != NPU_ADD && b->opcode != NPU_MUL));
}

/* The window of an instruction along H (d = 2) or W (d = 3): its size,
 * stride, dilation and leading padding. */
static void window(const npu_program *p, const npu_insn *in, unsigned d, int64_t *k,
                   int64_t *st, int64_t *dl, int64_t *pad) {
  bool h = d == 2;
  *k = *st = *dl = 1;
  *pad = 0;
  if (in->opcode == NPU_CONV) {
    *k = tensor_at(p, in, "w")->dims[d];
    *st = field(in, h ? "sh" : "sw");
    *dl = field(in, h ? "dh" : "dw");
    *pad = field(in, h ? "pt" : "pl");
  } else if (in->opcode == NPU_MAXPOOL || in->opcode == NPU_AVGPOOL) {
    *k = field(in, h ? "kh" : "kw");
    *st = field(in, h ? "sh" : "sw");
    *dl = in->opcode == NPU_MAXPOOL ? field(in, h ? "dh" : "dw") : 1;
    *pad = field(in, h ? "pt" : "pl");
  }
}

/* The input indices [lo, hi) along dimension d that outputs [lo, hi)
 * read, within the input's n. */
static void input_span(const npu_program *p, const npu_insn *in, unsigned d, int64_t n,
                       int64_t *lo, int64_t *hi) {
  int64_t k, st, dl, pad;
  window(p, in, d, &k, &st, &dl, &pad);
  int64_t a = *lo * st - pad, b = (*hi - 1) * st - pad + (k - 1) * dl + 1;
  *lo = a < 0 ? 0 : a;
  *hi = b > n ? n : b;
}

/* The region of the chain operand that the output region r reads. */
static region input_region(const npu_program *p, const npu_insn *in, const char *chain,
                           region r) {
  const npu_tensor *x = tensor_at(p, in, chain);
  input_span(p, in, 2, x->dims[2], &r.lo, &r.hi);
  input_span(p, in, 3, x->dims[3], &r.w0, &r.w1);
  return r;
}

/* Bytes of the region r of tensor t (64-byte aligned), of one frame when
 * `one_frame`. */
static uint64_t band_bytes(const npu_tensor *t, region r, bool one_frame) {
  int64_t d[NPU_RANK] = {one_frame ? 1 : t->dims[0], t->dims[1], r.hi - r.lo, r.w1 - r.w0};
  npu_tensor b = *t;
  memcpy(b.dims, d, sizeof d);
  return align_up(tensor_bytes(&b));
}

/* branch_source's answer for a side operand that is the group's input. */
#define BRANCH_INPUT (-2)

/* When the side operand of instruction k of group g (the other operand
 * of add/mul, a conv's sum) is the result of an earlier instruction i of
 * the group (a branch), i - g0 and the field; when it is the group's
 * input (the tensor the first instruction reads through its row operand:
 * x * s + x after a squeeze-and-excitation), BRANCH_INPUT and the field;
 * else -1. */
static int branch_source(const sched *s, const group *g, unsigned k, const char **f) {
  const npu_program *p = s->p;
  const npu_insn *in = &p->insns[k];
  if (k == g->g0)
    return -1;
  const char *side = in->opcode == NPU_CONV ? "sum"
                     : in->opcode == NPU_ADD || in->opcode == NPU_MUL
                         ? (!strcmp(chain_field(s, in, chain_buffer(s, g->g0, k)), "a") ? "b" : "a")
                         : NULL;
  int64_t t = side ? field(in, side) : -1;
  if (t < 0 || s->buffer_of[t] == UINT32_MAX)
    return -1;
  const npu_insn *first = &p->insns[g->g0];
  const npu_tensor *x = tensor_at(p, first, chain_field(s, first, UINT32_MAX));
  if (x->offset == p->tensors[t].offset && x->space == p->tensors[t].space &&
      same_dims(x, &p->tensors[t]) && !row_broadcast(x)) {
    *f = side;
    return BRANCH_INPUT;
  }
  for (unsigned i = g->g0; i + 1 < k; i++)
    if (s->buffer_of[field(&p->insns[i], "out")] == s->buffer_of[t]) {
      *f = side;
      return (int)(i - g->g0);
    }
  return -1;
}

/* Widens r[i] to cover region c (sets it when has[i] is not yet). */
static void cover(region *r, bool *has, unsigned i, region c) {
  if (has[i]) {
    c.lo = c.lo < r[i].lo ? c.lo : r[i].lo;
    c.hi = c.hi > r[i].hi ? c.hi : r[i].hi;
    c.w0 = c.w0 < r[i].w0 ? c.w0 : r[i].w0;
    c.w1 = c.w1 > r[i].w1 ? c.w1 : r[i].w1;
  }
  r[i] = c;
  has[i] = true;
}

/* Region b, below region a, has rows of a (the same columns); ... */
static bool shares_rows(region a, region b) {
  return a.w0 == b.w0 && a.w1 == b.w1 && a.lo <= b.lo && b.lo < a.hi;
}

/* ... right of a, has columns of a (the same rows). */
static bool shares_cols(region a, region b) {
  return a.lo == b.lo && a.hi == b.hi && a.w0 <= b.w0 && b.w0 < a.w1;
}

/* Region r without the rows (columns) it shares with region `prev` (r
 * itself when they share none; empty when prev holds all of r). */
static region fresh(region prev, region r) {
  if (shares_rows(prev, r))
    r.lo = prev.hi < r.hi ? prev.hi : r.hi;
  else if (shares_cols(prev, r))
    r.w0 = prev.w1 < r.w1 ? prev.w1 : r.w1;
  return r;
}

static bool empty(region r) { return r.hi <= r.lo || r.w1 <= r.w0; }

static bool same_region(region a, region b) {
  return a.lo == b.lo && a.hi == b.hi && a.w0 == b.w0 && a.w1 == b.w1;
}

/* The part of region r before region c = fresh(prev, r): the rows (or
 * columns) kept from prev. */
static region kept_part(region r, region c) {
  if (c.lo > r.lo)
    r.hi = c.lo;
  else
    r.w1 = c.w0;
  return r;
}

/* Region r in the coordinates of a band of region `of`. */
static region relative(region r, region of) {
  return (region){r.lo - of.lo, r.hi - of.lo, r.w0 - of.w0, r.w1 - of.w0};
}

/* The region of each result of the group that the tile whose last result
 * is region `out` needs in its band (r), and that each instruction
 * computes (c); *in gets the region of the group's input (empty when no
 * instruction reads it).  With `prev`, the bands of the tile before it
 * (their regions r, by instruction), a result's rows or columns that the
 * band before holds are kept from it, not computed again (KEEP_ALL): an
 * instruction computes only the rest (nothing when the band before holds
 * all it needs), and reads only what that takes.  The last result is
 * never kept (the tiles' results do not overlap).  False when a band
 * would be empty. */
static bool plan_tile(const sched *s, const group *g, region out, region *r, region *in,
                      region *c, const region *prev) {
  const npu_program *p = s->p;
  unsigned n = g->g1 - g->g0 + 1;
  bool has[MAX_GROUP] = {false};
  QIR_ASSERT(n <= MAX_GROUP);
  /* Backwards: each result's region covers what its readers in the group
   * need (the union when two read it: a branch, a side instruction's
   * source). */
  r[n - 1] = out;
  has[n - 1] = true;
  *in = (region){0, 0, 0, 0};
  bool ok = true, in_read = false; /* (in_read: a side operand reads the input) */
  for (unsigned k = g->g1 + 1; ok && k-- > g->g0;) {
    const npu_insn *insn = &p->insns[k];
    unsigned i = k - g->g0;
    if (!has[i]) /* (its readers compute nothing: kept whole) */
      r[i] = (region){0, 0, 0, 0};
    c[i] = prev && k < g->g1 ? fresh(prev[i], r[i]) : r[i];
    if (empty(c[i]))
      continue;
    region cur = input_region(p, insn, chain_field(s, insn, chain_buffer(s, g->g0, k)), c[i]);
    const char *f;
    int b = branch_source(s, g, k, &f);
    ok = !empty(cur);
    if (ok && k == g->g0)
      cover(in, &in_read, 0, cur);
    else if (ok)
      cover(r, has, chain_source(s, g->g0, k) - g->g0, cur);
    if (ok && b >= 0)
      cover(r, has, (unsigned)b, c[i]);
    else if (ok && b == BRANCH_INPUT)
      cover(in, &in_read, 0, c[i]);
  }
  return ok;
}

/* Instruction k of group g writes an escaping result (may_escape). */
static bool escapes(const sched *s, const group *g, unsigned k) {
  if (k >= g->g1)
    return false;
  unsigned id = s->buffer_of[field(&s->p->insns[k], "out")];
  return id != UINT32_MAX && s->buffers[id].last > (int)g->g1;
}

/* Group g has an escaping result: the first such instruction, else
 * UINT32_MAX. */
static unsigned first_escape(const sched *s, const group *g) {
  for (unsigned k = g->g0; k < g->g1; k++)
    if (escapes(s, g, k))
      return k;
  return UINT32_MAX;
}

/* Spread over the cores by rows alone, in a multiple of the cores, the
 * tiles of group g at `th` rows (of H) are cut over the cores by what
 * they compute, not th rows each and a short last one: each core gets a
 * run of rows (g->cut, balance_cores: as many rows but one, the first
 * cores the longer shares, until the halos say otherwise), cut into
 * tiles that differ by one row at most (none over th).  80 rows in 6
 * tiles on 3 cores without halos are 27, 27 and 26 per core (tiles of
 * 14, 13, 14, 13, 13 and 13 rows), not 14, 14, 14, 14, 14 and 10, which
 * leave the last core 24 rows to the others' 28. */
static bool rows_cut_evenly(const group *g, int64_t H, int64_t th) {
  int64_t rt = (H + th - 1) / th;
  return g->cores > 1 && !g->tw && !g->per_frame && rt % g->cores == 0;
}

/* Output rows [a, b) cut into n tiles that differ by one row at most,
 * the longer ones first: rows [*o0, *o1) of the j-th. */
static void even_part(int64_t a, int64_t b, int64_t n, int64_t j, int64_t *o0, int64_t *o1) {
  *o0 = a + (j * (b - a) + n - 1) / n;
  *o1 = a + ((j + 1) * (b - a) + n - 1) / n;
}

/* The output rows [*o0, *o1) of row i of the tiles of group g at `th`
 * rows, of H (rows_cut_evenly). */
static void tile_rows(const group *g, int64_t H, int64_t th, int64_t i, int64_t *o0,
                      int64_t *o1) {
  int64_t rt = (H + th - 1) / th;
  if (rows_cut_evenly(g, H, th)) {
    int64_t n = g->cores, per = rt / n, c = i / per, a, b;
    if (g->cut_th == th)
      a = g->cut[c], b = g->cut[c + 1];
    else
      even_part(0, H, n, c, &a, &b);
    even_part(a, b, per, i % per, o0, o1);
    return;
  }
  *o0 = i * th;
  *o1 = *o0 + th < H ? *o0 + th : H;
}

/* The output region of tile t of group g at `th` rows (and g->tw
 * columns) per tile, and the tile's frame (-1: all frames). */
static region tile_region(const sched *s, const group *g, int64_t th, int64_t t,
                          int64_t *frame) {
  const npu_tensor *y = tensor_at(s->p, &s->p->insns[g->g1], "out");
  int64_t H = y->dims[2], W = y->dims[3], tw = g->tw ? g->tw : W;
  int64_t rt = (H + th - 1) / th, ct = (W + tw - 1) / tw, o0, o1;
  *frame = g->per_frame ? t / (rt * ct) : -1;
  t %= rt * ct;
  tile_rows(g, H, th, t / ct, &o0, &o1);
  int64_t q = t % ct * tw;
  return (region){o0, o1, q, q + tw < W ? q + tw : W};
}

/* The tiles of group g at `th` rows: over the columns (g->tw) and per
 * frame when it tiles per frame. */
static int64_t count_tiles(const sched *s, const group *g, int64_t th) {
  const npu_tensor *y = tensor_at(s->p, &s->p->insns[g->g1], "out");
  int64_t tw = g->tw ? g->tw : y->dims[3];
  return (y->dims[2] + th - 1) / th * ((y->dims[3] + tw - 1) / tw) *
         (g->per_frame ? y->dims[0] : 1);
}

/* What a core computes of group g when it takes output rows [a, b) in
 * `per` tiles (rows_cut_evenly): the rows each instruction k computes
 * for them, at cost[k - g->g0] cycles per row; INFINITY when a tile
 * cannot be planned. */
static double core_work(const sched *s, const group *g, const double *cost, int64_t per,
                        int64_t a, int64_t b, region *r) {
  int64_t W = tensor_at(s->p, &s->p->insns[g->g1], "out")->dims[3];
  region in, c[MAX_GROUP];
  double work = 0;
  for (int64_t j = 0; j < per; j++) {
    int64_t o0, o1;
    even_part(a, b, per, j, &o0, &o1);
    if (!plan_tile(s, g, (region){o0, o1, 0, W}, r, &in, c, NULL))
      return INFINITY;
    for (unsigned k = 0; k <= g->g1 - g->g0; k++)
      work += (double)(c[k].hi - c[k].lo) * cost[k];
  }
  return work;
}

/* Cuts the rows of group g's tiles at `th` rows over its cores
 * (rows_cut_evenly, g->cut) so that the busiest core computes least:
 * from as many rows each but one (the first cores the longer shares), a
 * row moves from the busiest core to a neighbour while that lowers the
 * most any core computes (core_work).  A core between two others
 * computes the halo rows on both sides of its rows, the first and the
 * last on one side only, so it takes fewer rows. */
static void balance_cores(const sched *s, group *g, int64_t th, region *r) {
  const npu_tensor *y = tensor_at(s->p, &s->p->insns[g->g1], "out");
  int64_t H = y->dims[2], n = g->cores;
  double work[NPU_MAX_CORES];
  g->cut_th = 0;
  if (!rows_cut_evenly(g, H, th) || !s->compute_sum || n > NPU_MAX_CORES)
    return;
  int64_t per = (H + th - 1) / th / n;
  double cost[MAX_GROUP]; /* (compute cycles per output row) */
  for (unsigned k = g->g0; k <= g->g1; k++)
    cost[k - g->g0] = (s->compute_sum[k + 1] - s->compute_sum[k]) /
                      (double)tensor_at(s->p, &s->p->insns[k], "out")->dims[2];
  for (int64_t c = 0; c < n; c++)
    even_part(0, H, n, c, &g->cut[c], &g->cut[c + 1]);
  for (int64_t c = 0; c < n; c++)
    work[c] = core_work(s, g, cost, per, g->cut[c], g->cut[c + 1], r);
  for (int64_t step = 0; step < H; step++) {
    int64_t m = 0, to = -1;
    for (int64_t c = 1; c < n; c++)
      m = work[c] > work[m] ? c : m;
    double best = work[m] * (1 - 1e-9), wm = 0, wn = 0;
    for (int64_t nb = m - 1; nb <= m + 1; nb += 2) { /* (the row to core nb) */
      if (nb < 0 || nb >= n || g->cut[m + 1] - g->cut[m] - 1 < per ||
          g->cut[nb + 1] - g->cut[nb] + 1 > per * th)
        continue;
      int64_t e = nb < m ? m : m + 1, at = g->cut[e];
      g->cut[e] = nb < m ? at + 1 : at - 1;
      double a = core_work(s, g, cost, per, g->cut[m], g->cut[m + 1], r);
      double b = core_work(s, g, cost, per, g->cut[nb], g->cut[nb + 1], r);
      g->cut[e] = at;
      double most = a > b ? a : b;
      for (int64_t c = 0; c < n; c++)
        most = c != m && c != nb && work[c] > most ? work[c] : most;
      if (most < best)
        best = most, to = nb, wm = a, wn = b;
    }
    if (to < 0)
      break;
    g->cut[to < m ? m : m + 1] += to < m ? 1 : -1;
    work[m] = wm;
    work[to] = wn;
  }
  g->cut_th = th;
}

/* Group g can tile along W: no operand of its adds and muls is one row
 * wide across the width (such an operand is used whole by every band). */
static bool column_local(const sched *s, const group *g) {
  for (unsigned k = g->g0; k <= g->g1; k++) {
    const npu_insn *in = &s->p->insns[k];
    if (in->opcode != NPU_ADD && in->opcode != NPU_MUL)
      continue;
    const npu_tensor *a = tensor_at(s->p, in, "a"), *b = tensor_at(s->p, in, "b");
    if ((row_broadcast(a) && a->dims[3] != 1) || (row_broadcast(b) && b->dims[3] != 1))
      return false;
  }
  return true;
}

/* Tile indices whose size bounds all of 0 .. n-1: the two at each end
 * (edges are clamped) and so one inside (all inside are alike: a band's
 * size depends on its tile's size alone). */
static unsigned probe_tiles(int64_t n, int64_t *at) {
  unsigned k = 0;
  int64_t cand[4] = {0, 1, n - 2, n - 1};
  for (unsigned i = 0; i < 4; i++)
    if (cand[i] >= 0 && cand[i] < n && (!k || cand[i] > at[k - 1]))
      at[k++] = cand[i];
  return k;
}

/* The tiles of group g gather their bands of held gathers' results
 * (side_band): tiles of the full width and of all frames.  (Spread over
 * the cores too: each core copies the source rows its bands take, and a
 * source another core reads goes to DDR, remote_penalty.) */
static bool bands_gathered(const sched *s, const group *g) {
  const npu_tensor *y = tensor_at(s->p, &s->p->insns[g->g1], "out");
  return !g->per_frame && (!g->tw || g->tw >= y->dims[3]);
}

/* Instruction k, computing region c of its result, reads its chain
 * operand's band (region x_r) through a copy of the rows it needs (*need): the
 * band holds rows (columns) before them, which another reader needs and k
 * does not (it computes only rows the band before did not hold: KEEP_ALL). */
static bool chain_copy(const sched *s, const group *g, unsigned k, region c, region x_r,
                       region *need) {
  const npu_insn *insn = &s->p->insns[k];
  *need = input_region(s->p, insn, chain_field(s, insn, chain_buffer(s, g->g0, k)), c);
  return need->lo > x_r.lo || need->w0 > x_r.w0;
}

/* SRAM bytes of one tile's bands (its regions r and c, input region in;
 * `gathers`: the tile gathers the bands of held gathers' results); with
 * `slots` (KEEP_ALL), the bands of the results but the last are in slots
 * of their own instead, whose sizes (by instruction) grow to hold them. */
static uint64_t tile_need(const sched *s, const group *g, const region *r, const region *c,
                          region in, bool gathers, uint64_t *slots) {
  const npu_program *p = s->p;
  const npu_insn *first = &p->insns[g->g0];
  int64_t c0 = 0, r0, r1;
  uint64_t n = band_bytes(tensor_at(p, first, chain_field(s, first, UINT32_MAX)), in,
                          g->per_frame);
  for (int m = gathers ? concat_part_from(s, g->g0, 0, &c0) : -1;
       m >= 0 && gather_rows(s, &p->insns[m], in, &r0, &r1);
       m = concat_part_from(s, g->g0, c0 + 1, &c0)) { /* the parts' source rows */
    const npu_tensor *src = tensor_at(p, &p->insns[m], "in");
    n += band_bytes(src, (region){r0, r1, 0, src->dims[3]}, g->per_frame);
  }
  for (unsigned k = g->g0; k <= g->g1; k++) {
    const npu_insn *insn = &p->insns[k];
    region b = c[k - g->g0];
    uint64_t rb = band_bytes(tensor_at(p, insn, "out"), r[k - g->g0], g->per_frame);
    if (slots && k < g->g1) /* (its slot) */
      slots[k - g->g0] = rb > slots[k - g->g0] ? rb : slots[k - g->g0];
    else
      n += rb;
    region x_r = k > g->g0 ? r[chain_source(s, g->g0, k) - g->g0] : in, need;
    if (!empty(b) && chain_copy(s, g, k, b, x_r, &need))
      n += band_bytes(tensor_at(p, insn, chain_field(s, insn, chain_buffer(s, g->g0, k))), need,
                      g->per_frame);
    if (!same_region(b, r[k - g->g0])) /* computed apart from the rows kept */
      n += band_bytes(tensor_at(p, insn, "out"), b, g->per_frame);
    if (empty(b))
      continue;
    if ((insn->opcode == NPU_ADD || insn->opcode == NPU_MUL) &&
        !row_broadcast(tensor_at(p, insn, "a")) && !row_broadcast(tensor_at(p, insn, "b")))
      n += band_bytes(tensor_at(p, insn, "out"), b, g->per_frame); /* the other operand */
    else if (insn->opcode == NPU_CONV && field(insn, "sum") >= 0)
      n += band_bytes(tensor_at(p, insn, "sum"), b, g->per_frame);
    int hg = gathers ? s->held_by[k] : -1;
    if (hg >= 0 && s->held[hg] && gather_rows(s, &p->insns[hg], b, &r0, &r1)) {
      const npu_tensor *x = tensor_at(p, &p->insns[hg], "in"); /* the source rows */
      n += band_bytes(x, (region){r0, r1, 0, x->dims[3]}, g->per_frame);
    }
  }
  return n;
}

/* SRAM bytes one tile of `th` output rows (and g->tw columns) needs at
 * most (KEEP_ALL: but its slots, whose bytes go to `slots` by instruction
 * when not NULL: see emit_tiles). */
static uint64_t tile_bytes(const sched *s, const group *g, int64_t th, region *r,
                           uint64_t *slots) {
  const npu_program *p = s->p;
  const npu_tensor *y = tensor_at(p, &p->insns[g->g1], "out");
  int64_t H = y->dims[2], W = y->dims[3], tw = g->tw ? g->tw : W;
  int64_t rows_at[4], cols_at[4], c0 = 0;
  region c[MAX_GROUP], in;
  bool gathers = s->held_by && bands_gathered(s, g);
  uint64_t worst = 0;
  if (g->keep == KEEP_ALL) { /* tile after tile, as each core runs them */
    region prev[MAX_GROUP];
    uint64_t own[MAX_GROUP];
    slots = slots ? slots : own;
    memset(slots, 0, (g->g1 - g->g0 + 1) * sizeof *slots);
    int64_t tiles = count_tiles(s, g, th), cores = (int64_t)g->cores < tiles ? g->cores : tiles;
    int64_t frame, prev_frame;
    for (int64_t k = 0, t = 0; k < cores; k++)
      for (prev_frame = -2; t < (k + 1) * tiles / cores; t++) { /* (-2: no tile before) */
        region out = tile_region(s, g, th, t, &frame);
        if (!plan_tile(s, g, out, r, &in, c, frame == prev_frame ? prev : NULL))
          return UINT64_MAX;
        uint64_t n = tile_need(s, g, r, c, in, gathers, slots);
        worst = n > worst ? n : worst;
        memcpy(prev, r, (g->g1 - g->g0 + 1) * sizeof *r);
        prev_frame = frame;
      }
    return worst;
  }
  unsigned nr = probe_tiles((H + th - 1) / th, rows_at);
  unsigned nc = probe_tiles((W + tw - 1) / tw, cols_at);
  /* The source rows of a gathered band depend on where the band starts
   * (an upsampling by 2 takes 4 or 5 rows for 8): with held gathers,
   * every row of tiles counts; so does every row of tiles cut evenly
   * (tile_rows), whose heights differ inside. */
  int64_t o0, o1;
  bool any = (gathers && concat_part_from(s, g->g0, 0, &c0) >= 0) || rows_cut_evenly(g, H, th);
  for (unsigned k = g->g0; gathers && !any && k <= g->g1; k++)
    any = s->held_by[k] >= 0 && s->held[s->held_by[k]];
  if (any)
    nr = (unsigned)((H + th - 1) / th);
  for (unsigned i = 0; i < nr * nc; i++) {
    int64_t q = cols_at[i % nc] * tw;
    tile_rows(g, H, th, any ? (int64_t)(i / nc) : rows_at[i / nc], &o0, &o1);
    region out = {o0, o1, q, q + tw < W ? q + tw : W};
    if (!plan_tile(s, g, out, r, &in, c, NULL))
      return UINT64_MAX;
    uint64_t n = tile_need(s, g, r, c, in, gathers, NULL);
    worst = n > worst ? n : worst;
  }
  return worst;
}

/* The bytes of the slots of group g (KEEP_ALL; 64-byte aligned each). */
static uint64_t slot_bytes(const group *g, const uint64_t *slots) {
  uint64_t n = 0;
  for (unsigned k = g->g0; g->keep == KEEP_ALL && k < g->g1; k++)
    n += align_up(slots[k - g->g0]);
  return n;
}

/* ---- Emitting a tiled group ---- */

typedef struct insn_list {
  npu_insn *v;
  unsigned num, cap;
} insn_list;

static void list_push(insn_list *l, const npu_insn *in) {
  if (l->num == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 64;
    l->v = qir_xrealloc(l->v, l->cap * sizeof *l->v);
  }
  l->v[l->num++] = *in;
}

static void list_append(insn_list *l, insn_list *from) {
  for (unsigned i = 0; i < from->num; i++)
    list_push(l, &from->v[i]);
  from->num = 0;
}

/* One tile: the copies into SRAM, then the instructions and the copy
 * out. */
typedef struct emitter {
  npu_program *p;
  insn_list loads, body;
  uint64_t at;        /* next free SRAM byte of the tile */
  uint64_t sram_top;
  int64_t *weights;   /* per instruction of the group: its conv weights'
                         copy in SRAM, or -1 */
  int64_t *params;    /* and the SRAM byte of its channel parameters' copy,
                         or -1 */
  unsigned g0;        /* the group's first instruction */
  unsigned *out_band; /* per instruction of the group: its result's band in
                         the current tile */
  int64_t frame;      /* the current tile's frame, or -1: all frames */
  unsigned in_band;   /* the band of the group's input in the current tile */
  region in_r;        /* and its region */
  const sched *s;     /* (gather_bands) */
  bool gather_bands;  /* the side operands of held gathers are gathered
                         band by band (a group on one core, tiles of the
                         full width, one frame) */
  int64_t acc;        /* a reducing group's accumulator */
  int64_t part;       /* and the current tile's part of the gpool (0: the
                         only tile) */
  bool has_prev;      /* the tile before this one (of this core) left its
                         input band: */
  unsigned prev_in;   /* that band, */
  region prev_r;      /* its region */
  int64_t prev_frame; /* and frame; */
  bool has_prev_out;  /* and the bands of its results (KEEP_ALL), */
  unsigned prev_out[MAX_GROUP];
  region prev_out_r[MAX_GROUP]; /* their regions; */
  uint64_t slot[MAX_GROUP]; /* where every tile's band of each result but
                               the last is (KEEP_ALL) */
  bool single;        /* single buffering: */
  insn_list shift;    /* the input rows kept and the rest loaded, to run
                         after the last reader of the band before, */
  unsigned in_read_at; /* which is instruction in_read_at - 1 of e->body */
  uint64_t in_bytes;  /* (the bytes of that band) */
  bool shift_early;   /* the band fits in the one before: e->shift may run
                         before the rest of the instructions of the tile
                         before (else after them) */
  int64_t escaped[MAX_GROUP]; /* per escaping result: the rows of it the
                                 tiles before this one computed */
} emitter;


/* Tensor i as the current tile sees it: its frame (a view) when the tile
 * has one and i holds the frames, else i. */
static int64_t in_frame(emitter *e, int64_t i) {
  if (e->frame < 0 || i < 0 || e->p->tensors[i].dims[0] == 1)
    return i;
  return npu_program_view(e->p, i, 0, e->frame, 1);
}

/* A band of region r's size shaped like tensor `like`, in the tile's
 * SRAM. */
static unsigned band(emitter *e, int64_t like, region r) {
  npu_tensor t = e->p->tensors[like];
  t.space = NPU_SPACE_SRAM;
  t.dims[2] = r.hi - r.lo;
  t.dims[3] = r.w1 - r.w0;
  t.dims[0] = e->frame >= 0 ? 1 : t.dims[0];
  t.offset = e->at;
  e->at += band_bytes(&t, (region){0, t.dims[2], 0, t.dims[3]}, false);
  e->sram_top = e->at > e->sram_top ? e->at : e->sram_top;
  return npu_program_add_tensor(e->p, t);
}

/* Copies region r (its size) from row r.lo, column r.w0 of tensor `src`
 * to row `to`, column `to_w` of `dst` (same N, C and type: a DMA of a
 * strided region). */
static void copy_rows(insn_list *l, const npu_program *p, int64_t src, region r,
                      int64_t dst, int64_t to, int64_t to_w, const char *comment) {
  npu_insn c = {NPU_COPY, {0}, comment};
  const npu_tensor *t = &p->tensors[src];
  c.f[npu_field(NPU_COPY, "in")] = src;
  c.f[npu_field(NPU_COPY, "out")] = dst;
  c.f[npu_field(NPU_COPY, "s2")] = r.lo;
  c.f[npu_field(NPU_COPY, "d2")] = to;
  c.f[npu_field(NPU_COPY, "s3")] = r.w0;
  c.f[npu_field(NPU_COPY, "d3")] = to_w;
  c.f[npu_field(NPU_COPY, "n0")] = t->dims[0];
  c.f[npu_field(NPU_COPY, "n1")] = t->dims[1];
  c.f[npu_field(NPU_COPY, "n2")] = r.hi - r.lo;
  c.f[npu_field(NPU_COPY, "n3")] = r.w1 - r.w0;
  c.f[npu_field(NPU_COPY, "lo")] = qir_scalar_min(t->dtype);
  c.f[npu_field(NPU_COPY, "hi")] = qir_scalar_max(t->dtype);
  c.f[npu_field(NPU_COPY, "wide")] = qir_scalar_size(t->dtype) > 1;
  list_push(l, &c);
}

/* The rows of region r (of the full width) of held gather g's result,
 * gathered into *into (a band shaped like tensor `like` when -1): the
 * source rows they take copied into the tile, the table from row r.lo,
 * the indices from the first of those rows (base). */
static void gather_band(emitter *e, const npu_insn *g, region r, int64_t like, int64_t *into) {
  npu_insn band_gather = *g;
  int64_t x = field(g, "in"), r0, r1, ws = e->p->tensors[x].dims[3];
  gather_rows(e->s, g, r, &r0, &r1);
  region rows = {r0, r1, 0, ws};
  unsigned src = band(e, x, rows);
  copy_rows(&e->loads, e->p, x, rows, src, 0, 0, g->comment);
  if (*into < 0)
    *into = band(e, like, r);
  band_gather.f[npu_field(NPU_GATHER, "in")] = src;
  band_gather.f[npu_field(NPU_GATHER, "base")] += r0 * ws;
  band_gather.f[npu_field(NPU_GATHER, "out")] = *into;
  band_gather.f[npu_field(NPU_GATHER, "table")] += r.lo * tensor_at(e->p, g, "out")->dims[3] * 4;
  list_push(&e->body, &band_gather);
}

/* Channels [c, c + n) of the input band `cur` (region `in` of tensor x)
 * onto `l`: the rows not in region `rest` copied from the band of the
 * tile before (kept), the rows of `rest` from x. */
static void load_channels(emitter *e, insn_list *l, int64_t x, region in, region rest,
                          unsigned cur, int64_t c, int64_t n, const char *comment) {
  npu_program *p = e->p;
  bool all = c == 0 && n == p->tensors[x].dims[1];
  int64_t xv = all ? x : npu_program_view(p, x, 1, c, n);
  int64_t cv = all ? (int64_t)cur : npu_program_view(p, cur, 1, c, n);
  if (!same_region(rest, in)) {
    int64_t pv = all ? (int64_t)e->prev_in : npu_program_view(p, e->prev_in, 1, c, n);
    copy_rows(l, p, pv, relative(kept_part(in, rest), e->prev_r), cv, 0, 0, comment);
  }
  if (!empty(rest))
    copy_rows(l, p, xv, rest, cv, rest.lo - in.lo, rest.w0 - in.w0, comment);
}

/* The input band of a tile of group g (region `in` of tensor x) into band
 * `cur`, onto `l` (load_channels; `rest`: the rows not kept), but the
 * channels of held gathers' concat parts gathered there band by band
 * (when the tiles gather bands), all of their rows: the gathers run with
 * the tile's instructions, after the copies of the tile after it. */
static void load_input(emitter *e, insn_list *l, const group *g, int64_t x, region in,
                       region rest, unsigned cur, const char *comment) {
  npu_program *p = e->p;
  int64_t c = 0, c0, C = p->tensors[x].dims[1];
  int m = e->gather_bands ? concat_part_from(e->s, g->g0, 0, &c0) : -1;
  for (; c < C; m = concat_part_from(e->s, g->g0, c, &c0)) {
    int64_t end = m >= 0 ? c0 : C;
    if (end > c)
      load_channels(e, l, x, in, rest, cur, c, end - c, comment);
    if (m < 0)
      break;
    int64_t n = tensor_at(p, &p->insns[m], "out")->dims[1];
    int64_t into = npu_program_view(p, cur, 1, c0, n);
    gather_band(e, &p->insns[m], in, -1, &into);
    c = c0 + n;
  }
}

/* A side operand (the other operand of add/mul, a conv's sum) of
 * instruction k: its band of region r, copied into the tile, or gathered
 * there by a held gather (side_gather; else release_gathers emits that
 * gather before the group, finding the copy from its result). */
static void side_band(emitter *e, npu_insn *in, unsigned k, const char *f, region r) {
  int g = e->gather_bands ? e->s->held_by[k] : -1;
  if (g >= 0 && e->s->held[g] &&
      e->p->tensors[field(in, f)].offset == tensor_at(e->p, &e->p->insns[g], "out")->offset &&
      r.w0 == 0 && r.w1 == e->p->tensors[field(in, f)].dims[3]) {
    int64_t b = -1;
    gather_band(e, &e->s->p->insns[g], r, field(in, f), &b);
    in->f[npu_field(in->opcode, f)] = b;
    return;
  }
  int64_t t = in_frame(e, field(in, f));
  if (t >= 0 && row_broadcast(&e->p->tensors[t]))
    in->f[npu_field(in->opcode, f)] = t;
  if (t < 0 || row_broadcast(&e->p->tensors[t]))
    return;
  unsigned b = band(e, t, r);
  copy_rows(&e->loads, e->p, t, r, b, 0, 0, in->comment);
  in->f[npu_field(in->opcode, f)] = b;
}

/* A side operand that an earlier instruction of the group computed (a
 * branch) is read from its band: as it is when the rows agree, else
 * through a copy of region r into a band of their own (bands are dense:
 * some rows of one are no view). */
static void branch_band(emitter *e, npu_insn *in, const char *f, unsigned src,
                        region src_r, region r) {
  unsigned b = src;
  if (!same_region(src_r, r)) {
    b = band(e, field(in, f), r);
    copy_rows(&e->body, e->p, src, relative(r, src_r), b, 0, 0, in->comment);
  }
  in->f[npu_field(in->opcode, f)] = b;
}

/* One instruction on bands: its chain operand the band `x` (whose row 0
 * is row x_r.lo, column x_r.w0 of the full operand), the region of its
 * result it computes c_all[k - g0] (the bands of the group's results
 * hold regions r_all), into band `into` (-1: a band of its own). */
static unsigned emit_on_band(emitter *e, const sched *s, const group *g,
                             const npu_insn *orig, const char *chain, unsigned x,
                             region x_r, const region *r_all, const region *c_all,
                             int64_t into) {
  npu_insn in = *orig;
  unsigned k = (unsigned)(orig - s->p->insns);
  region r = c_all[k - g->g0];
  const char *bf;
  int src = branch_source(s, g, k, &bf);
  if (src >= 0)
    branch_band(e, &in, bf, e->out_band[src], r_all[src], r);
  else if (src == BRANCH_INPUT)
    branch_band(e, &in, bf, e->in_band, e->in_r, r);
  else if (in.opcode == NPU_ADD || in.opcode == NPU_MUL)
    side_band(e, &in, k, !strcmp(chain, "a") ? "b" : "a", r);
  else if (in.opcode == NPU_CONV)
    side_band(e, &in, k, "sum", r);
  const npu_tensor *xt = tensor_at(s->p, orig, chain);
  region need;
  if (chain_copy(s, g, k, r, x_r, &need)) {
    unsigned b = band(e, field(orig, chain), need);
    copy_rows(&e->body, e->p, x, relative(need, x_r), b, 0, 0, orig->comment);
    x = b;
    x_r = need;
  }
  int64_t kh, sh, dh, pt, kw, sw, dw, pl;
  window(s->p, orig, 2, &kh, &sh, &dh, &pt);
  window(s->p, orig, 3, &kw, &sw, &dw, &pl);
  if (in.opcode == NPU_CONV || in.opcode == NPU_MAXPOOL || in.opcode == NPU_AVGPOOL) {
    in.f[npu_field(in.opcode, "pt")] = x_r.lo - (r.lo * sh - pt);
    in.f[npu_field(in.opcode, "pl")] = x_r.w0 - (r.w0 * sw - pl);
  }
  /* No window of this band reaches the bottom (the right edge). */
  if (in.opcode == NPU_AVGPOOL && x_r.hi < xt->dims[2])
    in.f[npu_field(in.opcode, "pb")] = 0;
  if (in.opcode == NPU_AVGPOOL && x_r.w1 < xt->dims[3])
    in.f[npu_field(in.opcode, "pr")] = 0;
  in.f[npu_field(in.opcode, chain)] = x;
  if (in.opcode == NPU_CONV && e->weights[orig - s->p->insns - e->g0] >= 0) {
    in.f[npu_field(NPU_CONV, "w")] = e->weights[orig - s->p->insns - e->g0];
    in.f[npu_field(NPU_CONV, "params")] = e->params[orig - s->p->insns - e->g0];
    in.f[npu_field(NPU_CONV, "psram")] = 1;
  }
  unsigned y = into >= 0 ? (unsigned)into : band(e, field(orig, "out"), r);
  in.f[npu_field(in.opcode, "out")] = y;
  list_push(&e->body, &in);
  return y;
}

/* The input band `cur` (region `in` of tensor x) of a tile of group g:
 * when the group keeps rows, the rows (or columns) it shares with the
 * band of the tile before it copied from that band, the others loaded
 * (load_input).  The copy comes first: in single buffering the two bands
 * share their bytes, and it moves the rows up (a copy reads its region
 * whole before writing); there both go to e->shift, which emit_tiles
 * places right after the last reader of the band before. */
static void load_kept_input(emitter *e, const group *g, int64_t x, region in, unsigned cur,
                            const char *comment) {
  bool near = g->keep != KEEP_NONE && e->has_prev && e->prev_frame == e->frame;
  region rest = near ? fresh(e->prev_r, in) : in;
  bool kept = !same_region(rest, in);
  load_input(e, kept && e->single ? &e->shift : &e->loads, g, x, in, rest, cur, comment);
}

/* Elements per plane of instruction in's result (a gpool's count). */
static int64_t y_elems_per_plane(const npu_program *p, const npu_insn *in) {
  const npu_tensor *y = tensor_at(p, in, "out");
  return y->dims[2] * y->dims[3];
}

/* The band of region r of result i of the group in its slot (KEEP_ALL). */
static unsigned slot_band(emitter *e, const npu_insn *insn, unsigned i, region r) {
  uint64_t at = e->at;
  e->at = e->slot[i];
  unsigned b = band(e, field(insn, "out"), r);
  e->at = at;
  return b;
}

/* Result i's band `b` (in its slot) gets the rows (columns) of its region
 * r that the band before holds, moved up in the slot (a copy reads its
 * region whole before writing), and band y of the rows c that instruction
 * k computed after them. */
static void with_kept_rows(emitter *e, const npu_insn *insn, unsigned i, unsigned b, region r,
                           region c, int64_t y) {
  copy_rows(&e->body, e->p, e->prev_out[i], relative(kept_part(r, c), e->prev_out_r[i]), b, 0,
            0, insn->comment);
  if (y >= 0)
    copy_rows(&e->body, e->p, y, (region){0, c.hi - c.lo, 0, c.w1 - c.w0}, b, c.lo - r.lo,
              c.w0 - r.w0, insn->comment);
}

/* Tile `out` (a region of the group's last result) into e->loads and
 * e->body (and e->shift), its bands from SRAM byte `base`. */
static void emit_tile(emitter *e, const sched *s, const group *g, region out,
                      uint64_t base, region *r) {
  const npu_program *p = s->p;
  const npu_insn *first = &p->insns[g->g0], *last = &p->insns[g->g1];
  int64_t x = in_frame(e, field(first, chain_field(s, first, UINT32_MAX)));
  int64_t y = in_frame(e, field(last, "out"));
  unsigned n = g->g1 - g->g0 + 1;
  region in, c[MAX_GROUP];
  bool keep = g->keep == KEEP_ALL && e->has_prev_out && e->prev_frame == e->frame;
  plan_tile(s, g, out, r, &in, c, keep ? e->prev_out_r : NULL);
  e->at = base;
  unsigned cur = UINT32_MAX;
  if (!empty(in)) {
    cur = band(e, x, in);
    load_kept_input(e, g, x, in, cur, first->comment);
  }
  uint64_t prev_bytes = e->has_prev ? e->in_bytes : 0;
  e->has_prev = !empty(in);
  e->in_bytes = empty(in) ? 0 : align_up(tensor_bytes(&p->tensors[cur]));
  e->shift_early = e->shift.num && e->in_bytes <= prev_bytes;
  e->prev_in = cur;
  e->prev_r = in;
  e->prev_frame = e->frame;
  region cur_r = in;
  e->in_band = cur;
  e->in_r = in;
  unsigned out_band[MAX_GROUP];
  e->out_band = out_band;
  for (unsigned k = g->g0; k <= g->g1; k++) {
    const npu_insn *insn = &p->insns[k];
    unsigned i = k - g->g0;
    if (k > g->g0) {
      unsigned src = chain_source(s, g->g0, k) - g->g0;
      cur = out_band[src];
      cur_r = r[src];
    }
    bool slot = g->keep == KEEP_ALL && k < g->g1 && !empty(r[i]);
    bool kept = slot && !same_region(c[i], r[i]);
    int64_t b = slot ? (int64_t)slot_band(e, insn, i, r[i]) : -1;
    int64_t yk = empty(c[i]) ? -1
                             : (int64_t)emit_on_band(e, s, g, insn,
                                            chain_field(s, insn, chain_buffer(s, g->g0, k)),
                                            cur, cur_r, r, c, kept ? -1 : b);
    if (kept)
      with_kept_rows(e, insn, i, (unsigned)b, r[i], c[i], yk);
    out_band[i] = (unsigned)(slot ? b : yk);
    if (escapes(s, g, k)) { /* the rows no tile before computed, out */
      region own = r[i];
      own.lo = e->escaped[i] > own.lo ? e->escaped[i] : own.lo;
      if (!empty(own))
        copy_rows(&e->body, e->p, out_band[i], relative(own, r[i]), field(insn, "out"), own.lo,
                  own.w0, insn->comment);
    }
  }
  e->out_band = NULL;
  e->in_read_at = 0;
  for (unsigned j = e->body.num; !empty(in) && j-- > 0 && !e->in_read_at;)
    if (reads_tensor(&e->body.v[j], e->in_band))
      e->in_read_at = j + 1;
  e->has_prev_out = g->keep == KEEP_ALL;
  memcpy(e->prev_out, out_band, n * sizeof *out_band);
  memcpy(e->prev_out_r, r, n * sizeof *r);
  cur = out_band[n - 1];
  if (g->reduce) { /* the band pooled into the accumulator */
    npu_insn pool = p->insns[g->g1 + 1];
    pool.f[npu_field(NPU_GPOOL, "in")] = cur;
    pool.f[npu_field(NPU_GPOOL, "acc")] = e->part ? e->acc : -1;
    pool.f[npu_field(NPU_GPOOL, "part")] = e->part;
    pool.f[npu_field(NPU_GPOOL, "count")] = y_elems_per_plane(p, last);
    list_push(&e->body, &pool);
    return;
  }
  copy_rows(&e->body, e->p, cur, (region){0, out.hi - out.lo, 0, out.w1 - out.w0}, y, out.lo,
            out.w0, last->comment);
}

/* The channel parameters of conv `in` as a tensor of the weight space
 * (bytes), returned. */
static int64_t params_tensor(npu_program *p, const npu_insn *in) {
  unsigned space;
  uint64_t lo, bytes;
  npu_insn_params(p, in, &space, &lo, &bytes);
  npu_tensor t = {NPU_SPACE_WGT, QIR_U8, lo, {1, 1, (int64_t)bytes / (NPU_PARAM_WORDS * 4),
                                                NPU_PARAM_WORDS * 4}};
  return npu_program_add_tensor(p, t);
}

/* Bytes of the conv weights of group g and of their channel parameters
 * (64-byte aligned each). */
static uint64_t group_weight_bytes(const sched *s, const group *g) {
  uint64_t n = 0;
  for (unsigned k = g->g0; k <= g->g1; k++)
    if (s->p->insns[k].opcode == NPU_CONV) {
      unsigned space;
      uint64_t lo, bytes;
      npu_insn_params(s->p, &s->p->insns[k], &space, &lo, &bytes);
      n += align_up(tensor_bytes(tensor_at(s->p, &s->p->insns[k], "w"))) + align_up(bytes);
    }
  return n;
}

/* SRAM bytes of a reducing group's accumulator: one i32 per plane. */
static uint64_t acc_bytes(const sched *s, const group *g) {
  const npu_tensor *y = tensor_at(s->p, &s->p->insns[g->g1], "out");
  return g->reduce ? align_up((uint64_t)(y->dims[0] * y->dims[1]) * 4) : 0;
}

/* A copy of every element of tensor `from` to `to` (of its dims), without
 * rescale: the DMA engine's work between DDR or the weight space and SRAM. */
static npu_insn copy_whole(const npu_program *p, int64_t from, int64_t to, const char *comment) {
  const npu_tensor *t = &p->tensors[from];
  npu_insn c = {NPU_COPY, {0}, comment};
  static const char *const nf[] = {"n0", "n1", "n2", "n3"};
  c.f[npu_field(NPU_COPY, "in")] = from;
  c.f[npu_field(NPU_COPY, "out")] = to;
  for (unsigned d = 0; d < NPU_RANK; d++)
    c.f[npu_field(NPU_COPY, nf[d])] = t->dims[d];
  c.f[npu_field(NPU_COPY, "lo")] = qir_scalar_min(t->dtype);
  c.f[npu_field(NPU_COPY, "hi")] = qir_scalar_max(t->dtype);
  c.f[npu_field(NPU_COPY, "wide")] = qir_scalar_size(t->dtype) > 1;
  return c;
}

/* A copy of weight-space tensor w into SRAM at `offset` (a new tensor,
 * returned) as *c. */
static int64_t weight_copy(npu_program *p, int64_t w, uint64_t offset, const char *comment,
                           npu_insn *c) {
  npu_tensor t = p->tensors[w];
  t.space = NPU_SPACE_SRAM;
  t.offset = offset;
  unsigned sw = npu_program_add_tensor(p, t);
  *c = copy_whole(p, w, sw, comment);
  return sw;
}

/* Weight-space tensor w copied into SRAM at e->at (onto `to`); returns
 * the copy. */
static int64_t load_once(emitter *e, insn_list *to, int64_t w, const char *comment) {
  npu_insn c;
  int64_t sw = weight_copy(e->p, w, e->at, comment, &c);
  e->at += align_up(tensor_bytes(&e->p->tensors[w]));
  e->sram_top = e->at > e->sram_top ? e->at : e->sram_top;
  list_push(to, &c);
  return sw;
}

/* With several tiles, the group's conv weights and their channel
 * parameters are copied into SRAM (from e->at) once, onto `to`, instead
 * of being read from the weight space by every tile (the convs then
 * address their parameters in SRAM: psram = 1). */
static void load_weights(emitter *e, insn_list *to, const sched *s, const group *g,
                         bool tiles) {
  for (unsigned k = g->g0; k <= g->g1; k++) {
    const npu_insn *in = &s->p->insns[k];
    e->weights[k - g->g0] = e->params[k - g->g0] = -1;
    if (!tiles || in->opcode != NPU_CONV)
      continue;
    int64_t *w = &e->weights[k - g->g0], *prm = &e->params[k - g->g0];
    for (unsigned j = g->g0; j < k; j++) { /* (shared weights, parameters) */
      const npu_insn *o = &s->p->insns[j];
      if (e->weights[j - g->g0] >= 0 && *w < 0 && field(o, "w") == field(in, "w"))
        *w = e->weights[j - g->g0];
      if (e->params[j - g->g0] >= 0 && *prm < 0 && field(o, "params") == field(in, "params"))
        *prm = e->params[j - g->g0];
    }
    if (*w < 0)
      *w = load_once(e, to, field(in, "w"), in->comment);
    if (*prm < 0) {
      *prm = (int64_t)e->at;
      load_once(e, to, params_tensor(e->p, in), in->comment);
    }
  }
}

/* The DMA engine runs its copies in order.  The group's weights come
 * after the first tile's loads, which they would hold up, except those
 * it copies while the instruction before the group computes (the first
 * tile's input is usually its result): onto `to` now, the rest left in
 * `w`. */
static void early_weights(const sched *s, insn_list *to, insn_list *w) {
  npu_cost c;
  if (!to->num || npu_insn_is_marker(&to->v[to->num - 1]))
    return;
  npu_insn_cost(s->t, s->p, &to->v[to->num - 1], &c);
  double slack = c.compute_cycles;
  unsigned n = 0;
  for (; n < w->num; n++) {
    npu_insn_cost(s->t, s->p, &w->v[n], &c);
    if ((slack -= c.cycles) < 0)
      break;
    list_push(to, &w->v[n]);
  }
  if (n) {
    memmove(w->v, w->v + n, (w->num - n) * sizeof *w->v);
    w->num -= n;
  }
}

/* The rows of each result of group g that its tiles before tile t (at
 * `th` rows) computed: the rows the tile before needs (the tiles of a
 * group with an escaping result are of the full width and one frame:
 * may_escape). */
static void escaped_rows(const sched *s, const group *g, int64_t th, int64_t t,
                         int64_t *rows) {
  region r[MAX_GROUP], c[MAX_GROUP], in;
  int64_t frame;
  bool before = t > 0 && plan_tile(s, g, tile_region(s, g, th, t - 1, &frame), r, &in, c, NULL);
  for (unsigned i = 0; i <= g->g1 - g->g0; i++)
    rows[i] = before ? r[i].hi : 0;
}

/* Tiles [t0, t1) of group g, `th` output rows each, onto `to`, their
 * bands from SRAM byte `base` (the tiles of one core).  With several of
 * them, the group's conv weights and parameters are copied into SRAM
 * after the bands, before the first tile's instructions (early_weights).
 * With double buffering the tiles alternate between two SRAM areas and
 * the copies into SRAM of tile t+1 come before the instructions of tile
 * t, so the DMA engine moves one tile while the others compute.
 * With KEEP_ALL, the bands of the group's results but the last are in
 * slots of their own after the areas, one per result (as large as its
 * largest band), where each tile moves up the rows the next one keeps:
 * only the compute engines touch them, in program order. */
static void emit_tiles(emitter *e, insn_list *to, const sched *s, const group *g,
                       int64_t th, uint64_t tile_size, bool double_buffer,
                       uint64_t base, int64_t t0, int64_t t1) {
  region *r = qir_xcalloc(g->g1 - g->g0 + 1, sizeof *r);
  insn_list body = {NULL, 0, 0};
  unsigned held_read_at = 0;
  e->g0 = g->g0;
  e->has_prev = e->has_prev_out = false;
  e->single = !double_buffer;
  e->weights = qir_xcalloc(g->g1 - g->g0 + 1, sizeof *e->weights);
  e->params = qir_xcalloc(g->g1 - g->g0 + 1, sizeof *e->params);
  e->at = base + (double_buffer ? 2 : 1) * tile_size;
  if (g->keep == KEEP_ALL) {
    uint64_t slots[MAX_GROUP];
    tile_bytes(s, g, th, r, slots);
    for (unsigned k = g->g0; k < g->g1; k++) {
      e->slot[k - g->g0] = e->at;
      e->at += align_up(slots[k - g->g0]);
    }
    e->sram_top = e->at > e->sram_top ? e->at : e->sram_top;
  }
  insn_list weights = {NULL, 0, 0};
  load_weights(e, &weights, s, g, t1 - t0 > 1 && g->weights);
  early_weights(s, to, &weights);
  if (g->reduce) {
    const npu_tensor *y = tensor_at(s->p, &s->p->insns[g->g1], "out");
    npu_tensor acc = {NPU_SPACE_SRAM, QIR_I32, e->at, {1, y->dims[0] * y->dims[1], 1, 1}};
    e->at += acc_bytes(s, g);
    e->sram_top = e->at > e->sram_top ? e->at : e->sram_top;
    e->acc = npu_program_add_tensor(e->p, acc);
  }
  bool escaping = first_escape(s, g) != UINT32_MAX;
  for (int64_t t = t0; t < t1; t++) {
    e->part = t1 - t0 == 1 ? 0 : t == t0 ? 1 : t == t1 - 1 ? 3 : 2;
    region out = tile_region(s, g, th, t, &e->frame);
    if (escaping)
      escaped_rows(s, g, th, t, e->escaped);
    emit_tile(e, s, g, out, base + (double_buffer && (t - t0) % 2 ? tile_size : 0), r);
    if (double_buffer) {
      list_append(to, &e->loads);
      list_append(to, &weights); /* (after the first tile's loads) */
      list_append(to, &body);
      list_append(&body, &e->body);
    } else { /* (body: the tile before's instructions, held for e->shift) */
      unsigned at = e->shift_early ? held_read_at : body.num;
      for (unsigned j = 0; j < at; j++)
        list_push(to, &body.v[j]);
      list_append(to, &e->shift);
      for (unsigned j = at; j < body.num; j++)
        list_push(to, &body.v[j]);
      body.num = 0;
      list_append(to, &e->loads);
      list_append(to, &weights);
      list_append(&body, &e->body);
      held_read_at = e->in_read_at;
    }
  }
  list_append(to, &body);
  e->frame = -1;
  free(body.v);
  free(weights.v);
  free(e->weights);
  free(e->params);
  e->weights = e->params = NULL;
  free(r);
}

static void push_marker(insn_list *to, unsigned opcode, int64_t x) {
  npu_insn m = {opcode, {x}, NULL};
  list_push(to, &m);
}

/* A sync before work spread over the cores, unless the program is empty
 * or already synced: the other cores' first instructions read what core 0
 * wrote since the last sync (the group's input, a side operand). */
static void sync_before_spread(insn_list *to, unsigned cores) {
  if (to->num && to->v[to->num - 1].opcode != NPU_SYNC)
    push_marker(to, NPU_SYNC, cores);
}

/* The instructions of group g tiled by `th` output rows, onto `to`.  On
 * several cores, the tiles are split into one run of consecutive tiles
 * per core (as even as the count allows), each core's bands in its own
 * SRAM, after a sync (sync_before_spread) and before another: the tiles
 * are independent (halos are recomputed), so the cores meet only at the
 * ends.  Returns the top of core 0's bands. */
static uint64_t emit_group(emitter *e, insn_list *to, const sched *s, const group *g,
                           int64_t th, uint64_t tile_size, bool double_buffer) {
  int64_t tiles = count_tiles(s, g, th);
  int64_t cores = (int64_t)g->cores < tiles ? (int64_t)g->cores : tiles;
  e->s = s;
  e->gather_bands = s->held && bands_gathered(s, g);
  e->sram_top = 0;
  if (cores <= 1) {
    emit_tiles(e, to, s, g, th, tile_size, double_buffer, g->base, 0, tiles);
    return e->sram_top;
  }
  uint64_t top0 = 0;
  sync_before_spread(to, s->cores);
  for (int64_t c = 0; c < cores; c++) {
    push_marker(to, NPU_CORE, c);
    emit_tiles(e, to, s, g, th, tile_size, double_buffer,
               (uint64_t)c * s->sram_bytes + g->base, c * tiles / cores,
               (c + 1) * tiles / cores);
    if (c == 0)
      top0 = e->sram_top;
  }
  push_marker(to, NPU_SYNC, cores);
  return top0;
}

/* ---- Choosing the groups and their tiles ---- */

/* The tallest tile (output rows of the group's last instruction) whose
 * bands take at most `room` bytes (`copies` copies of them); 0 when even
 * one row does not fit. */
static int64_t tallest_tile(const sched *s, const group *g, uint64_t room,
                            unsigned copies, region *r) {
  int64_t lo = 0, hi = tensor_at(s->p, &s->p->insns[g->g1], "out")->dims[2];
  while (lo < hi) {
    int64_t mid = lo + (hi - lo + 1) / 2;
    uint64_t slots[MAX_GROUP];
    uint64_t need = tile_bytes(s, g, mid, r, slots);
    if (need != UINT64_MAX)
      need = need * copies + slot_bytes(g, slots);
    if (need != UINT64_MAX && need <= room)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

typedef struct estimate {
  double cycles, ddr_bytes;
} estimate;

static estimate estimate_insns(const sched *s, const qir_target *t, const npu_insn *insns,
                               unsigned n) {
  estimate e = {npu_insns_cycles(t, s->cores, s->p, insns, n), 0};
  for (unsigned i = 0; i < n; i++) {
    npu_cost c;
    if (npu_insn_is_marker(&insns[i]))
      continue;
    npu_insn_cost(t, s->p, &insns[i], &c);
    e.ddr_bytes += c.ddr_read_bytes + c.ddr_write_bytes;
  }
  return e;
}

/* Gives the tensors instruction k names the spaces the trial placement
 * chose for their buffers (buffer `ddr` in DDR; UINT32_MAX: none), noting
 * the old ones from which[*n], saved[*n] on (restore_spaces). */
static void trial_spaces(const sched *s, unsigned k, unsigned ddr, int64_t *which,
                         unsigned *saved, unsigned *n) {
  npu_program *p = s->p;
  const npu_insn *in = &p->insns[k];
  const npu_insn_info *info = npu_insn_info_of(in->opcode);
  for (unsigned f = 0; f < info->num_fields; f++) {
    int64_t i = in->f[f];
    if (!tensor_field(in->opcode, f) || i < 0 || s->buffer_of[i] == UINT32_MAX)
      continue;
    which[*n] = i;
    saved[(*n)++] = p->tensors[i].space;
    p->tensors[i].space = s->buffer_of[i] == ddr ? NPU_SPACE_DDR
                                                 : s->buffers[s->buffer_of[i]].space;
  }
}

/* Undoes trial_spaces (backwards: a tensor named twice gets its own space
 * back). */
static void restore_spaces(npu_program *p, const int64_t *which, const unsigned *saved,
                           unsigned n) {
  while (n--)
    p->tensors[which[n]].space = saved[n];
}

/* The cost of instruction j on its own, its tensors where the trial
 * placement put them, but buffer `ddr` in DDR (UINT32_MAX: none). */
static void placed_cost(const sched *s, const qir_target *t, unsigned j, unsigned ddr,
                        npu_cost *c) {
  unsigned saved[NPU_MAX_FIELDS], n = 0;
  int64_t which[NPU_MAX_FIELDS];
  trial_spaces(s, j, ddr, which, saved, &n);
  npu_insn_cost(t, s->p, &s->p->insns[j], c);
  restore_spaces(s->p, which, saved, n);
}

/* The held gathers whose results instructions of group g read, run
 * whole before them (release_gathers), their results to DDR. */
static estimate held_gathers_cost(const sched *s, const qir_target *t, const group *g) {
  estimate e = {0, 0};
  if (!reads_held(s, g->g0, g->g1))
    return e;
  for (unsigned gk = 0; gk < s->p->num_insns; gk++)
    if (s->held[gk] && s->reader_of[gk] >= (int)g->g0 && s->reader_of[gk] <= (int)g->g1) {
      npu_cost c;
      placed_cost(s, t, gk, s->buffer_of[field(&s->p->insns[gk], "out")], &c);
      e.cycles += c.cycles;
      e.ddr_bytes += c.ddr_read_bytes + c.ddr_write_bytes;
    }
  return e;
}

/* The group as it is (with its reducer), its tensors where the trial
 * placement put them. */
static estimate estimate_untiled(const sched *s, const qir_target *t, const group *g) {
  npu_program *p = s->p;
  unsigned last = g->g1 + g->reduce, n = 0;
  unsigned *saved = qir_xcalloc((last - g->g0 + 1) * NPU_MAX_FIELDS, sizeof *saved);
  int64_t *which = qir_xcalloc((last - g->g0 + 1) * NPU_MAX_FIELDS, sizeof *which);
  for (unsigned k = g->g0; k <= last; k++)
    trial_spaces(s, k, UINT32_MAX, which, saved, &n);
  estimate e = estimate_insns(s, t, &p->insns[g->g0], last - g->g0 + 1);
  restore_spaces(p, which, saved, n);
  free(saved);
  free(which);
  return e;
}

typedef struct tiling {
  int64_t th;          /* 0: leave the group untiled */
  uint64_t tile_size;
  bool double_buffer;
  unsigned cores;      /* the cores its tiles are spread over */
  bool per_frame;      /* tiles of one frame each */
  estimate cost;
  estimate untiled;    /* the group as it was */
  int64_t tw;          /* output columns per tile (0: the full width) */
  unsigned keep;       /* what tiles keep from the tile before (group) */
  int64_t cut_th, cut[NPU_MAX_CORES + 1]; /* the rows per core (group) */
} tiling;

/* Tiles the group by `th` rows on a scratch list and estimates it (the
 * bands it adds to the tensor table are dropped again). */
static tiling try_tiling(const sched *s, const qir_target *t, const group *g,
                         int64_t th, bool double_buffer, region *r) {
  tiling c = {th, tile_bytes(s, g, th, r, NULL), double_buffer, g->cores, g->per_frame,
              {0, 0}, {0, 0}, g->tw, g->keep, 0, {0}};
  emitter e = {.p = s->p, .frame = -1, .acc = -1};
  insn_list to = {NULL, 0, 0};
  unsigned saved = s->p->num_tensors;
  emit_group(&e, &to, s, g, th, c.tile_size, double_buffer);
  c.cost = estimate_insns(s, t, to.v, to.num);
  if (!e.gather_bands) { /* its held gathers run whole before it */
    estimate gathers = held_gathers_cost(s, t, g);
    c.cost.cycles += gathers.cycles;
    c.cost.ddr_bytes += gathers.ddr_bytes;
  }
  s->p->num_tensors = saved;
  free(to.v);
  free(e.loads.v);
  free(e.body.v);
  free(e.shift.v);
  return c;
}

/* The trial placement put tensor i (when an activation) in DDR. */
static bool left_in_ddr(const sched *s, int64_t i) {
  return i < 0 || s->buffer_of[i] == UINT32_MAX ||
         s->buffers[s->buffer_of[i]].space == NPU_SPACE_DDR;
}

/* Fields of the instructions of group g that name buffer `id`. */
static unsigned uses_in_group(const sched *s, const group *g, unsigned id) {
  unsigned n = 0;
  for (unsigned k = g->g0; k <= g->g1; k++) {
    const npu_insn *in = &s->p->insns[k];
    const npu_insn_info *info = npu_insn_info_of(in->opcode);
    for (unsigned f = 0; f < info->num_fields; f++)
      n += tensor_field(in->opcode, f) && in->f[f] >= 0 && s->buffer_of[in->f[f]] == id;
  }
  return n;
}

/* Cycles instruction j takes on its own, its tensors where the trial
 * placement put them, but buffer `id` in DDR when `ddr`. */
static double placed_cycles(const sched *s, const qir_target *t, unsigned j, unsigned id,
                            bool ddr) {
  npu_cost c;
  placed_cost(s, t, j, ddr ? id : UINT32_MAX, &c);
  return c.cycles;
}

/* What moving buffer `id` from the SRAM to DDR adds to the estimates of
 * the instructions outside group g that touch it, in cycles. */
static double ddr_penalty(const sched *s, const qir_target *t, unsigned id, const group *g) {
  const npu_program *p = s->p;
  const buffer *b = &s->buffers[id];
  group other = {0, 0, 0, 0, 1, false, 0, false, false, KEEP_NONE, 0, {0}};
  double cycles = 0;
  for (int m = b->first > 0 ? b->first : 0; m <= b->last && m < (int)p->num_insns; m++) {
    if ((unsigned)m >= g->g0 && (unsigned)m <= g->g1)
      continue;
    other.g0 = other.g1 = (unsigned)m;
    if (!npu_insn_is_marker(&p->insns[m]) && uses_in_group(s, &other, id))
      cycles += placed_cycles(s, t, (unsigned)m, id, true) -
                placed_cycles(s, t, (unsigned)m, id, false);
  }
  return cycles;
}

/* remote_penalty's part for tensor x, unless the trial placement left it
 * in DDR or its buffer is among seen[0..*n) (then noted there). */
static double remote_tensor(const sched *s, const qir_target *t, const group *g, int64_t x,
                            unsigned *seen, unsigned *n) {
  if (left_in_ddr(s, x))
    return 0;
  unsigned id = s->buffer_of[x], j = 0;
  while (j < *n && seen[j] != id)
    j++;
  if (j < *n || *n == 8)
    return 0;
  seen[(*n)++] = id;
  return ddr_penalty(s, t, id, g);
}

/* What spreading group g over the cores costs outside it: the
 * activations it reads and writes outside its bands (its input, result
 * and side operands, and the sources of the held gathers whose bands its
 * tiles gather) that the trial placement kept in SRAM must go to DDR
 * (the other cores cannot reach core 0's SRAM), so every other
 * instruction touching them moves their bytes over the bus: what that
 * adds to each, in cycles (an instruction overlaps its DDR traffic with
 * its compute, so one that computes longer than it moves pays less than
 * the bytes' time, or nothing). */
static double remote_penalty(const sched *s, const qir_target *t, const group *g) {
  const npu_program *p = s->p;
  double cycles = 0;
  unsigned seen[8], n = 0;
  if (reads_held(s, g->g0, g->g1))
    for (unsigned gk = 0; gk < p->num_insns; gk++)
      if (s->held[gk] && s->reader_of[gk] >= (int)g->g0 && s->reader_of[gk] <= (int)g->g1)
        cycles += remote_tensor(s, t, g, field(&p->insns[gk], "in"), seen, &n);
  for (unsigned k = g->g0; k <= g->g1; k++) {
    const npu_insn *in = &p->insns[k];
    const char *f;
    const char *chain = chain_field(s, in, chain_buffer(s, g->g0, k));
    int64_t ext[3] = {k == g->g0 ? field(in, chain) : -1,
                      k == g->g1 ? field(in, "out") : -1, -1};
    if (branch_source(s, g, k, &f) < 0)
      ext[2] = in->opcode == NPU_CONV                               ? field(in, "sum")
               : in->opcode == NPU_ADD || in->opcode == NPU_MUL ? field(in, !strcmp(chain, "a") ? "b" : "a")
                                                                 : -1;
    for (unsigned i = 0; i < 3; i++)
      cycles += remote_tensor(s, t, g, ext[i], seen, &n);
  }
  return cycles;
}

/* The height of tiles that cut H rows into at least `tiles` tiles, that
 * count rounded up to a multiple of `cores` (every core gets as many). */
static int64_t spread_height(int64_t H, int64_t tiles, unsigned cores) {
  tiles = (tiles + cores - 1) / cores * cores;
  return (H + tiles - 1) / tiles;
}

/* On several cores, tiles of `th` rows that cut H rows into a multiple
 * of the cores (one run of them per core) are cut evenly instead: 160
 * rows in 3 tiles are at most 54 rows (54, 53 and 53: rows_cut_evenly),
 * not 63, 63 and 34 (which leave the last core a short tile while the
 * others take the long ones).  Any other count keeps th: the short last
 * tile may then even out the run of the core that takes one tile more. */
static int64_t even_height(int64_t H, int64_t th, unsigned cores) {
  int64_t tiles = th > 0 ? (H + th - 1) / th : 0;
  return tiles && tiles % cores == 0 ? spread_height(H, tiles, cores) : th;
}

/* The tiles of group g at `th` rows share input rows (or columns) with
 * the tile before them: it is worth trying to keep them.  (Not when the
 * tiles gather concat parts into their input bands: every tile gathers
 * those channels whole again, load_input, and keeping the others gained
 * nothing on PP-OCRv4 det: ax620e 3397.3 -> 3400.4 us.) */
static bool tiles_share_input(const sched *s, const group *g, int64_t th, region *r) {
  int64_t c0, f0, f1;
  if (count_tiles(s, g, th) < 2 || concat_part_from(s, g->g0, 0, &c0) >= 0)
    return false;
  region in0, in1, c[MAX_GROUP];
  if (!plan_tile(s, g, tile_region(s, g, th, 0, &f0), r, &in0, c, NULL) ||
      !plan_tile(s, g, tile_region(s, g, th, 1, &f1), r, &in1, c, NULL))
    return false;
  return f0 == f1 && (shares_rows(in0, in1) || shares_cols(in0, in1));
}

/* The tile widths to try for group g (per frame or not): the full width
 * (0), and when not even one row across it fits, half of it, a quarter,
 * ... down to the first width whose tiles hold the whole height (narrower
 * ones only add halos), and no narrower than a sixteenth. */
#define MAX_WIDTHS 12
static unsigned tile_widths(const sched *s, group *g, bool per_frame, uint64_t room,
                            region *r, int64_t *tws) {
  const npu_tensor *y = tensor_at(s->p, &s->p->insns[g->g1], "out");
  unsigned n = 0;
  tws[n++] = 0;
  g->per_frame = per_frame;
  g->tw = 0;
  if (tallest_tile(s, g, room, 1, r) || !column_local(s, g))
    return n;
  /* (No narrower than a sixteenth of the width, or 4 columns: narrower
   * tiles are mostly halo, and many.) */
  int64_t least = y->dims[3] / 16 > 4 ? y->dims[3] / 16 : 4;
  for (int64_t tw = y->dims[3]; (tw + 1) / 2 >= least && n < MAX_WIDTHS;) {
    tw = (tw + 1) / 2;
    tws[n++] = tw;
    g->tw = tw;
    if (tallest_tile(s, g, room, 1, r) == y->dims[2])
      break;
  }
  g->tw = 0;
  return n;
}

/* Some window of group g overlaps the next one (a halo): tiles share rows
 * or columns of some band. */
static bool has_halos(const sched *s, const group *g) {
  for (unsigned k = g->g0; k <= g->g1; k++)
    for (unsigned d = 2; d <= 3; d++) {
      int64_t kk, st, dl, pad;
      window(s->p, &s->p->insns[k], d, &kk, &st, &dl, &pad);
      if ((kk - 1) * dl + 1 > st)
        return true;
    }
  return false;
}

/* The tile heights to try for group g (tiled along W by g->tw, per frame
 * or not, on g->cores cores, g->keep) in `room` bytes: the tallest tile
 * in single buffering, the tallest in double buffering and one row band
 * shorter; on several cores also the first two with their tile counts
 * rounded up to a multiple of the cores (0: none).  Spread over the cores
 * by rows alone, those whose count is a multiple of the cores are cut
 * evenly (even_height). */
static void tile_candidates(const sched *s, group *g, uint64_t room, region *r,
                            int64_t cand[5]) {
  int64_t H = tensor_at(s->p, &s->p->insns[g->g1], "out")->dims[2];
  int64_t single = tallest_tile(s, g, room, 1, r), twice = tallest_tile(s, g, room, 2, r);
  int64_t tiles1 = single ? (H + single - 1) / single : 0;
  int64_t tiles2 = twice ? (H + twice - 1) / twice : 0;
  cand[0] = single;
  cand[1] = twice;
  cand[2] = tiles2 ? (H + tiles2) / (tiles2 + 1) : 0;
  cand[3] = s->cores > 1 && tiles1 ? spread_height(H, tiles1, s->cores) : 0;
  cand[4] = s->cores > 1 && tiles2 ? spread_height(H, tiles2, s->cores) : 0;
  for (unsigned i = 0; g->cores > 1 && !g->tw && !g->per_frame && i < 3; i++)
    cand[i] = even_height(H, cand[i], g->cores);
}

/* The cheapest tiling of group g by the cost model (latency first, then
 * DDR bytes), or th = 0 when running it untiled is as good.  Candidates:
 * the tallest tile in single buffering, and double buffering with the
 * tallest tile for two copies and one row band shorter, on one core (not
 * for a group of one instruction: that runs as well untiled) and on all;
 * on several cores also the first two with their tile counts rounded up
 * to a multiple of the cores.  With a batch, each of them also with tiles
 * of one frame each; where one row across the width does not fit, each
 * also at the narrower tile widths of tile_widths(). */
static tiling choose_tiling(const sched *s, const qir_target *t, group *g,
                            uint64_t room) {
  unsigned n = g->g1 - g->g0 + 1;
  region *r = qir_xcalloc(n, sizeof *r);
  g->keep = KEEP_NONE;
  /* (Untiled, it reads the held gathers' results whole: so do tiles that
   * do not gather their bands, try_tiling.  Counted on one core only: on
   * several, against the coarser spreading penalty, PP-OCRv4 det on ax650
   * spread its head over the cores and got slower, 1071.7 -> 1097.4 us.) */
  estimate untiled = estimate_untiled(s, t, g);
  if (s->cores == 1) {
    estimate gathers = held_gathers_cost(s, t, g);
    untiled.cycles += gathers.cycles;
    untiled.ddr_bytes += gathers.ddr_bytes;
  }
  tiling best = {0, 0, false, 1, false, untiled, untiled, 0, KEEP_NONE, 0, {0}};
  /* (Copied: trying a tiling adds tensors, which may move the table.) */
  const npu_tensor *y = tensor_at(s->p, &s->p->insns[g->g1], "out");
  int64_t frames = y->dims[0];
  double penalty = s->cores > 1 ? remote_penalty(s, t, g) : 0;
  /* A group that fits gains only by spreading over the cores (at best
   * untiled / cores, and the penalty on top), or by streaming its last
   * result out when that is a program output (streams()). */
  bool spread_only =
      g->fits && g->g1 > g->g0 && !(s->stream && writes_output(s, g->g1) && streams(s, g->g0));
  if (spread_only && penalty >= untiled.cycles * (1 - 1.0 / s->cores)) {
    free(r);
    return best;
  }
  int64_t tws[MAX_WIDTHS], c0;
  /* (One instruction gains by tiles on one core when they gather its
   * input's concat parts.) */
  bool parts = concat_part_from(s, g->g0, 0, &c0) >= 0, halos = has_halos(s, g);
  for (int per_frame = 0; per_frame <= (frames > 1); per_frame++) {
    unsigned num_tw = tile_widths(s, g, per_frame, room, r, tws);
    for (unsigned w = 0; w < num_tw; w++) {
      if (tws[w] && first_escape(s, g) != UINT32_MAX)
        continue; /* (the rows an escaping result's tiles copy out: may_escape) */
      g->per_frame = per_frame;
      g->tw = tws[w];
      for (unsigned cores = 1; cores <= s->cores; cores += s->cores > 1 ? s->cores - 1 : 1) {
        g->cores = cores;
        int64_t cand[5] = {0, 0, 0, 0, 0};
        for (unsigned keep = KEEP_NONE; keep <= (halos ? KEEP_ALL : KEEP_NONE); keep++) {
          g->keep = keep;
          if (keep != KEEP_INPUT) /* (the bands of KEEP_INPUT are those of KEEP_NONE) */
            tile_candidates(s, g, room, r, cand);
          for (unsigned i = 0; i < 5; i++) {
            bool double_buffer = i != 0 && i != 3;
            if (cand[i] < 1 || (cores > 1 && g->reduce) ||
                (cores == 1 && (i >= 3 || spread_only ||
                                (g->g0 == g->g1 && !per_frame && !g->reduce && !parts))))
              continue;
            balance_cores(s, g, cand[i], r);
            if (keep && !tiles_share_input(s, g, cand[i], r))
              continue;
            tiling c = try_tiling(s, t, g, cand[i], double_buffer, r);
            c.cores = cores;
            c.cut_th = g->cut_th;
            memcpy(c.cut, g->cut, sizeof c.cut);
            if (cores > 1 && count_tiles(s, g, cand[i]) > 1)
              c.cost.cycles += penalty;
            /* (Rows kept are moved by the compute engines: kept only
             * when faster, the DMA engine's time they save is often
             * hidden under compute.) */
            bool faster = c.cost.cycles < best.cost.cycles * 0.999;
            bool as_fast_less_ddr = !keep && c.cost.cycles <= best.cost.cycles * 1.02 &&
                                    c.cost.ddr_bytes < best.cost.ddr_bytes;
            if (faster || as_fast_less_ddr) {
              best = c;
              best.untiled = untiled;
            }
          }
        }
      }
    }
  }
  g->cores = best.cores;
  g->per_frame = best.per_frame;
  g->tw = best.tw;
  g->keep = best.keep;
  g->cut_th = best.cut_th;
  memcpy(g->cut, best.cut, sizeof g->cut);
  free(r);
  return best;
}

/* A group from instruction k through intermediates that fit in SRAM may
 * pay: its work spread over the cores saves at most (1 - 1/cores) of the
 * compute of MAX_GROUP instructions, and moving its input to DDR (when
 * the trial placement keeps it in SRAM) costs what ddr_penalty finds for
 * its other uses. */
static bool may_spread(const sched *s, const qir_target *t, unsigned k) {
  if (s->cores < 2 || !s->compute_sum || !row_local(s->p, &s->p->insns[k]))
    return false;
  unsigned end = k + MAX_GROUP < s->p->num_insns ? k + MAX_GROUP : s->p->num_insns;
  double gain = (s->compute_sum[end] - s->compute_sum[k]) * (1 - 1.0 / s->cores);
  const npu_insn *in = &s->p->insns[k];
  int64_t x = field(in, chain_field(s, in, UINT32_MAX));
  if (left_in_ddr(s, x))
    return gain > 0;
  group one = {k, k, 0, 0, 1, false, 0, false, false, KEEP_NONE, 0, {0}};
  return gain > ddr_penalty(s, t, s->buffer_of[x], &one);
}

/* Group g fits in SRAM and runs on one core, or forms at all, only to
 * stream its output, and it reads a program input or output.  Untiled,
 * its instructions might read that from SRAM (load_ahead's twins), which
 * the estimates of the groups do not see. */
static bool streamed_io(const sched *s, const qir_target *t, const group *g) {
  if (!g->fits || g->g1 == g->g0 || !writes_output(s, g->g1) ||
      (g->cores > 1 && may_spread(s, t, g->g0)))
    return false;
  for (unsigned k = g->g0; k <= g->g1; k++)
    if (reads_io(s, k))
      return true;
  return false;
}

/* Tensor t, a gpool's input, may be pooled band by band: a whole
 * activation buffer of one frame that goes to DDR or crowds the bands
 * (the trial placement), whose sums fit the accumulator. */
static bool poolable(const sched *s, int64_t t) {
  unsigned id = s->buffer_of[t];
  if (id == UINT32_MAX)
    return false;
  const buffer *b = &s->buffers[id];
  const npu_tensor *x = &s->p->tensors[t];
  int64_t range = qir_scalar_size(x->dtype) > 1 ? 65535 : 255;
  return !b->io && b->hi - b->lo == tensor_bytes(x) && x->dims[0] == 1 &&
         x->dims[2] * x->dims[3] <= INT32_MAX / range &&
         (b->space != NPU_SPACE_SRAM || b->hi - b->lo > s->band_room);
}

/* Group g's last result goes to DDR or crowds the bands (the trial
 * placement), and only the next instruction reads it: a gpool of one
 * frame, whose sums fit the accumulator.  Its tiles can pool their bands
 * instead of copying them out (a squeeze-and-excitation's pooling over a
 * large tensor, with the tensor's producer computed again for the scaling:
 * remat_pools). */
static bool reducer(const sched *s, const group *g) {
  const npu_program *p = s->p;
  if (g->g1 + 1 >= p->num_insns || !row_local(p, &p->insns[g->g1]))
    return false;
  const npu_insn *pool = &p->insns[g->g1 + 1];
  int64_t t = field(&p->insns[g->g1], "out");
  if (pool->opcode != NPU_GPOOL || field(pool, "part") != 0 || field(pool, "in") != t ||
      !poolable(s, t))
    return false;
  const buffer *b = &s->buffers[s->buffer_of[t]];
  return b->uses == 2 && b->first == (int)g->g1 && b->last == (int)g->g1 + 1;
}

/* Result i of group g (not its last) is read after the group too (a
 * backbone stage that a lateral conv of a feature pyramid reads later):
 * the group may still run through it instead of ending there, when no
 * instruction of the group but the next reads it, it has one frame, and
 * the rows of it that the group's tiles compute cover it without gaps
 * (checked on tiles of one output row: the rows of taller tiles are
 * their union).  Each tile then copies the rows of it that no tile
 * before computed out to its buffer (emit_tile), and the group's end
 * does not send the whole result to DDR and the next group load it back
 * (PP-OCRv4 det: each stage of its backbone is also a lateral's input).
 * Its tiles are of the full width (choose_tiling). */
static bool may_escape(const sched *s, const group *g, unsigned i) {
  const npu_program *p = s->p;
  if (!s->escape || i >= g->g1 || side_insn(s, i) || side_insn(s, i + 1))
    return false;
  int64_t t = field(&p->insns[i], "out");
  unsigned id = s->buffer_of[t];
  const npu_tensor *x = &p->tensors[t];
  group inside = *g;
  inside.g0 = i + 2;
  if (id == UINT32_MAX || s->buffers[id].io || x->dims[0] != 1 ||
      (inside.g0 <= g->g1 && uses_in_group(s, &inside, id)))
    return false;
  const npu_tensor *y = tensor_at(p, &p->insns[g->g1], "out");
  region r[MAX_GROUP], c[MAX_GROUP], in;
  int64_t hi = 0;
  for (int64_t row = 0; row < y->dims[2]; row++) {
    if (!plan_tile(s, g, (region){row, row + 1, 0, y->dims[3]}, r, &in, c, NULL))
      return false;
    region a = r[i - g->g0];
    if (a.lo > hi || a.w0 != 0 || a.w1 != x->dims[3])
      return false;
    hi = a.hi > hi ? a.hi : hi;
  }
  return hi == x->dims[2];
}

/* The group starting at instruction k and ending at `last` at the
 * latest: as long as the links hold, one row still fits and MAX_GROUP
 * allows.  Unless `mixed`, its first link says what kind of group it is:
 * one that keeps intermediates out of DDR (crowded links) or one that
 * spreads layers fitting in SRAM over the cores, and it stops at a link
 * of the other kind (tile_groups weighs the two). */
static group grow_group(const sched *s, const qir_target *t, unsigned k, unsigned last,
                        bool mixed, region *r) {
  group g = {k, k, 0, 0, 1, false, 0, true, false, KEEP_NONE, 0, {0}};
  bool crowded, spread = may_spread(s, t, k) || (s->stream && streams(s, k));
  int side_read = -1; /* the last reader of the group's side results */
  while (g.g1 < last && g.g1 - g.g0 + 1 < MAX_GROUP && links(s, g.g0, g.g1, spread, &crowded)) {
    /* (One row of one frame across the width or, where the group can
     * tile along W, across an eighth of it: the least a tile may hold;
     * narrower tiles would let groups grow long on tiles of mostly
     * halos.) */
    if (!mixed && g.g1 > g.g0 && crowded == g.fits)
      break;
    group wider = {g.g0, g.g1 + 1, 0, 0, 1, true, 0, (g.g1 == g.g0 || g.fits) && !crowded, false,
                   KEEP_NONE, 0, {0}};
    if (side_insn(s, wider.g1)) {
      int at = s->buffers[s->buffer_of[field(&s->p->insns[wider.g1], "out")]].last;
      side_read = at > side_read ? at : side_read;
    }
    /* (Until a side result's reader joins, its tiles have no plan.) */
    if (side_read > (int)wider.g1) {
      g = wider;
      continue;
    }
    if (tile_bytes(s, &wider, 1, r, NULL) > s->band_room) {
      int64_t W = tensor_at(s->p, &s->p->insns[wider.g1], "out")->dims[3];
      wider.tw = W / 8 > 0 ? W / 8 : 1;
      if (!column_local(s, &wider) || tile_bytes(s, &wider, 1, r, NULL) > s->band_room)
        break;
    }
    g = wider;
    g.per_frame = false;
    g.tw = 0;
  }
  /* A branch must be read again within the group: end the group at the
   * instruction that computes a branch read after the group's end
   * (unless it may escape). */
  for (unsigned i = g.g0; i < g.g1; i++)
    if (s->buffers[s->buffer_of[field(&s->p->insns[i], "out")]].last > (int)g.g1 &&
        !may_escape(s, &g, i)) {
      g.g1 = i;
      i = g.g0 - 1; /* an earlier branch may now be read after the end */
    }
  g.reduce = reducer(s, &g);
  return g;
}

static void reserve(sched *s, unsigned first, unsigned last, uint64_t top) {
  s->reserved = qir_xrealloc(s->reserved, (s->num_reserved + 1) * sizeof *s->reserved);
  s->reserved[s->num_reserved++] = (reservation){first, last, top};
}

/* ---- Convolutions split over the cores ----
 * An untiled conv (batch 1) is split along its output channels (along
 * its groups when it has several) into one piece per core, then a sync,
 * when that is faster; its activations then live in DDR, where every core
 * can reach them (those the trial placement kept in SRAM pay for it:
 * remote_penalty).
 * Each piece reads the whole input (its groups' channels of it), its rows
 * of the weights and channel parameters, and writes its channels of the
 * result: views of the same bytes (N = 1, so channel ranges are
 * contiguous). */

static bool splittable_conv(const sched *s, const npu_insn *in) {
  const npu_program *p = s->p;
  if (s->cores < 2 || in->opcode != NPU_CONV)
    return false;
  const npu_tensor *y = tensor_at(p, in, "out"), *x = tensor_at(p, in, "in");
  int64_t units = field(in, "group") > 1 ? field(in, "group") : y->dims[1];
  return y->dims[0] == 1 && x->dims[0] == 1 && units >= 2;
}

/* The pieces of conv `in` on the cores, onto `to`. */
static void emit_split_conv(const sched *s, insn_list *to, const npu_insn *in) {
  npu_program *p = s->p;
  int64_t G = field(in, "group"), O = tensor_at(p, in, "out")->dims[1];
  int64_t I = tensor_at(p, in, "in")->dims[1];
  int64_t units = G > 1 ? G : O, out_per = G > 1 ? O / G : 1, in_per = G > 1 ? I / G : 0;
  int64_t cores = (int64_t)s->cores < units ? (int64_t)s->cores : units;
  for (int64_t c = 0; c < cores; c++) {
    int64_t u0 = c * units / cores, n = (c + 1) * units / cores - u0;
    npu_insn piece = *in;
    piece.f[npu_field(NPU_CONV, "out")] = npu_program_view(p, field(in, "out"), 1, u0 * out_per, n * out_per);
    piece.f[npu_field(NPU_CONV, "w")] = npu_program_view(p, field(in, "w"), 0, u0 * out_per, n * out_per);
    piece.f[npu_field(NPU_CONV, "params")] += u0 * out_per * NPU_PARAM_WORDS * 4;
    /* (A sum of fewer channels covers the first ones.) */
    int64_t sum = field(in, "sum"), sc = sum >= 0 ? p->tensors[sum].dims[1] : 0;
    int64_t c0 = u0 * out_per, c1 = c0 + n * out_per < sc ? c0 + n * out_per : sc;
    if (sum >= 0)
      piece.f[npu_field(NPU_CONV, "sum")] = c0 < sc ? (int64_t)npu_program_view(p, sum, 1, c0, c1 - c0) : -1;
    if (G > 1) {
      piece.f[npu_field(NPU_CONV, "in")] = npu_program_view(p, field(in, "in"), 1, u0 * in_per, n * in_per);
      piece.f[npu_field(NPU_CONV, "group")] = n;
    }
    push_marker(to, NPU_CORE, c);
    list_push(to, &piece);
  }
  push_marker(to, NPU_SYNC, cores);
}

/* Tells the observer about group g (tiled as `c`, or split when
 * c->th is 0). */
static void observe(const sched *s, const group *g, const tiling *c) {
  if (!s->observe)
    return;
  const npu_insn *first = &s->p->insns[g->g0];
  unsigned cores = c->cores;
  if (!c->th) { /* a conv split: one piece per unit (group or channel) at most */
    int64_t units = field(first, "group") > 1 ? field(first, "group")
                                              : tensor_at(s->p, first, "out")->dims[1];
    cores = units < (int64_t)s->cores ? (unsigned)units : s->cores;
  }
  npu_sched_group d = {g->g1 - g->g0 + 1, first->comment, s->p->insns[g->g1].comment,
                       c->th, g->tw, c->th ? count_tiles(s, g, c->th) : 0, g->per_frame,
                       c->double_buffer, cores, !c->th, c->cost.cycles, c->cost.ddr_bytes,
                       c->untiled.cycles, c->untiled.ddr_bytes,
                       g->reduce ? s->p->insns[g->g1 + 1].comment : NULL, c->th ? g->keep : 0,
                       0, NULL};
  for (unsigned k = g->g0; c->th && k < g->g1; k++)
    if (escapes(s, g, k) && !d.escaping++)
      d.escape = s->p->insns[k].comment;
  s->observe(s->observe_ctx, &d);
}

/* Conv k split over the cores onto `to` when the cost model finds that
 * faster than `than` (the cost of the alternative, as `than->cost`); else
 * nothing is emitted and false returned. */
static bool try_split(const sched *s, const qir_target *t, unsigned k, const tiling *than,
                      insn_list *to) {
  npu_program *p = s->p;
  insn_list pieces = {NULL, 0, 0};
  unsigned saved = p->num_tensors;
  emit_split_conv(s, &pieces, &p->insns[k]);
  estimate split = estimate_insns(s, t, pieces.v, pieces.num);
  group one = {k, k, 0, 0, 1, false, 0, false, false, KEEP_NONE, 0, {0}};
  split.cycles += remote_penalty(s, t, &one);
  bool faster = split.cycles < than->cost.cycles * 0.999;
  if (faster) {
    sync_before_spread(to, s->cores);
    list_append(to, &pieces);
    tiling c = {0, 0, false, s->cores, false, split, than->untiled, 0, KEEP_NONE, 0, {0}};
    observe(s, &one, &c);
  } else {
    p->num_tensors = saved;
  }
  free(pieces.v);
  return faster;
}

/* Instruction k as it is, or split over the cores when the cost model
 * finds that faster. */
static void emit_untiled(const sched *s, const qir_target *t, insn_list *to, unsigned k) {
  const npu_insn *in = &s->p->insns[k];
  group one = {k, k, 0, 0, 1, false, 0, false, false, KEEP_NONE, 0, {0}};
  if (!splittable_conv(s, in)) {
    list_push(to, in);
    return;
  }
  estimate untiled = estimate_untiled(s, t, &one);
  tiling as_is = {0, 0, false, 1, false, untiled, untiled, 0, KEEP_NONE, 0, {0}};
  if (!try_split(s, t, k, &as_is, to))
    list_push(to, in);
}

/* The tiling of group g (th = 0: untiled).  On several cores a single
 * instruction is a group too: its tiles spread over the cores read their
 * rows of the input once (a channel split reads all of it on every
 * core). */
static tiling plan_group(const sched *s, const qir_target *t, group *g) {
  tiling c = {0, 0, false, 1, false, {0, 0}, {0, 0}, 0, KEEP_NONE, 0, {0}};
  int64_t c0;
  if (g->g1 > g->g0 || g->reduce || concat_part_from(s, g->g0, 0, &c0) >= 0 ||
      (s->cores > 1 && row_local(s->p, &s->p->insns[g->g0]))) {
    uint64_t wb = group_weight_bytes(s, g);
    g->weights = wb <= s->band_room / 2 ? wb : 0;
    c = choose_tiling(s, t, g, s->band_room - g->weights - acc_bytes(s, g));
  }
  return c;
}

/* Cycles of instructions k..last as groups of one kind run them, chosen
 * as tile_groups does (ending at `last` at the latest).  (A group of both
 * kinds competes with the group of one kind from its start plus this for
 * the rest of its span.) */
static double rest_cycles(const sched *s, const qir_target *t, unsigned k, unsigned last,
                          region *r) {
  double cycles = 0;
  while (k <= last) {
    group g = grow_group(s, t, k, last, false, r);
    tiling c = plan_group(s, t, &g);
    if (!c.th) {
      g.g1 = k;
      g.reduce = false;
      c.cost = estimate_untiled(s, t, &g);
    }
    cycles += c.cost.cycles;
    k = g.g1 + 1 + g.reduce;
  }
  return cycles;
}

/* Group g, grown as far as its links hold, is worth neither tiling nor
 * spreading over the cores (*c): a group from its start that ends
 * earlier may be.  Its last result is another, which may be smaller, or
 * go to DDR anyway (MLSD's stem on ax650: the expand conv that ends the
 * grown group writes 2.4 MB, which its reader would then load from DDR;
 * the conv before it writes 0.4 MB, and the group up to it pays), and
 * its tiles carry fewer halos (PP-OCRv4 det on bpu-bernoulli2: 10 convs
 * at 80x80 tile too thin to pay, the first 8 pay).  Of the shorter
 * groups that pay, the one that saves the most cycles replaces g and
 * *c; false if none.  Only for a group that computes at least 1/32 of
 * the program: the search plans up to 15 more groups, and a long chain
 * of small layers would compile five times slower for nothing. */
static bool shorter_spread(const sched *s, const qir_target *t, group *g, tiling *c,
                           region *r) {
  const double *sum = s->compute_sum;
  if ((sum[g->g1 + 1] - sum[g->g0]) * 32 < sum[s->p->num_insns])
    return false;
  bool found = false;
  for (unsigned j = g->g1; j-- > g->g0;) {
    group h = grow_group(s, t, g->g0, j, false, r);
    if (h.g1 != j) /* (ended earlier by a branch: tried as such) */
      continue;
    tiling ch = plan_group(s, t, &h);
    if (ch.th && (!found || ch.untiled.cycles - ch.cost.cycles >
                                c->untiled.cycles - c->cost.cycles)) {
      *c = ch;
      *g = h;
      found = true;
    }
  }
  return found;
}

/* Whether instructions [from, out->num) name tensor i's bytes (a view of
 * them). */
static bool names_bytes(const npu_program *p, const insn_list *out, unsigned from, int64_t i) {
  const npu_tensor *x = &p->tensors[i];
  for (unsigned k = from; k < out->num; k++) {
    const npu_insn_info *info = npu_insn_info_of(out->v[k].opcode);
    for (unsigned f = 0; f < info->num_fields; f++) {
      int64_t j = out->v[k].f[f];
      if (tensor_field(out->v[k].opcode, f) && j >= 0 && p->tensors[j].space == x->space &&
          p->tensors[j].offset < x->offset + tensor_bytes(x) &&
          x->offset < p->tensors[j].offset + tensor_bytes(&p->tensors[j]))
        return true;
    }
  }
  return false;
}

/* The held gathers whose readers are instructions [k0, k1], emitted from
 * out->v[at] on, are emitted at `at` (before them) unless those
 * instructions gathered the bands themselves; returns how many. */
static unsigned release_gathers(sched *s, insn_list *out, unsigned k0, unsigned k1,
                                unsigned at) {
  unsigned n = 0;
  if (!reads_held(s, k0, k1))
    return 0;
  for (unsigned g = 0; g < s->p->num_insns; g++) {
    if (!s->held[g] || s->reader_of[g] < (int)k0 || s->reader_of[g] > (int)k1)
      continue;
    s->held[g] = false;
    /* (the ones emitted so far are at [at, at + n)) */
    if (at + n < out->num && !names_bytes(s->p, out, at + n, field(&s->p->insns[g], "out")))
      continue; /* gathered band by band */
    list_push(out, &s->p->insns[g]);
    memmove(&out->v[at + 1], &out->v[at], (out->num - 1 - at) * sizeof *out->v);
    out->v[at] = s->p->insns[g];
    n++;
  }
  return n;
}

/* ---- A squeeze-and-excitation's pooling over a large tensor ----
 * x = conv(s); g = gpool(x); ... h = f(g); y = mul(x, h); z = add(x, y):
 * when x crowds the SRAM, it goes to DDR whole, is read back whole by the
 * pooling, and again band by band by the scaling.  When the conv computes
 * faster than x's bytes go out, it is computed twice instead: a copy just
 * before the pooling, whose tiles pool their bands without copying them
 * out (reducer), and the conv itself moved down to just before x's first
 * other reader, where it starts the group of the scaling.  x then never
 * reaches DDR. */

/* Instruction `from` reads a buffer that an instruction of (from, to)
 * writes. */
static bool overwritten(const sched *s, unsigned from, unsigned to) {
  const npu_program *p = s->p;
  const npu_insn *in = &p->insns[from];
  const npu_insn_info *info = npu_insn_info_of(in->opcode);
  for (unsigned f = 0; f < info->num_fields; f++) {
    if (npu_field_role(in->opcode, f) != NPU_FIELD_OPERAND || in->f[f] < 0 ||
        s->buffer_of[in->f[f]] == UINT32_MAX)
      continue;
    unsigned id = s->buffer_of[in->f[f]];
    for (unsigned m = from + 1; m < to; m++) {
      const npu_insn *w = &p->insns[m];
      const npu_insn_info *wi = npu_insn_info_of(w->opcode);
      for (unsigned g = 0; g < wi->num_fields; g++)
        if (npu_field_role(w->opcode, g) == NPU_FIELD_RESULT && w->f[g] >= 0 &&
            s->buffer_of[w->f[g]] == id)
          return true;
    }
  }
  return false;
}

/* For gpool k: the instruction that computes its input to compute again
 * (see above), and *reader, x's first other reader; else -1. */
static int remat_source(const sched *s, const qir_target *t, unsigned k, unsigned *reader) {
  const npu_program *p = s->p;
  const npu_insn *pool = &p->insns[k];
  if (pool->opcode != NPU_GPOOL || field(pool, "part") != 0 || !poolable(s, field(pool, "in")))
    return -1;
  int64_t x = field(pool, "in");
  unsigned id = s->buffer_of[x];
  const buffer *b = &s->buffers[id];
  int kp = b->first;
  if (kp < 0 || kp >= (int)k || b->last >= (int)p->num_insns)
    return -1;
  const npu_insn *src = &p->insns[kp];
  group one = {(unsigned)kp, (unsigned)kp, 0, 0, 1, false, 0, false, false, KEEP_NONE, 0, {0}};
  if ((src->opcode != NPU_CONV && src->opcode != NPU_LUT) || !row_local(p, src) ||
      (src->opcode == NPU_CONV && field(src, "sum") >= 0) || field(src, "out") != x)
    return -1;
  *reader = 0; /* (none: reducer() needs no copy) */
  for (int m = kp + 1; m <= b->last; m++) {
    one.g0 = one.g1 = (unsigned)m;
    if ((unsigned)m == k || !uses_in_group(s, &one, id))
      continue;
    if (m < (int)k)
      return -1;
    if (!*reader)
      *reader = (unsigned)m;
  }
  if (!*reader || overwritten(s, (unsigned)kp, *reader))
    return -1;
  npu_cost c;
  placed_cost(s, t, (unsigned)kp, id, &c);
  double store = (double)tensor_bytes(&p->tensors[x]) * t->clock_mhz / (t->ddr_gbps * 1e3);
  return c.compute_cycles < store ? kp : -1;
}

/* Rewrites the program as above for each pooling that qualifies; false
 * when none does. */
static bool remat_pools(sched *s, const qir_target *t) {
  npu_program *p = s->p;
  unsigned n = p->num_insns;
  int *copy_before = qir_xcalloc(n + 1, sizeof *copy_before),
      *move_before = qir_xcalloc(n + 1, sizeof *move_before);
  bool *busy = qir_xcalloc(n + 1, sizeof *busy), *moved = qir_xcalloc(n + 1, sizeof *moved),
       any = false;
  for (unsigned k = 0; k < n; k++)
    copy_before[k] = move_before[k] = -1;
  for (unsigned k = 0; k < n; k++) {
    unsigned r;
    int kp = remat_source(s, t, k, &r);
    if (kp < 0 || busy[kp] || busy[k] || busy[r])
      continue;
    busy[kp] = busy[k] = busy[r] = true;
    copy_before[k] = move_before[r] = kp;
    moved[kp] = any = true;
  }
  if (any) {
    uint64_t top = 0;
    for (unsigned i = 0; i < p->num_tensors; i++)
      if (p->tensors[i].space == NPU_SPACE_DDR && p->tensors[i].offset + tensor_bytes(&p->tensors[i]) > top)
        top = p->tensors[i].offset + tensor_bytes(&p->tensors[i]);
    insn_list out = {NULL, 0, 0};
    for (unsigned k = 0; k < n; k++) {
      npu_insn in = p->insns[k];
      if (copy_before[k] >= 0) { /* the copy, into a tensor of its own */
        npu_insn again = p->insns[copy_before[k]];
        npu_tensor x = p->tensors[field(&again, "out")];
        x.offset = align_up(top);
        top = x.offset + tensor_bytes(&x);
        unsigned xc = npu_program_add_tensor(p, x);
        again.f[npu_field(again.opcode, "out")] = xc;
        in.f[npu_field(NPU_GPOOL, "in")] = xc;
        list_push(&out, &again);
      }
      if (move_before[k] >= 0)
        list_push(&out, &p->insns[move_before[k]]);
      if (!moved[k])
        list_push(&out, &in);
    }
    free(p->insns);
    p->insns = out.v;
    p->num_insns = p->cap_insns = out.num;
    p->ddr_size = top > p->ddr_size ? top : p->ddr_size;
  }
  free(copy_before);
  free(move_before);
  free(busy);
  free(moved);
  return any;
}

/* The group from instruction k and its tiling (c->th = 0: none) as
 * tile_groups takes them: grown as far as the links hold, or shorter
 * where that does not pay on several cores (shorter_spread), or grown
 * through links of both kinds where that pays (grow_group). */
static void choose_group(sched *s, const qir_target *t, unsigned k, region *r, group *g,
                         tiling *c, bool escape) {
  unsigned last = s->p->num_insns - 1;
  s->escape = escape;
  *g = grow_group(s, t, k, last, false, r);
  *c = plan_group(s, t, g);
  if (!c->th && s->cores > 1 && g->g1 > g->g0)
    shorter_spread(s, t, g, c, r);
  if (c->th && s->cores > 1) {
    group mixed = grow_group(s, t, k, last, true, r);
    if (mixed.g1 > g->g1) {
      tiling m = plan_group(s, t, &mixed);
      if (m.th && m.cost.cycles < c->cost.cycles + rest_cycles(s, t, g->g1 + 1, mixed.g1, r)) {
        *g = mixed;
        *c = m;
      }
    }
  }
  s->escape = false;
}

/* Cycles of instructions k..end as the choice of group g and tiling c at
 * k, and the groups rest_cycles finds after it, run them. */
static double choice_cycles(const sched *s, const qir_target *t, unsigned k, const group *g,
                            const tiling *c, unsigned end, region *r) {
  group one = {k, k, 0, 0, 1, false, 0, false, false, KEEP_NONE, 0, {0}};
  double cycles = c->th ? c->cost.cycles : estimate_untiled(s, t, &one).cycles;
  unsigned next = c->th ? g->g1 + 1 + g->reduce : k + 1;
  return cycles + (next <= end ? rest_cycles(s, t, next, end, r) : 0);
}

/* Where the group grown from k runs through escaping results
 * (may_escape), the choice (*g, *c) made without them competes with the
 * one made with them, over the span of both (each followed by the groups
 * without escaping results up to the end of the other): the faster is
 * kept.  (Running through is not always faster: the longer group may
 * take shorter tiles, with more halos.)  Only on one core (schedule_once). */
static void escape_or_not(sched *s, const qir_target *t, unsigned k, region *r, group *g,
                          tiling *c) {
  if (!s->escapes)
    return;
  s->escape = true;
  group grown = grow_group(s, t, k, s->p->num_insns - 1, false, r);
  s->escape = false;
  if (first_escape(s, &grown) == UINT32_MAX)
    return;
  group ge;
  tiling ce;
  choose_group(s, t, k, r, &ge, &ce, true);
  if (!ce.th || (ge.g1 == g->g1 && ce.th == c->th && first_escape(s, &ge) == UINT32_MAX))
    return; /* (untiled, instruction k runs alone either way) */
  unsigned end = ge.g1 > g->g1 ? ge.g1 : g->g1;
  if (choice_cycles(s, t, k, &ge, &ce, end, r) < choice_cycles(s, t, k, g, c, end, r)) {
    *g = ge;
    *c = ce;
  }
}

/* Replaces the program's instructions: each group that tiles better, by
 * its tiles (bands from SRAM byte 0, reserved over the tiles); the rest
 * as they were. */
static void tile_groups(sched *s, const qir_target *t) {
  npu_program *p = s->p;
  region *r = qir_xcalloc(MAX_GROUP, sizeof *r);
  emitter e = {.p = p, .frame = -1, .acc = -1};
  insn_list out = {NULL, 0, 0};
  find_side_insns(s);
  if (s->cores > 1) {
    s->compute_sum = qir_xcalloc(p->num_insns + 1, sizeof *s->compute_sum);
    for (unsigned k = 0; k < p->num_insns; k++) {
      npu_cost c = {0};
      if (!npu_insn_is_marker(&p->insns[k]))
        npu_insn_cost(t, p, &p->insns[k], &c);
      s->compute_sum[k + 1] = s->compute_sum[k] + c.compute_cycles;
    }
  }
  find_held_gathers(s);
  for (unsigned k = 0; k < p->num_insns;) {
    if (s->held[k]) {
      k++;
      continue;
    }
    group g;
    tiling c;
    choose_group(s, t, k, r, &g, &c, false);
    escape_or_not(s, t, k, r, &g, &c);
    if (!c.th) {
      release_gathers(s, &out, k, k, out.num);
      emit_untiled(s, t, &out, k++);
      continue;
    }
    /* One conv: its channel split may beat its tiles (weights read once). */
    unsigned at = out.num;
    if (g.g0 == g.g1 && !g.reduce && splittable_conv(s, &p->insns[k]) &&
        try_split(s, t, k, &c, &out)) {
      release_gathers(s, &out, k, k, at); /* (its pieces read them whole) */
      k++;
      continue;
    }
    observe(s, &g, &c);
    s->streamed |= streamed_io(s, t, &g);
    unsigned first = out.num;
    uint64_t top0 = emit_group(&e, &out, s, &g, c.th, c.tile_size, c.double_buffer);
    first += release_gathers(s, &out, g.g0, g.g1, first);
    reserve(s, first, out.num - 1, top0);
    if (e.sram_top > p->sram_size)
      p->sram_size = e.sram_top;
    k = g.g1 + 1 + g.reduce;
  }
  free(p->insns);
  free(e.loads.v);
  free(e.body.v);
  free(e.shift.v);
  p->insns = out.v;
  p->num_insns = p->cap_insns = out.num;
  free(r);
  free(s->compute_sum);
  s->compute_sum = NULL;
  free(s->side);
  s->side = NULL;
  free(s->held_by);
  free(s->held);
  free(s->reader_of);
  free(s->num_held);
  s->held_by = NULL;
  s->held = NULL;
  s->reader_of = NULL;
  s->num_held = NULL;
}

/* ---- Weights loaded ahead, inputs and outputs in SRAM too ---------------------
 * An instruction outside the tiled groups reads its weights (its operands
 * in the weight space: a conv's `w`, a constant operand) while it runs;
 * where its DDR bytes take longer than its compute, they bound it.
 * Copied into SRAM before it, by the DMA engine while the instructions
 * before it compute, they cost it nothing.  The program's inputs and
 * outputs stay in DDR (the runtime binds them), so an instruction that
 * writes an output, and each one that reads an input or an output, moves
 * its bytes over DDR; with a twin in SRAM, the output is written there and
 * copied out by the DMA engine while the next instructions compute, and
 * the readers read the twin (docs/NPU.md, "Weights loaded ahead" and
 * "Inputs and outputs in SRAM").  This runs on the final placement: the
 * copies and twins take SRAM that no buffer and no band uses over their
 * lives, so they never take it from an activation. */

#define AHEAD 8 /* instructions a weight copy may run ahead of its reader */

typedef struct ahead {
  unsigned at;          /* its copy goes before instruction `at` */
  unsigned k, f;        /* weights: for field f of instruction k (a remote
                           twin: k, its first reader or its writer) */
  unsigned first, last; /* a twin: its SRAM is taken over these */
  const buffer *b;      /* and holds buffer b, */
  bool out;             /* an output (copied out before `at`) or an input (in) */
  bool remote;          /* a buffer other cores touch: only core 0's
                           instructions from `first` on use the twin */
  int64_t whole;        /* (a tensor of b's every byte) */
  uint64_t offset, bytes;
} ahead;

static int by_at(const void *x, const void *y) {
  const ahead *a = x, *b = y;
  if (a->at != b->at)
    return a->at < b->at ? -1 : 1;
  if (a->k != b->k)
    return a->k < b->k ? -1 : 1;
  return a->f < b->f ? -1 : a->f > b->f;
}

static void add_busy(uint64_t (*busy)[2], unsigned *n, uint64_t offset, uint64_t bytes) {
  busy[*n][0] = offset;
  busy[(*n)++][1] = offset + bytes;
}

/* The lowest SRAM offset of core 0 where `need` bytes are free over
 * instructions [j, k]: above the bands reserved there, clear of the
 * buffers `near` placed in SRAM (all of them, or those live over the last
 * AHEAD + 1 instructions up to k), of the weight copies `a` planned (by
 * reader) and of the twins `tw`, live then; UINT64_MAX when there is
 * none.  `busy` has room for them all. */
static uint64_t free_sram(const sched *s, unsigned j, unsigned k, uint64_t need,
                          buffer *const *near, unsigned num_near, const ahead *a, unsigned na,
                          const ahead *tw, unsigned ntw, uint64_t (*busy)[2]) {
  unsigned n = 0;
  for (unsigned i = 0; i < num_near; i++)
    if (near[i]->first <= (int)k && (int)j <= near[i]->last)
      add_busy(busy, &n, near[i]->offset, near[i]->hi - near[i]->lo);
  for (unsigned i = na; i-- > 0 && a[i].k >= j;)
    add_busy(busy, &n, a[i].offset, a[i].bytes);
  for (unsigned i = 0; i < ntw; i++)
    if (tw[i].first <= k && j <= tw[i].last)
      add_busy(busy, &n, tw[i].offset, tw[i].bytes);
  uint64_t at = first_fit(busy, n, align_up(reserved_below(s, (int)j, (int)k)), need);
  return at + need <= s->sram_bytes ? at : UINT64_MAX;
}

/* The bytes of field f of `in` when it names an operand in the weight
 * space, else 0. */
static uint64_t weight_operand(const npu_program *p, const npu_insn *in, unsigned f) {
  const npu_tensor *t = npu_field_tensor(p, in, f);
  return t && t->space == NPU_SPACE_WGT && npu_field_role(in->opcode, f) != NPU_FIELD_RESULT
             ? tensor_bytes(t)
             : 0;
}

/* The DDR cycles of one byte an instruction moves (its estimate `c`
 * moves some). */
static double cycles_per_byte(const npu_cost *c) {
  return c->ddr_cycles / (c->ddr_read_bytes + c->ddr_write_bytes);
}

/* Onto `out`, p with the twins `tw` (by `at`) and the weight copies `a`
 * (by `at`); the SRAM's new top in *top.  Adds their tensors to p. */
static void emit_ahead(sched *s, const ahead *tw, unsigned ntw, const ahead *a, unsigned na,
                       insn_list *out, uint64_t *top) {
  npu_program *p = s->p;
  unsigned n = p->num_insns, tensors = p->num_tensors;
  int64_t *twin = qir_xcalloc(tensors + 1, sizeof *twin);
  const ahead **of = qir_xcalloc(tensors + 1, sizeof *of);
  npu_insn *insns = qir_xcalloc(n + 1, sizeof *insns);
  memcpy(insns, p->insns, n * sizeof *insns);
  for (unsigned i = 0; i < tensors; i++)
    twin[i] = -1;
  for (unsigned w = 0; w < ntw; w++) /* every view of b, in its twin */
    for (unsigned i = 0; i < tensors; i++)
      if (s->buffer_of[i] != UINT32_MAX && &s->buffers[s->buffer_of[i]] == tw[w].b) {
        npu_tensor v = p->tensors[i];
        v.space = NPU_SPACE_SRAM;
        v.offset = tw[w].offset + (v.offset - tw[w].b->offset);
        twin[i] = npu_program_add_tensor(p, v);
        of[i] = &tw[w];
      }
  for (unsigned k = 0, core = 0; k < n; k++) {
    const npu_insn_info *info = npu_insn_info_of(insns[k].opcode);
    if (npu_insn_is_marker(&insns[k]))
      core = core_after(&insns[k]);
    for (unsigned f = 0; f < info->num_fields; f++)
      if (npu_field_role(insns[k].opcode, f) && insns[k].f[f] >= 0 &&
          insns[k].f[f] < tensors && twin[insns[k].f[f]] >= 0 &&
          (!of[insns[k].f[f]]->remote || (k >= of[insns[k].f[f]]->first && !core)))
        insns[k].f[f] = twin[insns[k].f[f]];
  }
  *top = p->sram_size;
  for (unsigned k = 0, i = 0, w = 0; k <= n; k++) {
    for (; w < ntw && tw[w].at == k; w++) {
      const char *comment = tw[w].remote ? p->insns[tw[w].k].comment
                            : tw[w].out  ? p->insns[k - 1].comment
                                         : p->insns[k].comment;
      int64_t x = tw[w].whole, y = twin[x];
      npu_insn c = tw[w].out ? copy_whole(p, y, x, comment) : copy_whole(p, x, y, comment);
      list_push(out, &c);
      *top = tw[w].offset + tw[w].bytes > *top ? tw[w].offset + tw[w].bytes : *top;
    }
    for (; i < na && a[i].at == k; i++) {
      npu_insn c;
      insns[a[i].k].f[a[i].f] = weight_copy(p, p->insns[a[i].k].f[a[i].f], a[i].offset,
                                            p->insns[a[i].k].comment, &c);
      list_push(out, &c);
      *top = a[i].offset + a[i].bytes > *top ? a[i].offset + a[i].bytes : *top;
    }
    if (k < n)
      list_push(out, &insns[k]);
  }
  free(insns);
  free(of);
  free(twin);
}

/* Whether p is faster than `best` with the twins and the weight copies
 * (*best becomes its estimate then).  p is left as it was. */
static bool faster(sched *s, const qir_target *t, const ahead *tw, unsigned ntw, const ahead *a,
                   unsigned na, double *best) {
  npu_program *p = s->p;
  insn_list out = {NULL, 0, 0};
  uint64_t top;
  unsigned tensors = p->num_tensors;
  emit_ahead(s, tw, ntw, a, na, &out, &top);
  double cycles = npu_insns_cycles(t, s->cores, p, out.v, out.num);
  free(out.v);
  p->num_tensors = tensors;
  if (cycles >= *best)
    return false;
  *best = cycles;
  return true;
}

/* How instruction `in` uses buffer b: bit 0, it reads b; bit 1, it
 * writes b; bit 2, it writes a part of b. */
static unsigned buffer_use(const sched *s, const npu_insn *in, const buffer *b) {
  const npu_program *p = s->p;
  const npu_insn_info *info = npu_insn_info_of(in->opcode);
  unsigned use = 0;
  for (unsigned f = 0; f < info->num_fields; f++) {
    unsigned role = npu_field_role(in->opcode, f);
    if (!role || in->f[f] < 0 || s->buffer_of[in->f[f]] == UINT32_MAX ||
        &s->buffers[s->buffer_of[in->f[f]]] != b)
      continue;
    if (role != NPU_FIELD_RESULT)
      use |= 1;
    else if (p->tensors[in->f[f]].offset != b->offset ||
             tensor_bytes(&p->tensors[in->f[f]]) != b->hi - b->lo)
      use |= 6;
    else
      use |= 2;
  }
  return use;
}

/* For a twin of buffer b that other cores touch (in DDR), when core 0
 * reads it two or more times after the sync that follows its last write
 * (from the start for a program input, which nothing writes): its copy in
 * goes right after that sync, and those reads read it (the other cores'
 * reads, and the runtime for an input or output, still use DDR).  When
 * `late`, the first of those reads, a copy into SRAM (core 0's band of a
 * group spread over the cores), reads DDR too and the twin's copy goes
 * right after it on the DMA engine, for one or more reads after: copied
 * first, the whole buffer would hold up core 0's band while the other
 * cores compute theirs (PP-OCRv4 det on ax650); after it, the copy
 * overlaps core 0's compute.  (Not after an instruction of the compute
 * engines reading DDR: the estimate would let the two share no bus.)
 * Sets to->at, first, last and k (the first read of the twin); false
 * when core 0 reads it fewer times. */
static bool remote_reads(const sched *s, const buffer *b, int last_write, bool late,
                         ahead *to) {
  const npu_program *p = s->p;
  unsigned at = 0, reads = 0, core = 0, first = 0, last = 0;
  bool found = last_write < 0, skip = late;
  for (unsigned k = (unsigned)(last_write + 1); k < p->num_insns && !found; k++)
    if (p->insns[k].opcode == NPU_SYNC) {
      at = k + 1;
      found = true;
    }
  for (unsigned k = at; found && k < p->num_insns; k++) {
    const npu_insn *in = &p->insns[k];
    if (npu_insn_is_marker(in))
      core = core_after(in);
    else if (!core && (buffer_use(s, in, b) & 1)) {
      if (skip) {
        if (in->opcode != NPU_COPY)
          return false;
        at = k + 1;
        skip = false;
        continue;
      }
      first = reads++ ? first : k;
      last = k;
    }
  }
  to->k = first; /* (the copy is named after its first reader) */
  to->at = to->first = at;
  to->last = last;
  return reads >= (late ? 1u : 2u);
}

/* A twin in SRAM for buffer b of an input or an output, when core 0 alone
 * touches it, an output is written whole by one instruction (the twin is
 * copied out right after it) and an input is read by two or more
 * instructions or first read after others (the twin is copied in first);
 * for a buffer other cores touch, the same as an output's when one
 * instruction of core 0 writes it whole, else remote_reads; false
 * otherwise or when the SRAM has no room over its life. */
static bool plan_twin(const sched *s, const npu_cost *cost, const buffer *b, bool late,
                      const ahead *tw, unsigned ntw, uint64_t (*busy)[2],
                      buffer *const *all, unsigned num_sram, ahead *to) {
  const npu_program *p = s->p;
  int writer = -1, first_read = -1, last_read = -1;
  unsigned writers = 0, reads = 0, core = 0, writer_core = 0;
  int64_t whole = -1;
  bool input = false;
  for (unsigned i = 0; i < p->num_tensors; i++)
    if (s->buffer_of[i] != UINT32_MAX && &s->buffers[s->buffer_of[i]] == b &&
        p->tensors[i].offset == b->offset && tensor_bytes(&p->tensors[i]) == b->hi - b->lo)
      whole = i;
  for (unsigned i = 0; i < p->num_inputs; i++)
    input |= s->buffer_of[p->inputs[i]] != UINT32_MAX &&
             &s->buffers[s->buffer_of[p->inputs[i]]] == b;
  for (unsigned k = 0; k < p->num_insns; k++) {
    if (npu_insn_is_marker(&p->insns[k]))
      core = core_after(&p->insns[k]);
    unsigned use = buffer_use(s, &p->insns[k], b);
    if (use & 2) {
      writers += use & 4 ? 2 : 1; /* (a part of it: not written whole) */
      writer = (int)k;
      writer_core = core;
    }
    if (use == 1) {
      reads++;
      first_read = first_read < 0 ? (int)k : first_read;
      last_read = core ? last_read : (int)k; /* (core 0's last) */
    }
  }
  /* (Written whole by core 0 and read by the others after a sync: its
   * twin is written and copied out as an output's, and core 0 reads it
   * there; the others still read DDR.) */
  bool written_here = writers == 1 && !writer_core && !input;
  bool copied_in = b->remote && !written_here;
  bool ok = whole >= 0 && (copied_in || (input ? !writers && (reads >= 2 || first_read > 0)
                                                : writers == 1 &&
                                                      (first_read < 0 || first_read > writer)));
  if (!ok || (late && !copied_in))
    return false;
  *to = (ahead){0};
  to->b = b;
  to->whole = whole;
  to->remote = b->remote;
  to->bytes = b->hi - b->lo;
  if (copied_in) {
    if (!remote_reads(s, b, writer, late, to))
      return false;
  } else {
    to->k = b->remote ? (unsigned)writer : 0; /* (named after its writer) */
    to->out = !input;
    to->at = input ? 0 : (unsigned)writer + 1;
    to->first = input ? 0 : (unsigned)writer;
    to->last = (unsigned)(last_read > (int)to->at ? last_read : (int)to->at);
    if (!input) { /* kept until the instructions after cover the copy out */
      double out = (double)to->bytes * cycles_per_byte(&cost[writer]), covered = 0;
      for (unsigned k = to->at; k < p->num_insns && covered < out; k++) {
        covered += cost[k].compute_cycles;
        to->last = k > to->last ? k : to->last;
      }
    }
  }
  to->offset = free_sram(s, to->first, to->last, to->bytes, all, num_sram, NULL, 0, tw, ntw, busy);
  return to->offset != UINT64_MAX;
}

/* Twin x added to tw[0..*n), kept in the order of `at`: where it went. */
static ahead *add_twin(ahead *tw, unsigned *n, const ahead *x) {
  ahead *w = &tw[(*n)++];
  *w = *x;
  while (w > tw && by_at(w - 1, w) > 0) {
    ahead y = w[-1];
    w[-1] = *w;
    *w-- = y;
  }
  return w;
}

/* Twin w taken out of tw[0..*n). */
static void drop_twin(ahead *tw, unsigned *n, ahead *w) {
  memmove(w, w + 1, (size_t)(&tw[*n] - (w + 1)) * sizeof *w);
  (*n)--;
}

/* The twins and weight copies of one plan, and the program's cycles
 * with them. */
typedef struct ahead_plan {
  ahead *tw, *a;
  unsigned ntw, na;
  double best;
} ahead_plan;

/* A twin of buffer b (plan_twin), added to pl's and kept when the
 * program is faster with it: where it went, or NULL. */
static ahead *try_twin(sched *s, const qir_target *t, const npu_cost *cost, const buffer *b,
                       bool late, uint64_t (*busy)[2], buffer *const *order, unsigned num_sram,
                       ahead_plan *pl) {
  ahead twin;
  if (!plan_twin(s, cost, b, late, pl->tw, pl->ntw, busy, order, num_sram, &twin))
    return NULL;
  ahead *w = add_twin(pl->tw, &pl->ntw, &twin);
  if (faster(s, t, pl->tw, pl->ntw, NULL, 0, &pl->best))
    return w;
  drop_twin(pl->tw, &pl->ntw, w);
  return NULL;
}

/* The twins, each kept when the program is faster with it.  With
 * `late`, a twin copied in after a sync is also tried late
 * (remote_reads) in place of the early one, and kept when faster still;
 * returns whether a late one was kept. */
static bool plan_twins(sched *s, const qir_target *t, const npu_cost *cost, buffer *const *order,
                       unsigned num_sram, bool late, uint64_t (*busy)[2], ahead_plan *pl) {
  bool took_late = false;
  for (unsigned i = 0; i < s->num_buffers; i++) {
    const buffer *b = &s->buffers[i];
    if (!(b->io || b->remote))
      continue;
    ahead *w = try_twin(s, t, cost, b, false, busy, order, num_sram, pl);
    if (!late)
      continue;
    ahead early = w ? *w : (ahead){0};
    if (w) /* (its SRAM is free for the late one) */
      drop_twin(pl->tw, &pl->ntw, w);
    if (try_twin(s, t, cost, b, true, busy, order, num_sram, pl))
      took_late = true;
    else if (w)
      add_twin(pl->tw, &pl->ntw, &early);
  }
  return took_late;
}

/* The weight operands of the instructions of core 0 bound by their DDR
 * bytes: each copy goes before the instructions (up to AHEAD, none a core
 * or sync marker) whose compute covers its bytes, or as many as the SRAM
 * free over their span allows, around the twins; kept when the program
 * is faster with them. */
static void plan_weights(sched *s, const qir_target *t, const npu_cost *cost,
                         buffer *const *order, unsigned num_sram, uint64_t (*busy)[2],
                         ahead_plan *pl) {
  npu_program *p = s->p;
  unsigned n = p->num_insns, core = 0, next = 0, num_near = 0, na = 0;
  buffer **near = qir_xcalloc(s->num_buffers + 1, sizeof *near);
  for (unsigned k = 0; k < n; k++) {
    const npu_insn *in = &p->insns[k];
    if (npu_insn_is_marker(in)) {
      core = core_after(in);
      continue;
    }
    const npu_cost *c = &cost[k];
    unsigned still = 0;
    for (; next < num_sram && order[next]->first <= (int)k; next++)
      near[num_near++] = order[next];
    for (unsigned i = 0; i < num_near; i++)
      if (near[i]->last + AHEAD >= (int)k)
        near[still++] = near[i];
    num_near = still;
    if (core || in->opcode == NPU_COPY || in->opcode == NPU_DMA)
      continue;
    const npu_insn_info *info = npu_insn_info_of(in->opcode);
    uint64_t weights = 0;
    for (unsigned f = 0; f < info->num_fields; f++)
      weights += weight_operand(p, in, f);
    if (!weights)
      continue;
    double per_byte = cycles_per_byte(c), rest = c->ddr_cycles - (double)weights * per_byte;
    if (64 * (c->cycles - (rest > c->compute_cycles ? rest : c->compute_cycles)) < c->cycles)
      continue; /* (not bound by its weights) */
    for (unsigned f = 0; f < info->num_fields && na < 2 * n; f++) {
      uint64_t bytes = weight_operand(p, in, f);
      if (!bytes)
        continue;
      double load = (double)bytes * per_byte, covered = 0;
      unsigned j = k;
      while (j > 0 && k - j < AHEAD && covered < load && !npu_insn_is_marker(&p->insns[j - 1]))
        covered += cost[--j].compute_cycles;
      for (; j < k; j++) {
        uint64_t at = free_sram(s, j, k, bytes, near, num_near, pl->a, na, pl->tw, pl->ntw, busy);
        if (at != UINT64_MAX) {
          pl->a[na++] = (ahead){j, k, f, 0, 0, NULL, false, false, -1, at, bytes};
          break;
        }
      }
    }
  }
  qsort(pl->a, na, sizeof *pl->a, by_at);
  pl->na = na && faster(s, t, pl->tw, pl->ntw, pl->a, na, &pl->best) ? na : 0;
  free(near);
}

/* The twins first, then the weights (plan_twins, plan_weights); where a
 * twin was kept late, the plan without late twins is made too, and the
 * faster of the two is emitted (a late twin frees SRAM at other times,
 * which the weights that follow may use better or worse: BlazeFace on
 * bpu-bernoulli2, 57634 cycles with the twin early, 58224 late). */
static void load_ahead(sched *s, const qir_target *t) {
  npu_program *p = s->p;
  unsigned n = p->num_insns;
  npu_cost *cost = qir_xcalloc(n + 1, sizeof *cost); /* (markers: none) */
  uint64_t(*busy)[2] = qir_xcalloc(2 * s->num_buffers + 2 * n + 1, sizeof *busy);
  buffer **order = qir_xcalloc(s->num_buffers + 1, sizeof *order);
  unsigned num_sram = 0;
  for (unsigned i = 0; i < s->num_buffers; i++)
    if (s->buffers[i].space == NPU_SPACE_SRAM)
      order[num_sram++] = &s->buffers[i];
  qsort(order, num_sram, sizeof *order, by_first);
  for (unsigned k = 0; k < n; k++)
    if (!npu_insn_is_marker(&p->insns[k]))
      npu_insn_cost(t, p, &p->insns[k], &cost[k]);
  double start = npu_insns_cycles(t, s->cores, p, p->insns, n);
  ahead_plan pl[2];
  bool both = false; /* (pl[1] took a late twin: pl[0] is made too) */
  for (unsigned late = 1;; late = 0) {
    pl[late] = (ahead_plan){qir_xcalloc(s->num_buffers + 1, sizeof *pl->tw),
                            qir_xcalloc(2 * n + 1, sizeof *pl->a), 0, 0, start};
    bool took = plan_twins(s, t, cost, order, num_sram, late, busy, &pl[late]);
    plan_weights(s, t, cost, order, num_sram, busy, &pl[late]);
    if (!late || !(both = took))
      break;
  }
  const ahead_plan *w = both && pl[0].best <= pl[1].best ? &pl[0] : &pl[1];
  if (w->ntw || w->na) {
    insn_list out = {NULL, 0, 0};
    emit_ahead(s, w->tw, w->ntw, w->a, w->na, &out, &p->sram_size);
    free(p->insns);
    p->insns = out.v;
    p->num_insns = p->cap_insns = out.num;
  }
  for (unsigned i = both ? 0 : 1; i < 2; i++) {
    free(pl[i].tw);
    free(pl[i].a);
  }
  free(order);
  free(busy);
  free(cost);
}

/* Moves every DDR tensor to its buffer's new place. */
static void rewrite_tensors(sched *s) {
  npu_program *p = s->p;
  for (unsigned i = 0; i < p->num_tensors; i++) {
    if (s->buffer_of[i] == UINT32_MAX)
      continue;
    const buffer *b = &s->buffers[s->buffer_of[i]];
    p->tensors[i].offset = b->offset + (p->tensors[i].offset - b->lo);
    p->tensors[i].space = b->space;
  }
}

/* Drops the tensors nothing names any more (the tiled groups' full
 * intermediates), renumbering the rest. */
static void compact_tensors(npu_program *p) {
  unsigned *map = qir_xcalloc(p->num_tensors + 1, sizeof *map);
  for (unsigned k = 0; k < p->num_insns; k++) {
    const npu_insn_info *info = npu_insn_info_of(p->insns[k].opcode);
    for (unsigned f = 0; f < info->num_fields; f++)
      if (tensor_field(p->insns[k].opcode, f) && p->insns[k].f[f] >= 0)
        map[p->insns[k].f[f]] = 1;
  }
  for (unsigned i = 0; i < p->num_inputs; i++)
    map[p->inputs[i]] = 1;
  for (unsigned i = 0; i < p->num_outputs; i++)
    map[p->outputs[i]] = 1;
  unsigned n = 0;
  for (unsigned i = 0; i < p->num_tensors; i++)
    if (map[i]) {
      p->tensors[n] = p->tensors[i];
      map[i] = n++;
    }
  p->num_tensors = n;
  for (unsigned k = 0; k < p->num_insns; k++) {
    const npu_insn_info *info = npu_insn_info_of(p->insns[k].opcode);
    for (unsigned f = 0; f < info->num_fields; f++)
      if (tensor_field(p->insns[k].opcode, f) && p->insns[k].f[f] >= 0)
        p->insns[k].f[f] = map[p->insns[k].f[f]];
  }
  for (unsigned i = 0; i < p->num_inputs; i++)
    p->inputs[i] = map[p->inputs[i]];
  for (unsigned i = 0; i < p->num_outputs; i++)
    p->outputs[i] = map[p->outputs[i]];
  free(map);
}

static void sched_free(sched *s) {
  free(s->buffers);
  free(s->buffer_of);
  s->buffers = NULL;
  s->buffer_of = NULL;
  s->num_buffers = 0;
}

static void find_buffers_and_lives(sched *s) {
  find_buffers(s);
  find_live_ranges(s);
}

bool npu_schedule_from_name(const char *s, unsigned *out) {
  static const struct { const char *name; unsigned mode; } modes[] = {
      {"none", NPU_SCHEDULE_NONE}, {"sram", NPU_SCHEDULE_SRAM}, {"tile", NPU_SCHEDULE_TILE}};
  for (unsigned i = 0; i < sizeof modes / sizeof *modes; i++)
    if (!strcmp(s, modes[i].name)) {
      *out = modes[i].mode;
      return true;
    }
  return false;
}

/* DDR byte ranges of the lowering (buffers) that a schedule left to
 * cores other than 0. */
typedef struct ranges {
  unsigned num;
  struct { uint64_t lo, hi; } *v;
} ranges;

/* The buffers overlapping the ranges of `hint` (may be NULL) count as
 * touched by other cores. */
static void mark_remote(sched *s, const ranges *hint) {
  for (unsigned i = 0; hint && i < s->num_buffers; i++)
    for (unsigned j = 0; j < hint->num; j++)
      if (s->buffers[i].lo < hint->v[j].hi && hint->v[j].lo < s->buffers[i].hi)
        s->buffers[i].remote = true;
}

/* One schedule of p.  With `hint`, the buffers overlapping its ranges
 * count as touched by other cores from the start (the trial placement
 * leaves them in DDR, and spreading a group costs nothing for them); the
 * ranges this schedule leaves to other cores are put in `found` (may be
 * NULL).  With `stream`, groups may form to stream a program output
 * (streams()); *streamed is set when one that fits in SRAM did. */
static bool schedule_once(npu_program *p, const qir_target *t, unsigned mode, unsigned cores,
                          bool by_value, const uint8_t *weights, uint64_t weights_size,
                          bool stream, bool *streamed, npu_sched_observer fn, void *ctx,
                          const ranges *hint, ranges *found) {
  sched s = {p, cores, t->sram_bytes, 0, NULL, NULL, t->sram_bytes / 2, 0, NULL, fn, ctx,
             NULL, NULL, NULL, NULL, NULL, NULL, by_value, false, weights, weights_size, t,
             stream, false, false, mode >= NPU_SCHEDULE_TILE && cores == 1};
  /* (On several cores each core would copy its rows of an escaping
   * result out, and the estimates of the groups miss what that costs the
   * twins of core 0 after them: docs/NPU.md, "Escaping results".) */
  p->sram_size = 0;
  find_buffers_and_lives(&s);
  mark_remote(&s, hint);
  if (mode >= NPU_SCHEDULE_TILE) {
    /* A trial placement shows which intermediates would stay in DDR;
     * groups form through those (and through the ones too large to share
     * SRAM with bands), then everything is placed again around the bands. */
    place_buffers(&s, t->sram_bytes, true);
    if (remat_pools(&s, t)) {
      sched_free(&s);
      find_buffers_and_lives(&s);
      mark_remote(&s, hint);
      place_buffers(&s, t->sram_bytes, true);
    }
    p->sram_size = 0;
    tile_groups(&s, t);
    if (s.num_reserved)
      compact_tensors(p); /* (drops unused tensors: the DDR ranges stay) */
    sched_free(&s);
    find_buffers_and_lives(&s);
    for (unsigned i = 0; found && i < s.num_buffers; i++)
      if (s.buffers[i].remote) {
        found->v = qir_xrealloc(found->v, (found->num + 1) * sizeof *found->v);
        found->v[found->num].lo = s.buffers[i].lo;
        found->v[found->num++].hi = s.buffers[i].hi;
      }
  }
  place_buffers(&s, t->sram_bytes, true);
  rewrite_tensors(&s);
  if (mode >= NPU_SCHEDULE_TILE)
    load_ahead(&s, t);
  sched_free(&s);
  free(s.reserved);
  if (streamed)
    *streamed |= s.streamed;
  return s.took_value;
}

void npu_sched_record(void *ctx, const npu_sched_group *g) {
  npu_sched_decisions *d = ctx;
  d->v = qir_xrealloc(d->v, (d->n + 1) * sizeof *d->v);
  d->v[d->n++] = *g;
}

/* n elements of `size` bytes from `from`, in room for `cap` of them. */
static void *dup_array(const void *from, size_t n, size_t cap, size_t size) {
  void *to = qir_xmalloc((cap + 1) * size);
  if (n)
    memcpy(to, from, n * size);
  return to;
}

/* A copy of p (the instructions' comments shared: p does not own them). */
static npu_program copy_program(const npu_program *p) {
  npu_program q = *p;
  q.name = qir_xstrdup(p->name);
  q.tensors = dup_array(p->tensors, p->num_tensors, p->cap_tensors, sizeof *q.tensors);
  q.inputs = dup_array(p->inputs, p->num_inputs, p->num_inputs, sizeof *q.inputs);
  q.outputs = dup_array(p->outputs, p->num_outputs, p->num_outputs, sizeof *q.outputs);
  q.insns = dup_array(p->insns, p->num_insns, p->cap_insns, sizeof *q.insns);
  return q;
}

/* Of p and q, two schedules of one program with the decisions dp and
 * dq, p and dp keep the faster by the estimate (the other is freed);
 * true when that is q. */
static bool keep_faster(npu_program *p, npu_sched_decisions *dp, npu_program *q,
                        npu_sched_decisions *dq, const qir_target *t, unsigned cores) {
  bool second = npu_insns_cycles(t, cores, q, q->insns, q->num_insns) <
                npu_insns_cycles(t, cores, p, p->insns, p->num_insns);
  if (second) {
    npu_program_free(p);
    *p = *q;
    free(dp->v);
    *dp = *dq;
  } else {
    npu_program_free(q);
    free(dq->v);
  }
  dq->v = NULL;
  return second;
}

/* Tells fn the decisions d, then frees them. */
static void report_decisions(npu_sched_decisions *d, npu_sched_observer fn, void *ctx) {
  for (unsigned i = 0; fn && i < d->n; i++)
    fn(ctx, &d->v[i]);
  free(d->v);
  d->v = NULL;
}

/* On several cores the tile mode schedules twice: a group spread over the
 * cores pays for moving the activations it shares with core 0 to DDR
 * (remote_penalty), but a later group may move them there anyway.  The
 * second schedule starts from what the first left to the other cores;
 * the faster of the two by the estimate is kept. */
static bool schedule_cores(npu_program *p, const qir_target *t, unsigned mode, unsigned cores,
                           bool by_value, const uint8_t *weights, uint64_t weights_size,
                           bool stream, bool *streamed, npu_sched_observer fn, void *ctx) {
  if (mode < NPU_SCHEDULE_TILE || cores < 2)
    return schedule_once(p, t, mode, cores, by_value, weights, weights_size, stream, streamed,
                         fn, ctx, NULL, NULL);
  npu_program second = copy_program(p);
  ranges remote = {0, NULL};
  npu_sched_decisions d1 = {NULL, 0}, d2 = {NULL, 0};
  bool took = schedule_once(p, t, mode, cores, by_value, weights, weights_size, stream,
                            streamed, npu_sched_record, &d1, NULL, &remote);
  if (remote.num) {
    bool took2 = schedule_once(&second, t, mode, cores, by_value, weights, weights_size,
                               stream, streamed, npu_sched_record, &d2, &remote, NULL);
    if (keep_faster(p, &d1, &second, &d2, t, cores))
      took = took2;
  } else {
    npu_program_free(&second);
  }
  report_decisions(&d1, fn, ctx);
  free(remote.v);
  return took;
}

/* The tile mode may tile a chain that fits in SRAM to stream a program
 * output (streams()); where it did, the program is scheduled again
 * without that, and the faster of the two by the estimate is kept (a
 * group's estimate does not see what the steps after tiling gain
 * without it: inputs and outputs in SRAM, weights loaded ahead). */
bool npu_schedule_variant(npu_program *p, const qir_target *t, unsigned mode, unsigned cores,
                          bool by_value, const uint8_t *weights, uint64_t weights_size,
                          npu_sched_observer fn, void *ctx) {
  if (mode == NPU_SCHEDULE_NONE)
    return false;
  if (!cores || cores > t->cores)
    cores = t->cores;
  cores = cores > NPU_MAX_CORES ? NPU_MAX_CORES : cores;
  if (mode < NPU_SCHEDULE_TILE)
    return schedule_cores(p, t, mode, cores, by_value, weights, weights_size, false, NULL, fn,
                          ctx);
  npu_program plain = copy_program(p);
  npu_sched_decisions d1 = {NULL, 0}, d2 = {NULL, 0};
  bool streamed = false;
  bool took = schedule_cores(p, t, mode, cores, by_value, weights, weights_size, true,
                             &streamed, npu_sched_record, &d1);
  if (streamed) {
    bool took2 = schedule_cores(&plain, t, mode, cores, by_value, weights, weights_size, false,
                                NULL, npu_sched_record, &d2);
    if (keep_faster(p, &d1, &plain, &d2, t, cores))
      took = took2;
  } else {
    npu_program_free(&plain);
  }
  report_decisions(&d1, fn, ctx);
  return took;
}
