/*
 * smtp_addr_test - next-hop parsing, MX ordering and shuffling, and
 * "loops back to myself" pruning of the smtp(8) address module.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "mail_params.h"
#include "smtp.h"
#include "vstring.h"

/* Next-hop syntax, SMTP and LMTP. */
static void test_dest_parse(void **unused)
{
    static const struct {
        const char *text;
        bool lmtp;
        const char *def_port;
        const char *err; /* NULL: ok */
        int kind;
        const char *name;
        unsigned port;
    } cases[] = {
        {"example.com", false, "smtp", NULL, SMTP_DEST_DOMAIN, "example.com", 25},
        {"example.com:2525", false, "smtp", NULL, SMTP_DEST_DOMAIN, "example.com", 2525},
        {"[mx.example.com]", false, "smtp", NULL, SMTP_DEST_HOST, "mx.example.com", 25},
        {"[mx.example.com]:submission", false, "smtp", NULL, SMTP_DEST_HOST, "mx.example.com", 587},
        {"[192.0.2.1]", false, "25", NULL, SMTP_DEST_ADDR, "192.0.2.1", 25},
        {"[192.0.2.1]:10024", false, "smtp", NULL, SMTP_DEST_ADDR, "192.0.2.1", 10024},
        {"[ipv6:2001:db8::1]:26", false, "smtp", NULL, SMTP_DEST_ADDR, "2001:db8::1", 26},
        {"[2001:db8::1]", false, "smtp", NULL, SMTP_DEST_ADDR, "2001:db8::1", 25},
        {"192.0.2.7", false, "smtp", NULL, SMTP_DEST_ADDR, "192.0.2.7", 25},
        {"host.test", true, "24", NULL, SMTP_DEST_HOST, "host.test", 24},
        {"inet:host.test:2424", true, "24", NULL, SMTP_DEST_HOST, "host.test", 2424},
        {"inet:127.0.0.1:2424", true, "24", NULL, SMTP_DEST_ADDR, "127.0.0.1", 2424},
        {"unix:/var/imap/socket/lmtp", true, "24", NULL, SMTP_DEST_UNIX, "/var/imap/socket/lmtp", 0},
        {"unix:/x", false, "smtp", "unknown service: /x/tcp", 0, NULL, 0},
        {"[host", false, "smtp", "malformed destination: [host", 0, NULL, 0},
        {"[ipv6:nonsense]", false, "smtp", "malformed address in destination: [ipv6:nonsense]", 0, NULL, 0},
        {"host:nosuchservice", false, "smtp", "unknown service: nosuchservice/tcp", 0, NULL, 0},
        {"host:70000", false, "smtp", "unknown service: 70000/tcp", 0, NULL, 0},
        {"[]", false, "smtp", "empty host name in destination: []", 0, NULL, 0},
    };

    (void)unused;
    var_known_tcp_ports = "lmtp=24, smtp=25, smtps=submissions=465, submission=587";
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        SMTP_DEST dest;
        const char *err = smtp_dest_parse(&dest, cases[i].text, cases[i].def_port, cases[i].lmtp);

        if (cases[i].err) {
            assert_non_null(err);
            assert_string_equal(err, cases[i].err);
            continue;
        }
        assert_null(err);
        assert_int_equal(dest.kind, cases[i].kind);
        assert_string_equal(dest.name, cases[i].name);
        assert_int_equal(dest.port, cases[i].port);
        smtp_dest_free(&dest);
    }
}

/* A deterministic random source for the shuffle. */
static unsigned lcg_state;
static unsigned lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return lcg_state >> 16;
}

/* Join the list's hosts with spaces. */
static const char *hosts(VSTRING *buf, const SMTP_ADDR_LIST *list)
{
    vstring_reset(buf);
    for (int i = 0; i < list->len; i++)
        vstring_sprintf_append(buf, "%s%s", i ? " " : "", list->info[i].host);
    return vstring_str(buf);
}

/* Preference order; equal preferences shuffled about evenly. */
static void test_sort(void **unused)
{
    VSTRING *buf = vstring_alloc(100);
    SMTP_ADDR_LIST list;
    int a_first = 0;

    (void)unused;
    smtp_addr_list_init(&list);
    smtp_addr_list_add(&list, "c", "192.0.2.3", 20);
    smtp_addr_list_add(&list, "a", "192.0.2.1", 10);
    smtp_addr_list_add(&list, "z", "192.0.2.9", 30);
    smtp_addr_list_add(&list, "b", "192.0.2.2", 10);
    smtp_addr_sort(&list, false, NULL);
    assert_string_equal(hosts(buf, &list), "a b c z");

    lcg_state = 42;
    for (int round = 0; round < 1000; round++) {
        smtp_addr_sort(&list, true, lcg);
        const char *h = hosts(buf, &list);

        assert_true(strcmp(h, "a b c z") == 0 || strcmp(h, "b a c z") == 0);
        if (list.info[0].host[0] == 'a')
            a_first++;
    }
    assert_in_range(a_first, 400, 600);
    smtp_addr_list_free(&list);
    vstring_free(buf);
}

/* 127.0.0.1 plays this host. */
static bool is_own(const char *addr)
{
    return strcmp(addr, "127.0.0.1") == 0;
}

/* Pruning of own addresses and everything not better. */
static void test_prune(void **unused)
{
    VSTRING *buf = vstring_alloc(100);
    SMTP_ADDR_LIST list;

    (void)unused;
    /* Other (10), self (20), third (30): only other remains. */
    smtp_addr_list_init(&list);
    list.best_pref = 10;
    smtp_addr_list_add(&list, "other", "192.0.2.1", 10);
    smtp_addr_list_add(&list, "self", "127.0.0.1", 20);
    smtp_addr_list_add(&list, "third", "192.0.2.3", 30);
    assert_int_equal(smtp_addr_prune_self(&list, is_own), 20);
    assert_string_equal(hosts(buf, &list), "other");
    assert_true(list.i_am_mx);
    smtp_addr_list_free(&list);

    /* A backup of equal preference goes too. */
    smtp_addr_list_init(&list);
    smtp_addr_list_add(&list, "self", "127.0.0.1", 10);
    smtp_addr_list_add(&list, "peer", "192.0.2.2", 10);
    assert_int_equal(smtp_addr_prune_self(&list, is_own), 10);
    assert_int_equal(list.len, 0);
    smtp_addr_list_free(&list);

    /* No own address: nothing changes. */
    smtp_addr_list_init(&list);
    smtp_addr_list_add(&list, "a", "192.0.2.1", 10);
    smtp_addr_list_add(&list, "b", "192.0.2.2", 20);
    assert_int_equal(smtp_addr_prune_self(&list, is_own), -1);
    assert_string_equal(hosts(buf, &list), "a b");
    assert_false(list.i_am_mx);
    smtp_addr_list_free(&list);
    vstring_free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dest_parse),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_prune),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
