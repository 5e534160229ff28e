/* tests/unit/build_config.c - reading build configurations: every key's
 * type check with its exact message, JSON and YAML syntax errors, YAML
 * positions, defaults, paths, and JSON/YAML equivalence. */
#include <stdio.h>
#include <string.h>

#include "build_test.h"
#include "driver/build-internal.h"

/* ---- Every key rejects a value of the wrong type ------------------------- */

typedef struct bad_value {
  const char *path;  /* where the value goes; [0] only */
  const char *value; /* JSON */
  const char *message;
} bad_value;

static const bad_value bad_values[] = {
    {"input", "5", "input: expected a string, got 5"},
    {"model_type", "\"Caffe\"",
     "model_type: expected one of Auto, ONNX, QuantONNX, QIR, got \"Caffe\""},
    {"output_dir", "[]", "output_dir: expected a string, got an array"},
    {"target", "true", "target: expected a string, got true"},
    {"npu_mode", "\"NPU4\"",
     "npu_mode: expected one of NPU1, NPU2, NPU3, got \"NPU4\""},
    {"input_shapes", "3",
     "input_shapes: expected a string or an object, got 3"},
    {"input_shapes.x", "\"1x3\"",
     "input_shapes.x: expected an array, got \"1x3\""},
    {"input_shapes.x[0]", "0",
     "input_shapes.x[0]: expected an integer >= 1, got 0"},
    {"quant", "[]", "quant: expected an object, got an array"},
    {"quant.input_configs", "{}",
     "quant.input_configs: expected an array, got an object"},
    {"quant.input_configs[0]", "1",
     "quant.input_configs[0]: expected an object, got 1"},
    {"quant.input_configs[0].tensor_name", "1",
     "quant.input_configs[0].tensor_name: expected a string, got 1"},
    {"quant.input_configs[0].calibration_dataset", "null",
     "quant.input_configs[0].calibration_dataset: expected a string, got "
     "null"},
    {"quant.input_configs[0].calibration_format", "\"Jpeg\"",
     "quant.input_configs[0].calibration_format: expected one of Auto, "
     "Image, Numpy, Binary, got \"Jpeg\""},
    {"quant.input_configs[0].calibration_size", "0",
     "quant.input_configs[0].calibration_size: expected an integer >= 1, "
     "got 0"},
    {"quant.input_configs[0].mean", "\"127\"",
     "quant.input_configs[0].mean: expected an array, got \"127\""},
    {"quant.input_configs[0].mean[0]", "\"a\"",
     "quant.input_configs[0].mean[0]: expected a number, got \"a\""},
    {"quant.input_configs[0].std", "{}",
     "quant.input_configs[0].std: expected an array, got an object"},
    {"quant.input_configs[0].std[0]", "true",
     "quant.input_configs[0].std[0]: expected a number, got true"},
    {"quant.input_configs[0].channel_order", "\"RGBA\"",
     "quant.input_configs[0].channel_order: expected one of RGB, BGR, GRAY, "
     "got \"RGBA\""},
    {"quant.input_configs[0].tensor_layout", "\"CHW\"",
     "quant.input_configs[0].tensor_layout: expected one of NCHW, NHWC, got "
     "\"CHW\""},
    {"quant.calibration_method", "\"Entropy\"",
     "quant.calibration_method: expected one of Auto, MinMax, Percentile, MSE, "
     "KL, got \"Entropy\""},
    {"quant.calibration_size", "\"ten\"",
     "quant.calibration_size: expected an integer, got \"ten\""},
    {"quant.layer_configs", "{}",
     "quant.layer_configs: expected an array, got an object"},
    {"quant.layer_configs[0]", "\"conv1\"",
     "quant.layer_configs[0]: expected an object, got \"conv1\""},
    {"quant.precision_analysis", "\"yes\"",
     "quant.precision_analysis: expected true or false, got \"yes\""},
    {"quant.precision_analysis_method", "\"Both\"",
     "quant.precision_analysis_method: expected one of EndToEnd, PerLayer, "
     "got \"Both\""},
    {"input_processors", "{}",
     "input_processors: expected an array, got an object"},
    {"input_processors[0]", "2",
     "input_processors[0]: expected an object, got 2"},
    {"input_processors[0].tensor_name", "2",
     "input_processors[0].tensor_name: expected a string, got 2"},
    {"input_processors[0].tensor_format", "\"RGBX\"",
     "input_processors[0].tensor_format: expected one of RGB, BGR, GRAY, "
     "NV12, YUV420SP, YUV444, got \"RGBX\""},
    {"input_processors[0].tensor_layout", "\"HWC\"",
     "input_processors[0].tensor_layout: expected one of NCHW, NHWC, got "
     "\"HWC\""},
    {"input_processors[0].src_format", "1",
     "input_processors[0].src_format: expected a string, got 1"},
    {"input_processors[0].src_layout", "\"X\"",
     "input_processors[0].src_layout: expected one of NCHW, NHWC, got "
     "\"X\""},
    {"input_processors[0].src_dtype", "\"F16\"",
     "input_processors[0].src_dtype: expected one of U8, FP32, got \"F16\""},
    {"input_processors[0].csc_mode", "\"BT709\"",
     "input_processors[0].csc_mode: expected one of BT601_FULL, "
     "BT601_LIMITED, got \"BT709\""},
    {"input_processors[0].mean", "1",
     "input_processors[0].mean: expected an array, got 1"},
    {"input_processors[0].mean[0]", "null",
     "input_processors[0].mean[0]: expected a number, got null"},
    {"input_processors[0].std", "1",
     "input_processors[0].std: expected an array, got 1"},
    {"input_processors[0].std[0]", "[]",
     "input_processors[0].std[0]: expected a number, got an array"},
    {"const_processors", "{}",
     "const_processors: expected an array, got an object"},
    {"const_processors[0]", "1",
     "const_processors[0]: expected an object, got 1"},
    {"op_processors", "\"x\"",
     "op_processors: expected an array, got \"x\""},
    {"op_processors[0]", "[]",
     "op_processors[0]: expected an object, got an array"},
    {"compiler", "1", "compiler: expected an object, got 1"},
    {"compiler.check", "\"exact\"",
     "compiler.check: expected one of none, close, equal, cosine, got "
     "\"exact\""},
    {"compiler.check_samples", "0",
     "compiler.check_samples: expected an integer >= 1, got 0"},
    {"compiler.run_on_cpu", "\"conv1\"",
     "compiler.run_on_cpu: expected an array, got \"conv1\""},
    {"compiler.run_on_cpu[0]", "1",
     "compiler.run_on_cpu[0]: expected a string, got 1"},
    {"compiler.run_on_npu", "true",
     "compiler.run_on_npu: expected an array, got true"},
    {"compiler.run_on_npu[0]", "{}",
     "compiler.run_on_npu[0]: expected a string, got an object"},
    {"compiler.asm", "1", "compiler.asm: expected true or false, got 1"},
    {"export_onnx", "\"no\"",
     "export_onnx: expected true or false, got \"no\""},
};
#define NUM_BAD (sizeof bad_values / sizeof bad_values[0])

