/*
 * tok822_test - unit tests for tok822: the normalised address-list form
 * that postalias stores (expected values are what Postfix 3.7 stores for
 * the same input).
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mymalloc.h"
#include "tok822.h"

static void test_split_list(void **state UNUSED)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"kdent,kdent@oreilly.com", "kdent, kdent@oreilly.com"},
        {"\"|/usr/local/bin/autoreply\"", "\"|/usr/local/bin/autoreply\""},
        {":include:/x/l", ":include:/x/l"},
        {":include: /x/y", ":include:/x/y"},
        {"alice,  bob", "alice, bob"},
        {"d (comment), \"Joe Q\" <joe@x.org>,e", "d (comment), \"Joe Q\" <joe@x.org>, e"},
        {"|/bin/cat", "|/bin/cat"},
        {"/var/mail/x, /tmp/dir/", "/var/mail/x, /tmp/dir/"},
        {"x@[1.2.3.4], \"a b\"@c", "x@[1.2.3.4], \"a b\"@c"},
        {"x y z", "x y z"},
        {"<>, \"\", ,,", "<>, \"\", , , "},
        {"a <b>", "a <b>"},
        {"a<b>", "a <b>"},
        {"a . b", "a.b"},
        {"\"x\"y", "\"x\" y"},
        {"a(c)b", "a (c) b"},
        {"a @ b", "a@b"},
        {"<a@b> c", "<a@b>c"},
        {"a;b", "a;b"},
        {"a:b", "a:b"},
        {"\"a\\\"b\" c", "\"a\\\"b\" c"},
        {"a,(x)", "a, (x)"},
        {"\"|cmd arg\", /x y", "\"|cmd arg\", /x y"},
        {"a[b]c", "a [b] c"},
        {"group: a, b;", "group:a, b;"},
        {"x\\y", "xy"},
        {"a\\, b", "\"a,\" b"},
        {"a (nested (comment)) b", "a (nested (comment)) b"},
        {"\"unterminated", "\"unterminated\""},
        {"", ""},
    };
    VSTRING *out = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        tok822_split_list(out, cases[i].in);
        if (strcmp(vstring_str(out), cases[i].want) != 0)
            fail_msg("'%s': got '%s', want '%s'", cases[i].in, vstring_str(out), cases[i].want);
    }
    vstring_free(out);
}

/* The addresses found in header values, internal form, "|"-separated. */
/* Folding: a new line before an element that would reach the width. */
static void test_fold(void **state UNUSED)
{
    static const struct {
        const char *prefix;
        const char *in;
        size_t width;
        const char *out;
    } cases[] = {
        {"To: ", "a@x.example,b@x.example", 0, "To: a@x.example, b@x.example"},
        {"To: ", "a@x.example,b@x.example", 70, "To: a@x.example, b@x.example"},
        {"To: ", "a@x.example,b@x.example", 20, "To: a@x.example,\n\tb@x.example"},
        {"To: ", "aaaaaaaa@mail.example.com, bbbbbbbb@mail.example.com, cccccccc@mail.example.com", 70,
         "To: aaaaaaaa@mail.example.com, bbbbbbbb@mail.example.com,\n\tcccccccc@mail.example.com"},
        {"Cc: ", "\"Last, First\" <f@x.example>,g@x.example", 20,
         "Cc: \"Last, First\" <f@x.example>,\n\tg@x.example"},
    };
    VSTRING *out = vstring_alloc(10);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TOK822_LIST *list = tok822_scan(cases[i].in);

        vstring_strcpy(out, cases[i].prefix);
        tok822_externalize_fold(out, list->tokens, list->count, cases[i].width);
        assert_string_equal(vstring_str(out), cases[i].out);
        tok822_free(list);
    }
    vstring_free(out);
}

static void test_addr_list(void **state UNUSED)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"a, b", "a|b"},
        {"Joe Q <joe@x.org>", "joe@x.org"},
        {"\"Smith, Joe\" <joe@x.org>, b@c", "joe@x.org|b@c"},
        {"joe@x.org (Joe Q)", "joe@x.org"},
        {"(c) joe @ x . org (d)", "joe@x.org"},
        {"\"joe smith\"@x.org", "joe smith@x.org"},
        {"\"a\\\"b\"@x", "a\"b@x"},
        {"undisclosed-recipients:;", ""},
        {"friends: a@x, b@y; c@z", "a@x|b@y|c@z"},
        {"<@r1,@r2:u@s>, v", "@r1,@r2:u@s|v"},
        {"<>, , ,x", "x"},
        {"a <b@c", "b@c"},
        {"u@[1.2.3.4]", "u@[1.2.3.4]"},
        {"", ""},
    };
    VSTRING *out = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        TOK822_LIST *list = tok822_scan(cases[i].in);
        TOK822_ADDR *addrs;
        size_t n = tok822_addr_list(list, &addrs);

        vstring_reset(out);
        for (size_t j = 0; j < n; j++) {
            if (j > 0)
                vstring_addch(out, '|');
            tok822_internalize(out, list->tokens + addrs[j].start, addrs[j].end - addrs[j].start);
        }
        if (strcmp(vstring_str(out), cases[i].want) != 0)
            fail_msg("'%s': got '%s', want '%s'", cases[i].in, vstring_str(out), cases[i].want);
        myfree(addrs);
        tok822_free(list);
    }
    vstring_free(out);
}

