/* backends/npu/artifact.c - the artifact file (docs/Artifact.md): encoder
 * and a reader hardened against hostile input (every count, offset and
 * size is checked before use; nothing is allocated before the bytes it
 * describes are known to exist). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "backends/npu/npu.h"
#include "backends/npu/run.h"
#include "qir/io.h"

#define MAGIC "QIRNPU\r\n"
#define VERSION_MAJOR 1
#define VERSION_MINOR 0
#define VERSION_MINOR_BATCH 1 /* written when the artifact has batch variants */
#define HEADER_SIZE 64
#define SECTION_ENTRY 24
#define MAX_COUNT (1u << 20)
#define MAX_STRING 4096
#define MAX_DDR ((uint64_t)1 << 33)
#define MAX_VARIANT_BATCH (1u << 16)

enum { SEC_GRAPH = 1, SEC_PROGRAMS, SEC_WEIGHTS, SEC_CPU, SEC_BATCH, NUM_SECTIONS = 4,
       MAX_SECTIONS = 5 };

/* ---- Batch variants ----------------------------------------------------------------
 * An artifact is allocated in a box that also holds its batch variants:
 * artifacts compiled from the same model at more frames, sharing its
 * weight space (docs/NPU.md, "Batching"). */

typedef struct variant {
  unsigned batch;
  qir_artifact *a;
} variant;

typedef struct artifact_box {
  qir_artifact a; /* first: a qir_artifact * is the box's address */
  unsigned num_variants;
  variant *variants;
  bool borrowed_weights; /* a variant: the weights are its parent's */
} artifact_box;

static artifact_box *box_of(const qir_artifact *a) { return (artifact_box *)a; }

qir_artifact *npu_artifact_new(void) {
  artifact_box *b = qir_xcalloc(1, sizeof *b);
  return &b->a;
}

unsigned npu_artifact_num_variants(const qir_artifact *a) {
  return box_of(a)->num_variants;
}

const qir_artifact *npu_artifact_variant(const qir_artifact *a, unsigned i,
                                         unsigned *batch) {
  const artifact_box *b = box_of(a);
  if (i >= b->num_variants)
    return NULL;
  if (batch)
    *batch = b->variants[i].batch;
  return b->variants[i].a;
}

/* Moves every weight-space offset of p (tensors, channel parameters,
 * tables) by `base`. */
static void relocate_weights(npu_program *p, uint64_t base) {
  for (unsigned i = 0; i < p->num_tensors; i++)
    if (p->tensors[i].space == NPU_SPACE_WGT)
      p->tensors[i].offset += base;
  for (unsigned k = 0; k < p->num_insns; k++) {
    npu_insn *in = &p->insns[k];
    const npu_insn_info *info = npu_insn_info_of(in->opcode);
    for (unsigned f = 0; f < info->num_fields; f++)
      if ((!strcmp(info->fields[f], "params") && !in->f[npu_field(in->opcode, "psram")]) ||
          !strcmp(info->fields[f], "table"))
        in->f[f] += (int64_t)base;
  }
}

/* Makes v use a's weights: the same bytes are shared, others appended
 * (64-byte aligned) with v's offsets moved. */
static void share_weights(qir_artifact *a, qir_artifact *v) {
  if (v->weights_size != a->weights_size ||
      (a->weights_size && memcmp(v->weights, a->weights, a->weights_size))) {
    uint64_t base = (a->weights_size + 63) / 64 * 64;
    a->weights = qir_xrealloc(a->weights, base + v->weights_size + 1);
    memset(a->weights + a->weights_size, 0, base - a->weights_size);
    if (v->weights_size)
      memcpy(a->weights + base, v->weights, v->weights_size);
    a->weights_size = base + v->weights_size;
    for (unsigned i = 0; i < v->num_programs; i++)
      relocate_weights(&v->programs[i], base);
  }
  free(v->weights);
  /* Every variant points at the parent's (possibly moved) bytes. */
  artifact_box *b = box_of(a);
  for (unsigned i = 0; i < b->num_variants; i++) {
    b->variants[i].a->weights = a->weights;
    b->variants[i].a->weights_size = a->weights_size;
  }
  v->weights = a->weights;
  v->weights_size = a->weights_size;
  box_of(v)->borrowed_weights = true;
}

