/*
 * local_util - helpers shared by the local(8) modules of local.c,
 * recipient.c, mailbox.c, file.c, command.c and unknown.c that are not
 * part of the module map in local.h.
 *
 *   local_expand(result, pattern, state, filter)
 *       expand $user $home $shell $recipient $extension $domain $local
 *       $recipient_delimiter (and ${name?...} forms, mac_expand.h) in
 *       pattern; characters of the inserted values that are not in filter
 *       (NULL: no filter) become "_". Returns the mac_expand() flags
 *       (MAC_EXP_ERROR on a syntax error, with a warning).
 *   local_filter(value, filter)
 *       replace, in place, every character not in filter by "_".
 *   local_command_env(state, filter)
 *       the environment of spec 2.5 ("NAME=VALUE" strings, filtered) for
 *       a command delivery; the caller frees it with argv_free().
 *   local_exp_type_name(type)
 *       "alias", "forward", "include" or "" (allow_mail_to_* names).
 *   local_allowed(list_param, value, type)
 *       true when the destination type is listed in the parameter value
 *       (allow_mail_to_commands / allow_mail_to_files); type NONE always.
 *   local_delivered_hdr(name)
 *       true when prepend_delivered_header lists name ("command", "file",
 *       "forward").
 *   local_eugid_set(uid, gid) / local_eugid_restore()
 *       switch the effective ids for a delivery and back to root; both do
 *       nothing in rootless mode (not started as root) or for (uid_t)-1.
 *   local_privs_for(state)
 *       state->privs, with root replaced by default_privs.
 *   local_expand_value(state, name)
 *       the raw value of $user, $home, $shell, $recipient, $extension,
 *       $domain, $local, $recipient_delimiter (the character that split
 *       this address), or NULL (shared by forward_path and the other
 *       expansions).
 *   local_orig_rcpt(state)
 *       the X-Original-To: value: the original recipient, or "" without
 *       enable_original_recipient.
 *   local_mbox_append(state, mp)
 *       append the message to the open, locked mbox mp (mailbox or
 *       /file): MAIL_COPY_MBOX, Delivered-To: only when
 *       prepend_delivered_header lists "file"; 0, or -1 with state->why
 *       set and the file cut back to its old length (a corrupt queue file
 *       is a 4.3.0 deferral).
 *   local_split_transport(value, transport, nexthop)
 *       "lmtp:inet:host:24" -> "lmtp" and "inet:host:24" (nexthop ""
 *       when there is no colon).
 *
 * Errors: local_eugid_set() is fatal when the ids cannot be switched
 * (a daemon that cannot drop privileges must not deliver).
 */
#ifndef LOCAL_UTIL_H
#define LOCAL_UTIL_H

#include <stdbool.h>
#include <sys/types.h>

#include "argv.h"
#include "local.h"
#include "mbox_open.h"
#include "vstring.h"

extern int local_expand(VSTRING *result, const char *pattern, const LOCAL_STATE *state, const char *filter);
extern const char *local_expand_value(const LOCAL_STATE *state, const char *name);
extern char *local_filter(char *value, const char *filter);
extern ARGV *local_command_env(const LOCAL_STATE *state, const char *filter);
extern const char *local_exp_type_name(int type);
extern bool local_allowed(const char *list_value, int type);
extern bool local_delivered_hdr(const char *name);
extern void local_eugid_set(uid_t uid, gid_t gid);
extern void local_eugid_restore(void);
extern LOCAL_PRIVS local_privs_for(const LOCAL_STATE *state);
extern void local_split_transport(const char *value, VSTRING *transport, VSTRING *nexthop);
extern const char *local_orig_rcpt(const LOCAL_STATE *state);
extern int local_mbox_append(LOCAL_STATE *state, MBOX *mp);

#endif
