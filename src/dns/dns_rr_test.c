/*
 * dns_rr_test - unit tests for record lists (append, stable sort,
 * shuffle), printable addresses, reverse names and the type/status
 * names.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dns.h"
#include "dns_int.h"
#include "mymalloc.h"
#include "vstring.h"

/* mx - one MX record */
static DNS_RR *mx(unsigned pref, const char *host)
{
    DNS_RR *rr = dns_rr_create("d.test", "d.test", T_MX, C_IN, 60, host, strlen(host));

    rr->pref = (unsigned short)pref;
    return rr;
}

/* hosts - the list as "pref:host " */
static char *hosts(const DNS_RR *list)
{
    VSTRING *out = vstring_alloc(100);

    for (; list != NULL; list = list->next)
        vstring_sprintf_append(out, "%u:%s ", list->pref, list->data);
    return vstring_export(out);
}

static void test_append_sort(void **state UNUSED)
{
    DNS_RR *list = NULL;
    char *got;

    list = dns_rr_append(list, mx(20, "b"));
    list = dns_rr_append(list, mx(10, "a"));
    list = dns_rr_append(list, dns_rr_append(mx(20, "c"), mx(5, "z")));
    list = dns_rr_append(list, mx(10, "d"));
    got = hosts(list);
    assert_string_equal(got, "20:b 10:a 20:c 5:z 10:d ");
    myfree(got);
    list = dns_rr_sort(list, dns_rr_compare_pref);
    got = hosts(list);
    assert_string_equal(got, "5:z 10:a 10:d 20:b 20:c "); /* stable */
    myfree(got);
    dns_rr_free(list);
    assert_null(dns_rr_sort(NULL, dns_rr_compare_pref));
    dns_rr_free(NULL);
}

/* Shuffling keeps every record once; all orders of three show up. */
static void test_shuffle(void **state UNUSED)
{
    DNS_RR *list = dns_rr_append(mx(1, "a"), dns_rr_append(mx(2, "b"), mx(3, "c")));
    bool seen[6] = {false};
    static const char *const orders[] = {"1:a 2:b 3:c ", "1:a 3:c 2:b ", "2:b 1:a 3:c ",
                                         "2:b 3:c 1:a ", "3:c 1:a 2:b ", "3:c 2:b 1:a "};

    for (int round = 0; round < 600; round++) {
        char *got;
        size_t i;

        list = dns_rr_shuffle(list);
        got = hosts(list);
        for (i = 0; i < ARRAY_LEN(orders) && strcmp(got, orders[i]) != 0; i++)
            /* void */;
        if (i == ARRAY_LEN(orders))
            fail_msg("not a permutation: %s", got);
        seen[i] = true;
        myfree(got);
    }
    for (size_t i = 0; i < ARRAY_LEN(seen); i++)
        assert_true(seen[i]);
    dns_rr_free(list);
    assert_null(dns_rr_shuffle(NULL));
}

static void test_to_pa(void **state UNUSED)
{
    static const unsigned char v4[4] = {192, 0, 2, 1};
    static const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    DNS_RR *a = dns_rr_create("x", "x", T_A, C_IN, 1, v4, 4);
    DNS_RR *aaaa = dns_rr_create("x", "x", T_AAAA, C_IN, 1, v6, 16);
    DNS_RR *bad = dns_rr_create("x", "x", T_A, C_IN, 1, v6, 16);
    DNS_RR *m = mx(1, "a");
    DNS_ADDR_STR buf;

    assert_string_equal(dns_rr_to_pa(a, &buf), "192.0.2.1");
    assert_string_equal(dns_rr_to_pa(aaaa, &buf), "2001:db8::1");
    assert_null(dns_rr_to_pa(bad, &buf));
    assert_null(dns_rr_to_pa(m, &buf));
    assert_int_equal(m->data_len, 1);
    assert_int_equal(m->data[1], 0);
    dns_rr_free(a);
    dns_rr_free(aaaa);
    dns_rr_free(bad);
    dns_rr_free(m);
}

static void test_reverse_name(void **state UNUSED)
{
    static const struct {
        const char *addr;
        const char *want; /* NULL: malformed */
    } cases[] = {
        {"192.0.2.10", "10.2.0.192"},
        {"127.0.0.2", "2.0.0.127"},
        {"2001:db8::10", "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"},
        {"::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"},
        {"::ffff:192.0.2.1", "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"},
        {"1.2.3", NULL},
        {"256.0.0.1", NULL},
        {"", NULL},
        {"2001:db8:::1", NULL},
        {"host.test", NULL},
    };
    VSTRING *buf = vstring_alloc(10);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *got = dns_reverse_name(cases[i].addr, buf);

        if (cases[i].want == NULL ? got != NULL : (got == NULL || strcmp(got, cases[i].want) != 0))
            fail_msg("case %zu (%s): got %s", i, cases[i].addr, got ? got : "NULL");
    }
    vstring_free(buf);
}

static void test_names(void **state UNUSED)
{
    static const struct {
        unsigned type;
        const char *name;
    } types[] = {
        {T_A, "A"},     {T_AAAA, "AAAA"},   {T_MX, "MX"},     {T_NS, "NS"},   {T_TXT, "TXT"},
        {T_PTR, "PTR"}, {T_CNAME, "CNAME"}, {T_TLSA, "TLSA"}, {T_SRV, "SRV"}, {T_SOA, "SOA"},
    };

    for (size_t i = 0; i < ARRAY_LEN(types); i++) {
        assert_string_equal(dns_strtype(types[i].type), types[i].name);
        assert_int_equal(dns_type(types[i].name), types[i].type);
    }
    assert_int_equal(dns_type("mx"), T_MX);
    assert_int_equal(dns_type("BOGUS"), 0);
    assert_string_equal(dns_strtype(4321), "TYPE4321");
    assert_string_equal(dns_strstatus(DNS_OK), "DNS_OK");
    assert_string_equal(dns_strstatus(DNS_NOTFOUND), "DNS_NOTFOUND");
    assert_string_equal(dns_strstatus(DNS_FAIL), "DNS_FAIL");
    assert_string_equal(dns_strstatus(DNS_RETRY), "DNS_RETRY");
    assert_string_equal(dns_strstatus(DNS_INVAL), "DNS_INVAL");
    assert_string_equal(dns_strstatus(DNS_NULLMX), "DNS_NULLMX");
    assert_string_equal(dns_strstatus(99), "DNS_UNKNOWN");
}

/* A name that cannot be a query fails before any network traffic. */
static void test_lookup_invalid_name(void **state UNUSED)
{
    VSTRING *why = vstring_alloc(10);
    DNS_RR *list = (DNS_RR *)1;

    assert_int_equal(dns_lookup("a..test", T_A, 0, &list, NULL, why), DNS_INVAL);
    assert_null(list);
    assert_string_equal(vstring_str(why), "Name service error for a..test: invalid host or domain name");
    assert_int_equal(dns_lookup_l("", 0, &list, NULL, why, T_A, T_AAAA, 0), DNS_INVAL);
    assert_null(list);
    assert_int_equal(dns_addr_to_name("not-an-address", why), DNS_FAIL);
    assert_int_equal(dns_name_has_addr("a.test", "not-an-address"), DNS_FAIL);
    vstring_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_sort), cmocka_unit_test(test_shuffle),
        cmocka_unit_test(test_to_pa),       cmocka_unit_test(test_reverse_name),
        cmocka_unit_test(test_names),       cmocka_unit_test(test_lookup_invalid_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