void npu_artifact_add_variant(qir_artifact *a, unsigned batch, qir_artifact *v) {
  artifact_box *b = box_of(a);
  share_weights(a, v);
  b->variants = qir_xrealloc(b->variants, (b->num_variants + 1) * sizeof *b->variants);
  unsigned i = b->num_variants++;
  while (i > 0 && b->variants[i - 1].batch > batch) {
    b->variants[i] = b->variants[i - 1];
    i--;
  }
  b->variants[i] = (variant){batch, v};
}

/* CRC-32 (IEEE 802.3, reflected, as zlib computes it). */
static uint32_t crc32_of(const uint8_t *p, size_t n) {
  static uint32_t table[256];
  if (!table[1])
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++)
    c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

/* ---- Writing ------------------------------------------------------------------ */

typedef npu_blob buf;

static void put(buf *b, const void *p, size_t n) {
  if (!n)
    return;
  if (b->size + n > b->cap) {
    b->cap = (b->size + n) * 2 + 64;
    b->data = qir_xrealloc(b->data, b->cap);
  }
  memcpy(b->data + b->size, p, n);
  b->size += n;
}

static void put_u8(buf *b, uint8_t v) { put(b, &v, 1); }
static void put_u16(buf *b, uint16_t v) { uint8_t x[2] = {v & 0xFF, v >> 8}; put(b, x, 2); }
static void put_u32(buf *b, uint32_t v) {
  for (int i = 0; i < 4; i++)
    put_u8(b, (uint8_t)(v >> (8 * i)));
}
static void put_u64(buf *b, uint64_t v) {
  for (int i = 0; i < 8; i++)
    put_u8(b, (uint8_t)(v >> (8 * i)));
}
static void put_f64(buf *b, double d) {
  uint64_t v;
  memcpy(&v, &d, 8);
  put_u64(b, v);
}
static void put_str(buf *b, const char *s) {
  size_t n = s ? strlen(s) : 0;
  put_u32(b, (uint32_t)n);
  put(b, s, n);
}
static void put_ids(buf *b, unsigned n, const unsigned *ids) {
  put_u32(b, n);
  for (unsigned i = 0; i < n; i++)
    put_u32(b, ids[i]);
}

static void put_type(buf *b, const qir_type *t) {
  const qir_type *e = t->elem;
  bool q = e->kind == QIR_TYPE_QUANT;
  put_u8(b, (uint8_t)t->scalar);
  put_u8(b, (uint8_t)t->rank);
  put_u8(b, q);
  put_u8(b, 0);
  for (unsigned d = 0; d < t->rank; d++)
    put_u64(b, (uint64_t)t->dims[d]);
  if (!q)
    return;
  put_u32(b, (uint32_t)e->axis);
  put_u32(b, e->nparams);
  for (unsigned i = 0; i < e->nparams; i++)
    put_f64(b, e->scales[i]);
  for (unsigned i = 0; i < e->nparams; i++)
    put_u64(b, (uint64_t)(e->zero_points ? e->zero_points[i] : 0));
  put_u64(b, (uint64_t)e->qmin);
  put_u64(b, (uint64_t)e->qmax);
}

static void put_graph(buf *b, const qir_artifact *a) {
  put_u32(b, a->npu_cores);
  put_u32(b, a->num_values);
  for (unsigned i = 0; i < a->num_values; i++) {
    put_str(b, a->values[i].name);
    put_type(b, a->values[i].type);
  }
  put_ids(b, a->num_inputs, a->inputs);
  put_ids(b, a->num_outputs, a->outputs);
  put_u32(b, a->num_steps);
  for (unsigned i = 0; i < a->num_steps; i++) {
    const npu_step *s = &a->steps[i];
    put_u32(b, s->kind);
    put_u32(b, s->index);
    put_str(b, s->func);
    put_ids(b, s->num_in, s->in);
    put_ids(b, s->num_out, s->out);
  }
}

