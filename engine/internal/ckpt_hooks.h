/* Private: a test hook called at each durable step of a checkpoint save, so that tests can kill
 * the process exactly there and check what survives. NULL (the default) costs nothing. */
#ifndef GB_ENGINE_CKPT_HOOKS_H
#define GB_ENGINE_CKPT_HOOKS_H

/* Stages, in order: "data_written" (temporary data file complete and synced), "data_renamed",
 * "index_written" (temporary index synced), "index_renamed", "state_written" (the state file
 * names the new checkpoint), "old_deleted". */
extern void (*gb_ckpt_test_hook)(const char *stage);

static inline void gb_ckpt_stage(const char *stage)
{
    if (gb_ckpt_test_hook) gb_ckpt_test_hook(stage);
}

/* release.c: the storage of a file whose name is gone is freed at its last close, which these
 * run on a short-lived thread. open_for_release returns -1 when there is no such file. */
int gb_ckpt_open_for_release(const char *path);
void gb_ckpt_close_in_background(int fd);
void gb_ckpt_unlink_in_background(const char *path);

#endif
