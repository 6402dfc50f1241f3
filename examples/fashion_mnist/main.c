/* fashion_mnist: an MLP classifier on Fashion-MNIST, trained by the engine and logged for
 * TensorBoard; the program `make demo` runs. See --help, and README's "make demo" section.
 *
 *   fashion_mnist                          train with the defaults into runs/fashion_mnist/<time>
 *   fashion_mnist --restore                resume the newest run from its latest checkpoint
 *   fashion_mnist --eval-only --logdir D   report the test accuracy of D's latest checkpoint
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dataset.h"
#include "gradboard/engine.h"
#include "gradboard/summary.h"
#include "model.h"
#include "options.h"
#include "progress.h"
#include "report.h"

enum { EVAL_BATCH = 1000 };

/* Everything a run holds, freed by run_free. */
typedef struct run {
    fm_config cfg;
    fm_dataset data;
    fm_model model;
    gb_session *session;
    gb_saver *saver;
    gb_writer *writer;
    char logdir[4096];
    uint32_t *order;              /* this epoch's shuffle of the training set */
    gb_tensor *images, *labels;   /* one training batch */
    gb_tensor *eval_images, *eval_labels;
    int64_t steps_per_epoch;
} run;

static int fail(const char *what)
{
    fprintf(stderr, "fashion_mnist: %s: %s\n", what, gb_errmsg());
    return 1;
}

/* The newest run directory under root (names are timestamps, so the greatest name). */
static int newest_run(const char *root, char *out, size_t size)
{
    DIR *dir = opendir(root);
    if (!dir) return -1;
    char best[256] = "";
    struct dirent *e;
    while ((e = readdir(dir)))
        if (e->d_name[0] != '.' && strlen(e->d_name) < sizeof best && strcmp(e->d_name, best) > 0) {
            char path[4096];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", root, e->d_name);
            if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) strcpy(best, e->d_name);
        }
    closedir(dir);
    if (!best[0]) return -1;
    snprintf(out, size, "%s/%s", root, best);
    return 0;
}

static int choose_logdir(run *r)
{
    const fm_config *cfg = &r->cfg;
    if (cfg->logdir) {
        snprintf(r->logdir, sizeof r->logdir, "%s", cfg->logdir);
        return 0;
    }
    if (cfg->restore || cfg->eval_only) {
        if (newest_run(cfg->runs_root, r->logdir, sizeof r->logdir) == 0) return 0;
        fprintf(stderr, "fashion_mnist: no run under %s to restore; give --logdir\n", cfg->runs_root);
        return -1;
    }
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(r->logdir, sizeof r->logdir, "%s/%s", cfg->runs_root, stamp);
    return 0;
}

/* order = a permutation of 0..n-1 that depends only on (seed, epoch), so a resumed run sees the
 * same batches as an uninterrupted one. */
