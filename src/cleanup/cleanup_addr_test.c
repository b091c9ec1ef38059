/*
 * cleanup_addr_test - unit tests for the address steps of the envelope
 * stage: masquerading (queue.md 4.5, check 8), canonical mapping with
 * nesting, extension propagation and errors (4.4, checks 6 and 7),
 * virtual alias expansion with self-reference and limits (4.7, check 9),
 * the class lists, header address rewriting (4.3) and recipient
 * extraction for sendmail -t (check 45).
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cleanup_addr.h"
#include "dict.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_local.h"
#include "string_list.h"

static VSTRING *logged;

static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
}

/*
 * Postfix's defaults at compatibility level 3.6, from the parameter
 * registry, with myhostname = mail.example.com (the acceptance checks'
 * setting), mydestination without localhost.$mydomain, loopback only, no
 * parent-domain matching and recipient_delimiter = +.
 */
static void set_params(void)
{
    mail_conf_forget();
    mail_conf_override("compatibility_level", "3.6");
    mail_conf_override("myhostname", "mail.example.com");
    mail_conf_override("mydestination", "mail.example.com, localhost");
    mail_conf_override("inet_interfaces", "127.0.0.1");
    mail_conf_override("parent_domain_matches_subdomains", "");
    mail_conf_override("recipient_delimiter", "+");
    mail_params_init();
}

static CLEANUP_STATE *state_new(void)
{
    CLEANUP_STATE *state = mycalloc(1, sizeof(*state));

    state->queue_id = mystrdup("QID");
    state->reason = vstring_alloc(100);
    state->flags = CLEANUP_FLAG_MAP_OK;
    return state;
}

static void state_free(CLEANUP_STATE *state)
{
    myfree(state->queue_id);
    vstring_free(state->reason);
    myfree(state);
}

static int setup(void **state UNUSED)
{
    logged = vstring_alloc(100);
    msg_output_reset();
    msg_output(capture);
    dict_allow_surrogate = 1;
    set_params();
    resolve_local_init();
    cleanup_addr_init();
    return 0;
}

static int teardown(void **state UNUSED)
{
    vstring_free(logged);
    return 0;
}

static void test_masquerade(void **state UNUSED)
{
    static const struct {
        const char *domains;
        const char *exceptions;
        const char *in;
        const char *want;
        int status;
    } cases[] = {
        /* Acceptance check 8. */
        {"!it.example.com, example.com", "root", "u@a.b.example.com", "u@example.com", 1},
        {"!it.example.com, example.com", "root", "u@x.it.example.com", "u@x.it.example.com", 0},
        {"!it.example.com, example.com", "root", "u@it.example.com", "u@it.example.com", 0},
        {"!it.example.com, example.com", "root", "root@a.example.com", "root@a.example.com", 0},
        {"!it.example.com, example.com", "root", "ROOT@a.example.com", "ROOT@a.example.com", 0},
        /* The domain itself, other domains, look-alikes, case. */
        {"example.com", "", "u@example.com", "u@example.com", 0},
        {"example.com", "", "u@badexample.com", "u@badexample.com", 0},
        {"example.com", "", "u@other.org", "u@other.org", 0},
        {"example.com", "", "u@A.EXAMPLE.COM", "u@example.com", 1},
        /* First match wins, left to right. */
        {"b.example.com, example.com", "", "u@a.b.example.com", "u@b.example.com", 1},
        {"example.com, b.example.com", "", "u@a.b.example.com", "u@example.com", 1},
        /* An exact match stops the search. */
        {"b.example.com, example.com", "", "u@b.example.com", "u@b.example.com", 0},
        /* No domain, empty domain, literal. */
        {"example.com", "", "u", "u", 0},
        {"example.com", "", "u@", "u@", 0},
        {"example.com", "", "u@[1.2.3.4]", "u@[1.2.3.4]", 0},
        /* Exceptions through a table, and a failing one. */
        {"example.com", "inline:{admin=x}", "admin@a.example.com", "admin@a.example.com", 0},
        {"example.com", "fail:x", "u@a.example.com", "u@a.example.com", -1},
    };
    VSTRING *addr = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ARGV *domains = argv_split(cases[i].domains, ", ");
        STRING_LIST *except =
            *cases[i].exceptions ? string_list_init("masquerade_exceptions", cases[i].exceptions) : NULL;
        int status;

        vstring_strcpy(addr, cases[i].in);
        status = cleanup_masquerade(addr, domains, except);
        if (status != cases[i].status || strcmp(vstring_str(addr), cases[i].want) != 0)
            fail_msg("case %zu %s: got %d '%s', want %d '%s'", i, cases[i].in, status, vstring_str(addr),
                     cases[i].status, cases[i].want);
        argv_free(domains);
        if (except)
            string_list_free(except);
    }
    vstring_free(addr);
}

