/* backends/npu/isa.c - the instruction table, programs, the assembly
 * printer and the validator every program passes before it runs. */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "backends/npu/npu.h"

#define COUNT_ARGS(...) (sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))

static const npu_insn_info infos[NPU_NUM_OPCODES] = {
#define X(id, mn, ...) {mn, COUNT_ARGS(__VA_ARGS__), {__VA_ARGS__}},
    NPU_INSN_LIST(X)
#undef X
};

const npu_insn_info *npu_insn_info_of(unsigned opcode) {
  return opcode < NPU_NUM_OPCODES ? &infos[opcode] : NULL;
}

/* Callers name fields with string literals: a small cache keyed by the
 * name's address and the opcode saves the scheduler and the cost model
 * most of their string compares (per thread: compilations may run in
 * parallel). */
#define FIELD_CACHE 1024
static _Thread_local struct {
  const char *name;
  unsigned opcode, index;
} field_cache[FIELD_CACHE];

static unsigned char field_roles[NPU_NUM_OPCODES][NPU_MAX_FIELDS];
static pthread_once_t field_roles_once = PTHREAD_ONCE_INIT;
static bool field_roles_found; /* (read without pthread_once once set) */

static void find_field_roles(void) {
  static const struct { const char *name; unsigned char role; } names[] = {
      {"out", NPU_FIELD_RESULT}, {"dst", NPU_FIELD_RESULT}, {"in", NPU_FIELD_OPERAND},
      {"a", NPU_FIELD_OPERAND},  {"b", NPU_FIELD_OPERAND},  {"src", NPU_FIELD_OPERAND},
      {"sum", NPU_FIELD_OPERAND}, {"w", NPU_FIELD_WEIGHTS}, {"acc", NPU_FIELD_RESULT}};
  for (unsigned op = 0; op < NPU_NUM_OPCODES; op++) {
    const npu_insn_info *in = npu_insn_info_of(op);
    for (unsigned f = 0; in && f < in->num_fields; f++)
      for (unsigned k = 0; k < sizeof names / sizeof *names; k++)
        if (!strcmp(in->fields[f], names[k].name))
          field_roles[op][f] = names[k].role;
  }
  __atomic_store_n(&field_roles_found, true, __ATOMIC_RELEASE);
}

unsigned npu_field_role(unsigned opcode, unsigned i) {
  QIR_ASSERT(opcode < NPU_NUM_OPCODES && i < NPU_MAX_FIELDS);
  if (!__atomic_load_n(&field_roles_found, __ATOMIC_ACQUIRE))
    pthread_once(&field_roles_once, find_field_roles);
  return field_roles[opcode][i];
}

const npu_tensor *npu_field_tensor(const npu_program *p, const npu_insn *in, unsigned i) {
  if (!npu_field_role(in->opcode, i))
    return NULL;
  return in->f[i] >= 0 && in->f[i] < p->num_tensors ? &p->tensors[in->f[i]] : NULL;
}

unsigned npu_field(unsigned opcode, const char *name) {
  uint64_t key = ((uint64_t)(uintptr_t)name ^ ((uint64_t)opcode << 48)) * 0x9e3779b97f4a7c15u;
  unsigned h = (unsigned)(key >> 54) % FIELD_CACHE;
  if (field_cache[h].name == name && field_cache[h].opcode == opcode)
    return field_cache[h].index;
  const npu_insn_info *in = npu_insn_info_of(opcode);
  QIR_ASSERT(in);
  for (unsigned i = 0; i < in->num_fields; i++)
    if (!strcmp(in->fields[i], name)) {
      field_cache[h].name = name;
      field_cache[h].opcode = opcode;
      field_cache[h].index = i;
      return i;
    }
  qir_die("instruction %s has no field '%s'", in->mnemonic, name);
}

int64_t npu_tensor_numel(const npu_tensor *t) {
  int64_t n = 1;
  for (unsigned d = 0; d < NPU_RANK; d++)
    n *= t->dims[d];
  return n;
}

void npu_program_free(npu_program *p) {
  free(p->name);
  free(p->tensors);
  free(p->inputs);
  free(p->outputs);
  free(p->insns);
  memset(p, 0, sizeof *p);
}

/* ---- Assembly ----------------------------------------------------------------- */

static const char *space_names[NPU_NUM_SPACES] = {"ddr", "wgt", "sram"};

/* Fields that name tensors (printed %tN). */
static bool is_tensor_field(const char *f) {
  static const char *const names[] = {"out", "in", "w", "a", "b", "dst", "src"};
  for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(f, names[i]))
      return true;
  return false;
}

static void print_tensor(FILE *out, unsigned i, const npu_tensor *t) {
  fprintf(out, "  .tensor %%t%u %s+0x%" PRIx64 " %" PRId64 "x%" PRId64
               "x%" PRId64 "x%" PRId64 "x%s\n",
          i, t->space < NPU_NUM_SPACES ? space_names[t->space] : "?", t->offset,
          t->dims[0], t->dims[1], t->dims[2], t->dims[3],
          qir_scalar_name(t->dtype));
}

