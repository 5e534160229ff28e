/* ir/quant.c - the integer quantization arithmetic (qir/quant.h,
 * docs/Quantization.md). */
#include <math.h>

#include "qir/quant.h"

bool qir_multiplier_from_real(double m, qir_multiplier *out) {
  out->multiplier = 0;
  out->shift = 0;
  if (!(m >= 0) || !isfinite(m) || m >= 1073741824.0)
    return false;
  if (m == 0)
    return true;
  int e;
  double f = frexp(m, &e); /* m = f * 2^e, f in [0.5, 1) */
  int64_t q = (int64_t)round(f * 2147483648.0); /* half away from zero */
  if (q == ((int64_t)1 << 31)) {
    q /= 2;
    e++;
  }
  if (e < -62)
    return true; /* below what any accumulator can reach: zero */
  out->multiplier = (int32_t)q;
  out->shift = e;
  return true;
}

double qir_multiplier_to_real(qir_multiplier m) {
  return ldexp((double)m.multiplier, m.shift - 31);
}

int32_t qir_srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN)
    return INT32_MAX;
  int64_t ab = (int64_t)a * (int64_t)b;
  int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : 1 - ((int64_t)1 << 30);
  /* Division truncating toward zero, as in gemmlowp. */
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

int32_t qir_rounding_divide_by_pot(int32_t x, int exponent) {
  if (exponent <= 0)
    return x;
  if (exponent > 31)
    return 0;
  int64_t mask = ((int64_t)1 << exponent) - 1;
  int64_t rem = (int64_t)x & mask;
  int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  /* Arithmetic shift of a negative value: floor division. */
  int64_t q = (int64_t)x >> exponent;
  return (int32_t)(q + (rem > threshold ? 1 : 0));
}

int32_t qir_mul_by_multiplier(int32_t x, qir_multiplier m) {
  if (m.multiplier == 0)
    return 0;
  int left = m.shift > 0 ? m.shift : 0;
  int right = m.shift > 0 ? 0 : -m.shift;
  int64_t shifted = (int64_t)x * ((int64_t)1 << left);
  shifted = qir_saturate(shifted, INT32_MIN, INT32_MAX);
  return qir_rounding_divide_by_pot(qir_srdhm((int32_t)shifted, m.multiplier),
                                    right);
}

int64_t qir_mul_by_multiplier64(int64_t x, qir_multiplier m) {
  if (m.multiplier == 0 || x == 0)
    return 0;
  __int128 p = (__int128)x * m.multiplier;
  int rshift = 31 - m.shift; /* in [1, 93] */
  __int128 mag = p < 0 ? -p : p;
  __int128 half = (__int128)1 << (rshift - 1);
  mag = rshift >= 127 ? 0 : (mag + half) >> rshift;
  __int128 r = p < 0 ? -mag : mag;
  if (r > INT64_MAX)
    return INT64_MAX;
  if (r < INT64_MIN)
    return INT64_MIN;
  return (int64_t)r;
}

int64_t qir_requantize32(int32_t acc, qir_multiplier m, int64_t zp_out,
                         int64_t qmin, int64_t qmax) {
  return qir_saturate((int64_t)qir_mul_by_multiplier(acc, m) + zp_out, qmin,
                      qmax);
}

int64_t qir_requantize64(int64_t acc, qir_multiplier m, int64_t zp_out,
                         int64_t qmin, int64_t qmax) {
  int64_t v = qir_mul_by_multiplier64(acc, m);
  /* Saturate before adding the zero point so the sum cannot overflow. */
  v = qir_saturate(v, INT32_MIN * (int64_t)4, INT32_MAX * (int64_t)4);
  return qir_saturate(v + zp_out, qmin, qmax);
}

int64_t qir_quantize_f64(double x, double scale, int64_t zp, int64_t qmin,
                         int64_t qmax) {
  if (isnan(x))
    return qir_saturate(zp, qmin, qmax);
  double r = nearbyint(x / scale); /* default mode: half to even */
  /* Compare in double first: r may be far outside the int64 range. */
  if (r + (double)zp <= (double)qmin)
    return qmin;
  if (r + (double)zp >= (double)qmax)
    return qmax;
  return qir_saturate((int64_t)r + zp, qmin, qmax);
}

int64_t qir_load_int(qir_scalar s, const void *data, int64_t i) {
  switch (s) {
  case QIR_I1:
  case QIR_U8: return ((const uint8_t *)data)[i];
  case QIR_I8: return ((const int8_t *)data)[i];
  case QIR_I16: return ((const int16_t *)data)[i];
  case QIR_U16: return ((const uint16_t *)data)[i];
  case QIR_I32: return ((const int32_t *)data)[i];
  case QIR_I64: return ((const int64_t *)data)[i];
  default: qir_die("qir_load_int: not an integer scalar (%d)", (int)s);
  }
}

void qir_store_int(qir_scalar s, void *data, int64_t i, int64_t v) {
  switch (s) {
  case QIR_I1: ((uint8_t *)data)[i] = v != 0; break;
  case QIR_U8: ((uint8_t *)data)[i] = (uint8_t)v; break;
  case QIR_I8: ((int8_t *)data)[i] = (int8_t)v; break;
  case QIR_I16: ((int16_t *)data)[i] = (int16_t)v; break;
  case QIR_U16: ((uint16_t *)data)[i] = (uint16_t)v; break;
  case QIR_I32: ((int32_t *)data)[i] = (int32_t)v; break;
  case QIR_I64: ((int64_t *)data)[i] = v; break;
  default: qir_die("qir_store_int: not an integer scalar (%d)", (int)s);
  }
}
