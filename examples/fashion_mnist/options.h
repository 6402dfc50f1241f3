/* options.h: fashion_mnist's command line. */
#ifndef FM_OPTIONS_H
#define FM_OPTIONS_H
#include <stddef.h>
#include <stdint.h>

enum { FM_MAX_HIDDEN = 8 };

typedef struct fm_config {
    int hidden[FM_MAX_HIDDEN]; /* widths of the hidden layers */
    int n_hidden;
    int batch;
    char optimizer[16];        /* sgd, momentum, adam, adamw, rmsprop, adagrad */
    double learning_rate;
    char schedule[16];         /* constant, cosine, exponential, step */
    double weight_decay;       /* adamw */
    double dropout;            /* rate after each hidden layer, 0: none */
    int epochs;
    int stop_after;            /* > 0: train at most this many epochs in this invocation */
    uint64_t seed;
    const char *data_dir;
    const char *logdir;        /* NULL: runs/fashion_mnist/<timestamp> (or the newest, to restore) */
    const char *runs_root;     /* where timestamped runs go */
    int restore, eval_only;
    int check_numerics;        /* stop at the first NaN or infinity, naming its op */
    int cuda;                  /* --device cuda */
    int tf32;                  /* --tf32: TF32 tensor cores for the matmuls on CUDA */
    size_t train_size, test_size; /* 0: the whole set */
    int progress;              /* -1: a bar when stderr is a terminal; 0 never; 1 always */
    int keep;                  /* checkpoints kept */
    int log_every;             /* steps between training-loss points */
} fm_config;

/* Parses argv into *cfg (defaults first). Returns 0 to go on, 1 when --help was printed (exit 0),
 * 2 on a usage error (message printed). */
int fm_parse_options(int argc, char **argv, fm_config *cfg);
/* "384,192" */
void fm_format_layers(const fm_config *cfg, char *buf, size_t size);

#endif
