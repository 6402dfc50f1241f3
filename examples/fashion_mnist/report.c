#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gb_status log_config(gb_writer *w, const fm_config *cfg, const char *layers)
{
    char text[2048], widths[256]; /* "384,192" as the flag has it, shown as 784-384-192-10 */
    snprintf(widths, sizeof widths, "%s", layers);
    for (char *c = widths; *c; c++)
        if (*c == ',') *c = '-';
    snprintf(text, sizeof text,
             "| option | value |\n|---|---|\n"
             "| layers | 784-%s-10 |\n| batch | %d |\n| optimizer | %s |\n| learning rate | %g (%s) |\n"
             "| dropout | %g |\n| epochs | %d |\n| seed | %llu |\n| training examples | %s |\n"
             "| data | `%s` |\n",
             widths, cfg->batch, cfg->optimizer, cfg->learning_rate, cfg->schedule, cfg->dropout, cfg->epochs,
             (unsigned long long)cfg->seed, cfg->train_size ? "subset" : "all", cfg->data_dir);
    return gb_summary_text(w, "config", 0, text);
}

static gb_status log_hparams(gb_writer *w, const fm_config *cfg, const char *layers)
{
    gb_hparam hp[] = {
        gb_hparam_string("layers", layers),        gb_hparam_number("batch", cfg->batch),
        gb_hparam_string("optimizer", cfg->optimizer), gb_hparam_number("learning_rate", cfg->learning_rate),
        gb_hparam_string("schedule", cfg->schedule), gb_hparam_number("dropout", cfg->dropout),
        gb_hparam_number("epochs", cfg->epochs),   gb_hparam_number("seed", (double)cfg->seed),
    };
    static const char *const optimizers[] = {"sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad"};
    static const char *const schedules[] = {"constant", "cosine", "exponential", "step"};
    gb_hparam_info infos[] = {
        {.name = "layers", .type = GB_HPARAM_STRING},
        {.name = "batch", .type = GB_HPARAM_NUMBER, .min = 1, .max = 4096},
        {.name = "optimizer", .type = GB_HPARAM_STRING, .n_values = 6, .strings = optimizers},
        {.name = "learning_rate", .type = GB_HPARAM_NUMBER, .min = 1e-6, .max = 1},
        {.name = "schedule", .type = GB_HPARAM_STRING, .n_values = 4, .strings = schedules},
        {.name = "dropout", .type = GB_HPARAM_NUMBER, .min = 0, .max = 0.95},
        {.name = "epochs", .type = GB_HPARAM_NUMBER, .min = 1, .max = 1000},
        {.name = "seed", .type = GB_HPARAM_NUMBER},
    };
    gb_metric_info metrics[] = {
        {.tag = "accuracy/test", .display_name = "test accuracy"},
        {.tag = "loss/test", .display_name = "test loss"},
        {.tag = "accuracy/train", .display_name = "train accuracy"},
        {.tag = "loss/train", .display_name = "train loss"},
    };
    gb_status st = gb_summary_hparams_config(w, infos, sizeof infos / sizeof *infos, metrics,
                                             sizeof metrics / sizeof *metrics);
    return st ? st : gb_summary_hparams_start(w, hp, sizeof hp / sizeof *hp, NULL);
}

/* Train and test curves on one chart each (the Custom Scalars dashboard). */
static gb_status log_layout(gb_writer *w)
{
    static const char *const loss_tags[] = {"loss/train", "loss/test"};
    static const char *const accuracy_tags[] = {"accuracy/train", "accuracy/test"};
    gb_custom_chart charts[] = {
        {.title = "loss: train vs test", .n_tags = 2, .tags = loss_tags},
        {.title = "accuracy: train vs test", .n_tags = 2, .tags = accuracy_tags},
    };
    gb_custom_category category = {.title = "fashion_mnist", .n_charts = 2, .charts = charts};
    return gb_summary_custom_scalars(w, 1, &category);
}

gb_status fm_report_start(gb_writer *w, const fm_config *cfg, const fm_model *m)
{
    char layers[256];
    fm_format_layers(cfg, layers, sizeof layers);
    gb_status st = gb_writer_add_graph(w, m->g);
    if (!st) st = log_config(w, cfg, layers);
    if (!st) st = log_hparams(w, cfg, layers);
    if (!st) st = log_layout(w);
    return st;
}

