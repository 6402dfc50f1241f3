/* Every op's forward value and gradient on CUDA against the CPU: the same graph, the same random
 * inputs, one session on each device. float32 within 1e-5 relative (to each element, or to the
 * tensor's mean magnitude where elements cancel), float64 within 1e-10, integers and booleans
 * exactly. Shapes are random per trial, from 1 up to past a warp (37) and a block (300). The
 * optimizers are compared after several steps.
 *
 * Needs a GPU (or the emulator, ctest cuda_emulated); elsewhere the tests report a skip. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_compare.h"
#include "gradboard/engine.h"

enum { MAX_INPUTS = 3, TRIALS = 3 };

typedef gb_node *(*build_fn)(gb_graph *g, gb_node **in);

/* Dimensions as in test_gradcheck: > 0 fixed, -k the trial's random size k (shared by inputs). */
typedef struct op_case {
    const char *name;
    int n_inputs;
    gb_dtype dtypes[MAX_INPUTS]; /* 0 means float32 */
    gb_shape shapes[MAX_INPUTS];
    double lo, hi;               /* float inputs uniform in [lo, hi); ints in [0, size k of labels_range) */
    int away_from_zero;
    int labels_range;            /* index inputs: values below random size number labels_range */
    int gradients;               /* also compare d(sum(out * w))/d(float inputs) */
    build_fn build;
} op_case;

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static double uniform(double lo, double hi)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;
}

static gb_dtype dtype_of(const op_case *c, int i) { return c->dtypes[i] ? c->dtypes[i] : GB_F32; }


static gb_tensor *random_input(const op_case *c, int i, gb_shape s, const int64_t *sizes)
{
    gb_dtype t = dtype_of(c, i);
    gb_tensor *v = gb_tensor_new(t, s);
    for (int64_t j = 0; j < gb_shape_elements(&s); j++) {
        double x = uniform(c->lo, c->hi);
        if (c->away_from_zero && fabs(x) < 0.1) x = x < 0 ? x - 0.1 : x + 0.1;
        if (t == GB_F32) ((float *)gb_tensor_data(v))[j] = (float)x;
        if (t == GB_F64) ((double *)gb_tensor_data(v))[j] = x;
        int64_t label = (int64_t)uniform(0, (double)sizes[c->labels_range ? c->labels_range : 1]);
        if (t == GB_I32) ((int32_t *)gb_tensor_data(v))[j] = (int32_t)label;
        if (t == GB_I64) ((int64_t *)gb_tensor_data(v))[j] = label;
    }
    return v;
}

static double mean_magnitude(const gb_tensor *t)
{
    double sum = 0;
    int64_t n = gb_tensor_elements(t);
    for (int64_t i = 0; i < n; i++) sum += fabs(gb_tensor_get(t, i));
    return n ? sum / (double)n : 0;
}


