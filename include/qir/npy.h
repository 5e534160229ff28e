/* qir/npy.h - NumPy .npy files (format versions 1.0, 2.0 and 3.0).
 *
 * Supported dtypes: f64 f32 f16 i8 u8 i16 u16 i32 i64 and bool (i1), little
 * or big endian on input (converted to little), C order only.  bf16 tensors
 * are written as f32 (NumPy has no bf16); quantized tensors are written as
 * their integer storage. */
#ifndef QIR_NPY_H
#define QIR_NPY_H

#include "qir/interp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads a .npy file into `out` (element type: the plain scalar; data is
 * malloc'd, free with qir_tensor_free_data).  On a bad file emits
 * `error: 'path': reason` through ctx and returns false. */
bool qir_npy_read(qir_context *ctx, const char *path, qir_tensor *out);
/* The same from memory; `name` is used in messages. */
bool qir_npy_read_buffer(qir_context *ctx, const char *name, const void *buf,
                         size_t len, qir_tensor *out);
/* Writes `t` atomically (through qir_output). */
bool qir_npy_write(qir_context *ctx, const char *path, const qir_tensor *t);
/* The bytes of a .npy file for `t` in a malloc'd buffer. */
void *qir_npy_encode(const qir_tensor *t, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
