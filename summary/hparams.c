/* The hparams plugin: session start/end and the experiment, each a plugin "hparams" value
 * whose data rides in the metadata content, with an empty float tensor as TensorBoard writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gradboard/hparams.h"
#include "hparams.pb-c.h"
#include "internal/error.h"
#include "internal/writer_impl.h"

gb_hparam gb_hparam_number(const char *name, double value) { return (gb_hparam){name, GB_HPARAM_NUMBER, value, NULL, 0}; }
gb_hparam gb_hparam_string(const char *name, const char *value) { return (gb_hparam){name, GB_HPARAM_STRING, 0, value, 0}; }
gb_hparam gb_hparam_bool(const char *name, int value) { return (gb_hparam){name, GB_HPARAM_BOOL, 0, NULL, value != 0}; }

static double now_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Packs data into the metadata of tag with the placeholder tensor (float32, shape [0]). */
static gb_status write_plugin_data(gb_writer *w, const char *tag, Gbpb__HParamsPluginData *data)
{
    size_t len = gbpb__hparams_plugin_data__get_packed_size(data);
    uint8_t *bytes = malloc(len ? len : 1);
    if (!bytes) return gb_fail(GB_ENOMEM, "hparams: out of memory");
    gbpb__hparams_plugin_data__pack(data, bytes);
    Gbpb__TensorShapeProto__Dim dim = GBPB__TENSOR_SHAPE_PROTO__DIM__INIT;
    Gbpb__TensorShapeProto__Dim *dims[1] = {&dim};
    Gbpb__TensorShapeProto shape = GBPB__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 1;
    shape.dim = dims;
    Gbpb__TensorProto tensor = GBPB__TENSOR_PROTO__INIT;
    tensor.dtype = GBPB__DATA_TYPE__DT_FLOAT;
    tensor.tensor_shape = &shape;
    gb_status st = gb_writer_write_tensor_value(w, 0, tag, &tensor, "hparams", bytes, len, GBPB__DATA_CLASS__DATA_CLASS_TENSOR);
    free(bytes);
    return st;
}

/* Every string goes into the plugin's protobufs, which TensorBoard's loaders refuse whole when
 * a string is not UTF-8; a NULL one is refused rather than quietly written as "". */
static gb_status check_text(const char *call, const char *what, size_t i, const char *s, int may_be_null,
                            int may_be_empty)
{
    if (!s) return may_be_null ? GB_OK : gb_fail(GB_EINVAL, "%s: %s %zu is NULL", call, what, i);
    if (!*s && !may_be_empty) return gb_fail(GB_EINVAL, "%s: %s %zu is empty", call, what, i);
    if (!gb_utf8_valid(s, strlen(s))) return gb_fail(GB_EINVAL, "%s: %s %zu is not valid UTF-8", call, what, i);
    return GB_OK;
}

static int known_type(gb_hparam_type type)
{
    return type == GB_HPARAM_NUMBER || type == GB_HPARAM_STRING || type == GB_HPARAM_BOOL;
}

static gb_status check_hparam(const gb_hparam *hp, size_t i)
{
    static const char call[] = "gb_summary_hparams_start";
    gb_status st = check_text(call, "the name of hyperparameter", i, hp[i].name, 0, 0);
    if (st == GB_OK && !known_type(hp[i].type))
        st = gb_fail(GB_EINVAL, "%s: hyperparameter \"%s\" has unknown type %d", call, hp[i].name, (int)hp[i].type);
    if (st == GB_OK && hp[i].type == GB_HPARAM_STRING)
        st = check_text(call, "the string value of hyperparameter", i, hp[i].string, 0, 1);
    /* a map in the protobuf: a repeated name would keep only one of its values */
    for (size_t k = 0; st == GB_OK && k < i; k++)
        if (!strcmp(hp[k].name, hp[i].name))
            st = gb_fail(GB_EINVAL, "%s: hyperparameter \"%s\" appears twice", call, hp[i].name);
    return st;
}