static void put_program(buf *b, const npu_program *p) {
  put_str(b, p->name);
  put_u64(b, p->ddr_size);
  put_u64(b, p->sram_size);
  put_u32(b, p->num_tensors);
  for (unsigned i = 0; i < p->num_tensors; i++) {
    const npu_tensor *t = &p->tensors[i];
    put_u32(b, t->space);
    put_u32(b, (uint32_t)t->dtype);
    put_u64(b, t->offset);
    for (unsigned d = 0; d < NPU_RANK; d++)
      put_u64(b, (uint64_t)t->dims[d]);
  }
  put_ids(b, p->num_inputs, p->inputs);
  put_ids(b, p->num_outputs, p->outputs);
  put_u32(b, p->num_insns);
  for (unsigned i = 0; i < p->num_insns; i++) {
    const npu_insn *in = &p->insns[i];
    unsigned nf = npu_insn_info_of(in->opcode)->num_fields;
    put_u16(b, (uint16_t)in->opcode);
    put_u16(b, (uint16_t)nf);
    for (unsigned f = 0; f < nf; f++)
      put_u64(b, (uint64_t)in->f[f]);
  }
}

static void put_programs(buf *b, const qir_artifact *a) {
  put_u32(b, a->num_programs);
  for (unsigned i = 0; i < a->num_programs; i++)
    put_program(b, &a->programs[i]);
}

/* A u64 size, then the bytes of `blk` (freed). */
static void put_block(buf *b, buf *blk) {
  put_u64(b, blk->size);
  put(b, blk->data, blk->size);
  free(blk->data);
  *blk = (buf){0};
}

/* The batch variants section (docs/Artifact.md). */
static void put_variants(buf *b, const qir_artifact *a) {
  const artifact_box *box = box_of(a);
  put_u32(b, box->num_variants);
  for (unsigned i = 0; i < box->num_variants; i++) {
    const qir_artifact *v = box->variants[i].a;
    buf blk = {0};
    put_u32(b, box->variants[i].batch);
    put_graph(&blk, v);
    put_block(b, &blk);
    put_programs(&blk, v);
    put_block(b, &blk);
    put(&blk, v->cpu_text, v->cpu_text_len);
    put_block(b, &blk);
  }
}

uint8_t *npu_artifact_encode(const qir_artifact *a, size_t *size) {
  buf sec[MAX_SECTIONS] = {{0}};
  unsigned nsec = box_of(a)->num_variants ? MAX_SECTIONS : NUM_SECTIONS;
  put_graph(&sec[0], a);
  put_programs(&sec[1], a);
  put(&sec[2], a->weights, a->weights_size);
  put(&sec[3], a->cpu_text, a->cpu_text_len);
  if (nsec > NUM_SECTIONS)
    put_variants(&sec[4], a);
  buf out = {0};
  uint8_t header[HEADER_SIZE] = {0};
  put(&out, header, sizeof header);
  uint64_t off = HEADER_SIZE + nsec * SECTION_ENTRY;
  for (unsigned i = 0; i < nsec; i++) {
    off = (off + 63) / 64 * 64;
    put_u32(&out, i + 1);
    put_u32(&out, 0);
    put_u64(&out, off);
    put_u64(&out, sec[i].size);
    off += sec[i].size;
  }
  for (unsigned i = 0; i < nsec; i++) {
    while (out.size % 64)
      put_u8(&out, 0);
    put(&out, sec[i].data, sec[i].size);
    free(sec[i].data);
  }
  buf h = {0};
  put(&h, MAGIC, 8);
  put_u16(&h, VERSION_MAJOR);
  put_u16(&h, nsec > NUM_SECTIONS ? VERSION_MINOR_BATCH : VERSION_MINOR);
  put_u32(&h, HEADER_SIZE);
  put_u64(&h, out.size);
  put_u32(&h, nsec);
  put_u32(&h, crc32_of(out.data + HEADER_SIZE, out.size - HEADER_SIZE));
  char target[32] = {0};
  snprintf(target, sizeof target, "%s", a->target);
  put(&h, target, sizeof target);
  memcpy(out.data, h.data, h.size);
  free(h.data);
  *size = out.size;
  return out.data;
}

/* ---- Reading --------------------------------------------------------------------- */

typedef struct cursor {
  const uint8_t *p, *end;
  bool bad;
  const char *what; /* the first problem */
} cursor;

static bool need(cursor *c, uint64_t n, const char *what) {
  if (c->bad)
    return false;
  if ((uint64_t)(c->end - c->p) < n) {
    c->bad = true;
    c->what = what;
    return false;
  }
  return true;
}

static void fail(cursor *c, const char *what) {
  if (!c->bad) {
    c->bad = true;
    c->what = what;
  }
}

static uint64_t get_le(cursor *c, unsigned n) {
  if (!need(c, n, "truncated section"))
    return 0;
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++)
    v |= (uint64_t)c->p[i] << (8 * i);
  c->p += n;
  return v;
}

