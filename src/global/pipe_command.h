/*
 * pipe_command - run a delivery command with the message on its standard
 * input, and map its result to a delivery status (spec/delivery.md 2.5,
 * 4.4). Shared by local(8) (|command, mailbox_command) and pipe(8).
 *
 *   status = pipe_command(src, src_offset, why, attr)
 *
 * attr (PIPE_COMMAND_ATTR, start from PIPE_COMMAND_ATTR_INIT):
 *   argv          the command and arguments, run without a shell; or
 *   command       a command line: run directly when it has no shell
 *                 metacharacters (through /bin/sh -c after all when
 *                 its first word, without "/", is not found: a shell
 *                 built-in such as "exit 9"), else through /bin/sh -c;
 *   shell         when set (local_command_shell), every command line
 *                 goes through it: "/path/smrsh -c" is split into words
 *                 and the command added; "-c" is added to a bare shell
 *   uid, gid      privileges for the command ((uid_t)-1: ours; switching
 *                 only happens when we run as root; root is refused: the
 *                 caller maps it to default_privs)
 *   env           "NAME=VALUE" entries added to the environment; the
 *                 environment is otherwise empty except PATH (a fixed
 *                 default, _PATH_DEFPATH) and the names in
 *                 export_environment
 *   cwd           working directory (NULL: the queue directory)
 *   time_limit    seconds (command_time_limit, NAME_time_limit)
 *   sender, orig_rcpt, delivered, copy_flags, eol
 *                 how the message is written to the command's input:
 *                 mail_copy() with these (local: FROM | RETURN_PATH |
 *                 ORIG_RCPT | DELIVERED per prepend_delivered_header;
 *                 pipe: from its flags=)
 *   out           when not NULL, gets the command's output (stdout and
 *                 stderr merged, newlines and tabs as spaces,
 *                 non-printables as "_", at most 2000 bytes)
 *
 * The result (PIPE_STAT_OK, PIPE_STAT_DEFER, PIPE_STAT_BOUNCE,
 * PIPE_STAT_CORRUPT) and why follow spec 4.4 in order: time limit
 * ("5.3.0 Command time limit exceeded: \"CMD\""), killed by signal
 * ("4.3.0 Command died with signal N: \"CMD\""), output starting with
 * an enhanced status code (that code and text), sysexits codes 64-78
 * (sys_exits_detail(): "temporary failure", "user unknown", ... then
 * ". Command output: OUTPUT" when there was output), any other status
 * ("5.3.0 Command died with status N: \"CMD\""). On success why holds
 * "2.0.0" and the output (if any). CMD is the command line as given
 * (argv joined by spaces for argv). A message that cannot be read from
 * the queue file is PIPE_STAT_CORRUPT; a command that cannot be started
 * is PIPE_STAT_DEFER ("4.3.0 ...").
 * The message is written while the command runs (no deadlock when it
 * does not read its input; EPIPE is not an error when it exits 0).
 *
 *   detail = sys_exits_detail(code)  the sysexits row (dsn, text) or NULL
 */
#ifndef PIPE_COMMAND_H
#define PIPE_COMMAND_H

#include <stdbool.h>
#include <sys/types.h>

#include "dsn.h"
#include "vstream.h"
#include "vstring.h"

#define PIPE_STAT_OK      0
#define PIPE_STAT_DEFER   1
#define PIPE_STAT_BOUNCE  2
#define PIPE_STAT_CORRUPT 3

typedef struct PIPE_COMMAND_ATTR {
    char *const *argv;
    const char *command;
    const char *shell;
    uid_t uid;
    gid_t gid;
    const char *const *env;
    const char *cwd;
    int time_limit;
    const char *sender;
    const char *orig_rcpt;
    const char *delivered;
    int copy_flags;
    const char *eol;
    VSTRING *out;
} PIPE_COMMAND_ATTR;

#define PIPE_COMMAND_ATTR_INIT {.uid = (uid_t)-1, .gid = (gid_t)-1, .eol = "\n"}

typedef struct SYS_EXITS_DETAIL {
    int code;
    const char *dsn;  /* "5.3.0" */
    const char *text; /* "command line usage error" */
} SYS_EXITS_DETAIL;

extern int pipe_command(VSTREAM *src, off_t src_offset, DSN_BUF *why, const PIPE_COMMAND_ATTR *attr);
extern const SYS_EXITS_DETAIL *sys_exits_detail(int code);

#endif