static void check_case(const op_case *c)
{
    for (int trial = 0; trial < TRIALS; trial++) {
        int64_t sizes[8] = {1, 1, 1, 1, 1, 1, 1, 1};
        static const int64_t pool[] = {1, 2, 3, 5, 8, 13, 37, 300};
        for (int k = 1; k < 8; k++) sizes[k] = pool[(int)uniform(0, trial == 0 ? 4 : 8)];
        gb_graph *g = gb_graph_new();
        gb_node *in[MAX_INPUTS];
        gb_tensor *values[MAX_INPUTS];
        gb_feed feeds[MAX_INPUTS];
        for (int i = 0; i < c->n_inputs; i++) {
            gb_shape s = c->shapes[i];
            for (int d = 0; d < s.rank; d++)
                if (s.dim[d] < 0) s.dim[d] = sizes[-s.dim[d]];
            char name[8];
            snprintf(name, sizeof name, "in%d", i);
            in[i] = gb_placeholder(g, name, dtype_of(c, i), s);
            values[i] = random_input(c, i, s, sizes);
            feeds[i] = (gb_feed){in[i], values[i]};
        }
        gb_node *fetches[1 + MAX_INPUTS] = {c->build(g, in)};
        size_t n_fetches = 1;
        double scale = 0;
        for (int i = 0; i < c->n_inputs; i++)
            if (is_float(dtype_of(c, i))) scale = fmax(scale, mean_magnitude(values[i]));
        gb_tensor *weights = NULL;
        if (c->gradients) { /* the output's run-time shape, for the weights */
            gb_session *probe = gb_session_new(g, GB_CPU);
            const gb_tensor *out;
            cr_assert_eq(gb_session_run(probe, feeds, (size_t)c->n_inputs, fetches, 1, &out), GB_OK, "%s: %s", c->name,
                         gb_errmsg());
            weights = gb_tensor_new(gb_tensor_dtype(out), *gb_tensor_shape(out));
            gb_session_free(probe);
            for (int64_t j = 0; j < gb_tensor_elements(weights); j++) {
                double w = uniform(-1, 1);
                if (gb_tensor_dtype(weights) == GB_F64) ((double *)gb_tensor_data(weights))[j] = w;
                else ((float *)gb_tensor_data(weights))[j] = (float)w;
            }
            gb_node *y = gb_reduce_sum(g, gb_mul(g, fetches[0], gb_constant(g, "weights", weights)), GB_ALL_AXES, 0);
            gb_node *grads[MAX_INPUTS] = {NULL};
            gb_gradients(g, y, in, (size_t)c->n_inputs, grads);
            for (int i = 0; i < c->n_inputs; i++)
                if (grads[i] && is_float(dtype_of(c, i))) fetches[n_fetches++] = grads[i];
        }
        cr_assert_eq(gb_graph_status(g), GB_OK, "%s: %s", c->name, gb_graph_errmsg(g));
        gb_session *cpu = gb_session_new(g, GB_CPU), *cuda = gb_session_new(g, GB_CUDA);
        cr_assert_not_null(cpu, "%s: %s", c->name, gb_errmsg());
        cr_assert_not_null(cuda, "%s: %s", c->name, gb_errmsg());
        const gb_tensor *want[1 + MAX_INPUTS], *got[1 + MAX_INPUTS];
        gb_tensor *kept[1 + MAX_INPUTS];
        /* run by run (dropout draws a new mask each run): eager, captured as a CUDA graph, replayed */
        for (int run = 0; run < 3; run++) {
            cr_assert_eq(gb_session_run(cpu, feeds, (size_t)c->n_inputs, fetches, n_fetches, want), GB_OK, "%s: %s",
                         c->name, gb_errmsg());
            for (size_t f = 0; f < n_fetches; f++)
                kept[f] = gb_tensor_from(gb_tensor_dtype(want[f]), *gb_tensor_shape(want[f]), gb_tensor_data(want[f]));
            cr_assert_eq(gb_session_run(cuda, feeds, (size_t)c->n_inputs, fetches, n_fetches, got), GB_OK,
                         "%s (CUDA, run %d): %s", c->name, run, gb_errmsg());
            for (size_t f = 0; f < n_fetches; f++) {
                char why[256];
                const char *bad = mismatch(kept[f], got[f], scale, why, sizeof why);
                cr_assert_null(bad, "%s, trial %d, run %d, %s: %s", c->name, trial, run,
                               f == 0 ? "forward" : gb_node_name(fetches[f]), why);
                gb_tensor_free(kept[f]);
            }
        }
        gb_session_free(cuda);
        gb_session_free(cpu);
        for (int i = 0; i < c->n_inputs; i++) gb_tensor_free(values[i]);
        gb_tensor_free(weights);
        gb_graph_free(g);
    }
}

static void check_all(const op_case *cases, size_t n)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    for (size_t i = 0; i < n; i++) check_case(&cases[i]);
}

#define S(...) gb_dims(__VA_ARGS__)
#define F64 GB_F64
#define I32 GB_I32

static gb_node *u_neg(gb_graph *g, gb_node **in) { return gb_neg(g, in[0]); }
static gb_node *u_square(gb_graph *g, gb_node **in) { return gb_square(g, in[0]); }
static gb_node *u_sqrt(gb_graph *g, gb_node **in) { return gb_sqrt(g, in[0]); }
static gb_node *u_exp(gb_graph *g, gb_node **in) { return gb_exp(g, in[0]); }
static gb_node *u_log(gb_graph *g, gb_node **in) { return gb_log(g, in[0]); }
static gb_node *u_abs(gb_graph *g, gb_node **in) { return gb_abs(g, in[0]); }
static gb_node *u_sign(gb_graph *g, gb_node **in) { return gb_sign(g, in[0]); }
static gb_node *u_relu(gb_graph *g, gb_node **in) { return gb_relu(g, in[0]); }
static gb_node *u_leaky(gb_graph *g, gb_node **in) { return gb_leaky_relu(g, in[0], 0.2); }
static gb_node *u_sigmoid(gb_graph *g, gb_node **in) { return gb_sigmoid(g, in[0]); }
static gb_node *u_tanh(gb_graph *g, gb_node **in) { return gb_tanh(g, in[0]); }

Test(cuda_ops, unary)
{
    const op_case cases[] = {
        {"neg", 1, {0}, {S(3, -1, -2, -3)}, -3, 3, 0, 0, 1, u_neg},
        {"square", 1, {0}, {S(2, -1, -2)}, -3, 3, 0, 0, 1, u_square},
        {"sqrt", 1, {0}, {S(2, -1, -2)}, 0.1, 4, 0, 0, 1, u_sqrt},
        {"exp", 1, {0}, {S(2, -1, -2)}, -4, 4, 0, 0, 1, u_exp},
        {"log", 1, {0}, {S(2, -1, -2)}, 0.1, 4, 0, 0, 1, u_log},
        {"abs", 1, {0}, {S(2, -1, -2)}, -3, 3, 1, 0, 1, u_abs},
        {"sign", 1, {0}, {S(2, -1, -2)}, -3, 3, 1, 0, 0, u_sign},
        {"relu", 1, {0}, {S(2, -1, -2)}, -3, 3, 1, 0, 1, u_relu},
        {"leaky_relu", 1, {0}, {S(2, -1, -2)}, -3, 3, 1, 0, 1, u_leaky},
        {"sigmoid", 1, {0}, {S(2, -1, -2)}, -6, 6, 0, 0, 1, u_sigmoid},
        {"tanh", 1, {0}, {S(2, -1, -2)}, -3, 3, 0, 0, 1, u_tanh},
        {"tanh float64", 1, {F64}, {S(2, -1, -2)}, -3, 3, 0, 0, 1, u_tanh},
        {"sigmoid float64", 1, {F64}, {S(1, -1)}, -6, 6, 0, 0, 1, u_sigmoid},
    };
    check_all(cases, sizeof cases / sizeof *cases);
}