static uint32_t get_u32(cursor *c) { return (uint32_t)get_le(c, 4); }
static uint64_t get_u64(cursor *c) { return get_le(c, 8); }
static double get_f64(cursor *c) {
  uint64_t v = get_u64(c);
  double d;
  memcpy(&d, &v, 8);
  return d;
}

/* A count of items of at least `item` bytes each that must fit in what is
 * left of the section. */
static uint32_t get_count(cursor *c, size_t item) {
  uint32_t n = get_u32(c);
  if (n > MAX_COUNT || (uint64_t)n * item > (uint64_t)(c->end - c->p)) {
    fail(c, "count out of range");
    return 0;
  }
  return n;
}

static char *get_str(cursor *c) {
  uint32_t n = get_u32(c);
  if (n > MAX_STRING || !need(c, n, "truncated string"))
    return (fail(c, "string too long"), NULL);
  char *s = qir_xmalloc(n + 1);
  memcpy(s, c->p, n);
  s[n] = 0;
  c->p += n;
  if (strlen(s) != n)
    fail(c, "string with a NUL byte");
  return s;
}

static unsigned *get_ids(cursor *c, unsigned *n, unsigned limit) {
  *n = get_count(c, 4);
  unsigned *ids = qir_xcalloc(*n + 1, sizeof *ids);
  for (unsigned i = 0; i < *n; i++)
    if ((ids[i] = get_u32(c)) >= limit)
      fail(c, "index out of range");
  return ids;
}

static bool scalar_ok(unsigned s) { return s < QIR_NUM_SCALARS; }

static const qir_type *get_type(cursor *c, qir_context *ctx) {
  unsigned s = (unsigned)get_le(c, 1), rank = (unsigned)get_le(c, 1);
  bool q = get_le(c, 1) != 0;
  get_le(c, 1);
  if (!scalar_ok(s) || rank > QIR_MAX_RANK)
    return (fail(c, "bad tensor type"), NULL);
  int64_t dims[QIR_MAX_RANK];
  for (unsigned d = 0; d < rank; d++)
    if ((dims[d] = (int64_t)get_u64(c)) < 0 || dims[d] > ((int64_t)1 << 32))
      fail(c, "bad dimension");
  const qir_type *elem = qir_scalar_type(ctx, (qir_scalar)s);
  if (q && !c->bad) {
    int axis = (int32_t)get_u32(c);
    unsigned np = get_count(c, 16);
    double *sc = qir_xcalloc(np + 1, sizeof *sc);
    int64_t *zp = qir_xcalloc(np + 1, sizeof *zp);
    for (unsigned i = 0; i < np; i++)
      sc[i] = get_f64(c);
    for (unsigned i = 0; i < np; i++)
      zp[i] = (int64_t)get_u64(c);
    int64_t qmin = (int64_t)get_u64(c), qmax = (int64_t)get_u64(c);
    bool range_ok = qir_scalar_is_float((qir_scalar)s) ? false
                    : qmin >= qir_scalar_min((qir_scalar)s) &&
                      qmax <= qir_scalar_max((qir_scalar)s) && qmin <= qmax;
    bool axis_ok = axis == -1 || (axis >= 0 && (unsigned)axis < rank &&
                                  dims[axis] == (int64_t)np);
    if (!c->bad && range_ok && axis_ok && np && (axis >= 0 || np == 1))
      elem = qir_quant_type(ctx, qir_loc_unknown(), (qir_scalar)s, axis, np, sc,
                            zp, qmin, qmax);
    else
      elem = NULL;
    free(sc);
    free(zp);
    if (!elem)
      return (fail(c, "bad quantization parameters"), NULL);
  }
  const qir_type *t = c->bad ? NULL : qir_tensor_type(ctx, elem, rank, dims);
  if (!t || qir_tensor_num_bytes(t) < 0 || qir_tensor_num_bytes(t) > ((int64_t)1 << 32))
    return (fail(c, "bad tensor type"), NULL);
  return t;
}