/* One-to-one mapping: chains, self-mapping, extensions, nesting, errors. */
static void test_map11(void **state UNUSED)
{
    static const struct {
        const char *maps;
        const char *in;
        const char *want;
        unsigned errs;
        const char *log; /* substring of the log, or NULL for an empty log */
    } cases[] = {
        /* Acceptance check 6 (both lists in one chain). */
        {"inline:{alice=alice.smith@example.com, alice.smith@example.com=a.smith@example.com}",
         "alice@mail.example.com", "a.smith@example.com", 0, NULL},
        {"inline:{a@x=a@x}", "a@x", "a@x", 0, NULL},
        {"inline:{a@x=A@x}", "a@x", "A@x", 0, NULL},
        {"inline:{a@x=b}", "a@x", "b@mail.example.com", 0, NULL},
        {"inline:{a@x=@y}", "a@x", "a@y", 0, NULL},
        {"inline:{a@x=b@y}", "a+ext@x", "b+ext@y", 0, NULL},
        {"inline:{a@x=b@y}", "c@x", "c@x", 0, NULL},
        {"inline:{{a@x=b@y, c@y}}", "a@x", "b@y", 0,
         "warning: QID: multi-valued canonical_maps entry for a@x"},
        {"inline:{\"a.\"@x=js@y}", "a.@x", "js@y", 0, NULL},
        {"inline:{{a@x=\"joe smith\"@y}}", "a@x", "joe smith@y", 0, NULL},
        /* A chain of 10 mappings is the limit (acceptance check 7 has 12). */
        {"inline:{a0@x=a1@x, a1@x=a2@x, a2@x=a3@x, a3@x=a4@x, a4@x=a5@x, a5@x=a6@x, a6@x=a7@x, "
         "a7@x=a8@x, a8@x=a9@x, a9@x=a10@x, a10@x=a11@x, a11@x=a12@x}",
         "a0@x", "a10@x", CLEANUP_STAT_DEFER,
         "warning: QID: unreasonable canonical_maps map nesting for a10@x -- message not accepted, try again "
         "later"},
        {"inline:{a0@x=a1@x, a1@x=a2@x, a2@x=a3@x, a3@x=a4@x, a4@x=a5@x, a5@x=a6@x, a6@x=a7@x, "
         "a7@x=a8@x, a8@x=a9@x}",
         "a0@x", "a9@x", 0, NULL},
        {"inline:{a@x=b@x, b@x=a@x}", "a@x", "a@x", CLEANUP_STAT_DEFER,
         "unreasonable canonical_maps map nesting"},
        {"fail:x", "a@x", "a@x", CLEANUP_STAT_DEFER,
         "warning: QID: canonical_maps map lookup problem for a@x -- message not accepted, try again later"},
        {"inline:{a@x=b@x}, fail:y", "a@x", "b@x", CLEANUP_STAT_DEFER,
         "canonical_maps map lookup problem for b@x"},
    };
    VSTRING *addr = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        MAPS *maps = maps_create("canonical_maps", cases[i].maps, DICT_FLAG_DEFAULT);
        CLEANUP_STATE *st = state_new();

        vstring_reset(logged);
        vstring_strcpy(addr, cases[i].in);
        cleanup_map11_internal(st, addr, maps, true);
        if (strcmp(vstring_str(addr), cases[i].want) != 0 || st->errs != cases[i].errs)
            fail_msg("case %zu %s: got '%s' errs %u, want '%s' %u", i, cases[i].in, vstring_str(addr),
                     st->errs, cases[i].want, cases[i].errs);
        if (cases[i].log ? strstr(vstring_str(logged), cases[i].log) == NULL : VSTRING_LEN(logged) > 0)
            fail_msg("case %zu: log '%s'", i, vstring_str(logged));
        if (cases[i].errs)
            assert_true(strncmp(vstring_str(st->reason), "4.3.0 ", 6) == 0);
        state_free(st);
        maps_free(maps);
    }
    vstring_free(addr);
}

