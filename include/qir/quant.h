/* qir/quant.h - the integer quantization arithmetic, defined once.
 *
 * Every component that computes on quantized values (the reference
 * interpreter, the quantize pass, the NPU emulator, constant folding) uses
 * these functions, so that they agree bit for bit.  docs/Quantization.md is
 * the prose version of this header.
 *
 *   real = scale * (q - zero_point)
 *   quantize(x) = saturate(round_half_to_even(x / scale) + zero_point)
 *
 * A real multiplier m > 0 (e.g. s_in * s_w / s_out) is represented as a
 * Q31 integer multiplier M in [2^30, 2^31) and a power-of-two exponent e:
 *
 *   m ~= M * 2^(e - 31)
 *
 * and an int32 accumulator x is rescaled (gemmlowp / TFLite style) as
 *
 *   qir_mul_by_multiplier(x, M, e) =
 *     rounding_divide_by_pot(srdhm(x << max(e, 0), M), max(-e, 0))
 *
 * where srdhm is gemmlowp's saturating rounding doubling high multiply
 * (round to nearest, ties toward +infinity: its nudge for a negative
 * product is 1 - 2^30 and the division truncates) and the divide by a
 * power of two rounds to nearest, ties away from zero.  The two roundings
 * are kept exactly as gemmlowp and TFLite do them, so results match those
 * runtimes and the NPUs that copy them bit for bit.  The 64-bit variant
 * (int16 x int16 accumulators) rounds once, to nearest, ties away from
 * zero. */
#ifndef QIR_QUANT_H
#define QIR_QUANT_H

#include "qir/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An integer multiplier: real ~= multiplier * 2^(shift - 31).
 * multiplier == 0 represents 0 (and anything below 2^-62). */
typedef struct qir_multiplier {
  int32_t multiplier; /* Q31, in [2^30, 2^31) or 0 */
  int shift;          /* > 0: left shift, < 0: right shift; in [-62, 30] */
} qir_multiplier;

/* Decomposes a real multiplier (finite, >= 0, below 2^30) as above:
 * frexp gives m = f * 2^e with f in [0.5, 1); M = round_half_away(f * 2^31)
 * (when that reaches 2^31, M = 2^30 and e + 1).  Exponents below -62 give
 * the zero multiplier.  Returns false for a negative, NaN or too large m. */
bool qir_multiplier_from_real(double m, qir_multiplier *out);
/* The real number a multiplier represents (for tests and reports). */
double qir_multiplier_to_real(qir_multiplier m);

/* The high 32 bits of 2 * a * b, rounded to nearest, ties toward +inf;
 * the one overflowing case a == b == INT32_MIN saturates to INT32_MAX. */
int32_t qir_srdhm(int32_t a, int32_t b);
/* x / 2^exponent rounded half away from zero, exponent in [0, 31]. */
int32_t qir_rounding_divide_by_pot(int32_t x, int exponent);
/* Rescales an int32 accumulator by the multiplier.  A left shift
 * saturates to the int32 range before the multiply. */
int32_t qir_mul_by_multiplier(int32_t x, qir_multiplier m);
/* Rescales an int64 accumulator: round_half_away(x * M / 2^(31 - shift)),
 * saturated to the int64 range. */
int64_t qir_mul_by_multiplier64(int64_t x, qir_multiplier m);

/* Clamps to [lo, hi]. */
static inline int64_t qir_saturate(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/* The requantization of an accumulator: mul_by_multiplier, + zp_out, then
 * saturate to [qmin, qmax]. */
int64_t qir_requantize32(int32_t acc, qir_multiplier m, int64_t zp_out,
                         int64_t qmin, int64_t qmax);
int64_t qir_requantize64(int64_t acc, qir_multiplier m, int64_t zp_out,
                         int64_t qmin, int64_t qmax);

/* quantize(x) = saturate(round_half_to_even(x / scale) + zp); computed in
 * double.  NaN quantizes to zp; +-inf saturate. */
int64_t qir_quantize_f64(double x, double scale, int64_t zp, int64_t qmin,
                         int64_t qmax);
/* scale * (q - zp) in double (callers round to f32 once). */
static inline double qir_dequantize_f64(int64_t q, double scale, int64_t zp) {
  return scale * (double)(q - zp);
}

/* Parameters of channel c of a quantized element type (per-tensor types
 * answer for any c). */
static inline double qir_quant_scale(const qir_type *q, int64_t c) {
  return q->axis < 0 ? q->scales[0] : q->scales[c];
}
static inline int64_t qir_quant_zp(const qir_type *q, int64_t c) {
  if (!q->zero_points)
    return 0;
  return q->axis < 0 ? q->zero_points[0] : q->zero_points[c];
}

/* True when two quantized element types give their integers the same
 * real values: the same type, or both per tensor with the same scale and
 * zero point (the storage types may differ). */
static inline bool qir_quant_same_params(const qir_type *a, const qir_type *b) {
  if (a == b)
    return true;
  if (a->axis >= 0 || b->axis >= 0 || a->scales[0] != b->scales[0])
    return false;
  return qir_quant_zp(a, 0) == qir_quant_zp(b, 0);
}

/* Reads / writes element i of an integer storage buffer as int64. */
int64_t qir_load_int(qir_scalar s, const void *data, int64_t i);
void qir_store_int(qir_scalar s, void *data, int64_t i, int64_t v);

#ifdef __cplusplus
}
#endif
#endif
