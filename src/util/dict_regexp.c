/*
 * dict_regexp - the "regexp" table type (see dict_regexp.h). The rule
 * file machinery is dict_pattern's; this file compiles and matches POSIX
 * regular expressions with <regex.h>.
 */
#include "sys_defs.h"

#include <regex.h>
#include <string.h>

#include "dict_pattern.h"
#include "dict_regexp.h"
#include "mymalloc.h"

typedef struct DICT_REGEXP {
    DICT_PATTERN pattern;
    regmatch_t *pmatch; /* shared by all rules, sized for the largest */
    size_t pmatch_size;
} DICT_REGEXP;

typedef struct DICT_REGEXP_RULE {
    regex_t re;
    regex_t *re2;              /* "/re/!/re2/": must not match; or NULL */
    bool negate;               /* "!/re/!/re2/": re2 is tried when re fails */
    DICT_PATTERN_SUBST *subst; /* MATCH rules; NULL for IF */
    size_t nmatch;             /* groups the result needs, plus one; 0: none */
} DICT_REGEXP_RULE;

static const DICT_PATTERN_RE_FLAG dict_regexp_flags[] = {
    {'i', REG_ICASE},
    {'x', REG_EXTENDED},
    {'m', REG_NEWLINE},
    {0, 0},
};

static const DICT_PATTERN_RE_SYNTAX dict_regexp_syntax = {
    .flags = dict_regexp_flags,
    .default_options = REG_ICASE | REG_EXTENDED,
    .unclosed_verb = "skipping",
    .zero_index = "out-of-range",
    .and_not = true,
};

/* Warn with the text of a regcomp()/regexec() error code. */
static void dict_regexp_error(DICT_PATTERN *dp, const regex_t *re, int err)
{
    char text[256];

    (void)regerror(err, re, text, sizeof(text));
    dict_pattern_warn(dp, "%s", text);
}

/* Release a rule. */
static void dict_regexp_free_rule(void *data)
{
    DICT_REGEXP_RULE *rule = data;

    regfree(&rule->re);
    if (rule->re2) {
        regfree(rule->re2);
        myfree(rule->re2);
    }
    dict_pattern_subst_free(rule->subst);
    myfree(rule);
}

/* Compile one rule or IF condition. */
static void *dict_regexp_parse(DICT_PATTERN *dp, int op, bool negate, char *text)
{
    DICT_REGEXP *dr = (DICT_REGEXP *)dp;
    DICT_REGEXP_RULE *rule;
    DICT_PATTERN_RE re;
    int cflags;
    int err;

    if (!dict_pattern_re_parse(dp, op, negate, text, &dict_regexp_syntax, &re))
        return NULL;
    rule = mymalloc(sizeof(*rule));
    rule->re2 = NULL;
    rule->negate = negate;
    rule->subst = re.subst;
    rule->nmatch = re.max_group > 0 ? (size_t)re.max_group + 1 : 0;
    cflags = (int)re.options;
    if (rule->nmatch == 0)
        cflags |= REG_NOSUB;
    if ((err = regcomp(&rule->re, re.pattern, cflags)) != 0) {
        dict_regexp_error(dp, &rule->re, err);
        dict_pattern_subst_free(rule->subst);
        myfree(rule);
        return NULL;
    }
    if (!dict_pattern_re_check(dp, &re, rule->re.re_nsub)) {
        dict_regexp_free_rule(rule);
        return NULL;
    }
    if (re.pattern2 != NULL) {
        rule->re2 = mymalloc(sizeof(*rule->re2));
        if ((err = regcomp(rule->re2, re.pattern2, (int)re.options2 | REG_NOSUB)) != 0) {
            dict_regexp_error(dp, rule->re2, err);
            myfree(rule->re2);
            rule->re2 = NULL;
            dict_regexp_free_rule(rule);
            return NULL;
        }
    }
    if (rule->nmatch > dr->pmatch_size) {
        dr->pmatch_size = rule->nmatch;
        dr->pmatch = myrealloc(dr->pmatch, dr->pmatch_size * sizeof(*dr->pmatch));
    }
    return rule;
}

/* Run one compiled expression against the key. */
static int dict_regexp_exec(DICT_PATTERN *dp, const regex_t *re, const char *key, size_t nmatch,
                            regmatch_t *pmatch)
{
    int err;

    if ((err = regexec(re, key, nmatch, nmatch ? pmatch : NULL, 0)) == 0)
        return DICT_PATTERN_MATCHED;
    if (err == REG_NOMATCH)
        return DICT_PATTERN_NOMATCH;
    dict_regexp_error(dp, re, err);
    return DICT_PATTERN_FAILED;
}

/* Match the key; captures land in the shared pmatch array. */
static int dict_regexp_match(DICT_PATTERN *dp, void *data, const char *key)
{
    DICT_REGEXP *dr = (DICT_REGEXP *)dp;
    DICT_REGEXP_RULE *rule = data;
    int status;
    int status2;

    status = dict_regexp_exec(dp, &rule->re, key, rule->nmatch, dr->pmatch);
    if (rule->re2 == NULL || status == DICT_PATTERN_FAILED ||
        (status == DICT_PATTERN_MATCHED) == rule->negate)
        return status;
    if ((status2 = dict_regexp_exec(dp, rule->re2, key, 0, NULL)) != DICT_PATTERN_NOMATCH)
        return status2 == DICT_PATTERN_MATCHED ? DICT_PATTERN_VETO : status2;
    return status;
}

/* Where group n of the last match lies. */
static bool dict_regexp_group(void *context, int n, size_t *start, size_t *end)
{
    DICT_REGEXP *dr = context;

    if (dr->pmatch[n].rm_so < 0)
        return false;
    *start = (size_t)dr->pmatch[n].rm_so;
    *end = (size_t)dr->pmatch[n].rm_eo;
    return true;
}

/* The result of a rule that held. */
static const char *dict_regexp_result(DICT_PATTERN *dp, void *data, const char *key)
{
    DICT_REGEXP_RULE *rule = data;

    return dict_pattern_subst_expand(dp, rule->subst, key, dict_regexp_group, dp);
}

/* Release the shared match array. */
static void dict_regexp_close(DICT_PATTERN *dp)
{
    DICT_REGEXP *dr = (DICT_REGEXP *)dp;

    if (dr->pmatch)
        myfree(dr->pmatch);
}

static const DICT_PATTERN_OPS dict_regexp_ops = {
    .syntax = DICT_PATTERN_SYNTAX_REGEX,
    .parse = dict_regexp_parse,
    .match = dict_regexp_match,
    .result = dict_regexp_result,
    .free_rule = dict_regexp_free_rule,
    .close = dict_regexp_close,
};

/* Open a regexp table. */
DICT *dict_regexp_open(const char *name, int open_flags, int dict_flags)
{
    return dict_pattern_open("regexp", name, open_flags, dict_flags, sizeof(DICT_REGEXP), &dict_regexp_ops);
}