/* {"a": {"b": [{"c": VALUE}]}} from "a.b[0].c". */
static void json_at(FILE *f, const char *path, const char *value) {
  if (!*path) {
    fputs(value, f);
    return;
  }
  if (*path == '.')
    path++;
  if (path[0] == '[') {
    fputc('[', f);
    json_at(f, path + 3, value); /* "[0]" */
    fputc(']', f);
    return;
  }
  size_t n = strcspn(path, ".[");
  fprintf(f, "{\"%.*s\": ", (int)n, path);
  json_at(f, path + n, value);
  fputc('}', f);
}

START_TEST(every_key_checks_its_type) {
  const bad_value *b = &bad_values[_i];
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  json_at(f, b->path, b->value);
  fclose(f);
  build_env e;
  build_env_init(&e);
  ck_assert_ptr_null(parse(&e, "b.json", text));
  char want[512];
  snprintf(want, sizeof want, "b.json: error: %s\n", b->message);
  ck_assert_str_eq(build_env_diags(&e), want);
  build_env_done(&e);
  free(text);
}
END_TEST

/* "quant.input_configs[0].mean[0]" -> "quant.input_configs[].mean[]". */
static void normalize(const char *in, char *out, size_t size) {
  size_t o = 0;
  for (; *in && o + 1 < size; in++) {
    out[o++] = *in;
    if (*in == '[')
      in = strchr(in, ']') - 1;
  }
  out[o] = 0;
}

