/* The saver: every variable into a bundle "<base>-<step>", the state file after it, the oldest
 * checkpoints deleted last; and the restore, all-or-nothing. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gradboard/checkpoint.h"
#include "gradboard/saver.h"
#include "internal/ckpt_hooks.h"
#include "internal/ckpt_state.h"
#include "internal/error.h"
#include "internal/graph_impl.h"
#include "internal/session_impl.h"

struct gb_saver {
    gb_graph *g;
    char *base, *dir;
    gb_node **vars;
    size_t n_vars;
    int max_to_keep;
    int not_durable; /* zero by default: checkpoints fsynced */
    double keep_hours, last_preserved;
};

static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy) return NULL;
    char *d = strdup(dirname(copy));
    free(copy);
    return d;
}

gb_saver *gb_saver_new(gb_graph *g, const char *prefix_base, int max_to_keep)
{
    if (!g || !prefix_base || !*prefix_base) {
        gb_fail(GB_EINVAL, "gb_saver_new: a graph and a prefix are needed");
        return NULL;
    }
    gb_saver *sv = calloc(1, sizeof *sv);
    if (!sv) return gb_fail(GB_ENOMEM, "gb_saver_new: out of memory"), NULL;
    sv->g = g;
    sv->base = strdup(prefix_base);
    sv->dir = dir_of(prefix_base);
    sv->max_to_keep = max_to_keep;
    sv->vars = malloc((g->count + 1) * sizeof *sv->vars);
    if (!sv->base || !sv->dir || !sv->vars) {
        gb_saver_free(sv);
        return gb_fail(GB_ENOMEM, "gb_saver_new: out of memory"), NULL;
    }
    for (size_t i = 0; i < g->count; i++)
        if (g->nodes[i]->is_variable) sv->vars[sv->n_vars++] = g->nodes[i];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    sv->last_preserved = (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
    return sv;
}

void gb_saver_free(gb_saver *sv)
{
    if (!sv) return;
    free(sv->base), free(sv->dir), free(sv->vars);
    free(sv);
}

void gb_saver_set_keep_every_n_hours(gb_saver *sv, double hours)
{
    if (sv) sv->keep_hours = hours;
}

void gb_saver_set_durable(gb_saver *sv, int durable)
{
    if (sv) sv->not_durable = !durable;
}

/* The state file stores paths relative to the directory when they lie in it. */
static const char *relative(const gb_saver *sv, const char *prefix)
{
    size_t n = strlen(sv->dir);
    return !strncmp(prefix, sv->dir, n) && prefix[n] == '/' ? prefix + n + 1 : prefix;
}

static char *absolute(const gb_saver *sv, const char *path)
{
    if (path[0] == '/') return strdup(path);
    size_t len = strlen(sv->dir) + strlen(path) + 2;
    char *p = malloc(len);
    if (p) snprintf(p, len, "%s/%s", sv->dir, path);
    return p;
}

static void delete_checkpoint(const char *prefix)
{
    char path[4200];
    snprintf(path, sizeof path, "%s.index", prefix); /* the index first: without it, no checkpoint */
    unlink(path);
    snprintf(path, sizeof path, "%s.data-00000-of-00001", prefix);
    gb_ckpt_unlink_in_background(path);
}

static double index_mtime(const char *prefix)
{
    char path[4200];
    struct stat sb;
    snprintf(path, sizeof path, "%s.index", prefix);
    return stat(path, &sb) == 0 ? (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec * 1e-9 : 0;
}

gb_status gb_saver_save(gb_saver *sv, gb_session *s, int64_t step, char **prefix_out)
{
    if (prefix_out) *prefix_out = NULL;
    if (!sv || !s) return gb_fail(GB_EINVAL, "gb_saver_save: NULL argument");
    size_t len = strlen(sv->base) + 32;
    char *prefix = malloc(len);
    if (!prefix) return gb_fail(GB_ENOMEM, "gb_saver_save: out of memory");
    snprintf(prefix, len, "%s-%lld", sv->base, (long long)step);
    for (size_t i = 0; i < sv->n_vars; i++)
        if (!gb_session_variable(s, sv->vars[i])) {
            free(prefix);
            return gb_fail(GB_ESTATE, "gb_saver_save: variable %s is not initialised", sv->vars[i]->name);
        }
    gb_bundle_writer *w;
    gb_status st = gb_bundle_writer_open(&w, prefix);
    if (st == GB_OK) gb_bundle_writer_set_durable(w, !sv->not_durable);
    for (size_t i = 0; i < sv->n_vars && st == GB_OK; i++) {
        const gb_node *v = sv->vars[i];
        const gb_tensor *t = gb_session_variable(s, v);
        st = gb_bundle_add(w, v->name, (int)v->dtype, v->shape.rank, v->shape.dim, gb_tensor_data(t), gb_tensor_bytes(t));
    }
    if (st == GB_OK) {
        st = gb_bundle_writer_finish(w);
    } else if (w) {
        gb_bundle_writer_abort(w);
    }
    if (st != GB_OK) {
        free(prefix);
        return st;
    }

    /* the state file: the old list without this prefix, then this one */
    gb_ckpt_state state;
    if (gb_ckpt_state_read(sv->dir, &state) != GB_OK) memset(&state, 0, sizeof state);
    const char *rel = relative(sv, prefix);
    char **all = malloc((state.n_all + 1) * sizeof *all);
    size_t n = 0;
    if (!all) st = gb_fail(GB_ENOMEM, "gb_saver_save: out of memory");
    for (size_t i = 0; all && i < state.n_all; i++) {
        if (!strcmp(state.all[i], rel)) free(state.all[i]);
        else all[n++] = state.all[i];
    }
    if (all) {
        all[n] = strdup(rel);
        if (!all[n]) st = gb_fail(GB_ENOMEM, "gb_saver_save: out of memory");
        else n++;
    }
    free(state.all);
    state.all = all;
    state.n_all = n;
    /* beyond max_to_keep: dropped from the list now, deleted once the new list is on disk */
    char **doomed = calloc(n + 1, sizeof *doomed);
    size_t n_doomed = 0;
    if (st == GB_OK && doomed && sv->max_to_keep > 0 && n > (size_t)sv->max_to_keep) {
        size_t drop = n - (size_t)sv->max_to_keep, kept = 0;
        for (size_t i = 0; i < n; i++) {
            if (i < drop) {
                char *abs_path = absolute(sv, all[i]);
                double t = abs_path ? index_mtime(abs_path) : 0;
                if (sv->keep_hours > 0 && t >= sv->last_preserved + sv->keep_hours * 3600) {
                    sv->last_preserved = t; /* kept for good: no longer in the list, never deleted */
                    free(abs_path);
                } else {
                    doomed[n_doomed++] = abs_path;
                }
                free(all[i]);
            } else {
                all[kept++] = all[i];
            }
        }
        state.n_all = kept;
    }
    free(state.latest);
    state.latest = st == GB_OK ? strdup(rel) : NULL;
    if (st == GB_OK && !state.latest) st = gb_fail(GB_ENOMEM, "gb_saver_save: out of memory");
    if (st == GB_OK) st = gb_ckpt_state_write(sv->dir, &state);
    if (st == GB_OK) gb_ckpt_stage("state_written");
    for (size_t i = 0; i < n_doomed; i++) {
        if (st == GB_OK && doomed[i]) delete_checkpoint(doomed[i]);
        free(doomed[i]);
    }
    if (st == GB_OK) gb_ckpt_stage("old_deleted");
    free(doomed);
    gb_ckpt_state_clear(&state);
    if (st == GB_OK && prefix_out)
        *prefix_out = prefix;
    else
        free(prefix);
    return st;
}

gb_status gb_restore_variables(gb_session *s, const char *prefix, size_t n, const char *const *names,
                               gb_node *const *variables)
{
    if (!s || !prefix || (n && (!names || !variables))) return gb_fail(GB_EINVAL, "restore: NULL argument");
    gb_bundle_reader *r;
    gb_status st = gb_bundle_reader_open(&r, prefix);
    if (st != GB_OK) return st;
    gb_tensor **values = calloc(n + 1, sizeof *values);
    if (!values) st = gb_fail(GB_ENOMEM, "restore: out of memory");
    /* read and check everything first: a failed restore changes nothing */
    for (size_t i = 0; i < n && st == GB_OK; i++) {
        const gb_node *v = variables[i];
        const gb_bundle_entry *e = gb_bundle_reader_find(r, names[i]);
        char want[96];
        if (!e) {
            st = gb_fail(GB_ENOTFOUND, "restore from %s: no tensor %s (for variable %s)", prefix, names[i], v->name);
            break;
        }
        int same_shape = e->rank == v->shape.rank;
        for (int d = 0; same_shape && d < e->rank; d++) same_shape = e->dims[d] == v->shape.dim[d];
        if (e->dtype != (int)v->dtype || !same_shape) {
            char got[256];
            size_t used = (size_t)snprintf(got, sizeof got, "%s [", gb_tf_dtype_name(e->dtype));
            for (int d = 0; d < e->rank && used < sizeof got; d++)
                used += (size_t)snprintf(got + used, sizeof got - used, "%s%lld", d ? ", " : "", (long long)e->dims[d]);
            if (used < sizeof got) snprintf(got + used, sizeof got - used, "]");
            st = gb_fail(GB_ESHAPE, "restore from %s: %s is %s in the checkpoint, variable %s is %s %s", prefix, names[i], got,
                         v->name, gb_dtype_name(v->dtype), gb_shape_format(&v->shape, want, sizeof want));
            break;
        }
        values[i] = gb_tensor_new(v->dtype, v->shape);
        if (!values[i]) st = gb_fail(GB_ENOMEM, "restore: no memory for %s", v->name);
        else st = gb_bundle_reader_read(r, e, gb_tensor_data(values[i]), gb_tensor_bytes(values[i]));
    }
    for (size_t i = 0; i < n && st == GB_OK; i++) st = gb_session_assign(s, variables[i], values[i]);
    for (size_t i = 0; values && i < n; i++) gb_tensor_free(values[i]);
    free(values);
    gb_bundle_reader_close(r);
    return st;
}

gb_status gb_saver_restore(gb_saver *sv, gb_session *s, const char *prefix)
{
    if (!sv) return gb_fail(GB_EINVAL, "gb_saver_restore: saver is NULL");
    const char **names = malloc((sv->n_vars + 1) * sizeof *names);
    if (!names) return gb_fail(GB_ENOMEM, "gb_saver_restore: out of memory");
    for (size_t i = 0; i < sv->n_vars; i++) names[i] = sv->vars[i]->name;
    gb_status st = gb_restore_variables(s, prefix, sv->n_vars, names, sv->vars);
    free(names);
    return st;
}

char *gb_latest_checkpoint(const char *dir)
{
    gb_ckpt_state state;
    if (gb_ckpt_state_read(dir, &state) != GB_OK) return NULL;
    char *path;
    if (state.latest[0] == '/') {
        path = strdup(state.latest);
    } else {
        size_t len = strlen(dir) + strlen(state.latest) + 2;
        path = malloc(len);
        if (path) snprintf(path, len, "%s/%s", dir, state.latest);
    }
    gb_ckpt_state_clear(&state);
    char index[4200];
    struct stat sb;
    if (path) snprintf(index, sizeof index, "%s.index", path);
    if (!path || stat(index, &sb) != 0) {
        if (path) gb_fail(GB_ENOTFOUND, "%s: the state file names %s, whose index is missing", dir, path);
        free(path);
        return NULL;
    }
    return path;
}
