/* backends/cpu/util.c - tensors, scalar conversions and the thread pool of
 * the CPU kernels. */
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "backends/cpu/cpu.h"
#include "config.h"

/* ---- Tensors ------------------------------------------------------------ */

int64_t qir_tensor_numel(const qir_tensor *t) {
  int64_t n = 1;
  for (unsigned i = 0; i < t->rank; i++)
    n *= t->dims[i];
  return n;
}

int64_t qk_numel(const qir_tensor *t) { return qir_tensor_numel(t); }

void qir_tensor_init_from_type(qir_tensor *t, const qir_type *type) {
  memset(t, 0, sizeof *t);
  QIR_ASSERT(qir_type_is_tensor(type));
  t->elem = type->elem;
  t->scalar = type->scalar;
  t->rank = type->rank;
  for (unsigned i = 0; i < type->rank; i++)
    t->dims[i] = type->dims[i] < 0 ? 0 : type->dims[i];
}

bool qir_tensor_alloc(qir_tensor *t) {
  int64_t n = 1;
  for (unsigned i = 0; i < t->rank; i++) {
    if (t->dims[i] < 0 || (t->dims[i] && n > (INT64_MAX / 8) / t->dims[i]))
      return false;
    n *= t->dims[i];
  }
  t->nbytes = (size_t)n * qir_scalar_size(t->scalar);
  t->data = qir_xcalloc(1, t->nbytes ? t->nbytes : 1);
  return true;
}

void qir_tensor_free_data(qir_tensor *t) {
  free(t->data);
  t->data = NULL;
  t->nbytes = 0;
}

bool qir_tensor_matches_type(const qir_tensor *t, const qir_type *type) {
  if (!qir_type_is_tensor(type) || t->rank != type->rank)
    return false;
  if (t->scalar != type->scalar)
    return false;
  for (unsigned i = 0; i < t->rank; i++)
    if (type->dims[i] != QIR_DYN && type->dims[i] != t->dims[i])
      return false;
  return true;
}

void qir_tensor_format_shape(const qir_tensor *t, char *buf, size_t size) {
  size_t n = 0;
  buf[0] = 0;
  for (unsigned i = 0; i < t->rank && n < size; i++)
    n += (size_t)snprintf(buf + n, size - n, "%lldx", (long long)t->dims[i]);
  if (n >= size)
    return;
  if (t->elem && t->elem->kind == QIR_TYPE_QUANT)
    qir_type_format(t->elem, buf + n, size - n);
  else
    snprintf(buf + n, size - n, "%s", qir_scalar_name(t->scalar));
}

/* ---- Scalars --------------------------------------------------------------- */

float qir_cpu_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, u;
  if (exp == 0x1f) {
    u = sign | 0x7f800000u | (mant << 13);
  } else if (exp) {
    u = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant) { /* subnormal: normalize */
    int e = -1;
    do {
      mant <<= 1;
      e++;
    } while (!(mant & 0x400));
    u = sign | ((uint32_t)(112 - e) << 23) | ((mant & 0x3ff) << 13);
  } else {
    u = sign;
  }
  float f;
  memcpy(&f, &u, 4);
  return f;
}

uint16_t qir_cpu_f32_to_f16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
  uint32_t exp = (u >> 23) & 0xff, mant = u & 0x7fffff;
  if (exp == 0xff)
    return sign | 0x7c00 | (mant ? 0x200 : 0);
  int e = (int)exp - 127 + 15;
  if (e >= 0x1f)
    return sign | 0x7c00;
  if (e <= 0) { /* subnormal or zero, round half to even */
    if (e < -10)
      return sign;
    mant |= 0x800000;
    int shift = 14 - e;
    uint32_t half = 1u << (shift - 1), rest = mant & ((1u << shift) - 1);
    uint32_t v = mant >> shift;
    if (rest > half || (rest == half && (v & 1)))
      v++;
    return sign | (uint16_t)v;
  }
  uint32_t v = ((uint32_t)e << 10) | (mant >> 13), rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (v & 1)))
    v++; /* may carry into the exponent, up to infinity: correct */
  return sign | (uint16_t)v;
}

