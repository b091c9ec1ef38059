/*
 * msg - graded diagnostics.
 *
 * msg_info(), msg_warn(), msg_error(), msg_fatal() and msg_panic() format a
 * message printf-style (%m is the text of errno at the call) and hand it to
 * every registered output channel (msg_stderr, msg_syslog, msg_logfile).
 * Channels add the severity prefix ("warning: ", "error: ", "fatal: ",
 * "panic: "; none for info) themselves via msg_level_prefix().
 *
 * msg_fatal() is for problems of the environment or configuration: it runs
 * the cleanup hook and exits with status 1 (msg_fatal_status() chooses the
 * status); the master restarts a daemon that ends this way. msg_panic() is
 * for bugs: it aborts. With no channel registered, messages go to stderr.
 */
#ifndef MSG_H
#define MSG_H

#include <stdarg.h>

#include "sys_defs.h"

enum msg_level { MSG_INFO, MSG_WARN, MSG_ERROR, MSG_FATAL, MSG_PANIC };

typedef void (*MSG_OUTPUT_FN)(enum msg_level level, const char *text);
typedef void (*MSG_CLEANUP_FN)(void);

extern int msg_verbose;

extern void msg_info(const char *fmt, ...) PRINTFLIKE(1, 2);
extern void msg_warn(const char *fmt, ...) PRINTFLIKE(1, 2);
extern void msg_error(const char *fmt, ...) PRINTFLIKE(1, 2);
extern NORETURN msg_fatal(const char *fmt, ...) PRINTFLIKE(1, 2);
extern NORETURN msg_fatal_status(int status, const char *fmt, ...) PRINTFLIKE(2, 3);
extern NORETURN msg_panic(const char *fmt, ...) PRINTFLIKE(1, 2);
extern void msg_vprintf(enum msg_level level, const char *fmt, va_list ap) PRINTFLIKE(2, 0);

extern void msg_output(MSG_OUTPUT_FN fn);
extern void msg_output_reset(void);
extern MSG_CLEANUP_FN msg_cleanup(MSG_CLEANUP_FN fn);
extern const char *msg_level_prefix(enum msg_level level);

#endif
