/*
 * token_test - unit tests for token.c: alias and .forward right-hand
 * sides cut into destinations with Postfix's quoting rules. (Dispatch and
 * :include: files report through the real local(8) modules and are
 * covered by tests/e2e/test_local_alias.py.)
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "local_expand.h"
#include "msg.h"

/* The destinations of text joined with " | ". */
static const char *split_joined(const char *text, VSTRING *out)
{
    ARGV *dests = deliver_token_split(text);

    vstring_reset(out);
    for (size_t i = 0; i < dests->argc; i++)
        vstring_sprintf_append(out, "%s%s", i ? " | " : "", dests->argv[i]);
    argv_free(dests);
    return vstring_str(out);
}

static void test_split(void **state UNUSED)
{
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"alice", "alice"},
        {"alice, bob@remote.test", "alice | bob@remote.test"},
        {"alice,bob,,carol", "alice | bob | carol"},
        {"  alice ,\n\tbob  ", "alice | bob"},
        {"\"|/usr/bin/id -u > /tmp/uid\"", "|/usr/bin/id -u > /tmp/uid"},
        {"\"| /bin/cmd arg\", x", "|/bin/cmd arg | x"},
        {"|/bin/true", "|/bin/true"},
        {"/var/mail/file, /var/spool/maildir/", "/var/mail/file | /var/spool/maildir/"},
        {":include:/etc/list", ":include:/etc/list"},
        {":include: /etc/list, bob", ":include:/etc/list | bob"},
        {":INCLUDE:/etc/list", ":include:/etc/list"},
        {"\"/path with space/f\"", "/path with space/f"},
        {"\"a, b\"@x.test, c", "a, b@x.test | c"},
        {"\"quoted \\\"q\\\" name\"", "quoted \"q\" name"},
        {"a\\,b", "a,b"},
        {"\\alice, bob", "alice | bob"},
        {"alice (Alice Smith), bob", "alice | bob"},
        {"Bob Smith <bob@remote.test>, c", "bob@remote.test | c"},
        {"~/mbox", "~/mbox"},
        {"", ""},
        {" , ", ""},
    };
    VSTRING *out = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *got = split_joined(cases[i].text, out);

        if (strcmp(got, cases[i].want) != 0)
            fail_msg("'%s': got '%s', want '%s'", cases[i].text, got, cases[i].want);
    }
    vstring_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
