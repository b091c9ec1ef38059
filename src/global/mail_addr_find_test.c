/*
 * mail_addr_find_test - unit tests for the address-style search: the key
 * order for extensions, local and remote domains and quoted local parts
 * (checked against Postfix 3.7), first match across several tables,
 * errors, pattern tables, and the result helpers (extension propagation,
 * "@otherdomain" results). Acceptance checks T31-T33, T40, T41 in unit form.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dict_open.h"
#include "mail_addr_find.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_local.h"

/* Everything logged during a test. */
static VSTRING *logged;

/* Keys asked of "rec:" tables, "|"-separated, as "LABEL:key" with several tables. */
static VSTRING *asked;
static int rec_tables;

static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
}

/* rec:f:LABEL (exact keys) or rec:p:LABEL (pattern): remembers every key, finds nothing. */
static const char *rec_lookup(DICT *dict, const char *key)
{
    if (VSTRING_LEN(asked))
        vstring_addch(asked, '|');
    if (rec_tables > 1)
        vstring_sprintf_append(asked, "%s:", dict->name + 2);
    vstring_strcat(asked, key);
    return NULL;
}

static void rec_close(DICT *dict)
{
    rec_tables--;
    dict_free(dict);
}

static DICT *rec_open(const char *name, int open_flags, int dict_flags)
{
    DICT *dict = dict_alloc("rec", name, sizeof(DICT));

    (void)open_flags;
    dict->lookup = rec_lookup;
    dict->close = rec_close;
    dict->flags = dict_flags | (name[0] == 'p' ? DICT_FLAG_PATTERN : DICT_FLAG_FIXED);
    rec_tables++;
    return dict;
}

static char regexp_path[] = "/tmp/mail_addr_find_testXXXXXX";

static int setup(void **state UNUSED)
{
    static const char rules[] = "/^joe$/ regexp-joe\n/^x/\n/^pat@example\\.com$/ regexp-pat\n";
    int fd = mkstemp(regexp_path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, rules, sizeof(rules) - 1), (ssize_t)sizeof(rules) - 1);
    close(fd);
    logged = vstring_alloc(100);
    asked = vstring_alloc(100);
    msg_output_reset();
    msg_output(capture);
    dict_allow_surrogate = 1;
    dict_open_register("rec", rec_open);
    var_parent_domain_matches_subdomains = "relay_domains,smtpd_access_maps";
    var_mydestination = "localhost, mx.example.org";
    var_inet_interfaces = "127.0.0.1";
    var_proxy_interfaces = "";
    var_myorigin = "origin.example";
    var_double_bounce_sender = "double-bounce";
    var_propagate_unmatched_extensions = "canonical, virtual";
    resolve_local_init();
    return 0;
}

static int teardown(void **state UNUSED)
{
    unlink(regexp_path);
    vstring_free(logged);
    vstring_free(asked);
    return 0;
}