static void read_graph(cursor *c, qir_artifact *a) {
  a->npu_cores = get_u32(c);
  a->num_values = get_count(c, 8);
  a->values = qir_xcalloc(a->num_values + 1, sizeof *a->values);
  for (unsigned i = 0; i < a->num_values && !c->bad; i++) {
    a->values[i].name = get_str(c);
    a->values[i].type = get_type(c, a->ctx);
  }
  a->inputs = get_ids(c, &a->num_inputs, a->num_values);
  a->outputs = get_ids(c, &a->num_outputs, a->num_values);
  a->num_steps = get_count(c, 20);
  a->steps = qir_xcalloc(a->num_steps + 1, sizeof *a->steps);
  for (unsigned i = 0; i < a->num_steps && !c->bad; i++) {
    npu_step *s = &a->steps[i];
    s->kind = get_u32(c);
    s->index = get_u32(c);
    s->func = get_str(c);
    s->in = get_ids(c, &s->num_in, a->num_values);
    s->out = get_ids(c, &s->num_out, a->num_values);
    if (s->kind > NPU_STEP_CPU)
      fail(c, "bad step kind");
  }
}

static void read_program(cursor *c, npu_program *p) {
  p->name = get_str(c);
  p->ddr_size = get_u64(c);
  p->sram_size = get_u64(c);
  if (p->ddr_size > MAX_DDR || p->sram_size > MAX_DDR)
    fail(c, "memory size out of range");
  p->num_tensors = get_count(c, 48);
  p->tensors = qir_xcalloc(p->num_tensors + 1, sizeof *p->tensors);
  for (unsigned i = 0; i < p->num_tensors && !c->bad; i++) {
    npu_tensor *t = &p->tensors[i];
    t->space = get_u32(c);
    uint32_t dt = get_u32(c);
    t->dtype = dt < QIR_NUM_SCALARS ? (qir_scalar)dt : QIR_F32;
    t->offset = get_u64(c);
    for (unsigned d = 0; d < NPU_RANK; d++)
      t->dims[d] = (int64_t)get_u64(c);
  }
  p->inputs = get_ids(c, &p->num_inputs, p->num_tensors);
  p->outputs = get_ids(c, &p->num_outputs, p->num_tensors);
  p->num_insns = get_count(c, 4);
  p->insns = qir_xcalloc(p->num_insns + 1, sizeof *p->insns);
  for (unsigned i = 0; i < p->num_insns && !c->bad; i++) {
    npu_insn *in = &p->insns[i];
    in->opcode = (unsigned)get_le(c, 2);
    unsigned nf = (unsigned)get_le(c, 2);
    const npu_insn_info *info = npu_insn_info_of(in->opcode);
    if (!info || nf != info->num_fields)
      return fail(c, "bad instruction");
    for (unsigned f = 0; f < nf; f++)
      in->f[f] = (int64_t)get_u64(c);
  }
}

static void read_programs(cursor *c, qir_artifact *a) {
  a->num_programs = get_count(c, 36);
  a->programs = qir_xcalloc(a->num_programs + 1, sizeof *a->programs);
  for (unsigned i = 0; i < a->num_programs && !c->bad; i++)
    read_program(c, &a->programs[i]);
}

/* Values flow forward: a step reads model inputs or earlier results;
 * NPU steps match their program's tensors byte for byte. */
static void check_graph(cursor *c, qir_artifact *a) {
  bool *defined = qir_xcalloc(a->num_values + 1, 1);
  for (unsigned i = 0; i < a->num_inputs; i++)
    defined[a->inputs[i]] = true;
  for (unsigned i = 0; i < a->num_steps && !c->bad; i++) {
    const npu_step *s = &a->steps[i];
    for (unsigned k = 0; k < s->num_in; k++)
      if (!defined[s->in[k]])
        fail(c, "a step reads a value before it is computed");
    for (unsigned k = 0; k < s->num_out; k++)
      defined[s->out[k]] = true;
    if (s->kind != NPU_STEP_NPU)
      continue;
    if (s->index >= a->num_programs)
      return fail(c, "step of a missing program"), free(defined);
    const npu_program *p = &a->programs[s->index];
    if (p->num_inputs != s->num_in || p->num_outputs != s->num_out)
      return fail(c, "step and program disagree"), free(defined);
    for (unsigned k = 0; k < s->num_in + s->num_out; k++) {
      bool in = k < s->num_in;
      unsigned v = in ? s->in[k] : s->out[k - s->num_in];
      const npu_tensor *t = &p->tensors[in ? p->inputs[k] : p->outputs[k - s->num_in]];
      const qir_type *ty = a->values[v].type;
      if (t->dtype != ty->scalar || npu_tensor_numel(t) != qir_tensor_num_elements(ty))
        fail(c, "step and program tensors disagree");
    }
  }
  for (unsigned i = 0; i < a->num_outputs; i++)
    if (!defined[a->outputs[i]])
      fail(c, "an output is never computed");
  free(defined);
}

