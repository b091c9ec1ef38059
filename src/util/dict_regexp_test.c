/*
 * dict_regexp_test - unit tests for the regexp table type and the shared
 * rule-file code (dict_pattern). Expected results and warning texts are
 * those of Postfix 3.7 (Debian's postmap -q), with the table file shown
 * as "F".
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dict.h"
#include "dict_regexp.h"
#include "msg.h"
#include "vstring.h"

static VSTRING *warnings;

/* Collect diagnostics, one "warning: TEXT" line each. */
static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(warnings, "%s%s\n", msg_level_prefix(level), text);
}

static int setup(void **state UNUSED)
{
    warnings = vstring_alloc(100);
    msg_output_reset();
    msg_output(capture);
    return 0;
}

static int teardown(void **state UNUSED)
{
    msg_output_reset();
    vstring_free(warnings);
    return 0;
}

/* The captured warnings with every occurrence of path shown as "F". */
static char *warnings_as_f(const char *path)
{
    VSTRING *out = vstring_alloc(100);
    const char *cp = vstring_str(warnings);
    const char *hit;

    while ((hit = strstr(cp, path)) != NULL) {
        vstring_strncat(out, cp, (size_t)(hit - cp));
        vstring_strcat(out, "F");
        cp = hit + strlen(path);
    }
    vstring_strcat(out, cp);
    return vstring_export(out);
}