static void print_insn(FILE *out, const npu_insn *in) {
  const npu_insn_info *info = npu_insn_info_of(in->opcode);
  fprintf(out, "  %-8s", info->mnemonic);
  for (unsigned i = 0; i < info->num_fields; i++) {
    const char *f = info->fields[i];
    if (is_tensor_field(f))
      fprintf(out, "%s %%t%" PRId64, i ? "," : "", in->f[i]);
    else if (!strcmp(f, "sum") || !strcmp(f, "acc"))
      in->f[i] < 0 ? fprintf(out, ", %s=none", f)
                   : fprintf(out, ", %s=%%t%" PRId64, f, in->f[i]);
    else if (!strcmp(f, "sx") || !strcmp(f, "sy") || !strcmp(f, "ss") ||
             !strcmp(f, "a0") || !strcmp(f, "a1") || !strcmp(f, "pm") ||
             !strcmp(f, "pa") || !strcmp(f, "scale_h") ||
             !strcmp(f, "scale_w")) {
      double d;
      memcpy(&d, &in->f[i], sizeof d);
      fprintf(out, "%s %s=%.17g", i ? "," : "", f, d);
    } else
      fprintf(out, "%s %s=%" PRId64, i ? "," : "", f, in->f[i]);
  }
  if (in->comment)
    fprintf(out, "  ; %s", in->comment);
  fputc('\n', out);
}

void npu_print_program(FILE *out, const npu_program *p) {
  fprintf(out, "npu.program @%s {  ; ddr %" PRIu64 " bytes, %u instructions\n",
          p->name, p->ddr_size, p->num_insns);
  for (unsigned i = 0; i < p->num_tensors; i++)
    print_tensor(out, i, &p->tensors[i]);
  fputs("  .inputs", out);
  for (unsigned i = 0; i < p->num_inputs; i++)
    fprintf(out, " %%t%u", p->inputs[i]);
  fputs("\n  .outputs", out);
  for (unsigned i = 0; i < p->num_outputs; i++)
    fprintf(out, " %%t%u", p->outputs[i]);
  fputc('\n', out);
  for (unsigned i = 0; i < p->num_insns; i++)
    print_insn(out, &p->insns[i]);
  fputs("}\n", out);
}

/* ---- Validation ------------------------------------------------------------------ */

typedef struct vctx {
  const npu_program *p;
  const uint8_t *weights;
  uint64_t wsize;
  char *why;
  size_t n;
} vctx;

static bool bad(vctx *v, const char *fmt, ...) QIR_PRINTF(2, 3);
static bool bad(vctx *v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->why, v->n, fmt, ap);
  va_end(ap);
  return false;
}

#define MAX_DIM ((int64_t)1 << 31)
#define MAX_ELEMS ((int64_t)1 << 36)
#define MAX_ZP NPU_MAX_ZP
#define MAX_WINDOW 65536

static uint64_t space_size(const vctx *v, unsigned space) {
  return space == NPU_SPACE_DDR    ? v->p->ddr_size
         : space == NPU_SPACE_WGT  ? v->wsize
                                   : v->p->sram_size;
}

static bool int_dtype(qir_scalar s) {
  return s == QIR_I8 || s == QIR_U8 || s == QIR_I16 || s == QIR_U16;
}

/* (i32: only a banded gpool's accumulator, check_gpool.) */
static bool valid_dtype(qir_scalar s) { return int_dtype(s) || s == QIR_F32 || s == QIR_I32; }

static bool check_tensor(vctx *v, unsigned i) {
  const npu_tensor *t = &v->p->tensors[i];
  if (t->space >= NPU_NUM_SPACES || !valid_dtype(t->dtype))
    return bad(v, "tensor %u: bad space or element type", i);
  int64_t n = 1;
  for (unsigned d = 0; d < NPU_RANK; d++) {
    if (t->dims[d] < 1 || t->dims[d] > MAX_DIM)
      return bad(v, "tensor %u: bad dimension", i);
    n *= t->dims[d];
    if (n > MAX_ELEMS)
      return bad(v, "tensor %u: too large", i);
  }
  uint64_t bytes = (uint64_t)n * qir_scalar_size(t->dtype);
  uint64_t size = space_size(v, t->space);
  if (t->offset > size || bytes > size - t->offset)
    return bad(v, "tensor %u: outside its memory space", i);
  return true;
}

static const npu_tensor *tfield(vctx *v, const npu_insn *in, const char *f) {
  int64_t i = in->f[npu_field(in->opcode, f)];
  if (i < 0 || i >= v->p->num_tensors) {
    bad(v, "%s: tensor operand '%s' out of range",
        npu_insn_info_of(in->opcode)->mnemonic, f);
    return NULL;
  }
  return &v->p->tensors[i];
}

static int64_t fld(const npu_insn *in, const char *f) {
  return in->f[npu_field(in->opcode, f)];
}

