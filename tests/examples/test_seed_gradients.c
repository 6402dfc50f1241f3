/* seed_gradients prints the seed's derivatives exactly as NumPy prints them. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "example_run.h"

Test(seed_gradients, prints_the_derivatives_as_numpy_does)
{
    char *out;
    cr_assert_eq(run_example("", &out), 0);
    char *want = read_text_file(GB_EXAMPLES_DATA "/seed_gradients.expected");
    cr_assert_str_eq(out, want);
    free(out);
    free(want);
}

Test(seed_gradients, help_succeeds_and_arguments_are_usage_errors)
{
    char *out;
    cr_assert_eq(run_example("--help", &out), 0);
    cr_assert_not_null(strstr(out, "usage: seed_gradients"), "%s", out);
    free(out);
    cr_assert_eq(run_example("extra 2>&1", &out), 2);
    cr_assert_not_null(strstr(out, "usage: seed_gradients"), "%s", out);
    free(out);
}
