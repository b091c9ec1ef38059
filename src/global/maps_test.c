/*
 * maps_test - unit tests for table lists: first result wins, an error
 * stops the search, empty results are configuration errors, partial keys
 * skip pattern tables, tables are shared between lists.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dict_registry.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

/* Everything logged during a test, one message per line. */
static VSTRING *logged;

static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
}

/* A regexp file: /^joe$/ x and a rule without replacement for ^empty. */
static char regexp_path[] = "/tmp/maps_testXXXXXX";

static int setup(void **state UNUSED)
{
    int fd = mkstemp(regexp_path);
    static const char rules[] = "/^joe$/ regexp-joe\n/^empty/\n/@example\\.com$/ regexp-domain\n";

    assert_true(fd >= 0);
    assert_int_equal(write(fd, rules, sizeof(rules) - 1), (ssize_t)sizeof(rules) - 1);
    close(fd);
    logged = vstring_alloc(100);
    msg_output_reset();
    msg_output(capture);
    dict_allow_surrogate = 1;
    return 0;
}

static int teardown(void **state UNUSED)
{
    unlink(regexp_path);
    vstring_free(logged);
    return 0;
}

/* Replace "R" in a map list with the regexp file's spec. */
static char *expand(const char *names)
{
    VSTRING *buf = vstring_alloc(100);

    for (const char *cp = names; *cp; cp++) {
        if (*cp == 'R' && (cp == names || cp[-1] == ' ' || cp[-1] == ','))
            vstring_sprintf_append(buf, "regexp:%s", regexp_path);
        else
            vstring_addch(buf, *cp);
    }
    return vstring_export(buf);
}

/* One lookup, one expected answer and log text. */
static void test_find(void **state UNUSED)
{
    static const struct {
        const char *names; /* "R" is the regexp file */
        const char *key;
        int flags;
        const char *want; /* value, "-" not found, "!R" retry, "!C" config */
        const char *log;  /* must be logged (NULL: nothing) */
    } cases[] = {
        /* The first table with a result wins; later ones are not asked. */
        {"inline:{a=1}, inline:{a=2, b=3}", "a", 0, "1", NULL},
        {"inline:{a=1}, inline:{a=2, b=3}", "b", 0, "3", NULL},
        {"inline:{a=1}  inline:{a=2, b=3}", "c", 0, "-", NULL},
        {"inline:{a=1},,inline:{c=4}", "c", DICT_FLAG_FIXED, "4", NULL},
        {"", "a", 0, "-", NULL},
        /* Fixed-key tables fold the key; values keep their case. */
        {"inline:{Joe=Value}", "JOE", 0, "Value", NULL},
        /* An error stops the search at once (T40). */
        {"fail:x, inline:{a=1}", "a", 0, "!R", "warning: fail:x lookup error for \"a\"\n"},
        {"inline:{a=1}, fail:x", "a", 0, "1", NULL},
        {"inline:{a=1}, fail:x", "b", 0, "!R", "warning: fail:x lookup error for \"b\"\n"},
        {"nosuchtype:x, inline:{a=1}", "a", 0, "!R", "warning: nosuchtype:x lookup error for \"a\"\n"},
        /* Surrogates fail partial lookups too; fail: is a pattern table. */
        {"nosuchtype:x, inline:{a=1}", "a", DICT_FLAG_FIXED, "!R", "is unavailable"},
        {"fail:x, inline:{a=1}", "a", DICT_FLAG_FIXED, "1", NULL},
        /* An empty result is a configuration error (T41). */
        {"inline:{x=}, inline:{x=1}", "x", 0, "!C",
         "warning: test_maps lookup of x returns an empty string result\n"
         "warning: test_maps should return NO RESULT in case of NOT FOUND\n"},
        {"R", "empty-rule", 0, "!C", "test_maps lookup of empty-rule returns an empty string result"},
        /* Pattern tables see only full keys (T33). */
        {"R", "joe", 0, "regexp-joe", NULL},
        {"R", "joe", DICT_FLAG_FIXED, "-", NULL},
        {"R, inline:{joe=fixed-joe}", "joe", DICT_FLAG_FIXED, "fixed-joe", NULL},
        {"R, inline:{joe=fixed-joe}", "joe", 0, "regexp-joe", NULL},
        {"inline:{x=1}, R", "empty", DICT_FLAG_FIXED, "-", NULL},
        /* Braces keep an item together, commas inside included. */
        {"inline:{a=1, b=2},static:{s t}", "b", 0, "2", NULL},
        {"inline:{a=1, b=2},static:{s t}", "z", 0, "s t", NULL},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *names = expand(cases[i].names);
        MAPS *maps = maps_create("test_maps", names, DICT_FLAG_DEFAULT);
        const char *value;
        char got[100];

        vstring_reset(logged);
        value = maps_find(maps, cases[i].key, cases[i].flags);
        if (value)
            snprintf(got, sizeof(got), "%s", value);
        else
            snprintf(got, sizeof(got), "%s",
                     maps->error == DICT_ERR_NONE     ? "-"
                     : maps->error == DICT_ERR_RETRY  ? "!R"
                     : maps->error == DICT_ERR_CONFIG ? "!C"
                                                      : "?");
        if (value && maps->error != DICT_ERR_NONE)
            fail_msg("case %zu: value with error %d", i, maps->error);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: %s key %s: got \"%s\", want \"%s\"", i, names, cases[i].key, got,
                     cases[i].want);
        if (cases[i].log == NULL && VSTRING_LEN(logged) > 0)
            fail_msg("case %zu: unexpected log: %s", i, vstring_str(logged));
        if (cases[i].log && strstr(vstring_str(logged), cases[i].log) == NULL)
            fail_msg("case %zu: log lacks \"%s\": %s", i, cases[i].log, vstring_str(logged));
        maps_free(maps);
        myfree(names);
    }
}