static bool in_range(int64_t x, int64_t lo, int64_t hi) { return x >= lo && x <= hi; }

/* A multiplier/exponent pair as qir_multiplier accepts it. */
static bool check_mult(vctx *v, int64_t m, int64_t e) {
  if (!in_range(m, 0, INT32_MAX) || !in_range(e, NPU_MIN_SHIFT, NPU_MAX_SHIFT))
    return bad(v, "multiplier out of range");
  return true;
}

static bool check_fields(vctx *v, const npu_insn *in, const char *const *names,
                         int64_t lo, int64_t hi) {
  for (; *names; names++)
    if (!in_range(fld(in, *names), lo, hi))
      return bad(v, "%s: field '%s' out of range",
                 npu_insn_info_of(in->opcode)->mnemonic, *names);
  return true;
}

/* The parameter table of conv or matmul `in` (channels of them): in the
 * weight space, where its values are checked; or in SRAM (psram = 1, a
 * copy the program makes at run time), where only its place is: the
 * emulator saturates what it reads there (exec.c). */
static bool check_params(vctx *v, const npu_insn *in, int64_t channels) {
  int64_t off = fld(in, "params");
  uint64_t bytes = (uint64_t)channels * NPU_PARAM_WORDS * 4;
  if (!in_range(fld(in, "psram"), 0, 1))
    return bad(v, "%s: field 'psram' out of range", npu_insn_info_of(in->opcode)->mnemonic);
  if (fld(in, "psram")) {
    uint64_t size = v->p->sram_size;
    if (off < 0 || (uint64_t)off > size || bytes > size - (uint64_t)off)
      return bad(v, "parameter table outside the SRAM");
    return true;
  }
  if (off < 0 || (uint64_t)off > v->wsize || bytes > v->wsize - (uint64_t)off)
    return bad(v, "parameter table outside the weights");
  for (int64_t c = 0; c < channels; c++) {
    int32_t w[NPU_PARAM_WORDS];
    memcpy(w, v->weights + off + c * sizeof w, sizeof w);
    double sacc;
    memcpy(&sacc, &w[NPU_PARAM_SACC], sizeof sacc);
    if (!check_mult(v, w[NPU_PARAM_MULT], w[NPU_PARAM_SHIFT]) ||
        !in_range(w[NPU_PARAM_ZW], -MAX_ZP, MAX_ZP) || !(sacc >= 0 && sacc < 1e300))
      return bad(v, "bad parameters of channel %lld", (long long)c);
  }
  return true;
}

static double fld_f64(const npu_insn *in, const char *f) {
  double d;
  int64_t b = fld(in, f);
  memcpy(&d, &b, sizeof d);
  return d;
}

static bool positive(double d) { return d > 0 && d < 1e300; }

/* A conv's sum: y's shape, or fewer channels (the channels past them
 * add 0); a matmul's: y's element count. */
static bool sum_fits(const npu_insn *in, const npu_tensor *t, const npu_tensor *y) {
  if (in->opcode != NPU_CONV)
    return npu_tensor_numel(t) == npu_tensor_numel(y);
  return t->dims[0] == y->dims[0] && t->dims[1] >= 1 && t->dims[1] <= y->dims[1] &&
         t->dims[2] == y->dims[2] && t->dims[3] == y->dims[3];
}

/* The float epilogue of conv and matmul: the sum operand (or -1), the
 * activation, the scales. */
static bool check_epilogue(vctx *v, const npu_insn *in, const npu_tensor *y) {
  if (!in_range(fld(in, "epilogue"), 0, 2))
    return bad(v, "bad epilogue");
  if (!fld(in, "epilogue"))
    return true;
  int64_t s = fld(in, "sum");
  if (s >= 0) {
    const npu_tensor *t = tfield(v, in, "sum");
    if (!t || !sum_fits(in, t, y) ||
        !positive(fld_f64(in, "ss")) || !in_range(fld(in, "zs"), -MAX_ZP, MAX_ZP))
      return bad(v, "bad sum operand");
  } else if (s != -1) {
    return bad(v, "bad sum operand");
  }
  /* sy only matters when the result is quantized (epilogue 1). */
  if (!in_range(fld(in, "act"), 0, NPU_NUM_ACTS - 1) ||
      (fld(in, "epilogue") == 1 && !positive(fld_f64(in, "sy"))) ||
      !in_range(fld(in, "post"), 0, 1) ||
      (fld(in, "post") && (!isfinite(fld_f64(in, "pm")) || !isfinite(fld_f64(in, "pa")))))
    return bad(v, "bad float epilogue");
  return true;
}