static bool covered(const char *path) {
  for (size_t i = 0; i < NUM_BAD; i++) {
    char norm[256];
    normalize(bad_values[i].path, norm, sizeof norm);
    if (!strcmp(norm, path))
      return true;
  }
  return false;
}

typedef void (*key_fn)(const char *path, void *user);

static void walk(const cfg_key *k, const char *path, key_fn fn, void *user) {
  if (*path)
    fn(path, user);
  char sub[256];
  if (k->type == CFG_ARRAY) {
    snprintf(sub, sizeof sub, "%s[]", path);
    if (k->elem->type == CFG_OBJECT)
      walk(k->elem, sub, fn, user);
    return;
  }
  if (k->type != CFG_OBJECT)
    return;
  for (const cfg_key *f = k->fields; f->name; f++) {
    snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->name);
    walk(f, sub, fn, user);
  }
}

static void assert_covered(const char *path, void *user) {
  (void)user;
  ck_assert_msg(covered(path), "no type-error case for key '%s'", path);
}

START_TEST(every_schema_key_has_a_case) {
  walk(cfg_schema(), "", assert_covered, NULL);
}
END_TEST

static void assert_documented(const char *path, void *doc) {
  char quoted[300];
  snprintf(quoted, sizeof quoted, "`%s`", path);
  ck_assert_msg(strstr(doc, quoted), "docs/qir-build.md lacks %s", quoted);
}

START_TEST(every_schema_key_is_documented) {
  build_env e;
  build_env_init(&e);
  size_t len;
  char *doc = qir_read_file(e.ctx, QIR_TEST_SRCDIR "/docs/qir-build.md",
                            &len);
  ck_assert_ptr_nonnull(doc);
  walk(cfg_schema(), "", assert_documented, doc);
  free(doc);
  build_env_done(&e);
}
END_TEST

/* ---- Other errors -------------------------------------------------------- */

static void assert_error(const char *name, const char *text,
                         const char *want) {
  build_env e;
  build_env_init(&e);
  qir_build_config *c = parse(&e, name, text);
  ck_assert_ptr_null(c);
  ck_assert_str_eq(build_env_diags(&e), want);
  build_env_done(&e);
}

START_TEST(unknown_keys) {
  assert_error("b.json", "{\"quant\": {\"calibraton_method\": \"KL\"}}",
               "b.json: error: quant.calibraton_method: unknown key (did you "
               "mean 'calibration_method'?)\n");
  assert_error("b.json", "{\"frobnicate\": 1}",
               "b.json: error: frobnicate: unknown key\n");
  /* Every problem is reported, not only the first. */
  assert_error("b.json", "{\"a\": 1, \"npu_mode\": 2}",
               "b.json: error: a: unknown key\n"
               "b.json: error: npu_mode: expected a string, got 2\n");
}
END_TEST

START_TEST(json_syntax_errors) {
  assert_error("b.json", "{\n  \"input\": \"m.onnx\",\n}",
               "b.json:3:1: error: JSON syntax error: unexpected character\n");
  assert_error("b.json", "{\"input\": ",
               "b.json:1:11: error: JSON syntax error: unexpected end of the "
               "text\n");
  assert_error("b.json", "{} x",
               "b.json:1:4: error: JSON syntax error: unexpected character\n");
  assert_error("b.json", "[1]",
               "b.json: error: expected an object of keys at the top level, "
               "got an array\n");
}
END_TEST