static gb_node *b_add(gb_graph *g, gb_node **in) { return gb_add(g, in[0], in[1]); }
static gb_node *b_sub(gb_graph *g, gb_node **in) { return gb_sub(g, in[0], in[1]); }
static gb_node *b_mul(gb_graph *g, gb_node **in) { return gb_mul(g, in[0], in[1]); }
static gb_node *b_div(gb_graph *g, gb_node **in) { return gb_div(g, in[0], in[1]); }
static gb_node *b_pow(gb_graph *g, gb_node **in) { return gb_pow(g, in[0], in[1]); }
static gb_node *b_max(gb_graph *g, gb_node **in) { return gb_maximum(g, in[0], in[1]); }
static gb_node *b_min(gb_graph *g, gb_node **in) { return gb_minimum(g, in[0], in[1]); }
static gb_node *b_greater(gb_graph *g, gb_node **in) { return gb_greater(g, in[0], in[1]); }
static gb_node *b_greater_equal(gb_graph *g, gb_node **in) { return gb_greater_equal(g, in[0], in[1]); }
static gb_node *b_equal_int(gb_graph *g, gb_node **in) { return gb_equal(g, in[0], in[1]); }

Test(cuda_ops, binary_with_broadcasting)
{
    const op_case cases[] = {
        {"add [a,b]+[b]", 2, {0}, {S(2, -1, -2), S(1, -2)}, -2, 2, 0, 0, 1, b_add},
        {"add [a,1,b]+[c,1]", 2, {0}, {S(3, -1, 1, -2), S(2, -3, 1)}, -2, 2, 0, 0, 1, b_add},
        {"sub scalar-[a,b]", 2, {0}, {S(0), S(2, -1, -2)}, -2, 2, 0, 0, 1, b_sub},
        {"mul [a,b,c]*[a,1,c]", 2, {0}, {S(3, -1, -2, -3), S(3, -1, 1, -3)}, -2, 2, 0, 0, 1, b_mul},
        {"div [a,b]/[b]", 2, {0}, {S(2, -1, -2), S(1, -2)}, 0.5, 2, 0, 0, 1, b_div},
        {"pow [a,b]^[b]", 2, {0}, {S(2, -1, -2), S(1, -2)}, 0.5, 2, 0, 0, 1, b_pow},
        {"maximum [a,b],[a,1]", 2, {0}, {S(2, -1, -2), S(2, -1, 1)}, -2, 2, 0, 0, 1, b_max},
        {"minimum [a,b],[b]", 2, {0}, {S(2, -1, -2), S(1, -2)}, -2, 2, 0, 0, 1, b_min},
        {"greater", 2, {0}, {S(2, -1, -2), S(1, -2)}, -2, 2, 0, 0, 0, b_greater},
        {"greater_equal", 2, {0}, {S(2, -1, -2), S(2, -1, -2)}, -2, 2, 0, 0, 0, b_greater_equal},
        {"equal int32", 2, {I32, I32}, {S(2, -1, -2), S(1, -2)}, 0, 1, 0, 3, 0, b_equal_int},
        {"mul float64 [a,b]*[b]", 2, {F64, F64}, {S(2, -1, -2), S(1, -2)}, -2, 2, 0, 0, 1, b_mul},
        {"add int32", 2, {I32, I32}, {S(2, -1, -2), S(1, -2)}, 0, 1, 0, 5, 0, b_add},
    };
    check_all(cases, sizeof cases / sizeof *cases);
}

static gb_node *r_sum0(gb_graph *g, gb_node **in) { return gb_reduce_sum(g, in[0], GB_AXIS(0), 0); }
static gb_node *r_sum1k(gb_graph *g, gb_node **in) { return gb_reduce_sum(g, in[0], GB_AXIS(1), 1); }
static gb_node *r_sum02(gb_graph *g, gb_node **in) { return gb_reduce_sum(g, in[0], GB_AXIS(0) | GB_AXIS(2), 0); }
static gb_node *r_mean_all(gb_graph *g, gb_node **in) { return gb_reduce_mean(g, in[0], GB_ALL_AXES, 0); }
static gb_node *r_mean2(gb_graph *g, gb_node **in) { return gb_reduce_mean(g, in[0], GB_AXIS(2), 0); }
static gb_node *r_max1(gb_graph *g, gb_node **in) { return gb_reduce_max(g, in[0], GB_AXIS(1), 0); }
static gb_node *r_max_all(gb_graph *g, gb_node **in) { return gb_reduce_max(g, in[0], GB_ALL_AXES, 1); }