typedef struct section {
  uint64_t off, size;
} section;

static bool read_header(cursor *c, size_t size, section sec[MAX_SECTIONS],
                        unsigned *num_sections, char target[33]) {
  const uint8_t *base = c->p;
  if (size < 8 || memcmp(base, MAGIC, 8))
    return fail(c, "not a qir NPU artifact (bad magic)"), false;
  if (size < HEADER_SIZE)
    return fail(c, "truncated header"), false;
  c->p += 8;
  unsigned major = (unsigned)get_le(c, 2);
  get_le(c, 2);
  uint32_t hsize = get_u32(c);
  uint64_t fsize = get_u64(c);
  uint32_t nsec = get_u32(c), crc = get_u32(c);
  memcpy(target, base + 32, 32);
  target[32] = 0;
  if (major != VERSION_MAJOR)
    return fail(c, "unsupported artifact version"), false;
  if (hsize != HEADER_SIZE || fsize != size)
    return fail(c, "truncated or padded file (size mismatch)"), false;
  if (nsec < NUM_SECTIONS || nsec > MAX_SECTIONS ||
      size < HEADER_SIZE + (uint64_t)nsec * SECTION_ENTRY)
    return fail(c, "bad section table"), false;
  *num_sections = nsec;
  if (crc32_of(base + HEADER_SIZE, size - HEADER_SIZE) != crc)
    return fail(c, "checksum mismatch (corrupted file)"), false;
  c->p = base + HEADER_SIZE;
  for (unsigned i = 0; i < nsec; i++) {
    uint32_t kind = get_u32(c);
    get_u32(c);
    uint64_t off = get_u64(c), sz = get_u64(c);
    if (kind != i + 1 || off > size || sz > size - off)
      return fail(c, "section outside the file"), false;
    sec[i] = (section){off, sz};
  }
  return true;
}

/* The next `u64 size` + bytes block of c as a cursor of its own. */
static cursor get_block(cursor *c) {
  uint64_t n = get_u64(c);
  cursor b = {c->p, c->p, true, c->what};
  if (!need(c, n, "truncated batch variant"))
    return b;
  b = (cursor){c->p, c->p + n, false, NULL};
  c->p += n;
  return b;
}

/* A variant's inputs and outputs are the model's (batch 1) with `batch`
 * frames in dimension 0. */
static bool same_io_batched(const qir_artifact *a, const unsigned *ai,
                            const qir_artifact *v, const unsigned *vi, unsigned n,
                            unsigned batch) {
  for (unsigned k = 0; k < n; k++) {
    const qir_type *ta = a->values[ai[k]].type, *tv = v->values[vi[k]].type;
    if (ta->rank != tv->rank || !ta->rank || ta->elem != tv->elem || ta->dims[0] != 1 ||
        tv->dims[0] != (int64_t)batch ||
        memcmp(ta->dims + 1, tv->dims + 1, (ta->rank - 1) * sizeof *ta->dims))
      return false;
  }
  return true;
}

static void check_variant(cursor *c, const qir_artifact *a, const qir_artifact *v,
                          unsigned batch, char *why, size_t why_size) {
  for (unsigned i = 0; i < v->num_programs && !c->bad; i++)
    if (!npu_program_validate(&v->programs[i], v->weights, v->weights_size, why, why_size))
      fail(c, why);
  if (!c->bad)
    check_graph(c, (qir_artifact *)v);
  if (!c->bad && (v->num_inputs != a->num_inputs || v->num_outputs != a->num_outputs ||
                  v->npu_cores != a->npu_cores ||
                  !same_io_batched(a, a->inputs, v, v->inputs, a->num_inputs, batch) ||
                  !same_io_batched(a, a->outputs, v, v->outputs, a->num_outputs, batch)))
    fail(c, "a batch variant does not match the model's inputs and outputs");
}

/* The batch variants section: each variant's graph, programs and CPU
 * functions, on a's weights. */
