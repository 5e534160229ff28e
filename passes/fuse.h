/* passes/fuse.h - shared pieces of the fuse pass (passes/fuse.c drives
 * the rewriting and fuses ops into conv2d and gemm; passes/fuse-fold.c
 * folds batch norms and per-channel scales into convolution weights). */
#ifndef QIR_PASSES_FUSE_H
#define QIR_PASSES_FUSE_H

#include "passes/passes.h"

typedef struct fuser {
  qir_pass *pass;
  qir_context *ctx;
  qir_worklist wl;
  bool fold_bn, fold_scale, activations, sum_in, gemm, pad, hard_swish;
  bool post_affine;
  bool nchw_inputs;
} fuser;

/* Counts a rewrite at `op` under `stat` and tells -debug-only=fuse. */
void fuse_note(fuser *fu, const qir_op *op, const char *stat);

/* True for a tensor type of plain (not quantized) f32 elements with a
 * static shape. */
bool fuse_is_f32(const qir_type *t);

/* The op defining v when it is op `id` and v is its only result and has
 * exactly one use; else NULL. */
qir_op *fuse_single_use_def(qir_value *v, unsigned id);

/* A conv2d or conv_transpose2d without a fused activation, sum or
 * post-activation affine, f32,
 * with constant 4-D weights and (if any) a constant 1-D bias: the form
 * weights fold into. */
bool fuse_is_plain_conv(const qir_op *conv);
/* The plain conv defining v when v has no other use; else NULL. */
qir_op *fuse_conv_def(qir_value *v);
/* True when the conv2d has an `activation` other than "none" or a
 * post-activation affine (post_mul/post_add): what comes after either
 * cannot join the conv as an activation. */
bool fuse_conv_has_activation(const qir_op *conv);

/* Replaces `op` (one result) by `v`, with the worklist bookkeeping. */
void fuse_replace(fuser *fu, qir_op *op, qir_value *v);

/* Reads the values of a constant that broadcasts per channel against a
 * result of type `t` (dims 1 everywhere except dim 1, which is 1 or C =
 * t->dims[1]) into out[0..C).  False when v is not such a constant. */
bool fuse_read_per_channel(const qir_value *v, const qir_type *t,
                           double *out);

/* passes/fuse-fold.c: the rewrites rooted at each op kind. */
bool fuse_batch_norm(fuser *fu, qir_op *bn);
bool fuse_scale_shift(fuser *fu, qir_op *op);

/* passes/layout.c: NHWC inputs that are only transposed to NCHW take
 * NCHW (fuse{nchw-inputs=true}). */
void fuse_nchw_inputs(fuser *fu, qir_func *f);

#endif