Test(cuda_ops, reductions)
{
    const op_case cases[] = {
        {"sum axis 0", 1, {0}, {S(3, -1, -2, -3)}, -2, 2, 0, 0, 1, r_sum0},
        {"sum axis 1 keepdims", 1, {0}, {S(3, -1, -2, -3)}, -2, 2, 0, 0, 1, r_sum1k},
        {"sum axes 0,2", 1, {0}, {S(3, -1, -2, -3)}, -2, 2, 0, 0, 1, r_sum02},
        {"mean all", 1, {0}, {S(3, -1, -2, -3)}, -2, 2, 0, 0, 1, r_mean_all},
        {"mean axis 2", 1, {0}, {S(3, -1, -2, -3)}, -2, 2, 0, 0, 1, r_mean2},
        {"max axis 1", 1, {0}, {S(3, -1, -2, -3)}, -2, 2, 0, 0, 1, r_max1},
        {"max all keepdims", 1, {0}, {S(2, -1, -2)}, -2, 2, 0, 0, 1, r_max_all},
        {"sum axis 0 float64", 1, {F64}, {S(2, -1, -2)}, -2, 2, 0, 0, 1, r_sum0},
    };
    check_all(cases, sizeof cases / sizeof *cases);
}

static gb_node *m_nn(gb_graph *g, gb_node **in) { return gb_matmul(g, in[0], in[1], 0, 0); }
static gb_node *m_nt(gb_graph *g, gb_node **in) { return gb_matmul(g, in[0], in[1], 0, 1); }
static gb_node *m_tn(gb_graph *g, gb_node **in) { return gb_matmul(g, in[0], in[1], 1, 0); }
static gb_node *m_tt(gb_graph *g, gb_node **in) { return gb_matmul(g, in[0], in[1], 1, 1); }
static gb_node *dense_relu(gb_graph *g, gb_node **in) { return gb_relu(g, gb_add(g, gb_matmul(g, in[0], in[1], 0, 0), in[2])); }
static gb_node *dense_tanh(gb_graph *g, gb_node **in) { return gb_tanh(g, gb_add(g, gb_matmul(g, in[0], in[1], 0, 0), in[2])); }

Test(cuda_ops, matmul)
{
    const op_case cases[] = {
        {"matmul", 2, {0}, {S(2, -1, -2), S(2, -2, -3)}, -1, 1, 0, 0, 1, m_nn},
        {"matmul b^T", 2, {0}, {S(2, -1, -2), S(2, -3, -2)}, -1, 1, 0, 0, 1, m_nt},
        {"matmul a^T", 2, {0}, {S(2, -2, -1), S(2, -2, -3)}, -1, 1, 0, 0, 1, m_tn},
        {"matmul a^T b^T", 2, {0}, {S(2, -2, -1), S(2, -3, -2)}, -1, 1, 0, 0, 1, m_tt},
        {"batched matmul", 2, {0}, {S(3, -4, -1, -2), S(3, -4, -2, -3)}, -1, 1, 0, 0, 1, m_nn},
        {"batched matmul a^T", 2, {0}, {S(3, -4, -2, -1), S(3, -4, -2, -3)}, -1, 1, 0, 0, 1, m_tn},
        {"matmul float64", 2, {F64, F64}, {S(2, -1, -2), S(2, -2, -3)}, -1, 1, 0, 0, 1, m_nn},
        {"dense + bias + relu (fused)", 3, {0}, {S(2, -1, -2), S(2, -2, -3), S(1, -3)}, -1, 1, 0, 0, 1, dense_relu},
        {"dense + bias + tanh (fused)", 3, {0}, {S(2, -1, -2), S(2, -2, -3), S(1, -3)}, -1, 1, 0, 0, 1, dense_tanh},
    };
    check_all(cases, sizeof cases / sizeof *cases);
}

static gb_node *n_softmax(gb_graph *g, gb_node **in) { return gb_softmax(g, in[0]); }
static gb_node *n_log_softmax(gb_graph *g, gb_node **in) { return gb_log_softmax(g, in[0]); }
static gb_node *n_sparse_xent(gb_graph *g, gb_node **in) { return gb_sparse_softmax_cross_entropy(g, in[0], in[1]); }
static gb_node *n_xent(gb_graph *g, gb_node **in) { return gb_softmax_cross_entropy(g, in[0], in[1]); }
static gb_node *n_sigmoid_xent(gb_graph *g, gb_node **in) { return gb_sigmoid_cross_entropy(g, in[0], in[1]); }
static gb_node *n_mse(gb_graph *g, gb_node **in) { return gb_mean_squared_error(g, in[0], in[1]); }
static gb_node *n_dropout(gb_graph *g, gb_node **in) { return gb_dropout(g, in[0], 0.3, 42); }
static gb_node *n_one_hot(gb_graph *g, gb_node **in) { return gb_one_hot(g, in[0], 7); }
static gb_node *n_argmax(gb_graph *g, gb_node **in) { return gb_argmax(g, in[0]); }
static gb_node *n_accuracy(gb_graph *g, gb_node **in) { return gb_accuracy(g, in[0], in[1]); }
static gb_node *n_cast_i32(gb_graph *g, gb_node **in) { return gb_cast(g, gb_mul(g, in[0], gb_scalar(g, 3)), GB_I32); }
static gb_node *n_cast_f64(gb_graph *g, gb_node **in) { return gb_cast(g, in[0], GB_F64); }