static void shuffle(uint32_t *order, size_t n, uint64_t seed, int epoch)
{
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    uint32_t words[4];
    for (size_t i = n; i > 1; i--) {
        size_t k = n - i;
        if (k % 4 == 0) gb_philox4x32(seed ^ 0x5eed5eedULL, (uint64_t)epoch, k / 4, words);
        size_t j = (size_t)(((uint64_t)words[k % 4] * i) >> 32);
        uint32_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

static void fill_batch(const fm_idx *images, const fm_idx *labels, const uint32_t *order, size_t first, int64_t n,
                       gb_tensor *x, gb_tensor *y)
{
    float *px = gb_tensor_data(x);
    int32_t *py = gb_tensor_data(y);
    for (int64_t k = 0; k < n; k++) {
        size_t i = order ? order[first + (size_t)k] : first + (size_t)k;
        const uint8_t *src = images->data + i * FM_PIXELS;
        for (int p = 0; p < FM_PIXELS; p++) px[k * FM_PIXELS + p] = src[p] * (1.0f / 255.0f);
        py[k] = labels->data[i];
    }
}

/* Test loss and accuracy over the (first n_test) test images; remembers the first misclassified. */
static gb_status evaluate(run *r, fm_epoch_stats *e)
{
    fm_model *m = &r->model;
    size_t n_test = r->data.n_test;
    double loss_sum = 0;
    size_t correct = 0;
    e->n_wrong = 0;
    for (size_t first = 0; first < n_test; first += EVAL_BATCH) {
        int64_t n = n_test - first < EVAL_BATCH ? (int64_t)(n_test - first) : EVAL_BATCH;
        gb_tensor *x = r->eval_images, *y = r->eval_labels, *xs = NULL, *ys = NULL;
        if (n != EVAL_BATCH) { /* the last, shorter batch */
            x = xs = gb_tensor_new(GB_F32, gb_dims(2, n, FM_PIXELS));
            y = ys = gb_tensor_new(GB_I32, gb_dims(1, n));
            if (!xs || !ys) {
                gb_tensor_free(xs), gb_tensor_free(ys);
                return GB_ENOMEM;
            }
        }
        fill_batch(&r->data.test_images, &r->data.test_labels, NULL, first, n, x, y);
        gb_feed feeds[] = {{m->images, x}, {m->labels, y}};
        gb_node *fetches[] = {m->eval_loss, m->predictions};
        const gb_tensor *out[2];
        gb_status st = gb_session_run(r->session, feeds, 2, fetches, 2, out);
        if (!st) {
            loss_sum += gb_tensor_get(out[0], 0) * (double)n;
            const int64_t *pred = gb_tensor_data(out[1]);
            for (int64_t k = 0; k < n; k++) {
                uint8_t truth = r->data.test_labels.data[first + (size_t)k];
                if (pred[k] == truth) {
                    correct++;
                } else if (e->n_wrong < FM_MAX_SHOWN) {
                    e->wrong_index[e->n_wrong] = (uint32_t)(first + (size_t)k);
                    e->wrong_label[e->n_wrong++] = (uint8_t)pred[k];
                }
            }
        }
        gb_tensor_free(xs), gb_tensor_free(ys);
        if (st) return st;
    }
    e->test_loss = loss_sum / (double)n_test;
    e->test_accuracy = (double)correct / (double)n_test;
    return GB_OK;
}

static int64_t global_step(run *r)
{
    return (int64_t)gb_tensor_get(gb_session_variable(r->session, gb_global_step(r->model.g)), 0);
}

/* One epoch of training; fills the training half of e and the last step's gradients. */
static gb_status train_epoch(run *r, int epoch, fm_progress *bar, fm_epoch_stats *e, const gb_tensor **grads)
{
    fm_model *m = &r->model;
    const fm_config *cfg = &r->cfg;
    size_t n_train = r->data.n_train;
    shuffle(r->order, n_train, cfg->seed, epoch);
    fm_progress_epoch(bar, epoch + 1, r->steps_per_epoch);
    gb_node *fetches[3 + FM_MAX_VARS] = {m->train, m->loss, m->accuracy};
    memcpy(fetches + 3, m->grads, m->n_vars * sizeof *fetches);
    const gb_tensor *out[3 + FM_MAX_VARS];
    double loss_sum = 0, accuracy_sum = 0;
    for (int64_t i = 0; i < r->steps_per_epoch; i++) {
        fill_batch(&r->data.train_images, &r->data.train_labels, r->order, (size_t)i * (size_t)cfg->batch,
                   cfg->batch, r->images, r->labels);
        gb_feed feeds[] = {{m->images, r->images}, {m->labels, r->labels}};
        int last = i == r->steps_per_epoch - 1;
        /* the very first step of a run is profiled for the graph dashboard's run metadata */
        int profile = epoch == 0 && i == 0;
        if (profile) gb_session_set_stats(r->session, 1);
        gb_status st = gb_session_run(r->session, feeds, 2, fetches, last ? 3 + m->n_vars : 3, out);
        if (profile) {
            if (!st) st = gb_writer_add_session_stats(r->writer, r->session, global_step(r));
            gb_session_set_stats(r->session, 0);
        }
        if (st) return st;
        double loss = gb_tensor_get(out[1], 0);
        loss_sum += loss;
        accuracy_sum += gb_tensor_get(out[2], 0);
        int64_t step = global_step(r);
        if (step % cfg->log_every == 0 && (st = gb_summary_scalar(r->writer, "loss/train_batch", step, loss))) return st;
        fm_progress_step(bar, i + 1, loss, cfg->batch);
    }
    for (size_t k = 0; k < m->n_vars; k++) grads[k] = out[3 + k];
    e->seconds = fm_progress_elapsed(bar);
    e->samples_per_second = (double)(r->steps_per_epoch * cfg->batch) / e->seconds;
    e->train_loss = loss_sum / (double)r->steps_per_epoch;
    e->train_accuracy = accuracy_sum / (double)r->steps_per_epoch;
    return GB_OK;
}

static gb_status current_learning_rate(run *r, double *lr)
{
    const gb_tensor *out;
    gb_status st = gb_session_run(r->session, NULL, 0, &r->model.learning_rate, 1, &out);
    if (!st) *lr = gb_tensor_get(out, 0);
    return st;
}

static int train(run *r, int first_epoch, double *final_accuracy, char **last_checkpoint)
{
    const fm_config *cfg = &r->cfg;
    fm_progress bar;
    fm_progress_start(&bar, stderr, cfg->progress, cfg->epochs);
    double started = fm_now();
    int end = cfg->epochs;
    if (cfg->stop_after > 0 && first_epoch + cfg->stop_after < end) end = first_epoch + cfg->stop_after;
    for (int epoch = first_epoch; epoch < end; epoch++) {
        fm_epoch_stats e = {.epoch = epoch + 1};
        const gb_tensor *grads[FM_MAX_VARS] = {0};
        if (train_epoch(r, epoch, &bar, &e, grads)) return fail("training");
        fm_progress_done(&bar);
        if (current_learning_rate(r, &e.learning_rate)) return fail("reading the learning rate");
        e.step = global_step(r);
        if (evaluate(r, &e)) return fail("evaluating");
        if (fm_report_epoch(r->writer, &r->model, r->session, &r->data, &e, grads)) return fail("logging");
        free(*last_checkpoint);
        *last_checkpoint = NULL;
        if (gb_saver_save(r->saver, r->session, e.step, last_checkpoint)) return fail("saving a checkpoint");
        printf("epoch %2d/%d  train loss %.4f acc %.4f  test loss %.4f acc %.4f  lr %.3g  %.2f s (%.0f samples/s)\n",
               epoch + 1, cfg->epochs, e.train_loss, e.train_accuracy, e.test_loss, e.test_accuracy, e.learning_rate,
               e.seconds, e.samples_per_second);
        fflush(stdout);
        *final_accuracy = e.test_accuracy;
    }
    printf("trained %d epochs in %.1f s\n", end - first_epoch, fm_now() - started);
    return 0;
}

static int setup(run *r)
{
    fm_config *cfg = &r->cfg;
    char err[1024];
    if (fm_dataset_load(cfg->data_dir, &r->data, err, sizeof err) != 0) {
        fprintf(stderr, "fashion_mnist: %s\n", err);
        return 1;
    }
    if (cfg->train_size && cfg->train_size < r->data.n_train) r->data.n_train = cfg->train_size;
    if (cfg->test_size && cfg->test_size < r->data.n_test) r->data.n_test = cfg->test_size;
    r->steps_per_epoch = (int64_t)(r->data.n_train / (size_t)cfg->batch);
    if (r->steps_per_epoch == 0) {
        fprintf(stderr, "fashion_mnist: --batch %d is larger than the %zu training examples\n", cfg->batch,
                r->data.n_train);
        return 2;
    }
    if (fm_model_build(cfg, r->steps_per_epoch, &r->model) != GB_OK) {
        fprintf(stderr, "fashion_mnist: building the model: %s\n", gb_graph_errmsg(r->model.g));
        return 1;
    }
    r->session = gb_session_new(r->model.g, cfg->cuda ? GB_CUDA : GB_CPU);
    if (!r->session) return fail("starting a session");
    gb_session_set_tf32(r->session, cfg->tf32);
    if (gb_session_device(r->session) == GB_CUDA) printf("device %s\n", gb_session_device_name(r->session));
    gb_session_set_check_numerics(r->session, cfg->check_numerics);
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "%s/model.ckpt", r->logdir);
    r->saver = gb_saver_new(r->model.g, prefix, cfg->keep);
    if (!r->saver) return fail("creating the saver");
    r->order = malloc(r->data.n_train * sizeof *r->order);
    r->images = gb_tensor_new(GB_F32, gb_dims(2, cfg->batch, FM_PIXELS));
    r->labels = gb_tensor_new(GB_I32, gb_dims(1, cfg->batch));
    r->eval_images = gb_tensor_new(GB_F32, gb_dims(2, EVAL_BATCH, FM_PIXELS));
    r->eval_labels = gb_tensor_new(GB_I32, gb_dims(1, EVAL_BATCH));
    if (!r->order || !r->images || !r->labels || !r->eval_images || !r->eval_labels) {
        fprintf(stderr, "fashion_mnist: out of memory\n");
        return 1;
    }
    return 0;
}

static void run_free(run *r)
{
    free(r->order);
    gb_tensor_free(r->images), gb_tensor_free(r->labels);
    gb_tensor_free(r->eval_images), gb_tensor_free(r->eval_labels);
    gb_saver_free(r->saver);
    gb_session_free(r->session);
    fm_model_free(&r->model);
    fm_dataset_free(&r->data);
}

/* Restores the latest checkpoint of the run directory; its global_step says where to go on. */
static int restore(run *r, int required)
{
    char *latest = gb_latest_checkpoint(r->logdir);
    if (!latest) {
        if (!required) return 0;
        fprintf(stderr, "fashion_mnist: no checkpoint in %s\n", r->logdir);
        return 1;
    }
    gb_status st = gb_saver_restore(r->saver, r->session, latest);
    if (st) {
        fprintf(stderr, "fashion_mnist: restoring %s: %s\n", latest, gb_errmsg());
        free(latest);
        return 1;
    }
    printf("restored %s (step %lld)\n", latest, (long long)global_step(r));
    free(latest);
    return 0;
}

static int eval_only(run *r)
{
    int rc = restore(r, 1);
    if (rc) return rc;
    fm_epoch_stats e = {0};
    if (evaluate(r, &e)) return fail("evaluating");
    printf("test loss %.4f  test accuracy %.4f  (%zu images)\n", e.test_loss, e.test_accuracy, r->data.n_test);
    return 0;
}

static int train_run(run *r)
{
    const fm_config *cfg = &r->cfg;
    if (gb_session_run(r->session, NULL, 0, &r->model.init, 1, NULL)) return fail("initialising variables");
    int first_epoch = 0;
    if (cfg->restore) {
        int rc = restore(r, 1);
        if (rc) return rc;
        int64_t step = global_step(r);
        if (step % r->steps_per_epoch != 0) {
            fprintf(stderr, "fashion_mnist: step %lld is not at an epoch boundary of %lld steps: was the run made "
                            "with another --batch or --train-size?\n", (long long)step, (long long)r->steps_per_epoch);
            return 2;
        }
        first_epoch = (int)(step / r->steps_per_epoch);
    }
    if (gb_writer_open(&r->writer, r->logdir, NULL)) return fail("opening the event file");
    int rc = 0;
    /* after a restore, TensorBoard drops points logged past this step by the interrupted run */
    if (cfg->restore && gb_writer_session_start(r->writer, global_step(r))) rc = fail("logging the restart");
    if (!rc && fm_report_start(r->writer, cfg, &r->model)) rc = fail("logging the graph and config");
    double accuracy = 0;
    char *checkpoint = NULL;
    if (!rc && first_epoch >= cfg->epochs) printf("nothing to do: the run already has %d epochs\n", cfg->epochs);
    if (!rc) rc = train(r, first_epoch, &accuracy, &checkpoint);
    /* a run stopped early to go on later is still running as far as the hparams dashboard cares */
    int unfinished = global_step(r) < (int64_t)cfg->epochs * r->steps_per_epoch;
    gb_status ended = gb_summary_hparams_end(r->writer, rc ? GB_HPARAMS_FAILURE
                                                       : unfinished ? GB_HPARAMS_RUNNING : GB_HPARAMS_SUCCESS);
    if (gb_writer_close(r->writer) || ended) rc = rc ? rc : fail("closing the event file");
    r->writer = NULL;
    if (!rc && checkpoint) {
        printf("final test accuracy %.4f\n", accuracy);
        printf("checkpoint %s\n", checkpoint);
        printf("logs       %s   (tensorboard --logdir %s)\n", r->logdir, r->logdir);
    }
    free(checkpoint);
    return rc;
}

int main(int argc, char **argv)
{
    run r;
    memset(&r, 0, sizeof r);
    int rc = fm_parse_options(argc, argv, &r.cfg);
    if (rc) return rc == 1 ? 0 : 2;
    if (choose_logdir(&r)) return 2;
    rc = setup(&r);
    if (!rc) rc = r.cfg.eval_only ? eval_only(&r) : train_run(&r);
    run_free(&r);
    return rc;
}
