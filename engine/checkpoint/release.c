/* Releasing the storage of a replaced or deleted checkpoint file happens at the last close of
 * its inode and takes milliseconds for large files (freeing its page-cache or tmpfs pages).
 * The name is already gone by then, so that close can run on a short-lived thread while the
 * save returns. */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "internal/ckpt_hooks.h"

static void *close_fd(void *arg)
{
    close((int)(intptr_t)arg);
    return NULL;
}

void gb_ckpt_close_in_background(int fd)
{
    if (fd < 0) return;
    pthread_attr_t attr;
    pthread_t thread;
    if (pthread_attr_init(&attr) == 0) {
        int started = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
                      pthread_create(&thread, &attr, close_fd, (void *)(intptr_t)fd) == 0;
        pthread_attr_destroy(&attr);
        if (started) return;
    }
    close(fd);
}

int gb_ckpt_open_for_release(const char *path) { return open(path, O_RDONLY | O_CLOEXEC); }

void gb_ckpt_unlink_in_background(const char *path)
{
    int fd = gb_ckpt_open_for_release(path);
    unlink(path);
    gb_ckpt_close_in_background(fd);
}
