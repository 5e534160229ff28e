/* tests/unit/build_override.c - command-line overrides in the dotted form
 * and the merged configuration. */
#include <string.h>
#include <unistd.h>

#include "build_test.h"

static const char base[] =
    "{\"input\": \"m.onnx\", \"target\": \"ax650\", \"quant\": "
    "{\"input_configs\": [{\"calibration_dataset\": \"calib\"}]}}";

static qir_build_config *base_config(build_env *e) {
  qir_build_config *c = parse(e, "/p/b.json", base);
  ck_assert_ptr_nonnull(c);
  return c;
}

START_TEST(override_scalars) {
  build_env e;
  build_env_init(&e);
  qir_build_config *c = base_config(&e);
  ck_assert(qir_build_config_override(c, "quant.calibration_method=KL"));
  ck_assert(qir_build_config_override(c, "quant.calibration_size=8"));
  ck_assert(qir_build_config_override(c, "target=bpu-bayes"));
  ck_assert(qir_build_config_override(c, "quant.precision_analysis=true"));
  ck_assert(qir_build_config_override(c, "npu_mode=npu3"));
  ck_assert_str_eq(qir_build_config_get(c, "quant.calibration_method"), "KL");
  ck_assert_str_eq(qir_build_config_get(c, "quant.calibration_size"), "8");
  ck_assert_str_eq(qir_build_config_get(c, "target"), "bpu-bayes");
  ck_assert_str_eq(qir_build_config_get(c, "quant.precision_analysis"),
                   "true");
  ck_assert_str_eq(qir_build_config_get(c, "npu_mode"), "NPU3");
  /* A string key takes the text verbatim, even when it looks like a
   * number. */
  ck_assert(qir_build_config_override(c, "quant.input_configs.0.tensor_name="
                                         "123"));
  ck_assert_str_eq(
      qir_build_config_get(c, "quant.input_configs[0].tensor_name"), "123");
  ck_assert_str_eq(build_env_diags(&e), "");
  qir_build_config_free(c);
  build_env_done(&e);
}
END_TEST

START_TEST(override_creates_objects_and_array_elements) {
  build_env e;
  build_env_init(&e);
  qir_build_config *c = base_config(&e);
  ck_assert(qir_build_config_override(c, "compiler.check=none"));
  ck_assert(qir_build_config_override(c, "quant.input_configs.0.mean=[1, 2]"));
  ck_assert(qir_build_config_override(c, "quant.input_configs[1].tensor_name="
                                         "y"));
  ck_assert(qir_build_config_override(c, "compiler.run_on_cpu=[a, b]"));
  ck_assert(qir_build_config_override(c, "compiler.run_on_cpu.1=c"));
  ck_assert(qir_build_config_override(c, "quant.layer_configs.0.data_type="
                                         "int16"));
  ck_assert(qir_build_config_override(c, "input_shapes={x: [1, 3]}"));
  char *j = to_json(c);
  ck_assert_ptr_nonnull(strstr(j, "\"check\": \"none\""));
  ck_assert_ptr_nonnull(strstr(j, "\"mean\": [\n          1,\n          2\n"));
  ck_assert_ptr_nonnull(strstr(j, "\"tensor_name\": \"y\""));
  ck_assert_ptr_nonnull(strstr(j, "\"a\",\n      \"c\""));
  ck_assert_ptr_nonnull(strstr(j, "\"data_type\": \"int16\""));
  ck_assert_ptr_nonnull(strstr(j, "\"x\": [\n      1,\n      3\n"));
  free(j);
  /* The new input config has no dataset: that is for the run to report. */
  ck_assert_str_eq(build_env_diags(&e), "");
  qir_build_config_free(c);
  build_env_done(&e);
}
END_TEST

START_TEST(override_paths_are_relative_to_the_current_folder) {
  build_env e;
  build_env_init(&e);
  qir_build_config *c = base_config(&e);
  ck_assert(qir_build_config_override(c, "output_dir=o"));
  char *cwd = getcwd(NULL, 0), want[4200];
  snprintf(want, sizeof want, "%s/o", cwd);
  ck_assert_str_eq(qir_build_config_get(c, "output_dir"), want);
  ck_assert(qir_build_config_override(c, "output_dir=/abs/o"));
  ck_assert_str_eq(qir_build_config_get(c, "output_dir"), "/abs/o");
  /* The file's own paths stay relative to its folder. */
  ck_assert_str_eq(qir_build_config_get(c, "input"), "/p/m.onnx");
  free(cwd);
  qir_build_config_free(c);
  build_env_done(&e);
}
END_TEST

