/* backends/cpu/cpu.h - private declarations of the CPU kernels and the
 * reference interpreter (not part of the public API). */
#ifndef QIR_BACKENDS_CPU_H
#define QIR_BACKENDS_CPU_H

#include "qir/interp.h"
#include "qir/quant.h"

/* ---- Thread pool ---------------------------------------------------------- */

typedef struct qir_pool qir_pool;
/* fn(arg, begin, end) runs on a sub-range of [0, n). */
typedef void (*qir_range_fn)(void *arg, int64_t begin, int64_t end);

qir_pool *qir_pool_create(unsigned threads);
void qir_pool_destroy(qir_pool *p);
unsigned qir_pool_threads(const qir_pool *p);
/* Splits [0, n) into at most `threads` contiguous chunks and waits for all
 * of them; a NULL pool or a small n runs inline.  `grain`: the smallest
 * chunk worth a thread. */
void qir_parallel_for(qir_pool *p, int64_t n, int64_t grain, qir_range_fn fn,
                      void *arg);
unsigned qir_num_cores(void);

/* ---- Scalar conversions --------------------------------------------------- */

float qir_cpu_f16_to_f32(uint16_t h);
uint16_t qir_cpu_f32_to_f16(float f);
float qir_cpu_bf16_to_f32(uint16_t h);
uint16_t qir_cpu_f32_to_bf16(float f);
/* Converts n elements between any two plain scalars (float -> int
 * truncates toward zero and saturates; NaN -> 0; int -> i1 is != 0). */
void qir_convert(qir_scalar from, const void *src, qir_scalar to, void *dst,
                 int64_t n);
double qir_load_f64(qir_scalar s, const void *data, int64_t i);

/* ---- Comparing tensors (compare.c) ---- */
/* Element i as a real number (quantized storage dequantized). */
double qir_tensor_real_at(const qir_tensor *t, int64_t i);
/* Cosine similarity of the real values (1 when both are all zero). */
double qir_tensor_cosine(const qir_tensor *a, const qir_tensor *b);
/* The largest difference of a from b in steps: storage units for
 * quantized tensors; for float ones, |a - b| over max(atol, rtol |b|). */
double qir_tensor_steps_apart(const qir_tensor *a, const qir_tensor *b,
                              double rtol, double atol);
bool qir_tensor_same_shape(const qir_tensor *a, const qir_tensor *b);

/* ---- Kernel interface ----------------------------------------------------- */

/* One op execution: operand and result tensors (results preallocated with
 * the shapes of the result types). */
typedef struct qir_kargs {
  const qir_op *op;
  unsigned nin, nout;
  const qir_tensor *const *in;
  qir_tensor *const *out;
  qir_pool *pool;
  /* A relu/clip the interpreter fused into this conv2d (0: none). */
  int fused_act;
  float act_lo, act_hi;
  /* conv2d: zero padding (top, left, bottom, right) of a pad the
   * interpreter fused into it, added to the op's `pads`; in[0] is then
   * the pad's unpadded input. */
  int64_t extra_pads[4];
} qir_kargs;

typedef bool (*qir_kernel_fn)(const qir_kargs *k);

/* How the dispatcher prepares operands for a kernel. */
enum qir_kernel_conv {
  QK_RAW,  /* the kernel takes any scalar */
  QK_F32,  /* float operands/results converted to f32 */
  QK_NUM   /* floats to f32, integers (not i1) to i64 */
};

typedef struct qir_kernel {
  qir_kernel_fn fn;
  int conv;
} qir_kernel;

/* The float/integer kernel of an op id and its quantized kernel (NULL fn:
 * none; quantized operands then take the float round trip). */
const qir_kernel *qir_cpu_kernel(unsigned id);
qir_kernel_fn qir_cpu_qkernel(unsigned id);

/* Kernel helpers. */
int64_t qk_numel(const qir_tensor *t);
/* Error at the op; returns false. */
bool qk_fail(const qir_kargs *k, const char *fmt, ...) QIR_PRINTF(2, 3);
int qk_axis(int64_t axis, unsigned rank);
/* Output columns [*lo, *hi] of a window op (conv, pooling) whose input
 * column ow * sw - pl + off lies in [0, in_w); *lo > *hi when none. */
static inline void qk_valid_cols(int64_t in_w, int64_t out_w, int64_t sw,
                                 int64_t pl, int64_t off, int64_t *lo,
                                 int64_t *hi) {
  int64_t a = pl - off; /* need ow * sw >= a */
  *lo = a <= 0 ? 0 : (a + sw - 1) / sw;
  int64_t b = in_w - 1 + pl - off; /* need ow * sw <= b */
  *hi = b < 0 ? -1 : b / sw;
  if (*hi > out_w - 1)
    *hi = out_w - 1;
}
/* v, or 1 when v is 0 (a safe divisor). */
static inline int64_t qk_nz(int64_t v) { return v ? v : 1; }
/* The float round trip of a quantized op without an integer kernel:
 * dequantize the operands, run the float kernel `kern`, quantize the
 * results (docs/Quantization.md). */
