/* Sums over axes (reduce_sum, reduce_mean, the gradient of broadcasting). float32 sums are
 * accumulated in double: summed in float32 one after another, 2^25 ones stop growing at
 * 33554432 and a long mean drifts by whole percents, where NumPy's and PyTorch's pairwise sums
 * stay within a few ulps. Double keeps every sum within one rounding of the exact value.
 *
 * The axes are first merged into groups, each all kept or all reduced. Two layouts cover every
 * case: when the innermost group is reduced, each output is a sum of contiguous runs (a row sum);
 * when it is kept, each output row is a sum of rows (a bias gradient), done a block of columns
 * at a time so that the column sums stay in L1 while the rows stream by. */
#include <string.h>

#include "internal/kernel_util.h"
#include "internal/parallel.h"
#include "internal/shape_util.h"

enum {
    LANES = 16,                 /* independent partial sums, which the compiler turns into vectors */
    COLUMN_BLOCK = 512,         /* columns summed together (4 KiB of double sums) */
    WHOLE_PARTS = 64,           /* pieces of a whole-tensor sum shared out between the threads */
    PARALLEL_MIN_ELEMENTS = 1 << 16,
};

typedef struct group_walk {
    int rank;
    int64_t dim[GB_MAX_RANK], stride[GB_MAX_RANK]; /* in elements of x */
} group_walk;

typedef struct sum_job {
    const void *x;
    void *out;
    int f64;
    group_walk kept;    /* the outputs' axes, outermost first (the innermost one excluded when it is `cols`) */
    group_walk reduced; /* the summed axes (the innermost one excluded when it is `run`) */
    int64_t run;        /* row sums: the contiguous elements summed for one output and reduced index */
    int64_t cols;       /* row-of-rows sums: the innermost kept group's size; 0 for row sums */
    int64_t blocks_per_row;
} sum_job;

/* x's offset of the index-th point of walk (row-major over its dims). */
static int64_t walk_offset(const group_walk *w, int64_t index)
{
    int64_t offset = 0;
    for (int d = w->rank - 1; d >= 0; d--) {
        offset += index % w->dim[d] * w->stride[d];
        index /= w->dim[d];
    }
    return offset;
}

static int64_t walk_points(const group_walk *w)
{
    int64_t n = 1;
    for (int d = 0; d < w->rank; d++) n *= w->dim[d];
    return n;
}

/* Steps a counter over walk's points, moving offset along; returns 0 after the last. */
static int walk_next(const group_walk *w, int64_t *index, int64_t *offset)
{
    for (int d = w->rank - 1; d >= 0; d--) {
        index[d]++;
        *offset += w->stride[d];
        if (index[d] < w->dim[d]) return 1;
        *offset -= w->stride[d] * w->dim[d];
        index[d] = 0;
    }
    return 0;
}

/* The sum of n contiguous elements in LANES partial sums (vectors), in double. */
#define DEFINE_RUN_SUM(T, suffix)                                           \
    static inline double run_sum_##suffix(const T *x, int64_t n)            \
    {                                                                       \
        double lane[LANES] = {0};                                           \
        int64_t i = 0;                                                      \
        for (; i + LANES <= n; i += LANES)                                  \
            for (int l = 0; l < LANES; l++) lane[l] += x[i + l];            \
        double sum = 0;                                                     \
        for (int l = 0; l < LANES; l++) sum += lane[l];                     \
        for (; i < n; i++) sum += x[i];                                     \
        return sum;                                                         \
    }
DEFINE_RUN_SUM(float, f32)
DEFINE_RUN_SUM(double, f64)

static inline double run_sum(const sum_job *j, int64_t offset, int64_t n)
{
    return j->f64 ? run_sum_f64((const double *)j->x + offset, n) : run_sum_f32((const float *)j->x + offset, n);
}

