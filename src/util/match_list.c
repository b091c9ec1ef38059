/*
 * match_list - ordered pattern lists. See match_list.h for the item
 * syntax, the match functions and the error conventions.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dict.h"
#include "dict_registry.h"
#include "match_list.h"
#include "msg.h"
#include "mymalloc.h"
#include "readlline.h"
#include "stringops.h"

#define MATCH_LIST_DELIM    " ,\t\r\n"
#define MATCH_LIST_PARENS   "{}"
#define MATCH_LIST_NOFILE   "non-existent" /* table type of an unreadable /file */
#define MATCH_LIST_MAX_NEST 20             /* /file lists naming /file lists */

/* Is the item a type:name table? Bracketed address literals are not. */
#define MATCH_LIST_IS_TABLE(item) ((item)[0] != '[' && strchr((item), ':') != 0)

/* "TITLE: " for diagnostics, or nothing for an untitled list. */
static const char *match_list_sep(const MATCH_LIST *list)
{
    return *list->title ? ": " : "";
}

/* Append one parsed item. */
static void match_list_add(MATCH_LIST *list, const char *pattern, DICT *dict, int negate)
{
    MATCH_LIST_ITEM *item;

    if (list->nitems == list->size) {
        list->size = list->size ? 2 * list->size : 8;
        list->items = myrealloc(list->items, list->size * sizeof(*list->items));
    }
    item = list->items + list->nitems++;
    item->pattern = mystrdup(pattern);
    item->dict = dict;
    item->negate = negate;
}

/* A stand-in for a /file that cannot be used: its lookups fail temporarily. */
static void match_list_nofile(MATCH_LIST *list, const char *path, int negate, const char *why)
{
    VSTRING *spec;

    if (!dict_allow_surrogate)
        msg_fatal("open file %s: %s", path, why);
    spec = vstring_alloc(100);
    vstring_sprintf(spec, "%s:%s", MATCH_LIST_NOFILE, path);
    match_list_add(
        list, vstring_str(spec),
        dict_surrogate(MATCH_LIST_NOFILE, path, O_RDONLY, DICT_FLAG_DEFAULT, "open file %s: %s", path, why),
        negate);
    vstring_free(spec);
}

static void match_list_parse(MATCH_LIST *list, const char *text, int negate, int depth);

/* Add the items on each logical line of a /file/name list. */
static void match_list_file(MATCH_LIST *list, const char *path, int negate, int depth)
{
    FILE *fp;
    READLLINE rl;
    VSTRING *buf;
    int first;

    if (depth >= MATCH_LIST_MAX_NEST) {
        match_list_nofile(list, path, negate, "too many nested /file/name lists");
        return;
    }
    if ((fp = fopen(path, "r")) == 0) {
        match_list_nofile(list, path, negate, strerror(errno));
        return;
    }
    rl.fp = fp;
    rl.name = path;
    rl.lineno = 0;
    buf = vstring_alloc(100);
    while (readlline(buf, &rl, &first) != 0)
        match_list_parse(list, vstring_str(buf), negate, depth + 1);
    if (ferror(fp))
        match_list_nofile(list, path, negate, "read error");
    fclose(fp);
    vstring_free(buf);
}

/* Split text into items and add them; negate applies to every item. */
static void match_list_parse(MATCH_LIST *list, const char *text, int negate, int depth)
{
    char *saved = mystrdup(text);
    char *bp = saved;
    char *item;

    while ((item = mystrtokq(&bp, MATCH_LIST_DELIM, MATCH_LIST_PARENS)) != 0) {
        int neg = negate;

        if (*item == '#') {
            /* The rest of the original text, not the token cut out of it. */
            char *rest = mystrdup(text + (item - saved));

            msg_warn("%s%scomment at end of line is not supported: %s", list->title, match_list_sep(list),
                     trimblanks(rest));
            myfree(rest);
            break;
        }
        for (; *item == '!'; item++)
            neg = !neg;
        if (*item == 0)
            msg_fatal("%s%sno pattern after '!'", list->title, match_list_sep(list));
        if (*item == '/')
            match_list_file(list, item, neg, depth);
        else if (MATCH_LIST_IS_TABLE(item))
            match_list_add(list, item, dict_registry_open(item, O_RDONLY, DICT_FLAG_DEFAULT), neg);
        else
            match_list_add(list, lowercase(item), 0, neg);
    }
    myfree(saved);
}

