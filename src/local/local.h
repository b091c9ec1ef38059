/*
 * local - the local delivery agent (spec/delivery.md 2): state shared by
 * its modules and who owns what.
 *
 * One delivery request carries one recipient (local_destination_recipient_
 * limit = 1 is the norm; more are delivered one after the other). For each
 * recipient local.c builds a LOCAL_STATE and calls deliver_recipient(),
 * which may recurse through aliases, :include: files and .forward files;
 * state.level counts the nesting.
 *
 * Modules:
 *   local.c        main (single_server_main, privileged), the request loop,
 *                  per-recipient state, result reporting (local_sent,
 *                  local_bounce, local_defer, local_result: relay=local,
 *                  soft_bounce, DSN action), passwd lookups, default_privs,
 *                  the duplicate filter (duplicate_filter_limit)
 *   recipient.c    deliver_recipient(): loop detection (Delivered-To),
 *                  recipient_delimiter split, then alias -> .forward ->
 *                  mailbox_transport(_maps) -> mailbox_command(_maps) ->
 *                  mailbox -> fallback_transport(_maps) -> luser_relay ->
 *                  unknown
 *   mailbox.c      deliver_mailbox(): home_mailbox / mail_spool_directory,
 *                  mbox or Maildir, locking, mailbox_command(_maps),
 *                  mailbox_transport(_maps)
 *   file.c         deliver_file(): "/path" (mbox) and "/dir/" (Maildir)
 *                  destinations, allow_mail_to_files, executable check
 *   command.c      deliver_command(): "|command" destinations and
 *                  mailbox_command: environment, privileges,
 *                  allow_mail_to_commands, pipe_command()
 *   unknown.c      deliver_unknown(): fallback_transport, luser_relay,
 *                  "unknown user"
 *   pass.c         deliver_pass() / deliver_pass_to(): hand the recipient
 *                  to another transport with a delivery request of its own
 *                  (mailbox_transport, fallback_transport)
 *   local_util.c   expansions ($user, $home, ...), the command environment,
 *                  allow_mail_to_* checks, privilege switching
 *   alias.c        deliver_alias(): alias_maps lookup, owner- handling,
 *                  self-reference, nesting limit
 *   dotforward.c   deliver_dotforward(): forward_path expansion, file
 *                  checks, ~/ paths, self-reference
 *   include.c      deliver_include(): :include: files, privileges
 *   token.c        deliver_token_string() / deliver_token(): an alias or
 *                  .forward right-hand side split into destinations and
 *                  each one dispatched (address, |cmd, /file, :include:)
 *   forward.c      forward_append() / forward_finish(): addresses to
 *                  re-submit, collected into ONE new message per
 *                  recipient and sender through cleanup (post_mail.h), with
 *                  "Delivered-To:" of the expanded name prepended to a copy
 *                  of the message; forward_finish(state, status), called by
 *                  local.c after deliver_recipient(), closes it and reports
 *                  the recipient "status=sent (forwarded as NEWQID)" (or
 *                  defers it when cleanup failed or status was -1)
 *
 * Results: every deliver_* function returns 0 (recipient finished: sent
 * or bounced, already reported) or -1 (deferred, already reported); it
 * reports through local_status() exactly once per terminal destination.
 * A recipient is finished (deliver_completed) by local.c when all its
 * destinations returned 0.
 */
#ifndef LOCAL_H
#define LOCAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "deliver_request.h"
#include "delivered_hdr.h"
#include "dsn.h"
#include "htable.h"
#include "vstring.h"

/* Where the current destination came from (allow_mail_to_commands/files). */
#define LOCAL_EXP_TYPE_NONE    0 /* the recipient itself (mailbox) */
#define LOCAL_EXP_TYPE_ALIAS   1 /* "alias" */
#define LOCAL_EXP_TYPE_FORWARD 2 /* "forward" */
#define LOCAL_EXP_TYPE_INCLUDE 3 /* "include" */

/* The user a command or file delivery runs as (spec 2.4 table). */
typedef struct LOCAL_PRIVS {
    uid_t uid;
    gid_t gid;
} LOCAL_PRIVS;

/* A passwd user (recipient or owner of a file). */
typedef struct LOCAL_USER {
    char *logname;
    char *home;
    char *shell;
    uid_t uid;
    gid_t gid;
} LOCAL_USER;

typedef struct LOCAL_STATE {
    int level;                     /* alias/include/forward nesting */
    DELIVER_REQUEST *request;      /* the whole request (queue file, sender, stats) */
    RECIPIENT rcpt;                /* the recipient being delivered; address may
                                      be an expansion result, orig_addr and offset
                                      stay those of the queued recipient */
    const char *sender;            /* envelope sender for re-submitted mail
                                      (owner-NAME@$myorigin with owner- aliases) */
    char *delivered;               /* Delivered-To: value (lower case) */
    char *user;                    /* localpart without extension, lower case */
    char *extension;               /* extension or NULL */
    char *local;                   /* localpart with extension */
    char *domain;                  /* domain or "" */
    LOCAL_PRIVS privs;             /* privileges for commands and files */
    LOCAL_USER *owner;             /* the recipient's passwd entry, or NULL */
    int exp_type;                  /* LOCAL_EXP_TYPE_* of the current destination */
    const char *exp_from;          /* alias name or file that produced it */
    bool owner_alias;              /* expansion under an owner- alias (DSN rules 2.2) */
    DELIVERED_HDR_INFO *loop_info; /* Delivered-To headers of the message */
    HTABLE *dups;                  /* destinations seen in this expansion */
    DSN_BUF *why;                  /* scratch for results */
} LOCAL_STATE;

/* local.c */
extern int local_sent(LOCAL_STATE *state, const char *fmt, ...) PRINTFLIKE(2, 3);
extern int local_bounce(LOCAL_STATE *state, const char *status, const char *fmt, ...) PRINTFLIKE(3, 4);
extern int local_defer(LOCAL_STATE *state, const char *status, const char *fmt, ...) PRINTFLIKE(3, 4);
extern int local_result(LOCAL_STATE *state, const DSN_BUF *why, bool defer);
extern bool local_dup_seen(LOCAL_STATE *state, const char *destination);
extern LOCAL_USER *local_user_by_name(const char *name);
extern LOCAL_USER *local_user_by_uid(uid_t uid);
extern void local_user_free(LOCAL_USER *user);
extern LOCAL_PRIVS local_default_privs(void);

/* recipient.c */
extern int deliver_recipient(LOCAL_STATE *state);

/* mailbox.c, file.c, command.c, unknown.c */
extern int deliver_mailbox(LOCAL_STATE *state);
extern int deliver_file(LOCAL_STATE *state, const char *path);
extern int deliver_command(LOCAL_STATE *state, const char *command);
extern int deliver_unknown(LOCAL_STATE *state);
extern int deliver_pass(LOCAL_STATE *state, const char *transport, const char *nexthop);
extern int deliver_pass_to(LOCAL_STATE *state, const char *value);

/* alias.c, dotforward.c, include.c: true when they handled the recipient
 * (found an alias / a usable .forward / read the include file), with the
 * result in *status. */
extern bool deliver_alias(LOCAL_STATE *state, int *status);
extern bool deliver_dotforward(LOCAL_STATE *state, int *status);
extern int deliver_include(LOCAL_STATE *state, const char *path);

/* token.c */
extern int deliver_token_string(LOCAL_STATE *state, const char *text);

/* forward.c */
extern int forward_append(LOCAL_STATE *state, const char *address);
extern int forward_finish(LOCAL_STATE *state, int status);

#endif