/* The keys asked, in order, for one address (observed with Postfix 3.7). */
static void test_key_order(void **state UNUSED)
{
    static const struct {
        const char *delimiter;
        const char *address;
        const char *maps;
        const char *keys;
    } cases[] = {
        /* Remote domain: no local-part keys. */
        {"+", "joe+x@example.com", "rec:f:T", "joe+x@example.com|joe@example.com|@example.com"},
        {"+", "joe@example.com", "rec:f:T", "joe@example.com|@example.com"},
        {"", "joe+x@example.com", "rec:f:T", "joe+x@example.com|@example.com"},
        /* Local domains: $mydestination, $myorigin, interface address literals. */
        {"+", "joe+x@localhost", "rec:f:T", "joe+x@localhost|joe@localhost|joe+x|joe|@localhost"},
        {"+", "JOE+X@LocalHost", "rec:f:T", "JOE+X@LocalHost|JOE@LocalHost|JOE+X|JOE|@LocalHost"},
        {"+", "joe+x@origin.example", "rec:f:T",
         "joe+x@origin.example|joe@origin.example|joe+x|joe|@origin.example"},
        {"+", "joe+x@[127.0.0.1]", "rec:f:T", "joe+x@[127.0.0.1]|joe@[127.0.0.1]|joe+x|joe|@[127.0.0.1]"},
        {"+", "joe+x@[1.2.3.4]", "rec:f:T", "joe+x@[1.2.3.4]|joe@[1.2.3.4]|@[1.2.3.4]"},
        {"+", "joe@localhost", "rec:f:T", "joe@localhost|joe|@localhost"},
        /* No domain: the local part alone. */
        {"+", "joe+x", "rec:f:T", "joe+x|joe"},
        {"+", "joe", "rec:f:T", "joe"},
        /* Several delimiters: cut at the first one present. */
        {"+-", "a-b+c@example.com", "rec:f:T", "a-b+c@example.com|a@example.com|@example.com"},
        {"-", "joe-x-y@example.com", "rec:f:T", "joe-x-y@example.com|joe@example.com|@example.com"},
        {"+", "joe+@example.com", "rec:f:T", "joe+@example.com|joe@example.com|@example.com"},
        /* Never split: empty user part, special and mailing-list names. */
        {"+", "+joe@example.com", "rec:f:T", "+joe@example.com|@example.com"},
        {"-", "owner-foo-bar@example.com", "rec:f:T", "owner-foo-bar@example.com|@example.com"},
        {"-", "Owner-foo@localhost", "rec:f:T", "Owner-foo@localhost|Owner-foo|@localhost"},
        {"+-", "owner-foo+x@example.com", "rec:f:T", "owner-foo+x@example.com|@example.com"},
        {"+", "owner-foo+x@example.com", "rec:f:T",
         "owner-foo+x@example.com|owner-foo@example.com|@example.com"},
        {"-", "foo-request@localhost", "rec:f:T", "foo-request@localhost|foo-request|@localhost"},
        {"-", "-request@example.com", "rec:f:T", "-request@example.com|@example.com"},
        {"-", "MAILER-DAEMON@localhost", "rec:f:T", "MAILER-DAEMON@localhost|MAILER-DAEMON|@localhost"},
        {"-", "double-bounce@example.com", "rec:f:T", "double-bounce@example.com|@example.com"},
        {"+", "postmaster@example.com", "rec:f:T", "postmaster@example.com|@example.com"},
        {"-", "postmaster-x@example.com", "rec:f:T",
         "postmaster-x@example.com|postmaster@example.com|@example.com"},
        /* Quoted local parts: external form, then internal form. */
        {"-", "\"joe smith-x\"@mx.example.org", "rec:f:T",
         "\"joe smith-x\"@mx.example.org|joe smith-x@mx.example.org|"
         "\"joe smith\"@mx.example.org|joe smith@mx.example.org|"
         "\"joe smith-x\"|joe smith-x|\"joe smith\"|joe smith|@mx.example.org"},
        {"+", "\"a.\"@localhost", "rec:f:T", "\"a.\"@localhost|a.@localhost|\"a.\"|a.|@localhost"},
        {"+", "\"joe\"@example.com", "rec:f:T", "joe@example.com|@example.com"},
        {"+", "\"a\\\"b+x\"@example.com", "rec:f:T",
         "\"a\\\"b+x\"@example.com|a\"b+x@example.com|\"a\\\"b\"@example.com|a\"b@example.com|"
         "@example.com"},
        /* Every key goes to every table before the next key (T32). */
        {"+", "joe+x@example.com", "rec:f:A, rec:f:B",
         "A:joe+x@example.com|B:joe+x@example.com|A:joe@example.com|B:joe@example.com|"
         "A:@example.com|B:@example.com"},
        /* Pattern tables see the full address only (T33). */
        {"+", "joe+x@localhost", "rec:p:P, rec:f:F",
         "P:joe+x@localhost|F:joe+x@localhost|F:joe@localhost|F:joe+x|F:joe|F:@localhost"},
        {"-", "\"joe smith-x\"@example.com", "rec:p:P",
         "\"joe smith-x\"@example.com|joe smith-x@example.com"},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        MAPS *maps = maps_create("test", cases[i].maps, DICT_FLAG_DEFAULT);
        char *ext = (char *)"unset";

        var_recipient_delimiter = (char *)cases[i].delimiter;
        vstring_reset(asked);
        if (mail_addr_find(maps, cases[i].address, &ext) != NULL || maps->error != DICT_ERR_NONE)
            fail_msg("case %zu: %s: found or failed", i, cases[i].address);
        if (ext != NULL)
            fail_msg("case %zu: extension %s without a result", i, ext);
        if (strcmp(vstring_str(asked), cases[i].keys) != 0)
            fail_msg("case %zu: %s delimiter \"%s\":\n got  %s\n want %s", i, cases[i].address,
                     cases[i].delimiter, vstring_str(asked), cases[i].keys);
        maps_free(maps);
    }
    var_recipient_delimiter = "+";
}

