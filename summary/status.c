#include "internal/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { MESSAGE_CAPACITY = 1024 };

static _Thread_local char thread_message[MESSAGE_CAPACITY];

const char *gb_errmsg(void) { return thread_message; }

const char *gb_status_name(gb_status st)
{
    switch (st) {
    case GB_OK: return "GB_OK";
    case GB_END: return "GB_END";
    case GB_EINVAL: return "GB_EINVAL";
    case GB_ENOMEM: return "GB_ENOMEM";
    case GB_EIO: return "GB_EIO";
    case GB_ECORRUPT: return "GB_ECORRUPT";
    case GB_ETRUNCATED: return "GB_ETRUNCATED";
    case GB_ENOTFOUND: return "GB_ENOTFOUND";
    case GB_ESHAPE: return "GB_ESHAPE";
    case GB_EUNSUPPORTED: return "GB_EUNSUPPORTED";
    case GB_ESTATE: return "GB_ESTATE";
    case GB_ENUMERIC: return "GB_ENUMERIC";
    case GB_EDEVICE: return "GB_EDEVICE";
    }
    return "GB_UNKNOWN_STATUS";
}

gb_status gb_fail(gb_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(thread_message, sizeof thread_message, fmt, ap);
    va_end(ap);
    return st;
}

gb_status gb_fail_errno(gb_status st, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(thread_message, sizeof thread_message, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof thread_message)
        snprintf(thread_message + n, sizeof thread_message - (size_t)n, ": %s", strerror(err));
    return st;
}

/* Appends s to the thread's message, which holds `used` bytes, cutting it where the buffer ends
 * (a message too long is cut, never refused); returns the new length. */
static size_t message_append(size_t used, const char *s)
{
    size_t len = strnlen(s, sizeof thread_message - 1 - used);
    memcpy(thread_message + used, s, len);
    thread_message[used + len] = '\0';
    return used + len;
}

gb_status gb_fail_context(gb_status st, const char *fmt, ...)
{
    /* The context is formatted apart, before the message changes: its arguments may point into
     * the current message (gb_errmsg()). */
    char context[MESSAGE_CAPACITY], previous[MESSAGE_CAPACITY];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
    memcpy(previous, thread_message, sizeof previous);
    message_append(message_append(message_append(0, context), ": "), previous);
    return st;
}