bool qir_cpu_float_round_trip(const qir_kargs *k, const qir_kernel *kern);
/* Pooling attributes of max_pool2d / avg_pool2d. */
typedef struct qir_pool_params qir_pool_params;
bool qk_read_pool_params(const qir_kargs *k, qir_pool_params *p);
/* Fused activation of conv2d/matmul/gemm (`activation` attribute), then
 * the post-activation affine (post_mul/post_add), applied in place; false
 * for an unknown activation name. */
bool qk_apply_fused_activation(const qir_kargs *k, float *y, int64_t n);
/* The post-activation affine alone (after an activation a kernel ran). */
void qk_apply_post_affine(const qir_kargs *k, float *y, int64_t n);

/* ---- Elementwise building blocks (fused regions) ---------------------- */

typedef void (*qir_binary_inner)(const void *a, int64_t sa, const void *b,
                                 int64_t sb, void *y, int64_t n);
/* The f32 inner loop of a binary op (sa, sb: 1 = advance, 0 = repeat the
 * first element); NULL when the op is not a fusable binary op. */
qir_binary_inner qir_cpu_binary_f32(const qir_op *op);

typedef struct qir_unary_job {
  const float *x;
  float *y;
  unsigned id;
  float alpha, beta, lo, hi;
  bool gelu_tanh;
} qir_unary_job;
/* Parameters of a unary op or activation from its attributes. */
void qir_cpu_unary_init(qir_unary_job *j, const qir_op *op);
void qir_cpu_unary_apply(const qir_unary_job *j, const float *x, float *y,
                         int64_t n);

/* A fused region: consecutive f32 elementwise ops over one shape, run tile
 * by tile so intermediates stay in cache (see fuse.c). */
enum { QIR_EW_SCRATCH, QIR_EW_FULL, QIR_EW_RUNCONST, QIR_EW_GATHER };

typedef struct qir_ew_operand {
  int kind;
  int slot;             /* SCRATCH and GATHER: scratch slot */
  float *data;          /* FULL, RUNCONST, GATHER: the tensor's data */
  const qir_tensor *t;  /* RUNCONST, GATHER: for broadcast offsets */
} qir_ew_operand;

typedef struct qir_ew_step {
  const qir_op *op;
  qir_binary_inner binary; /* NULL: unary */
  qir_unary_job unary;
  qir_ew_operand in[2];
  qir_ew_operand out;      /* SCRATCH or FULL */
} qir_ew_step;

typedef struct qir_ew_region {
  unsigned nsteps;
  qir_ew_step *steps;
  unsigned nscratch;
  int64_t total;  /* elements of the region's shape */
  int64_t run;    /* tiles never cross a multiple of run */
  unsigned rank;
  int64_t dims[QIR_MAX_RANK];
} qir_ew_region;

/* True for an op the region fuser can take (f32 operands and result). */
bool qir_cpu_ew_fusable(const qir_op *op);
/* Broadcast offset of element i of the region shape in operand t. */
int64_t qir_cpu_ew_offset(const qir_ew_region *r, const qir_tensor *t,
                          int64_t i);
/* Run length of t over the region shape: the elements over which t's
 * value stays the same (1 when it changes along the last dim). */
int64_t qir_cpu_ew_run_length(const qir_ew_region *r, const qir_tensor *t);
void qir_cpu_ew_run(qir_pool *pool, const qir_ew_region *r);

/* ---- Float kernels with plain parameters (unit tested directly) ---------- */

typedef struct qir_conv_params {
  int64_t n, c, h, w;   /* input */
  int64_t o, kh, kw;    /* weights O x C/group x KH x KW */
  int64_t oh, ow;       /* output */
  int64_t sh, sw, dh, dw;
  int64_t pt, pl, pb, pr;
  int64_t group;
  /* Epilogue applied with the bias while the output is in cache:
   * 0 none, 1 clamp to [act_lo, act_hi] (relu, relu6, clip). */
  int act;
  float act_lo, act_hi;
} qir_conv_params;

/* y[n, o, oh, ow] = b[o] + sum x * w; b may be NULL.  The sum's order is
 * fixed (k_conv.c). */
void qir_conv2d_f32(qir_pool *pool, const qir_conv_params *p, const float *x,
                    const float *w, const float *b, float *y);
/* Transposed: x is N x C x H x W, w is C x O/group x KH x KW, y is
 * N x O x OH x OW (oh/ow given). */
void qir_conv_transpose2d_f32(qir_pool *pool, const qir_conv_params *p,
                              const float *x, const float *w, const float *b,
                              float *y);
/* A conv2d prepared once for many runs: its weights reordered for the
 * kernel (k_conv.c).  The plan copies the weights and the parameters. */
typedef struct qir_conv_plan qir_conv_plan;
qir_conv_plan *qir_conv_plan_create(const qir_conv_params *p, const float *w);
void qir_conv_plan_destroy(qir_conv_plan *c);
void qir_conv_plan_run(qir_pool *pool, const qir_conv_plan *c, const float *x,
                       const float *b, float *y);

