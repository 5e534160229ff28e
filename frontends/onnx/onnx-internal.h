/* frontends/onnx/onnx-internal.h - shared by the files of the ONNX
 * frontend; not part of the public API. */
#ifndef QIR_ONNX_INTERNAL_H
#define QIR_ONNX_INTERNAL_H

#include "frontends/onnx/onnx.pb-c.h"
#include "qir/onnx.h"
#include "qir/qir.h"

typedef Onnx__NodeProto onnx_node;
typedef Onnx__TensorProto onnx_tensor;
typedef Onnx__AttributeProto onnx_attr;

/* Largest model file and largest single tensor the importer accepts. */
#define ONNX_MAX_FILE_BYTES ((size_t)1 << 31)
#define ONNX_MAX_TENSOR_ELEMENTS ((int64_t)1 << 31)

/* ONNX names the exporter gives to anonymous values; the importer leaves
 * values of such names anonymous. */
#define QIR_ONNX_ANON_PREFIX "qir_anon_"

/* The domain of ONNX Runtime's operators, whose QuantizeLinear and
 * DequantizeLinear take 16-bit types (the default domain: opset 21). */
#define QIR_ONNX_MS_DOMAIN "com.microsoft"

/* One entry of the tensor-name table. */
typedef struct onnx_binding {
  const char *name;          /* ONNX tensor name (interned) */
  qir_value *value;          /* NULL until materialized */
  const onnx_tensor *init;   /* initializer not yet materialized */
} onnx_binding;

typedef struct onnx_importer {
  qir_context *ctx;
  const char *model_name; /* the file name, in messages */
  const char *base_dir;   /* external data folder; NULL: none allowed */
  int64_t opset;
  bool fold;
  qir_builder b;
  qir_func *func;

  /* tensor name -> binding (open addressing, power-of-two size) */
  onnx_binding *names;
  size_t names_cap, names_len;
  /* value names taken in @main */
  const char **taken;
  size_t taken_cap, taken_len;

  bool saw_qdq;          /* the model has QuantizeLinear/DequantizeLinear */
  const onnx_node *node; /* the node being lowered */
  unsigned node_index;
} onnx_importer;

/* Lowers one node: in[i] is input i (NULL when absent or empty), out
 * receives node->n_output values (NULL for an output not produced).
 * Returns false after emitting an error. */
typedef bool (*onnx_lower_fn)(onnx_importer *imp, const onnx_node *node,
                              qir_value *const *in, unsigned nin,
                              qir_value **out);

/* ---- model.c: tensors and types ---------------------------------------- */
const char *onnx_str(const char *s); /* NULL -> "" */
bool onnx_scalar_from_elem_type(int32_t t, qir_scalar *out);
int32_t onnx_elem_type_from_scalar(qir_scalar s);
const char *onnx_elem_type_name(int32_t t);
/* The dense attribute of a TensorProto (loads external data). */
const qir_attr *onnx_tensor_to_dense(onnx_importer *imp, const onnx_tensor *t);

/* ---- import.c: helpers for the lowering functions ---------------------- */
bool onnx_error(onnx_importer *imp, const char *fmt, ...) QIR_PRINTF(2, 3);
/* The current node's name, or #index when it has none. */
const char *onnx_node_label(onnx_importer *imp, char *buf, size_t size);
const onnx_attr *onnx_find_attr(const onnx_node *n, const char *name);
int64_t onnx_attr_int(const onnx_node *n, const char *name, int64_t dflt);
double onnx_attr_float(const onnx_node *n, const char *name, double dflt);
/* The string attribute (interned), NULL when absent. */
const char *onnx_attr_string(onnx_importer *imp, const onnx_node *n,
                             const char *name);
/* Count, or -1 when absent; fails (error) when more than max. */
int onnx_attr_ints(onnx_importer *imp, const onnx_node *n, const char *name,
                   int64_t *out, unsigned max);
int onnx_attr_floats(onnx_importer *imp, const onnx_node *n, const char *name,
                     double *out, unsigned max);

/* Builds an op (types inferred), folding it when it can; the first result,
 * NULL after an error. */
qir_value *onnx_emit(onnx_importer *imp, unsigned op_id, unsigned nops,
                     qir_value *const *ops, unsigned nattrs,
                     const qir_named_attr *attrs);
/* Builds an op with `nres` results into res[]; `types` NULL: inferred. */
bool onnx_emit_multi(onnx_importer *imp, unsigned op_id, unsigned nops,
                     qir_value *const *ops, unsigned nattrs,
                     const qir_named_attr *attrs, unsigned nres,
                     const qir_type *const *types, qir_value **res);
qir_value *onnx_emit_unary(onnx_importer *imp, unsigned op_id, qir_value *x);
qir_value *onnx_emit_binary(onnx_importer *imp, unsigned op_id, qir_value *a,
                            qir_value *b);
qir_value *onnx_emit_reshape(onnx_importer *imp, qir_value *x, unsigned rank,
                             const int64_t *dims);
qir_value *onnx_emit_cast(onnx_importer *imp, qir_value *x, qir_scalar s);
qir_value *onnx_const(onnx_importer *imp, const qir_attr *dense);
qir_value *onnx_const_i64s(onnx_importer *imp, unsigned n, const int64_t *v);
/* A rank-0 constant of element type s. */
qir_value *onnx_const_scalar(onnx_importer *imp, qir_scalar s, double v);
qir_named_attr onnx_named(onnx_importer *imp, const char *name,
                          const qir_attr *a);

/* Reads a constant operand (`what` names it in the error).  Count, or -1
 * after an error. */
int onnx_const_ints(onnx_importer *imp, qir_value *v, const char *what,
                    int64_t *out, unsigned max);
int onnx_const_floats(onnx_importer *imp, qir_value *v, const char *what,
                      double *out, unsigned max);
/* Checks that n dims/sizes read from the model lie in [0, 2^31]. */
bool onnx_check_dims(onnx_importer *imp, const char *what, int n,
                     const int64_t *v);
/* Normalizes a possibly negative axis; false (error) when out of range. */
bool onnx_norm_axis(onnx_importer *imp, int64_t axis, unsigned rank,
                    int64_t *out);
/* The static shape of v; false (error) when it has dynamic dims. */
bool onnx_static_shape(onnx_importer *imp, qir_value *v, const char *what);

/* ---- lower-quant.c, qdq.c ------------------------------------------------ */
/* Clip of a quantized tensor to integer bounds: a narrower range. */
bool onnx_lower_quantized_clip(onnx_importer *imp, qir_value *x, double lo,
                               double hi, qir_value **out);

/* ---- lowering functions (lower-*.c), listed in ops.inc ----------------- */
#define ONNX_OP(name, fn, max_inputs)                                          \
  bool fn(onnx_importer *imp, const onnx_node *node, qir_value *const *in,    \
          unsigned nin, qir_value **out);
#include "frontends/onnx/ops.inc"
#undef ONNX_OP

#endif
