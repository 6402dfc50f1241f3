#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"

static void defaults(fm_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->hidden[0] = 384, cfg->hidden[1] = 192, cfg->n_hidden = 2;
    cfg->batch = 128;
    strcpy(cfg->optimizer, "adam");
    cfg->learning_rate = 1e-3;
    strcpy(cfg->schedule, "cosine");
    cfg->weight_decay = 1e-4;
    cfg->dropout = 0.2;
    cfg->epochs = 15;
    cfg->seed = 1;
    cfg->data_dir = FM_DEFAULT_DATA_DIR;
    cfg->runs_root = "runs/fashion_mnist";
    cfg->progress = -1;
    cfg->keep = 5;
    cfg->log_every = 50;
}

static void usage(FILE *out)
{
    fm_config d;
    defaults(&d);
    fprintf(out,
            "usage: fashion_mnist [OPTIONS]\n"
            "\n"
            "Trains an MLP classifier on Fashion-MNIST and logs the run for TensorBoard: loss, accuracy\n"
            "and learning rate, weight and gradient histograms, misclassified test images, first-layer\n"
            "weights, the config, hparams, the graph and a profiled step. A checkpoint is saved after\n"
            "every epoch.\n"
            "\n"
            "model and training:\n"
            "  --layers W1,W2,...   hidden layer widths (default 384,192; at most %d layers)\n"
            "  --batch N            examples per step (default %d)\n"
            "  --optimizer NAME     sgd, momentum, adam, adamw, rmsprop or adagrad (default %s)\n"
            "  --lr X               learning rate (default %g)\n"
            "  --schedule NAME      constant, cosine, exponential or step (default %s)\n"
            "  --weight-decay X     adamw's decoupled weight decay (default %g)\n"
            "  --dropout X          dropout rate after each hidden layer, 0 for none (default %g)\n"
            "  --epochs N           passes over the training set (default %d)\n"
            "  --stop-after N       train at most N epochs now and stop (go on later with --restore)\n"
            "  --seed N             seeds initialisation, shuffling and dropout (default %llu)\n"
            "  --device NAME        cpu or cuda (default cpu; cuda needs a build with CUDA and a GPU)\n"
            "  --tf32               on cuda, let the matmuls use TF32 tensor cores\n"
            "\n"
            "data and output:\n"
            "  --data DIR           the Fashion-MNIST .gz files (default %s,\n"
            "                       from the Debian package %s)\n"
            "  --logdir DIR         this run's directory (default %s/<timestamp>)\n"
            "  --train-size N       use only the first N training examples\n"
            "  --test-size N        use only the first N test examples\n"
            "  --keep N             checkpoints kept (default %d)\n"
            "  --log-every N        steps between training-loss points (default %d)\n"
            "  --restore            resume from the latest checkpoint in --logdir (default: the newest run)\n"
            "  --eval-only          restore the latest checkpoint and report test accuracy, no training\n"
            "  --check-numerics     stop at the first NaN or infinity and name the op that made it\n"
            "  --progress, --no-progress   force the progress bar on or off (default: on a terminal)\n"
            "  -h, --help           this text\n",
            FM_MAX_HIDDEN, d.batch, d.optimizer, d.learning_rate, d.schedule, d.weight_decay, d.dropout, d.epochs,
            (unsigned long long)d.seed, FM_DEFAULT_DATA_DIR, FM_DEBIAN_PACKAGE, d.runs_root, d.keep, d.log_every);
}

