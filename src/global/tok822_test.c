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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_list),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