static bool check_conv(vctx *v, const npu_insn *in) {
  const npu_tensor *x = tfield(v, in, "in"), *w = tfield(v, in, "w"),
                   *y = tfield(v, in, "out");
  if (!x || !w || !y)
    return false;
  static const char *const win[] = {"sh", "sw", "dh", "dw", "group", NULL};
  static const char *const pads[] = {"pt", "pl", NULL};
  static const char *const zps[] = {"zx", "zy", NULL};
  if (!check_fields(v, in, win, 1, MAX_WINDOW) ||
      !check_fields(v, in, pads, 0, MAX_WINDOW) ||
      !check_fields(v, in, zps, -MAX_ZP, MAX_ZP))
    return false;
  int64_t g = fld(in, "group");
  if (x->dims[0] != y->dims[0] || x->dims[1] % g || y->dims[1] % g ||
      w->dims[0] != y->dims[1] || w->dims[1] * g != x->dims[1])
    return bad(v, "conv: shapes do not agree");
  if (w->dims[1] * w->dims[2] * w->dims[3] > ((int64_t)1 << 26))
    return bad(v, "conv: reduction too long");
  return check_epilogue(v, in, y) && check_params(v, in, y->dims[1]);
}

static bool check_matmul(vctx *v, const npu_insn *in) {
  const npu_tensor *a = tfield(v, in, "a"), *b = tfield(v, in, "b"),
                   *y = tfield(v, in, "out");
  if (!a || !b || !y)
    return false;
  static const char *const dims[] = {"batch", "m", "k", "n", NULL};
  static const char *const zps[] = {"za", "zy", NULL};
  if (!check_fields(v, in, dims, 1, MAX_DIM) ||
      !check_fields(v, in, zps, -MAX_ZP, MAX_ZP))
    return false;
  int64_t bt = fld(in, "batch"), m = fld(in, "m"), k = fld(in, "k"), n = fld(in, "n");
  if (k > ((int64_t)1 << 26) || (double)bt * m * n > (double)MAX_ELEMS ||
      npu_tensor_numel(a) != (fld(in, "a_batched") ? bt : 1) * m * k ||
      npu_tensor_numel(b) != k * n || npu_tensor_numel(y) != bt * m * n)
    return bad(v, "matmul: shapes do not agree");
  return check_epilogue(v, in, y) && check_params(v, in, n);
}

static bool broadcasts(const npu_tensor *a, const npu_tensor *y) {
  for (unsigned d = 0; d < NPU_RANK; d++)
    if (a->dims[d] != y->dims[d] && a->dims[d] != 1)
      return false;
  return true;
}

static bool check_binary(vctx *v, const npu_insn *in) {
  const npu_tensor *a = tfield(v, in, "a"), *b = tfield(v, in, "b"),
                   *y = tfield(v, in, "out");
  if (!a || !b || !y)
    return false;
  if (!broadcasts(a, y) || !broadcasts(b, y))
    return bad(v, "%s: operands do not broadcast to the result",
               npu_insn_info_of(in->opcode)->mnemonic);
  static const char *const zps[] = {"za", "zb", "zy", NULL};
  if (!check_fields(v, in, zps, -MAX_ZP, MAX_ZP))
    return false;
  if (in->opcode == NPU_MUL)
    return check_mult(v, fld(in, "m"), fld(in, "e"));
  return check_mult(v, fld(in, "ma"), fld(in, "ea")) &&
         check_mult(v, fld(in, "mb"), fld(in, "eb")) &&
         check_mult(v, fld(in, "my"), fld(in, "ey"));
}

static bool check_lut(vctx *v, const npu_insn *in) {
  const npu_tensor *x = tfield(v, in, "in"), *y = tfield(v, in, "out");
  if (!x || !y)
    return false;
  int64_t min = fld(in, "in_min"), n = fld(in, "entries"), off = fld(in, "table");
  if (npu_tensor_numel(x) != npu_tensor_numel(y) || !in_range(n, 1, 65536) ||
      min > qir_scalar_min(x->dtype) || qir_scalar_max(x->dtype) >= min + n)
    return bad(v, "lut: table does not cover the input");
  if (off < 0 || (uint64_t)off > v->wsize || (uint64_t)n * 4 > v->wsize - (uint64_t)off)
    return bad(v, "lut: table outside the weights");
  return true;
}

static bool same_planes(const npu_tensor *x, const npu_tensor *y) {
  return x->dims[0] == y->dims[0] && x->dims[1] == y->dims[1];
}

static bool check_pool(vctx *v, const npu_insn *in) {
  const npu_tensor *x = tfield(v, in, "in"), *y = tfield(v, in, "out");
  if (!x || !y)
    return false;
  if (!same_planes(x, y))
    return bad(v, "pool: shapes do not agree");
  static const char *const win[] = {"kh", "kw", "sh", "sw", NULL};
  static const char *const pads[] = {"pt", "pl", NULL};
  static const char *const zps[] = {"zx", "zy", NULL};
  if (!check_fields(v, in, win, 1, MAX_WINDOW) ||
      !check_fields(v, in, pads, 0, MAX_WINDOW) ||
      !check_fields(v, in, zps, -MAX_ZP, MAX_ZP))
    return false;
  if (in->opcode == NPU_MAXPOOL) {
    static const char *const dil[] = {"dh", "dw", NULL};
    return check_fields(v, in, dil, 1, MAX_WINDOW) &&
           check_mult(v, fld(in, "m"), fld(in, "e"));
  }
  static const char *const pads2[] = {"pb", "pr", NULL};
  return check_fields(v, in, pads2, 0, MAX_WINDOW);
}

