/*
 * dns_parse_test - unit tests for dns_parse_answer(): replies captured
 * from BIND (compressed names, CNAME chains, null MX, NXDOMAIN, NODATA)
 * and hand-built malformed ones (truncation, pointer loops, bad lengths),
 * which must give DNS_INVAL and never crash; every prefix and many
 * single-byte mutations of the captured replies are parsed as well.
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

/* Replies from named for the zones of tests/e2e/test_dns.py. */
#define BIND_A                                                                                               \
    "12348400000100010001000103777777076578616d706c6504746573740000010001c00c000100010000012c0004c0000201c0" \
    "100"                                                                                                    \
    "00200010000012c0005026e73c010c03e000100010000012c00047f000001"
#define BIND_AAAA                                                                                            \
    "12348400000100010001000103777777076578616d706c65047465737400001c0001c00c001c00010000012c001020010db800" \
    "000"                                                                                                    \
    "0000000000000000001c010000200010000012c0005026e73c010c04a000100010000012c00047f000001"
#define BIND_MX                                                                                              \
    "123484000001000200010001026d78076578616d706c65047465737400000f0001c00c000f00010000012c000a0014056d6169" \
    "6c3"                                                                                                    \
    "2c00fc00c000f00010000012c0009000a046d61696cc00fc00f000200010000012c0005026e73c00fc058000100010000012c0" \
    "004"                                                                                                    \
    "7f000001"
#define BIND_TXT                                                                                             \
    "12348400000100010001000103747874076578616d706c6504746573740000100001c00c001000010000012c000d0668656c6c" \
    "6f2"                                                                                                    \
    "005776f726c64c010000200010000012c0005026e73c010c047000100010000012c00047f000001"
#define BIND_CNAME_CHAIN                                                                                     \
    "12348400000100030001000105616c696173076578616d706c6504746573740000010001c00c000500010000012c000906616c" \
    "696"                                                                                                    \
    "17332c012c030000500010000012c000603777777c012c045000100010000012c0004c0000201c012000200010000012c00050" \
    "26e"                                                                                                    \
    "73c012c067000100010000012c00047f000001"
#define BIND_NULLMX                                                                                          \
    "123484000001000100010001066e756c6c6d78076578616d706c65047465737400000f0001c00c000f00010000012c00030000" \
    "00c"                                                                                                    \
    "013000200010000012c0005026e73c013c040000100010000012c00047f000001"
#define BIND_NXDOMAIN                                                                                        \
    "123484030001000000010000026e78076578616d706c6504746573740000010001c00f000600010000012c0026026e73c00f0a" \
    "686"                                                                                                    \
    "f73746d6173746572c00f0000000100000e1000000258000151800000012c"
#define BIND_NODATA                                                                                          \
    "12348400000100000001000003777777076578616d706c65047465737400000f0001c010000600010000012c0026026e73c010" \
    "0a6"                                                                                                    \
    "86f73746d6173746572c0100000000100000e1000000258000151800000012c"
#define BIND_PTR                                                                                             \
    "123484000001000100010001023130013201300331393207696e2d61646472046172706100000c0001c00c000c00010000012c" \
    "001"                                                                                                    \
    "304686f7374076578616d706c65047465737400c00f000200010000012c0005026e73c00fc054000100010000012c00047f000" \
    "001"
/* SERVFAIL with a CNAME loop; LOOP_NOERROR is the same with rcode 0. */
#define BIND_LOOP                                                                                            \
    "123484020001000200000000056c6f6f7031076578616d706c6504746573740000010001c00c000500010000012c0008056c6f" \
    "6f7"                                                                                                    \
    "032c012c030000500010000012c0002c00c"
#define LOOP_NOERROR                                                                                         \
    "123484000001000200000000056c6f6f7031076578616d706c6504746573740000010001c00c000500010000012c0008056c6f" \
    "6f7"                                                                                                    \
    "032c012c030000500010000012c0002c00c"
