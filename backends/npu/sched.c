/* backends/npu/sched.c - memory scheduling of a lowered NPU program
 * (docs/NPU.md, "Scheduling").
 *
 * The lowering gives every activation its own DDR range.  This step finds
 * the buffers (DDR ranges; views that overlap, such as a reshape's alias,
 * are one buffer), the instruction range each is live in, and places them
 * again: intermediates in the on-chip SRAM while they fit (first fit,
 * buffers taken in the order they become live, space reused when a
 * buffer dies), the rest and the program's inputs and outputs in DDR with
 * the same reuse.  An instruction never sees two live buffers overlap, so
 * the emulated results do not change. */
#include <stdlib.h>
#include <string.h>

#include "backends/npu/npu.h"

#define ALIGN 64

typedef struct buffer {
  uint64_t lo, hi;   /* the lowering's DDR byte range [lo, hi) */
  int first, last;   /* instructions it is live over, inclusive; -1 is
                        the program's start (inputs) */
  bool io;           /* holds a program input or output: stays in DDR */
  unsigned space;    /* where it goes */
  uint64_t offset;
} buffer;

typedef struct sched {
  npu_program *p;
  unsigned num_buffers;
  buffer *buffers;
  unsigned *buffer_of; /* tensor -> buffer, UINT32_MAX when not in DDR */
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
      *cur = (buffer){lo, hi, INT32_MAX, -2, false, NPU_SPACE_DDR, 0};
    }
    if (hi > cur->hi)
      cur->hi = hi;
    s->buffer_of[order[k].tensor] = s->num_buffers - 1;
  }
  free(order);
}

/* Fields of an instruction that name tensors ("sum" may be -1: none). */
static bool tensor_field(const char *f) {
  static const char *const names[] = {"out", "in", "w", "a", "b", "dst", "src", "sum"};
  for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(f, names[i]))
      return true;
  return false;
}

static void touch(sched *s, int64_t tensor, int at) {
  if (tensor < 0 || tensor >= s->p->num_tensors || s->buffer_of[tensor] == UINT32_MAX)
    return;
  buffer *b = &s->buffers[s->buffer_of[tensor]];
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
  for (unsigned k = 0; k < p->num_insns; k++) {
    const npu_insn *in = &p->insns[k];
    const npu_insn_info *info = npu_insn_info_of(in->opcode);
    for (unsigned f = 0; f < info->num_fields; f++)
      if (tensor_field(info->fields[f]))
        touch(s, in->f[f], (int)k);
  }
  for (unsigned i = 0; i < p->num_inputs + p->num_outputs; i++) {
    unsigned t = i < p->num_inputs ? p->inputs[i] : p->outputs[i - p->num_inputs];
    touch(s, t, -1);
    touch(s, t, (int)p->num_insns);
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

/* First fit between the live buffers; false when it does not fit under
 * the capacity. */
static bool arena_place(arena *a, buffer *b, unsigned space) {
  expire(a, b->first);
  uint64_t need = b->hi - b->lo, at = 0;
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

/* Intermediates into SRAM as they fit (when `sram`), then everything else
 * into DDR; both in the order buffers become live. */
static void place_buffers(sched *s, uint64_t sram_bytes, bool sram) {
  buffer **order = qir_xcalloc(s->num_buffers + 1, sizeof *order);
  for (unsigned i = 0; i < s->num_buffers; i++)
    order[i] = &s->buffers[i];
  qsort(order, s->num_buffers, sizeof *order, by_first);
  arena on_chip = {sram_bytes, 0, 0, 0, NULL}, ddr = {UINT64_MAX, 0, 0, 0, NULL};
  bool *in_sram = qir_xcalloc(s->num_buffers + 1, sizeof *in_sram);
  for (unsigned i = 0; i < s->num_buffers && sram; i++)
    in_sram[i] = !order[i]->io && arena_place(&on_chip, order[i], NPU_SPACE_SRAM);
  for (unsigned i = 0; i < s->num_buffers; i++)
    if (!in_sram[i])
      arena_place(&ddr, order[i], NPU_SPACE_DDR);
  s->p->sram_size = on_chip.size;
  s->p->ddr_size = ddr.size;
  free(in_sram);
  free(on_chip.live);
  free(ddr.live);
  free(order);
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

void npu_schedule_program(npu_program *p, const qir_target *t, unsigned mode) {
  if (mode == NPU_SCHEDULE_NONE)
    return;
  sched s = {p, 0, NULL, NULL};
  find_buffers(&s);
  find_live_ranges(&s);
  place_buffers(&s, t->sram_bytes, mode >= NPU_SCHEDULE_SRAM);
  rewrite_tensors(&s);
  free(s.buffers);
  free(s.buffer_of);
}
