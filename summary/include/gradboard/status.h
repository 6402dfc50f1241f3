/* gradboard/status.h: status codes and error messages shared by every gradboard call.
 *
 *   gb_status st = gb_writer_open(&w, "runs/mlp", NULL);
 *   if (st != GB_OK) {
 *       fprintf(stderr, "gradboard: %s (%s)\n", gb_errmsg(), gb_status_name(st));
 *       return 1;
 *   }
 *
 * A fallible call returns a gb_status (0 = GB_OK) and, on failure, leaves a readable message
 * for the calling thread in gb_errmsg(). Messages name the file, offset, tag or shape involved.
 */
#ifndef GRADBOARD_STATUS_H
#define GRADBOARD_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gb_status {
    GB_OK = 0,
    GB_END = 1,          /* not an error: an iterator has nothing more to give */
    GB_EINVAL = 2,       /* a bad argument from the caller */
    GB_ENOMEM = 3,       /* an allocation failed */
    GB_EIO = 4,          /* the operating system refused a read or write */
    GB_ECORRUPT = 5,     /* stored data fails a checksum or does not parse */
    GB_ETRUNCATED = 6,   /* stored data ends in the middle of a record */
    GB_ENOTFOUND = 7,    /* a file, directory, tag or name does not exist */
    GB_ESHAPE = 8,       /* tensor shapes do not fit together */
    GB_EUNSUPPORTED = 9, /* valid input that this build cannot handle */
    GB_ESTATE = 10,      /* the object is not in a state that allows the call */
    GB_ENUMERIC = 11,    /* a NaN or infinity where checking was asked for (check_numerics) */
    GB_EDEVICE = 12      /* the GPU, its driver or its libraries are missing or failed */
} gb_status;

/* The message of the calling thread's last failure. Pointer valid until that thread's next
 * failing gradboard call; never NULL (an empty string when nothing failed yet). */
const char *gb_errmsg(void);

/* A short constant name for a status ("GB_ECORRUPT"). Never NULL; static storage. */
const char *gb_status_name(gb_status st);

#ifdef __cplusplus
}
#endif
#endif