/* gpool: part 0 pools the whole input; parts 1 (the first band), 2 (a
 * band between) and 3 (the last band) pool a tensor band by band into the
 * i32 accumulator `acc` (one per plane), `count` elements per plane in
 * all, and the last writes the result.  The sums must fit in 32 bits. */
static bool check_gpool(vctx *v, const npu_insn *in) {
  const npu_tensor *x = tfield(v, in, "in"), *y = tfield(v, in, "out");
  if (!x || !y)
    return false;
  static const char *const zps[] = {"zx", "zy", NULL};
  int64_t planes = x->dims[0] * x->dims[1], part = fld(in, "part");
  if (npu_tensor_numel(y) != planes || !check_fields(v, in, zps, -MAX_ZP, MAX_ZP))
    return bad(v, "gpool: shapes do not agree");
  if (!in_range(part, 0, 3))
    return bad(v, "gpool: field 'part' out of range");
  if (part == 0 && fld(in, "acc") != -1)
    return bad(v, "gpool: an accumulator for a whole tensor");
  if (part != 0) {
    const npu_tensor *acc = tfield(v, in, "acc");
    int64_t count = fld(in, "count"), range = qir_scalar_size(x->dtype) > 1 ? 65535 : 255;
    if (!acc)
      return false;
    if (acc->dtype != QIR_I32 || npu_tensor_numel(acc) != planes)
      return bad(v, "gpool: the accumulator is not one i32 per plane");
    if (count < x->dims[2] * x->dims[3] || count > INT32_MAX / range)
      return bad(v, "gpool: field 'count' out of range");
  }
  return check_mult(v, fld(in, "m"), fld(in, "e"));
}

/* The rescale fields shared by copy, permute and gather. */
static bool check_rescale(vctx *v, const npu_insn *in) {
  static const char *const zps[] = {"zx", "zy", NULL};
  return check_fields(v, in, zps, -MAX_ZP, MAX_ZP) &&
         check_mult(v, fld(in, "m"), fld(in, "e"));
}

static bool check_copy(vctx *v, const npu_insn *in) {
  const npu_tensor *x = tfield(v, in, "in"), *y = tfield(v, in, "out");
  if (!x || !y)
    return false;
  static const char *const s[] = {"s0", "s1", "s2", "s3"};
  static const char *const d[] = {"d0", "d1", "d2", "d3"};
  static const char *const n[] = {"n0", "n1", "n2", "n3"};
  for (unsigned i = 0; i < NPU_RANK; i++) {
    int64_t si = fld(in, s[i]), di = fld(in, d[i]), ni = fld(in, n[i]);
    if (!in_range(ni, 0, MAX_DIM) || !in_range(si, 0, x->dims[i] - ni) ||
        !in_range(di, 0, y->dims[i] - ni))
      return bad(v, "copy: region outside its tensors");
  }
  return check_rescale(v, in);
}

static bool check_dma(vctx *v, const npu_insn *in) {
  const npu_tensor *s = tfield(v, in, "src"), *d = tfield(v, in, "dst");
  if (!s || !d)
    return false;
  int64_t n = fld(in, "bytes");
  if (n < 0 || n > npu_tensor_numel(s) * (int64_t)qir_scalar_size(s->dtype) ||
      n > npu_tensor_numel(d) * (int64_t)qir_scalar_size(d->dtype))
    return bad(v, "dma: size larger than its tensors");
  return true;
}

static bool check_permute(vctx *v, const npu_insn *in) {
  const npu_tensor *x = tfield(v, in, "in"), *y = tfield(v, in, "out");
  if (!x || !y)
    return false;
  static const char *const pf[] = {"p0", "p1", "p2", "p3"};
  bool seen[NPU_RANK] = {false};
  for (unsigned i = 0; i < NPU_RANK; i++) {
    int64_t p = fld(in, pf[i]);
    if (!in_range(p, 0, NPU_RANK - 1) || seen[p] || y->dims[i] != x->dims[p])
      return bad(v, "permute: not a permutation of the input's dims");
    seen[p] = true;
  }
  return check_rescale(v, in);
}

static bool check_gather(vctx *v, const npu_insn *in) {
  const npu_tensor *x = tfield(v, in, "in"), *y = tfield(v, in, "out");
  if (!x || !y)
    return false;
  if (!same_planes(x, y))
    return bad(v, "gather: shapes do not agree");
  int64_t n = y->dims[2] * y->dims[3], off = fld(in, "table"), plane = x->dims[2] * x->dims[3];
  int64_t base = fld(in, "base");
  if (off < 0 || (uint64_t)off > v->wsize || (uint64_t)n * 4 > v->wsize - (uint64_t)off)
    return bad(v, "gather: table outside the weights");
  for (int64_t j = 0; j < n; j++) {
    int32_t idx;
    memcpy(&idx, v->weights + off + j * 4, 4);
    if ((int64_t)idx - base < 0 || (int64_t)idx - base >= plane)
      return bad(v, "gather: index out of range");
  }
  return check_rescale(v, in);
}