float qir_cpu_bf16_to_f32(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

uint16_t qir_cpu_f32_to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffff) > 0x7f800000)
    return (uint16_t)((u >> 16) | 0x40);
  u += 0x7fff + ((u >> 16) & 1);
  return (uint16_t)(u >> 16);
}

double qir_load_f64(qir_scalar s, const void *data, int64_t i) {
  switch (s) {
  case QIR_F64: return ((const double *)data)[i];
  case QIR_F32: return ((const float *)data)[i];
  case QIR_F16: return qir_cpu_f16_to_f32(((const uint16_t *)data)[i]);
  case QIR_BF16: return qir_cpu_bf16_to_f32(((const uint16_t *)data)[i]);
  default: return (double)qir_load_int(s, data, i);
  }
}

static int64_t f64_to_int_sat(double v, qir_scalar to) {
  if (isnan(v))
    return 0;
  double lo = (double)qir_scalar_min(to), hi = (double)qir_scalar_max(to);
  if (v <= lo)
    return qir_scalar_min(to);
  if (v >= hi)
    return qir_scalar_max(to);
  return (int64_t)v; /* truncates toward zero */
}

static void store_f64(qir_scalar s, void *data, int64_t i, double v) {
  switch (s) {
  case QIR_F64: ((double *)data)[i] = v; break;
  case QIR_F32: ((float *)data)[i] = (float)v; break;
  case QIR_F16: ((uint16_t *)data)[i] = qir_cpu_f32_to_f16((float)v); break;
  case QIR_BF16: ((uint16_t *)data)[i] = qir_cpu_f32_to_bf16((float)v); break;
  case QIR_I1: ((uint8_t *)data)[i] = v != 0; break;
  default: qir_store_int(s, data, i, f64_to_int_sat(v, s)); break;
  }
}

void qir_convert(qir_scalar from, const void *src, qir_scalar to, void *dst,
                 int64_t n) {
  if (from == to) {
    memmove(dst, src, (size_t)n * qir_scalar_size(from));
    return;
  }
  if (from == QIR_F32 && to == QIR_F16) {
    for (int64_t i = 0; i < n; i++)
      ((uint16_t *)dst)[i] = qir_cpu_f32_to_f16(((const float *)src)[i]);
    return;
  }
  bool fi = qir_scalar_is_float(from), ti = qir_scalar_is_float(to);
  if (!fi && !ti) {
    /* Integer to integer: wraps as a C cast would; i1 is != 0. */
    for (int64_t i = 0; i < n; i++)
      qir_store_int(to, dst, i, qir_load_int(from, src, i));
    return;
  }
  for (int64_t i = 0; i < n; i++)
    store_f64(to, dst, i, qir_load_f64(from, src, i));
}

/* ---- Thread pool -----------------------------------------------------------
 * A job is split into chunks that the caller and the workers take from a
 * shared counter, so a worker the system has not scheduled yet delays
 * nothing: the others take its chunks (the machine may be busy with other
 * processes).  Workers wait for a job by spinning a little (the kernels of
 * one run follow each other within microseconds; a sleep and a wake-up
 * cost more), then sleep on a condition variable.
 *
 * Publishing a job: the caller makes the generation odd, waits until no
 * worker is inside the previous job, writes the job and makes the
 * generation even.  A worker marks itself active, then reads the
 * generation: an odd or already seen one means nothing to do. */

/* Spins of a waiting thread before it sleeps (a pause is ~40-140 cycles). */
#define POOL_SPINS 4000
/* Chunks per thread: small enough to balance, large enough to amortize. */
#define POOL_CHUNKS_PER_THREAD 4