/* Outputs [begin, end): each the sum of its runs, one per point of the reduced walk. */
GB_SIMD_CLONES static void row_sums_range(void *ctx, int64_t begin, int64_t end)
{
    const sum_job *j = ctx;
    int64_t base = 0, out_index[GB_MAX_RANK] = {0};
    for (int64_t o = begin, d = j->kept.rank - 1; d >= 0; d--) { /* the counter at `begin` */
        out_index[d] = o % j->kept.dim[d];
        base += out_index[d] * j->kept.stride[d];
        o /= j->kept.dim[d];
    }
    for (int64_t o = begin; o < end; o++) {
        int64_t index[GB_MAX_RANK] = {0}, offset = 0;
        double sum = 0;
        do {
            if (j->run < LANES) { /* short rows (a classifier's logits): the lanes would cost more than they save */
                if (j->f64)
                    for (int64_t i = 0; i < j->run; i++) sum += ((const double *)j->x)[base + offset + i];
                else
                    for (int64_t i = 0; i < j->run; i++) sum += ((const float *)j->x)[base + offset + i];
            } else {
                sum += run_sum(j, base + offset, j->run);
            }
        } while (walk_next(&j->reduced, index, &offset));
        if (j->f64)
            ((double *)j->out)[o] = sum;
        else
            ((float *)j->out)[o] = (float)sum;
        walk_next(&j->kept, out_index, &base);
    }
}

/* acc[c] += the rows' c-th values, for up to four rows at once: acc is read and written once per
 * four rows, which keeps the loop as fast as the float32 sums it replaced. */
#define ADD_ROWS(T)                                                                            \
    {                                                                                          \
        const T *restrict r0 = (const T *)x + row[0], *restrict r1 = (const T *)x + row[n > 1], \
                          *restrict r2 = (const T *)x + row[n > 2 ? 2 : 0],                    \
                          *restrict r3 = (const T *)x + row[n > 3 ? 3 : 0];                    \
        if (n == 4)                                                                            \
            for (int64_t c = 0; c < width; c++)                                                \
                acc[c] += ((double)r0[c] + (double)r1[c]) + ((double)r2[c] + (double)r3[c]);   \
        else                                                                                   \
            for (int k = 0; k < n; k++) {                                                      \
                const T *restrict r = (const T *)x + row[k];                                   \
                for (int64_t c = 0; c < width; c++) acc[c] += r[c];                            \
            }                                                                                  \
        (void)r0, (void)r1, (void)r2, (void)r3;                                                \
    }

static inline void add_rows(double *restrict acc, const void *x, int f64, const int64_t *row, int n, int64_t width)
{
    if (f64)
        ADD_ROWS(double)
    else
        ADD_ROWS(float)
}

/* Tasks [begin, end): a task is one block of up to COLUMN_BLOCK columns of one output row, summed
 * over every point of the reduced walk (the rows). */
GB_SIMD_CLONES static void column_sums_range(void *ctx, int64_t begin, int64_t end)
{
    const sum_job *j = ctx;
    double acc[COLUMN_BLOCK];
    for (int64_t task = begin; task < end; task++) {
        int64_t row = task / j->blocks_per_row, first = task % j->blocks_per_row * COLUMN_BLOCK;
        int64_t width = j->cols - first < COLUMN_BLOCK ? j->cols - first : COLUMN_BLOCK;
        int64_t base = walk_offset(&j->kept, row) + first, index[GB_MAX_RANK] = {0}, offset = 0;
        for (int64_t c = 0; c < width; c++) acc[c] = 0;
        int more;
        do {
            int64_t rows[4];
            int n = 0;
            do {
                rows[n++] = base + offset;
                more = walk_next(&j->reduced, index, &offset);
            } while (more && n < 4);
            add_rows(acc, j->x, j->f64, rows, n, width);
        } while (more);
        int64_t o = row * j->cols + first;
        if (j->f64)
            memcpy((double *)j->out + o, acc, (size_t)width * sizeof(double));
        else
            for (int64_t c = 0; c < width; c++) ((float *)j->out)[o + c] = (float)acc[c];
    }
}

/* A whole-tensor sum: a large one in WHOLE_PARTS fixed pieces, so the result depends on the size
 * alone, never on the threads. */
typedef struct whole_sum {
    const sum_job *job;
    int64_t total, parts;
    double part[WHOLE_PARTS];
} whole_sum;