Test(cuda_ops, neural_network_ops)
{
    const op_case cases[] = {
        {"softmax", 1, {0}, {S(2, -1, -2)}, -5, 5, 0, 0, 1, n_softmax},
        {"log_softmax", 1, {0}, {S(2, -1, -2)}, -5, 5, 0, 0, 1, n_log_softmax},
        {"sparse softmax cross-entropy", 2, {0, I32}, {S(2, -1, -2), S(1, -1)}, -5, 5, 0, 2, 1, n_sparse_xent},
        {"sparse xent float64", 2, {F64, I32}, {S(2, -1, -2), S(1, -1)}, -5, 5, 0, 2, 1, n_sparse_xent},
        {"softmax cross-entropy (soft labels)", 2, {0}, {S(2, -1, -2), S(2, -1, -2)}, 0, 1, 0, 0, 1, n_xent},
        {"sigmoid cross-entropy", 2, {0}, {S(2, -1, -2), S(2, -1, -2)}, 0, 1, 0, 0, 1, n_sigmoid_xent},
        {"mean squared error", 2, {0}, {S(2, -1, -2), S(2, -1, -2)}, -2, 2, 0, 0, 1, n_mse},
        {"dropout (the CPU's mask)", 1, {0}, {S(2, -1, -2)}, -2, 2, 1, 0, 1, n_dropout},
        {"one_hot", 1, {I32}, {S(2, -1, -2)}, 0, 1, 0, 3, 0, n_one_hot},
        {"argmax", 1, {0}, {S(2, -1, -2)}, -2, 2, 0, 0, 0, n_argmax},
        {"accuracy", 2, {0, I32}, {S(2, -1, -2), S(1, -1)}, -2, 2, 0, 2, 0, n_accuracy},
        {"cast to int32", 1, {0}, {S(2, -1, -2)}, -2, 2, 0, 0, 0, n_cast_i32},
        {"cast to float64", 1, {0}, {S(2, -1, -2)}, -2, 2, 0, 0, 1, n_cast_f64},
    };
    check_all(cases, sizeof cases / sizeof *cases);
}

static gb_node *s_transpose(gb_graph *g, gb_node **in) { return gb_transpose(g, in[0], (const int[]){2, 0, 1}); }
static gb_node *s_slice(gb_graph *g, gb_node **in) { return gb_slice(g, in[0], S(2, 0, 0), S(2, -1, 1)); }
static gb_node *s_concat(gb_graph *g, gb_node **in) { return gb_concat(g, 2, in, 1); }
static gb_node *s_gather(gb_graph *g, gb_node **in) { return gb_gather(g, in[0], in[1]); }
static gb_node *s_reshape(gb_graph *g, gb_node **in) { return gb_tanh(g, gb_reshape(g, in[0], S(1, -1))); }

static gb_node *s_transpose_int(gb_graph *g, gb_node **in) { return gb_transpose(g, in[0], NULL); }
static gb_node *s_slice_3d(gb_graph *g, gb_node **in) { return gb_slice(g, in[0], S(3, 1, 0, 1), S(3, -1, 1, -1)); }
static gb_node *s_concat_0(gb_graph *g, gb_node **in) { return gb_concat(g, 2, in, 0); }
static gb_node *s_gather_2d(gb_graph *g, gb_node **in)
{
    return gb_gather(g, in[0], gb_reshape(g, in[1], S(2, -1, 2)));
}

/* The ops that move data (transpose, slice, concat, gather) and their gradients (the slice put
 * back into zeros, rows added at the indices) have kernels of their own: no copies to the host. */
Test(cuda_ops, shape_ops_and_gather)
{
    const op_case cases[] = {
        {"transpose", 1, {0}, {S(3, -1, -2, -3)}, -2, 2, 0, 0, 1, s_transpose},
        {"transpose int64", 1, {GB_I64}, {S(2, -1, -2)}, 0, 0, 0, 1, 0, s_transpose_int},
        {"slice", 1, {0}, {S(2, -1, -2)}, -2, 2, 0, 0, 1, s_slice},
        {"slice of 3 axes, float64", 1, {F64}, {S(3, -1, -2, -3)}, -2, 2, 0, 0, 1, s_slice_3d},
        {"concat", 2, {0}, {S(2, -1, -2), S(2, -1, -3)}, -2, 2, 0, 0, 1, s_concat},
        {"concat axis 0", 2, {0}, {S(2, -1, -2), S(2, -3, -2)}, -2, 2, 0, 0, 1, s_concat_0},
        {"gather", 2, {0, I32}, {S(2, -1, -2), S(1, -3)}, -2, 2, 0, 1, 1, s_gather},
        {"gather of rows of rows, int64 indices", 2, {F64, GB_I64}, {S(3, -1, -2, 3), S(1, 8)}, -2, 2, 0, 1, 1,
         s_gather_2d},
        {"reshape", 1, {0}, {S(2, -1, -2)}, -2, 2, 0, 0, 1, s_reshape},
    };
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg()); /* loads the driver, for dlopen */
    void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    size_t (*launches)(const char *) = driver ? (size_t(*)(const char *))dlsym(driver, "gb_emu_launches") : NULL;
    size_t copies = launches ? launches("gb_k_copy") : 0, gathers = launches ? launches("gb_k_gather") : 0,
           segment_sums = launches ? launches("gb_k_segment_sums") : 0;
    check_all(cases, sizeof cases / sizeof *cases);
    if (launches) { /* the emulator counts kernels: these ran on the device */
        cr_assert_gt(launches("gb_k_copy"), copies);
        cr_assert_gt(launches("gb_k_gather"), gathers);
        cr_assert_gt(launches("gb_k_segment_sums"), segment_sums);
    }
    if (driver) dlclose(driver);
}

