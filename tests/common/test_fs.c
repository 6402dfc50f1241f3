#define _GNU_SOURCE
#include "test_fs.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char *test_dir;

void test_dir_setup(void)
{
    test_dir = test_tmpdir();
    cr_assert_not_null(test_dir, "cannot create a scratch directory");
}

void test_dir_teardown(void)
{
    test_rmtree(test_dir);
    free(test_dir);
    test_dir = NULL;
}

double test_fixed_clock(void *ctx)
{
    return *(double *)ctx;
}

char *test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path;
    if (asprintf(&path, "%s/gradboard-test-XXXXXX", base && *base ? base : "/tmp") < 0) return NULL;
    if (!mkdtemp(path)) {
        free(path);
        return NULL;
    }
    return path;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void test_rmtree(const char *path)
{
    if (path) nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

uint8_t *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

int test_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t put = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && put == len) ? 0 : -1;
}

char *test_only_event_file(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char *found = NULL;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, "tfevents")) continue;
        count++;
        free(found);
        if (asprintf(&found, "%s/%s", dir, e->d_name) < 0) found = NULL;
    }
    closedir(d);
    if (count != 1) {
        free(found);
        return NULL;
    }
    return found;
}

int test_run(const char *command, char **out)
{
    FILE *p = popen(command, "r");
    if (!p) return -1;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    int status = pclose(p);
    if (buf) buf[n] = '\0';
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char *test_listing(const char *dir)
{
    char command[4200], *out = NULL;
    snprintf(command, sizeof command, "ls '%s' | tr '\\n' ' '", dir);
    if (test_run(command, &out) != 0) {
        free(out);
        return NULL;
    }
    return out;
}
