/*
 * dict_cidr_test - unit tests for the cidr table type: IPv4 and IPv6
 * patterns, negation, if/endif and the malformed rules. Expected results
 * and warning texts are those of Postfix 3.7 (Debian's postmap -q), with
 * the table file shown as "F".
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
#include "dict_cidr.h"
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
    char *path = strdup("/tmp/dict_cidr_test.XXXXXX");
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

#define W(text) "warning: cidr map F, line " text "\n"

#define T26    "192.168.1.1 OK\n192.168.0.0/16 REJECT\n2001:db8::/32 REJECT\n"
#define NESTED "if 10.0.0.0/8\nif !10.1.0.0/16\n0.0.0.0/0 A\nendif\n10.1.2.3 B\nendif\n0.0.0.0/0 C\n"

/* Rule files, one lookup each: results and warnings as Postfix gives them. */
static void test_lookups(void **state UNUSED)
{
    static const struct {
        const char *rules;
        const char *key;
        const char *want;
        const char *warnings;
    } cases[] = {
        /* T26. */
        {T26, "192.168.1.1", "OK", ""},
        {T26, "192.168.7.7", "REJECT", ""},
        {T26, "2001:db8::5", "REJECT", ""},
        {T26, "10.0.0.1", NULL, ""},
        /* Masks, brackets, binary comparison. */
        {"1.2.3.4/32 X\n", "1.2.3.4", "X", ""},
        {"1.2.3.0/024 X\n", "1.2.3.4", "X", ""},
        {"1.2.3.4/31 X\n", "1.2.3.5", "X", ""},
        {"1.2.3.4/31 X\n", "1.2.3.6", NULL, ""},
        {"[1.2.3.4] X\n", "1.2.3.4", "X", ""},
        {"[1.2.3.4]/32 X\n", "1.2.3.4", "X", ""},
        {"[1.2.3.0/24] X\n", "1.2.3.4", "X", ""},
        {"[2001:db8::1] X\n", "2001:db8::1", "X", ""},
        {"[2001:db8::]/32 X\n", "2001:db8::1", "X", ""},
        {"2001:db8::/33 X\n", "2001:db8:7fff::1", "X", ""},
        {"2001:db8::/33 X\n", "2001:db8:8000::1", NULL, ""},
        {"2001:0db8:0000::0001 X\n", "2001:db8::1", "X", ""},
        {"2001:db8::1 X\n", "2001:0DB8:0:0::1", "X", ""},
        {"0:0:0:0:0:0:0:0 X\n", "::", "X", ""},
        {"::1/0128 X\n", "::1", "X", ""},
        {"0.0.0.0/0 X\n", "1.1.1.1", "X", ""},
        {"::/0 X\n", "::1", "X", ""},
        /* Families never mix, IPv4-mapped addresses included. */
        {"0.0.0.0/0 X\n", "2001:db8::1", NULL, ""},
        {"::/0 X\n", "1.1.1.1", NULL, ""},
        {"1.2.3.4 X\n", "::ffff:1.2.3.4", NULL, ""},
        {"::ffff:1.2.3.4 X\n", "1.2.3.4", NULL, ""},
        {"::ffff:1.2.3.0/120 X\n", "::ffff:1.2.3.4", "X", ""},
        /* Keys that are not addresses are not found, whatever the rules. */
        {"1.2.3.4 X\n", "foo", NULL, ""},
        {"1.2.3.4 X\n", "[1.2.3.4]", NULL, ""},
        {"1.2.3.4 X\n", " 1.2.3.4", NULL, ""},
        {"1.2.3.4 X\n", "01.2.3.4", NULL, ""},
        {"1.2.3.4 X\n", "1.2.3.4.5", NULL, ""},
        {"1.2.3.4 X\n", "", NULL, ""},
        {"!1.2.3.4 X\n", "foo", NULL, ""},
        /* Results: the rest of the line, literal. */
        {"1.2.3.4\tX\t Y \n", "1.2.3.4", "X\t Y", ""},
        {"1.2.3.4 $1\n", "1.2.3.4", "$1", ""},
        {"# comment\n\n1.2.3.4 X\n  Y\n", "1.2.3.4", "X  Y", ""},
        {"1.2.3.4 X\n1.2.3.4 Y\n", "1.2.3.4", "X", ""},
        /* Negation and if/endif. */
        {"!1.2.3.4 X\n", "1.2.3.5", "X", ""},
        {"!1.2.3.4 X\n", "1.2.3.4", NULL, ""},
        {"!1.2.3.4 X\n", "2001:db8::1", NULL, ""},
        {"! 1.2.3.4 X\n", "1.2.3.5", "X", ""},
        {"!!1.2.3.4 X\n", "1.2.3.4", "X", ""},
        {"if 1.2.3.0/24\n1.2.3.4 X\nendif\n1.2.3.4 Y\n", "1.2.3.4", "X", ""},
        {"if !1.2.3.0/24\n0.0.0.0/0 X\nendif\n", "1.2.4.4", "X", ""},
        {"if !1.2.3.0/24\n0.0.0.0/0 X\nendif\n", "1.2.3.4", NULL, ""},
        {"if !1.2.3.0/24\n::/0 X\nendif\n", "::1", NULL, ""},
        {"if!1.2.3.0/24\n0.0.0.0/0 X\nendif\n", "1.2.4.4", "X", ""},
        {"if ! 1.2.3.0/24\n1.2.4.4 X\nendif\n", "1.2.4.4", "X", ""},
        {"If 1.2.3.0/24\n1.2.3.4 X\nEndIf\n", "1.2.3.4", "X", ""},
        {"if\t1.2.3.0/24 \n1.2.3.4 X\nendif\t\n", "1.2.3.4", "X", ""},
        {"if[1.2.3.0]/24\n1.2.3.4 X\nendif\n", "1.2.3.4", "X", ""},
        {NESTED, "10.2.0.1", "A", ""},
        {NESTED, "10.1.2.3", "B", ""},
        {NESTED, "10.1.2.4", "C", ""},
        {NESTED, "11.1.2.4", "C", ""},
        /* T27 and the other malformed rules. */
        {"192.168.1.1/24 X\n", "192.168.1.1", NULL,
         W("1: non-null host address bits in \"192.168.1.1/24\", perhaps you should use \"192.168.1.0/24\" "
           "instead: skipping this rule")},
        {"1.2.3.4/08 X\n", "1.2.3.4", NULL,
         W("1: non-null host address bits in \"1.2.3.4/08\", perhaps you should use \"1.0.0.0/8\" instead: "
           "skipping this rule")},
        {"1.2.3.4/0 X\n", "1.2.3.4", NULL,
         W("1: non-null host address bits in \"1.2.3.4/0\", perhaps you should use \"0.0.0.0/0\" instead: "
           "skipping this rule")},
        {"[1.2.3.4]/8 X\n", "1.2.3.4", NULL,
         W("1: non-null host address bits in \"1.2.3.4/8\", perhaps you should use \"1.0.0.0/8\" instead: "
           "skipping this rule")},
        {"2001:db8::1/32 X\n", "2001:db8::1", NULL,
         W("1: non-null host address bits in \"2001:db8::1/32\", perhaps you should use \"2001:db8::/32\" "
           "instead: skipping this rule")},
        {"2001:db8:1:2:3:4:5:6/64 X\n", "2001:db8::1", NULL,
         W("1: non-null host address bits in \"2001:db8:1:2:3:4:5:6/64\", perhaps you should use "
           "\"2001:db8:1:2::/64\" instead: skipping this rule")},
        {"1:2:3:4:5:6:7:8/0 X\n", "::1", NULL,
         W("1: non-null host address bits in \"1:2:3:4:5:6:7:8/0\", perhaps you should use \"::/0\" instead: "
           "skipping this rule")},
        {"::ffff:1.2.3.4/96 X\n", "::1", NULL,
         W("1: non-null host address bits in \"::ffff:1.2.3.4/96\", perhaps you should use "
           "\"::ffff:0.0.0.0/96\" instead: skipping this rule")},
        {"2001:db8::1/129 X\n", "2001:db8::1", NULL,
         W("1: bad mask length in \"2001:db8::1/129\": skipping this rule")},
        {"1.2.3.4/33 X\n", "1.2.3.4", NULL, W("1: bad mask length in \"1.2.3.4/33\": skipping this rule")},
        {"[1.2.3.4/33] X\n", "1.2.3.4", NULL, W("1: bad mask length in \"1.2.3.4/33\": skipping this rule")},
        {"1.2.3.4/99999999999999999999 X\n", "1.2.3.4", NULL,
         W("1: bad mask length in \"1.2.3.4/99999999999999999999\": skipping this rule")},
        {"foo/99 X\n", "1.2.3.4", NULL, W("1: bad mask length in \"foo/99\": skipping this rule")},
        {"1.2.3.4/-1 X\n", "1.2.3.4", NULL, W("1: bad mask value in \"1.2.3.4/-1\": skipping this rule")},
        {"1.2.3.4/ X\n", "1.2.3.4", NULL, W("1: bad mask value in \"1.2.3.4/\": skipping this rule")},
        {"1.2.3.4/ 32 X\n", "1.2.3.4", NULL, W("1: bad mask value in \"1.2.3.4/\": skipping this rule")},
        {"1.2.3.4/+32 X\n", "1.2.3.4", NULL, W("1: bad mask value in \"1.2.3.4/+32\": skipping this rule")},
        {"1.2.3.4/8x X\n", "1.2.3.4", NULL, W("1: bad mask value in \"1.2.3.4/8x\": skipping this rule")},
        {"1.2.3.4/32/5 X\n", "1.2.3.4", NULL, W("1: bad mask value in \"1.2.3.4/32/5\": skipping this rule")},
        {"[1.2.3.4]/ X\n", "1.2.3.4", NULL, W("1: bad mask value in \"1.2.3.4/\": skipping this rule")},
        {"foo/x X\n", "1.2.3.4", NULL, W("1: bad mask value in \"foo/x\": skipping this rule")},
        {"foo/8 X\n", "1.2.3.4", NULL, W("1: bad network value in \"foo/8\": skipping this rule")},
        {"[foo]/8 X\n", "1.2.3.4", NULL, W("1: bad network value in \"foo/8\": skipping this rule")},
        {"/8 X\n", "1.2.3.4", NULL, W("1: bad network value in \"/8\": skipping this rule")},
        {"1.2.3 X\n", "1.2.3.4", NULL, W("1: bad address pattern: \"1.2.3\": skipping this rule")},
        {"01.2.3.4 X\n", "1.2.3.4", NULL, W("1: bad address pattern: \"01.2.3.4\": skipping this rule")},
        {"2001:db8::1%eth0 X\n", "2001:db8::1", NULL,
         W("1: bad address pattern: \"2001:db8::1%eth0\": skipping this rule")},
        {"foo X\n", "1.2.3.4", NULL, W("1: bad address pattern: \"foo\": skipping this rule")},
        {"iffy X\n", "1.2.3.4", NULL, W("1: bad address pattern: \"iffy\": skipping this rule")},
        {"endiffy X\n", "1.2.3.4", NULL, W("1: bad address pattern: \"endiffy\": skipping this rule")},
        {"!if 1.2.3.4 X\n", "1.2.3.4", NULL, W("1: bad address pattern: \"if\": skipping this rule")},
        {"! X\n", "1.2.3.4", NULL, W("1: bad address pattern: \"X\": skipping this rule")},
        {"[foo] X\n", "1.2.3.4", NULL, W("1: bad address pattern: \"foo\": skipping this rule")},
        {"[] X\n", "1.2.3.4", NULL, W("1: bad address pattern: \"\": skipping this rule")},
        {"1.2.3.4] X\n", "1.2.3.4", NULL, W("1: bad address pattern: \"1.2.3.4]\": skipping this rule")},
        {"[1.2.3.4 X\n", "1.2.3.4", NULL,
         W("1: missing ']' character after \"[1.2.3.4\": skipping this rule")},
        {"[1.2.3.4]x X\n", "1.2.3.4", NULL, W("1: garbage after \"[1.2.3.4]\": skipping this rule")},
        {"[[1.2.3.4]] X\n", "1.2.3.4", NULL, W("1: garbage after \"[[1.2.3.4]\": skipping this rule")},
        {"1.2.3.4\n", "1.2.3.4", NULL, W("1: no lookup result: skipping this rule")},
        {"1.2.3.4/33\n", "1.2.3.4", NULL, W("1: bad mask length in \"1.2.3.4/33\": skipping this rule")},
        {"!\n", "1.2.3.4", NULL, W("1: no address pattern: skipping this rule")},
        {"1.2.3.4 X\n1.2.3.4 Y\n1.2.3.4/33 Z\n", "1.2.3.4", "X",
         W("3: bad mask length in \"1.2.3.4/33\": skipping this rule")},
        {"  1.2.3.4 X\n1.2.3.4 Y\n", "1.2.3.4", "Y",
         "warning: F: logical line must not start with whitespace: \"  1.2.3.4 X\"\n"},
        /* if/endif problems have cidr's own texts. */
        {"endif\n", "1.2.3.4", NULL, W("1: ENDIF without IF: skipping this rule")},
        {"ENDIF \n", "1.2.3.4", NULL, W("1: ENDIF without IF: skipping this rule")},
        {"endif\tx\n", "1.2.3.4", NULL, W("1: garbage after ENDIF: skipping this rule")},
        {"if 1.2.3.4\n", "1.2.3.4", NULL, W("1: IF has no matching ENDIF")},
        {"if 1.2.3.4\n0.0.0.0/0 x\n", "1.2.3.5", NULL, W("1: IF has no matching ENDIF")},
        {"IF 1.2.3.0/24\nendif foo\n", "1.2.3.4", NULL,
         W("2: garbage after ENDIF: skipping this rule") W("1: IF has no matching ENDIF")},
        {"if 1.2.3.0/24\n1.2.3.4 X\nendif!\n", "1.2.3.4", "X",
         W("3: garbage after ENDIF: skipping this rule") W("1: IF has no matching ENDIF")},
        {"if 1.2.3.0/24 foo\nendif\n", "1.2.3.4", NULL,
         W("1: bad mask value in \"1.2.3.0/24 foo\": skipping this rule")
             W("2: ENDIF without IF: skipping this rule")},
        {"if 1.2.3.4 x\n", "1.2.3.4", NULL, W("1: bad address pattern: \"1.2.3.4 x\": skipping this rule")},
        {"if 1.2.3.0/24\n  1.2.3.4 X\nendif\n", "1.2.3.4", NULL,
         W("1: bad mask value in \"1.2.3.0/24  1.2.3.4 X\": skipping this rule")
             W("3: ENDIF without IF: skipping this rule")},
        {"if\nendif\n", "1.2.3.4", NULL,
         W("1: no address pattern: skipping this rule") W("2: ENDIF without IF: skipping this rule")},
        {"if !\nendif\n", "1.2.3.4", NULL,
         W("1: no address pattern: skipping this rule") W("2: ENDIF without IF: skipping this rule")},
        {"if 1.2.3.4/8\nendif\n", "1.2.3.4", NULL,
         W("1: non-null host address bits in \"1.2.3.4/8\", perhaps you should use \"1.0.0.0/8\" instead: "
           "skipping this rule") W("2: ENDIF without IF: skipping this rule")},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *path = write_rules(cases[i].rules);
        DICT *dict;
        char what[32];

        snprintf(what, sizeof(what), "case %zu", i);
        vstring_reset(warnings);
        dict = dict_cidr_open(path, O_RDONLY, DICT_FLAG_DEFAULT);
        assert_true((dict->flags & DICT_FLAG_SURROGATE) == 0);
        check(what, dict, cases[i].key, cases[i].want, path, cases[i].warnings);
        dict_close(dict);
        unlink(path);
        free(path);
    }
}

