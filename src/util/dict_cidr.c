/*
 * dict_cidr - the "cidr" table type (see dict_cidr.h). The rule file
 * machinery is dict_pattern's; this file parses network patterns and
 * compares addresses as bytes under a mask.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dict_cidr.h"
#include "dict_pattern.h"
#include "mymalloc.h"
#include "stringops.h"

#define DICT_CIDR_MAX_BYTES 16 /* an IPv6 address */

typedef struct DICT_CIDR {
    DICT_PATTERN pattern;
    int key_family; /* the key being looked up, parsed once */
    unsigned char key[DICT_CIDR_MAX_BYTES];
} DICT_CIDR;

typedef struct DICT_CIDR_RULE {
    int family; /* AF_INET or AF_INET6 */
    size_t len; /* 4 or 16 bytes */
    unsigned char net[DICT_CIDR_MAX_BYTES];
    unsigned char mask[DICT_CIDR_MAX_BYTES];
    char *result; /* MATCH rules; NULL for IF */
} DICT_CIDR_RULE;

/* The address family a text would be, by its looks. */
static int dict_cidr_family(const char *addr)
{
    return strchr(addr, ':') ? AF_INET6 : AF_INET;
}

/*
 * Parse "ADDR", "ADDR/LEN", "[ADDR]", "[ADDR]/LEN" into rule. Returns
 * false after a warning when the pattern is unusable.
 */
static bool dict_cidr_network(DICT_PATTERN *dp, const char *pattern, DICT_CIDR_RULE *rule)
{
    VSTRING *text = vstring_alloc(100);
    const char *close;
    char *addr;
    char *slash;
    unsigned long bits;
    char suggest[INET6_ADDRSTRLEN];
    bool ok = false;

    /* Drop the brackets; later messages quote what is left. */
    if (*pattern == '[') {
        if ((close = strchr(pattern, ']')) == NULL) {
            dict_pattern_warn(dp, "missing ']' character after \"%s\": skipping this rule", pattern);
            goto done;
        }
        if (close[1] != 0 && close[1] != '/') {
            dict_pattern_warn(dp, "garbage after \"%.*s\": skipping this rule", (int)(close - pattern + 1),
                              pattern);
            goto done;
        }
        vstring_strncpy(text, pattern + 1, (size_t)(close - pattern - 1));
        vstring_strcat(text, close + 1);
    } else {
        vstring_strcpy(text, pattern);
    }
    addr = mystrdup(vstring_str(text));
    if ((slash = strchr(addr, '/')) != NULL)
        *slash = 0;
    rule->family = dict_cidr_family(addr);
    rule->len = rule->family == AF_INET6 ? 16 : 4;
    if (slash == NULL) {
        bits = rule->len * 8;
    } else if (!alldig(slash + 1)) {
        dict_pattern_warn(dp, "bad mask value in \"%s\": skipping this rule", vstring_str(text));
        goto free_addr;
    } else {
        errno = 0;
        bits = strtoul(slash + 1, NULL, 10);
        if (errno == ERANGE || bits > rule->len * 8) {
            dict_pattern_warn(dp, "bad mask length in \"%s\": skipping this rule", vstring_str(text));
            goto free_addr;
        }
    }
    memset(rule->net, 0, sizeof(rule->net));
    if (inet_pton(rule->family, addr, rule->net) != 1) {
        if (slash)
            dict_pattern_warn(dp, "bad network value in \"%s\": skipping this rule", vstring_str(text));
        else
            dict_pattern_warn(dp, "bad address pattern: \"%s\": skipping this rule", vstring_str(text));
        goto free_addr;
    }
    memset(rule->mask, 0, sizeof(rule->mask));
    for (size_t i = 0; i < rule->len; i++) {
        if (bits >= 8 * (i + 1))
            rule->mask[i] = 0xff;
        else if (bits > 8 * i)
            rule->mask[i] = (unsigned char)(0xff << (8 - (bits - 8 * i)));
    }
    for (size_t i = 0; i < rule->len; i++) {
        if (rule->net[i] & ~rule->mask[i]) {
            for (size_t j = 0; j < rule->len; j++)
                rule->net[j] &= rule->mask[j];
            (void)inet_ntop(rule->family, rule->net, suggest, sizeof(suggest));
            dict_pattern_warn(dp,
                              "non-null host address bits in \"%s\", perhaps you should use \"%s/%lu\" "
                              "instead: skipping this rule",
                              vstring_str(text), suggest, bits);
            goto free_addr;
        }
    }
    ok = true;
free_addr:
    myfree(addr);
done:
    vstring_free(text);
    return ok;
}