static void assert_override_error(const char *assignment, const char *want) {
  build_env e;
  build_env_init(&e);
  qir_build_config *c = base_config(&e);
  ck_assert(!qir_build_config_override(c, assignment));
  ck_assert_str_eq(build_env_diags(&e), want);
  qir_build_config_free(c);
  build_env_done(&e);
}

START_TEST(override_errors) {
  assert_override_error("quant.calibration_size=ten",
                        "<command line>: error: quant.calibration_size: "
                        "expected an integer, got \"ten\"\n");
  assert_override_error("quant.calibration_method=Entropy",
                        "<command line>: error: quant.calibration_method: "
                        "expected one of Auto, MinMax, Percentile, MSE, KL, got "
                        "\"Entropy\"\n");
  assert_override_error("quant.calibraton_size=8",
                        "<command line>: error: --quant.calibraton_size: "
                        "unknown key\n");
  assert_override_error("quant.calibration_size",
                        "<command line>: error: --quant.calibration_size: "
                        "expected --KEY=VALUE\n");
  assert_override_error("quant.input_configs.5.mean=[1]",
                        "<command line>: error: --quant.input_configs.5.mean: "
                        "index past the end of the array\n");
  assert_override_error("target.name=x",
                        "<command line>: error: --target.name: unknown key\n");
  assert_override_error("quant.input_configs.0.mean=[1, x]",
                        "<command line>: error: "
                        "quant.input_configs[0].mean[1]: expected a number, "
                        "got \"x\"\n");
  assert_override_error("compiler.run_on_cpu=[a",
                        "<command line>:2:1: error: YAML syntax error: did "
                        "not find expected ',' or ']'\n");
  assert_override_error("=1",
                        "<command line>: error: --: empty key\n");
}
END_TEST

START_TEST(merged_configuration_has_every_default) {
  build_env e;
  build_env_init(&e);
  qir_build_config *c = base_config(&e);
  ck_assert(qir_build_config_override(c, "quant.calibration_method=mse"));
  char *j = to_json(c);
  ck_assert_str_eq(
      j,
      "{\n"
      "  \"input\": \"/p/m.onnx\",\n"
      "  \"model_type\": \"Auto\",\n"
      "  \"output_dir\": \"/p/output\",\n"
      "  \"target\": \"ax650\",\n"
      "  \"npu_mode\": \"NPU1\",\n"
      "  \"quant\": {\n"
      "    \"input_configs\": [\n"
      "      {\n"
      "        \"tensor_name\": \"DEFAULT\",\n"
      "        \"calibration_dataset\": \"/p/calib\",\n"
      "        \"calibration_format\": \"Auto\",\n"
      "        \"channel_order\": \"RGB\",\n"
      "        \"tensor_layout\": \"NCHW\"\n"
      "      }\n"
      "    ],\n"
      "    \"calibration_method\": \"MSE\",\n"
      "    \"calibration_size\": 32,\n"
      "    \"precision_analysis\": false,\n"
      "    \"precision_analysis_method\": \"EndToEnd\"\n"
      "  },\n"
      "  \"compiler\": {\n"
      "    \"check\": \"equal\",\n"
      "    \"check_samples\": 1,\n"
      "    \"asm\": false\n"
      "  },\n"
      "  \"export_onnx\": true\n"
      "}\n");
  /* The merged configuration reads back to the same configuration. */
  qir_build_config *again = parse(&e, "/q/merged.json", j);
  ck_assert_ptr_nonnull(again);
  char *j2 = to_json(again);
  ck_assert_str_eq(j, j2);
  free(j2);
  free(j);
  qir_build_config_free(again);
  qir_build_config_free(c);
  build_env_done(&e);
}
END_TEST

Suite *build_override_suite(void) {
  Suite *s = suite_create("build_override");
  TCase *tc = tcase_create("override");
  tcase_add_test(tc, override_scalars);
  tcase_add_test(tc, override_creates_objects_and_array_elements);
  tcase_add_test(tc, override_paths_are_relative_to_the_current_folder);
  tcase_add_test(tc, override_errors);
  tcase_add_test(tc, merged_configuration_has_every_default);
  suite_add_tcase(s, tc);
  return s;
}
