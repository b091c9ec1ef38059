/*
 * xsasl_cyrus_test - unit tests for the "cyrus" backends with the real
 * libsasl2: a sasldb made with saslpasswd2 in a temporary directory
 * (alice/secret in realm EXAMPLE.TEST) and an smtpd.conf there found via
 * cyrus_sasl_config_path. The server is checked on its own (mechanism
 * lists per security option, PLAIN success and failure, bad base64), and
 * the client is run against it until the server says OK.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mail_params.h"
#include "msg.h"
#include "xsasl.h"

static char test_dir[] = "/tmp/xsasl_cyrus_testXXXXXX";
static XSASL_SERVER_IMPL *test_server_impl;
static XSASL_CLIENT_IMPL *test_client_impl;

/* Quiet libsasl2's expected failure warnings. */
static void test_quiet(enum msg_level level, const char *text)
{
    if (getenv("XSASL_TEST_VERBOSE"))
        fprintf(stderr, "%d: %s\n", (int)level, text);
}

/* A server session in realm EXAMPLE.TEST with OPTIONS. */
static XSASL_SERVER *server_session(int options)
{
    XSASL_SERVER_CREATE_ARGS args = {
        .service = "smtp",
        .user_realm = "EXAMPLE.TEST",
        .server_addr = "127.0.0.1",
        .server_port = "25",
        .client_addr = "127.0.0.2",
        .client_port = "40000",
        .security_options = options,
        .tls = false,
    };

    return xsasl_server_create(test_server_impl, &args);
}

/* A client session towards mx.example.test with OPTIONS. */
static XSASL_CLIENT *client_session(int options)
{
    XSASL_CLIENT_CREATE_ARGS args = {
        .service = "smtp",
        .server_name = "mx.example.test",
        .security_options = options,
        .tls = false,
    };

    return xsasl_client_create(test_client_impl, &args);
}

static void test_server_mechanisms(void **state UNUSED)
{
    static const struct {
        const char *options;
        const char *mechs[5]; /* must be listed */
        const char *absent[4];
    } cases[] = {
        {"", {"PLAIN", "LOGIN", "CRAM-MD5", "ANONYMOUS"}, {NULL}},
        {"noanonymous", {"PLAIN", "LOGIN", "CRAM-MD5"}, {"ANONYMOUS"}},
        {"noanonymous, noplaintext", {"CRAM-MD5"}, {"PLAIN", "LOGIN", "ANONYMOUS"}},
        /* Options are requirements: no mechanism here resists dictionary attacks. */
        {"nodictionary", {NULL}, {"PLAIN", "LOGIN", "CRAM-MD5", "ANONYMOUS"}},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        XSASL_SERVER *server =
            server_session(xsasl_security_options("smtpd_sasl_security_options", cases[i].options));
        const char *list;

        assert_non_null(server);
        assert_non_null(list = xsasl_server_get_mechanism_list(server));
        print_message("%s: %s\n", cases[i].options, list);
        ARGV *words = argv_split(list, " ");

        for (const char *const *want = cases[i].mechs; *want; want++) {
            size_t n;

            for (n = 0; n < words->argc && strcmp(words->argv[n], *want) != 0; n++)
                ;
            assert_true(n < words->argc);
        }
        for (const char *const *bad = cases[i].absent; *bad; bad++)
            for (size_t n = 0; n < words->argc; n++)
                assert_string_not_equal(words->argv[n], *bad);
        argv_free(words);
        xsasl_server_free(server);
    }
}