/* Parse one rule "PATTERN result" or IF condition "PATTERN". */
static void *dict_cidr_parse(DICT_PATTERN *dp, int op, bool negate, char *text)
{
    DICT_CIDR_RULE *rule;
    const char *result = "";
    char *cp;

    (void)negate;
    if (op == DICT_PATTERN_OP_MATCH) {
        cp = text + strcspn(text, CHARS_SPACE);
        if (*cp) {
            *cp++ = 0;
            result = cp + strspn(cp, CHARS_SPACE);
        }
    }
    if (*text == 0) {
        dict_pattern_warn(dp, "no address pattern: skipping this rule");
        return NULL;
    }
    rule = mymalloc(sizeof(*rule));
    if (!dict_cidr_network(dp, text, rule)) {
        myfree(rule);
        return NULL;
    }
    if (op == DICT_PATTERN_OP_MATCH && *result == 0) {
        dict_pattern_warn(dp, "no lookup result: skipping this rule");
        myfree(rule);
        return NULL;
    }
    rule->result = op == DICT_PATTERN_OP_MATCH ? mystrdup(result) : NULL;
    return rule;
}

/* Parse the key once per lookup; a key that is no address matches nothing. */
static bool dict_cidr_prepare(DICT_PATTERN *dp, const char *key)
{
    DICT_CIDR *dc = (DICT_CIDR *)dp;

    dc->key_family = dict_cidr_family(key);
    return inet_pton(dc->key_family, key, dc->key) == 1;
}

/* Whether the key lies in the rule's network. */
static int dict_cidr_match(DICT_PATTERN *dp, void *data, const char *key)
{
    DICT_CIDR *dc = (DICT_CIDR *)dp;
    DICT_CIDR_RULE *rule = data;

    (void)key;
    if (dc->key_family != rule->family)
        return DICT_PATTERN_VETO; /* "!10.0.0.0/8" says nothing about IPv6 */
    for (size_t i = 0; i < rule->len; i++)
        if ((dc->key[i] & rule->mask[i]) != rule->net[i])
            return DICT_PATTERN_NOMATCH;
    return DICT_PATTERN_MATCHED;
}

/* The literal result of a rule that held. */
static const char *dict_cidr_result(DICT_PATTERN *dp, void *data, const char *key)
{
    DICT_CIDR_RULE *rule = data;

    (void)dp;
    (void)key;
    return rule->result;
}

/* Release a rule. */
static void dict_cidr_free_rule(void *data)
{
    DICT_CIDR_RULE *rule = data;

    if (rule->result)
        myfree(rule->result);
    myfree(rule);
}

static const DICT_PATTERN_OPS dict_cidr_ops = {
    .syntax = DICT_PATTERN_SYNTAX_CIDR,
    .parse = dict_cidr_parse,
    .prepare = dict_cidr_prepare,
    .match = dict_cidr_match,
    .result = dict_cidr_result,
    .free_rule = dict_cidr_free_rule,
};

/* Open a cidr table. */
DICT *dict_cidr_open(const char *name, int open_flags, int dict_flags)
{
    return dict_pattern_open("cidr", name, open_flags, dict_flags, sizeof(DICT_CIDR), &dict_cidr_ops);
}