struct qir_pool {
  unsigned threads;
  pthread_t *tids;
  pthread_mutex_t mu;
  pthread_cond_t work;
  unsigned sleeping; /* workers in cond_wait (under mu) */
  _Atomic uint64_t generation;
  _Atomic unsigned active;
  _Atomic bool stop;
  /* The current job. */
  qir_range_fn fn;
  void *arg;
  int64_t n, chunks;
  _Atomic int64_t next, done;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Takes chunks of the current job until none is left. */
static void run_chunks(qir_pool *p) {
  int64_t c;
  while ((c = atomic_fetch_add(&p->next, 1)) < p->chunks) {
    int64_t begin = p->n * c / p->chunks, end = p->n * (c + 1) / p->chunks;
    if (begin < end)
      p->fn(p->arg, begin, end);
    atomic_fetch_add(&p->done, 1);
  }
}

/* Waits until the generation differs from `seen` (or the pool stops). */
static void pool_wait_job(qir_pool *p, uint64_t seen) {
  for (unsigned i = 0; i < POOL_SPINS; i++) {
    if (atomic_load_explicit(&p->generation, memory_order_relaxed) != seen)
      return;
    cpu_relax();
  }
  pthread_mutex_lock(&p->mu);
  while (!atomic_load(&p->stop) && atomic_load(&p->generation) == seen) {
    p->sleeping++;
    pthread_cond_wait(&p->work, &p->mu);
    p->sleeping--;
  }
  pthread_mutex_unlock(&p->mu);
}

static void *pool_main(void *arg) {
  qir_pool *p = arg;
  uint64_t seen = 0;
  while (!atomic_load(&p->stop)) {
    pool_wait_job(p, seen);
    atomic_fetch_add(&p->active, 1);
    uint64_t g = atomic_load(&p->generation);
    if (!(g & 1) && g != seen) {
      seen = g;
      run_chunks(p);
    }
    atomic_fetch_sub(&p->active, 1);
    if (g & 1)
      cpu_relax(); /* a job is being published */
  }
  return NULL;
}

unsigned qir_num_cores(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (unsigned)n : 1;
}

qir_pool *qir_pool_create(unsigned threads) {
  qir_pool *p = qir_xcalloc(1, sizeof *p);
  p->threads = threads ? threads : qir_num_cores();
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work, NULL);
  p->tids = qir_xcalloc(p->threads, sizeof *p->tids);
  /* A system out of threads (many pools alive, a busy machine) gets a pool
   * with the workers that could be started: slower, never a failure. */
  for (unsigned i = 1; i < p->threads; i++)
    if (pthread_create(&p->tids[i], NULL, pool_main, p)) {
      p->threads = i;
      break;
    }
  return p;
}

void qir_pool_destroy(qir_pool *p) {
  if (!p)
    return;
  pthread_mutex_lock(&p->mu);
  atomic_store(&p->stop, true);
  atomic_fetch_add(&p->generation, 2);
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  for (unsigned i = 1; i < p->threads; i++)
    pthread_join(p->tids[i], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->work);
  free(p->tids);
  free(p);
}

unsigned qir_pool_threads(const qir_pool *p) { return p ? p->threads : 1; }

void qir_parallel_for(qir_pool *p, int64_t n, int64_t grain, qir_range_fn fn,
                      void *arg) {
  if (n <= 0)
    return;
  if (grain < 1)
    grain = 1;
  int64_t chunks = n / grain;
  if (!p || p->threads == 1 || chunks < 2) {
    fn(arg, 0, n);
    return;
  }
  if (chunks > (int64_t)p->threads * POOL_CHUNKS_PER_THREAD)
    chunks = (int64_t)p->threads * POOL_CHUNKS_PER_THREAD;
  atomic_fetch_add(&p->generation, 1); /* odd: publishing */
  while (atomic_load(&p->active))
    cpu_relax();
  p->fn = fn;
  p->arg = arg;
  p->n = n;
  p->chunks = chunks;
  atomic_store(&p->next, 0);
  atomic_store(&p->done, 0);
  atomic_fetch_add(&p->generation, 1); /* even: published */
  pthread_mutex_lock(&p->mu);
  if (p->sleeping)
    pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  run_chunks(p);
  /* Chunks taken by workers are running: wait for them. */
  for (unsigned i = 0; atomic_load(&p->done) < chunks; i++) {
    if (i < POOL_SPINS)
      cpu_relax();
    else
      sched_yield();
  }
}

