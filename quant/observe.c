/* quant/observe.c - tensor statistics (min/max, histograms) and the
 * choice of a quantization range from them: minmax, percentile, mse, kl. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant/quant.h"

static const char *const method_names[] = {"minmax", "percentile", "mse",
                                           "kl", "auto"};

bool qq_method_from_name(const char *s, qq_method *out) {
  for (unsigned i = 0; i < sizeof method_names / sizeof *method_names; i++)
    if (!strcmp(s, method_names[i])) {
      *out = (qq_method)i;
      return true;
    }
  return false;
}

const char *qq_method_name(qq_method m) { return method_names[m]; }

void qq_stats_init(qq_stats *s) {
  memset(s, 0, sizeof *s);
  s->lo = INFINITY;
  s->hi = -INFINITY;
}

void qq_stats_free(qq_stats *s) {
  free(s->counts);
  s->counts = NULL;
}

void qq_stats_add_minmax(qq_stats *s, const float *x, int64_t n) {
  float lo = (float)s->lo, hi = (float)s->hi;
  if (s->lo > s->hi) {
    lo = INFINITY;
    hi = -INFINITY;
  }
  for (int64_t i = 0; i < n; i++) {
    float v = x[i];
    if (!isfinite(v)) {
      s->nonfinite = true;
      continue;
    }
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  if (lo <= hi) {
    s->lo = s->lo < lo ? s->lo : lo;
    s->hi = s->hi > hi ? s->hi : hi;
  }
}

void qq_stats_start_histogram(qq_stats *s, unsigned nbins) {
  QIR_ASSERT(nbins > 0);
  free(s->counts);
  s->nbins = nbins;
  s->counts = qir_xcalloc(2 * (size_t)nbins, sizeof *s->counts);
  double a = s->lo > s->hi ? 0.0 : fmax(fabs(s->lo), fabs(s->hi));
  s->absmax = a > 0 ? a : 1.0;
}

void qq_stats_add_histogram(qq_stats *s, const float *x, int64_t n) {
  double scale = s->nbins / s->absmax;
  int64_t last = 2 * (int64_t)s->nbins - 1;
  for (int64_t i = 0; i < n; i++) {
    float v = x[i];
    if (!isfinite(v))
      continue;
    int64_t b = (int64_t)floor((v + s->absmax) * scale);
    s->counts[b < 0 ? 0 : b > last ? last : b] += 1;
  }
}

/* ---- Range choice ----------------------------------------------------------- */

static double total_count(const qq_stats *s) {
  double t = 0;
  for (unsigned i = 0; i < 2 * s->nbins; i++)
    t += s->counts[i];
  return t;
}

static double bin_width(const qq_stats *s) { return s->absmax / s->nbins; }
/* The value at the lower edge of bin i. */
static double bin_edge(const qq_stats *s, unsigned i) {
  return -s->absmax + i * bin_width(s);
}

/* Clips both tails: the lower edge of the bin where the cumulative count
 * reaches (100 - p)% and the upper edge of the one where it reaches p%. */
static void range_percentile(const qq_stats *s, double p, double *lo,
                             double *hi) {
  double total = total_count(s), tail = total * (100.0 - p) / 100.0;
  unsigned n = 2 * s->nbins, a = 0, b = n - 1;
  double acc = 0;
  for (a = 0; a < n; a++) {
    if (acc + s->counts[a] > tail)
      break;
    acc += s->counts[a];
  }
  acc = 0;
  for (b = n - 1; b > a; b--) {
    if (acc + s->counts[b] > tail)
      break;
    acc += s->counts[b];
  }
  *lo = fmax(bin_edge(s, a), s->lo);
  *hi = fmin(bin_edge(s, b + 1), s->hi);
}

/* Expected squared error of quantizing the histogram to [lo, hi] with
 * `levels` steps: rounding (step^2 / 12 per element inside) plus clipping
 * (squared distance to the range of the bin centers outside). */
static double quant_error(const qq_stats *s, double lo, double hi,
                          unsigned levels) {
  double step = (hi - lo) / levels, round_err = step * step / 12.0;
  double w = bin_width(s), err = 0;
  for (unsigned i = 0; i < 2 * s->nbins; i++) {
    double c = s->counts[i];
    if (c == 0)
      continue;
    double x = bin_edge(s, i) + 0.5 * w;
    if (x < lo)
      err += c * (lo - x) * (lo - x);
    else if (x > hi)
      err += c * (x - hi) * (x - hi);
    else
      err += c * round_err;
  }
  return err;
}

/* Shrinks the observed range by a common factor, then each end alone,
 * keeping the candidate of least expected error. */
