/*
 * rewrite_addr - the standard form of an address (see rewrite_addr.h).
 *
 * The address is handled as a string; quoted strings and domain literals
 * are skipped when the special characters ('@', ':', '!', '%', '.') are
 * searched for, so "\"a!b\"@c" and "u@[1.2.3.4]" are left alone.
 */
#include "sys_defs.h"

#include <string.h>

#include "mail_params.h"
#include "rewrite_addr.h"
#include "tok822.h"

/* Offset of the first (or last) ch outside quotes and literals, or -1. */
static ssize_t rewrite_addr_find(const char *str, int ch, bool last)
{
    ssize_t found = -1;
    int close = 0;

    for (const char *cp = str; *cp; cp++) {
        if (close) {
            if (*cp == '\\' && cp[1])
                cp++;
            else if (*cp == close)
                close = 0;
        } else if (*cp == '"') {
            close = '"';
        } else if (*cp == '[') {
            close = ']';
        } else if (*cp == '\\' && cp[1]) {
            cp++;
        } else if (*cp == ch) {
            found = cp - str;
            if (!last)
                break;
        }
    }
    return found;
}

/* Standard form of an external-form address (see rewrite_addr.h). */
const char *rewrite_addr(VSTRING *out, const char *context, const char *address)
{
    bool remote = context && strcmp(context, REWRITE_ADDR_REMOTE) == 0;
    const char *origin = remote ? var_remote_header_rewrite_domain : var_myorigin;
    const char *domain = remote ? var_remote_header_rewrite_domain : var_mydomain;
    VSTRING *tmp = vstring_alloc(100);
    ssize_t pos;
    ssize_t at;
    size_t len;

    vstring_strcpy(out, address);
    if (*address == 0)
        goto done;

    /* 1. Source route. */
    if (address[0] == '@' && (pos = rewrite_addr_find(address, ':', false)) >= 0 && address[pos + 1] != 0)
        vstring_strcpy(out, address + pos + 1);

    /* 2. site!user -> user@site. */
    if (var_swap_bangpath && rewrite_addr_find(vstring_str(out), '@', true) < 0 &&
        (pos = rewrite_addr_find(vstring_str(out), '!', false)) >= 0) {
        vstring_strcpy(tmp, vstring_str(out) + pos + 1);
        vstring_addch(tmp, '@');
        vstring_strncat(tmp, vstring_str(out), (size_t)pos);
        vstring_strcpy(out, vstring_str(tmp));
    }

    /* 3. user%domain -> user@domain. */
    if (var_allow_percent_hack && rewrite_addr_find(vstring_str(out), '@', true) < 0 &&
        (pos = rewrite_addr_find(vstring_str(out), '%', true)) >= 0)
        vstring_str(out)[pos] = '@';

    /* 4. user -> user@$myorigin. */
    at = rewrite_addr_find(vstring_str(out), '@', true);
    if (var_append_at_myorigin && at < 0 && origin && *origin) {
        at = (ssize_t)VSTRING_LEN(out);
        vstring_addch(out, '@');
        vstring_strcat(out, origin);
    }

    /* 5. user@host -> user@host.$mydomain. */
    if (var_append_dot_mydomain && domain && *domain && at >= 0 && vstring_str(out)[at + 1] != 0 &&
        vstring_str(out)[at + 1] != '[' && strchr(vstring_str(out) + at + 1, '.') == NULL) {
        vstring_addch(out, '.');
        vstring_strcat(out, domain);
    }

    /* 6. One trailing dot. */
    len = VSTRING_LEN(out);
    if (len >= 2 && vstring_str(out)[len - 1] == '.' && vstring_str(out)[len - 2] != '.' &&
        vstring_str(out)[len - 2] != '@')
        vstring_truncate(out, len - 1);

done:
    vstring_free(tmp);
    return vstring_str(out);
}

/* Standard form of an internal-form address. */
const char *rewrite_addr_internal(VSTRING *out, const char *context, const char *address)
{
    VSTRING *ext = vstring_alloc(100);
    VSTRING *res = vstring_alloc(100);

    tok822_quote_local(ext, address);
    rewrite_addr(res, context, vstring_str(ext));
    tok822_unquote_local(out, vstring_str(res));
    vstring_free(ext);
    vstring_free(res);
    return vstring_str(out);
}