/* The A reply with the AD bit set. */
#define BIND_A_AD                                                                                            \
    "12348420000100010001000103777777076578616d706c6504746573740000010001c00c000100010000012c0004c0000201c0" \
    "100"                                                                                                    \
    "00200010000012c0005026e73c010c03e000100010000012c00047f000001"

/* Hand-built: header (QR RD RA, one question), question a.test A IN. */
#define H1 "123481800001000100000000"
#define Q  "016104746573740000010001"

/* bytes_from_hex - decode hex into buf; returns the length */
static size_t bytes_from_hex(const char *hex, unsigned char *buf, size_t size)
{
    size_t n = 0;

    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;

        assert_true(n < size);
        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        buf[n++] = (unsigned char)v;
    }
    return n;
}

/* summary - the records as "TYPE rname ttl data[ ad]|..." */
static char *summary(const DNS_RR *list)
{
    VSTRING *out = vstring_alloc(100);
    DNS_ADDR_STR pa;

    for (; list != NULL; list = list->next) {
        vstring_sprintf_append(out, "%s %s %u ", dns_strtype(list->type), list->rname, list->ttl);
        if (dns_rr_to_pa(list, &pa) != NULL)
            vstring_strcat(out, pa.buf);
        else if (list->type == T_MX)
            vstring_sprintf_append(out, "%u %s", list->pref, list->data);
        else
            vstring_strcat(out, list->data);
        vstring_strcat(out, list->dnssec_valid ? " ad|" : "|");
    }
    return vstring_export(out);
}