/* Quantized result parameters of the float unit: the clamp within the
 * storage type, a positive scale. */
static bool check_out_quant(vctx *v, const npu_insn *in, const npu_tensor *y) {
  int64_t lo = fld(in, "lo"), hi = fld(in, "hi");
  if (!in_range(fld(in, "zy"), -MAX_ZP, MAX_ZP) || !positive(fld_f64(in, "sy")) ||
      lo > hi || lo < qir_scalar_min(y->dtype) || hi > qir_scalar_max(y->dtype))
    return bad(v, "%s: bad result parameters", npu_insn_info_of(in->opcode)->mnemonic);
  return true;
}

static bool check_resize(vctx *v, const npu_insn *in) {
  const npu_tensor *x = tfield(v, in, "in"), *y = tfield(v, in, "out");
  if (!x || !y)
    return false;
  if (!same_planes(x, y))
    return bad(v, "resize: shapes do not agree");
  double sh = fld_f64(in, "scale_h"), sw = fld_f64(in, "scale_w");
  if (fld(in, "mode") != NPU_RESIZE_LINEAR || !in_range(fld(in, "coord"), 0, 4) ||
      !(sh == 0 || positive(sh)) || !(sw == 0 || positive(sw)))
    return bad(v, "resize: bad mode, coordinate mode or scales");
  if (!in_range(fld(in, "zx"), -MAX_ZP, MAX_ZP) || !positive(fld_f64(in, "sx")))
    return bad(v, "resize: bad input parameters");
  return check_out_quant(v, in, y);
}

/* The exp table: one row of `entries` f32 values per possible maximum. */
static bool check_softmax(vctx *v, const npu_insn *in) {
  const npu_tensor *x = tfield(v, in, "in"), *y = tfield(v, in, "out");
  if (!x || !y)
    return false;
  static const char *const dims[] = {"outer", "len", "inner", NULL};
  if (!check_fields(v, in, dims, 1, MAX_DIM))
    return false;
  int64_t o = fld(in, "outer"), l = fld(in, "len"), i = fld(in, "inner");
  if ((double)o * l * i != (double)npu_tensor_numel(x) ||
      npu_tensor_numel(x) != npu_tensor_numel(y))
    return bad(v, "softmax: shapes do not agree");
  int64_t min = fld(in, "in_min"), n = fld(in, "entries"), off = fld(in, "table");
  if (!in_range(n, 1, 256) || min > qir_scalar_min(x->dtype) ||
      qir_scalar_max(x->dtype) >= min + n)
    return bad(v, "softmax: table does not cover the input");
  if (off < 0 || (uint64_t)off > v->wsize || (uint64_t)(n * n * 4) > v->wsize - (uint64_t)off)
    return bad(v, "softmax: table outside the weights");
  return check_out_quant(v, in, y);
}

/* Only conv and matmul with epilogue 2 produce f32; only a copy reads it
 * (moving a tile's rows of such a result), to f32 and without rescale. */
static bool check_dtypes(vctx *v, const npu_insn *in) {
  const npu_insn_info *info = npu_insn_info_of(in->opcode);
  if (in->opcode == NPU_COPY) {
    const npu_tensor *x = tfield(v, in, "in"), *y = tfield(v, in, "out");
    if (!x || !y)
      return false;
    bool fx = x->dtype == QIR_F32, fy = y->dtype == QIR_F32;
    if (fx != fy || (fx && fld(in, "rescale") != 0))
      return bad(v, "copy: a float copy moves f32 to f32 without rescale");
    if (fx)
      return true;
  }
  bool float_out = (in->opcode == NPU_CONV || in->opcode == NPU_MATMUL) &&
                   fld(in, "epilogue") == 2;
  for (unsigned i = 0; i < info->num_fields; i++) {
    const char *f = info->fields[i];
    if (!is_tensor_field(f) && strcmp(f, "sum"))
      continue;
    if (!strcmp(f, "sum") && in->f[i] == -1)
      continue;
    const npu_tensor *t = tfield(v, in, f);
    if (!t)
      return false;
    bool is_out = !strcmp(f, "out");
    if (is_out && float_out ? t->dtype != QIR_F32 : !int_dtype(t->dtype))
      return bad(v, "%s: tensor '%s' of the wrong element type", info->mnemonic, f);
  }
  return true;
}

bool npu_insn_is_marker(const npu_insn *in) {
  return in->opcode == NPU_CORE || in->opcode == NPU_SYNC;
}

