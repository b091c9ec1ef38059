/*
 * dict_pcre - the "pcre" table type (see dict_pcre.h). The rule file
 * machinery is dict_pattern's; this file compiles and matches with PCRE2.
 * One match data block, sized for the rule with the most groups, serves
 * every lookup.
 */
#include "sys_defs.h"

#include "dict_pcre.h"

#ifdef HAS_PCRE2

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "dict_pattern.h"
#include "msg.h"
#include "mymalloc.h"

typedef struct DICT_PCRE {
    DICT_PATTERN pattern;
    pcre2_match_data *match_data; /* shared by all rules */
    uint32_t match_pairs;         /* its size in offset pairs */
    int matched;                  /* pcre2_match() result of the last match */
} DICT_PCRE;

typedef struct DICT_PCRE_RULE {
    pcre2_code *code;
    DICT_PATTERN_SUBST *subst; /* MATCH rules; NULL for IF */
} DICT_PCRE_RULE;

static const DICT_PATTERN_RE_FLAG dict_pcre_flags[] = {
    {'i', PCRE2_CASELESS},
    {'m', PCRE2_MULTILINE},
    {'s', PCRE2_DOTALL},
    {'x', PCRE2_EXTENDED},
    {'A', PCRE2_ANCHORED},
    {'E', PCRE2_DOLLAR_ENDONLY},
    {'U', PCRE2_UNGREEDY},
    {'X', 0},
    {0, 0},
};

static const DICT_PATTERN_RE_SYNTAX dict_pcre_syntax = {
    .flags = dict_pcre_flags,
    .default_options = PCRE2_CASELESS | PCRE2_DOTALL,
    .unclosed_verb = "ignoring",
    .zero_index = "out of range",
};

/* Compile one rule or IF condition. */
static void *dict_pcre_parse(DICT_PATTERN *dp, int op, bool negate, char *text)
{
    DICT_PCRE *dc = (DICT_PCRE *)dp;
    DICT_PCRE_RULE *rule;
    DICT_PATTERN_RE re;
    PCRE2_UCHAR message[256];
    PCRE2_SIZE offset;
    uint32_t groups;
    int err;

    if (!dict_pattern_re_parse(dp, op, negate, text, &dict_pcre_syntax, &re))
        return NULL;
    rule = mymalloc(sizeof(*rule));
    rule->subst = re.subst;
    rule->code =
        pcre2_compile((PCRE2_SPTR)re.pattern, PCRE2_ZERO_TERMINATED, re.options, &err, &offset, NULL);
    if (rule->code == NULL) {
        (void)pcre2_get_error_message(err, message, sizeof(message));
        dict_pattern_warn(dp, "error in regex at offset %zu: %s", (size_t)offset, (char *)message);
        dict_pattern_subst_free(rule->subst);
        myfree(rule);
        return NULL;
    }
    (void)pcre2_pattern_info(rule->code, PCRE2_INFO_CAPTURECOUNT, &groups);
    if (!dict_pattern_re_check(dp, &re, groups)) {
        pcre2_code_free(rule->code);
        dict_pattern_subst_free(rule->subst);
        myfree(rule);
        return NULL;
    }
    if (dc->match_data == NULL || groups + 1 > dc->match_pairs) {
        if (dc->match_data)
            pcre2_match_data_free(dc->match_data);
        dc->match_pairs = groups + 1;
        if ((dc->match_data = pcre2_match_data_create(dc->match_pairs, NULL)) == NULL)
            msg_fatal("pcre map %s: out of memory", dp->dict.name);
    }
    return rule;
}

/* Match the key; captures land in the shared match data. */
static int dict_pcre_match(DICT_PATTERN *dp, void *data, const char *key)
{
    DICT_PCRE *dc = (DICT_PCRE *)dp;
    DICT_PCRE_RULE *rule = data;
    PCRE2_UCHAR message[256];
    int rc;

    rc = pcre2_match(rule->code, (PCRE2_SPTR)key, PCRE2_ZERO_TERMINATED, 0, 0, dc->match_data, NULL);
    if (rc >= 0) {
        dc->matched = rc;
        return DICT_PATTERN_MATCHED;
    }
    if (rc == PCRE2_ERROR_NOMATCH)
        return DICT_PATTERN_NOMATCH;
    (void)pcre2_get_error_message(rc, message, sizeof(message));
    dict_pattern_warn(dp, "%s", (char *)message);
    return DICT_PATTERN_FAILED;
}

/* Where group n of the last match lies. */
static bool dict_pcre_group(void *context, int n, size_t *start, size_t *end)
{
    DICT_PCRE *dc = context;
    PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(dc->match_data);

    if (n >= dc->matched || ovector[2 * n] == PCRE2_UNSET)
        return false;
    *start = ovector[2 * n];
    *end = ovector[2 * n + 1];
    return true;
}

/* The result of a rule that held. */
static const char *dict_pcre_result(DICT_PATTERN *dp, void *data, const char *key)
{
    DICT_PCRE_RULE *rule = data;

    return dict_pattern_subst_expand(dp, rule->subst, key, dict_pcre_group, dp);
}

/* Release a rule. */
static void dict_pcre_free_rule(void *data)
{
    DICT_PCRE_RULE *rule = data;

    pcre2_code_free(rule->code);
    dict_pattern_subst_free(rule->subst);
    myfree(rule);
}

/* Release the shared match data. */
static void dict_pcre_close(DICT_PATTERN *dp)
{
    DICT_PCRE *dc = (DICT_PCRE *)dp;

    if (dc->match_data)
        pcre2_match_data_free(dc->match_data);
}

static const DICT_PATTERN_OPS dict_pcre_ops = {
    .syntax = DICT_PATTERN_SYNTAX_REGEX,
    .parse = dict_pcre_parse,
    .match = dict_pcre_match,
    .result = dict_pcre_result,
    .free_rule = dict_pcre_free_rule,
    .close = dict_pcre_close,
};

/* Open a pcre table. */
DICT *dict_pcre_open(const char *name, int open_flags, int dict_flags)
{
    return dict_pattern_open("pcre", name, open_flags, dict_flags, sizeof(DICT_PCRE), &dict_pcre_ops);
}

#else

/* Without PCRE2 the type exists but cannot be used. */
DICT *dict_pcre_open(const char *name, int open_flags, int dict_flags)
{
    return dict_surrogate("pcre", name, open_flags, dict_flags, "pcre:%s: this build has no PCRE2 support",
                          name);
}

#endif
