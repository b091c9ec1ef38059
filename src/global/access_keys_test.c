/*
 * access_keys_test - unit tests for access-map key lists: host names,
 * IPv4 and IPv6 addresses and e-mail addresses in both parent modes (the
 * orders Postfix 3.7's smtpd logs), and the lookup parts of acceptance
 * checks T36 and T37 done the way smtpd will do them.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "access_keys.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

/* Table warnings are expected here; drop them. */
static void quiet(enum msg_level level UNUSED, const char *text UNUSED)
{
}

static int setup(void **state UNUSED)
{
    msg_output_reset();
    msg_output(quiet);
    var_recipient_delimiter = "+";
    var_double_bounce_sender = "double-bounce";
    var_smtpd_null_access_lookup_key = "<>";
    var_parent_domain_matches_subdomains = "debug_peer_list,fast_flush_domains,mynetworks,"
                                           "permit_mx_backup_networks,qmqpd_authorized_clients,"
                                           "relay_domains,smtpd_access_maps";
    dict_allow_surrogate = 1;
    return 0;
}

/* keys joined with '|' (a new string). */
static char *joined(const ARGV *keys)
{
    VSTRING *buf = vstring_alloc(100);

    for (size_t i = 0; i < keys->argc; i++) {
        if (i)
            vstring_addch(buf, '|');
        vstring_strcat(buf, keys->argv[i]);
    }
    return vstring_export(buf);
}

/* Compare a key list with the expected one and free it. */
static void check_keys(size_t i, const char *what, ARGV *keys, const char *want)
{
    char *got = joined(keys);

    if (strcmp(got, want) != 0)
        fail_msg("case %zu: %s:\n got  %s\n want %s", i, what, got, want);
    myfree(got);
    argv_free(keys);
}

enum kind { HOST, DOMAIN, ADDR, MAIL };

/* Every generator, both parent modes. */
static void test_keys(void **state UNUSED)
{
    static const struct {
        enum kind kind;
        bool parent;
        const char *input;
        const char *keys;
        size_t full; /* MAIL only */
    } cases[] = {
        {HOST, true, "mail.sub.example.com", "mail.sub.example.com|sub.example.com|example.com|com", 0},
        {HOST, false, "a.b.example.com", "a.b.example.com|.b.example.com|.example.com|.com", 0},
        {HOST, true, "a.b.example.com.", "a.b.example.com.|b.example.com.|example.com.|com.", 0},
        {HOST, false, "a.b.example.com.", "a.b.example.com.|.b.example.com.|.example.com.|.com.|.", 0},
        {HOST, true, "Mail.Example.COM", "Mail.Example.COM|Example.COM|COM", 0},
        {HOST, true, "unknown", "unknown", 0},
        {HOST, true, "", "", 0},
        {HOST, true, "10.1.2.3", "10.1.2.3", 0},
        {HOST, false, "2001:db8::1", "2001:db8::1", 0},
        {HOST, true, "[1.2.3.4]", "[1.2.3.4]|2.3.4]|3.4]|4]", 0},
        {HOST, false, ".example.com", ".example.com|.com", 0},
        {HOST, true, ".example.com", ".example.com|com", 0},
        {DOMAIN, true, "sub.example.com", "sub.example.com|example.com|com", 0},
        {DOMAIN, false, "sub.example.com", "sub.example.com|.example.com|.com", 0},
        {DOMAIN, false, "1.2.3.4", "1.2.3.4|.2.3.4|.3.4|.4", 0},
        {DOMAIN, false, "com", "com", 0},
        {ADDR, false, "10.157.3.4", "10.157.3.4|10.157.3|10.157|10", 0},
        {ADDR, false, "127.0.0.1", "127.0.0.1|127.0.0|127.0|127", 0},
        {ADDR, false, "2001:db8:1:2::5",
         "2001:db8:1:2::5|2001:db8:1:2:|2001:db8:1:2|2001:db8:1|2001:db8|2001", 0},
        {ADDR, false, "2001:DB8:1:2:0:0:0:5",
         "2001:db8:1:2::5|2001:db8:1:2:|2001:db8:1:2|2001:db8:1|2001:db8|2001", 0},
        {ADDR, false, "2001:db8:1:2:3:4:5:6",
         "2001:db8:1:2:3:4:5:6|2001:db8:1:2:3:4:5|2001:db8:1:2:3:4|2001:db8:1:2:3|2001:db8:1:2|2001:db8:1|"
         "2001:db8|2001",
         0},
        {ADDR, false, "::1", "::1|:", 0},
        {ADDR, false, "fe80::", "fe80::|fe80:|fe80", 0},
        {MAIL, true, "a@b.c", "a@b.c|b.c|c|a@", 1},
        {MAIL, true, "Joe-X-Y@Sub.Example.COM",
         "Joe-X-Y@Sub.Example.COM|Sub.Example.COM|Example.COM|COM|Joe-X-Y@", 1},
        {MAIL, true, "joe+x@sub.example.com",
         "joe+x@sub.example.com|joe@sub.example.com|sub.example.com|example.com|com|joe+x@|joe@", 1},
        {MAIL, false, "a+b@x.sub.example.com",
         "a+b@x.sub.example.com|a@x.sub.example.com|x.sub.example.com|.sub.example.com|.example.com|.com|"
         "a+b@|a@",
         1},
        {MAIL, true, "joe+x@[1.2.3.4]", "joe+x@[1.2.3.4]|joe@[1.2.3.4]|[1.2.3.4]|2.3.4]|3.4]|4]|joe+x@|joe@",
         1},
        {MAIL, true, "postmaster+x@example.com",
         "postmaster+x@example.com|postmaster@example.com|example.com|com|postmaster+x@|postmaster@", 1},
        {MAIL, false, "\"joe smith+x\"@example.com",
         "\"joe smith+x\"@example.com|joe smith+x@example.com|\"joe smith\"@example.com|"
         "joe smith@example.com|example.com|.com|\"joe smith+x\"@|joe smith+x@|\"joe smith\"@|joe smith@",
         2},
        {MAIL, true, "", "<>", 1},
        {MAIL, true, "joe+x", "joe+x|joe", 1},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ARGV *keys = NULL;
        size_t full = 99;

        switch (cases[i].kind) {
        case HOST:
            keys = access_keys_host(cases[i].input, cases[i].parent);
            break;
        case DOMAIN:
            keys = access_keys_domain(cases[i].input, cases[i].parent);
            break;
        case ADDR:
            keys = access_keys_addr(cases[i].input);
            break;
        case MAIL:
            keys = access_keys_mail(cases[i].input, cases[i].parent, &full);
            if (full != cases[i].full)
                fail_msg("case %zu: %s: %zu full keys, want %zu", i, cases[i].input, full, cases[i].full);
            break;
        }
        check_keys(i, cases[i].input, keys, cases[i].keys);
    }

    /* The null sender key is a parameter; full_keys may be NULL. */
    var_smtpd_null_access_lookup_key = "<null>";
    check_keys(0, "null", access_keys_mail("", true, NULL), "<null>");
    var_smtpd_null_access_lookup_key = "<>";
}