/* The inline form, and the tables that become surrogates. */
static void test_open(void **state UNUSED)
{
    static const struct {
        const char *name;
        int open_flags;
        const char *reason;
    } cases[] = {
        {"/nonexistent/c", O_RDONLY, "open /nonexistent/c: No such file or directory"},
        {"/nonexistent/c", O_RDWR | O_CREAT, "cidr:/nonexistent/c map requires O_RDONLY access mode"},
        {"{ 1.2.3.4 X }", O_RDONLY, "cidr map: no '{' at start of text in \"1.2.3.4\""},
        {"{ {1.2.3.4 X}", O_RDONLY, "cidr map: missing '}' in \"{ {1.2.3.4 X}\""},
    };
    DICT *dict;

    vstring_reset(warnings);
    dict = dict_cidr_open("{ {1.2.3.4 X}, {1.2.3.4/8 Y}, {1.0.0.0/8 Z} }", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_true(dict->flags & DICT_FLAG_PATTERN);
    check(
        "inline", dict, "1.2.3.5", "Z", "/nonexistent/",
        "warning: cidr map { {1.2.3.4 X}, {1.2.3.4/8 Y}, {1.0.0.0/8 Z} }, line 2: non-null host address bits "
        "in \"1.2.3.4/8\", perhaps you should use \"1.0.0.0/8\" instead: skipping this rule\n");
    assert_string_equal(dict_get(dict, "1.2.3.4"), "X");
    dict_close(dict);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        dict = dict_cidr_open(cases[i].name, cases[i].open_flags, DICT_FLAG_DEFAULT);
        if ((dict->flags & DICT_FLAG_SURROGATE) == 0)
            fail_msg("case %zu: \"%s\" opened", i, cases[i].name);
        if (strcmp(dict_surrogate_reason(dict), cases[i].reason) != 0)
            fail_msg("case %zu: reason \"%s\", want \"%s\"", i, dict_surrogate_reason(dict), cases[i].reason);
        dict_close(dict);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_open),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
