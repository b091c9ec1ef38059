/*
 * msg - graded diagnostics. See msg.h.
 */
#include "sys_defs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "msg.h"
#include "vstring.h"

int msg_verbose;

#define MSG_MAX_OUTPUT 4

static MSG_OUTPUT_FN msg_outputs[MSG_MAX_OUTPUT];
static int msg_output_count;
static MSG_CLEANUP_FN msg_cleanup_fn;
static int msg_exiting;

/* Register one more output channel. */
void msg_output(MSG_OUTPUT_FN fn)
{
    for (int i = 0; i < msg_output_count; i++)
        if (msg_outputs[i] == fn)
            return; /* a channel set up again (logging re-initialised) */
    if (msg_output_count >= MSG_MAX_OUTPUT)
        msg_panic("msg_output: too many output channels");
    msg_outputs[msg_output_count++] = fn;
}

/* Forget all output channels (used when a process changes its log target). */
void msg_output_reset(void)
{
    msg_output_count = 0;
}

/* Set the hook run before a fatal exit; returns the previous hook. */
MSG_CLEANUP_FN msg_cleanup(MSG_CLEANUP_FN fn)
{
    MSG_CLEANUP_FN old = msg_cleanup_fn;

    msg_cleanup_fn = fn;
    return old;
}

/* The text that precedes a message of the given severity. */
const char *msg_level_prefix(enum msg_level level)
{
    static const char *prefix[] = {"", "warning: ", "error: ", "fatal: ", "panic: "};

    return prefix[level];
}

/* Format one message and pass it to every channel. */
void msg_vprintf(enum msg_level level, const char *fmt, va_list ap)
{
    static VSTRING *buf;
    static int busy;
    int saved_errno = errno;

    /* A diagnostic raised while formatting a diagnostic must not recurse. */
    if (busy++ == 0) {
        if (buf == NULL)
            buf = vstring_alloc(256);
        errno = saved_errno;
        vstring_vsprintf(buf, fmt, ap);
        if (msg_output_count == 0)
            fprintf(stderr, "%s%s\n", msg_level_prefix(level), vstring_str(buf));
        for (int i = 0; i < msg_output_count; i++)
            msg_outputs[i](level, vstring_str(buf));
    }
    busy--;
    errno = saved_errno;
}

void msg_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vprintf(MSG_INFO, fmt, ap);
    va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vprintf(MSG_WARN, fmt, ap);
    va_end(ap);
}

void msg_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vprintf(MSG_ERROR, fmt, ap);
    va_end(ap);
}

/* Log, run the cleanup hook once, and exit with the given status. */
static NORETURN msg_exit(int status, const char *fmt, va_list ap)
{
    if (msg_exiting++ == 0) {
        msg_vprintf(MSG_FATAL, fmt, ap);
        if (msg_cleanup_fn)
            msg_cleanup_fn();
    }
    exit(status);
}

void msg_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_exit(1, fmt, ap);
}

void msg_fatal_status(int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_exit(status, fmt, ap);
}

void msg_panic(const char *fmt, ...)
{
    va_list ap;

    if (msg_exiting++ == 0) {
        va_start(ap, fmt);
        msg_vprintf(MSG_PANIC, fmt, ap);
        va_end(ap);
    }
    abort();
}