static void test_server_exchanges(void **state UNUSED)
{
    static const struct {
        const char *label;
        int options;
        const char *mech;
        const char *init;
        const char *response; /* after a challenge, or NULL */
        int first;
        const char *reply;
        int next;
        const char *username;
    } cases[] = {
        {"PLAIN success", XSASL_SEC_NOANONYMOUS, "PLAIN", "AGFsaWNlAHNlY3JldA==", NULL, XSASL_AUTH_OK, "", 0,
         "alice@EXAMPLE.TEST"},
        {"PLAIN wrong password", XSASL_SEC_NOANONYMOUS, "PLAIN", "AGFsaWNlAHdyb25n", NULL, XSASL_AUTH_FAIL,
         "authentication failure", 0, NULL},
        {"PLAIN unknown user looks like a wrong password", XSASL_SEC_NOANONYMOUS, "PLAIN",
         "AGJvYgBzZWNyZXQ=", NULL, XSASL_AUTH_FAIL, "authentication failure", 0, NULL},
        {"PLAIN without initial response", XSASL_SEC_NOANONYMOUS, "PLAIN", NULL,
         "AGFsaWNlAHNlY3JldA==", XSASL_AUTH_MORE, "", XSASL_AUTH_OK, "alice@EXAMPLE.TEST"},
        {"PLAIN hidden by noplaintext", XSASL_SEC_NOPLAINTEXT, "PLAIN", "AGFsaWNlAHNlY3JldA==", NULL,
         XSASL_AUTH_FAIL, "encryption needed to use mechanism", 0, NULL},
        {"LOGIN first challenge", XSASL_SEC_NOANONYMOUS, "LOGIN", NULL, NULL, XSASL_AUTH_MORE, "VXNlcm5hbWU6",
         0, NULL},
        {"bad base64 initial response", XSASL_SEC_NOANONYMOUS, "PLAIN", "AGFs!", NULL, XSASL_AUTH_FORM,
         "Invalid base64 data in initial response", 0, NULL},
        {"bad base64 response", XSASL_SEC_NOANONYMOUS, "PLAIN", NULL, "AGFs!", XSASL_AUTH_MORE, "",
         XSASL_AUTH_FORM, NULL},
        {"unknown mechanism", XSASL_SEC_NOANONYMOUS, "X-NOPE", NULL, NULL, XSASL_AUTH_FAIL,
         "no mechanism available", 0, NULL},
    };
    VSTRING *reply = vstring_alloc(100);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        XSASL_SERVER *server = server_session(cases[i].options);

        print_message("case: %s\n", cases[i].label);
        assert_non_null(server);
        assert_int_equal(xsasl_server_first(server, cases[i].mech, cases[i].init, reply), cases[i].first);
        assert_string_equal(vstring_str(reply), cases[i].reply);
        if (cases[i].response)
            assert_int_equal(xsasl_server_next(server, cases[i].response, reply), cases[i].next);
        if (cases[i].username)
            assert_string_equal(xsasl_server_get_username(server), cases[i].username);
        xsasl_server_free(server);
    }
    vstring_free(reply);
}

static void test_client_against_server(void **state UNUSED)
{
    static const struct {
        const char *offered; /* what the server announces */
        int client_options;
        const char *password;
        const char *chosen;
        int result; /* the server's last answer */
    } cases[] = {
        {"PLAIN", XSASL_SEC_NOANONYMOUS, "secret", "PLAIN", XSASL_AUTH_OK},
        {"LOGIN", XSASL_SEC_NOANONYMOUS, "secret", "LOGIN", XSASL_AUTH_OK},
        {"CRAM-MD5", XSASL_SEC_NOANONYMOUS | XSASL_SEC_NOPLAINTEXT, "secret", "CRAM-MD5", XSASL_AUTH_OK},
        {"PLAIN LOGIN CRAM-MD5", XSASL_SEC_NOANONYMOUS | XSASL_SEC_NOPLAINTEXT, "secret", "CRAM-MD5",
         XSASL_AUTH_OK},
        {"PLAIN", XSASL_SEC_NOANONYMOUS, "wrong", "PLAIN", XSASL_AUTH_FAIL},
        {"LOGIN", XSASL_SEC_NOANONYMOUS, "wrong", "LOGIN", XSASL_AUTH_FAIL},
    };
    VSTRING *init = vstring_alloc(100);
    VSTRING *challenge = vstring_alloc(100);
    VSTRING *response = vstring_alloc(100);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        XSASL_SERVER *server = server_session(XSASL_SEC_NOANONYMOUS);
        XSASL_CLIENT *client = client_session(cases[i].client_options);
        const char *mech;
        int status;
        int rounds = 0;

        print_message("case: %s as %s/%s\n", cases[i].offered, "alice", cases[i].password);
        assert_non_null(server);
        assert_non_null(client);
        assert_int_equal(
            xsasl_client_first(client, cases[i].offered, "alice", cases[i].password, &mech, init),
            XSASL_AUTH_OK);
        assert_string_equal(mech, cases[i].chosen);
        status = xsasl_server_first(server, mech, VSTRING_LEN(init) ? vstring_str(init) : NULL, challenge);
        print_message("  %s %s, server %d %s\n", mech, vstring_str(init), status, vstring_str(challenge));
        while (status == XSASL_AUTH_MORE && rounds++ < 5) {
            assert_int_equal(xsasl_client_next(client, vstring_str(challenge), response), XSASL_AUTH_OK);
            status = xsasl_server_next(server, vstring_str(response), challenge);
            print_message("  -> %s, server %d %s\n", vstring_str(response), status, vstring_str(challenge));
        }
        assert_int_equal(status, cases[i].result);
        if (status == XSASL_AUTH_OK)
            /* With smtpd_sasl_local_domain, the login name carries the realm. */
            assert_string_equal(xsasl_server_get_username(server), "alice@EXAMPLE.TEST");
        xsasl_client_free(client);
        xsasl_server_free(server);
    }
    vstring_free(init);
    vstring_free(challenge);
    vstring_free(response);
}

