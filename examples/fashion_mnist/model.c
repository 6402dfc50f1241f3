#include "model.h"

#include <stdio.h>
#include <string.h>

#include "dataset.h"

/* The dense layers' variables, created once under "dense<k>/" so checkpoints read like Keras'. */
static void make_variables(const fm_config *cfg, fm_model *m)
{
    int fan_in = FM_PIXELS;
    for (int k = 0; k <= cfg->n_hidden; k++) {
        int last = k == cfg->n_hidden, width = last ? FM_CLASSES : cfg->hidden[k];
        char scope[32];
        snprintf(scope, sizeof scope, last ? "logits" : "dense%d", k + 1);
        gb_scope_push(m->g, scope);
        /* He for the ReLU layers, Glorot for the linear output, as Keras users would pick */
        uint64_t seed = cfg->seed * 1000 + (uint64_t)k;
        gb_initializer init = last ? gb_init_glorot_uniform(seed) : gb_init_he_normal(seed);
        m->vars[m->n_vars++] = gb_variable(m->g, "kernel", GB_F32, gb_dims(2, fan_in, width), init);
        m->vars[m->n_vars++] = gb_variable(m->g, "bias", GB_F32, gb_dims(1, width), gb_init_zeros());
        gb_scope_pop(m->g);
        fan_in = width;
    }
    m->first_kernel = m->vars[0];
}

static gb_node *logits_of(const fm_config *cfg, fm_model *m, int training)
{
    gb_node *h = m->images;
    for (int k = 0; k <= cfg->n_hidden; k++) {
        int last = k == cfg->n_hidden;
        char scope[32];
        snprintf(scope, sizeof scope, last ? "logits" : "dense%d", k + 1);
        gb_scope_push(m->g, scope);
        h = gb_add(m->g, gb_matmul(m->g, h, m->vars[2 * k], 0, 0), m->vars[2 * k + 1]);
        if (!last) {
            h = gb_relu(m->g, h);
            if (training && cfg->dropout > 0) h = gb_dropout(m->g, h, cfg->dropout, cfg->seed * 7919 + (uint64_t)k);
        }
        gb_scope_pop(m->g);
    }
    return h;
}

static gb_node *learning_rate(const fm_config *cfg, fm_model *m, int64_t steps_per_epoch)
{
    double total = (double)cfg->epochs * (double)steps_per_epoch;
    gb_node *lr;
    gb_scope_push(m->g, "learning_rate");
    if (strcmp(cfg->schedule, "cosine") == 0)
        lr = gb_cosine_decay(m->g, cfg->learning_rate, total, 0.0);
    else if (strcmp(cfg->schedule, "exponential") == 0) /* x0.9 per epoch */
        lr = gb_exponential_decay(m->g, cfg->learning_rate, (double)steps_per_epoch, 0.9, 0);
    else if (strcmp(cfg->schedule, "step") == 0) /* halved each third of the run */
        lr = gb_step_decay(m->g, cfg->learning_rate, total / 3 > 1 ? total / 3 : 1, 0.5);
    else
        lr = gb_identity(m->g, gb_scalar(m->g, cfg->learning_rate));
    gb_scope_pop(m->g);
    return lr;
}

static gb_optimizer optimizer(const fm_config *cfg)
{
    const char *name = cfg->optimizer;
    double lr = cfg->learning_rate;
    if (strcmp(name, "sgd") == 0) return gb_gradient_descent(lr);
    if (strcmp(name, "momentum") == 0) return gb_momentum(lr, 0.9, 0);
    if (strcmp(name, "adamw") == 0) return gb_adamw(lr, cfg->weight_decay);
    if (strcmp(name, "rmsprop") == 0) return gb_rmsprop(lr);
    if (strcmp(name, "adagrad") == 0) return gb_adagrad(lr);
    return gb_adam(lr);
}

gb_status fm_model_build(const fm_config *cfg, int64_t steps_per_epoch, fm_model *m)
{
    memset(m, 0, sizeof *m);
    m->g = gb_graph_new();
    if (!m->g) return GB_ENOMEM;
    gb_graph *g = m->g;
    gb_scope_push(g, "input");
    m->images = gb_placeholder(g, "images", GB_F32, gb_dims(2, -1, FM_PIXELS));
    m->labels = gb_placeholder(g, "labels", GB_I32, gb_dims(1, -1));
    gb_scope_pop(g);
    make_variables(cfg, m);

    gb_node *logits = logits_of(cfg, m, 1);
    gb_scope_push(g, "loss");
    m->loss = gb_reduce_mean(g, gb_sparse_softmax_cross_entropy(g, logits, m->labels), GB_ALL_AXES, 0);
    m->accuracy = gb_accuracy(g, logits, m->labels);
    gb_scope_pop(g);

    /* without dropout both paths are the same graph; with it, evaluation gets its own copy */
    gb_node *eval_logits = logits;
    if (cfg->dropout > 0) {
        gb_scope_push(g, "eval");
        eval_logits = logits_of(cfg, m, 0);
        gb_scope_pop(g);
    }
    gb_scope_push(g, "metrics");
    m->eval_loss = cfg->dropout > 0
                       ? gb_reduce_mean(g, gb_sparse_softmax_cross_entropy(g, eval_logits, m->labels), GB_ALL_AXES, 0)
                       : m->loss;
    m->eval_accuracy = cfg->dropout > 0 ? gb_accuracy(g, eval_logits, m->labels) : m->accuracy;
    m->predictions = gb_argmax(g, eval_logits);
    gb_scope_pop(g);

    m->learning_rate = learning_rate(cfg, m, steps_per_epoch);
    gb_optimizer opt = optimizer(cfg);
    opt.learning_rate_node = m->learning_rate;
    gb_gradients(g, m->loss, m->vars, m->n_vars, m->grads);
    m->train = gb_apply_gradients(g, opt, m->grads, m->vars, m->n_vars);
    m->init = gb_global_variables_initializer(g);
    return gb_graph_status(g);
}

void fm_model_free(fm_model *m)
{
    gb_graph_free(m->g);
    memset(m, 0, sizeof *m);
}
