/*
 * dict_pcre_test - unit tests for the pcre table type. The rule-file
 * code it shares with regexp is tested in dict_regexp_test; here are the
 * PCRE2 flags, texts and errors. Expected results and warning texts are
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
#include "dict_pcre.h"
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
    char *path = strdup("/tmp/dict_pcre_test.XXXXXX");
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

#ifdef HAS_PCRE2

#define W(text) "warning: pcre map F, line " text "\n"

/* Rule files, one lookup each: results and warnings as Postfix gives them. */
static void test_lookups(void **state UNUSED)
{
    static const struct {
        const char *rules;
        const char *key;
        const char *want;
        const char *warnings;
    } cases[] = {
        /* T23 and the flags: i (on), m, s (on), x, A, E, U; X is obsolete. */
        {"/^\\d+$/ digits\n", "123", "digits", ""},
        {"/^\\d+$/ digits\n", "12a", NULL, ""},
        {"/^a b$/x ab\n", "ab", "ab", ""},
        {"/^a b$/ ab\n", "a b", "ab", ""},
        {"/a/ x\n", "A", "x", ""},
        {"/a/i x\n", "A", NULL, ""},
        {"/a/ix x\n", "a", "x", ""},
        {"/a.b/ x\n", "a\nb", "x", ""},
        {"/a.b/s x\n", "a\nb", NULL, ""},
        {"/^b/ x\n", "a\nb", NULL, ""},
        {"/^b/m x\n", "a\nb", "x", ""},
        {"/a$/ x\n", "a\nb", NULL, ""},
        {"/a$/m x\n", "a\nb", "x", ""},
        {"/a$/ x\n", "a\n", "x", ""},
        {"/a$/E x\n", "a\n", NULL, ""},
        {"/b/A x\n", "ab", NULL, ""},
        {"/a/A x\n", "ab", "x", ""},
        {"/(a+)/ [$1]\n", "aaa", "[aaa]", ""},
        {"/(a+)/U [$1]\n", "aaa", "[a]", ""},
        {"/a/X x\n", "a", "x", W("1: ignoring obsolete regexp option \"X\"")},
        {"/a/Z x\n", "a", NULL, W("1: unknown regexp option \"Z\": skipping this rule")},
        {"/a/I x\n", "a", NULL, W("1: unknown regexp option \"I\": skipping this rule")},
        /* T25: a multi-line header is one key. */
        {"/^Subject: .*viagra/ REJECT\n", "Subject: buy\n viagra", "REJECT", ""},
        /* Substitution and rule order, as with regexp. */
        {"/^(.*)@example\\.com$/ $1@example.net\n", "Joe@Example.COM", "Joe@example.net", ""},
        {"/(a)(b)/ ${2}x$$\n", "ab", "bx$", ""},
        {"/(a)|(b)/ [$1][$2]\n", "b", "[][b]", ""},
        {"/(?<n>a)(b)?/ [$1][$2]\n", "a", "[a][]", ""},
        {"/a/ first\n/ab/ second\n", "ab", "first", ""},
        {"!/^x/ not-x\n", "abc", "not-x", ""},
        {"!/^x/ not-x\n", "xyz", NULL, ""},
        {"! /a/ $$\n", "b", "$", ""},
        {"if /@example\\.com$/\n/^admin@/ A\nendif\n/^admin@/ B\n", "admin@example.com", "A", ""},
        {"if /@example\\.com$/\n/^admin@/ A\nendif\n/^admin@/ B\n", "admin@other.org", "B", ""},
        {"if !/a/\n/b/ x\nendif\n", "b", "x", ""},
        /* Compile errors carry PCRE2's text and offset. */
        {"/(/ x\n", "a", NULL, W("1: error in regex at offset 1: missing closing parenthesis")},
        {"/a[/ x\n", "a", NULL,
         W("1: error in regex at offset 2: missing terminating ] for character class")},
        {"/a)/ x\n", "a", NULL, W("1: error in regex at offset 1: unmatched closing parenthesis")},
        {"/a{2,1}/ x\n", "a", NULL,
         W("1: error in regex at offset 5: numbers out of order in {} quantifier")},
        {"/(?<n/ x\n", "a", NULL,
         W("1: error in regex at offset 4: syntax error in subpattern name (missing terminator?)")},
        {"/(/ y\n/a/ x\n", "a", "x", W("1: error in regex at offset 1: missing closing parenthesis")},
        {"/(/\n", "a", NULL,
         W("1: no replacement text: using empty string")
             W("1: error in regex at offset 1: missing closing parenthesis")},
        /* Other malformed rules. */
        {"/a x\n", "a", NULL, W("1: no closing regexp delimiter \"/\": ignoring this rule")},
        {"/\\/ x\n", "a", NULL, W("1: no closing regexp delimiter \"/\": ignoring this rule")},
        {"if /a\n", "a", NULL, W("1: no closing regexp delimiter \"/\": ignoring this rule")},
        {"!\n", "a", NULL, W("1: no regexp: skipping this rule")},
        {"if\n", "a", NULL, W("1: no regexp: skipping this rule")},
        {"/a/ $1\n", "a", NULL, W("1: out of range replacement index \"1\": skipping this rule")},
        {"/a+/U [$0]\n", "a", NULL,
         W("1: out of range replacement index \"0\"") W("1: bad replacement syntax: skipping this rule")},
        {"/(a)/ ${0}\n", "a", NULL,
         W("1: out of range replacement index \"0\"") W("1: bad replacement syntax: skipping this rule")},
        {"/(a)/ $x\n", "a", NULL,
         W("1: non-numeric replacement index \"x\"") W("1: bad replacement syntax: skipping this rule")},
        {"/(a)/ $(\n", "a", NULL,
         "warning: truncated macro reference: \"$(\"\n" W("1: bad replacement syntax: skipping this rule")},
        {"!/a/ $1\n", "b", NULL,
         W("1: $number found in negative match replacement text: skipping this rule")},
        {"! /a/ $(1)\n", "b", NULL,
         W("1: $number found in negative match replacement text: skipping this rule")},
        {"/a/\n", "a", "", W("1: no replacement text: using empty string")},
        {"/a/!/b/ x\n", "a", NULL, W("1: unknown regexp option \"!\": skipping this rule")},
        {"/a/ix,x\n", "a", NULL, W("1: unknown regexp option \",\": skipping this rule")},
        {"endif\n", "a", NULL, W("1: ignoring ENDIF without matching IF")},
        {"if /a/\n/a/ x\n", "a", "x", W("1: IF has no matching ENDIF")},
        {"if /a/ x\nendif\n", "a", NULL,
         W("1: ignoring extra text after IF statement: \"x\"")
             W("1: do not prepend whitespace to statements between IF and ENDIF")},
        {"if /a/\n/a/ x\nendif x\n", "a", "x", W("3: ignoring extra text after ENDIF")},
        {"foo bar\n", "a", NULL, W("1: ignoring unrecognized request")},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *path = write_rules(cases[i].rules);
        DICT *dict;
        char what[32];

        snprintf(what, sizeof(what), "case %zu", i);
        vstring_reset(warnings);
        dict = dict_pcre_open(path, O_RDONLY, DICT_FLAG_DEFAULT);
        assert_true((dict->flags & DICT_FLAG_SURROGATE) == 0);
        check(what, dict, cases[i].key, cases[i].want, path, cases[i].warnings);
        dict_close(dict);
        unlink(path);
        free(path);
    }
}

