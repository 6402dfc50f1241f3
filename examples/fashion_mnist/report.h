/* report.h: what fashion_mnist logs for TensorBoard, apart from the training loop. */
#ifndef FM_REPORT_H
#define FM_REPORT_H
#include "dataset.h"
#include "gradboard/engine.h"
#include "gradboard/summary.h"
#include "model.h"
#include "options.h"

enum { FM_MAX_SHOWN = 64 };

/* One epoch's figures. */
typedef struct fm_epoch_stats {
    int epoch;
    int64_t step;                  /* global_step at the end of the epoch */
    double train_loss, train_accuracy;
    double test_loss, test_accuracy;
    double learning_rate;
    double seconds, samples_per_second;
    size_t n_wrong;                /* misclassified test images kept (<= FM_MAX_SHOWN) */
    uint32_t wrong_index[FM_MAX_SHOWN];
    uint8_t wrong_label[FM_MAX_SHOWN];
} fm_epoch_stats;

/* Once per run: the graph, the config as text, hparams (experiment and session start) and the
 * custom-scalars layout. */
gb_status fm_report_start(gb_writer *w, const fm_config *cfg, const fm_model *m);
/* Once per epoch: scalars, weight and gradient histograms, misclassified images, first-layer
 * weights. grads holds the last step's gradients, one per m->vars (NULL entries skipped). */
gb_status fm_report_epoch(gb_writer *w, const fm_model *m, gb_session *s, const fm_dataset *d,
                          const fm_epoch_stats *e, const gb_tensor *const *grads);

#endif
