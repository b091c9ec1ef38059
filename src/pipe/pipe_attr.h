/*
 * pipe_attr - the master.cf command attributes of the pipe(8) delivery
 * agent, and the per-request expansion of its argv= macros
 * (spec/delivery.md 4.1, 4.2).
 *
 *   err = pipe_attr_parse(attr, argv)
 *       parses the arguments after the program name, as the master
 *       passes them ({ ... } groups already one argument without the
 *       braces): flags=, user=USER[:GROUP], group=, null_sender=, size=,
 *       eol=, directory=, chroot=, then argv=COMMAND ARGS... (last; the
 *       rest of the arguments). Returns NULL, or a static error text
 *       ("unknown attribute name: x", "missing argv= attribute", ...)
 *       that the daemon makes fatal. Unknown flag letters are ignored with
 *       a warning. user= is only stored here; pipe_attr_user() looks it
 *       up.
 *   err = pipe_attr_user(attr)
 *       sets attr->uid and attr->gid from user= (and :GROUP or group=);
 *       NULL or an error text ("unknown user name: x", "user= attribute
 *       specifies root privileges").
 *   pipe_attr_free(attr)
 *
 *   args = pipe_expand_argv(attr, ctx)
 *       the command for one request: every $name, ${name}, $(name) of the
 *       argv= words replaced (values are inserted literally, $$ is $); an
 *       argument that uses ${recipient}, ${original_recipient}, ${user},
 *       ${extension} or ${mailbox} is repeated once per recipient. Flags
 *       h, q and u are applied to the values as pipe(8) documents. An
 *       unknown macro name expands to nothing with a warning.
 *
 * The flags= letters map to mail_copy() flags (B D F O R . >) and to the
 * PIPE_FLAG_* bits below (X h q u).
 */
#ifndef PIPE_ATTR_H
#define PIPE_ATTR_H

#include <sys/types.h>

#include "argv.h"
#include "recipient_list.h"

#define PIPE_FLAG_FINAL      (1 << 0) /* X: DSN action "delivered" */
#define PIPE_FLAG_FOLD_HOST  (1 << 1) /* h */
#define PIPE_FLAG_QUOTE      (1 << 2) /* q */
#define PIPE_FLAG_FOLD_LOCAL (1 << 3) /* u */

typedef struct PIPE_ATTR {
    int copy_flags; /* MAIL_COPY_* */
    int flags;      /* PIPE_FLAG_* */
    char *user;     /* user= name, without :GROUP */
    char *group;    /* :GROUP or group=, NULL when none */
    uid_t uid;      /* set by pipe_attr_user() */
    gid_t gid;
    char *null_sender; /* default "MAILER-DAEMON" */
    long size_limit;   /* 0: none */
    char *eol;         /* unescaped, default "\n" */
    char *directory;   /* NULL: the queue directory */
    char *chroot;      /* NULL: none */
    ARGV *command;     /* the argv= words, unexpanded */
} PIPE_ATTR;

/* What one request offers to the macros. */
typedef struct PIPE_EXPAND_CTX {
    const char *sender; /* "" for the null sender */
    const char *nexthop;
    const char *queue_id;
    const char *envid;
    long size;
    const char *client_address;
    const char *client_hostname;
    const char *client_helo;
    const char *client_port;
    const char *client_protocol;
    const char *sasl_method; /* smtpd AUTH; NULL or "": none */
    const char *sasl_username;
    const char *sasl_sender;
    const char *rcpt_delim; /* recipient_delimiter */
    const RECIPIENT *rcpt;  /* the recipients */
    int rcpt_count;
    const char *service; /* for warnings */
} PIPE_EXPAND_CTX;

extern const char *pipe_attr_parse(PIPE_ATTR *attr, char *const *argv);
extern const char *pipe_attr_user(PIPE_ATTR *attr);
extern void pipe_attr_free(PIPE_ATTR *attr);
extern ARGV *pipe_expand_argv(const PIPE_ATTR *attr, const PIPE_EXPAND_CTX *ctx);

#endif