/* Values at the edges of the ops' domains: NaN, signed zeros, logits far apart or huge, floats past
 * the integer types, integers that overflow. The same fetches on each device, run twice (eager,
 * then captured), compared as above; NaN matches NaN. */
Test(cuda_ops, edge_values_match_the_cpu)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, S(2, 4, 4)), *c = gb_placeholder(g, "c", GB_F32, S(1, 16));
    gb_node *n = gb_placeholder(g, "n", GB_I32, S(1, 4)), *wide = gb_placeholder(g, "wide", GB_I64, S(1, 4));
    gb_node *z = gb_mul(g, gb_sigmoid(g, gb_transpose(g, x, NULL)), gb_scalar(g, 1)); /* labels in [0, 1] */
    gb_node *zero = gb_scalar(g, 0), *bias = gb_constant_f32(g, "bias", S(1, 4), (float[]){1, NAN, -1, 0});
    gb_tensor *lt = gb_tensor_from(GB_I32, S(1, 4), (int32_t[]){0, 1, 2, 3});
    gb_node *labels = gb_constant(g, "labels", lt);
    gb_tensor_free(lt);
    gb_node *xent = gb_sigmoid_cross_entropy(g, x, z), *lsm = gb_log_softmax(g, x);
    gb_node *sparse = gb_sparse_softmax_cross_entropy(g, x, labels);
    gb_node *dxent[2], *dlsm, *dsparse, *xz[2] = {x, z};
    gb_gradients(g, gb_reduce_sum(g, xent, GB_ALL_AXES, 0), xz, 2, dxent);
    gb_gradients(g, gb_reduce_sum(g, gb_mul(g, lsm, z), GB_ALL_AXES, 0), &x, 1, &dlsm);
    gb_gradients(g, gb_reduce_sum(g, sparse, GB_ALL_AXES, 0), &x, 1, &dsparse);
    gb_node *fetches[] = {
        gb_relu(g, x), gb_sign(g, x), gb_maximum(g, x, zero), gb_maximum(g, zero, x), gb_minimum(g, x, zero),
        gb_minimum(g, zero, x), gb_relu(g, gb_add(g, x, bias)), xent, dxent[0], dxent[1], lsm, dlsm, sparse, dsparse,
        gb_cast(g, c, GB_I32), gb_cast(g, c, GB_I64), gb_cast(g, gb_cast(g, c, GB_F64), GB_I32),
        gb_cast(g, gb_cast(g, c, GB_F64), GB_I64), gb_neg(g, n), gb_abs(g, n), gb_square(g, n), gb_add(g, n, n),
        gb_sub(g, gb_neg(g, n), n), gb_mul(g, n, n), gb_neg(g, wide), gb_abs(g, wide), gb_mul(g, wide, wide),
        gb_add(g, wide, wide)};
    enum { FETCHES = sizeof fetches / sizeof *fetches };
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s", gb_graph_errmsg(g));
    gb_tensor *xv = gb_tensor_from(GB_F32, S(2, 4, 4), (float[]){NAN, -0.0f, 0, 2.5f, 1e8f, 1e8f, -30, 30,
                                                                    1e7f, 1e7f + 1, -1e8f, 100, 1e30f, -1e30f, 0.5f, -0.5f});
    gb_tensor *cv = gb_tensor_from(GB_F32, S(1, 16), (float[]){NAN, INFINITY, -INFINITY, 1e10f, -1e10f, 3e9f, -3e9f, 2.7f,
                                                                -2.7f, 1e19f, -1e19f, 2147483520.0f, -0.0f, -0.5f, 0.5f, 9.3e18f});
    gb_tensor *nv = gb_tensor_from(GB_I32, S(1, 4), (int32_t[]){INT32_MIN, INT32_MAX, 65536, -7});
    gb_tensor *wv = gb_tensor_from(GB_I64, S(1, 4), (int64_t[]){INT64_MIN, INT64_MAX, 4294967296LL, -7});
    gb_feed feeds[] = {{x, xv}, {c, cv}, {n, nv}, {wide, wv}};
    gb_session *cpu = gb_session_new(g, GB_CPU), *cuda = gb_session_new(g, GB_CUDA);
    cr_assert_not_null(cuda, "%s", gb_errmsg());
    const gb_tensor *want[FETCHES], *got[FETCHES];
    for (int run = 0; run < 2; run++) {
        cr_assert_eq(gb_session_run(cpu, feeds, 4, fetches, FETCHES, want), GB_OK, "%s", gb_errmsg());
        cr_assert_eq(gb_session_run(cuda, feeds, 4, fetches, FETCHES, got), GB_OK, "%s", gb_errmsg());
        for (int f = 0; f < FETCHES; f++) {
            char why[256];
            cr_assert_null(mismatch(want[f], got[f], 0, why, sizeof why), "run %d, %s: %s", run, gb_node_name(fetches[f]),
                           why);
        }
    }
    gb_session_free(cuda);
    gb_session_free(cpu);
    gb_tensor_free(xv);
    gb_tensor_free(cv);
    gb_tensor_free(nv);
    gb_tensor_free(wv);
    gb_graph_free(g);
}

