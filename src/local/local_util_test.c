/*
 * local_util_test - unit tests for the pure parts of local(8): $name
 * expansion with the command_expansion_filter (values filtered, the
 * pattern kept, undefined names empty, conditionals), the command
 * environment of spec 2.5, allow_mail_to_* type checks,
 * prepend_delivered_header, transport:nexthop splitting.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "local.h"
#include "local_util.h"
#include "mail_params.h"
#include "mymalloc.h"
#include "vstring.h"

#define FILTER "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

static DELIVER_REQUEST test_request;
static LOCAL_USER test_owner = {"alice", "/home/alice", "/bin/sh", 1000, 1000};

/* A state for alice+a;b@mail.example.com. */
static void test_state(LOCAL_STATE *state, const char *extension)
{
    memset(state, 0, sizeof(*state));
    memset(&test_request, 0, sizeof(test_request));
    test_request.sender = "bob@example.org";
    test_request.dsn_envid = "";
    test_request.client_addr = "192.0.2.1";
    test_request.client_helo = "client.example";
    test_request.client_name = "";
    test_request.client_proto = "ESMTP";
    state->request = &test_request;
    state->rcpt.address = "alice+a;b@mail.example.com";
    state->rcpt.orig_addr = "Team@mail.example.com";
    state->user = "alice";
    state->extension = (char *)extension;
    state->local = "alice+a;b";
    state->domain = "mail.example.com";
    state->owner = &test_owner;
}

static const struct {
    const char *pattern;
    const char *filter;
    const char *want;
} expand_cases[] = {
    {"/usr/bin/procmail -a \"$EXTENSION\"", FILTER, "/usr/bin/procmail -a \"\""},
    {"/usr/bin/procmail -a \"$extension\"", FILTER, "/usr/bin/procmail -a \"a_b\""},
    {"/usr/bin/procmail -a \"$extension\"", NULL, "/usr/bin/procmail -a \"a;b\""},
    {"$home/.forward${recipient_delimiter}${extension}", FILTER, "/home/alice/.forward+a_b"},
    {"${extension?+$extension}", FILTER, "+a_b"},
    {"${extension:none}", FILTER, ""},
    {"$user@$domain ($local) <$recipient>", FILTER,
     "alice@mail.example.com (alice+a_b) <alice+a_b@mail.example.com>"},
    {"$shell;$nosuchname;", FILTER, "/bin/sh;;"},
};