/* Virtual alias expansion: lists, recursion, self-reference, limits. */
static void test_map1n(void **state UNUSED)
{
    static const struct {
        const char *maps;
        int expansion_limit;
        int recursion_limit;
        const char *in;
        const char *want; /* "|"-separated */
        unsigned errs;
        const char *log;
    } cases[] = {
        /* Acceptance check 9. */
        {"inline:{{info@v.test=a@x.test, b@x.test}}", 1000, 1000, "info@v.test", "a@x.test|b@x.test", 0,
         NULL},
        {"inline:{{info@v.test=a@x.test b@x.test}}", 1000, 1000, "info@v.test", "a@x.test|b@x.test", 0, NULL},
        {"inline:{info@v.test=a@x.test}", 1000, 1000, "nobody@v.test", "nobody@v.test", 0, NULL},
        /* Recursion, in place; unqualified results get @$myorigin. */
        {"inline:{{a@v=b@v, c@v}, {b@v=d@v, e@v}, e@v=f}", 1000, 1000, "a@v", "d@v|c@v|f@mail.example.com", 0,
         NULL},
        /* Self-reference is kept and not expanded again. */
        {"inline:{{a@v=a@v, b@v}}", 1000, 1000, "a@v", "a@v|b@v", 0, NULL},
        {"inline:{{a@v=A@v, b@v}, b@v=a@v}", 1000, 1000, "a@v", "A@v|a@v", 0, NULL},
        /* Extension propagation (tables.md T31). */
        {"inline:{joe@example.com=joe2@example.net, @example.com=catch@example.net}", 1000, 1000,
         "joe+x@example.com", "joe2+x@example.net", 0, NULL},
        {"inline:{joe@example.com=joe2@example.net, @example.com=catch@example.net}", 1000, 1000,
         "bob@example.com", "catch@example.net", 0, NULL},
        {"inline:{joe=local-joe@example.net}", 1000, 1000, "joe@localhost", "local-joe@example.net", 0, NULL},
        {"inline:{joe=local-joe@example.net}", 1000, 1000, "joe@remote.example", "joe@remote.example", 0,
         NULL},
        {"inline:{@v.test=@w.test}", 1000, 1000, "u@v.test", "u@w.test", 0, NULL},
        /* Loops and limits. */
        {"inline:{a@v=b@v, b@v=a@v}", 1000, 1000, "a@v", "a@v", CLEANUP_STAT_DEFER,
         "warning: QID: unreasonable virtual_alias_maps map nesting for a@v -- message not accepted, try "
         "again "
         "later"},
        {"inline:{a@v=b@v, b@v=c@v, c@v=d@v}", 1000, 2, "a@v", "c@v", CLEANUP_STAT_DEFER,
         "unreasonable virtual_alias_maps map nesting for a@v"},
        {"inline:{a@v=b@v, b@v=c@v, c@v=d@v}", 1000, 3, "a@v", "d@v", CLEANUP_STAT_DEFER, "map nesting"},
        {"inline:{a@v=b@v, b@v=c@v, c@v=d@v}", 1000, 4, "a@v", "d@v", 0, NULL},
        {"inline:{{a@v=b@v, c@v, d@v}}", 2, 1000, "a@v", "b@v|c@v|d@v", CLEANUP_STAT_DEFER,
         "warning: QID: unreasonable virtual_alias_maps map expansion size for a@v -- message not accepted, "
         "try "
         "again later"},
        {"inline:{{a@v=b@v, c@v, d@v}}", 3, 1000, "a@v", "b@v|c@v|d@v", 0, NULL},
        {"fail:x", 1000, 1000, "a@v", "a@v", CLEANUP_STAT_DEFER,
         "warning: QID: virtual_alias_maps map lookup problem for a@v -- message not accepted, try again "
         "later"},
    };
    VSTRING *got = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        MAPS *maps = maps_create("virtual_alias_maps", cases[i].maps, DICT_FLAG_DEFAULT);
        CLEANUP_STATE *st = state_new();
        ARGV *argv;

        var_virtual_alias_expansion_limit = cases[i].expansion_limit;
        var_virtual_alias_recursion_limit = cases[i].recursion_limit;
        vstring_reset(logged);
        argv = cleanup_map1n_internal(st, cases[i].in, maps, true);
        vstring_reset(got);
        for (size_t j = 0; j < argv->argc; j++)
            vstring_sprintf_append(got, "%s%s", j ? "|" : "", argv->argv[j]);
        if (strcmp(vstring_str(got), cases[i].want) != 0 || st->errs != cases[i].errs)
            fail_msg("case %zu %s: got '%s' errs %u, want '%s' %u", i, cases[i].in, vstring_str(got),
                     st->errs, cases[i].want, cases[i].errs);
        if (cases[i].log ? strstr(vstring_str(logged), cases[i].log) == NULL : VSTRING_LEN(logged) > 0)
            fail_msg("case %zu: log '%s'", i, vstring_str(logged));
        argv_free(argv);
        state_free(st);
        maps_free(maps);
    }
    var_virtual_alias_expansion_limit = 1000;
    var_virtual_alias_recursion_limit = 1000;
    vstring_free(got);
}

