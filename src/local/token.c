/*
 * token - one alias, :include: or .forward right-hand side cut into
 * destinations, each handed to the module that delivers it (spec 2.2-2.4).
 *
 * Public functions:
 *   deliver_token_split(text)           the destinations (local_expand.h)
 *   deliver_token_string(state, text)   split and deliver each one:
 *       "|command"        deliver_command()
 *       "/path", "/dir/"  deliver_file()
 *       "~/path"          deliver_file() under the recipient's home
 *       ":include:/path"  deliver_include()
 *       an address        canonicalised (trivial-rewrite "local"), then
 *                         resolved: a local address from a plain alias
 *                         or luser_relay, or one naming the user being
 *                         expanded (self-
 *                         reference), is delivered again through
 *                         deliver_recipient() one level deeper; everything
 *                         else (remote addresses, members of an owner- list,
 *                         :include: and .forward entries) goes to
 *                         forward_append().
 * Destinations met twice at one level are delivered once (local_dup_seen).
 *
 * Errors: a resolver failure defers "4.3.0 address resolver failure";
 * otherwise the results of the delivery functions (0 done, -1 deferred)
 * are combined: -1 when any destination deferred.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "local.h"
#include "local_expand.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_clnt.h"
#include "stringops.h"
#include "tok822.h"
#include "vstring.h"

#define TOKEN_INCLUDE     ":include:"
#define TOKEN_INCLUDE_LEN (sizeof(TOKEN_INCLUDE) - 1)

/* Whether tokens [start, end) begin with ':' "include" ':'. */
static bool token_is_include(const TOK822 *tokens, size_t start, size_t end)
{
    return end - start >= 3 && tokens[start].type == ':' && tokens[start + 1].type == TOK822_ATOM &&
           strcasecmp(vstring_str(tokens[start + 1].text), "include") == 0 && tokens[start + 2].type == ':';
}

/* Add the destination of one element [start, end) to dests. */
static void token_element(ARGV *dests, const TOK822 *tokens, size_t start, size_t end, VSTRING *buf)
{
    size_t lt = end;
    char *cp;

    vstring_reset(buf);
    if (token_is_include(tokens, start, end)) {
        vstring_strcpy(buf, TOKEN_INCLUDE);
        tok822_internalize(buf, tokens + start + 3, end - start - 3);
    } else {
        /* "Phrase <addr>": only what is inside the angle brackets counts. */
        for (size_t i = start; i < end; i++)
            if (tokens[i].type == '<')
                lt = i;
        if (lt < end) {
            size_t gt = lt + 1;

            while (gt < end && tokens[gt].type != '>')
                gt++;
            tok822_internalize(buf, tokens + lt + 1, gt - lt - 1);
        } else {
            tok822_internalize(buf, tokens + start, end - start);
        }
    }
    /* "| cmd" is the same command as "|cmd". */
    cp = vstring_str(buf);
    if (*cp == '|') {
        size_t skip = strspn(cp + 1, " \t");

        memmove(cp + 1, cp + 1 + skip, strlen(cp + 1 + skip) + 1);
    }
    cp = trimblanks(vstring_str(buf));
    if (*cp)
        argv_add(dests, cp);
}

/* Cut text at top-level commas into destinations; see local_expand.h. */
ARGV *deliver_token_split(const char *text)
{
    TOK822_LIST *list = tok822_scan(text);
    ARGV *dests = argv_alloc(4);
    VSTRING *buf = vstring_alloc(100);
    size_t start = 0;
    int angle = 0;

    for (size_t i = 0; i <= list->count; i++) {
        if (i < list->count) {
            if (list->tokens[i].type == '<')
                angle++;
            else if (list->tokens[i].type == '>' && angle > 0)
                angle--;
            if (list->tokens[i].type != ',' || angle > 0)
                continue;
        }
        if (i > start)
            token_element(dests, list->tokens, start, i, buf);
        start = i + 1;
    }
    vstring_free(buf);
    tok822_free(list);
    return dests;
}

/* Whether the localpart of address names the user being expanded. */
static bool token_is_self(const LOCAL_STATE *state, const char *address)
{
    const char *at = strrchr(address, '@');
    size_t len = at ? (size_t)(at - address) : strlen(address);

    return (state->user && strlen(state->user) == len && strncasecmp(state->user, address, len) == 0) ||
           (state->local && strlen(state->local) == len && strncasecmp(state->local, address, len) == 0);
}

/* Deliver one address destination: recurse locally or forward. */
static int token_address(LOCAL_STATE *state, const char *address)
{
    RESOLVE_REPLY reply;
    VSTRING *canon = vstring_alloc(100);
    VSTRING *key = vstring_alloc(100);
    int status;

    rewrite_clnt_query("local", address, canon);
    if (VSTRING_LEN(canon) == 0)
        vstring_strcpy(canon, address);
    resolve_clnt_init(&reply);
    resolve_clnt_query(state->sender, vstring_str(canon), &reply);
    if (reply.flags & RESOLVE_FLAG_FAIL) {
        status = local_defer(state, "4.3.0", "address resolver failure");
    } else if ((reply.flags & RESOLVE_CLASS_LOCAL) && !(reply.flags & RESOLVE_FLAG_ERROR) &&
               (token_is_self(state, vstring_str(reply.recipient)) ||
                (state->exp_type != LOCAL_EXP_TYPE_FORWARD && state->exp_type != LOCAL_EXP_TYPE_INCLUDE &&
                 !state->owner_alias))) {
        LOCAL_STATE copy = *state;

        vstring_sprintf(key, "address %d %s", state->level, vstring_str(reply.recipient));
        if (local_dup_seen(state, lowercase(vstring_str(key)))) {
            status = 0;
        } else {
            copy.rcpt.address = vstring_str(reply.recipient);
            copy.level = state->level + 1;
            status = deliver_recipient(&copy);
        }
    } else {
        status = forward_append(state, vstring_str(canon));
    }
    resolve_clnt_free(&reply);
    vstring_free(key);
    vstring_free(canon);
    return status;
}

/* Deliver one destination of an expansion. */
static int token_deliver(LOCAL_STATE *state, const char *dest)
{
    VSTRING *path;
    int status;

    if (msg_verbose)
        msg_info("deliver_token: %s: level %d: %s", state->rcpt.address, state->level, dest);
    if (*dest == '|')
        return deliver_command(state, dest + 1);
    if (*dest == '/')
        return deliver_file(state, dest);
    if (strncasecmp(dest, TOKEN_INCLUDE, TOKEN_INCLUDE_LEN) == 0)
        return deliver_include(state, dest + TOKEN_INCLUDE_LEN);
    if (strncmp(dest, "~/", 2) == 0 && state->owner && state->owner->home &&
        (state->exp_type == LOCAL_EXP_TYPE_FORWARD || state->exp_type == LOCAL_EXP_TYPE_INCLUDE)) {
        path = vstring_alloc(100);
        vstring_sprintf(path, "%s%s", state->owner->home, dest + 1);
        status = deliver_file(state, vstring_str(path));
        vstring_free(path);
        return status;
    }
    return token_address(state, dest);
}

/* Split text and deliver every destination; see the file comment. */
int deliver_token_string(LOCAL_STATE *state, const char *text)
{
    ARGV *dests = deliver_token_split(text);
    int status = 0;

    for (size_t i = 0; i < dests->argc; i++)
        if (token_deliver(state, dests->argv[i]) != 0)
            status = -1;
    argv_free(dests);
    return status;
}