static void test_answers(void **state UNUSED)
{
    static const struct {
        const char *hex;
        const char *qname;
        unsigned type;
        unsigned flags;
        int status;
        const char *records;
        const char *fqdn;
    } cases[] = {
        {BIND_A, "www.example.test", T_A, 0, DNS_OK, "A www.example.test 300 192.0.2.1|", "www.example.test"},
        {BIND_A, "WWW.Example.Test.", T_A, 0, DNS_OK, "A www.example.test 300 192.0.2.1|",
         "WWW.Example.Test"},
        {BIND_AAAA, "www.example.test", T_AAAA, 0, DNS_OK, "AAAA www.example.test 300 2001:db8::1|",
         "www.example.test"},
        {BIND_MX, "mx.example.test", T_MX, 0, DNS_OK,
         "MX mx.example.test 300 20 mail2.example.test|MX mx.example.test 300 10 mail.example.test|",
         "mx.example.test"},
        {BIND_TXT, "txt.example.test", T_TXT, 0, DNS_OK, "TXT txt.example.test 300 hello world|",
         "txt.example.test"},
        {BIND_CNAME_CHAIN, "alias.example.test", T_A, 0, DNS_OK, "A www.example.test 300 192.0.2.1|",
         "www.example.test"},
        {BIND_CNAME_CHAIN, "alias.example.test", T_CNAME, 0, DNS_OK,
         "CNAME alias.example.test 300 alias2.example.test|", "alias.example.test"},
        {BIND_NULLMX, "nullmx.example.test", T_MX, 0, DNS_NULLMX, "", "nullmx.example.test"},
        {BIND_NXDOMAIN, "nx.example.test", T_A, 0, DNS_FAIL, "", ""},
        {BIND_NODATA, "www.example.test", T_MX, 0, DNS_NOTFOUND, "", "www.example.test"},
        {BIND_PTR, "10.2.0.192.in-addr.arpa", T_PTR, 0, DNS_OK,
         "PTR 10.2.0.192.in-addr.arpa 300 host.example.test|", "10.2.0.192.in-addr.arpa"},
        {BIND_LOOP, "loop1.example.test", T_A, 0, DNS_RETRY, "", ""},
        {LOOP_NOERROR, "loop1.example.test", T_A, 0, DNS_INVAL, "", ""},
        /* AD counts only when DNSSEC was asked for. */
        {BIND_A_AD, "www.example.test", T_A, DNS_REQ_FLAG_DNSSEC, DNS_OK,
         "A www.example.test 300 192.0.2.1 ad|", "www.example.test"},
        {BIND_A_AD, "www.example.test", T_A, 0, DNS_OK, "A www.example.test 300 192.0.2.1|",
         "www.example.test"},
        {BIND_A, "www.example.test", T_A, DNS_REQ_FLAG_DNSSEC, DNS_OK, "A www.example.test 300 192.0.2.1|",
         "www.example.test"},
        /* A reply that answers another name than asked: no data. */
        {BIND_A, "other.example.test", T_A, 0, DNS_NOTFOUND, "", "other.example.test"},
        /* Hand-built. */
        {H1 Q "c00c000100010000012c0004c0000201", "a.test", T_A, 0, DNS_OK, "A a.test 300 192.0.2.1|",
         "a.test"},
        {H1 Q "c00c00010001ffffffff0004c0000201", "a.test", T_A, 0, DNS_OK, "A a.test 0 192.0.2.1|",
         "a.test"},
        {"123481820001000000000000" Q, "a.test", T_A, 0, DNS_RETRY, "", ""}, /* SERVFAIL */
        {"123481850001000000000000" Q, "a.test", T_A, 0, DNS_RETRY, "", ""}, /* REFUSED */
        {"123481830001000000000000" Q, "a.test", T_A, 0, DNS_FAIL, "", ""},  /* NXDOMAIN */
        {"123401000001000100000000" Q "c00c000100010000012c0004c0000201", "a.test", T_A, 0, DNS_INVAL, "",
         ""},
        {"1234818000010001000000", "a.test", T_A, 0, DNS_INVAL, "", ""}, /* short header */
        {"", "a.test", T_A, 0, DNS_INVAL, "", ""},
        {H1 Q "c00c000100010000012c0005c000020101", "a.test", T_A, 0, DNS_INVAL, "", ""}, /* A rdlen 5 */
        {H1 Q "c00c000100010000012c0003c00002", "a.test", T_A, 0, DNS_INVAL, "", ""},     /* A rdlen 3 */
        {H1 Q "c00c000100010000012c0004c00002", "a.test", T_A, 0, DNS_INVAL, "", ""},     /* truncated */
        {H1 Q "c00c00010001000001", "a.test", T_A, 0, DNS_INVAL, "", ""},                 /* truncated */
        {H1 Q "c018000100010000012c0004c0000201", "a.test", T_A, 0, DNS_INVAL, "", ""},   /* self pointer */
        {H1 Q "c0ff000100010000012c0004c0000201", "a.test", T_A, 0, DNS_INVAL, "", ""},   /* forward */
        {H1 Q "c002000100010000012c0004c0000201", "a.test", T_A, 0, DNS_INVAL, "", ""},   /* into header */
        {H1 Q "c0", "a.test", T_A, 0, DNS_INVAL, "", ""},                                 /* half pointer */
        {H1 Q "4161000100010000012c0004c0000201", "a.test", T_A, 0, DNS_INVAL, "", ""},   /* label type */
        {H1 "3f61047465737400"
            "00010001",
         "a.test", T_A, 0, DNS_INVAL, "", ""}, /* label length */
        {"12348180"
         "0001ffff00000000" Q "c00c000100010000012c0004c0000201",
         "a.test", T_A, 0, DNS_INVAL, "", ""},
        {"12348180"
         "ffff000100000000" Q "c00c000100010000012c0004c0000201",
         "a.test", T_A, 0, DNS_INVAL, "", ""},
        /* MX: too short, name past rdata, root exchange at preference 10. */
        {"123481800001000100000000016104746573740000"
         "0f0001"
         "c00c000f00010000012c0002000a",
         "a.test", T_MX, 0, DNS_INVAL, "", ""},
        {"123481800001000100000000016104746573740000"
         "0f0001"
         "c00c000f00010000012c0003000a01",
         "a.test", T_MX, 0, DNS_INVAL, "", ""},
        {"123481800001000100000000016104746573740000"
         "0f0001"
         "c00c000f00010000012c0003000a00",
         "a.test", T_MX, 0, DNS_NULLMX, "", "a.test"},
        /* PTR: a dot inside a label, a space: skipped, nothing left. */
        {"123481800001000100000000016104746573740000"
         "0c0001"
         "c00c000c00010000012c000503612e6200",
         "a.test", T_PTR, 0, DNS_INVAL, "", ""},
        {"123481800001000100000000016104746573740000"
         "0c0001"
         "c00c000c00010000012c000503612062c00e",
         "a.test", T_PTR, 0, DNS_INVAL, "", ""},
        /* PTR with bytes after the name inside the rdata. */
        {"123481800001000100000000016104746573740000"
         "0c0001"
         "c00c000c00010000012c0003c00e00",
         "a.test", T_PTR, 0, DNS_INVAL, "", ""},
        /* PTR by compression to the question's "test". */
        {"123481800001000100000000016104746573740000"
         "0c0001"
         "c00c000c00010000012c0002c00e",
         "a.test", T_PTR, 0, DNS_OK, "PTR a.test 300 test|", "a.test"},
        /* TXT: string longer than the rdata; empty rdata. */
        {"123481800001000100000000016104746573740000"
         "100001"
         "c00c001000010000012c00020561",
         "a.test", T_TXT, 0, DNS_INVAL, "", ""},
        {"123481800001000100000000016104746573740000"
         "100001"
         "c00c001000010000012c0000",
         "a.test", T_TXT, 0, DNS_INVAL, "", ""},
        /* CNAME to a target whose A record is missing: NODATA for it. */
        {"123481800001000100000000016104746573740000"
         "010001"
         "c00c000500010000012c00040162c00e",
         "a.test", T_A, 0, DNS_NOTFOUND, "", "b.test"},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        unsigned char buf[1024];
        size_t len = bytes_from_hex(cases[i].hex, buf, sizeof(buf));
        DNS_RR *list = (DNS_RR *)1;
        VSTRING *fqdn = vstring_alloc(10);
        int status = dns_parse_answer(buf, len, cases[i].qname, cases[i].type, cases[i].flags, &list, fqdn);
        char *got = summary(list);

        if (status != cases[i].status)
            fail_msg("case %zu: status %s, want %s", i, dns_strstatus(status),
                     dns_strstatus(cases[i].status));
        if (strcmp(got, cases[i].records) != 0)
            fail_msg("case %zu: records \"%s\", want \"%s\"", i, got, cases[i].records);
        if (strcmp(vstring_str(fqdn), cases[i].fqdn) != 0)
            fail_msg("case %zu: fqdn \"%s\", want \"%s\"", i, vstring_str(fqdn), cases[i].fqdn);
        if (status != DNS_OK && list != NULL)
            fail_msg("case %zu: records with status %s", i, dns_strstatus(status));
        myfree(got);
        dns_rr_free(list);
        vstring_free(fqdn);
    }
}