START_TEST(json_nul_byte) {
  build_env e;
  build_env_init(&e);
  ck_assert_ptr_null(qir_build_config_parse(e.ctx, "b.json", "{\0}", 3));
  ck_assert_str_eq(build_env_diags(&e),
                   "b.json:1:2: error: JSON syntax error: NUL character in "
                   "the text\n");
  build_env_done(&e);
}
END_TEST

START_TEST(yaml_errors_have_positions) {
  assert_error("b.yaml",
               "input: m.onnx\nquant:\n  calibration_size: ten\n",
               "b.yaml:3:21: error: quant.calibration_size: expected an "
               "integer, got \"ten\"\n");
  assert_error("b.yaml", "input: m.onnx\ntarget: [ax650\n",
               "b.yaml:3:1: error: YAML syntax error: did not find expected "
               "',' or ']'\n");
  assert_error("b.yaml", "input: a\ninput: b\n",
               "b.yaml:2:1: error: duplicate key 'input'\n");
  assert_error("b.yaml", "x: &a 1\ny: *a\n",
               "b.yaml:1:4: error: YAML anchors and aliases are not "
               "supported\n");
  assert_error("b.yaml", "input: a\n---\ninput: b\n",
               "b.yaml:2:1: error: more than one YAML document\n");
  assert_error("b.yaml", "- 1\n",
               "b.yaml:1:1: error: expected an object of keys at the top "
               "level, got an array\n");
  assert_error("b.yaml", "? [1]\n: 2\n",
               "b.yaml:1:3: error: a key must be a plain string\n");
}
END_TEST

START_TEST(yaml_scalar_types) {
  /* Quoted scalars stay strings; plain ones take the core schema types. */
  assert_error("b.yaml", "quant:\n  calibration_size: \"8\"\n",
               "b.yaml:2:21: error: quant.calibration_size: expected an "
               "integer, got \"8\"\n");
  assert_error("b.yaml", "export_onnx: yes\n",
               "b.yaml:1:14: error: export_onnx: expected true or false, "
               "got \"yes\"\n");
  assert_error("b.yaml", "quant:\n  input_configs:\n    - mean: [1, .inf]\n",
               "b.yaml:3:17: error: quant.input_configs[0].mean[1]: expected "
               "a finite number, got Infinity\n");
  build_env e;
  build_env_init(&e);
  qir_build_config *c =
      parse(&e, "b.yaml",
            "quant: {calibration_size: 0x10, precision_analysis: True}\n"
            "compiler: {check_samples: 0o7}\ntarget: ~\n");
  ck_assert_ptr_null(c); /* target: null */
  ck_assert_str_eq(build_env_diags(&e),
                   "b.yaml: error: target: expected a string, got null\n");
  build_env_done(&e);
  build_env_init(&e);
  c = parse(&e, "b.yaml",
            "quant: {calibration_size: 0x10, precision_analysis: True}\n"
            "compiler: {check_samples: 0o7}\n");
  ck_assert_ptr_nonnull(c);
  ck_assert_str_eq(qir_build_config_get(c, "quant.calibration_size"), "16");
  ck_assert_str_eq(qir_build_config_get(c, "quant.precision_analysis"),
                   "true");
  ck_assert_str_eq(qir_build_config_get(c, "compiler.check_samples"), "7");
  qir_build_config_free(c);
  build_env_done(&e);
}
END_TEST

START_TEST(deep_nesting_is_refused) {
  char text[400];
  memset(text, '[', 200);
  memset(text + 200, ']', 200);
  build_env e;
  build_env_init(&e);
  ck_assert_ptr_null(qir_build_config_parse(e.ctx, "b.yaml", text, 400));
  ck_assert_str_eq(build_env_diags(&e),
                   "b.yaml:1:66: error: the configuration is nested too "
                   "deeply\n");
  ck_assert_ptr_null(qir_build_config_parse(e.ctx, "b.json", text, 400));
  build_env_done(&e);
}
END_TEST

/* ---- Values, defaults, paths --------------------------------------------- */

