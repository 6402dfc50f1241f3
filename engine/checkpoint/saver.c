/* The saver: every variable into a bundle "<base>-<step>", the state file after it, the oldest
 * checkpoints deleted last; and the restore, all-or-nothing.
 *
 * Saving a step again (its index already there) cannot replace the two files in place safely:
 * between the two renames the pair would mix old and new. Such a save writes the bundle under a
 * side name first and points the state file at it; the files then move to the step's own name
 * (hard links, so the side checkpoint stays whole until the state file names the step again). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gradboard/checkpoint.h"
#include "gradboard/saver.h"
#include "internal/ckpt_hooks.h"
#include "internal/ckpt_state.h"
#include "internal/error.h"
#include "internal/fs.h"
#include "internal/graph_impl.h"
#include "internal/session_impl.h"

static const char DATA_SUFFIX[] = ".data-00000-of-00001";

struct gb_saver {
    gb_graph *g;
    unsigned generation; /* g's when the saver was made: a reset since then freed vars[] */
    char *base, *dir;    /* base: repeated slashes collapsed; dir: the directory it names */
    size_t name_at;      /* where base's name in dir starts: the state file lists paths from there */
    gb_node **vars;
    size_t n_vars;
    int max_to_keep;
    int not_durable; /* zero by default: checkpoints fsynced */
    double keep_hours, last_preserved;
};

/* "a//b" as "a/b": the directory and the name in it then come out the same however the prefix
 * was spelled (as os.path's do for TensorFlow), so the state file lists "b-<step>". */
static char *collapse_slashes(const char *path)
{
    char *out = malloc(strlen(path) + 1);
    if (!out) return NULL;
    size_t n = 0;
    for (const char *p = path; *p; p++)
        if (*p != '/' || n == 0 || out[n - 1] != '/') out[n++] = *p;
    out[n] = '\0';
    return out;
}

/* dir/name as a new string; name as it is when absolute. */
static char *join(const char *dir, const char *name)
{
    if (name[0] == '/') return strdup(name);
    size_t len = strlen(dir), size = len + strlen(name) + 2;
    char *p = malloc(size);
    if (p) snprintf(p, size, "%s%s%s", dir, len && dir[len - 1] == '/' ? "" : "/", name);
    return p;
}

