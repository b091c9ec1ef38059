/*
 * rewrite_addr_test - unit tests for the standard form of addresses
 * (queue.md 4.2, acceptance check 5 in unit form): each step on its own,
 * the parameters that switch steps off, the remote context, and the
 * internal-form wrapper.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mail_params.h"
#include "rewrite_addr.h"

/* Defaults of the test: myhostname = mail.example.com. */
static void set_defaults(void)
{
    var_myorigin = "mail.example.com";
    var_mydomain = "example.com";
    var_remote_header_rewrite_domain = "";
    var_swap_bangpath = true;
    var_allow_percent_hack = true;
    var_append_at_myorigin = true;
    var_append_dot_mydomain = false;
}

static void test_standard_form(void **state UNUSED)
{
    /* Settings: "d" defaults, "D" append_dot_mydomain, "o" myorigin = $mydomain,
     * "b" no swap_bangpath, "p" no percent hack, "a" no append_at_myorigin,
     * "r" remote context with remote_header_rewrite_domain = hdr.example,
     * "R" remote context with it empty. */
    static const struct {
        const char *settings;
        const char *in;
        const char *want;
    } cases[] = {
        {"d", "bob@host", "bob@host"},
        {"D", "bob@host", "bob@host.example.com"},
        {"D", "bob@host.other", "bob@host.other"},
        {"D", "bob@[10.0.0.1]", "bob@[10.0.0.1]"},
        {"D", "bob@", "bob@"},
        {"d", "bob", "bob@mail.example.com"},
        {"o", "bob", "bob@example.com"},
        {"a", "bob", "bob"},
        {"d", "@a,@b:user@site", "user@site"},
        {"d", "@a:user@site", "user@site"},
        {"d", "@a:", "@a:"},
        {"d", "site!user", "user@site"},
        {"d", "a!b!user", "b!user@a"},
        {"b", "site!user", "site!user@mail.example.com"},
        {"d", "u!x@y", "u!x@y"},
        {"d", "user%domain", "user@domain"},
        {"d", "user%d1%d2", "user%d1@d2"},
        {"p", "user%domain", "user%domain@mail.example.com"},
        {"d", "u%x@y", "u%x@y"},
        {"d", "\"a!b\"", "\"a!b\"@mail.example.com"},
        {"d", "\"a@b\"", "\"a@b\"@mail.example.com"},
        {"d", "\"a%b\"@c", "\"a%b\"@c"},
        {"d", "user@host.", "user@host"},
        {"d", "user@host..", "user@host.."},
        {"d", "user@.", "user@."},
        {"d", "", ""},
        {"d", "MAILER-DAEMON", "MAILER-DAEMON@mail.example.com"},
        {"r", "bob", "bob@hdr.example"},
        {"r", "bob@host", "bob@host"},
        {"R", "bob", "bob"},
        {"R", "site!user", "user@site"},
    };
    VSTRING *out = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *context = REWRITE_ADDR_LOCAL;

        set_defaults();
        switch (cases[i].settings[0]) {
        case 'D':
            var_append_dot_mydomain = true;
            break;
        case 'o':
            var_myorigin = "example.com";
            break;
        case 'b':
            var_swap_bangpath = false;
            break;
        case 'p':
            var_allow_percent_hack = false;
            break;
        case 'a':
            var_append_at_myorigin = false;
            break;
        case 'r':
            var_remote_header_rewrite_domain = "hdr.example";
            context = REWRITE_ADDR_REMOTE;
            break;
        case 'R':
            context = REWRITE_ADDR_REMOTE;
            break;
        }
        rewrite_addr(out, context, cases[i].in);
        if (strcmp(vstring_str(out), cases[i].want) != 0)
            fail_msg("%s '%s': got '%s', want '%s'", cases[i].settings, cases[i].in, vstring_str(out),
                     cases[i].want);
    }
    vstring_free(out);
}

/* Internal form in and out: quoting never shows in the result. */
static void test_internal(void **state UNUSED)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"joe smith", "joe smith@mail.example.com"}, {"a!b", "b@a"}, {"a@b@c", "a@b@c"},
        {"x\"y", "x\"y@mail.example.com"},           {"", ""},
    };
    VSTRING *out = vstring_alloc(100);

    set_defaults();
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        rewrite_addr_internal(out, REWRITE_ADDR_LOCAL, cases[i].in);
        if (strcmp(vstring_str(out), cases[i].want) != 0)
            fail_msg("'%s': got '%s', want '%s'", cases[i].in, vstring_str(out), cases[i].want);
    }
    vstring_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standard_form),
        cmocka_unit_test(test_internal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
