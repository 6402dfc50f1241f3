/* triangle: teach a tiny network which points lie inside a triangle, and watch it learn.
 *
 *   triangle [LOGDIR]        (default runs/triangle)
 *
 * The data are 1000 random points of the square [-1, 1]^2, labelled 1 inside the triangle
 * (-0.8, -0.7), (0.8, -0.7), (0, 0.8) and 0 outside. The model is the seed's: two inputs, three
 * tanh hidden units, one sigmoid output, trained on the sigmoid cross-entropy with Adam. Three
 * hidden units suffice because a triangle is where three half-planes meet: each unit can learn
 * one edge, and the output unit fires when all three agree. With no unit to spare, a bad start
 * can leave a unit stuck on the wrong line: of seven initialisations tried, five reached 99% in
 * 100 epochs and two stalled (at 93% and 79%). The seeds below are one of the five.
 *
 * After each epoch LOGDIR gets the "loss" and "accuracy" on the training points and the image
 * "decision_region": the network's probability of "inside" over the square (blue outside,
 * orange inside) with the true triangle's edges and the training points drawn over it. In
 * TensorBoard's Images dashboard, drag the step slider to see the region take shape. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/engine.h"

enum {
    POINTS = 1000,
    BATCH = 50,
    BATCHES = POINTS / BATCH,
    EPOCHS = 100,
    HIDDEN = 3,
    IMAGE_SIZE = 128 /* pixels per side of the decision-region image */
};

static const float corners[3][2] = {{-0.8f, -0.7f}, {0.8f, -0.7f}, {0.0f, 0.8f}};

/* Which side of the line a -> b the point p is on (> 0: left). */
static float side(const float a[2], const float b[2], const float p[2])
{
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
}

/* Inside a triangle means on the same side of all three edges. */
static int inside_triangle(const float p[2])
{
    float s0 = side(corners[0], corners[1], p), s1 = side(corners[1], corners[2], p), s2 = side(corners[2], corners[0], p);
    return (s0 > 0 && s1 > 0 && s2 > 0) || (s0 < 0 && s1 < 0 && s2 < 0);
}

/* ---- the picture ---- */

/* Pixel (row, col) shows the point at the centre of its cell; row 0 is the top (y = 1). */
static void pixel_to_point(int row, int col, float p[2])
{
    p[0] = -1.0f + (col + 0.5f) * 2.0f / IMAGE_SIZE;
    p[1] = 1.0f - (row + 0.5f) * 2.0f / IMAGE_SIZE;
}

static void set_pixel(uint8_t *rgb, float x, float y, uint8_t r, uint8_t g, uint8_t b)
{
    int col = (int)((x + 1.0f) / 2.0f * IMAGE_SIZE), row = (int)((1.0f - y) / 2.0f * IMAGE_SIZE);
    if (col < 0 || col >= IMAGE_SIZE || row < 0 || row >= IMAGE_SIZE) return;
    uint8_t *px = rgb + 3 * (row * IMAGE_SIZE + col);
    px[0] = r, px[1] = g, px[2] = b;
}

/* Paints the probabilities of the grid's points, then the triangle's edges (white) and the
 * training points (black outside, white inside) over them. */
static void render(uint8_t *rgb, const float *probability, const float *points, const float *labels)
{
    static const float outside[3] = {40, 70, 160}, inside[3] = {250, 170, 50};
    for (int i = 0; i < IMAGE_SIZE * IMAGE_SIZE; i++)
        for (int c = 0; c < 3; c++)
            rgb[3 * i + c] = (uint8_t)(outside[c] + probability[i] * (inside[c] - outside[c]) + 0.5f);
    for (int e = 0; e < 3; e++) {
        const float *a = corners[e], *b = corners[(e + 1) % 3];
        /* more samples than pixels along any edge, so the line has no gaps */
        for (int k = 0; k <= 4 * IMAGE_SIZE; k++) {
            float t = (float)k / (4 * IMAGE_SIZE);
            set_pixel(rgb, a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), 255, 255, 255);
        }
    }
    for (int i = 0; i < POINTS; i++) {
        uint8_t shade = labels[i] > 0.5f ? 255 : 0;
        set_pixel(rgb, points[2 * i], points[2 * i + 1], shade, shade, shade);
    }
}