static void read_variants(cursor *c, qir_artifact *a, char *why, size_t why_size) {
  unsigned n = get_count(c, 28), last = 1;
  for (unsigned i = 0; i < n && !c->bad; i++) {
    unsigned batch = get_u32(c);
    if (batch <= last || batch > MAX_VARIANT_BATCH)
      return fail(c, "bad batch variant size");
    last = batch;
    qir_artifact *v = npu_artifact_new();
    v->ctx = a->ctx;
    v->target = qir_xstrdup(a->target);
    v->weights = a->weights;
    v->weights_size = a->weights_size;
    box_of(v)->borrowed_weights = true;
    artifact_box *b = box_of(a);
    b->variants = qir_xrealloc(b->variants, (b->num_variants + 1) * sizeof *b->variants);
    b->variants[b->num_variants++] = (variant){batch, v};
    cursor g = get_block(c);
    read_graph(&g, v);
    cursor pr = get_block(c);
    if (g.bad)
      fail(&pr, g.what);
    read_programs(&pr, v);
    cursor cpu = get_block(c);
    if (pr.bad)
      return fail(c, pr.what);
    v->cpu_text_len = (size_t)(cpu.end - cpu.p);
    v->cpu_text = qir_xmalloc(v->cpu_text_len + 1);
    memcpy(v->cpu_text, cpu.p, v->cpu_text_len);
    v->cpu_text[v->cpu_text_len] = 0;
    if (!c->bad)
      check_variant(c, a, v, batch, why, why_size);
  }
}

static qir_artifact *parse(qir_context *ctx, const uint8_t *data, size_t size,
                           cursor *c, char *why, size_t why_size) {
  section sec[MAX_SECTIONS];
  unsigned nsec = 0;
  char target[33];
  if (!read_header(c, size, sec, &nsec, target))
    return NULL;
  qir_artifact *a = npu_artifact_new();
  a->ctx = ctx;
  a->target = qir_xstrdup(target);
  cursor g = {data + sec[0].off, data + sec[0].off + sec[0].size, false, NULL};
  read_graph(&g, a);
  cursor pr = {data + sec[1].off, data + sec[1].off + sec[1].size, g.bad, g.what};
  read_programs(&pr, a);
  *c = pr;
  a->weights_size = sec[2].size;
  a->weights = qir_xmalloc(sec[2].size + 1);
  memcpy(a->weights, data + sec[2].off, sec[2].size);
  a->cpu_text_len = sec[3].size;
  a->cpu_text = qir_xmalloc(sec[3].size + 1);
  memcpy(a->cpu_text, data + sec[3].off, sec[3].size);
  a->cpu_text[sec[3].size] = 0;
  if (!c->bad && !qir_target_lookup(a->target))
    fail(c, "unknown target");
  for (unsigned i = 0; i < a->num_programs && !c->bad; i++)
    if (!npu_program_validate(&a->programs[i], a->weights, a->weights_size, why,
                              why_size))
      fail(c, why);
  if (!c->bad)
    check_graph(c, a);
  if (!c->bad && nsec > NUM_SECTIONS) {
    cursor vc = {data + sec[4].off, data + sec[4].off + sec[4].size, false, NULL};
    read_variants(&vc, a, why, why_size);
    if (vc.bad)
      fail(c, vc.what);
  }
  return a;
}

qir_artifact *qir_artifact_read_buffer(qir_context *ctx, const void *data,
                                       size_t size, const char *name) {
  cursor c = {data, (const uint8_t *)data + size, false, NULL};
  if (!data)
    c.end = c.p;
  unsigned errors = qir_diag_error_count(ctx);
  char why[256];
  qir_artifact *a = parse(ctx, data, size, &c, why, sizeof why);
  if (!c.bad && qir_diag_error_count(ctx) == errors)
    return a;
  qir_emit_error(ctx, qir_loc_unknown(), "'%s': %s", name,
                 c.what ? c.what : "bad artifact");
  qir_artifact_free(a);
  return NULL;
}

qir_artifact *qir_artifact_read_file(qir_context *ctx, const char *path) {
  size_t len;
  char *data = qir_read_file(ctx, path, &len);
  if (!data)
    return NULL;
  qir_artifact *a = qir_artifact_read_buffer(ctx, data, len, path);
  free(data);
  return a;
}