/* Items are split at commas and whitespace outside braces. */
static void test_parse(void **state UNUSED)
{
    MAPS *maps =
        maps_create("p", " inline:{a=1, b=2},static:x\n\tinline:{ { c = d e } } ,", DICT_FLAG_DEFAULT);

    assert_int_equal(maps->argv->argc, 3);
    assert_string_equal(maps->argv->argv[0], "inline:{a=1, b=2}");
    assert_string_equal(maps->argv->argv[1], "static:x");
    assert_string_equal(maps->argv->argv[2], "inline:{ { c = d e } }");
    assert_string_equal(maps_find(maps, "c", 0), "x");
    maps_free(maps);
}

/* Two lists naming one table share it; it stays open until both let go. */
static void test_sharing(void **state UNUSED)
{
    MAPS *m1 = maps_create("one", "inline:{a=1}, static:s", DICT_FLAG_DEFAULT);
    MAPS *m2 = maps_create("two", "static:t inline:{a=1}", DICT_FLAG_DEFAULT);

    assert_ptr_equal(m1->dicts[0], m2->dicts[1]);
    assert_ptr_not_equal(m1->dicts[1], m2->dicts[0]);
    assert_string_equal(dict_registry_spec(m1->dicts[0]), "inline:{a=1}");
    maps_free(m1);
    assert_string_equal(dict_registry_spec(m2->dicts[1]), "inline:{a=1}");
    assert_string_equal(maps_find(m2, "a", DICT_FLAG_FIXED), "t");
    maps_free(m2);
}

/* With msg_verbose, every answer is logged with the list and table. */
static void test_verbose(void **state UNUSED)
{
    MAPS *maps = maps_create("virtual_alias_maps", "inline:{a=1}, inline:{b=2}", DICT_FLAG_DEFAULT);

    msg_verbose = 1;
    vstring_reset(logged);
    assert_string_equal(maps_find(maps, "b", 0), "2");
    msg_verbose = 0;
    assert_string_equal(vstring_str(logged), "maps_find: virtual_alias_maps: inline:{a=1}: b: not found\n"
                                             "maps_find: virtual_alias_maps: inline:{b=2}: b = 2\n");
    maps_free(maps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_sharing),
        cmocka_unit_test(test_verbose),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
