/* tests/unit/npu_bus.c - the shared DDR bus of the report's second
 * timeline (backends/npu/perf.h). */
#include "backends/npu/perf.h"
#include "npu_test.h"

START_TEST(transfers_queue_in_the_order_placed) {
  npu_bus b = {0, NULL};
  /* Three transfers from cycle 0: each after the ones before it. */
  ck_assert_double_eq(npu_bus_take(&b, 0, 100), 100);
  ck_assert_double_eq(npu_bus_take(&b, 0, 50), 150);
  ck_assert_double_eq(npu_bus_take(&b, 20, 30), 180);
  ck_assert_uint_eq(b.num, 1); /* [0, 180): joined */
  ck_assert_double_eq(b.busy[0][0], 0);
  ck_assert_double_eq(b.busy[0][1], 180);
  /* Nothing to move: it ends where it starts, the bus untouched. */
  ck_assert_double_eq(npu_bus_take(&b, 10, 0), 10);
  ck_assert_uint_eq(b.num, 1);
  npu_bus_free(&b);
  ck_assert_ptr_null(b.busy);
}
END_TEST

START_TEST(transfers_fill_the_gaps_in_pieces) {
  npu_bus b = {0, NULL};
  ck_assert_double_eq(npu_bus_take(&b, 100, 50), 150); /* [100, 150) */
  ck_assert_double_eq(npu_bus_take(&b, 200, 50), 250); /* [200, 250) */
  /* 90 cycles from 60: the 40 before the first and the 50 between the
   * two; it ends at 200, where the second begins... */
  ck_assert_double_eq(npu_bus_take(&b, 60, 90), 200);
  ck_assert_uint_eq(b.num, 1); /* [60, 250) */
  ck_assert_double_eq(b.busy[0][0], 60);
  ck_assert_double_eq(b.busy[0][1], 250);
  /* ...and one that does not fit in the gaps runs on after the last:
   * from 240, the 50 from 250 to 300 and 20 after 310. */
  ck_assert_double_eq(npu_bus_take(&b, 300, 10), 310);
  ck_assert_double_eq(npu_bus_take(&b, 240, 70), 330);
  ck_assert_uint_eq(b.num, 1);
  ck_assert_double_eq(b.busy[0][0], 60);
  ck_assert_double_eq(b.busy[0][1], 330);
  npu_bus_free(&b);
}
END_TEST

START_TEST(pruning_keeps_what_is_still_ahead) {
  npu_bus b = {0, NULL};
  npu_bus_take(&b, 0, 10);   /* [0, 10) */
  npu_bus_take(&b, 20, 10);  /* [20, 30) */
  npu_bus_take(&b, 40, 10);  /* [40, 50) */
  npu_bus_prune(&b, 30);
  ck_assert_uint_eq(b.num, 1);
  ck_assert_double_eq(b.busy[0][0], 40);
  /* A transfer from 0 now finds the bus free up to 40. */
  ck_assert_double_eq(npu_bus_take(&b, 0, 45), 55);
  npu_bus_prune(&b, 1000);
  ck_assert_uint_eq(b.num, 0);
  ck_assert_double_eq(npu_bus_take(&b, 5, 5), 10);
  npu_bus_free(&b);
}
END_TEST

Suite *npu_bus_suite(void) {
  Suite *s = suite_create("npu_bus");
  TCase *tc = tcase_create("bus");
  tcase_add_test(tc, transfers_queue_in_the_order_placed);
  tcase_add_test(tc, transfers_fill_the_gaps_in_pieces);
  tcase_add_test(tc, pruning_keeps_what_is_still_ahead);
  suite_add_tcase(s, tc);
  return s;
}
