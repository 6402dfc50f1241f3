/* The "checkpoint" state file: a few `field: "string"` lines of protobuf text format. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal/ckpt_state.h"
#include "internal/error.h"

void gb_ckpt_state_clear(gb_ckpt_state *state)
{
    free(state->latest);
    for (size_t i = 0; i < state->n_all; i++) free(state->all[i]);
    free(state->all);
    memset(state, 0, sizeof *state);
}

/* Parses a text-format string literal at *p (after its opening quote); returns a new string. */
static char *parse_string(const char **p)
{
    const char *s = *p;
    size_t cap = strlen(s) + 1, n = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    while (*s && *s != '"') {
        char c = *s++;
        if (c == '\\') {
            c = *s++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case '\\': case '"': case '\'': break;
            default:
                if (c >= '0' && c <= '7') { /* up to three octal digits */
                    int v = c - '0';
                    for (int k = 0; k < 2 && *s >= '0' && *s <= '7'; k++) v = v * 8 + (*s++ - '0');
                    c = (char)v;
                } else {
                    free(out);
                    return NULL;
                }
            }
        }
        out[n++] = c;
    }
    if (*s != '"') {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    *p = s + 1;
    return out;
}

gb_status gb_ckpt_state_read(const char *dir, gb_ckpt_state *state)
{
    memset(state, 0, sizeof *state);
    char path[4096];
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    FILE *f = fopen(path, "r");
    if (!f) return gb_fail_errno(errno == ENOENT ? GB_ENOTFOUND : GB_EIO, errno, "cannot read %s", path);
    char line[8192];
    gb_status st = GB_OK;
    int line_no = 0;
    while (st == GB_OK && fgets(line, sizeof line, f)) {
        line_no++;
        const char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\n' || *p == '\0' || *p == '#') continue;
        const char *colon = strchr(p, ':');
        if (!colon) {
            st = gb_fail(GB_ECORRUPT, "%s:%d: not a `field: value` line", path, line_no);
            break;
        }
        size_t key_len = (size_t)(colon - p);
        const char *v = colon + 1;
        while (*v == ' ') v++;
        int is_latest = key_len == 21 && !strncmp(p, "model_checkpoint_path", 21);
        int is_all = key_len == 26 && !strncmp(p, "all_model_checkpoint_paths", 26);
        if (!is_latest && !is_all) continue; /* timestamps and other bookkeeping */
        char *value = *v == '"' ? (v++, parse_string(&v)) : NULL;
        if (!value) {
            st = gb_fail(GB_ECORRUPT, "%s:%d: a bad string", path, line_no);
            break;
        }
        if (is_latest) {
            free(state->latest);
            state->latest = value;
        } else {
            char **all = realloc(state->all, (state->n_all + 1) * sizeof *all);
            if (!all) {
                free(value);
                st = gb_fail(GB_ENOMEM, "out of memory");
                break;
            }
            state->all = all;
            state->all[state->n_all++] = value;
        }
    }
    fclose(f);
    if (st == GB_OK && (!state->latest || !*state->latest))
        st = gb_fail(GB_ECORRUPT, "%s: no model_checkpoint_path", path);
    if (st != GB_OK) gb_ckpt_state_clear(state);
    return st;
}

static void write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fputc('\\', f), fputc(c, f);
        else if (c == '\n') fputs("\\n", f);
        else if (c < 0x20 || c == 0x7f) fprintf(f, "\\%03o", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

gb_status gb_ckpt_state_write(const char *dir, const gb_ckpt_state *state)
{
    char path[4096], temp[4160];
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    /* unique to this write: two saves into one directory, from two threads or two processes,
     * must not share a temporary file */
    static atomic_uint counter;
    snprintf(temp, sizeof temp, "%s.tmp%ld_%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return gb_fail_errno(GB_EIO, errno, "cannot create %s", temp);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(temp);
        return gb_fail_errno(GB_EIO, errno, "cannot write %s", temp);
    }
    fputs("model_checkpoint_path: ", f);
    write_string(f, state->latest);
    fputc('\n', f);
    for (size_t i = 0; i < state->n_all; i++) {
        fputs("all_model_checkpoint_paths: ", f);
        write_string(f, state->all[i]);
        fputc('\n', f);
    }
    gb_status st = GB_OK;
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) st = gb_fail_errno(GB_EIO, errno, "cannot write %s", temp);
    if (fclose(f) != 0 && st == GB_OK) st = gb_fail_errno(GB_EIO, errno, "cannot close %s", temp);
    if (st == GB_OK && rename(temp, path) != 0) st = gb_fail_errno(GB_EIO, errno, "cannot rename %s", temp);
    if (st != GB_OK) {
        unlink(temp);
        return st;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) st = gb_fail_errno(GB_EIO, errno, "cannot sync %s", dir);
    if (dfd >= 0) close(dfd);
    return st;
}