/* Results, stripped extensions and errors, T31/T32/T33/T40/T41 style. */
static void test_results(void **state UNUSED)
{
    /* "R" stands for the regexp file. */
    static const char t31[] = "inline:{@example.com=catch@example.net, "
                              "joe@example.com=joe2@example.net, joe=local-joe@example.net}";
    static const struct {
        const char *maps;
        const char *address;
        const char *want; /* value, "-", "!R", "!C" */
        const char *ext;  /* stripped extension or NULL */
        const char *log;  /* expected log text or NULL */
    } cases[] = {
        /* T31 */
        {t31, "joe+x@example.com", "joe2@example.net", "+x", NULL},
        {t31, "bob@example.com", "catch@example.net", NULL, NULL},
        {t31, "bob+x@example.com", "catch@example.net", NULL, NULL},
        {t31, "joe@localhost", "local-joe@example.net", NULL, NULL},
        {t31, "joe+y@localhost", "local-joe@example.net", "+y", NULL},
        {t31, "joe@remote.example", "-", NULL, NULL},
        {t31, "JOE+X@EXAMPLE.COM", "joe2@example.net", "+X", NULL},
        /* An exact match with the extension keeps nothing to propagate. */
        {"inline:{joe+x@example.com=full, joe@example.com=bare}", "joe+x@example.com", "full", NULL, NULL},
        /* T32: the full key in both tables before @domain. */
        {"inline:{@example.com=a@example.net}, inline:{joe@example.com=b@example.net}", "joe@example.com",
         "b@example.net", NULL, NULL},
        {"inline:{joe@example.com=a}, inline:{joe+x@example.com=b}", "joe+x@example.com", "b", NULL, NULL},
        /* T33: pattern tables get the full address only. */
        {"R", "joe@localhost", "-", NULL, NULL},
        {"R", "joe", "regexp-joe", NULL, NULL},
        {"R", "pat+x@example.com", "-", NULL, NULL},
        {"R, inline:{joe=fixed}", "joe@localhost", "fixed", NULL, NULL},
        /* T40: an error stops the search; later tables are not asked. */
        {"fail:x, inline:{joe@example.com=v}", "joe@example.com", "!R", NULL,
         "warning: fail:x lookup error for \"joe@example.com\""},
        {"inline:{joe@example.com=v}, fail:x", "joe@example.com", "v", NULL, NULL},
        {"inline:{joe@example.com=v}, fail:x", "bob@example.com", "!R", NULL, NULL},
        {"nosuchtype:x, inline:{joe@localhost=v}", "joe+x@localhost", "!R", NULL, "is unavailable"},
        /* T41: an empty result is a configuration error. */
        {"R", "xavier@localhost", "!C", NULL,
         "warning: test lookup of xavier@localhost returns an empty string result\n"
         "warning: test should return NO RESULT in case of NOT FOUND\n"},
        {"inline:{joe@example.com=}, inline:{joe@example.com=v}", "joe+x@example.com", "!C", NULL,
         "test lookup of joe@example.com returns an empty string result"},
    };
    VSTRING *names = vstring_alloc(100);

    var_recipient_delimiter = "+";
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        MAPS *maps;
        const char *value;
        char *ext;
        const char *got;

        if (strcmp(cases[i].maps, "R") == 0 || strncmp(cases[i].maps, "R,", 2) == 0)
            vstring_sprintf(names, "regexp:%s%s", regexp_path, cases[i].maps + 1);
        else
            vstring_strcpy(names, cases[i].maps);
        maps = maps_create("test", vstring_str(names), DICT_FLAG_DEFAULT);
        vstring_reset(logged);
        value = mail_addr_find(maps, cases[i].address, &ext);
        got = value                            ? value
              : maps->error == DICT_ERR_NONE   ? "-"
              : maps->error == DICT_ERR_RETRY  ? "!R"
              : maps->error == DICT_ERR_CONFIG ? "!C"
                                               : "?";
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: %s in %s: got %s, want %s", i, cases[i].address, cases[i].maps, got,
                     cases[i].want);
        if ((ext == NULL) != (cases[i].ext == NULL) || (ext && strcmp(ext, cases[i].ext) != 0))
            fail_msg("case %zu: %s: extension %s, want %s", i, cases[i].address, ext ? ext : "(none)",
                     cases[i].ext ? cases[i].ext : "(none)");
        if (cases[i].log && strstr(vstring_str(logged), cases[i].log) == NULL)
            fail_msg("case %zu: log lacks \"%s\":\n%s", i, cases[i].log, vstring_str(logged));
        if (ext)
            myfree(ext);
        maps_free(maps);
    }
    vstring_free(names);

    /* The extension pointer may be NULL. */
    {
        MAPS *maps = maps_create("test", t31, DICT_FLAG_DEFAULT);

        assert_string_equal(mail_addr_find(maps, "joe+x@example.com", NULL), "joe2@example.net");
        maps_free(maps);
    }
}