static void test_client_choice(void **state UNUSED)
{
    static const struct {
        const char *options;
        const char *offered;
        int result;
        const char *chosen; /* or the reason */
    } cases[] = {
        {"noplaintext, noanonymous", "PLAIN LOGIN", XSASL_AUTH_FAIL, "no mechanism available"},
        {"noplaintext, noanonymous", "PLAIN LOGIN CRAM-MD5", XSASL_AUTH_OK, "CRAM-MD5"},
        {"noanonymous", "ANONYMOUS", XSASL_AUTH_FAIL, "no mechanism available"},
        {"noanonymous", "ANONYMOUS PLAIN", XSASL_AUTH_OK, "PLAIN"},
        {"noanonymous", "X-UNKNOWN", XSASL_AUTH_FAIL, "no mechanism available"},
        {"", "LOGIN", XSASL_AUTH_OK, "LOGIN"},
    };
    VSTRING *init = vstring_alloc(100);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        XSASL_CLIENT *client =
            client_session(xsasl_security_options("smtp_sasl_security_options", cases[i].options));
        const char *mech;
        int status;

        assert_non_null(client);
        status = xsasl_client_first(client, cases[i].offered, "alice", "secret", &mech, init);
        print_message("%s / %s: %d %s\n", cases[i].options, cases[i].offered, status,
                      status == XSASL_AUTH_OK ? mech : vstring_str(init));
        assert_int_equal(status, cases[i].result);
        if (status == XSASL_AUTH_OK) {
            assert_string_equal(mech, cases[i].chosen);
        } else {
            assert_null(mech);
            assert_string_equal(vstring_str(init), cases[i].chosen);
        }
        xsasl_client_free(client);
    }
    vstring_free(init);
}

static void test_security_options(void **state UNUSED)
{
    static const struct {
        const char *text;
        int flags;
    } cases[] = {
        {"", 0},
        {"noanonymous", XSASL_SEC_NOANONYMOUS},
        {"noplaintext, noanonymous", XSASL_SEC_NOPLAINTEXT | XSASL_SEC_NOANONYMOUS},
        {" NOACTIVE,nodictionary\tMutual_Auth forward_secrecy ",
         XSASL_SEC_NOACTIVE | XSASL_SEC_NODICTIONARY | XSASL_SEC_MUTUAL_AUTH | XSASL_SEC_FORWARD_SECRECY},
        {"noanonymous, noplain", -1},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(xsasl_security_options("smtpd_sasl_security_options", cases[i].text),
                         cases[i].flags);
}

static int group_setup(void **state UNUSED)
{
    char cmd[512];
    FILE *fp;

    if (mkdtemp(test_dir) == NULL)
        return -1;
    snprintf(cmd, sizeof(cmd), "echo secret | saslpasswd2 -p -c -f %s/sasldb2 -a smtpd -u EXAMPLE.TEST alice",
             test_dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "%s/smtpd.conf", test_dir);
    if ((fp = fopen(cmd, "w")) == NULL)
        return -1;
    fprintf(fp,
            "pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s/sasldb2\n"
            "mech_list: PLAIN LOGIN CRAM-MD5 ANONYMOUS\n",
            test_dir);
    fclose(fp);
    var_cyrus_sasl_config_path = test_dir;
    if ((test_server_impl = xsasl_server_init("cyrus", "smtpd")) == NULL)
        return -1;
    if ((test_client_impl = xsasl_client_init("cyrus", "smtp")) == NULL)
        return -1;
    return 0;
}

static int group_teardown(void **state UNUSED)
{
    char path[512];

    xsasl_server_done(test_server_impl);
    xsasl_client_done(test_client_impl);
    snprintf(path, sizeof(path), "%s/sasldb2", test_dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/smtpd.conf", test_dir);
    unlink(path);
    rmdir(test_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_security_options), cmocka_unit_test(test_server_mechanisms),
        cmocka_unit_test(test_server_exchanges), cmocka_unit_test(test_client_against_server),
        cmocka_unit_test(test_client_choice),
    };

    msg_output(test_quiet);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