static void test_expand(void **unused UNUSED)
{
    LOCAL_STATE state;
    VSTRING *buf = vstring_alloc(10);

    var_recipient_delimiter = "+";
    for (size_t i = 0; i < ARRAY_LEN(expand_cases); i++) {
        test_state(&state, "a;b");
        vstring_reset(buf);
        (void)local_expand(buf, expand_cases[i].pattern, &state, expand_cases[i].filter);
        if (strcmp(vstring_str(buf), expand_cases[i].want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", expand_cases[i].pattern, vstring_str(buf),
                     expand_cases[i].want);
    }
    vstring_free(buf);
}

static void test_filter(void **unused UNUSED)
{
    char buf[] = "a b;c|d`e$f/g.h@i";

    assert_string_equal(local_filter(buf, FILTER), "a_b_c_d_e_f/g.h@i");
    assert_string_equal(local_filter(buf, NULL), "a_b_c_d_e_f/g.h@i");
}

/* The value of NAME in ENV, or NULL. */
static const char *env_get(ARGV *env, const char *name)
{
    size_t len = strlen(name);

    for (size_t i = 0; i < env->argc; i++)
        if (strncmp(env->argv[i], name, len) == 0 && env->argv[i][len] == '=')
            return env->argv[i] + len + 1;
    return NULL;
}

static void test_command_env(void **unused UNUSED)
{
    LOCAL_STATE state;
    ARGV *env;

    test_state(&state, "a;b");
    test_request.sasl_method = "PLAIN";
    test_request.sasl_username = "carol;x@example.org";
    test_request.sasl_sender = "";
    env = local_command_env(&state, FILTER);
    assert_string_equal(env_get(env, "SHELL"), "/bin/sh");
    assert_string_equal(env_get(env, "HOME"), "/home/alice");
    assert_string_equal(env_get(env, "USER"), "alice");
    assert_string_equal(env_get(env, "LOGNAME"), "alice");
    assert_string_equal(env_get(env, "EXTENSION"), "a_b");
    assert_string_equal(env_get(env, "DOMAIN"), "mail.example.com");
    assert_string_equal(env_get(env, "LOCAL"), "alice+a_b");
    assert_string_equal(env_get(env, "RECIPIENT"), "alice+a_b@mail.example.com");
    assert_string_equal(env_get(env, "ORIGINAL_RECIPIENT"), "Team@mail.example.com");
    assert_string_equal(env_get(env, "SENDER"), "bob@example.org");
    assert_string_equal(env_get(env, "CLIENT_ADDRESS"), "192.0.2.1");
    assert_string_equal(env_get(env, "CLIENT_HELO"), "client.example");
    assert_string_equal(env_get(env, "CLIENT_PROTOCOL"), "ESMTP");
    assert_null(env_get(env, "CLIENT_HOSTNAME"));
    assert_string_equal(env_get(env, "SASL_METHOD"), "PLAIN");
    assert_string_equal(env_get(env, "SASL_USERNAME"), "carol_x@example.org");
    assert_null(env_get(env, "SASL_SENDER"));
    assert_null(env_get(env, "ENVID"));
    assert_null(env_get(env, "PATH"));
    argv_free(env);

    /* no extension, no passwd entry, null sender */
    test_state(&state, NULL);
    state.owner = NULL;
    state.rcpt.orig_addr = "";
    test_request.sender = "";
    env = local_command_env(&state, FILTER);
    assert_null(env_get(env, "EXTENSION"));
    assert_null(env_get(env, "HOME"));
    assert_null(env_get(env, "SHELL"));
    assert_string_equal(env_get(env, "SENDER"), "");
    assert_string_equal(env_get(env, "ORIGINAL_RECIPIENT"), "alice+a_b@mail.example.com");
    assert_null(env_get(env, "SASL_METHOD"));
    assert_null(env_get(env, "SASL_USERNAME"));
    argv_free(env);
}

static void test_allowed(void **unused UNUSED)
{
    assert_true(local_allowed("alias, forward", LOCAL_EXP_TYPE_ALIAS));
    assert_true(local_allowed("alias, forward", LOCAL_EXP_TYPE_FORWARD));
    assert_false(local_allowed("alias, forward", LOCAL_EXP_TYPE_INCLUDE));
    assert_true(local_allowed("alias,forward include", LOCAL_EXP_TYPE_INCLUDE));
    assert_false(local_allowed("", LOCAL_EXP_TYPE_ALIAS));
    assert_true(local_allowed("", LOCAL_EXP_TYPE_NONE));
    assert_true(local_allowed("Alias", LOCAL_EXP_TYPE_ALIAS));

    var_prepend_delivered_header = "command, file, forward";
    assert_true(local_delivered_hdr("file"));
    var_prepend_delivered_header = "forward";
    assert_false(local_delivered_hdr("file"));
    assert_false(local_delivered_hdr("command"));
}

static void test_split_transport(void **unused UNUSED)
{
    static const char *cases[][3] = {
        {"lmtp:unix:/var/imap/socket/lmtp", "lmtp", "unix:/var/imap/socket/lmtp"},
        {"lmtp:inet:127.0.0.1:2424", "lmtp", "inet:127.0.0.1:2424"},
        {"cyrus", "cyrus", ""},
        {"relay:[gw.example]", "relay", "[gw.example]"},
    };
    VSTRING *transport = vstring_alloc(10);
    VSTRING *nexthop = vstring_alloc(10);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        local_split_transport(cases[i][0], transport, nexthop);
        assert_string_equal(vstring_str(transport), cases[i][1]);
        assert_string_equal(vstring_str(nexthop), cases[i][2]);
    }
    vstring_free(transport);
    vstring_free(nexthop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand),          cmocka_unit_test(test_filter),
        cmocka_unit_test(test_command_env),     cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_split_transport),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