/* A failed $mydestination lookup fails the search instead of skipping the local keys. */
static void test_resolve_local_error(void **state UNUSED)
{
    MAPS *maps = maps_create("test", "inline:{@example.com=catch}", DICT_FLAG_DEFAULT);

    var_mydestination = "fail:mydest";
    resolve_local_init();
    assert_null(mail_addr_find(maps, "joe@example.com", NULL));
    assert_int_equal(maps->error, DICT_ERR_RETRY);
    /* $myorigin needs no $mydestination lookup. */
    assert_null(mail_addr_find(maps, "joe@origin.example", NULL));
    assert_int_equal(maps->error, DICT_ERR_NONE);
    var_mydestination = "localhost, mx.example.org";
    resolve_local_init();
    assert_string_equal(mail_addr_find(maps, "joe@example.com", NULL), "catch");
    maps_free(maps);
}

/* Turning a result into the rewritten address (T31 propagation, @otherdomain). */
static void test_result_helpers(void **state UNUSED)
{
    static const struct {
        const char *result;
        const char *address;
        const char *ext;
        bool propagate;
        const char *want;
    } cases[] = {
        {"joe2@example.net", "joe+x@example.com", "+x", true, "joe2+x@example.net"},
        {"joe2@example.net", "joe+x@example.com", "+x", false, "joe2@example.net"},
        {"joe2@example.net", "joe+x@example.com", NULL, true, "joe2@example.net"},
        {"local-joe", "joe+y@localhost", "+y", true, "local-joe+y"},
        /* @otherdomain: the same user there; the stripped extension only if propagated. */
        {"@example.net", "joe+x@example.com", "+x", true, "joe+x@example.net"},
        {"@example.net", "joe+x@example.com", "+x", false, "joe@example.net"},
        {"@example.net", "joe+x@example.com", NULL, true, "joe+x@example.net"},
        {"@example.net", "joe@example.com", NULL, false, "joe@example.net"},
        {"@example.net", "\"joe smith\"@example.com", NULL, false, "\"joe smith\"@example.net"},
        {"@example.net", "\"joe smith+x\"@example.com", "+x", false, "\"joe smith\"@example.net"},
        /* Quoted local parts stay correctly quoted. */
        {"\"a b\"@example.net", "joe+x@example.com", "+x", true, "\"a b+x\"@example.net"},
        {"a@example.net", "\"j s+x y\"@example.com", "+x y", true, "\"a+x y\"@example.net"},
        {"\"a\\\"b\"@d", "joe+x@e", "+x", true, "\"a\\\"b+x\"@d"},
    };
    VSTRING *buf = vstring_alloc(10);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *got =
            mail_addr_find_result(buf, cases[i].result, cases[i].address, cases[i].ext, cases[i].propagate);

        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: %s for %s: got %s, want %s", i, cases[i].result, cases[i].address, got,
                     cases[i].want);
    }
    assert_string_equal(mail_addr_find_add_ext(buf, "user@domain", "+x"), "user+x@domain");
    assert_string_equal(mail_addr_find_add_ext(buf, "user", "-x"), "user-x");
    vstring_free(buf);
}

/* propagate_unmatched_extensions classes. */
static void test_propagate(void **state UNUSED)
{
    var_propagate_unmatched_extensions = "canonical, virtual";
    assert_true(mail_addr_find_propagate("canonical"));
    assert_true(mail_addr_find_propagate("virtual"));
    assert_false(mail_addr_find_propagate("alias"));
    var_propagate_unmatched_extensions = "";
    assert_false(mail_addr_find_propagate("virtual"));
    var_propagate_unmatched_extensions = "canonical, virtual";
}

/* With msg_verbose the outcome of each search is logged. */
static void test_verbose(void **state UNUSED)
{
    MAPS *maps = maps_create("test", "inline:{joe@example.com=v}, fail:f", DICT_FLAG_DEFAULT);

    msg_verbose = 1;
    vstring_reset(logged);
    (void)mail_addr_find(maps, "joe@example.com", NULL);
    (void)mail_addr_find(maps, "bob@example.com", NULL);
    msg_verbose = 0;
    assert_non_null(strstr(vstring_str(logged), "mail_addr_find: joe@example.com -> v\n"));
    assert_non_null(strstr(vstring_str(logged), "mail_addr_find: bob@example.com -> (try again)\n"));
    maps_free(maps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_order),           cmocka_unit_test(test_results),
        cmocka_unit_test(test_resolve_local_error), cmocka_unit_test(test_result_helpers),
        cmocka_unit_test(test_propagate),           cmocka_unit_test(test_verbose),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