/* Write text to a new temporary file; the caller unlinks and frees the name. */
static char *write_rules(const char *text)
{
    char *path = strdup("/tmp/dict_regexp_test.XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* Check one lookup: its result (NULL: not found) and all warnings. */
static void check(const char *what, DICT *dict, const char *key, const char *want, const char *path,
                  const char *want_warnings)
{
    const char *got = dict_get(dict, key);
    char *got_warnings;

    if (got == NULL && dict->error != DICT_ERR_NONE)
        fail_msg("%s: key \"%s\": lookup error %d", what, key, dict->error);
    if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
        fail_msg("%s: key \"%s\": got \"%s\", want \"%s\"", what, key, got ? got : "(not found)",
                 want ? want : "(not found)");
    got_warnings = warnings_as_f(path);
    if (strcmp(got_warnings, want_warnings) != 0)
        fail_msg("%s: key \"%s\": warnings:\n%s\nwant:\n%s", what, key, got_warnings, want_warnings);
    free(got_warnings);
}

#define W(text) "warning: regexp map F, line " text "\n"

/* Rule files, one lookup each: results and warnings as Postfix gives them. */
static void test_lookups(void **state UNUSED)
{
    static const struct {
        const char *rules;
        const char *key;
        const char *want;
        const char *warnings;
    } cases[] = {
        /* T17-T22: substitution, flags, negation, if/endif, order. */
        {"/^(.*)@example\\.com$/ $1@example.net\n", "Joe@Example.COM", "Joe@example.net", ""},
        {"/^ABC$/i x\n", "abc", NULL, ""},
        {"/^ABC$/i x\n", "ABC", "x", ""},
        {"!/^x/ not-x\n", "abc", "not-x", ""},
        {"!/^x/ not-x\n", "xyz", NULL, ""},
        {"if /@example\\.com$/\n/^admin@/ A\nendif\n/^admin@/ B\n", "admin@example.com", "A", ""},
        {"if /@example\\.com$/\n/^admin@/ A\nendif\n/^admin@/ B\n", "admin@other.org", "B", ""},
        {"/(a)(b)/ ${2}x$$\n", "ab", "bx$", ""},
        {"/(a)/ $2\n", "a", NULL, W("1: out of range replacement index \"2\": skipping this rule")},
        {"/a/ first\n/ab/ second\n", "ab", "first", ""},
        /* T24: bracket expressions; "[:alpha:]" alone is the set ":alph". */
        {"/[[:alpha:]]<!--.*-->[[:alpha:]]/ REJECT\n", "a<!-- x -->b", "REJECT", ""},
        {"/[:alpha:]<!--.*-->[:alpha:]/ REJECT\n", "x<!-- -->y", NULL, ""},
        /* T25 and flags: without m, ^ $ . see the key as one string. */
        {"/^Subject: .*viagra/ REJECT\n", "Subject: buy\n viagra", "REJECT", ""},
        {"/a.b/ x\n", "a\nb", "x", ""},
        {"/a.b/m x\n", "a\nb", NULL, ""},
        {"/a[^x]b/m x\n", "a\nb", NULL, ""},
        {"/^b/ x\n", "a\nb", NULL, ""},
        {"/^b/m x\n", "a\nb", "x", ""},
        {"/a$/ x\n", "a\nb", NULL, ""},
        {"/a$/m x\n", "a\nb", "x", ""},
        {"/a/ii x\n", "A", "x", ""},
        {"/a/ix x\n", "A", NULL, ""},
        {"/a+/x x\n", "aa", NULL, ""},
        {"/a+/x x\n", "a+", "x", ""},
        {"/\\(a\\)b/x [$1]\n", "ab", "[a]", ""},
        /* Delimiters, blanks, comments, continuation lines. */
        {"~^[[:alnum:]+/]{3,}$~ OK\n", "ab/c", "OK", ""},
        {"\"a\" y\n", "a", "y", ""},
        {"/a\\/b/ y\n", "a/b", "y", ""},
        {".a\\.b. y\n", "axb", NULL, ""},
        {".a\\.b. y\n", "a.b", "y", ""},
        {"/a b/ x y  z\n", "a b", "x y  z", ""},
        {"/a/    x y  z   \n", "a", "x y  z", ""},
        {"/a/\tx\n", "A", "x", ""},
        {"// y\n", "anything", "y", ""},
        {"#a# y\n/a/ z\n", "a", "z", ""},
        {"# comment\n\n/a/ x\n  y\n/b/ z\n", "a", "x  y", ""},
        {"  /a/ x\n/a/ y\n", "a", "y",
         "warning: F: logical line must not start with whitespace: \"  /a/ x\"\n"},
        /* Negation: blanks after '!', and '!!' cancels. */
        {"! /a/ x\n", "b", "x", ""},
        {"!!/a/ x\n", "b", NULL, ""},
        {"! ! /a/ x\n", "a", "x", ""},
        {"!a/b/ x\n", "b", NULL, W("1: no closing regexp delimiter \"a\": skipping this rule")},
        /* The old "/pattern/!/pattern2/": the first matches and the second does not. */
        {"/a/!/b/ x\n", "a", "x", ""},
        {"/a/!/b/ x\n", "ab", NULL, ""},
        {"/a/! /b/ x\n", "a", "x", ""},
        {"/a/i!/B/i x\n", "aB", NULL, ""},
        {"/a/!/b/i x\n", "aB", "x", ""},
        {"!/a/!/b/ x\n", "c", "x", ""},
        {"!/a/!/b/ x\n", "ab", NULL, ""},
        {"/(a)/!/(b)(c)/ $1\n", "a", "a", ""},
        {"/a/!/b/!x\n", "a", "!x", ""},
        {"/a/!/(/ x\n", "a", NULL, W("1: Unmatched ( or \\(")},
        {"/a/!/(/ $2\n", "a", NULL, W("1: out of range replacement index \"2\": skipping this rule")},
        {"/a/!\n", "a", NULL, W("1: no regexp: skipping this rule")},
        {"if /a/!/b/\n/a/ y\nendif\n", "ab", "y",
         W("1: ignoring extra text after IF statement: \"!/b/\"")
             W("1: do not prepend whitespace to statements between IF and ENDIF")},
        /* Keywords: any case, then a non-alphanumeric character. */
        {"IF /a/\n/a/ x\nENDIF\n", "a", "x", ""},
        {"If /a/\n/a/ x\nEndif\n", "a", "x", ""},
        {"if/a/\n/a/ x\nendif\n", "a", "x", ""},
        {"if!/a/\n/b/ x\nendif\n", "b", "x", ""},
        {"if ! /a/\n/b/ x\nendif\n", "a", NULL, ""},
        {"if !!/a/\n/b/ x\nendif\n", "b", NULL, ""},
        {"if /a/\n/a/ x\nendif \n", "a", "x", ""},
        {"if /a/\nif /b/\n/./ x\nendif\n/./ y\nendif\n", "a", "y", ""},
        {"if /a/\nif /b/\n/./ x\nendif\n/./ y\nendif\n", "ab", "x", ""},
        {"if /a/\nif /b/\n/./ x\nendif\n/./ y\nendif\n/./ z\n", "b", "z", ""},
        {"ifx /a/ y\n", "a", NULL, W("1: ignoring unrecognized request")},
        {"endifx /a/ y\n", "a", NULL, W("1: ignoring unrecognized request")},
        {"foo bar\n", "a", NULL, W("1: ignoring unrecognized request")},
        {"1a1 y\n", "a", NULL, W("1: ignoring unrecognized request")},
        /* Substitution forms. */
        {"/(a)/ $1 $$$1 ${1}${1}\n", "a", "a $a aa", ""},
        {"/(a)/ $(1)$$\n", "a", "a$", ""},
        {"/(a)/ $$1\n", "a", "$1", ""},
        {"/(a)/ $1-\n", "a", "a-", ""},
        {"/(a)/ $01\n", "a", "a", ""},
        {"/(a)|(b)/ [$1][$2]\n", "b", "[][b]", ""},
        {"/(a)|(b)/ [$1][$2]\n", "a", "[a][]", ""},
        {"!/a/ $$\n", "b", "$", ""},
        {"/(x*)a/ <$1>\n", "a", "<>", ""},
        /* Malformed rules: skipped with Postfix's warnings. */
        {"/(/ x\n", "a", NULL, W("1: Unmatched ( or \\(")},
        {"/a x\n", "a", NULL, W("1: no closing regexp delimiter \"/\": skipping this rule")},
        {"/\n", "a", NULL, W("1: no closing regexp delimiter \"/\": skipping this rule")},
        {"\\a\\ y\n", "a", NULL, W("1: no closing regexp delimiter \"\\\": skipping this rule")},
        {"(a) y\n", "a", NULL, W("1: no closing regexp delimiter \"(\": skipping this rule")},
        {"/a/ $2\n", "a", NULL, W("1: out of range replacement index \"2\": skipping this rule")},
        {"/a/ ${1}\n", "a", NULL, W("1: out of range replacement index \"1\": skipping this rule")},
        {"/(a)/ $10\n", "a", NULL, W("1: out of range replacement index \"10\": skipping this rule")},
        {"!/a/ $1\n", "b", NULL,
         W("1: $number found in negative match replacement text: skipping this rule")},
        {"!/a/ $5\n", "b", NULL,
         W("1: $number found in negative match replacement text: skipping this rule")},
        {"/a/\n", "a", "", W("1: no replacement text: using empty string")},
        {"/a/i\n", "a", "", W("1: no replacement text: using empty string")},
        {"/(/\n", "a", NULL, W("1: no replacement text: using empty string") W("1: Unmatched ( or \\(")},
        {"endif\n", "a", NULL, W("1: ignoring ENDIF without matching IF")},
        {"endif\tfoo\n", "a", NULL, W("1: ignoring ENDIF without matching IF")},
        {"if /a/\n", "a", NULL, W("1: IF has no matching ENDIF")},
        {"if /b/\n/a/ x\n", "a", NULL, W("1: IF has no matching ENDIF")},
        {"if /a/\nif /a/\n/a/ x\nendif\n", "a", "x", W("1: IF has no matching ENDIF")},
        {"if /a/\nif /b/\n", "a", NULL, W("2: IF has no matching ENDIF") W("1: IF has no matching ENDIF")},
        {"if /a/\n/a/ x\nif /b/\nendif\nendif\nendif\n", "a", "x",
         W("6: ignoring ENDIF without matching IF")},
        {"if /a/ foo\n/a/ x\nendif\n", "a", "x",
         W("1: ignoring extra text after IF statement: \"foo\"")
             W("1: do not prepend whitespace to statements between IF and ENDIF")},
        {"if /a/ foo\n/a/ x\nendif\n", "b", NULL,
         W("1: ignoring extra text after IF statement: \"foo\"")
             W("1: do not prepend whitespace to statements between IF and ENDIF")},
        {"if /a/\n  /a/ x\nendif\n", "a", NULL,
         W("1: ignoring extra text after IF statement: \"/a/ x\"")
             W("1: do not prepend whitespace to statements between IF and ENDIF")},
        {"if /a/\n/a/ x\nendif foo\n", "a", "x", W("3: ignoring extra text after ENDIF")},
        {"if /(/\n/a/ x\nendif\n", "a", "x",
         W("1: Unmatched ( or \\(") W("3: ignoring ENDIF without matching IF")},
        {"if /a/q\n/a/ x\nendif\n", "a", "x",
         W("1: unknown regexp option \"q\": skipping this rule") W("3: ignoring ENDIF without matching IF")},
        {"if\n", "a", NULL, W("1: no regexp: skipping this rule")},
        {"if !\n", "a", NULL, W("1: no regexp: skipping this rule")},
        {"if /a\n", "a", NULL, W("1: no closing regexp delimiter \"/\": skipping this rule")},
        {"!\n", "a", NULL, W("1: no regexp: skipping this rule")},
        {"/a/q x\n", "a", NULL, W("1: unknown regexp option \"q\": skipping this rule")},
        {"/a/X x\n", "a", NULL, W("1: unknown regexp option \"X\": skipping this rule")},
        {"/a/i,x\n", "a", NULL, W("1: unknown regexp option \",\": skipping this rule")},
        {"/a/q $x\n", "a", NULL, W("1: unknown regexp option \"q\": skipping this rule")},
        {"/(a)/ ${1\n", "a", NULL,
         "warning: truncated macro reference: \"${1\"\n" W("1: bad replacement syntax: skipping this rule")},
        {"/(a)/ $(1}\n", "a", NULL,
         "warning: truncated macro reference: \"$(1}\"\n" W("1: bad replacement syntax: skipping this rule")},
        {"/(a)/ x$\n", "a", NULL,
         "warning: empty macro name: \"x$\"\n" W("1: bad replacement syntax: skipping this rule")},
        {"/(a)/ ${}\n", "a", NULL,
         "warning: empty macro name: \"${}\"\n" W("1: bad replacement syntax: skipping this rule")},
        {"/(a)/ $-1\n", "a", NULL,
         "warning: empty macro name: \"$-1\"\n" W("1: bad replacement syntax: skipping this rule")},
        {"/(a)/ $x\n", "a", NULL,
         W("1: non-numeric replacement index \"x\"") W("1: bad replacement syntax: skipping this rule")},
        {"/(a)/ ${1?x}\n", "a", NULL,
         W("1: non-numeric replacement index \"1?x\"") W("1: bad replacement syntax: skipping this rule")},
        {"/(a)/ $1x\n", "a", NULL,
         W("1: non-numeric replacement index \"1x\"") W("1: bad replacement syntax: skipping this rule")},
        {"/(a)/ ${{1}}\n", "a", NULL,
         W("1: non-numeric replacement index \"{1}\"") W("1: bad replacement syntax: skipping this rule")},
        {"/(a)/ $0\n", "a", NULL,
         W("1: out-of-range replacement index \"0\"") W("1: bad replacement syntax: skipping this rule")},
        {"/a/ $0 $00\n", "a", NULL,
         W("1: out-of-range replacement index \"0\"") W("1: out-of-range replacement index \"00\"")
             W("1: bad replacement syntax: skipping this rule")},
        {"/a/ $x $}\n", "a", NULL,
         W("1: non-numeric replacement index \"x\"") "warning: empty macro name: \"$x $}\"\n" W(
             "1: bad replacement syntax: skipping this rule")},
        {"/(/ $x\n", "a", NULL,
         W("1: non-numeric replacement index \"x\"") W("1: bad replacement syntax: skipping this rule")},
        {"!/(/ $2\n", "a", NULL,
         W("1: $number found in negative match replacement text: skipping this rule")},
        {"/(/ $2\n", "a", NULL, W("1: Unmatched ( or \\(")},
        /* A bad rule does not stop the others. */
        {"/(/ y\n/a/ x\n", "a", "x", W("1: Unmatched ( or \\(")},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *path = write_rules(cases[i].rules);
        DICT *dict;
        char what[32];

        snprintf(what, sizeof(what), "case %zu", i);
        vstring_reset(warnings);
        dict = dict_regexp_open(path, O_RDONLY, DICT_FLAG_DEFAULT);
        assert_true((dict->flags & DICT_FLAG_SURROGATE) == 0);
        check(what, dict, cases[i].key, cases[i].want, path, cases[i].warnings);
        dict_close(dict);
        unlink(path);
        free(path);
    }
}

/* The inline form: each braced element is a line; the table is named by its text. */
static void test_inline(void **state UNUSED)
{
    static const struct {
        const char *name;
        const char *key;
        const char *want;
        const char *warnings;
    } cases[] = {
        {"{ {/a/ x}, {/b/ y} }", "b", "y", ""},
        {"{{/a/ x},{/b/ y}}", "b", "y", ""},
        {"{ {/a/ x} {/b/ y} }", "a", "x", ""},
        {"{ {/b/ y, z} }", "b", "y, z", ""},
        {"{ {/b/ {y}} }", "b", "{y}", ""},
        {"{ { /b/ z }}", "b", "z", ""},
        {"{ {#/b/ y}, {/b/ z} }", "b", "z", ""},
        {"{ {if /b/}, {/b/ y}, {endif} }", "b", "y", ""},
        {"{}", "b", NULL, ""},
        {"{ }", "b", NULL, ""},
        {"{ {/a/ x}, {/(/ y} }", "a", "x",
         "warning: regexp map { {/a/ x}, {/(/ y} }, line 2: Unmatched ( or \\(\n"},
        {"{ {}, {/(/ z} }", "b", NULL, "warning: regexp map { {}, {/(/ z} }, line 2: Unmatched ( or \\(\n"},
        {"{ , {/(/ z}, }", "b", NULL, "warning: regexp map { , {/(/ z}, }, line 1: Unmatched ( or \\(\n"},
        {"{ {if /b/}, {/b/ y} }", "b", "y",
         "warning: regexp map { {if /b/}, {/b/ y} }, line 1: IF has no matching ENDIF\n"},
        {"{ {/b/ z} {x}}", "b", "z",
         "warning: regexp map { {/b/ z} {x}}, line 2: ignoring unrecognized request\n"},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        DICT *dict;
        char what[32];

        snprintf(what, sizeof(what), "inline case %zu", i);
        vstring_reset(warnings);
        dict = dict_regexp_open(cases[i].name, O_RDONLY, DICT_FLAG_DEFAULT);
        assert_true((dict->flags & DICT_FLAG_SURROGATE) == 0);
        check(what, dict, cases[i].key, cases[i].want, "/nonexistent/", cases[i].warnings);
        dict_close(dict);
    }
}

/* Tables that cannot be used become surrogates with Postfix's reason. */
static void test_surrogates(void **state UNUSED)
{
    static const struct {
        const char *name;
        int open_flags;
        const char *reason;
    } cases[] = {
        {"/nonexistent/r", O_RDONLY, "open /nonexistent/r: No such file or directory"},
        {"/nonexistent/r", O_RDWR, "regexp:/nonexistent/r map requires O_RDONLY access mode"},
        {"{ /a/ x, /b/ y }", O_RDONLY, "regexp map: no '{' at start of text in \"/a/\""},
        {"{ {/a/ x}, /b/ y }", O_RDONLY, "regexp map: no '{' at start of text in \"/b/\""},
        {"{ {/(/ y}, /b/ y }", O_RDONLY, "regexp map: no '{' at start of text in \"/b/\""},
        {"{ {/a/ x}, {/b/ y}", O_RDONLY, "regexp map: missing '}' in \"{ {/a/ x}, {/b/ y}\""},
        {"{ {/a/ x}, {/b/ y }", O_RDONLY, "regexp map: missing '}' in \"{ {/a/ x}, {/b/ y }\""},
        {"{", O_RDONLY, "regexp map: missing '}' in \"{\""},
        {"{ {/a/ x}, {/b/ y} } z", O_RDONLY,
         "regexp map: syntax error after '}' in \"{ {/a/ x}, {/b/ y} } z\""},
        {"{{/a/ x}} ", O_RDONLY, "regexp map: syntax error after '}' in \"{{/a/ x}} \""},
        {"{ {/b/ z}x }", O_RDONLY, "regexp map: syntax error after '}' in \"{/b/ z}x\""},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        DICT *dict = dict_regexp_open(cases[i].name, cases[i].open_flags, DICT_FLAG_DEFAULT);

        if ((dict->flags & DICT_FLAG_SURROGATE) == 0)
            fail_msg("case %zu: \"%s\" opened", i, cases[i].name);
        if (strcmp(dict_surrogate_reason(dict), cases[i].reason) != 0)
            fail_msg("case %zu: reason \"%s\", want \"%s\"", i, dict_surrogate_reason(dict), cases[i].reason);
        vstring_reset(warnings);
        assert_null(dict_get(dict, "a"));
        assert_int_equal(dict->error, DICT_ERR_RETRY);
        dict_close(dict);
    }
}

/* With DICT_FLAG_NO_REGSUB results are literal: no $ processing, no checks. */
static void test_no_regsub(void **state UNUSED)
{
    char *path = write_rules("/(a)/ [$1] [$$] [$x] [${]\n!/b/ $1\n");
    DICT *dict = dict_regexp_open(path, O_RDONLY, DICT_FLAG_DEFAULT | DICT_FLAG_NO_REGSUB);

    vstring_reset(warnings);
    check("no_regsub", dict, "a", "[$1] [$$] [$x] [${]", path, "");
    check("no_regsub", dict, "c", "$1", path, "");
    dict_close(dict);
    unlink(path);
    free(path);
}

/* A read-only pattern table; results survive until the next lookup. */
static void test_properties(void **state UNUSED)
{
    char *path = write_rules("/^(.)(.*)$/ $2$1\n");
    DICT *dict = dict_regexp_open(path, O_RDONLY, DICT_FLAG_DEFAULT);

    assert_true(dict->flags & DICT_FLAG_PATTERN);
    assert_string_equal(dict->type, "regexp");
    assert_string_equal(dict->name, path);
    assert_string_equal(dict_get(dict, "abc"), "bca");
    assert_string_equal(dict_get(dict, "xyz"), "yzx");
    assert_true(dict->update != NULL && dict->sequence != NULL); /* refusing defaults */
    dict_close(dict);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups),    cmocka_unit_test(test_inline),
        cmocka_unit_test(test_surrogates), cmocka_unit_test(test_no_regsub),
        cmocka_unit_test(test_properties),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
