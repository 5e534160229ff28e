/* tests/unit/onnx_test.h - helpers of the ONNX frontend unit tests: small
 * ModelProtos built with the generated protobuf-c structs, and a
 * diagnostics handler that records messages. */
#ifndef QIR_TESTS_UNIT_ONNX_TEST_H
#define QIR_TESTS_UNIT_ONNX_TEST_H

#include "frontends/onnx/onnx.pb-c.h"
#include "qir/onnx.h"
#include "unit.h"

Suite *onnx_import_suite(void);
Suite *onnx_export_suite(void);
Suite *onnx_qdq_suite(void);

/* A model under construction; everything it holds is freed by
 * test_model_free. */
typedef struct test_model {
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__OperatorSetIdProto opset;
  Onnx__OperatorSetIdProto *opsets[1];
  void *allocs[256];
  unsigned nallocs;
} test_model;

void test_model_init(test_model *m, int64_t opset);
/* Adds a float graph input/output of the given dims (-1: dynamic). */
void test_model_input(test_model *m, const char *name, unsigned rank,
                      const int64_t *dims);
void test_model_output(test_model *m, const char *name);
Onnx__NodeProto *test_model_node(test_model *m, const char *type,
                                 const char *name, const char *in0,
                                 const char *in1, const char *out);
void test_model_int_attr(test_model *m, Onnx__NodeProto *n, const char *name,
                         int64_t v);
/* A float initializer stored in float_data (not raw_data). */
void test_model_float_init(test_model *m, const char *name, unsigned n,
                           const float *v);
/* The serialized model (malloc'd). */
void *test_model_pack(test_model *m, size_t *len);
void test_model_free(test_model *m);

/* Records diagnostics into a buffer instead of printing them. */
typedef struct diag_log {
  char text[4096];
  size_t len;
} diag_log;
void diag_log_install(qir_context *ctx, diag_log *log);

#endif