/* Build a list from its text; fns[i] will be applied to strings[i]. */
MATCH_LIST *match_list_init(const char *title, int flags, const char *text, const MATCH_LIST_FN *fns,
                            size_t nfn)
{
    MATCH_LIST *list = mymalloc(sizeof(*list));

    if (nfn == 0)
        msg_panic("match_list_init: no match function");
    list->title = mystrdup(title ? title : "");
    list->flags = flags;
    list->error = DICT_ERR_NONE;
    list->items = 0;
    list->nitems = list->size = 0;
    list->fns = mymemdup(fns, nfn * sizeof(*fns));
    list->nfn = nfn;
    list->fold = mymalloc(nfn * sizeof(*list->fold));
    for (size_t i = 0; i < nfn; i++)
        list->fold[i] = vstring_alloc(100);
    match_list_parse(list, text ? text : "", 0, 0);
    return list;
}

/* Match the strings (one per function, NULL to skip one) against the list. */
int match_list_match(MATCH_LIST *list, const char *const *strings)
{
    list->error = DICT_ERR_NONE;
    for (size_t j = 0; j < list->nfn; j++)
        if (strings[j] != 0)
            lowercase(vstring_str(vstring_strcpy(list->fold[j], strings[j])));

    for (size_t i = 0; i < list->nitems; i++) {
        MATCH_LIST_ITEM *item = list->items + i;

        for (size_t j = 0; j < list->nfn; j++) {
            int hit;

            if (strings[j] == 0)
                continue;
            hit = list->fns[j](list, vstring_str(list->fold[j]), item->pattern, item->dict);
            if (list->error != DICT_ERR_NONE) {
                if (item->dict)
                    msg_warn("%s%s%s:%s: table lookup problem", list->title, match_list_sep(list),
                             item->dict->type, item->dict->name);
                return 0;
            }
            if (hit)
                return !item->negate;
        }
    }
    return 0;
}

/* Release the list and close its tables; returns NULL. */
MATCH_LIST *match_list_free(MATCH_LIST *list)
{
    for (size_t i = 0; i < list->nitems; i++) {
        myfree(list->items[i].pattern);
        if (list->items[i].dict == NULL)
            continue;
        if (strcmp(list->items[i].dict->type, MATCH_LIST_NOFILE) == 0)
            dict_close(list->items[i].dict); /* made here, not shared */
        else
            dict_registry_close(list->items[i].dict);
    }
    for (size_t j = 0; j < list->nfn; j++)
        vstring_free(list->fold[j]);
    myfree(list->fold);
    myfree(list->fns);
    myfree(list->items);
    myfree(list->title);
    myfree(list);
    return 0;
}

/* One table lookup: 1 found, 0 not found or failed (list->error set). */
static int match_list_lookup(MATCH_LIST *list, DICT *dict, const char *key)
{
    if (dict_get(dict, key) != 0)
        return 1;
    if (dict->error != DICT_ERR_NONE)
        list->error = dict->error;
    return 0;
}

/* Case-insensitive string equality (both sides are folded already). */
int match_list_string(MATCH_LIST *list, const char *string, const char *pattern, DICT *dict)
{
    if (dict)
        return match_list_lookup(list, dict, string);
    return strcmp(string, pattern) == 0;
}

/* Host or domain name: exact, then parent domains as the list's mode says. */
int match_list_hostname(MATCH_LIST *list, const char *name, const char *pattern, DICT *dict)
{
    int parent = (list->flags & MATCH_FLAG_PARENT) != 0;
    const char *dot;

    if (*name == 0)
        return 0;
    if (dict) {
        if (match_list_lookup(list, dict, name))
            return 1;
        if (list->error != DICT_ERR_NONE)
            return 0;
        /* Rule tables see the whole name only. */
        if (dict->flags & DICT_FLAG_PATTERN)
            return 0;
        for (dot = strchr(name, '.'); dot != 0 && dot[1] != 0; dot = strchr(dot + 1, '.'))
            if (match_list_lookup(list, dict, parent ? dot + 1 : dot))
                return 1;
            else if (list->error != DICT_ERR_NONE)
                return 0;
        return 0;
    }
    if (strcmp(name, pattern) == 0)
        return 1;
    if (parent || pattern[0] == '.')
        for (dot = strchr(name, '.'); dot != 0 && dot[1] != 0; dot = strchr(dot + 1, '.'))
            if (strcmp(parent ? dot + 1 : dot, pattern) == 0)
                return 1;
    return 0;
}

