/* gradboard/hparams.h: hyperparameters and metrics for TensorBoard's HParams dashboard.
 *
 *   // once, in the log directory's root run: what to compare
 *   gb_hparam_info infos[] = {{.name = "lr", .type = GB_HPARAM_NUMBER, .min = 1e-4, .max = 1e-1},
 *                             {.name = "optimizer", .type = GB_HPARAM_STRING}};
 *   gb_metric_info metrics[] = {{.tag = "test/accuracy"}};
 *   gb_summary_hparams_config(root_writer, infos, 2, metrics, 1);
 *
 *   // in each trial's run
 *   gb_hparam hp[] = {gb_hparam_number("lr", 0.01), gb_hparam_string("optimizer", "adam")};
 *   gb_summary_hparams_start(w, hp, 2, NULL);
 *   ... training, logging "test/accuracy" as a scalar ...
 *   gb_summary_hparams_end(w, GB_HPARAMS_SUCCESS);
 */
#ifndef GRADBOARD_HPARAMS_H
#define GRADBOARD_HPARAMS_H

#include <stddef.h>

#include "gradboard/writer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gb_hparam_type { GB_HPARAM_NUMBER = 0, GB_HPARAM_STRING, GB_HPARAM_BOOL } gb_hparam_type;

typedef struct gb_hparam {
    const char *name;
    gb_hparam_type type;
    double number;
    const char *string;
    int boolean;
} gb_hparam;

gb_hparam gb_hparam_number(const char *name, double value);
gb_hparam gb_hparam_string(const char *name, const char *value);
gb_hparam gb_hparam_bool(const char *name, int value);

/* Starts the run's session with its hyperparameters (at step 0). group_name NULL groups runs by
 * equal hyperparameters (a hash of them). GB_EINVAL, nothing written, when a name is NULL, empty
 * or repeated, a type is not one of gb_hparam_type, a string value is NULL, or a name, string
 * value or group_name is not UTF-8 (TensorBoard would drop the whole session). */
gb_status gb_summary_hparams_start(gb_writer *w, const gb_hparam *hparams, size_t n, const char *group_name);

typedef enum gb_hparams_status {
    GB_HPARAMS_UNKNOWN = 0, GB_HPARAMS_SUCCESS = 1, GB_HPARAMS_FAILURE = 2, GB_HPARAMS_RUNNING = 3
} gb_hparams_status;

/* Ends the run's session with a status (GB_EINVAL for a value not in gb_hparams_status). */
gb_status gb_summary_hparams_end(gb_writer *w, gb_hparams_status status);

/* One hyperparameter of the experiment: for numbers an interval [min, max] (min == max: none);
 * or a discrete domain of n_values values (strings for GB_HPARAM_STRING, numbers otherwise). */
typedef struct gb_hparam_info {
    const char *name;
    gb_hparam_type type;
    double min, max;
    size_t n_values;
    const double *numbers;
    const char *const *strings;
    const char *display_name;
} gb_hparam_info;

/* A metric: a scalar tag logged in each run (group: a sub-run such as "validation", or NULL). */
typedef struct gb_metric_info {
    const char *tag;
    const char *group;
    const char *display_name;
} gb_metric_info;

/* The experiment: which hyperparameters and metrics the dashboard's table shows. Checked like
 * gb_summary_hparams_start: names and metric tags non-empty, unique hyperparameter names, known
 * types, every string UTF-8, and the numbers or strings array present for n_values > 0. */
gb_status gb_summary_hparams_config(gb_writer *w, const gb_hparam_info *infos, size_t n, const gb_metric_info *metrics,
                                    size_t n_metrics);

#ifdef __cplusplus
}
#endif
#endif