/* core id=c (0 <= c < NPU_MAX_CORES), sync cores=n (1..NPU_MAX_CORES). */
static bool check_marker(vctx *v, const npu_insn *in) {
  bool core = in->opcode == NPU_CORE;
  int64_t x = in->f[0];
  if (core ? !in_range(x, 0, NPU_MAX_CORES - 1) : !in_range(x, 1, NPU_MAX_CORES))
    return bad(v, "%s: field '%s' out of range", core ? "core" : "sync",
               core ? "id" : "cores");
  return true;
}

static bool check_insn(vctx *v, const npu_insn *in) {
  if (in->opcode >= NPU_NUM_OPCODES)
    return bad(v, "unknown opcode %u", in->opcode);
  if (npu_insn_is_marker(in))
    return check_marker(v, in);
  if (!check_dtypes(v, in))
    return false;
  const npu_tensor *out = tfield(v, in, in->opcode == NPU_DMA ? "dst" : "out");
  if (!out)
    return false;
  if (out->space == NPU_SPACE_WGT)
    return bad(v, "%s: writes to the weights", npu_insn_info_of(in->opcode)->mnemonic);
  switch (in->opcode) {
  case NPU_CONV: return check_conv(v, in);
  case NPU_MATMUL: return check_matmul(v, in);
  case NPU_ADD:
  case NPU_MUL: return check_binary(v, in);
  case NPU_LUT: return check_lut(v, in);
  case NPU_MAXPOOL:
  case NPU_AVGPOOL: return check_pool(v, in);
  case NPU_GPOOL: return check_gpool(v, in);
  case NPU_COPY: return check_copy(v, in);
  case NPU_DMA: return check_dma(v, in);
  case NPU_PERMUTE: return check_permute(v, in);
  case NPU_GATHER: return check_gather(v, in);
  case NPU_RESIZE: return check_resize(v, in);
  case NPU_SOFTMAX: return check_softmax(v, in);
  default: return bad(v, "unknown opcode %u", in->opcode);
  }
}

/* ---- Memory ranges and races between cores ---- */

/* Element index of `at` in the row-major dims of t. */
static int64_t linear_index(const npu_tensor *t, const int64_t at[NPU_RANK]) {
  int64_t k = 0;
  for (unsigned d = 0; d < NPU_RANK; d++)
    k = k * t->dims[d] + at[d];
  return k;
}

/* The region a copy reads (prefix "s") or writes ("d") of tensor x: its
 * box, and the bytes from its first element to its last. */
static void copy_region(const npu_insn *in, const npu_tensor *x, bool out, npu_mem_range *r) {
  static const char *const src[] = {"s0", "s1", "s2", "s3"}, *const dst[] = {"d0", "d1", "d2", "d3"},
                           *const cnt[] = {"n0", "n1", "n2", "n3"};
  int64_t last[NPU_RANK];
  r->t = x;
  for (unsigned d = 0; d < NPU_RANK; d++) {
    r->start[d] = fld(in, out ? dst[d] : src[d]);
    r->count[d] = fld(in, cnt[d]);
    last[d] = r->start[d] + (r->count[d] > 0 ? r->count[d] - 1 : 0);
  }
  uint64_t es = qir_scalar_size(x->dtype);
  r->lo = x->offset + (uint64_t)linear_index(x, r->start) * es;
  r->hi = x->offset + (uint64_t)(linear_index(x, last) + 1) * es;
}

bool npu_insn_params(const npu_program *p, const npu_insn *in, unsigned *space,
                     uint64_t *lo, uint64_t *bytes) {
  int64_t channels;
  if (in->opcode == NPU_CONV) {
    const npu_tensor *y = npu_field_tensor(p, in, npu_field(NPU_CONV, "out"));
    channels = y ? y->dims[1] : 0;
  } else if (in->opcode == NPU_MATMUL) {
    channels = fld(in, "n");
  } else {
    return false;
  }
  *space = fld(in, "psram") ? NPU_SPACE_SRAM : NPU_SPACE_WGT;
  *lo = (uint64_t)fld(in, "params");
  *bytes = (uint64_t)channels * NPU_PARAM_WORDS * 4;
  return true;
}

unsigned npu_insn_mem_ranges(const npu_program *p, const npu_insn *in, npu_mem_range *r) {
  unsigned n = 0;
  const npu_insn_info *info = npu_insn_info_of(in->opcode);
  unsigned space;
  uint64_t lo, bytes;
  if (npu_insn_params(p, in, &space, &lo, &bytes) && space == NPU_SPACE_SRAM) {
    memset(&r[n], 0, sizeof r[n]);
    r[n].space = space;
    r[n].lo = lo;
    r[n++].hi = lo + bytes;
  }
  for (unsigned i = 0; i < info->num_fields && n < NPU_MAX_RANGES; i++) {
    const npu_tensor *x = npu_field_tensor(p, in, i);
    if (!x || x->space == NPU_SPACE_WGT)
      continue;
    bool out = npu_field_role(in->opcode, i) == NPU_FIELD_RESULT;
    npu_mem_range *e = &r[n++];
    memset(e, 0, sizeof *e);
    e->space = x->space;
    e->write = out;
    e->lo = x->offset;
    e->hi = x->offset + (in->opcode == NPU_DMA
                             ? (uint64_t)fld(in, "bytes")
                             : (uint64_t)npu_tensor_numel(x) * qir_scalar_size(x->dtype));
    if (in->opcode == NPU_COPY)
      copy_region(in, x, out, e);
  }
  return n;
}