/* An owner name longer than 255 bytes on the wire is malformed. */
static void test_long_name(void **state UNUSED)
{
    unsigned char buf[1024];
    size_t len = bytes_from_hex(H1 Q, buf, sizeof(buf));
    DNS_RR *list;

    for (int l = 0; l < 5; l++) {
        buf[len++] = 63;
        memset(buf + len, 'x', 63);
        len += 63;
    }
    buf[len++] = 0;
    len += bytes_from_hex("000100010000012c0004c0000201", buf + len, sizeof(buf) - len);
    assert_int_equal(dns_parse_answer(buf, len, "a.test", T_A, 0, &list, NULL), DNS_INVAL);
    assert_null(list);
}

/* Every prefix and many one-byte mutations of real replies: no crash. */
static void test_truncation_and_mutation(void **state UNUSED)
{
    static const struct {
        const char *hex;
        const char *qname;
        unsigned type;
    } replies[] = {
        {BIND_A, "www.example.test", T_A},
        {BIND_AAAA, "www.example.test", T_AAAA},
        {BIND_MX, "mx.example.test", T_MX},
        {BIND_TXT, "txt.example.test", T_TXT},
        {BIND_CNAME_CHAIN, "alias.example.test", T_A},
        {BIND_PTR, "10.2.0.192.in-addr.arpa", T_PTR},
        {LOOP_NOERROR, "loop1.example.test", T_A},
    };
    static const unsigned char values[] = {0x00, 0x01, 0x0c, 0x3f, 0x40, 0x7f, 0xc0, 0xff};

    for (size_t r = 0; r < ARRAY_LEN(replies); r++) {
        unsigned char orig[1024], buf[1024];
        size_t len = bytes_from_hex(replies[r].hex, orig, sizeof(orig));
        size_t answers_end;
        DNS_RR *list;
        int full = dns_parse_answer(orig, len, replies[r].qname, replies[r].type, 0, &list, NULL);

        dns_rr_free(list);
        /* The answer section ends where the first NS record starts, at
           the latest; a cut before that is malformed. */
        answers_end = 12;
        for (size_t n = 12; n < len; n++) {
            DNS_RR *l2;

            if (dns_parse_answer(orig, n, replies[r].qname, replies[r].type, 0, &l2, NULL) != DNS_INVAL) {
                answers_end = n;
                dns_rr_free(l2);
                break;
            }
        }
        for (size_t n = 0; n < len; n++) {
            int status = dns_parse_answer(orig, n, replies[r].qname, replies[r].type, 0, &list, NULL);

            if (n < answers_end)
                assert_int_equal(status, DNS_INVAL);
            else
                assert_int_equal(status, full);
            dns_rr_free(list);
        }
        for (size_t pos = 0; pos < len; pos++) {
            for (size_t v = 0; v < ARRAY_LEN(values); v++) {
                int status;

                memcpy(buf, orig, len);
                buf[pos] = values[v];
                status = dns_parse_answer(buf, len, replies[r].qname, replies[r].type, DNS_REQ_FLAG_DNSSEC,
                                          &list, NULL);
                assert_true(status >= DNS_OK && status <= DNS_NULLMX);
                if (status != DNS_OK)
                    assert_null(list);
                dns_rr_free(list);
            }
        }
    }
}

static void test_valid_qname(void **state UNUSED)
{
    static const struct {
        const char *name;
        bool valid;
    } cases[] = {
        {"a.test", true},  {"a.test.", true},   {"_dmarc.a.test", true}, {"10.2.0.192.bl.test", true},
        {"", false},       {".", false},        {"a..test", false},      {".a.test", false},
        {"a test", false}, {"a\\.test", false}, {"a.test..", false},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (dns_valid_qname(cases[i].name) != cases[i].valid)
            fail_msg("case %zu: \"%s\"", i, cases[i].name);

    char label[70], name[300];

    memset(label, 'x', 63);
    label[63] = 0;
    assert_true(dns_valid_qname(label));
    memset(label, 'x', 64);
    label[64] = 0;
    assert_false(dns_valid_qname(label));
    memset(name, 'x', 255);
    for (int i = 1; i < 255; i += 2)
        name[i] = '.';
    name[255] = 0;
    assert_false(dns_valid_qname(name)); /* 255 characters */
    name[253] = 0;
    assert_true(dns_valid_qname(name)); /* 253 characters */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_long_name),
        cmocka_unit_test(test_truncation_and_mutation),
        cmocka_unit_test(test_valid_qname),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