static int parse_long(const char *opt, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        fprintf(stderr, "fashion_mnist: %s wants an integer in [%ld, %ld], got '%s'\n", opt, min, max, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_double(const char *opt, const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < min || v > max) {
        fprintf(stderr, "fashion_mnist: %s wants a number in [%g, %g], got '%s'\n", opt, min, max, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_layers(const char *text, fm_config *cfg)
{
    cfg->n_hidden = 0;
    if (strcmp(text, "") == 0 || strcmp(text, "none") == 0) return 0; /* a linear model */
    const char *p = text;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p || v < 1 || v > 65536 || (*end && *end != ',') || cfg->n_hidden == FM_MAX_HIDDEN) {
            fprintf(stderr, "fashion_mnist: --layers wants up to %d widths in [1, 65536] like 256,128, got '%s'\n",
                    FM_MAX_HIDDEN, text);
            return -1;
        }
        cfg->hidden[cfg->n_hidden++] = (int)v;
        p = *end ? end + 1 : end;
    }
    return 0;
}

static int one_of(const char *opt, const char *text, const char *const *names, char *out, size_t size)
{
    for (const char *const *n = names; *n; n++)
        if (strcmp(text, *n) == 0) {
            snprintf(out, size, "%s", text);
            return 0;
        }
    fprintf(stderr, "fashion_mnist: %s: unknown '%s' (one of:", opt, text);
    for (const char *const *n = names; *n; n++) fprintf(stderr, " %s", *n);
    fprintf(stderr, ")\n");
    return -1;
}

int fm_parse_options(int argc, char **argv, fm_config *cfg)
{
    defaults(cfg);
    enum { O_LAYERS = 256, O_BATCH, O_OPT, O_LR, O_SCHEDULE, O_WD, O_DROPOUT, O_EPOCHS, O_SEED, O_DATA, O_LOGDIR,
           O_TRAIN_SIZE, O_TEST_SIZE, O_KEEP, O_LOG_EVERY, O_RESTORE, O_EVAL, O_PROGRESS, O_NO_PROGRESS, O_STOP_AFTER,
           O_CHECK_NUMERICS, O_DEVICE, O_TF32 };
    static const struct option longs[] = {
        {"layers", required_argument, 0, O_LAYERS},     {"batch", required_argument, 0, O_BATCH},
        {"optimizer", required_argument, 0, O_OPT},     {"lr", required_argument, 0, O_LR},
        {"schedule", required_argument, 0, O_SCHEDULE}, {"weight-decay", required_argument, 0, O_WD},
        {"dropout", required_argument, 0, O_DROPOUT},   {"epochs", required_argument, 0, O_EPOCHS},
        {"seed", required_argument, 0, O_SEED},         {"data", required_argument, 0, O_DATA},
        {"logdir", required_argument, 0, O_LOGDIR},     {"train-size", required_argument, 0, O_TRAIN_SIZE},
        {"test-size", required_argument, 0, O_TEST_SIZE}, {"keep", required_argument, 0, O_KEEP},
        {"log-every", required_argument, 0, O_LOG_EVERY}, {"restore", no_argument, 0, O_RESTORE},
        {"eval-only", no_argument, 0, O_EVAL},          {"progress", no_argument, 0, O_PROGRESS},
        {"no-progress", no_argument, 0, O_NO_PROGRESS}, {"help", no_argument, 0, 'h'},
        {"stop-after", required_argument, 0, O_STOP_AFTER}, {"check-numerics", no_argument, 0, O_CHECK_NUMERICS},
        {"device", required_argument, 0, O_DEVICE},     {"tf32", no_argument, 0, O_TF32},
        {0, 0, 0, 0}};
    static const char *const devices[] = {"cpu", "cuda", NULL};
    char device[8] = "cpu";
    static const char *const optimizers[] = {"sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad", NULL};
    static const char *const schedules[] = {"constant", "cosine", "exponential", "step", NULL};
    optind = 1;
    opterr = 0;
    int c;
    long v;
    while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'h': usage(stdout); return 1;
        case O_LAYERS: bad = parse_layers(optarg, cfg); break;
        case O_BATCH: bad = parse_long("--batch", optarg, 1, 1 << 20, &v); cfg->batch = (int)v; break;
        case O_OPT: bad = one_of("--optimizer", optarg, optimizers, cfg->optimizer, sizeof cfg->optimizer); break;
        case O_LR: bad = parse_double("--lr", optarg, 1e-12, 1e3, &cfg->learning_rate); break;
        case O_SCHEDULE: bad = one_of("--schedule", optarg, schedules, cfg->schedule, sizeof cfg->schedule); break;
        case O_WD: bad = parse_double("--weight-decay", optarg, 0, 1, &cfg->weight_decay); break;
        case O_DROPOUT: bad = parse_double("--dropout", optarg, 0, 0.95, &cfg->dropout); break;
        case O_EPOCHS: bad = parse_long("--epochs", optarg, 1, 100000, &v); cfg->epochs = (int)v; break;
        case O_SEED: bad = parse_long("--seed", optarg, 0, 0x7fffffffL, &v); cfg->seed = (uint64_t)v; break;
        case O_DATA: cfg->data_dir = optarg; break;
        case O_LOGDIR: cfg->logdir = optarg; break;
        case O_TRAIN_SIZE: bad = parse_long("--train-size", optarg, 1, 1L << 30, &v); cfg->train_size = (size_t)v; break;
        case O_TEST_SIZE: bad = parse_long("--test-size", optarg, 1, 1L << 30, &v); cfg->test_size = (size_t)v; break;
        case O_KEEP: bad = parse_long("--keep", optarg, 0, 1000000, &v); cfg->keep = (int)v; break;
        case O_LOG_EVERY: bad = parse_long("--log-every", optarg, 1, 1L << 30, &v); cfg->log_every = (int)v; break;
        case O_STOP_AFTER: bad = parse_long("--stop-after", optarg, 1, 100000, &v); cfg->stop_after = (int)v; break;
        case O_RESTORE: cfg->restore = 1; break;
        case O_EVAL: cfg->eval_only = 1; break;
        case O_CHECK_NUMERICS: cfg->check_numerics = 1; break;
        case O_DEVICE:
            bad = one_of("--device", optarg, devices, device, sizeof device);
            cfg->cuda = !strcmp(device, "cuda");
            break;
        case O_TF32: cfg->tf32 = 1; break;
        case O_PROGRESS: cfg->progress = 1; break;
        case O_NO_PROGRESS: cfg->progress = 0; break;
        case ':':
            fprintf(stderr, "fashion_mnist: %s needs a value (see --help)\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "fashion_mnist: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        }
        if (bad) return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "fashion_mnist: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (cfg->restore && cfg->eval_only) {
        fprintf(stderr, "fashion_mnist: --restore and --eval-only exclude each other\n");
        return 2;
    }
    return 0;
}

void fm_format_layers(const fm_config *cfg, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    if (cfg->n_hidden == 0) snprintf(buf, size, "none");
    for (int i = 0; i < cfg->n_hidden && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%d", i ? "," : "", cfg->hidden[i]);
}