/* The matrix kernel of conv2d (k_gemm.c): A (m x k, leading dim lda)
 * packed into panels (qir_gemm_panel_rows(m) x k floats); then
 * C = [C +] A x B, each element one fused multiply-add chain over k from 0,
 * added to C when `accumulate`; then, with an epilogue, the row's bias
 * added (when nonzero or with a clamp) and the clamp applied, as
 * k_conv.c's epilogue does it, while the block is in registers. */
typedef struct qir_gemm_epilogue {
  const float *bias; /* per row of C; NULL: none */
  int act;           /* 1: clamp to [lo, hi] */
  float lo, hi;
} qir_gemm_epilogue;
int64_t qir_gemm_panel_rows(int64_t m);
void qir_gemm_pack_a(const float *a, int64_t lda, int64_t m, int64_t k,
                     float *dst);
void qir_gemm_packed(const float *ap, int64_t m, int64_t n, int64_t k,
                     const float *b, int64_t ldb, float *c, int64_t ldc,
                     bool accumulate, const qir_gemm_epilogue *e);
/* The same with row kk of B at b[kk] (rows anywhere in memory). */
void qir_gemm_packed_rows(const float *ap, int64_t m, int64_t n, int64_t k,
                          const float *const *b, float *c, int64_t ldc,
                          bool accumulate, const qir_gemm_epilogue *e);

/* C (m x n) = A (m x k) * B (k x n), row-major with leading dims; one
 * thread (the caller's). */
void qir_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
               const float *a, int64_t lda, const float *b, int64_t ldb,
               float beta, float *c, int64_t ldc);
/* The same, split across the pool's threads (by columns, or by rows when
 * there are few columns). */
void qir_sgemm_parallel(qir_pool *pool, bool ta, bool tb, int64_t m, int64_t n,
                        int64_t k, float alpha, const float *a, int64_t lda,
                        const float *b, int64_t ldb, float beta, float *c,
                        int64_t ldc);

struct qir_pool_params {
  int64_t n, c, h, w, oh, ow;
  int64_t kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  bool count_include_pad;
};

void qir_max_pool2d_f32(qir_pool *pool, const qir_pool_params *p,
                        const float *x, float *y);
void qir_avg_pool2d_f32(qir_pool *pool, const qir_pool_params *p,
                        const float *x, float *y);

/* Resize of the last two dims of an N x C x H x W tensor. */
typedef struct qir_resize_params {
  int64_t nc, h, w, oh, ow;
  int mode;   /* 0 nearest, 1 linear, 2 cubic */
  int coord;  /* QIR_RESIZE_* below */
  int nearest;/* 0 round_prefer_floor, 1 round_prefer_ceil, 2 floor, 3 ceil */
  double cubic_a;
  /* ONNX `scales` of the last two dims when the model gave scales (the
   * coordinate transformation uses them); 0: out / in. */
  double scale_h, scale_w;
} qir_resize_params;
enum {
  QIR_RESIZE_HALF_PIXEL,
  QIR_RESIZE_ASYMMETRIC,
  QIR_RESIZE_ALIGN_CORNERS,
  QIR_RESIZE_PYTORCH_HALF_PIXEL,
  QIR_RESIZE_TF_HALF_PIXEL_FOR_NN
};
void qir_resize2d_f32(qir_pool *pool, const qir_resize_params *p,
                      const float *x, float *y);

/* ---- Kernel entry points, by family (one file each) ----------------------- */

#define QIR_CPU_KERNELS(X)                                                    \
  X(k_constant) X(k_identity) X(k_binary) X(k_compare) X(k_logical)           \
  X(k_where) X(k_unary) X(k_not) X(k_cast) X(k_activation)                    \
  X(k_conv2d) X(k_conv_transpose2d) X(k_matmul) X(k_gemm)                     \
  X(k_batch_norm) X(k_instance_norm) X(k_layer_norm)                          \
  X(k_max_pool2d) X(k_avg_pool2d) X(k_global_avg_pool) X(k_global_max_pool)   \
  X(k_reduce) X(k_softmax) X(k_arg_reduce)                                    \
  X(k_concat) X(k_split) X(k_slice) X(k_reshape) X(k_transpose) X(k_pad)      \
  X(k_resize) X(k_gather) X(k_expand) X(k_tile) X(k_depth_to_space)           \
  X(k_space_to_depth) X(k_shape) X(k_constant_of_shape) X(k_range)            \
  X(k_quantize) X(k_dequantize) X(k_requantize)                               \
  X(kq_conv2d) X(kq_matmul) X(kq_gemm) X(kq_add) X(kq_sub) X(kq_mul)          \
  X(kq_minmax) X(kq_relu) X(kq_clip) X(kq_max_pool2d) X(kq_avg_pool2d)        \
  X(kq_global_avg_pool) X(kq_global_max_pool) X(kq_concat) X(kq_move)

#define X(name) bool qir_cpu_##name(const qir_kargs *k);
QIR_CPU_KERNELS(X)
#undef X

/* conv2d with a plan made once (the interpreter does this for constant
 * weights); the plan comes from the same kernel arguments. */
qir_conv_plan *qir_cpu_conv2d_plan(const qir_kargs *k);
bool qir_cpu_k_conv2d_planned(const qir_kargs *k, const qir_conv_plan *c);

#endif