void qir_artifact_free(qir_artifact *a) {
  if (!a)
    return;
  artifact_box *b = box_of(a);
  for (unsigned i = 0; i < b->num_variants; i++)
    qir_artifact_free(b->variants[i].a);
  free(b->variants);
  if (b->borrowed_weights)
    a->weights = NULL;
  for (unsigned i = 0; i < a->num_values; i++)
    free(a->values[i].name);
  for (unsigned i = 0; i < a->num_steps; i++) {
    free(a->steps[i].func);
    free(a->steps[i].in);
    free(a->steps[i].out);
  }
  for (unsigned i = 0; i < a->num_programs; i++)
    npu_program_free(&a->programs[i]);
  free(a->values);
  free(a->inputs);
  free(a->outputs);
  free(a->steps);
  free(a->programs);
  free(a->weights);
  free(a->cpu_text);
  free(a->target);
  free(a);
}

const char *qir_artifact_target(const qir_artifact *a) { return a->target; }

void qir_artifact_print_asm(const qir_artifact *a, FILE *out) {
  fprintf(out, "; target %s, %u NPU program(s), %llu weight bytes\n", a->target,
          a->num_programs, (unsigned long long)a->weights_size);
  for (unsigned i = 0; i < a->num_programs; i++)
    npu_print_program(out, &a->programs[i]);
  const artifact_box *b = box_of(a);
  for (unsigned k = 0; k < b->num_variants; k++) {
    const qir_artifact *v = b->variants[k].a;
    fprintf(out, "; batch %u: %u NPU program(s) on the same weights\n",
            b->variants[k].batch, v->num_programs);
    for (unsigned i = 0; i < v->num_programs; i++)
      npu_print_program(out, &v->programs[i]);
  }
}

/* ---- Running an artifact file ------------------------------------------------------ */

bool npu_is_artifact(const void *data, size_t size) {
  return size >= 8 && !memcmp(data, MAGIC, 8);
}

bool npu_file_is_artifact(const char *path) {
  char head[8];
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  return npu_is_artifact(head, n);
}

qir_emu *npu_artifact_run(qir_context *ctx, const qir_artifact *a,
                          npu_bind_inputs_fn *bind, void *user) {
  qir_emu *e = qir_emu_create(ctx, a);
  if (e && bind(ctx, e, user) && qir_emu_run(e))
    return e;
  qir_emu_destroy(e);
  return NULL;
}

qir_emu *npu_artifact_run_file(qir_context *ctx, const char *path,
                               npu_bind_inputs_fn *bind, void *user,
                               qir_artifact **a) {
  *a = qir_artifact_read_file(ctx, path);
  qir_emu *e = *a ? npu_artifact_run(ctx, *a, bind, user) : NULL;
  if (!e) {
    qir_artifact_free(*a);
    *a = NULL;
  }
  return e;
}

void npu_artifact_close(qir_emu *e, qir_artifact *a) {
  qir_emu_destroy(e);
  qir_artifact_free(a);
}

void npu_artifact_print_stats(const qir_artifact *a, FILE *out,
                              const char *prefix) {
  unsigned insns = 0, npu_steps = 0;
  uint64_t ddr = 0, sram = 0;
  for (unsigned i = 0; i < a->num_programs; i++) {
    const npu_program *p = &a->programs[i];
    insns += p->num_insns;
    ddr += p->ddr_size;
    sram = p->sram_size > sram ? p->sram_size : sram;
  }
  for (unsigned i = 0; i < a->num_steps; i++)
    npu_steps += a->steps[i].kind == NPU_STEP_NPU;
  fprintf(out, "%s: target: %s (%u NPU cores)\n", prefix, a->target, a->npu_cores);
  fprintf(out, "%s: NPU programs: %u (%u instructions)\n", prefix,
          a->num_programs, insns);
  fprintf(out, "%s: steps: %u on the NPU, %u on the CPU\n", prefix, npu_steps,
          a->num_steps - npu_steps);
  fprintf(out, "%s: weight memory: %llu bytes\n", prefix,
          (unsigned long long)a->weights_size);
  fprintf(out, "%s: DDR activation memory: %llu bytes\n", prefix,
          (unsigned long long)ddr);
  fprintf(out, "%s: SRAM: %llu bytes\n", prefix, (unsigned long long)sram);
  const artifact_box *b = box_of(a);
  if (!b->num_variants)
    return;
  fprintf(out, "%s: batch sizes: 1", prefix);
  for (unsigned i = 0; i < b->num_variants; i++)
    fprintf(out, ", %u", b->variants[i].batch);
  fprintf(out, " (one weight space; this tool runs one frame)\n");
}