/* Several optimizer steps of a small regression on each device, then the variables compared. */
static void compare_training(gb_optimizer opt, const char *name)
{
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, S(2, -1, 6));
    gb_node *t = gb_placeholder(g, "t", GB_F32, S(2, -1, 3));
    gb_node *w = gb_variable(g, "w", GB_F32, S(2, 6, 3), gb_init_glorot_uniform(7));
    gb_node *b = gb_variable(g, "b", GB_F32, S(1, 3), gb_init_zeros());
    gb_node *loss = gb_mean_squared_error(g, gb_add(g, gb_matmul(g, x, w, 0, 0), b), t);
    gb_node *lr = gb_cosine_decay(g, 0.05, 20, 0.1);
    opt.learning_rate_node = lr;
    gb_node *train = gb_minimize(g, opt, loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    cr_assert_eq(gb_graph_status(g), GB_OK, "%s: %s", name, gb_graph_errmsg(g));
    gb_tensor *xv = gb_tensor_new(GB_F32, S(2, 16, 6)), *tv = gb_tensor_new(GB_F32, S(2, 16, 3));
    for (int i = 0; i < 16 * 6; i++) ((float *)gb_tensor_data(xv))[i] = (float)uniform(-1, 1);
    for (int i = 0; i < 16 * 3; i++) ((float *)gb_tensor_data(tv))[i] = (float)uniform(-1, 1);
    gb_feed feeds[] = {{x, xv}, {t, tv}};
    gb_session *s[2] = {gb_session_new(g, GB_CPU), gb_session_new(g, GB_CUDA)};
    for (int d = 0; d < 2; d++) {
        cr_assert_not_null(s[d], "%s: %s", name, gb_errmsg());
        cr_assert_eq(gb_session_run(s[d], NULL, 0, &init, 1, NULL), GB_OK, "%s: %s", name, gb_errmsg());
        for (int step = 0; step < 8; step++)
            cr_assert_eq(gb_session_run(s[d], feeds, 2, &train, 1, NULL), GB_OK, "%s step %d: %s", name, step, gb_errmsg());
    }
    const gb_node *vars[] = {w, b};
    for (int v = 0; v < 2; v++) {
        gb_tensor *on_cpu = gb_tensor_from(GB_F32, gb_node_shape(vars[v]), gb_tensor_data(gb_session_variable(s[0], vars[v])));
        char why[256];
        const char *bad = mismatch(on_cpu, gb_session_variable(s[1], vars[v]), 0, why, sizeof why);
        cr_assert_null(bad, "%s: %s after 8 steps: %s", name, gb_node_name(vars[v]), why);
        gb_tensor_free(on_cpu);
    }
    gb_session_free(s[0]);
    gb_session_free(s[1]);
    gb_tensor_free(xv);
    gb_tensor_free(tv);
    gb_graph_free(g);
}

Test(cuda_ops, optimizers)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    compare_training(gb_gradient_descent(0.1), "gradient descent");
    compare_training(gb_momentum(0.1, 0.9, 0), "momentum");
    compare_training(gb_momentum(0.1, 0.9, 1), "nesterov momentum");
    compare_training(gb_adam(0.01), "adam");
    compare_training(gb_adamw(0.01, 0.01), "adamw");
    compare_training(gb_rmsprop(0.01), "rmsprop");
    compare_training(gb_adagrad(0.1), "adagrad");
}

/* A label outside [0, classes) is reported after the run, naming the op, as on the CPU. */
Test(cuda_ops, bad_labels_fail_the_run)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    gb_graph *g = gb_graph_new();
    gb_node *logits = gb_placeholder(g, "logits", GB_F32, S(2, -1, 4));
    gb_node *labels = gb_placeholder(g, "labels", GB_I32, S(1, -1));
    gb_node *loss = gb_reduce_mean(g, gb_sparse_softmax_cross_entropy(g, logits, labels), GB_ALL_AXES, 0);
    gb_tensor *lv = gb_tensor_new(GB_F32, S(2, 3, 4));
    int32_t bad[] = {1, 7, 0};
    gb_tensor *yv = gb_tensor_from(GB_I32, S(1, 3), bad);
    gb_feed feeds[] = {{logits, lv}, {labels, yv}};
    gb_session *s = gb_session_new(g, GB_CUDA);
    for (int run = 0; run < 3; run++) { /* eager, captured, replayed */
        cr_assert_eq(gb_session_run(s, feeds, 2, &loss, 1, NULL), GB_EINVAL, "run %d", run);
        cr_assert(strstr(gb_errmsg(), "label 7 of example 1 is outside [0, 4)"), "%s", gb_errmsg());
    }
    ((int32_t *)gb_tensor_data(yv))[1] = 3;
    cr_assert_eq(gb_session_run(s, feeds, 2, &loss, 1, NULL), GB_OK, "%s", gb_errmsg());
    gb_session_free(s);
    gb_tensor_free(lv);
    gb_tensor_free(yv);
    gb_graph_free(g);
}