/* Replace every address by "<internal>X" (quoted as needed) and print. */
static void test_replace(void **state UNUSED)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"a, b", "a@X, b@X"},
        {"Joe Q <joe>, (c) b (d)", "Joe Q <joe@X>, (c) b@X (d)"},
        {"j (inner) @ d", "\"j@d\"@X (inner)"},
        {"\"a b\" <\"c d\">", "\"a b\" <\"c d\"@X>"},
        {"group: a, b;", "group:a@X, b@X;"},
        {"undisclosed-recipients:;", "undisclosed-recipients:;"},
    };
    VSTRING *out = vstring_alloc(100);
    VSTRING *addr = vstring_alloc(100);
    VSTRING *ext = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        TOK822_LIST *list = tok822_scan(cases[i].in);
        TOK822_ADDR *addrs;
        size_t n = tok822_addr_list(list, &addrs);

        /* Back to front, so earlier ranges stay valid. */
        while (n-- > 0) {
            vstring_reset(addr);
            tok822_internalize(addr, list->tokens + addrs[n].start, addrs[n].end - addrs[n].start);
            vstring_strcat(addr, "@X");
            tok822_quote_local(ext, vstring_str(addr));
            tok822_replace(list, addrs[n].start, addrs[n].end, vstring_str(ext));
        }
        vstring_reset(out);
        tok822_externalize_list(out, list->tokens, list->count);
        if (strcmp(vstring_str(out), cases[i].want) != 0)
            fail_msg("'%s': got '%s', want '%s'", cases[i].in, vstring_str(out), cases[i].want);
        myfree(addrs);
        tok822_free(list);
    }
    vstring_free(out);
    vstring_free(addr);
    vstring_free(ext);
}

/* Internal <-> external form of addresses, both ways. */
static void test_quote(void **state UNUSED)
{
    static const struct {
        const char *internal;
        const char *external;
    } cases[] = {
        {"joe@example.com", "joe@example.com"},
        {"joe.q.public@example.com", "joe.q.public@example.com"},
        {"joe smith@example.com", "\"joe smith\"@example.com"},
        {"a@b@example.com", "\"a@b\"@example.com"},
        {".joe@x", "\".joe\"@x"},
        {"joe.@x", "\"joe.\"@x"},
        {"a..b@x", "\"a..b\"@x"},
        {"a\"b@x", "\"a\\\"b\"@x"},
        {"a\\b@x", "\"a\\\\b\"@x"},
        {"a,b", "\"a,b\""},
        {"joe", "joe"},
        {"", ""},
        {"@example.com", "@example.com"},
        {"u+ext@[1.2.3.4]", "u+ext@[1.2.3.4]"},
        {"MAILER-DAEMON", "MAILER-DAEMON"},
    };
    VSTRING *out = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        tok822_quote_local(out, cases[i].internal);
        if (strcmp(vstring_str(out), cases[i].external) != 0)
            fail_msg("quote '%s': got '%s', want '%s'", cases[i].internal, vstring_str(out),
                     cases[i].external);
        tok822_unquote_local(out, cases[i].external);
        if (strcmp(vstring_str(out), cases[i].internal) != 0)
            fail_msg("unquote '%s': got '%s', want '%s'", cases[i].external, vstring_str(out),
                     cases[i].internal);
    }
    /* Quotes around part of a local part, and escapes outside quotes. */
    tok822_unquote_local(out, "\"joe\".smith@x");
    assert_string_equal(vstring_str(out), "joe.smith@x");
    tok822_unquote_local(out, "a\\ b@x");
    assert_string_equal(vstring_str(out), "a b@x");
    tok822_unquote_local(out, "\"a@b\"");
    assert_string_equal(vstring_str(out), "a@b");
    vstring_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_list), cmocka_unit_test(test_fold),  cmocka_unit_test(test_addr_list),
        cmocka_unit_test(test_replace),    cmocka_unit_test(test_quote),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
