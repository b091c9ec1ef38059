/*
 * msg_stderr - the diagnostics channel for interactive commands.
 *
 * msg_stderr_init(TAG) makes every diagnostic appear on standard error as
 * "TAG: warning: text" (Postfix's command format, e.g. "postconf: warning:
 * ..."). TAG is copied.
 */
#ifndef MSG_STDERR_H
#define MSG_STDERR_H

extern void msg_stderr_init(const char *tag);

#endif