START_TEST(defaults_and_values) {
  build_env e;
  build_env_init(&e);
  qir_build_config *c = parse(
      &e, "/cfg/dir/b.json",
      "{\"input\": \"m.onnx\", \"target\": \"ax650\", \"quant\": "
      "{\"calibration_method\": \"kl\", \"input_configs\": "
      "[{\"calibration_dataset\": \"../calib\"}]}}");
  ck_assert_ptr_nonnull(c);
  ck_assert_str_eq(qir_build_config_get(c, "input"), "/cfg/dir/m.onnx");
  ck_assert_str_eq(qir_build_config_get(c, "output_dir"), "/cfg/dir/output");
  ck_assert_str_eq(qir_build_config_get(c, "target"), "ax650");
  ck_assert_str_eq(qir_build_config_get(c, "npu_mode"), "NPU1");
  /* Choices are matched without case and stored in their spelling. */
  ck_assert_str_eq(qir_build_config_get(c, "quant.calibration_method"), "KL");
  ck_assert_str_eq(qir_build_config_get(c, "quant.calibration_size"), "32");
  ck_assert_str_eq(
      qir_build_config_get(c, "quant.input_configs[0].calibration_dataset"),
      "/cfg/calib");
  ck_assert_str_eq(
      qir_build_config_get(c, "quant.input_configs.0.calibration_format"),
      "Auto");
  ck_assert_str_eq(qir_build_config_get(c, "compiler.check"), "equal");
  ck_assert_str_eq(qir_build_config_get(c, "export_onnx"), "true");
  ck_assert_ptr_null(qir_build_config_get(c, "quant"));
  ck_assert_ptr_null(qir_build_config_get(c, "quant.nonsense"));
  ck_assert_ptr_null(qir_build_config_get(c, "input_shapes"));
  ck_assert_str_eq(build_env_diags(&e), "");
  qir_build_config_free(c);
  build_env_done(&e);
}
END_TEST

START_TEST(required_keys) {
  build_env e;
  build_env_init(&e);
  qir_build_config *c = parse(
      &e, "b.json", "{\"quant\": {\"input_configs\": [{\"mean\": [1]}]}}");
  ck_assert_ptr_nonnull(c); /* an override may still give them */
  ck_assert(!cfg_check_required(c));
  ck_assert_str_eq(build_env_diags(&e),
                   "b.json: error: input: a required key is missing\n"
                   "b.json: error: target: a required key is missing\n"
                   "b.json: error: quant.input_configs[0]."
                   "calibration_dataset: a required key is missing\n");
  qir_build_config_free(c);
  build_env_done(&e);
}
END_TEST

static const char equiv_json[] =
    "{\n"
    "  \"input\": \"models/m.onnx\",\n"
    "  \"output_dir\": \"out\",\n"
    "  \"target\": \"bpu-bayes\",\n"
    "  \"npu_mode\": \"npu2\",\n"
    "  \"input_shapes\": {\"x\": [1, 3, 32, 32]},\n"
    "  \"quant\": {\n"
    "    \"input_configs\": [{\"tensor_name\": \"x\",\n"
    "      \"calibration_dataset\": \"calib\", \"calibration_size\": 4,\n"
    "      \"mean\": [123.675, 116.28, 103.53], \"std\": [58.395, 57.12, "
    "57.375]}],\n"
    "    \"calibration_method\": \"Percentile\",\n"
    "    \"layer_configs\": [{\"op_types\": [\"add\"], \"data_type\": "
    "\"int16\"}],\n"
    "    \"precision_analysis\": true\n"
    "  },\n"
    "  \"op_processors\": [{\"op_name\": \"r\", \"attrs\": {\"k\": 2}}],\n"
    "  \"compiler\": {\"check\": \"cosine\", \"run_on_cpu\": [\"softmax\"]}\n"
    "}\n";