/* ---- training ---- */

static int usage_error(const char *why)
{
    fprintf(stderr, "triangle: %s\nusage: triangle [LOGDIR]   (--help for more)\n", why);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: triangle [LOGDIR]\n"
               "Trains a 2-3-1 network to tell points inside a triangle from points outside it.\n"
               "LOGDIR (default runs/triangle) gets loss, accuracy and the decision region of every epoch.\n");
        return 0;
    }
    if (argc > 2) return usage_error("too many arguments");
    if (argc == 2 && argv[1][0] == '-') return usage_error("unknown option");
    const char *logdir = argc == 2 ? argv[1] : "runs/triangle";

    int exit_code = 1;
    gb_graph *g = NULL;
    gb_session *s = NULL;
    gb_writer *w = NULL;
    gb_tensor *batch_x[BATCHES] = {0}, *batch_y[BATCHES] = {0};
    uint8_t *rgb = malloc(3 * IMAGE_SIZE * IMAGE_SIZE);
    gb_tensor *points = gb_tensor_new(GB_F32, gb_dims(2, POINTS, 2));
    gb_tensor *labels = gb_tensor_new(GB_F32, gb_dims(2, POINTS, 1));
    gb_tensor *grid = gb_tensor_new(GB_F32, gb_dims(2, IMAGE_SIZE * IMAGE_SIZE, 2));
    gb_initializer uniform = gb_init_uniform(-1.0, 1.0, 7);
    if (!rgb || !points || !labels || !grid || gb_init_fill(&uniform, points) != GB_OK) goto failed;
    float *xv = gb_tensor_data(points), *yv = gb_tensor_data(labels);
    for (int i = 0; i < POINTS; i++) yv[i] = (float)inside_triangle(xv + 2 * i);
    for (int i = 0; i < IMAGE_SIZE * IMAGE_SIZE; i++)
        pixel_to_point(i / IMAGE_SIZE, i % IMAGE_SIZE, (float *)gb_tensor_data(grid) + 2 * i);
    /* the points are in random order already, so consecutive slices make fair mini-batches */
    for (int b = 0; b < BATCHES; b++) {
        batch_x[b] = gb_tensor_from(GB_F32, gb_dims(2, BATCH, 2), xv + 2 * b * BATCH);
        batch_y[b] = gb_tensor_from(GB_F32, gb_dims(2, BATCH, 1), yv + b * BATCH);
        if (!batch_x[b] || !batch_y[b]) goto failed;
    }

    g = gb_graph_new();
    gb_node *x = gb_placeholder(g, "x", GB_F32, gb_dims(2, -1, 2));
    gb_node *y = gb_placeholder(g, "y", GB_F32, gb_dims(2, -1, 1));
    gb_scope_push(g, "hidden");
    gb_node *w1 = gb_variable(g, "kernel", GB_F32, gb_dims(2, 2, HIDDEN), gb_init_glorot_uniform(1));
    gb_node *b1 = gb_variable(g, "bias", GB_F32, gb_dims(1, HIDDEN), gb_init_zeros());
    gb_node *hidden = gb_tanh(g, gb_add(g, gb_matmul(g, x, w1, 0, 0), b1));
    gb_scope_pop(g);
    gb_scope_push(g, "output");
    gb_node *w2 = gb_variable(g, "kernel", GB_F32, gb_dims(2, HIDDEN, 1), gb_init_glorot_uniform(2));
    gb_node *b2 = gb_variable(g, "bias", GB_F32, gb_dims(1, 1), gb_init_zeros());
    gb_node *logits = gb_add(g, gb_matmul(g, hidden, w2, 0, 0), b2);
    gb_node *probability = gb_sigmoid(g, logits);
    gb_scope_pop(g);
    gb_node *loss = gb_name(gb_reduce_mean(g, gb_sigmoid_cross_entropy(g, logits, y), GB_ALL_AXES, 0), "loss");
    /* a point counts as "inside" when its logit is positive (probability above one half) */
    gb_node *predicted = gb_cast(g, gb_greater(g, logits, gb_scalar(g, 0)), GB_F32);
    gb_node *accuracy = gb_name(gb_reduce_mean(g, gb_cast(g, gb_equal(g, predicted, y), GB_F32), GB_ALL_AXES, 0),
                                "accuracy");
    gb_node *train = gb_minimize(g, gb_adam(0.05), loss, NULL, 0);
    gb_node *init = gb_global_variables_initializer(g);
    if (!g || gb_graph_status(g) != GB_OK) {
        fprintf(stderr, "triangle: %s\n", g ? gb_graph_errmsg(g) : gb_errmsg());
        goto done;
    }

    s = gb_session_new(g, GB_CPU);
    if (!s || gb_session_run(s, NULL, 0, &init, 1, NULL) != GB_OK) goto failed;
    if (gb_writer_open(&w, logdir, NULL) != GB_OK || gb_writer_add_graph(w, g) != GB_OK) goto failed;

    double final_accuracy = 0;
    for (int epoch = 1; epoch <= EPOCHS; epoch++) {
        for (int b = 0; b < BATCHES; b++) {
            gb_feed feeds[] = {{x, batch_x[b]}, {y, batch_y[b]}};
            if (gb_session_run(s, feeds, 2, &train, 1, NULL) != GB_OK) goto failed;
        }
        gb_feed all[] = {{x, points}, {y, labels}};
        gb_node *metrics[] = {loss, accuracy};
        const gb_tensor *out[2];
        if (gb_session_run(s, all, 2, metrics, 2, out) != GB_OK) goto failed;
        const char *tags[] = {"loss", "accuracy"};
        double values[] = {gb_tensor_get(out[0], 0), gb_tensor_get(out[1], 0)};
        final_accuracy = values[1];
        if (gb_summary_scalars(w, epoch, 2, tags, values) != GB_OK) goto failed;
        if (epoch % 10 == 0) printf("epoch %3d  loss %.4f  accuracy %.3f\n", epoch, values[0], values[1]);

        gb_feed grid_feed = {x, grid};
        const gb_tensor *region;
        if (gb_session_run(s, &grid_feed, 1, &probability, 1, &region) != GB_OK) goto failed;
        render(rgb, gb_tensor_data(region), xv, yv);
        gb_image image = {IMAGE_SIZE, IMAGE_SIZE, 3, GB_PIXELS_U8, rgb};
        if (gb_summary_images(w, "decision_region", epoch, &image, 1) != GB_OK) goto failed;
    }
    printf("\naccuracy %.3f on the %d training points after %d epochs\nevents   %s\n", final_accuracy, POINTS, EPOCHS,
           gb_writer_path(w));
    exit_code = 0;
    goto done;
failed:
    fprintf(stderr, "triangle: %s\n", gb_errmsg());
done:
    if (w && gb_writer_close(w) != GB_OK && exit_code == 0) {
        fprintf(stderr, "triangle: %s\n", gb_errmsg());
        exit_code = 1;
    }
    gb_session_free(s);
    gb_graph_free(g);
    for (int b = 0; b < BATCHES; b++) {
        gb_tensor_free(batch_x[b]);
        gb_tensor_free(batch_y[b]);
    }
    gb_tensor_free(points);
    gb_tensor_free(labels);
    gb_tensor_free(grid);
    free(rgb);
    return exit_code;
}