/* Two boxes of views with the same place and shape overlap when they do
 * along every dimension. */
static bool boxes_overlap(const npu_mem_range *a, const npu_mem_range *b) {
  for (unsigned d = 0; d < NPU_RANK; d++)
    if (a->start[d] >= b->start[d] + b->count[d] || b->start[d] >= a->start[d] + a->count[d])
      return false;
  return true;
}

static bool same_view(const npu_tensor *a, const npu_tensor *b) {
  return a->offset == b->offset && a->dtype == b->dtype && !memcmp(a->dims, b->dims, sizeof a->dims);
}

bool npu_mem_ranges_conflict(const npu_mem_range *a, const npu_mem_range *b) {
  if (!(a->write || b->write) || a->space != b->space || a->lo >= b->hi || b->lo >= a->hi)
    return false;
  if (a->t && b->t && same_view(a->t, b->t))
    return boxes_overlap(a, b);
  return true;
}

/* Between two syncs, no instruction may touch memory that an instruction
 * of another core writes (docs/NPU.md, "Machine"): the cores run at their
 * own pace there.  Each instruction's ranges go to its core's list, which
 * a sync empties. */
typedef struct core_ranges {
  npu_mem_range *r;
  unsigned *insn; /* the instruction of each range */
  unsigned n, cap;
} core_ranges;

static bool check_races(vctx *v) {
  const npu_program *p = v->p;
  bool multi = false;
  for (unsigned i = 0; i < p->num_insns && !multi; i++)
    multi = p->insns[i].opcode == NPU_CORE && p->insns[i].f[0] != 0;
  if (!multi)
    return true;
  core_ranges cr[NPU_MAX_CORES];
  memset(cr, 0, sizeof cr);
  unsigned cur = 0;
  bool ok = true;
  for (unsigned i = 0; i < p->num_insns && ok; i++) {
    const npu_insn *in = &p->insns[i];
    if (in->opcode == NPU_SYNC) {
      for (unsigned c = 0; c < NPU_MAX_CORES; c++)
        cr[c].n = 0;
      cur = 0;
      continue;
    }
    if (in->opcode == NPU_CORE) {
      cur = (unsigned)in->f[0];
      continue;
    }
    npu_mem_range r[NPU_MAX_RANGES];
    unsigned n = npu_insn_mem_ranges(p, in, r);
    for (unsigned c = 0; c < NPU_MAX_CORES && ok; c++)
      for (unsigned k = 0; c != cur && k < cr[c].n && ok; k++)
        for (unsigned j = 0; j < n && ok; j++)
          if (npu_mem_ranges_conflict(&cr[c].r[k], &r[j])) {
            bad(v, "core %u %s memory that core %u %s (instruction %u) with no sync "
                   "between (instruction %u)", cur, r[j].write ? "writes" : "reads", c,
                cr[c].r[k].write ? "writes" : "reads", cr[c].insn[k], i);
            ok = false;
          }
    core_ranges *m = &cr[cur];
    if (m->n + n > m->cap) {
      m->cap = 2 * (m->n + n);
      m->r = qir_xrealloc(m->r, m->cap * sizeof *m->r);
      m->insn = qir_xrealloc(m->insn, m->cap * sizeof *m->insn);
    }
    for (unsigned j = 0; j < n; j++) {
      m->r[m->n] = r[j];
      m->insn[m->n++] = i;
    }
  }
  for (unsigned c = 0; c < NPU_MAX_CORES; c++) {
    free(cr[c].r);
    free(cr[c].insn);
  }
  return ok;
}

bool npu_program_validate(const npu_program *p, const uint8_t *weights,
                          uint64_t weights_size, char *why, size_t n) {
  vctx v = {p, weights, weights_size, why, n};
  for (unsigned i = 0; i < p->num_tensors; i++)
    if (!check_tensor(&v, i))
      return false;
  for (unsigned i = 0; i < p->num_inputs; i++)
    if (p->inputs[i] >= p->num_tensors || p->tensors[p->inputs[i]].space != NPU_SPACE_DDR)
      return bad(&v, "input %u is not a DDR tensor", i);
  for (unsigned i = 0; i < p->num_outputs; i++)
    if (p->outputs[i] >= p->num_tensors)
      return bad(&v, "output %u is not a tensor", i);
  for (unsigned i = 0; i < p->num_insns; i++)
    if (!check_insn(&v, &p->insns[i])) {
      size_t len = strlen(why);
      snprintf(why + len, n > len ? n - len : 0, " (instruction %u)", i);
      return false;
    }
  return check_races(&v);
}
