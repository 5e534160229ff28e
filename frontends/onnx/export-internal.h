/* frontends/onnx/export-internal.h - the ONNX exporter's state and the
 * helpers its files share (export.c: the graph and the float ops;
 * export-qexact.c: the integer semantics of quantized ops). */
#ifndef QIR_FRONTENDS_ONNX_EXPORT_INTERNAL_H
#define QIR_FRONTENDS_ONNX_EXPORT_INTERNAL_H

#include "frontends/onnx/onnx-internal.h"

/* value -> ONNX tensor name (open addressing on the pointer) */
typedef struct name_map {
  const void **keys;
  const char **vals;
  size_t cap, len;
} name_map;

typedef struct exporter {
  qir_context *ctx;
  Onnx__NodeProto **nodes;
  size_t nnodes, nodes_cap;
  Onnx__TensorProto **inits;
  size_t ninits, inits_cap;
  name_map names;       /* value -> ONNX tensor name */
  name_map float_names; /* quantized value -> its dequantized (f32) form */
  name_map qdq_names;   /* quantized value -> its DequantizeLinear output */
  name_map qparams;     /* quantized element type -> scale initializer */
  bool uses_ms_domain;  /* 16-bit QDQ nodes of the com.microsoft domain */
  bool quantized_module; /* float activations as qir computes them */
  unsigned tmp_counter;
  bool failed;
} exporter;

/* A protobuf message in the arena, copied from its INIT value. */
#define NEW(ex, T, init) ((T *)qir_arena_dup((ex)->ctx, &(T)init, sizeof(T)))

/* ONNX input names (at least OP_CTX_MIN_INPUTS slots, for the inputs that
 * attributes become) and output names of the op being exported. */
#define OP_CTX_MIN_INPUTS 8
typedef struct op_ctx {
  exporter *ex;
  qir_op *op;
  const char **in;
  const char **out;
} op_ctx;

void onnx_ex_map_put(name_map *m, const void *v, const char *name);
const char *onnx_ex_map_get(const name_map *m, const void *v);
/* A fresh name for a tensor qir invented (QIR_ONNX_ANON_PREFIX). */
const char *onnx_ex_tmp(exporter *ex);
const char *onnx_ex_value_name(exporter *ex, const qir_value *v);
Onnx__NodeProto *onnx_ex_node(exporter *ex, const char *type, unsigned nin,
                              const char *const *in, unsigned nout,
                              const char *const *out);
void onnx_ex_attr_int(exporter *ex, Onnx__NodeProto *n, const char *name,
                      int64_t v);
void onnx_ex_attr_string(exporter *ex, Onnx__NodeProto *n, const char *name,
                         const char *s);
void onnx_ex_attr_ints(exporter *ex, Onnx__NodeProto *n, const char *name,
                       unsigned count, const int64_t *v);
/* An initializer holding dense attribute d. */
const char *onnx_ex_init(exporter *ex, const qir_attr *d, const char *name);
const char *onnx_ex_init_scalar(exporter *ex, qir_scalar s, double v);
const char *onnx_ex_init_i64s(exporter *ex, unsigned n, const int64_t *v);
/* The fused activation `act` of c's op as float nodes x -> out. */
void onnx_ex_activation(op_ctx *c, const char *act, const char *x,
                        const char *out);
/* The op as ONNX nodes on c->in / c->out, its operands taken as they are
 * (quantized ones as their storage integers, or as floats when the caller
 * put dequantized names in c->in). */
bool onnx_ex_plain_op(op_ctx *c);

/* ---- export-qexact.c: quantized ops in qir's integer semantics ---------- */

/* dequantize: storage tensor q of quantized tensor type qt -> float tensor
 * `out` of scalar type s (computed in double, rounded once). */
void onnx_ex_dequantize(exporter *ex, const qir_type *qt, const char *q,
                        qir_scalar s, const char *out);
/* quantize: float tensor x -> storage tensor `out` of quantized type rt. */
void onnx_ex_quantize(exporter *ex, const qir_type *rt, const char *x,
                      const char *out);
/* requantize: storage q of type `from` -> storage `out` of type `to`. */
bool onnx_ex_requantize(exporter *ex, qir_op *at, const qir_type *from,
                        const qir_type *to, const char *q, const char *out);
/* sigmoid, hard_sigmoid or hard_swish (op id) x -> out with qir's float
 * formula, one IEEE operation per node (ONNX Runtime's own kernels
 * approximate or fuse); false for other ops. */
bool onnx_ex_exact_activation(exporter *ex, unsigned id, float alpha,
                              float beta, const char *x, const char *out);
/* A conv2d's fused activation `act` (or NULL) and post-activation affine
 * x -> out; the exact formula in a quantized module. */
void onnx_ex_stage_activation(op_ctx *c, const char *act, const char *x,
                              const char *out);
/* True when op has a stage after its accumulation: an activation `act`
 * (NULL: none) or a post-activation affine. */
bool onnx_ex_has_stage(const qir_op *op, const char *act);
/* Exports c's op on quantized types with an integer kernel in qir as an
 * exact emulation.  QX_OTHER: the op has no integer kernel (the caller
 * writes the float round trip). */
typedef enum { QX_DONE, QX_OTHER, QX_ERROR } qx_result;
qx_result onnx_ex_integer_op(op_ctx *c);

#endif