static gb_status check_hparam_info(const gb_hparam_info *in, size_t i)
{
    static const char call[] = "gb_summary_hparams_config";
    gb_status st = check_text(call, "the name of hyperparameter", i, in[i].name, 0, 0);
    if (st == GB_OK) st = check_text(call, "the display name of hyperparameter", i, in[i].display_name, 1, 1);
    if (st == GB_OK && !known_type(in[i].type))
        st = gb_fail(GB_EINVAL, "%s: hyperparameter \"%s\" has unknown type %d", call, in[i].name, (int)in[i].type);
    if (st == GB_OK && in[i].n_values) {
        int strings = in[i].type == GB_HPARAM_STRING;
        if (strings ? !in[i].strings : !in[i].numbers)
            st = gb_fail(GB_EINVAL, "%s: hyperparameter \"%s\" has %zu values but %s is NULL", call, in[i].name,
                         in[i].n_values, strings ? "strings" : "numbers");
        for (size_t k = 0; strings && st == GB_OK && k < in[i].n_values; k++)
            st = check_text(call, "a string value of hyperparameter", i, in[i].strings[k], 0, 1);
    }
    for (size_t k = 0; st == GB_OK && k < i; k++)
        if (!strcmp(in[k].name, in[i].name))
            st = gb_fail(GB_EINVAL, "%s: hyperparameter \"%s\" appears twice", call, in[i].name);
    return st;
}

static gb_status check_metric_info(const gb_metric_info *m, size_t i)
{
    static const char call[] = "gb_summary_hparams_config";
    gb_status st = check_text(call, "the tag of metric", i, m[i].tag, 0, 0);
    if (st == GB_OK) st = check_text(call, "the group of metric", i, m[i].group, 1, 1);
    if (st == GB_OK) st = check_text(call, "the display name of metric", i, m[i].display_name, 1, 1);
    return st;
}

static void set_value(Gbpb__Value *v, const gb_hparam *h)
{
    gbpb__value__init(v);
    switch (h->type) {
    case GB_HPARAM_STRING:
        v->kind_case = GBPB__VALUE__KIND_STRING_VALUE;
        v->string_value = (char *)h->string;
        break;
    case GB_HPARAM_BOOL:
        v->kind_case = GBPB__VALUE__KIND_BOOL_VALUE;
        v->bool_value = h->boolean != 0;
        break;
    default:
        v->kind_case = GBPB__VALUE__KIND_NUMBER_VALUE;
        v->number_value = h->number;
        break;
    }
}