static void test_classes(void **state UNUSED)
{
    assert_int_equal(cleanup_addr_classes("x", "envelope_sender, header_sender"),
                     CLEANUP_ADDR_ENV_FROM | CLEANUP_ADDR_HDR_FROM);
    assert_int_equal(cleanup_addr_classes("x", "envelope_recipient,header_recipient"),
                     CLEANUP_ADDR_ENV_RCPT | CLEANUP_ADDR_HDR_RCPT);
    assert_int_equal(cleanup_addr_classes("x", ""), 0);
    assert_int_equal(cleanup_masq_flags,
                     CLEANUP_ADDR_ENV_FROM | CLEANUP_ADDR_HDR_FROM | CLEANUP_ADDR_HDR_RCPT);
    assert_int_equal(cleanup_comm_canon_flags, 15);
}

/* Header rewriting: context, classes, canonical, masquerading, layout. */
static void test_rewrite_header(void **state UNUSED)
{
    static const struct {
        const char *context;
        const char *remote_domain;
        int class_;
        const char *in;
        const char *want;
    } cases[] = {
        {"local", "", CLEANUP_CLASS_RECIPIENT, "To: bob", "To: bob@mail.example.com"},
        {"local", "", CLEANUP_CLASS_RECIPIENT, "To: a, Joe Q <joe> (home), c@x.org",
         "To: a@mail.example.com, Joe Q <joe@mail.example.com>(home), c@x.org"},
        {"local", "", CLEANUP_CLASS_RECIPIENT, "To:  c@x.org,d@y.org", "To:  c@x.org,d@y.org"},
        {"local", "", CLEANUP_CLASS_RECIPIENT, "To: undisclosed-recipients:;",
         "To: undisclosed-recipients:;"},
        {"local", "", CLEANUP_CLASS_RECIPIENT, "Cc: friends: a, b@x;",
         "Cc: friends:a@mail.example.com, b@x;"},
        {"local", "", CLEANUP_CLASS_RECIPIENT, "To: \"Smith, J\" <\"j s\">",
         "To: \"Smith, J\" <\"j s\"@mail.example.com>"},
        {"local", "", CLEANUP_CLASS_SENDER, "From: host!user", "From: user@host"},
        /* Canonical (header classes) and masquerading (header classes). */
        {"local", "", CLEANUP_CLASS_SENDER, "From: Alice <alice>", "From: Alice <a.smith@example.com>"},
        {"local", "", CLEANUP_CLASS_SENDER, "From: u@a.b.example.com", "From: u@example.com"},
        {"local", "", CLEANUP_CLASS_RECIPIENT, "To: u@a.b.example.com", "To: u@example.com"},
        /* Remote context: untouched unless remote_header_rewrite_domain is set. */
        {"remote", "", CLEANUP_CLASS_RECIPIENT, "To: bob, u@a.b.example.com", "To: bob, u@a.b.example.com"},
        {"remote", "hdr.example", CLEANUP_CLASS_RECIPIENT, "To: bob", "To: bob@hdr.example"},
        {"local", "", CLEANUP_CLASS_RECIPIENT, "To: no address here:", "To: no address here:"},
    };
    VSTRING *header = vstring_alloc(100);

    var_canonical_maps = "inline:{alice@mail.example.com=a.smith@example.com}";
    var_masquerade_domains = "!mail.example.com, example.com";
    cleanup_addr_init();
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        CLEANUP_STATE *st = state_new();

        st->rewrite_context = cases[i].context;
        var_remote_header_rewrite_domain = (char *)cases[i].remote_domain;
        vstring_strcpy(header, cases[i].in);
        cleanup_rewrite_header(st, header, cases[i].class_);
        if (strcmp(vstring_str(header), cases[i].want) != 0)
            fail_msg("case %zu: '%s' -> '%s', want '%s'", i, cases[i].in, vstring_str(header), cases[i].want);
        state_free(st);
    }
    /* Without CLEANUP_FLAG_MAP_OK only the standard form applies. */
    {
        CLEANUP_STATE *st = state_new();

        st->flags = 0;
        vstring_strcpy(header, "From: alice, u@a.example.com");
        cleanup_rewrite_header(st, header, CLEANUP_CLASS_SENDER);
        assert_string_equal(vstring_str(header), "From: alice@mail.example.com, u@a.example.com");
        state_free(st);
    }
    var_remote_header_rewrite_domain = "";
    var_canonical_maps = "";
    var_masquerade_domains = "";
    cleanup_addr_init();
    vstring_free(header);
}