static gb_status log_scalars(gb_writer *w, const fm_epoch_stats *e)
{
    const char *tags[] = {"loss/train", "accuracy/train", "loss/test", "accuracy/test", "learning_rate",
                          "perf/samples_per_second", "epoch"};
    double values[] = {e->train_loss, e->train_accuracy, e->test_loss, e->test_accuracy, e->learning_rate,
                       e->samples_per_second, e->epoch};
    return gb_summary_scalars(w, e->step, sizeof tags / sizeof *tags, tags, values);
}

static gb_status log_histograms(gb_writer *w, const fm_model *m, gb_session *s, int64_t step,
                                const gb_tensor *const *grads)
{
    gb_status st = GB_OK;
    for (size_t i = 0; i < m->n_vars && !st; i++) {
        char tag[256];
        snprintf(tag, sizeof tag, "weights/%s", gb_node_name(m->vars[i]));
        st = gb_summary_histogram_tensor(w, tag, step, gb_session_variable(s, m->vars[i]));
        if (!st && grads && grads[i]) {
            snprintf(tag, sizeof tag, "gradients/%s", gb_node_name(m->vars[i]));
            st = gb_summary_histogram_tensor(w, tag, step, grads[i]);
        }
    }
    return st;
}

/* A grid of the misclassified test images and a table of what they are and what the model said. */
static gb_status log_misclassified(gb_writer *w, const fm_dataset *d, const fm_epoch_stats *e)
{
    if (e->n_wrong == 0) return GB_OK;
    float *pixels = malloc(e->n_wrong * FM_PIXELS * sizeof *pixels);
    const char **cells = malloc(e->n_wrong * 3 * sizeof *cells);
    char(*numbers)[16] = malloc(e->n_wrong * sizeof *numbers);
    if (!pixels || !cells || !numbers) {
        free(pixels), free(cells), free(numbers);
        return GB_ENOMEM;
    }
    for (size_t k = 0; k < e->n_wrong; k++) {
        const uint8_t *src = d->test_images.data + (size_t)e->wrong_index[k] * FM_PIXELS;
        for (int p = 0; p < FM_PIXELS; p++) pixels[k * FM_PIXELS + p] = src[p] * (1.0f / 255.0f);
        snprintf(numbers[k], sizeof numbers[k], "%u", e->wrong_index[k]);
        cells[3 * k] = numbers[k];
        cells[3 * k + 1] = fm_class_names[d->test_labels.data[e->wrong_index[k]]];
        cells[3 * k + 2] = fm_class_names[e->wrong_label[k]];
    }
    gb_image grid;
    gb_status st = gb_image_grid(pixels, (int)e->n_wrong, FM_SIDE, FM_SIDE, 1, FM_PIXELS, 1, 8, 2, 0, &grid);
    if (!st) {
        st = gb_summary_images(w, "misclassified/images", e->step, &grid, 1);
        free((void *)grid.pixels);
    }
    /* the header row names the columns, as the Text dashboard shows a table's first row */
    if (!st) {
        const char **table = malloc((e->n_wrong + 1) * 3 * sizeof *table);
        if (!table) st = GB_ENOMEM;
        else {
            table[0] = "test image", table[1] = "true class", table[2] = "predicted";
            memcpy(table + 3, cells, e->n_wrong * 3 * sizeof *cells);
            st = gb_summary_text_table(w, "misclassified/labels", e->step, e->n_wrong + 1, 3, table);
            free(table);
        }
    }
    free(pixels), free(cells), free(numbers);
    return st;
}

/* The first layer's weights seen as 28x28 images, one per unit (up to 64). */
static gb_status log_first_layer(gb_writer *w, const fm_model *m, gb_session *s, int64_t step)
{
    const gb_tensor *kernel = gb_session_variable(s, m->first_kernel);
    int64_t units = gb_tensor_shape(kernel)->dim[1];
    int shown = units < FM_MAX_SHOWN ? (int)units : FM_MAX_SHOWN;
    gb_image grid;
    gb_status st = gb_image_grid(gb_tensor_data(kernel), shown, FM_SIDE, FM_SIDE, 1, 1, (size_t)units, 8, 2, 1,
                                 &grid);
    if (st) return st;
    st = gb_summary_images(w, "weights/first_layer", step, &grid, 1);
    free((void *)grid.pixels);
    return st;
}

gb_status fm_report_epoch(gb_writer *w, const fm_model *m, gb_session *s, const fm_dataset *d,
                          const fm_epoch_stats *e, const gb_tensor *const *grads)
{
    gb_status st = log_scalars(w, e);
    if (!st) st = log_histograms(w, m, s, e->step, grads);
    if (!st) st = log_misclassified(w, d, e);
    if (!st) st = log_first_layer(w, m, s, e->step);
    if (!st) st = gb_writer_flush(w);
    return st;
}