static const char equiv_yaml[] =
    "# the same build as equiv_json\n"
    "input: models/m.onnx\n"
    "output_dir: out\n"
    "target: bpu-bayes\n"
    "npu_mode: npu2\n"
    "input_shapes:\n"
    "  x: [1, 3, 32, 32]\n"
    "quant:\n"
    "  input_configs:\n"
    "    - tensor_name: x\n"
    "      calibration_dataset: calib\n"
    "      calibration_size: 4\n"
    "      mean: [123.675, 116.28, 103.53]\n"
    "      std: [58.395, 57.12, 57.375]\n"
    "  calibration_method: Percentile\n"
    "  layer_configs:\n"
    "    - {op_types: [add], data_type: int16}\n"
    "  precision_analysis: true\n"
    "op_processors:\n"
    "  - op_name: r\n"
    "    attrs: {k: 2}\n"
    "compiler:\n"
    "  check: cosine\n"
    "  run_on_cpu:\n"
    "    - softmax\n";

START_TEST(json_and_yaml_are_equivalent) {
  build_env e;
  build_env_init(&e);
  qir_build_config *j = parse(&e, "/p/b.json", equiv_json);
  qir_build_config *y = parse(&e, "/p/b.yaml", equiv_yaml);
  ck_assert_ptr_nonnull(j);
  ck_assert_ptr_nonnull(y);
  char *jt = to_json(j), *yt = to_json(y);
  ck_assert_str_eq(jt, yt);
  ck_assert_ptr_nonnull(strstr(jt, "\"npu_mode\": \"NPU2\""));
  ck_assert_ptr_nonnull(strstr(jt, "\"calibration_dataset\": \"/p/calib\""));
  ck_assert_ptr_nonnull(strstr(jt, "\"check_samples\": 1"));
  free(jt);
  free(yt);
  /* Detection by content when the name says nothing. */
  qir_build_config *n1 = parse(&e, "/p/build.conf", equiv_json);
  qir_build_config *n2 = parse(&e, "/p/build.conf", equiv_yaml);
  ck_assert_ptr_nonnull(n1);
  ck_assert_ptr_nonnull(n2);
  qir_build_config_free(n1);
  qir_build_config_free(n2);
  qir_build_config_free(j);
  qir_build_config_free(y);
  build_env_done(&e);
}
END_TEST

START_TEST(empty_yaml_is_an_empty_configuration) {
  build_env e;
  build_env_init(&e);
  qir_build_config *c = parse(&e, "b.yaml", "# nothing yet\n");
  ck_assert_ptr_nonnull(c);
  ck_assert_str_eq(qir_build_config_get(c, "npu_mode"), "NPU1");
  qir_build_config_free(c);
  build_env_done(&e);
}
END_TEST

START_TEST(load_reports_a_missing_file) {
  build_env e;
  build_env_init(&e);
  ck_assert_ptr_null(qir_build_config_load(e.ctx, "/nonexistent/b.json"));
  ck_assert_str_eq(build_env_diags(&e),
                   "error: cannot open '/nonexistent/b.json': No such file or "
                   "directory\n");
  build_env_done(&e);
}
END_TEST

Suite *build_config_suite(void) {
  Suite *s = suite_create("build_config");
  TCase *tc = tcase_create("config");
  tcase_add_loop_test(tc, every_key_checks_its_type, 0, (int)NUM_BAD);
  tcase_add_test(tc, every_schema_key_has_a_case);
  tcase_add_test(tc, every_schema_key_is_documented);
  tcase_add_test(tc, unknown_keys);
  tcase_add_test(tc, json_syntax_errors);
  tcase_add_test(tc, json_nul_byte);
  tcase_add_test(tc, yaml_errors_have_positions);
  tcase_add_test(tc, yaml_scalar_types);
  tcase_add_test(tc, deep_nesting_is_refused);
  tcase_add_test(tc, defaults_and_values);
  tcase_add_test(tc, required_keys);
  tcase_add_test(tc, json_and_yaml_are_equivalent);
  tcase_add_test(tc, empty_yaml_is_an_empty_configuration);
  tcase_add_test(tc, load_reports_a_missing_file);
  suite_add_tcase(s, tc);
  return s;
}
