/* Choosing the device: GB_CUDA where this build or machine cannot run it fails at
 * gb_session_new with a message naming what is missing, and the CPU path is untouched;
 * GB_FORCE_DEVICE overrides the program's choice. On a machine with a GPU, a CUDA session
 * reports its device and runs a small graph. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/engine.h"

static gb_graph *tiny_graph(gb_node **x, gb_node **y)
{
    gb_graph *g = gb_graph_new();
    *x = gb_placeholder(g, "x", GB_F32, gb_dims(1, -1));
    *y = gb_reduce_sum(g, gb_square(g, *x), GB_ALL_AXES, 0);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    return g;
}

static float sum_of_squares(gb_session *s, gb_node *x, gb_node *y)
{
    float data[] = {1, 2, 3};
    gb_tensor *t = gb_tensor_from(GB_F32, gb_dims(1, 3), data);
    gb_feed feed = {x, t};
    const gb_tensor *out;
    cr_assert_eq(gb_session_run(s, &feed, 1, &y, 1, &out), GB_OK, "%s", gb_errmsg());
    float v = (float)gb_tensor_get(out, 0);
    gb_tensor_free(t);
    return v;
}

Test(cuda_device, unavailable_cuda_fails_clearly_and_the_cpu_still_runs)
{
    unsetenv("GB_FORCE_DEVICE");
    gb_node *x, *y;
    gb_graph *g = tiny_graph(&x, &y);
    gb_status available = gb_device_available(GB_CUDA);
    if (available == GB_OK) {
        gb_session *s = gb_session_new(g, GB_CUDA);
        cr_assert_not_null(s, "%s", gb_errmsg());
        cr_assert_eq(gb_session_device(s), GB_CUDA);
        cr_assert(strlen(gb_session_device_name(s)) > 0);
        cr_assert_float_eq(sum_of_squares(s, x, y), 14.0f, 1e-6);
        gb_session_free(s);
    } else {
        char reason[1024];
        snprintf(reason, sizeof reason, "%s", gb_errmsg());
        cr_assert(available == GB_EDEVICE || available == GB_EUNSUPPORTED, "%s", gb_status_name(available));
        /* the reason names the missing piece: no CUDA build, no driver, no GPU or no cuBLAS */
        cr_assert(strstr(reason, "-DGB_CUDA=ON") || strstr(reason, "driver") || strstr(reason, "GPU") ||
                      strstr(reason, "cuBLAS"),
                  "unclear reason: %s", reason);
        cr_assert_null(gb_session_new(g, GB_CUDA));
        cr_assert(strstr(gb_errmsg(), "GB_CUDA is not available") && strstr(gb_errmsg(), reason), "%s", gb_errmsg());
    }
    gb_session *cpu = gb_session_new(g, GB_CPU);
    cr_assert_not_null(cpu, "%s", gb_errmsg());
    cr_assert_eq(gb_session_device(cpu), GB_CPU);
    cr_assert_str_eq(gb_session_device_name(cpu), "CPU");
    gb_session_set_tf32(cpu, 1); /* no effect on the CPU */
    cr_assert_float_eq(sum_of_squares(cpu, x, y), 14.0f, 1e-6);
    gb_session_free(cpu);
    gb_graph_free(g);
}

Test(cuda_device, force_device_overrides_the_programs_choice)
{
    gb_node *x, *y;
    gb_graph *g = tiny_graph(&x, &y);
    setenv("GB_FORCE_DEVICE", "cpu", 1);
    gb_session *s = gb_session_new(g, GB_CUDA);
    cr_assert_not_null(s, "%s", gb_errmsg());
    cr_assert_eq(gb_session_device(s), GB_CPU);
    cr_assert_float_eq(sum_of_squares(s, x, y), 14.0f, 1e-6);
    gb_session_free(s);
    setenv("GB_FORCE_DEVICE", "cuda", 1);
    s = gb_session_new(g, GB_CPU);
    cr_assert_eq(s != NULL, gb_device_available(GB_CUDA) == GB_OK, "forced onto CUDA exactly when it is available");
    if (s) cr_assert_eq(gb_session_device(s), GB_CUDA);
    gb_session_free(s);
    unsetenv("GB_FORCE_DEVICE");
    cr_assert_eq(gb_session_new(g, (gb_device)7), NULL);
    cr_assert(strstr(gb_errmsg(), "unknown device"), "%s", gb_errmsg());
    gb_graph_free(g);
}