gb_saver *gb_saver_new(gb_graph *g, const char *prefix_base, int max_to_keep)
{
    if (!g || !prefix_base || !*prefix_base) {
        gb_fail(GB_EINVAL, "gb_saver_new: a graph and a prefix are needed");
        return NULL;
    }
    if (prefix_base[strlen(prefix_base) - 1] == '/') {
        gb_fail(GB_EINVAL, "gb_saver_new: the prefix \"%s\" ends in '/': it must name the checkpoints in a directory "
                "(\"%smodel.ckpt\"), not the directory", prefix_base, prefix_base);
        return NULL;
    }
    gb_saver *sv = calloc(1, sizeof *sv);
    if (!sv) return gb_fail(GB_ENOMEM, "gb_saver_new: out of memory"), NULL;
    sv->g = g;
    sv->generation = g->generation;
    sv->base = collapse_slashes(prefix_base);
    if (sv->base) {
        const char *slash = strrchr(sv->base, '/');
        sv->name_at = slash ? (size_t)(slash - sv->base) + 1 : 0;
        sv->dir = !slash ? strdup(".") : slash == sv->base ? strdup("/") : strndup(sv->base, (size_t)(slash - sv->base));
    }
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

static gb_status check_not_reset(const gb_saver *sv, const char *what)
{
    if (sv->g->generation != sv->generation)
        return gb_fail(GB_ESTATE, "%s: the graph was reset after this saver was made (its variables are gone; make a new saver)",
                       what);
    return GB_OK;
}

/* The state file's name for a prefix of this saver: the part after its directory. */
static const char *relative(const gb_saver *sv, const char *prefix) { return prefix + sv->name_at; }

static char *file_of(const char *prefix, const char *suffix)
{
    size_t size = strlen(prefix) + strlen(suffix) + 1;
    char *p = malloc(size);
    if (p) snprintf(p, size, "%s%s", prefix, suffix);
    return p;
}

static int index_exists(const char *prefix)
{
    char *index = file_of(prefix, ".index");
    struct stat sb;
    int exists = index && stat(index, &sb) == 0;
    free(index);
    return exists;
}

static void delete_checkpoint(const char *prefix)
{
    char *index = file_of(prefix, ".index"), *data = file_of(prefix, DATA_SUFFIX);
    if (index) unlink(index); /* the index first: without it, no checkpoint */
    if (data) gb_ckpt_unlink_in_background(data);
    free(index), free(data);
}

static double index_mtime(const char *prefix)
{
    char path[4200];
    struct stat sb;
    snprintf(path, sizeof path, "%s.index", prefix);
    return stat(path, &sb) == 0 ? (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec * 1e-9 : 0;
}

/* A name no other save uses at the same time, in this process or another: "<path>.tempstate<pid>_<n>". */
static char *unique_name(const char *path)
{
    static atomic_uint counter;
    char suffix[64];
    snprintf(suffix, sizeof suffix, ".tempstate%ld_%u", (long)getpid(), atomic_fetch_add(&counter, 1));
    return file_of(path, suffix);
}

/* Savers sharing a directory take turns, each save whole: deciding whether its step is saved
 * already, renaming its files into place and rewriting the state file (read, change, replace).
 * Else two saves can each write a list without the other's checkpoint, which no max_to_keep then
 * deletes, and two savers of one prefix can leave one's index beside the other's data.
 * Returns the descriptor holding the lock; where locks are not supported saves go on without. */
static int lock_directory(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (fd >= 0 && flock(fd, LOCK_EX) != 0 && errno == EINTR) continue;
    return fd;
}

static void unlock_directory(int fd)
{
    if (fd >= 0) close(fd); /* the lock goes with its open file description */
}

/* Rewrites the state file: its list less `drop` and `latest`, then `latest` as the newest. With
 * doomed, the oldest beyond max_to_keep leave the list too and come back, as paths, to be deleted
 * once the list is on disk. */
static gb_status update_state(gb_saver *sv, const char *latest, const char *drop, char ***doomed_out, size_t *n_doomed_out)
{
    gb_ckpt_state state; /* the caller holds the directory's lock */
    if (gb_ckpt_state_read(sv->dir, &state) != GB_OK) memset(&state, 0, sizeof state);
    gb_status st = GB_OK;
    char **all = malloc((state.n_all + 1) * sizeof *all);
    size_t n = 0;
    if (!all) st = gb_fail(GB_ENOMEM, "gb_saver_save: out of memory");
    for (size_t i = 0; all && i < state.n_all; i++) {
        if (!strcmp(state.all[i], latest) || (drop && !strcmp(state.all[i], drop))) free(state.all[i]);
        else all[n++] = state.all[i];
    }
    if (all) {
        all[n] = strdup(latest);
        if (!all[n]) st = gb_fail(GB_ENOMEM, "gb_saver_save: out of memory");
        else n++;
    } else {
        for (size_t i = 0; i < state.n_all; i++) free(state.all[i]);
    }
    free(state.all);
    state.all = all;
    state.n_all = n;
    /* beyond max_to_keep: dropped from the list now, deleted once the new list is on disk */
    char **doomed = doomed_out ? calloc(n + 1, sizeof *doomed) : NULL;
    size_t n_doomed = 0;
    if (doomed_out && !doomed) st = gb_fail(GB_ENOMEM, "gb_saver_save: out of memory");
    if (st == GB_OK && doomed && sv->max_to_keep > 0 && n > (size_t)sv->max_to_keep) {
        size_t drop_n = n - (size_t)sv->max_to_keep, kept = 0;
        for (size_t i = 0; i < n; i++) {
            if (i < drop_n) {
                char *path = join(sv->dir, all[i]);
                double t = path ? index_mtime(path) : 0;
                if (sv->keep_hours > 0 && t >= sv->last_preserved + sv->keep_hours * 3600) {
                    sv->last_preserved = t; /* kept for good: no longer in the list, never deleted */
                    free(path);
                } else if (path) {
                    doomed[n_doomed++] = path;
                }
                free(all[i]);
            } else {
                all[kept++] = all[i];
            }
        }
        state.n_all = kept;
    }
    free(state.latest);
    state.latest = st == GB_OK ? strdup(latest) : NULL;
    if (st == GB_OK && !state.latest) st = gb_fail(GB_ENOMEM, "gb_saver_save: out of memory");
    if (st == GB_OK) st = gb_ckpt_state_write(sv->dir, &state);
    gb_ckpt_state_clear(&state);
    if (st == GB_OK) gb_ckpt_stage("state_written");
    if (st != GB_OK || !doomed_out) {
        for (size_t i = 0; i < n_doomed; i++) free(doomed[i]);
        free(doomed);
        doomed = NULL, n_doomed = 0;
    }
    if (doomed_out) *doomed_out = doomed, *n_doomed_out = n_doomed;
    return st;
}

/* Whether the state file on disk names rel (as the latest or in its list): a failed save must
 * not delete what a reader may be sent to. failure: the save's own status, whose message this
 * keeps. */
static int state_names(const gb_saver *sv, const char *rel, gb_status failure)
{
    /* the caller is reporting the save's own failure: a state file that cannot be read (often
     * none yet) must not replace that message */
    char message[1024];
    snprintf(message, sizeof message, "%s", gb_errmsg());
    gb_ckpt_state state;
    gb_status st = gb_ckpt_state_read(sv->dir, &state);
    (void)gb_fail(failure, "%s", message);
    if (st != GB_OK) return 0;
    int named = !strcmp(state.latest, rel);
    for (size_t i = 0; i < state.n_all && !named; i++) named = !strcmp(state.all[i], rel);
    gb_ckpt_state_clear(&state);
    return named;
}

static gb_status write_bundle(const gb_saver *sv, gb_session *s, const char *prefix)
{
    gb_bundle_writer *w;
    gb_status st = gb_bundle_writer_open(&w, prefix);
    if (st != GB_OK) return st;
    gb_bundle_writer_set_durable(w, !sv->not_durable);
    for (size_t i = 0; i < sv->n_vars && st == GB_OK; i++) {
        const gb_node *v = sv->vars[i];
        const gb_tensor *t = gb_session_variable(s, v);
        st = gb_bundle_add(w, v->name, (int)v->dtype, v->shape.rank, v->shape.dim, gb_tensor_data(t), gb_tensor_bytes(t));
    }
    if (st != GB_OK) {
        gb_bundle_writer_abort(w);
        return st;
    }
    return gb_bundle_writer_finish(w);
}

/* Gives `to` the file `from` (which keeps it): a hard link under a unique name, renamed over. */
static gb_status link_over(const char *from, const char *to, int *linked)
{
    *linked = 0;
    char *temp = unique_name(to);
    if (!temp) return gb_fail(GB_ENOMEM, "gb_saver_save: out of memory");
    gb_status st = GB_OK;
    if (link(from, temp) != 0) {
        st = gb_fail_errno(GB_EIO, errno, "gb_saver_save: cannot link %s to %s", from, temp);
    } else {
        *linked = 1;
        int replaced = gb_ckpt_open_for_release(to);
        if (rename(temp, to) != 0) {
            st = gb_fail_errno(GB_EIO, errno, "gb_saver_save: cannot rename %s", temp);
            unlink(temp);
        }
        gb_ckpt_close_in_background(replaced);
    }
    free(temp);
    return st;
}

/* Puts the checkpoint at side under prefix as well, side staying whole. Where the file system has
 * no hard links the bundle is written again under prefix instead (the state file names side
 * meanwhile, so prefix may be half written). */
static gb_status publish(const gb_saver *sv, gb_session *s, const char *side, const char *prefix)
{
    char *from_data = file_of(side, DATA_SUFFIX), *to_data = file_of(prefix, DATA_SUFFIX);
    char *from_index = file_of(side, ".index"), *to_index = file_of(prefix, ".index");
    gb_status st = GB_OK;
    if (!from_data || !to_data || !from_index || !to_index) st = gb_fail(GB_ENOMEM, "gb_saver_save: out of memory");
    /* the old index first: in between, prefix is no checkpoint rather than a mismatched pair */
    if (st == GB_OK && unlink(to_index) != 0 && errno != ENOENT)
        st = gb_fail_errno(GB_EIO, errno, "gb_saver_save: cannot remove %s", to_index);
    int linked = 0;
    if (st == GB_OK) {
        st = link_over(from_data, to_data, &linked);
        if (st != GB_OK && !linked) {
            st = write_bundle(sv, s, prefix);
        } else if (st == GB_OK) {
            gb_ckpt_stage("data_renamed");
            st = link_over(from_index, to_index, &linked);
            if (st == GB_OK) gb_ckpt_stage("index_renamed");
        }
    }
    /* the renames reach the disk before the state file that names prefix again */
    if (st == GB_OK && !sv->not_durable) {
        int fd = open(sv->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0) st = gb_fail_errno(GB_EIO, errno, "gb_saver_save: cannot sync %s", sv->dir);
        if (fd >= 0) close(fd);
    }
    free(from_data), free(to_data), free(from_index), free(to_index);
    return st;
}

gb_status gb_saver_save(gb_saver *sv, gb_session *s, int64_t step, char **prefix_out)
{
    if (prefix_out) *prefix_out = NULL;
    if (!sv || !s) return gb_fail(GB_EINVAL, "gb_saver_save: NULL argument");
    gb_status st = check_not_reset(sv, "gb_saver_save");
    if (st != GB_OK) return st;
    for (size_t i = 0; i < sv->n_vars; i++)
        if (!gb_session_variable(s, sv->vars[i]))
            return gb_fail(GB_ESTATE, "gb_saver_save: variable %s has no value in this session (not initialised, or the "
                           "session is not of the saver's graph)", sv->vars[i]->name);
    size_t len = strlen(sv->base) + 32;
    char *prefix = malloc(len), *side = NULL;
    if (!prefix) return gb_fail(GB_ENOMEM, "gb_saver_save: out of memory");
    snprintf(prefix, len, "%s-%lld", sv->base, (long long)step);
    st = gb_mkdir_p(sv->dir); /* as gb_writer_open makes its log directory */
    if (st != GB_OK) {
        gb_fail_context(st, "gb_saver_save: cannot make the checkpoint directory");
        free(prefix);
        return st;
    }
    int lock = lock_directory(sv->dir);
    int again = index_exists(prefix), wrote = 0, side_named = 0;
    if (again && !(side = unique_name(prefix))) st = gb_fail(GB_ENOMEM, "gb_saver_save: out of memory");
    if (st == GB_OK) st = write_bundle(sv, s, again ? side : prefix);
    wrote = st == GB_OK;
    if (st == GB_OK && again) {
        st = update_state(sv, relative(sv, side), relative(sv, prefix), NULL, NULL);
        side_named = st == GB_OK;
        if (st == GB_OK) st = publish(sv, s, side, prefix);
    }
    char **doomed = NULL;
    size_t n_doomed = 0;
    if (st == GB_OK) st = update_state(sv, relative(sv, prefix), side ? relative(sv, side) : NULL, &doomed, &n_doomed);
    for (size_t i = 0; i < n_doomed; i++) {
        delete_checkpoint(doomed[i]);
        free(doomed[i]);
    }
    free(doomed);
    if (st == GB_OK && side) delete_checkpoint(side); /* its files live on under prefix */
    if (st == GB_OK) gb_ckpt_stage("old_deleted");

    if (st != GB_OK && wrote) {
        /* What this save wrote goes, unless the state file names it (a state file written but not
         * synced, or a save again whose side checkpoint the state file still points to). */
        const char *mine = side ? side : prefix;
        if (!state_names(sv, relative(sv, mine), st)) delete_checkpoint(mine);
        else if (side_named) gb_fail_context(st, "gb_saver_save: saved as %s, which the state file names, not as %s", side, prefix);
    }
    unlock_directory(lock);
    free(side);
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
    for (size_t i = 0; i < n; i++) {
        const gb_node *v = variables[i];
        if (!v || !names[i]) return gb_fail(GB_EINVAL, "restore from %s: variable %zu or its name is NULL", prefix, i);
        if (!v->is_variable)
            return gb_fail(GB_EINVAL, "restore from %s: %s is not a variable (a %s node)", prefix, v->name, v->op->type);
        /* the session checks that the first is of its graph before the first change */
        if (v->graph != variables[0]->graph)
            return gb_fail(GB_EINVAL, "restore from %s: %s and %s are of different graphs; all must be of the session's",
                           prefix, variables[0]->name, v->name);
    }
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
    for (size_t i = 0; i < n && st == GB_OK; i++) {
        st = gb_session_assign(s, variables[i], values[i]);
        if (st != GB_OK) gb_fail_context(st, "restore from %s", prefix);
    }
    for (size_t i = 0; values && i < n; i++) gb_tensor_free(values[i]);
    free(values);
    gb_bundle_reader_close(r);
    return st;
}

gb_status gb_saver_restore(gb_saver *sv, gb_session *s, const char *prefix)
{
    if (!sv) return gb_fail(GB_EINVAL, "gb_saver_restore: saver is NULL");
    gb_status st = check_not_reset(sv, "gb_saver_restore");
    if (st != GB_OK) return st;
    const char **names = malloc((sv->n_vars + 1) * sizeof *names);
    if (!names) return gb_fail(GB_ENOMEM, "gb_saver_restore: out of memory");
    for (size_t i = 0; i < sv->n_vars; i++) names[i] = sv->vars[i]->name;
    st = gb_restore_variables(s, prefix, sv->n_vars, names, sv->vars);
    free(names);
    return st;
}

char *gb_latest_checkpoint(const char *dir)
{
    gb_ckpt_state state;
    if (gb_ckpt_state_read(dir, &state) != GB_OK) return NULL;
    char *path = join(dir, state.latest);
    gb_ckpt_state_clear(&state);
    char *index = path ? file_of(path, ".index") : NULL;
    struct stat sb;
    if (!index || stat(index, &sb) != 0) {
        gb_bundle_reader *v1 = NULL;
        /* the open names the V1 format when that is why there is no index */
        if (index && gb_bundle_reader_open(&v1, path) == GB_EUNSUPPORTED)
            gb_fail_context(GB_EUNSUPPORTED, "%s: the state file names %s", dir, path);
        else if (index)
            gb_fail(GB_ENOTFOUND, "%s: the state file names %s, whose index is missing", dir, path);
        gb_bundle_reader_close(v1);
        free(path), free(index);
        return NULL;
    }
    free(index);
    return path;
}
