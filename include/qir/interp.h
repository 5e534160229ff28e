/* qir/interp.h - the reference interpreter: runs a qir function on tensors.
 *
 * The interpreter defines what every op means, in float and in the integer
 * semantics of quantized types (docs/Quantization.md).  Typical use:
 *
 *   qir_interp *it = qir_interp_create(func, NULL);
 *   qir_interp_set_input(it, 0, &x);
 *   if (qir_interp_run(it))
 *     use(qir_interp_output(it, 0));
 *   qir_interp_destroy(it);
 *
 * Errors (a shape mismatch, an op without a kernel) are emitted through the
 * function's context and the call returns false.  An interpreter reads the
 * IR and never changes it; several interpreters may run the same function
 * from different threads. */
#ifndef QIR_INTERP_H
#define QIR_INTERP_H

#include "qir/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A dense row-major tensor.  `elem` is the element type (a scalar or a
 * quantized type: data then holds the integer storage); `scalar` is the
 * storage scalar.  i1 uses one byte per element. */
typedef struct qir_tensor {
  const qir_type *elem;
  qir_scalar scalar;
  unsigned rank;
  int64_t dims[QIR_MAX_RANK];
  void *data;
  size_t nbytes; /* num elements x scalar size */
} qir_tensor;

int64_t qir_tensor_numel(const qir_tensor *t);
/* Fills shape and element fields from a static tensor type (data NULL). */
void qir_tensor_init_from_type(qir_tensor *t, const qir_type *type);
/* Allocates zeroed data for t's shape (malloc'd; free with
 * qir_tensor_free_data).  False when the size overflows. */
bool qir_tensor_alloc(qir_tensor *t);
void qir_tensor_free_data(qir_tensor *t);
/* True when t's shape matches `type`'s (dynamic dims match anything) and
 * its element type is the type's. */
bool qir_tensor_matches_type(const qir_tensor *t, const qir_type *type);
/* "1x3x224x224xf32"-style text of the shape, for messages. */
void qir_tensor_format_shape(const qir_tensor *t, char *buf, size_t size);

/* Called after each op with each of its results (dumping intermediates,
 * calibration observers, precision analysis).  The tensor is only valid
 * during the call. */
typedef void (*qir_interp_observer)(const qir_op *op, unsigned result,
                                    const qir_tensor *t, void *user);

typedef struct qir_interp_options {
  unsigned threads;             /* 0: all cores */
  qir_interp_observer observer; /* NULL: none */
  void *observer_user;
} qir_interp_options;

void qir_interp_options_init(qir_interp_options *o);

typedef struct qir_interp qir_interp;

/* Prepares `f` for execution: checks that every op has a kernel, plans the
 * activation memory.  NULL after an error. */
qir_interp *qir_interp_create(qir_func *f, const qir_interp_options *o);
void qir_interp_destroy(qir_interp *it);

unsigned qir_interp_num_inputs(const qir_interp *it);
unsigned qir_interp_num_outputs(const qir_interp *it);
/* The input's value (name and type); -1 from find when no input has that
 * name. */
const qir_value *qir_interp_input(const qir_interp *it, unsigned i);
int qir_interp_find_input(const qir_interp *it, const char *name);
/* A name for output i: the returned value's name, else "output<i>". */
const char *qir_interp_output_name(const qir_interp *it, unsigned i);

/* Copies `t` into input i.  Emits an error and returns false when the
 * element type or the shape does not match the input's type. */
bool qir_interp_set_input(qir_interp *it, unsigned i, const qir_tensor *t);
/* Runs the function on the inputs set so far (all must be set). */
bool qir_interp_run(qir_interp *it);
/* Result i of the last run; valid until the next run or destroy. */
const qir_tensor *qir_interp_output(const qir_interp *it, unsigned i);

void qir_interp_set_observer(qir_interp *it, qir_interp_observer fn,
                             void *user);
void qir_interp_set_threads(qir_interp *it, unsigned threads);

typedef struct qir_interp_stats {
  size_t peak_activation_bytes; /* planned arena for intermediates */
  size_t naive_activation_bytes; /* sum of all intermediates (no reuse) */
  size_t constant_bytes;
  unsigned num_ops;
  unsigned num_buffers;
} qir_interp_stats;

void qir_interp_get_stats(const qir_interp *it, qir_interp_stats *s);

/* Per-op-kind timing: when enabled, each run adds the wall time of every
 * op to its kind's total; print prints the kinds by total time. */
void qir_interp_enable_profile(qir_interp *it, bool on);
void qir_interp_print_profile(const qir_interp *it, FILE *out);

/* True when op `id` (a QIR_OP_*) has an interpreter kernel. */
bool qir_interp_supports_op(unsigned id);

/* The qir-run command line (tools/qir-run); returns the exit status. */
int qir_run_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