/* ---- BLAS ----------------------------------------------------------------
 * OpenBLAS is loaded on the first matrix product, not when libqir loads: its
 * thread pool would otherwise start (and spin) in every tool, also in those
 * that never run a kernel, such as qir-opt parsing and printing.  It runs
 * single-threaded: the kernels split their work across the interpreter's
 * own pool, so two pools never compete for the cores. */

typedef void (*sgemm_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE,
                         const enum CBLAS_TRANSPOSE, const blasint,
                         const blasint, const blasint, const float,
                         const float *, const blasint, const float *,
                         const blasint, const float, float *, const blasint);
typedef void (*set_threads_fn)(int);

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static sgemm_fn blas_sgemm;

static void blas_load(void) {
  void *h = dlopen(QIR_OPENBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
  set_threads_fn set_threads = NULL;
  if (h) {
    blas_sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
    set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
  }
  if (!blas_sgemm)
    fprintf(stderr,
            "qir: warning: cannot load %s (%s); matrix products use the "
            "slow built-in kernel\n",
            QIR_OPENBLAS_SONAME, h ? "no cblas_sgemm" : dlerror());
  if (set_threads)
    set_threads(1);
}

/* c = alpha * op(a) x op(b) + beta * c, row-major, without BLAS. */
static void sgemm_builtin(bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                          float alpha, const float *a, int64_t lda,
                          const float *b, int64_t ldb, float beta, float *c,
                          int64_t ldc) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      float acc = 0;
      for (int64_t p = 0; p < k; p++)
        acc += (ta ? a[p * lda + i] : a[i * lda + p]) *
               (tb ? b[j * ldb + p] : b[p * ldb + j]);
      c[i * ldc + j] = alpha * acc + (beta == 0 ? 0 : beta * c[i * ldc + j]);
    }
}

void qir_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
               const float *a, int64_t lda, const float *b, int64_t ldb,
               float beta, float *c, int64_t ldc) {
  if (m <= 0 || n <= 0)
    return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++)
        c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
    return;
  }
  pthread_once(&blas_once, blas_load);
  if (!blas_sgemm) {
    sgemm_builtin(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  blas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
              tb ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n,
              (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c,
              (blasint)ldc);
}

typedef struct sgemm_job {
  bool ta, tb, by_rows;
  int64_t m, n, k;
  float alpha, beta;
  const float *a, *b;
  float *c;
  int64_t lda, ldb, ldc;
} sgemm_job;

static void sgemm_range(void *arg, int64_t begin, int64_t end) {
  const sgemm_job *j = arg;
  if (j->by_rows) {
    const float *a = j->ta ? j->a + begin : j->a + begin * j->lda;
    qir_sgemm(j->ta, j->tb, end - begin, j->n, j->k, j->alpha, a, j->lda,
              j->b, j->ldb, j->beta, j->c + begin * j->ldc, j->ldc);
  } else {
    const float *b = j->tb ? j->b + begin * j->ldb : j->b + begin;
    qir_sgemm(j->ta, j->tb, j->m, end - begin, j->k, j->alpha, j->a, j->lda,
              b, j->ldb, j->beta, j->c + begin, j->ldc);
  }
}

void qir_sgemm_parallel(qir_pool *pool, bool ta, bool tb, int64_t m, int64_t n,
                        int64_t k, float alpha, const float *a, int64_t lda,
                        const float *b, int64_t ldb, float beta, float *c,
                        int64_t ldc) {
  sgemm_job j = {ta, tb, n < 64 && m > n, m, n, k, alpha, beta, a, b, c,
                 lda, ldb, ldc};
  int64_t span = j.by_rows ? m : n, other = j.by_rows ? n : m;
  /* At least ~64K multiply-adds per thread, and 16 columns/rows. */
  int64_t grain = (1 << 16) / (other * (k ? k : 1) + 1);
  qir_parallel_for(pool, span, grain < 16 ? 16 : grain, sgemm_range, &j);
}