GB_SIMD_CLONES static void whole_sum_range(void *ctx, int64_t begin, int64_t end)
{
    whole_sum *w = ctx;
    for (int64_t p = begin; p < end; p++) {
        int64_t from = w->total * p / w->parts, to = w->total * (p + 1) / w->parts;
        w->part[p] = run_sum(w->job, from, to - from);
    }
}

static void sum_whole(const sum_job *j, int64_t total)
{
    whole_sum w = {j, total, total >= PARALLEL_MIN_ELEMENTS ? WHOLE_PARTS : 1, {0}};
    int64_t threads = gb_parallel_threads(), grain = w.parts / threads > 0 ? w.parts / threads : 1;
    gb_parallel_for(w.parts, grain, whole_sum_range, &w);
    double sum = 0;
    for (int64_t p = 0; p < w.parts; p++) sum += w.part[p];
    if (j->f64)
        *(double *)j->out = sum;
    else
        *(float *)j->out = (float)sum;
}

static void add_group(group_walk *w, int64_t dim, int64_t stride)
{
    w->dim[w->rank] = dim;
    w->stride[w->rank] = stride;
    w->rank++;
}

void gb_sum_to_shape(const gb_tensor *x, gb_tensor *out)
{
    int64_t total = gb_shape_elements(&x->shape), outputs = gb_shape_elements(&out->shape);
    size_t size = gb_dtype_size(out->dtype);
    if (total == 0) {
        if (outputs) memset(out->data, 0, (size_t)outputs * size); /* no outputs: maybe no memory */
        return;
    }
    if (outputs == total) { /* nothing summed: only size-1 axes differ */
        memcpy(out->data, x->data, (size_t)total * size);
        return;
    }
    /* x's axes merged into groups, each all kept or all summed; size-1 axes change nothing */
    int64_t dst_strides[GB_MAX_RANK], x_strides[GB_MAX_RANK];
    gb_broadcast_strides(&out->shape, &x->shape, dst_strides);
    gb_shape_strides(&x->shape, x_strides);
    int n = 0, kept[GB_MAX_RANK];
    int64_t dim[GB_MAX_RANK], stride[GB_MAX_RANK];
    for (int d = 0; d < x->shape.rank; d++) {
        if (x->shape.dim[d] == 1) continue;
        int is_kept = dst_strides[d] != 0;
        if (n > 0 && kept[n - 1] == is_kept) {
            dim[n - 1] *= x->shape.dim[d]; /* x is contiguous: the groups' axes are adjacent */
            stride[n - 1] = x_strides[d];
            continue;
        }
        kept[n] = is_kept, dim[n] = x->shape.dim[d], stride[n] = x_strides[d];
        n++;
    }
    sum_job j = {.x = x->data, .out = out->data, .f64 = x->dtype == GB_F64};
    if (n == 1) { /* everything summed into one value */
        sum_whole(&j, total);
        return;
    }
    int innermost_kept = kept[n - 1];
    for (int g = 0; g < n - 1; g++) add_group(kept[g] ? &j.kept : &j.reduced, dim[g], stride[g]);
    int64_t per_output = total / outputs;
    if (innermost_kept) {
        j.cols = dim[n - 1];
        j.blocks_per_row = (j.cols + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
        int64_t tasks = walk_points(&j.kept) * j.blocks_per_row;
        int64_t task_elements = per_output * (j.cols < COLUMN_BLOCK ? j.cols : COLUMN_BLOCK);
        int64_t grain = total < PARALLEL_MIN_ELEMENTS ? tasks : (PARALLEL_MIN_ELEMENTS + task_elements - 1) / task_elements;
        gb_parallel_for(tasks, grain, column_sums_range, &j);
    } else {
        j.run = dim[n - 1];
        if (j.reduced.rank == 0) add_group(&j.reduced, 1, 0); /* one run per output */
        int64_t grain = total < PARALLEL_MIN_ELEMENTS ? outputs : (PARALLEL_MIN_ELEMENTS + per_output - 1) / per_output;
        gb_parallel_for(outputs, grain, row_sums_range, &j);
    }
}