/* Parent mode per parameter name. */
static void test_parent_mode(void **state UNUSED)
{
    assert_true(access_keys_parent_mode("smtpd_access_maps"));
    assert_true(access_keys_parent_mode("relay_domains"));
    assert_false(access_keys_parent_mode("transport_maps"));
    assert_false(access_keys_parent_mode("mydestination"));
    var_parent_domain_matches_subdomains = "transport_maps";
    assert_true(access_keys_parent_mode("transport_maps"));
    assert_false(access_keys_parent_mode("smtpd_access_maps"));
    setup(NULL);
}

/* The first answer for the keys, as smtpd will search: full keys to all tables. */
static char *search(MAPS *maps, ARGV *keys, size_t full)
{
    const char *value = NULL;
    char *result;

    for (size_t i = 0; i < keys->argc && value == NULL && maps->error == DICT_ERR_NONE; i++)
        value = maps_find(maps, keys->argv[i], i < full ? 0 : DICT_FLAG_FIXED);
    result = mystrdup(value ? value : maps->error ? "!" : "-");
    argv_free(keys);
    return result;
}

/* T36 and T37: the table answers smtpd will get. */
static void test_access_lookups(void **state UNUSED)
{
    static const char c36[] = "inline:{10.157=REJECT, 192.168.76.23=REJECT, currentmail.com=REJECT}";
    static const char c36b[] = "inline:{10.157=REJECT, 192.168.76.23=REJECT, currentmail.com=REJECT, "
                               "mail.currentmail.com=DUNNO}";
    static const char s37[] = "inline:{marketing@=REJECT, example.com=REJECT, <>=REJECT}";
    static const char pat[] = "inline:{u@=fixed}";
    static const struct {
        const char *maps;
        enum kind kind;
        bool parent;
        const char *input;
        const char *want;
    } cases[] = {
        {c36, ADDR, true, "10.157.3.4", "REJECT"},
        {c36, ADDR, true, "192.168.76.23", "REJECT"},
        {c36, ADDR, true, "192.168.76.24", "-"},
        {c36, HOST, true, "mail.currentmail.com", "REJECT"},
        {c36, HOST, false, "mail.currentmail.com", "-"},
        {c36b, HOST, true, "mail.currentmail.com", "DUNNO"},
        {c36, HOST, true, "unknown", "-"},
        {s37, MAIL, true, "marketing@any.org", "REJECT"},
        {s37, MAIL, true, "u@sub.example.com", "REJECT"},
        {s37, MAIL, false, "u@sub.example.com", "-"},
        {s37, MAIL, false, "u@example.com", "REJECT"},
        {s37, MAIL, true, "", "REJECT"},
        {s37, MAIL, true, "other@example.org", "-"},
        {"fail:x, inline:{10=OK}", ADDR, true, "10.1.2.3", "!"},
        {pat, MAIL, true, "u@example.com", "fixed"},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        MAPS *maps = maps_create("smtpd_access_maps", cases[i].maps, DICT_FLAG_DEFAULT);
        size_t full = 1;
        ARGV *keys;
        char *got;

        switch (cases[i].kind) {
        case ADDR:
            keys = access_keys_addr(cases[i].input);
            break;
        case HOST:
            keys = access_keys_host(cases[i].input, cases[i].parent);
            break;
        case MAIL:
            keys = access_keys_mail(cases[i].input, cases[i].parent, &full);
            break;
        default:
            keys = access_keys_domain(cases[i].input, cases[i].parent);
            break;
        }
        got = search(maps, keys, full);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: %s in %s: got %s, want %s", i, cases[i].input, cases[i].maps, got,
                     cases[i].want);
        myfree(got);
        maps_free(maps);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_parent_mode),
        cmocka_unit_test(test_access_lookups),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