/* sendmail -t: addresses of To/Cc/Bcc values, Resent- marking. */
static void test_extract_header(void **state UNUSED)
{
    static const struct {
        const char *value;
        const char *want; /* "|"-separated, R: marks Resent- */
    } cases[] = {
        {"a@x.test", "a@x.test"},
        {"Joe <j@x>, k (Kay), \"l m\"@y", "j@x|k|l m@y"},
        {"undisclosed-recipients:;", ""},
        {"To: a@x", "a@x"},
        {"Resent-To: a@x, b", "R:a@x|R:b"},
        {"resent-cc : c", "R:c"},
        {"Resent-Bcc:", ""},
        {"<>", ""},
    };
    VSTRING *got = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        CLEANUP_STATE *st = state_new();

        cleanup_extract_header(st, cases[i].value);
        vstring_reset(got);
        for (size_t j = 0; st->extracted && j < st->extracted->argc; j++) {
            const char *addr = st->extracted->argv[j];

            vstring_sprintf_append(got, "%s%s%s", j ? "|" : "", *addr == CLEANUP_EXTRACT_RESENT ? "R:" : "",
                                   addr + (*addr == CLEANUP_EXTRACT_RESENT));
        }
        if (strcmp(vstring_str(got), cases[i].want) != 0)
            fail_msg("case %zu: '%s' -> '%s', want '%s'", i, cases[i].value, vstring_str(got), cases[i].want);
        if (st->extracted)
            argv_free(st->extracted);
        state_free(st);
    }
    vstring_free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_masquerade),     cmocka_unit_test(test_map11),
        cmocka_unit_test(test_map1n),          cmocka_unit_test(test_classes),
        cmocka_unit_test(test_rewrite_header), cmocka_unit_test(test_extract_header),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