/* A failing step changes nothing, as on the CPU: the updates and global_step's increment are
 * skipped once a kernel of the run has failed. */
Test(cuda_ops, a_failed_step_changes_no_variable)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    gb_graph *g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, S(2, -1, 4));
    gb_node *labels = gb_placeholder(g, "labels", GB_I32, S(1, -1));
    gb_node *w = gb_variable(g, "w", GB_F32, S(2, 4, 3), gb_init_glorot_uniform(3));
    gb_node *loss = gb_reduce_mean(g, gb_sparse_softmax_cross_entropy(g, gb_matmul(g, x, w, 0, 0), labels), GB_ALL_AXES, 0);
    gb_node *train = gb_minimize(g, gb_adam(0.1), loss, NULL, 0);
    gb_node *step = gb_global_step(g);
    gb_node *init = gb_global_variables_initializer(g);
    gb_tensor *xv = gb_tensor_new(GB_F32, S(2, 2, 4));
    for (int i = 0; i < 8; i++) ((float *)gb_tensor_data(xv))[i] = (float)i / 8;
    int32_t good[] = {0, 2}, bad[] = {0, 9};
    gb_tensor *gv = gb_tensor_from(GB_I32, S(1, 2), good), *bv = gb_tensor_from(GB_I32, S(1, 2), bad);
    gb_session *s = gb_session_new(g, GB_CUDA);
    cr_assert_eq(gb_session_run(s, NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    gb_feed feeds[] = {{x, xv}, {labels, gv}};
    for (int i = 0; i < 3; i++) cr_assert_eq(gb_session_run(s, feeds, 2, &train, 1, NULL), GB_OK, "%s", gb_errmsg());
    gb_tensor *before = gb_tensor_from(GB_F32, S(2, 4, 3), gb_tensor_data(gb_session_variable(s, w)));
    feeds[1].value = bv;
    for (int i = 0; i < 3; i++) cr_assert_eq(gb_session_run(s, feeds, 2, &train, 1, NULL), GB_EINVAL);
    char why[256];
    cr_assert_null(mismatch(before, gb_session_variable(s, w), 0, why, sizeof why), "w changed: %s", why);
    cr_assert_eq(gb_tensor_get(gb_session_variable(s, step), 0), 3.0, "global_step advanced on failed steps");
    gb_session_free(s);
    gb_tensor_free(before);
    gb_tensor_free(xv);
    gb_tensor_free(gv);
    gb_tensor_free(bv);
    gb_graph_free(g);
}

/* Dropout without a global_step counts session runs; such a plan must never be replayed from a
 * CUDA graph (the count would be baked in), even when its first run failed before reaching it. */
Test(cuda_ops, dropout_counting_runs_draws_a_new_mask_every_run)
{
    if (!cuda_ready()) cr_skip_test("no CUDA device here: %s", gb_errmsg());
    gb_graph *g = gb_graph_new();
    gb_node *w = gb_variable(g, "w", GB_F32, S(1, 64), gb_init_ones());
    gb_node *y = gb_dropout(g, w, 0.5, 11);
    gb_node *init = gb_global_variables_initializer(g);
    gb_session *s[2] = {gb_session_new(g, GB_CPU), gb_session_new(g, GB_CUDA)};
    for (int d = 0; d < 2; d++) {
        cr_assert_eq(gb_session_run(s[d], NULL, 0, &y, 1, NULL), GB_ESTATE, "w is not initialised yet");
        cr_assert_eq(gb_session_run(s[d], NULL, 0, &init, 1, NULL), GB_OK, "%s", gb_errmsg());
    }
    gb_tensor *previous = NULL;
    for (int run = 0; run < 4; run++) {
        const gb_tensor *on_cpu, *on_cuda;
        cr_assert_eq(gb_session_run(s[0], NULL, 0, &y, 1, &on_cpu), GB_OK, "%s", gb_errmsg());
        gb_tensor *want = gb_tensor_from(GB_F32, S(1, 64), gb_tensor_data(on_cpu));
        cr_assert_eq(gb_session_run(s[1], NULL, 0, &y, 1, &on_cuda), GB_OK, "%s", gb_errmsg());
        char why[256];
        cr_assert_null(mismatch(want, on_cuda, 0, why, sizeof why), "run %d: %s", run, why);
        if (previous) cr_assert_not_null(mismatch(previous, want, 0, why, sizeof why), "the mask did not change");
        gb_tensor_free(previous);
        previous = want;
    }
    gb_tensor_free(previous);
    gb_session_free(s[0]);
    gb_session_free(s[1]);
    gb_graph_free(g);
}