/* Log a malformed net/len pattern and fail the lookup. */
static int match_list_bad_net(MATCH_LIST *list, const char *why, const char *pattern)
{
    msg_warn("%s%s%s in \"%s\"", list->title, match_list_sep(list), why, pattern);
    list->error = DICT_ERR_CONFIG;
    return 0;
}

/*
 * The pattern without its brackets: "[a]" -> "a", "[a]/n" -> "a/n",
 * "[a/n]" -> "a/n"; other bracket uses -> NULL (matches nothing).
 */
static char *match_list_unbracket(const char *pattern)
{
    const char *end;
    char *out;

    if (pattern[0] != '[')
        return mystrdup(pattern);
    if ((end = strchr(pattern, ']')) == 0)
        return 0;
    if (end[1] == 0)
        return mystrndup(pattern + 1, (size_t)(end - pattern - 1));
    if (end[1] != '/')
        return 0;
    out = mymalloc(strlen(pattern));
    memcpy(out, pattern + 1, (size_t)(end - pattern - 1));
    strcpy(out + (end - pattern - 1), end + 1);
    return out;
}

/* Match addr against "net/len" (family, bytes given); 1, 0, or error. */
static int match_list_net(MATCH_LIST *list, const char *addr, char *pat, int family, size_t bytes)
{
    unsigned char net[sizeof(struct in6_addr)];
    unsigned char host[sizeof(struct in6_addr)];
    char *slash = strchr(pat, '/');
    const char *mask = slash + 1;
    long len;
    int bad_bits = 0;

    *slash = 0;
    if (inet_pton(family, pat, net) != 1) {
        *slash = '/';
        return match_list_bad_net(list, "bad network value", pat);
    }
    *slash = '/';
    if (!alldig(mask))
        return match_list_bad_net(list, "bad mask value", pat);
    errno = 0;
    len = strtol(mask, 0, 10);
    if (errno != 0 || len > (long)(8 * bytes))
        return match_list_bad_net(list, "bad mask length", pat);
    for (size_t i = 0; i < bytes; i++) {
        long keep = len - (long)(8 * i);
        unsigned char bits = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));

        if (net[i] & ~bits) {
            net[i] &= bits;
            bad_bits = 1;
        }
    }
    if (bad_bits) {
        char text[INET6_ADDRSTRLEN];

        inet_ntop(family, net, text, sizeof(text));
        msg_warn("%s%snon-null host address bits in \"%s\", perhaps you should use \"%s/%ld\" instead",
                 list->title, match_list_sep(list), pat, text, len);
        list->error = DICT_ERR_CONFIG;
        return 0;
    }
    if (inet_pton(family, addr, host) != 1)
        return 0;
    for (size_t i = 0; i < bytes; i++) {
        long keep = len - (long)(8 * i);
        unsigned char bits = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));

        if ((host[i] & bits) != net[i])
            return 0;
    }
    return 1;
}

/* Network address: exact address, net/len, or the address as a table key. */
int match_list_hostaddr(MATCH_LIST *list, const char *addr, const char *pattern, DICT *dict)
{
    unsigned char want[sizeof(struct in6_addr)];
    unsigned char have[sizeof(struct in6_addr)];
    int family;
    size_t bytes;
    char *pat;
    int hit;

    if (*addr == 0)
        return 0;
    if (dict)
        return match_list_lookup(list, dict, addr);
    if ((pat = match_list_unbracket(pattern)) == 0)
        return 0;
    /* An IPv4 pattern never matches an IPv6 address and vice versa. */
    if ((strchr(pat, ':') != 0) != (strchr(addr, ':') != 0)) {
        myfree(pat);
        return 0;
    }
    family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    bytes = family == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);
    /* Only address-like text is a net/len; "x/8" is just no match. */
    if (strchr(pat, '/') != 0 && pat[strspn(pat, "0123456789abcdef.:/")] == 0)
        hit = match_list_net(list, addr, pat, family, bytes);
    else
        hit = inet_pton(family, pat, want) == 1 && inet_pton(family, addr, have) == 1 &&
              memcmp(want, have, bytes) == 0;
    myfree(pat);
    return hit;
}
