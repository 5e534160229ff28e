/* driver/config-schema.c - every key of a build configuration: its type,
 * default and allowed values.  docs/qir-build.md documents each one (a
 * unit test checks that every key is there). */
#include "driver/build-internal.h"

static const char *const data_formats[] = {"Auto", "Image", "Numpy",
                                           "Binary", NULL};
static const char *const channel_orders[] = {"RGB", "BGR", "GRAY", NULL};
static const char *const layouts[] = {"NCHW", "NHWC", NULL};
static const char *const methods[] = {"Auto", "MinMax", "Percentile", "MSE",
                                      "KL", NULL};
static const char *const analysis_modes[] = {"EndToEnd", "PerLayer", NULL};
static const char *const model_types[] = {"Auto", "ONNX", "QuantONNX", "QIR",
                                          NULL};
static const char *const npu_modes[] = {"NPU1", "NPU2", "NPU3", NULL};
static const char *const check_levels[] = {"none", "close", "equal",
                                           "cosine", NULL};
static const char *const tensor_formats[] = {"RGB", "BGR", "GRAY", "NV12",
                                             "YUV420SP", "YUV444", NULL};
static const char *const src_dtypes[] = {"U8", "FP32", NULL};
static const char *const csc_modes[] = {"BT601_FULL", "BT601_LIMITED",
                                        NULL};

static const cfg_key number = {"[]", CFG_NUMBER, NULL, NULL, NULL, NULL,
                               false, false, 0};
static const cfg_key string = {"[]", CFG_STRING, NULL, NULL, NULL, NULL,
                               false, false, 0};
static const cfg_key any_object = {"[]", CFG_MAP, NULL, NULL, NULL, NULL,
                                   false, false, 0};

#define STR(n, d) {n, CFG_STRING, d, NULL, NULL, NULL, false, false, 0}
#define CHOICE(n, d, c) {n, CFG_STRING, d, c, NULL, NULL, false, false, 0}
#define PATH(n, d, req) {n, CFG_STRING, d, NULL, NULL, NULL, true, req, 0}
#define INT(n, d, lo) {n, CFG_INT, d, NULL, NULL, NULL, false, false, lo}
#define BOOL(n, d) {n, CFG_BOOL, d, NULL, NULL, NULL, false, false, 0}
#define ARRAY(n, e) {n, CFG_ARRAY, NULL, NULL, NULL, &e, false, false, 0}
#define OBJECT(n, f) {n, CFG_OBJECT, NULL, NULL, f, NULL, false, false, 0}
#define END {NULL, CFG_STRING, NULL, NULL, NULL, NULL, false, false, 0}

static const cfg_key input_config_fields[] = {
    STR("tensor_name", "DEFAULT"),
    PATH("calibration_dataset", NULL, true),
    CHOICE("calibration_format", "Auto", data_formats),
    /* default: quant.calibration_size */
    INT("calibration_size", NULL, 1),
    ARRAY("mean", number),
    ARRAY("std", number),
    CHOICE("channel_order", "RGB", channel_orders),
    CHOICE("tensor_layout", "NCHW", layouts),
    END};
static const cfg_key input_config = {
    "[]", CFG_OBJECT, NULL, NULL, input_config_fields, NULL, false, false, 0};

static const cfg_key quant_fields[] = {
    ARRAY("input_configs", input_config),
    CHOICE("calibration_method", "Auto", methods),
    INT("calibration_size", "32", 1),
    ARRAY("layer_configs", any_object),
    BOOL("precision_analysis", "false"),
    CHOICE("precision_analysis_method", "EndToEnd", analysis_modes),
    END};

static const cfg_key input_processor_fields[] = {
    STR("tensor_name", "DEFAULT"),
    /* defaults: tensor_format RGB or GRAY by the input's channels,
     * src_format the tensor_format */
    CHOICE("tensor_format", NULL, tensor_formats),
    CHOICE("tensor_layout", "NCHW", layouts),
    CHOICE("src_format", NULL, tensor_formats),
    CHOICE("src_layout", "NHWC", layouts),
    CHOICE("src_dtype", "U8", src_dtypes),
    CHOICE("csc_mode", "BT601_FULL", csc_modes),
    ARRAY("mean", number),
    ARRAY("std", number),
    END};
static const cfg_key input_processor = {
    "[]", CFG_OBJECT, NULL, NULL, input_processor_fields, NULL,
    false, false, 0};

static const cfg_key compiler_fields[] = {
    CHOICE("check", "equal", check_levels),
    INT("check_samples", "1", 1),
    ARRAY("run_on_cpu", string),
    ARRAY("run_on_npu", string),
    BOOL("asm", "false"),
    END};

static const cfg_key top_fields[] = {
    PATH("input", NULL, true),
    CHOICE("model_type", "Auto", model_types),
    PATH("output_dir", "output", false),
    {"target", CFG_STRING, NULL, NULL, NULL, NULL, false, true, 0},
    CHOICE("npu_mode", "NPU1", npu_modes),
    {"input_shapes", CFG_SHAPES, NULL, NULL, NULL, NULL, false, false, 0},
    OBJECT("quant", quant_fields),
    ARRAY("input_processors", input_processor),
    ARRAY("const_processors", any_object),
    ARRAY("op_processors", any_object),
    OBJECT("compiler", compiler_fields),
    BOOL("export_onnx", "true"),
    END};

static const cfg_key top = {"", CFG_OBJECT, NULL, NULL, top_fields, NULL,
                            false, false, 0};

const cfg_key *cfg_schema(void) { return &top; }
