/* seed_gradients: the seed's GradientTape examples, done with graph-mode autodiff.
 *
 *   seed_gradients            (no arguments)
 *
 * For each function y(x) it builds the graph, asks gb_gradients (or gb_jacobian) for the nodes
 * computing dy/dx, feeds x and prints the result as NumPy prints a float32 array:
 *
 *   y = x * x             at x = 5                     -> 10
 *   y = x * x             at x = [[5, 10, 15.23232]]   -> [[10, 20, 30.46464]]
 *   y = x^2 + x - 1       at x = 3                     -> 7
 *   y = [x0^2, x0 x1, e^x1] at x = [3, 0.5]            -> its 3 x 2 Jacobian
 */
#include <stdio.h>
#include <string.h>

#include "gradboard/engine.h"

/* ---- printing like NumPy ---- */

/* NumPy lines up the elements of an array: each gets as many characters before and after the
 * point as the widest one has ("[[ 5.      10.      15.23232]]"), and a whole number keeps its
 * point but drops the ".0" it has on its own ("10." in an array, "10.0" alone). */
typedef struct column_widths {
    int before, after;
} column_widths;

/* Splits gb_format_f32's text of v at the point. Returns 0 for a number without one ("1e-05",
 * "nan"), which this small printer does not line up. */
static int split_at_point(float v, char *text, size_t size, int *before, const char **after)
{
    gb_format_f32(text, size, v);
    char *point = strchr(text, '.');
    if (!point) return 0;
    *before = (int)(point - text);
    *after = strcmp(point + 1, "0") == 0 ? "" : point + 1;
    return 1;
}

static void print_element(float v, column_widths widths)
{
    char text[32];
    int before;
    const char *after;
    if (!split_at_point(v, text, sizeof text, &before, &after)) {
        printf("%*s", widths.before + 1 + widths.after, text);
        return;
    }
    printf("%*.*s.%-*s", widths.before, before, text, widths.after, after);
}

/* One bracketed block of axis `axis`; *next is the index of the next element to print. Rows of
 * an inner axis go on new lines, indented to stand under the brackets above them, with one
 * blank line more for each axis further out, as NumPy does. */
static void print_block(const float *v, const gb_shape *shape, int axis, column_widths widths, int64_t *next)
{
    putchar('[');
    for (int64_t i = 0; i < shape->dim[axis]; i++) {
        if (i > 0 && axis == shape->rank - 1) putchar(' ');
        if (i > 0 && axis < shape->rank - 1) {
            for (int k = axis; k < shape->rank - 1; k++) putchar('\n');
            for (int k = 0; k <= axis; k++) putchar(' ');
        }
        if (axis == shape->rank - 1)
            print_element(v[(*next)++], widths);
        else
            print_block(v, shape, axis + 1, widths, next);
    }
    putchar(']');
}

/* Prints a float32 tensor as print(array) does in NumPy: "10.0" for a scalar, else the
 * bracketed, lined-up elements. */
static void print_array(const gb_tensor *t)
{
    const float *v = gb_tensor_data(t);
    const gb_shape *shape = gb_tensor_shape(t);
    char text[32];
    if (shape->rank == 0) {
        fputs(gb_format_f32(text, sizeof text, v[0]), stdout);
        return;
    }
    column_widths widths = {0, 0};
    for (int64_t i = 0; i < gb_tensor_elements(t); i++) {
        int before;
        const char *after = "";
        if (!split_at_point(v[i], text, sizeof text, &before, &after)) before = (int)strlen(text);
        if (before > widths.before) widths.before = before;
        if ((int)strlen(after) > widths.after) widths.after = (int)strlen(after);
    }
    int64_t next = 0;
    print_block(v, shape, 0, widths, &next);
}

/* ---- the functions ---- */

static gb_node *x_times_x(gb_graph *g, gb_node *x)
{
    return gb_mul(g, x, x);
}

static gb_node *x_squared_plus_x_minus_1(gb_graph *g, gb_node *x)
{
    return gb_sub(g, gb_add(g, gb_square(g, x), x), gb_scalar(g, 1));
}

/* [x0^2, x0 * x1, e^x1] for x = [x0, x1]. */
static gb_node *vector_function(gb_graph *g, gb_node *x)
{
    gb_node *x0 = gb_slice(g, x, gb_dims(1, 0), gb_dims(1, 1));
    gb_node *x1 = gb_slice(g, x, gb_dims(1, 1), gb_dims(1, 1));
    gb_node *parts[] = {gb_square(g, x0), gb_mul(g, x0, x1), gb_exp(g, x1)};
    return gb_concat(g, 3, parts, 0);
}

/* Builds y = f(x) for a placeholder x of the given shape, adds dy/dx (the Jacobian when
 * `jacobian` is set, else the gradient of the sum of y, as tape.gradient gives), runs it at
 * x = values and prints both. Returns 0, or 1 after printing what failed. */
static int show_derivative(const char *formula, gb_node *(*f)(gb_graph *, gb_node *), gb_shape shape,
                           const float *values, int jacobian)
{
    int failed = 1;
    gb_session *s = NULL;
    gb_tensor *x_value = NULL;
    gb_graph *g = gb_graph_new();
    if (!g) {
        fprintf(stderr, "seed_gradients: %s\n", gb_errmsg());
        return 1;
    }
    gb_node *x = gb_placeholder(g, "x", GB_F32, shape);
    gb_node *y = f(g, x);
    gb_node *dy_dx = NULL;
    if (jacobian)
        dy_dx = gb_jacobian(g, y, x);
    else
        gb_gradients(g, y, &x, 1, &dy_dx);
    if (gb_graph_status(g) != GB_OK) {
        fprintf(stderr, "seed_gradients: %s\n", gb_graph_errmsg(g));
        goto done;
    }
    s = gb_session_new(g, GB_CPU);
    x_value = gb_tensor_from(GB_F32, shape, values);
    const gb_tensor *result;
    if (!s || !x_value || gb_session_run(s, &(gb_feed){x, x_value}, 1, &dy_dx, 1, &result) != GB_OK) {
        fprintf(stderr, "seed_gradients: %s\n", gb_errmsg());
        goto done;
    }
    printf("y = %s at x = ", formula);
    print_array(x_value);
    printf(jacobian ? "\njacobian dy/dx =\n" : "\ndy/dx = ");
    print_array(result);
    printf("\n");
    failed = 0;
done:
    gb_tensor_free(x_value);
    gb_session_free(s);
    gb_graph_free(g);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: seed_gradients\n"
               "Prints the derivatives of the seed's GradientTape examples, computed by autodiff.\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "usage: seed_gradients (it takes no arguments; --help)\n");
        return 2;
    }
    if (show_derivative("x * x", x_times_x, gb_dims(0), (float[]){5}, 0)) return 1;
    printf("\n");
    if (show_derivative("x * x", x_times_x, gb_dims(2, 1, 3), (float[]){5, 10, 15.23232f}, 0)) return 1;
    printf("\n");
    if (show_derivative("x^2 + x - 1", x_squared_plus_x_minus_1, gb_dims(0), (float[]){3}, 0)) return 1;
    printf("\n");
    if (show_derivative("[x0^2, x0 * x1, exp(x1)]", vector_function, gb_dims(1, 2), (float[]){3, 0.5f}, 1)) return 1;
    return 0;
}