/* FNV-1a over the hyperparameters, sorted by name: runs with equal values share a group. */
static void default_group(const gb_hparam *hp, size_t n, char out[17])
{
    uint64_t h = 1469598103934665603ULL;
    const gb_hparam **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (sorted) {
        for (size_t i = 0; i < n; i++) sorted[i] = &hp[i];
        for (size_t i = 1; i < n; i++) /* insertion sort: a handful of names */
            for (size_t j = i; j > 0 && strcmp(sorted[j - 1]->name, sorted[j]->name) > 0; j--) {
                const gb_hparam *t = sorted[j];
                sorted[j] = sorted[j - 1], sorted[j - 1] = t;
            }
    }
    for (size_t i = 0; i < n; i++) {
        const gb_hparam *p = sorted ? sorted[i] : &hp[i];
        char text[512];
        int len = snprintf(text, sizeof text, "%s=%d:%.17g:%s:%d;", p->name, (int)p->type, p->number,
                           p->string ? p->string : "", p->boolean);
        for (int k = 0; k < len && k < (int)sizeof text; k++) h = (h ^ (uint8_t)text[k]) * 1099511628211ULL;
    }
    free(sorted);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

gb_status gb_summary_hparams_start(gb_writer *w, const gb_hparam *hparams, size_t n, const char *group_name)
{
    if (!w || (!hparams && n)) return gb_fail(GB_EINVAL, "gb_summary_hparams_start: NULL argument");
    if (group_name && !gb_utf8_valid(group_name, strlen(group_name)))
        return gb_fail(GB_EINVAL, "gb_summary_hparams_start: the group name is not valid UTF-8");
    Gbpb__Value *values = calloc(n + 1, sizeof *values);
    Gbpb__SessionStartInfo__HparamsEntry *entries = calloc(n + 1, sizeof *entries);
    Gbpb__SessionStartInfo__HparamsEntry **entry_ptrs = calloc(n + 1, sizeof *entry_ptrs);
    gb_status st = GB_OK;
    if (!values || !entries || !entry_ptrs) {
        st = gb_fail(GB_ENOMEM, "hparams: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        st = check_hparam(hparams, i);
        if (st != GB_OK) goto done;
        set_value(&values[i], &hparams[i]);
        gbpb__session_start_info__hparams_entry__init(&entries[i]);
        entries[i].key = (char *)hparams[i].name;
        entries[i].value = &values[i];
        entry_ptrs[i] = &entries[i];
    }
    char group[17];
    if (!group_name) default_group(hparams, n, group);
    Gbpb__SessionStartInfo start = GBPB__SESSION_START_INFO__INIT;
    start.n_hparams = n;
    start.hparams = entry_ptrs;
    start.group_name = (char *)(group_name ? group_name : group);
    start.start_time_secs = now_secs();
    Gbpb__HParamsPluginData data = GBPB__HPARAMS_PLUGIN_DATA__INIT;
    data.data_case = GBPB__HPARAMS_PLUGIN_DATA__DATA_SESSION_START_INFO;
    data.session_start_info = &start;
    st = write_plugin_data(w, "_hparams_/session_start_info", &data);
done:
    free(values), free(entries), free(entry_ptrs);
    return st;
}

gb_status gb_summary_hparams_end(gb_writer *w, gb_hparams_status status)
{
    if (!w) return gb_fail(GB_EINVAL, "gb_summary_hparams_end: writer is NULL");
    if ((int)status < GB_HPARAMS_UNKNOWN || (int)status > GB_HPARAMS_RUNNING) /* the dashboard knows no other */
        return gb_fail(GB_EINVAL, "gb_summary_hparams_end: unknown status %d (GB_HPARAMS_UNKNOWN..RUNNING)", (int)status);
    Gbpb__SessionEndInfo end = GBPB__SESSION_END_INFO__INIT;
    end.status = (Gbpb__SessionStatus)status;
    end.end_time_secs = now_secs();
    Gbpb__HParamsPluginData data = GBPB__HPARAMS_PLUGIN_DATA__INIT;
    data.data_case = GBPB__HPARAMS_PLUGIN_DATA__DATA_SESSION_END_INFO;
    data.session_end_info = &end;
    return write_plugin_data(w, "_hparams_/session_end_info", &data);
}

gb_status gb_summary_hparams_config(gb_writer *w, const gb_hparam_info *infos, size_t n, const gb_metric_info *metrics,
                                    size_t n_metrics)
{
    if (!w || (!infos && n) || (!metrics && n_metrics)) return gb_fail(GB_EINVAL, "gb_summary_hparams_config: NULL argument");
    size_t n_values = 0;
    for (size_t i = 0; i < n; i++) {
        gb_status st = check_hparam_info(infos, i);
        if (st != GB_OK) return st;
        if (infos[i].n_values > SIZE_MAX / 2 - n_values) /* the sum sizes the arrays below */
            return gb_fail(GB_EINVAL, "gb_summary_hparams_config: too many domain values");
        n_values += infos[i].n_values;
    }
    for (size_t i = 0; i < n_metrics; i++) {
        gb_status st = check_metric_info(metrics, i);
        if (st != GB_OK) return st;
    }
    Gbpb__HParamInfo *hinfos = calloc(n + 1, sizeof *hinfos);
    Gbpb__HParamInfo **hinfo_ptrs = calloc(n + 1, sizeof *hinfo_ptrs);
    Gbpb__ListValue *lists = calloc(n + 1, sizeof *lists);
    Gbpb__Interval *intervals = calloc(n + 1, sizeof *intervals);
    Gbpb__Value *values = calloc(n_values + 1, sizeof *values);
    Gbpb__Value **value_ptrs = calloc(n_values + 1, sizeof *value_ptrs);
    Gbpb__MetricInfo *minfos = calloc(n_metrics + 1, sizeof *minfos);
    Gbpb__MetricInfo **minfo_ptrs = calloc(n_metrics + 1, sizeof *minfo_ptrs);
    Gbpb__MetricName *names = calloc(n_metrics + 1, sizeof *names);
    gb_status st = GB_OK;
    if (!hinfos || !hinfo_ptrs || !lists || !intervals || !values || !value_ptrs || !minfos || !minfo_ptrs || !names) {
        st = gb_fail(GB_ENOMEM, "hparams: out of memory");
        goto done;
    }
    size_t next = 0;
    for (size_t i = 0; i < n; i++) {
        const gb_hparam_info *in = &infos[i];
        Gbpb__HParamInfo *h = &hinfos[i];
        gbpb__hparam_info__init(h);
        h->name = (char *)in->name;
        if (in->display_name) h->display_name = (char *)in->display_name;
        h->type = in->type == GB_HPARAM_STRING ? GBPB__HPARAMS_DATA_TYPE__DATA_TYPE_STRING
                  : in->type == GB_HPARAM_BOOL ? GBPB__HPARAMS_DATA_TYPE__DATA_TYPE_BOOL
                                               : GBPB__HPARAMS_DATA_TYPE__DATA_TYPE_FLOAT64;
        if (in->n_values) {
            gbpb__list_value__init(&lists[i]);
            lists[i].values = &value_ptrs[next];
            for (size_t k = 0; k < in->n_values; k++, next++) {
                int strings = in->type == GB_HPARAM_STRING;
                gb_hparam v = {in->name, in->type, strings ? 0 : in->numbers[k], strings ? in->strings[k] : NULL,
                               strings ? 0 : in->numbers[k] != 0};
                set_value(&values[next], &v);
                value_ptrs[next] = &values[next];
            }
            lists[i].n_values = in->n_values;
            h->domain_case = GBPB__HPARAM_INFO__DOMAIN_DOMAIN_DISCRETE;
            h->domain_discrete = &lists[i];
        } else if (in->type == GB_HPARAM_NUMBER && in->min < in->max) {
            gbpb__interval__init(&intervals[i]);
            intervals[i].min_value = in->min;
            intervals[i].max_value = in->max;
            h->domain_case = GBPB__HPARAM_INFO__DOMAIN_DOMAIN_INTERVAL;
            h->domain_interval = &intervals[i];
        }
        hinfo_ptrs[i] = h;
    }
    for (size_t i = 0; i < n_metrics; i++) {
        gbpb__metric_name__init(&names[i]);
        names[i].tag = (char *)metrics[i].tag;
        if (metrics[i].group) names[i].group = (char *)metrics[i].group;
        gbpb__metric_info__init(&minfos[i]);
        minfos[i].name = &names[i];
        if (metrics[i].display_name) minfos[i].display_name = (char *)metrics[i].display_name;
        minfo_ptrs[i] = &minfos[i];
    }
    Gbpb__Experiment experiment = GBPB__EXPERIMENT__INIT;
    experiment.time_created_secs = now_secs();
    experiment.n_hparam_infos = n;
    experiment.hparam_infos = hinfo_ptrs;
    experiment.n_metric_infos = n_metrics;
    experiment.metric_infos = minfo_ptrs;
    Gbpb__HParamsPluginData data = GBPB__HPARAMS_PLUGIN_DATA__INIT;
    data.data_case = GBPB__HPARAMS_PLUGIN_DATA__DATA_EXPERIMENT;
    data.experiment = &experiment;
    st = write_plugin_data(w, "_hparams_/experiment", &data);
done:
    free(hinfos), free(hinfo_ptrs), free(lists), free(intervals), free(values), free(value_ptrs);
    free(minfos), free(minfo_ptrs), free(names);
    return st;
}