static void range_mse(const qq_stats *s, unsigned levels, double *lo,
                      double *hi) {
  double best_lo = fmin(s->lo, 0), best_hi = fmax(s->hi, 0);
  double best = quant_error(s, best_lo, best_hi, levels);
  double lo0 = best_lo, hi0 = best_hi;
  for (int k = 1; k <= 200; k++) {
    double f = 1.0 - k / 200.0 * 0.95;
    double e = quant_error(s, lo0 * f, hi0 * f, levels);
    if (e < best) {
      best = e;
      best_lo = lo0 * f;
      best_hi = hi0 * f;
    }
  }
  double l = best_lo, h = best_hi;
  for (int k = 1; k <= 100; k++) {
    double f = 1.0 - k / 100.0 * 0.5;
    double e = quant_error(s, l * f, h, levels);
    if (e < best) {
      best = e;
      best_lo = l * f;
      best_hi = h;
    }
    e = quant_error(s, l, h * f, levels);
    if (e < best) {
      best = e;
      best_lo = l;
      best_hi = h * f;
    }
  }
  *lo = best_lo;
  *hi = best_hi;
}

/* KL(p || q) of two unnormalized distributions over n bins (bins where p
 * is 0 contribute nothing; q is 0 only where p is, by construction). */
static double kl_divergence(const double *p, const double *q, unsigned n) {
  double sp = 0, sq = 0;
  for (unsigned i = 0; i < n; i++) {
    sp += p[i];
    sq += q[i];
  }
  if (sp <= 0 || sq <= 0)
    return INFINITY;
  double d = 0;
  for (unsigned i = 0; i < n; i++)
    if (p[i] > 0)
      d += p[i] / sp * log((p[i] / sp) / (q[i] / sq));
  return d;
}

/* q: p merged into `levels` groups, each group's mass spread evenly over
 * its nonzero bins (TensorRT's expansion). */
static void expand_quantized(const double *p, unsigned n, unsigned levels,
                             double *q) {
  double per = (double)n / levels;
  for (unsigned j = 0; j < levels; j++) {
    unsigned a = (unsigned)floor(j * per), b = (unsigned)floor((j + 1) * per);
    if (j == levels - 1)
      b = n;
    double sum = 0;
    unsigned nz = 0;
    for (unsigned i = a; i < b; i++) {
      sum += p[i];
      nz += p[i] > 0;
    }
    for (unsigned i = a; i < b; i++)
      q[i] = p[i] > 0 ? sum / nz : 0;
  }
}

/* TensorRT's entropy calibration on the histogram of |x|: the threshold
 * t (a bin edge) whose clipped, `levels`-step quantized distribution is
 * closest to the original one in KL divergence. */
static double threshold_kl(const qq_stats *s, unsigned levels) {
  unsigned n = s->nbins;
  double *abs_hist = qir_xcalloc(n, sizeof *abs_hist);
  for (unsigned i = 0; i < n; i++)
    abs_hist[i] = s->counts[n + i] + s->counts[n - 1 - i];
  /* The spike of exact zeros (after relu, padding) says nothing about
   * the range and would dominate the divergence: leave it out. */
  abs_hist[0] = 0;
  double *p = qir_xmalloc(n * sizeof *p), *q = qir_xmalloc(n * sizeof *q);
  double best = INFINITY;
  unsigned best_i = n;
  for (unsigned i = levels < n ? levels : n; i <= n; i++) {
    memcpy(p, abs_hist, i * sizeof *p);
    for (unsigned j = i; j < n; j++)
      p[i - 1] += abs_hist[j];
    expand_quantized(abs_hist, i, levels < i ? levels : i, q);
    double d = kl_divergence(p, q, i);
    if (d < best) {
      best = d;
      best_i = i;
    }
  }
  free(abs_hist);
  free(p);
  free(q);
  return best_i * bin_width(s);
}

void qq_choose_range(const qq_stats *s, qq_method m, double percentile,
                     unsigned levels, double *lo, double *hi) {
  if (s->lo > s->hi) {
    *lo = *hi = 0;
    return;
  }
  *lo = s->lo;
  *hi = s->hi;
  if (m != QQ_MINMAX && s->counts && total_count(s) > 0) {
    if (m == QQ_PERCENTILE) {
      range_percentile(s, percentile, lo, hi);
    } else if (m == QQ_MSE) {
      range_mse(s, levels, lo, hi);
    } else {
      /* A one-sided tensor uses all levels on its side. */
      bool one_sided = s->lo >= 0 || s->hi <= 0;
      double t = threshold_kl(s, one_sided ? levels : levels / 2);
      *lo = fmax(*lo, -t);
      *hi = fmin(*hi, t);
    }
  }
  *lo = fmin(*lo, 0);
  *hi = fmax(*hi, 0);
}