/* The inline form names the table by its text in diagnostics. */
static void test_inline(void **state UNUSED)
{
    DICT *dict;

    vstring_reset(warnings);
    dict = dict_pcre_open("{ {/a/ x}, {/(/ y}, {/b/ z} }", O_RDONLY, DICT_FLAG_DEFAULT);

    assert_true((dict->flags & DICT_FLAG_SURROGATE) == 0);
    check("inline", dict, "b", "z", "/nonexistent/",
          "warning: pcre map { {/a/ x}, {/(/ y}, {/b/ z} }, line 2: error in regex at offset 1: "
          "missing closing parenthesis\n");
    dict_close(dict);

    dict = dict_pcre_open("{ {/a/ x}, /b/ y }", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_true(dict->flags & DICT_FLAG_SURROGATE);
    assert_string_equal(dict_surrogate_reason(dict), "pcre map: no '{' at start of text in \"/b/\"");
    dict_close(dict);
}

/* Missing files and write access give surrogates with Postfix's reason. */
static void test_surrogates(void **state UNUSED)
{
    DICT *dict = dict_pcre_open("/nonexistent/p", O_RDONLY, DICT_FLAG_DEFAULT);

    assert_true(dict->flags & DICT_FLAG_SURROGATE);
    assert_string_equal(dict_surrogate_reason(dict), "open /nonexistent/p: No such file or directory");
    dict_close(dict);
    dict = dict_pcre_open("/nonexistent/p", O_WRONLY, DICT_FLAG_DEFAULT);
    assert_string_equal(dict_surrogate_reason(dict), "pcre:/nonexistent/p map requires O_RDONLY access mode");
    dict_close(dict);
}

/* A match error is logged and fails the lookup temporarily, never "not found". */
static void test_match_limit(void **state UNUSED)
{
    char *path = write_rules("/(a*)*$/ x\n/./ y\n");
    DICT *dict = dict_pcre_open(path, O_RDONLY, DICT_FLAG_DEFAULT);
    char key[84];
    char *got;

    memset(key, 'a', sizeof(key) - 2);
    key[sizeof(key) - 2] = 'c';
    key[sizeof(key) - 1] = 0;
    vstring_reset(warnings);
    assert_null(dict_get(dict, key));
    assert_int_equal(dict->error, DICT_ERR_RETRY);
    got = warnings_as_f(path);
    assert_string_equal(got, W("1: match limit exceeded"));
    free(got);
    /* The next lookup starts clean. */
    assert_string_equal(dict_get(dict, "aaa"), "x");
    assert_int_equal(dict->error, DICT_ERR_NONE);
    dict_close(dict);
    unlink(path);
    free(path);
}

/* With DICT_FLAG_NO_REGSUB results are literal. */
static void test_no_regsub(void **state UNUSED)
{
    char *path = write_rules("/(a)/ [$1] [$$] [${]\n");
    DICT *dict = dict_pcre_open(path, O_RDONLY, DICT_FLAG_DEFAULT | DICT_FLAG_NO_REGSUB);

    vstring_reset(warnings);
    check("no_regsub", dict, "a", "[$1] [$$] [${]", path, "");
    dict_close(dict);
    unlink(path);
    free(path);
}

/* One match data block serves rules with different numbers of groups. */
static void test_groups(void **state UNUSED)
{
    char *path = write_rules("/^(x)$/ $1\n/^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)$/ $11$10$1\n/^(y)$/ <$1>\n");
    DICT *dict = dict_pcre_open(path, O_RDONLY, DICT_FLAG_DEFAULT);

    assert_true(dict->flags & DICT_FLAG_PATTERN);
    assert_string_equal(dict_get(dict, "abcdefghijk"), "kja");
    assert_string_equal(dict_get(dict, "x"), "x");
    assert_string_equal(dict_get(dict, "y"), "<y>");
    assert_null(dict_get(dict, "z"));
    assert_int_equal(dict->error, DICT_ERR_NONE);
    dict_close(dict);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups),    cmocka_unit_test(test_inline),
        cmocka_unit_test(test_surrogates), cmocka_unit_test(test_match_limit),
        cmocka_unit_test(test_no_regsub),  cmocka_unit_test(test_groups),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}

#else

/* Without PCRE2 the type is a surrogate. */
static void test_unsupported(void **state UNUSED)
{
    DICT *dict = dict_pcre_open("/etc/postfix/p", O_RDONLY, DICT_FLAG_DEFAULT);

    assert_true(dict->flags & DICT_FLAG_SURROGATE);
    dict_close(dict);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unsupported),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}

#endif
