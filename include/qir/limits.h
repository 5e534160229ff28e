/* qir/limits.h - the resource limits qir enforces on its inputs.
 *
 * qir reads files from anywhere (ONNX models, .qir text, .npy data), so
 * every size an input declares is checked against one of these limits
 * BEFORE anything is allocated for it.  Going over a limit is bad input,
 * never an out-of-memory kill or a crash: the error names the limit, e.g.
 *
 *   error: dense attribute of tensor<65536x65536xf32> has 2^34 bytes; the
 *          limit is 2^31 (QIR_MAX_TENSOR_BYTES)
 *
 * The limits are far above what edge models need (docs/Limits.md gives the
 * reasoning for each) and are fixed at compile time. */
#ifndef QIR_LIMITS_H
#define QIR_LIMITS_H

#include "qir/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Dimensions of a tensor type: QIR_MAX_RANK (16), in qir/types.h. */

/* Elements of a tensor type (static dims multiplied).  Types cost no
 * memory, so this only keeps element counts far from int64 overflow. */
#define QIR_MAX_ELEMENTS ((int64_t)1 << 40)

/* Bytes of tensor data that qir holds in memory: dense constants (also
 * splats, which later passes may expand), resource blobs, .npy arrays and
 * ONNX initializers. */
#define QIR_MAX_TENSOR_BYTES ((int64_t)1 << 31)

/* A `resources` blob holds one tensor's data: QIR_MAX_TENSOR_BYTES. */
#define QIR_MAX_RESOURCE_BYTES QIR_MAX_TENSOR_BYTES

/* Ops in one function. */
#define QIR_MAX_OPS ((int64_t)1 << 20)

/* Brackets nested inside one another in .qir text (arrays, dense lists). */
#define QIR_MAX_NESTING 64

/* Bytes of a name: %values, @symbols, op names, attribute and resource
 * names. */
#define QIR_MAX_NAME_LEN 1024

/* Bytes of a string attribute (after unescaping). */
#define QIR_MAX_STRING_LEN ((int64_t)1 << 20)

/* Elements of an array attribute ([1, 2, 3]; dense data is bounded by
 * QIR_MAX_TENSOR_BYTES instead). */
#define QIR_MAX_ARRAY_LEN ((int64_t)1 << 16)

/* Entries of one attribute dictionary. */
#define QIR_MAX_ATTRS 4096

/* True when the data of static tensor type `t` fits QIR_MAX_TENSOR_BYTES
 * (and its element count QIR_MAX_ELEMENTS).  Otherwise emits at `loc`
 * `error: <what> of <type> has N bytes; the limit is 2^31
 * (QIR_MAX_TENSOR_BYTES)` and returns false.  Dynamic types pass. */
bool qir_check_tensor_bytes(qir_context *ctx, qir_loc loc, const char *what,
                            const qir_type *t);

/* Writes `n` as "2^K" when it is a power of two above 1024, else in
 * decimal, like snprintf; for the messages of limits. */
int qir_format_limit(int64_t n, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
