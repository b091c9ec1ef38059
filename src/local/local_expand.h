/*
 * local_expand - helpers shared by the expansion half of local(8):
 * alias.c, dotforward.c, include.c, token.c and forward.c (see local.h
 * for the module map). Not used outside src/local.
 *
 *   deliver_token_split(text)
 *       an alias or .forward right-hand side cut into destinations
 *       (token.c): comma-separated elements, comments dropped, quotes
 *       and backslash escapes removed ("\"|cmd arg\"" -> "|cmd arg"),
 *       "Name <addr>" -> "addr", ":include:/path" kept as one item;
 *       empty elements are skipped. Returns a new ARGV.
 *   deliver_forward_paths(state)
 *       forward_path expanded for the recipient of state (dotforward.c):
 *       one absolute path per element, in order; values of $user, $home,
 *       ... have characters outside forward_expansion_filter replaced
 *       by '_'. Returns a new ARGV.
 *   deliver_open_as(path, privs)
 *       open(path, O_RDONLY) with the effective uid/gid of privs when the
 *       process runs as root (include.c); -1 with errno as open() sets it.
 *   deliver_alias_required(state, status)
 *       the "required alias" rule of spec 2.2 (alias.c): for postmaster or
 *       mailer-daemon without alias and without passwd entry, logs
 *       "warning: required alias not found: NAME", reports the recipient
 *       "sent (discarded)" and returns true with *status = 0. deliver_alias()
 *       applies it itself when its lookups find nothing.
 *   deliver_exp_limit
 *       the nesting limit (100) for aliases, :include: and recursion.
 */
#ifndef LOCAL_EXPAND_H
#define LOCAL_EXPAND_H

#include <stdbool.h>

#include "argv.h"
#include "local.h"

#define DELIVER_EXP_LIMIT 100

extern ARGV *deliver_token_split(const char *text);
extern ARGV *deliver_forward_paths(const LOCAL_STATE *state);
extern int deliver_open_as(const char *path, LOCAL_PRIVS privs);
extern bool deliver_alias_required(LOCAL_STATE *state, int *status);

#endif
