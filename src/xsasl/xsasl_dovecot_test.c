/*
 * xsasl_dovecot_test - unit tests for the "dovecot" server backend
 * against a scripted Dovecot auth server: a child process listening on
 * QUEUE/private/auth in a temporary directory (the backend is given the
 * relative path, as smtpd_sasl_path = private/auth). The child speaks
 * auth protocol 1: mechanisms PLAIN and LOGIN (plaintext), CRAM-MD5
 * (dictionary, active), ANONYMOUS (anonymous), SCRAM-SHA-256
 * (mutual-auth, dictionary); account alice/secret; user "later" gets a
 * temporary FAIL, user "quiet" a FAIL without reason. It appends every
 * line it receives to QUEUE/log, so tests can check what was sent.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "base64_code.h"
#include "mail_params.h"
#include "msg.h"
#include "xsasl.h"

static char test_dir[] = "/tmp/xsasl_dovecot_testXXXXXX";
static char test_sock[256];
static char test_log[256];
static pid_t test_server_pid;
static VSTRING *test_warnings;

/* Keep warnings for assertions instead of printing them. */
static void test_capture(enum msg_level level, const char *text)
{
    if (level == MSG_WARN)
        vstring_sprintf_append(test_warnings, "warning: %s\n", text);
}

/* The scripted server's answer to one AUTH or CONT request. */
static void server_check(FILE *fp, const char *id, const char *user, const char *pass)
{
    if (strcmp(user, "later") == 0)
        fprintf(fp, "FAIL\t%s\tuser=later\ttemp\treason=try again later\n", id);
    else if (strcmp(user, "quiet") == 0)
        fprintf(fp, "FAIL\t%s\n", id);
    else if (strcmp(user, "alice") == 0 && strcmp(pass, "secret") == 0)
        fprintf(fp, "OK\t%s\tuser=alice\n", id);
    else
        fprintf(fp, "FAIL\t%s\tuser=%s\treason=Password mismatch\n", id, user);
}

/* Decode base64 TEXT into BUF (NUL-terminated); the decoded length. */
static size_t server_decode(const char *text, char *buf, size_t size)
{
    VSTRING *out = vstring_alloc(100);
    size_t len = 0;

    if (base64_decode(out, text, strlen(text)) && VSTRING_LEN(out) < size) {
        len = VSTRING_LEN(out);
        memcpy(buf, vstring_str(out), len + 1);
    }
    vstring_free(out);
    return len;
}

/* One client connection of the scripted server. */
static void server_session(int fd, FILE *log)
{
    FILE *fp = fdopen(fd, "r+");
    char line[4096];
    char login_user[256] = "";
    int login_step = 0;

    setvbuf(fp, NULL, _IOLBF, 0);
    while (fgets(line, sizeof(line), fp)) {
        line[strcspn(line, "\n")] = 0;
        fprintf(log, "%s\n", line);
        fflush(log);
        if (strncmp(line, "CPID\t", 5) == 0) {
            fputs("VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n"
                  "MECH\tCRAM-MD5\tdictionary\tactive\nMECH\tANONYMOUS\tanonymous\n"
                  "MECH\tSCRAM-SHA-256\tmutual-auth\tdictionary\nSPID\t4242\nCUID\t7\n"
                  "COOKIE\t0123456789abcdef\nDONE\n",
                  fp);
            fflush(fp);
            continue;
        }
        char *fields[16];
        int n = 0;
        char *cp = line;

        while (n < 16 && (fields[n] = strsep(&cp, "\t")) != NULL)
            n++;
        if (n >= 3 && strcmp(fields[0], "AUTH") == 0) {
            const char *resp = NULL;

            for (int i = 3; i < n; i++)
                if (strncmp(fields[i], "resp=", 5) == 0)
                    resp = fields[i] + 5;
            if (strcmp(fields[2], "PLAIN") == 0) {
                char buf[512];

                if (resp == NULL) {
                    fprintf(fp, "CONT\t%s\t\n", fields[1]);
                } else {
                    size_t len = server_decode(resp, buf, sizeof(buf));
                    const char *user = len > 1 ? buf + strlen(buf) + 1 : "";
                    const char *pass =
                        len > 1 && user + strlen(user) < buf + len ? user + strlen(user) + 1 : "";

                    server_check(fp, fields[1], user, pass);
                }
            } else if (strcmp(fields[2], "LOGIN") == 0) {
                if (resp) {
                    server_decode(resp, login_user, sizeof(login_user));
                    login_step = 2;
                    fprintf(fp, "CONT\t%s\tUGFzc3dvcmQ6\n", fields[1]);
                } else {
                    login_step = 1;
                    fprintf(fp, "CONT\t%s\tVXNlcm5hbWU6\n", fields[1]);
                }
            } else {
                fprintf(fp, "FAIL\t%s\treason=unsupported here\n", fields[1]);
            }
        } else if (n >= 3 && strcmp(fields[0], "CONT") == 0) {
            char buf[512];

            if (login_step == 1) {
                server_decode(fields[2], login_user, sizeof(login_user));
                login_step = 2;
                fprintf(fp, "CONT\t%s\tUGFzc3dvcmQ6\n", fields[1]);
            } else if (login_step == 2) {
                server_decode(fields[2], buf, sizeof(buf));
                login_step = 0;
                server_check(fp, fields[1], login_user, buf);
            } else {
                size_t len = server_decode(fields[2], buf, sizeof(buf));
                const char *user = len > 1 ? buf + strlen(buf) + 1 : "";
                const char *pass = len > 1 && user + strlen(user) < buf + len ? user + strlen(user) + 1 : "";

                server_check(fp, fields[1], user, pass);
            }
        }
        fflush(fp);
    }
    fclose(fp);
}

/* Start the scripted server (again) on test_sock. */
static void server_start(void)
{
    struct sockaddr_un sun;
    int lfd;

    unlink(test_sock);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, test_sock);
    assert_true((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    assert_int_equal(listen(lfd, 5), 0);
    if ((test_server_pid = fork()) == 0) {
        FILE *log = fopen(test_log, "a");
        int fd;

        while ((fd = accept(lfd, NULL, NULL)) >= 0)
            server_session(fd, log);
        _exit(0);
    }
    assert_true(test_server_pid > 0);
    close(lfd);
}

/* Stop the scripted server; its socket file stays, refusing connections. */
static void server_stop(void)
{
    if (test_server_pid > 0) {
        kill(test_server_pid, SIGKILL);
        waitpid(test_server_pid, NULL, 0);
        test_server_pid = 0;
    }
}

/* Does the server's log contain LINE? */
static bool server_log_has(const char *want)
{
    FILE *fp = fopen(test_log, "r");
    char line[4096];
    bool found = false;

    if (fp == NULL)
        return false;
    while (!found && fgets(line, sizeof(line), fp)) {
        line[strcspn(line, "\n")] = 0;
        found = strcmp(line, want) == 0;
    }
    fclose(fp);
    return found;
}

static int setup(void **state UNUSED)
{
    char private_dir[256];

    signal(SIGPIPE, SIG_IGN);
    unlink(test_log);
    snprintf(private_dir, sizeof(private_dir), "%s/private", test_dir);
    mkdir(private_dir, 0700);
    server_start();
    vstring_truncate(test_warnings, 0);
    return 0;
}

static int teardown(void **state UNUSED)
{
    server_stop();
    return 0;
}

/* A session with the given options, from 127.0.0.2 to 127.0.0.1. */
static XSASL_SERVER *session(XSASL_SERVER_IMPL *impl, int options, bool tls)
{
    XSASL_SERVER_CREATE_ARGS args = {
        .service = "smtp",
        .user_realm = "",
        .server_addr = "127.0.0.1",
        .server_port = "25",
        .client_addr = "127.0.0.2",
        .client_port = "40000",
        .security_options = options,
        .tls = tls,
    };

    return xsasl_server_create(impl, &args);
}

static void test_mechanism_filter(void **state UNUSED)
{
    static const struct {
        const char *options;
        const char *mechs;
    } cases[] = {
        {"", "PLAIN LOGIN CRAM-MD5 ANONYMOUS SCRAM-SHA-256"},
        {"noanonymous", "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256"},
        {"noanonymous, noplaintext", "CRAM-MD5 SCRAM-SHA-256"},
        {"NoPlainText", "CRAM-MD5 ANONYMOUS SCRAM-SHA-256"},
        {"nodictionary", "PLAIN LOGIN ANONYMOUS"},
        {"noactive", "PLAIN LOGIN ANONYMOUS SCRAM-SHA-256"},
        {"mutual_auth", "SCRAM-SHA-256"},
        {"forward_secrecy", ""},
    };
    XSASL_SERVER_IMPL *impl = xsasl_server_init("dovecot", "private/auth");

    assert_non_null(impl);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int options = xsasl_security_options("smtpd_sasl_security_options", cases[i].options);
        XSASL_SERVER *server = session(impl, options, false);

        assert_true(options >= 0);
        assert_non_null(server);
        assert_string_equal(xsasl_server_get_mechanism_list(server), cases[i].mechs);
        xsasl_server_free(server);
    }
    xsasl_server_done(impl);
    /* The handshake the backend sent, once for all sessions. */
    assert_true(server_log_has("VERSION\t1\t0"));
}

static void test_exchanges(void **state UNUSED)
{
    /* Each step: the client's text (first: mechanism + initial response) and the answer. */
    static const struct {
        const char *label;
        bool tls;
        const char *mech;
        const char *init; /* NULL: none */
        const char *responses[3];
        int results[4]; /* first, then one per response */
        const char *replies[4];
        const char *username;
        const char *sent; /* a line the auth server must have received */
    } cases[] = {
        {"PLAIN with initial response",
         false,
         "PLAIN",
         "AGFsaWNlAHNlY3JldA==",
         {NULL},
         {XSASL_AUTH_OK},
         {""},
         "alice",
         "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.2\tresp=AGFsaWNlAHNlY3JldA=="},
        {"PLAIN under TLS says secured",
         true,
         "plain",
         "AGFsaWNlAHNlY3JldA==",
         {NULL},
         {XSASL_AUTH_OK},
         {""},
         "alice",
         "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.2\tsecured\tresp="
         "AGFsaWNlAHNlY3JldA=="},
        {"PLAIN wrong password",
         false,
         "PLAIN",
         "AGFsaWNlAHdyb25n",
         {NULL},
         {XSASL_AUTH_FAIL},
         {"Password mismatch"},
         "alice",
         NULL},
        {"PLAIN then response",
         false,
         "PLAIN",
         NULL,
         {"AGFsaWNlAHNlY3JldA==", NULL},
         {XSASL_AUTH_MORE, XSASL_AUTH_OK},
         {"", ""},
         "alice",
         "CONT\t1\tAGFsaWNlAHNlY3JldA=="},
        {"PLAIN empty initial response",
         false,
         "PLAIN",
         "=",
         {NULL},
         {XSASL_AUTH_FAIL},
         {"Password mismatch"},
         NULL,
         "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.2\tresp="},
        {"LOGIN two challenges",
         false,
         "LOGIN",
         NULL,
         {"YWxpY2U=", "c2VjcmV0", NULL},
         {XSASL_AUTH_MORE, XSASL_AUTH_MORE, XSASL_AUTH_OK},
         {"VXNlcm5hbWU6", "UGFzc3dvcmQ6", ""},
         "alice",
         "CONT\t1\tc2VjcmV0"},
        {"LOGIN with initial response",
         false,
         "LOGIN",
         "YWxpY2U=",
         {"c2VjcmV0", NULL},
         {XSASL_AUTH_MORE, XSASL_AUTH_OK},
         {"UGFzc3dvcmQ6", ""},
         "alice",
         NULL},
        {"temporary FAIL",
         false,
         "PLAIN",
         "AGxhdGVyAHg=",
         {NULL},
         {XSASL_AUTH_TEMP},
         {"try again later"},
         NULL,
         NULL},
        {"FAIL without reason", false, "PLAIN", "AHF1aWV0AHg=", {NULL}, {XSASL_AUTH_FAIL}, {""}, NULL, NULL},
        {"bad base64 initial response",
         false,
         "PLAIN",
         "AGFsaWNl*",
         {NULL},
         {XSASL_AUTH_FORM},
         {"Invalid base64 data in initial response"},
         NULL,
         NULL},
        {"bad base64 response",
         false,
         "LOGIN",
         NULL,
         {"YWxp!2U=", NULL},
         {XSASL_AUTH_MORE, XSASL_AUTH_FORM},
         {"VXNlcm5hbWU6", "Invalid base64 data in continued response"},
         NULL,
         NULL},
        {"mechanism not offered",
         false,
         "DIGEST-MD5",
         NULL,
         {NULL},
         {XSASL_AUTH_FAIL},
         {"Invalid authentication mechanism"},
         NULL,
         NULL},
        {"mechanism removed by the options",
         false,
         "ANONYMOUS",
         "=",
         {NULL},
         {XSASL_AUTH_FAIL},
         {"Invalid authentication mechanism"},
         NULL,
         NULL},
    };
    VSTRING *reply = vstring_alloc(100);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        XSASL_SERVER_IMPL *impl = xsasl_server_init("dovecot", "private/auth");
        XSASL_SERVER *server = session(impl, XSASL_SEC_NOANONYMOUS, cases[i].tls);
        int status;
        size_t step = 0;

        print_message("case: %s\n", cases[i].label);
        assert_non_null(server);
        status = xsasl_server_first(server, cases[i].mech, cases[i].init, reply);
        for (;;) {
            assert_int_equal(status, cases[i].results[step]);
            assert_string_equal(vstring_str(reply), cases[i].replies[step]);
            if (status != XSASL_AUTH_MORE || cases[i].responses[step] == NULL)
                break;
            status = xsasl_server_next(server, cases[i].responses[step], reply);
            step++;
        }
        if (cases[i].username)
            assert_string_equal(xsasl_server_get_username(server), cases[i].username);
        if (cases[i].sent)
            assert_true(server_log_has(cases[i].sent));
        xsasl_server_free(server);
        xsasl_server_done(impl);
    }
    vstring_free(reply);
}

static void test_ids_increase(void **state UNUSED)
{
    XSASL_SERVER_IMPL *impl = xsasl_server_init("dovecot", "private/auth");
    VSTRING *reply = vstring_alloc(100);

    for (int round = 0; round < 2; round++) {
        XSASL_SERVER *server = session(impl, 0, false);

        assert_int_equal(xsasl_server_first(server, "PLAIN", "AGFsaWNlAHdyb25n", reply), XSASL_AUTH_FAIL);
        assert_int_equal(xsasl_server_first(server, "PLAIN", "AGFsaWNlAHNlY3JldA==", reply), XSASL_AUTH_OK);
        xsasl_server_free(server);
    }
    assert_true(server_log_has("AUTH\t4\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.2\t"
                               "resp=AGFsaWNlAHNlY3JldA=="));
    vstring_free(reply);
    xsasl_server_done(impl);
}

static void test_server_death(void **state UNUSED)
{
    XSASL_SERVER_IMPL *impl = xsasl_server_init("dovecot", "private/auth");
    XSASL_SERVER *server = session(impl, 0, false);
    VSTRING *reply = vstring_alloc(100);

    assert_non_null(server);
    server_stop();
    assert_int_equal(xsasl_server_first(server, "PLAIN", "AGFsaWNlAHNlY3JldA==", reply), XSASL_AUTH_TEMP);
    assert_true(strcmp(vstring_str(reply), "Connection lost to authentication server") == 0 ||
                strcmp(vstring_str(reply), "Can't connect to authentication server") == 0);
    xsasl_server_free(server);

    /* Death during an exchange. */
    server_start();
    server = session(impl, 0, false);
    assert_non_null(server);
    assert_int_equal(xsasl_server_first(server, "LOGIN", NULL, reply), XSASL_AUTH_MORE);
    server_stop();
    assert_int_equal(xsasl_server_next(server, "YWxpY2U=", reply), XSASL_AUTH_TEMP);
    assert_string_equal(vstring_str(reply), "Connection lost to authentication server");
    xsasl_server_free(server);

    /* No server at session start: no session, Postfix's warning. */
    vstring_truncate(test_warnings, 0);
    assert_null(session(impl, 0, false));
    assert_non_null(strstr(vstring_str(test_warnings),
                           "warning: SASL: Connect to Dovecot auth socket 'private/auth' failed: "
                           "Connection refused\n"));
    vstring_free(reply);
    xsasl_server_done(impl);
}

static void test_reconnect(void **state UNUSED)
{
    XSASL_SERVER_IMPL *impl = xsasl_server_init("dovecot", "private/auth");
    XSASL_SERVER *server = session(impl, 0, false);
    VSTRING *reply = vstring_alloc(100);

    assert_int_equal(xsasl_server_first(server, "PLAIN", "AGFsaWNlAHNlY3JldA==", reply), XSASL_AUTH_OK);
    xsasl_server_free(server);

    /* The auth server restarts between sessions: the next session reconnects. */
    server_stop();
    server_start();
    server = session(impl, 0, false);
    assert_non_null(server);
    assert_string_equal(xsasl_server_get_mechanism_list(server),
                        "PLAIN LOGIN CRAM-MD5 ANONYMOUS SCRAM-SHA-256");
    assert_int_equal(xsasl_server_first(server, "PLAIN", "AGFsaWNlAHNlY3JldA==", reply), XSASL_AUTH_OK);
    assert_string_equal(xsasl_server_get_username(server), "alice");
    xsasl_server_free(server);

    /* It restarts while a session is open: that session's next AUTH reconnects. */
    server = session(impl, 0, false);
    server_stop();
    server_start();
    assert_int_equal(xsasl_server_first(server, "PLAIN", "AGFsaWNlAHNlY3JldA==", reply), XSASL_AUTH_OK);
    xsasl_server_free(server);
    vstring_free(reply);
    xsasl_server_done(impl);
}

static void test_unknown_type(void **state UNUSED)
{
    vstring_truncate(test_warnings, 0);
    assert_null(xsasl_server_init("sqlite", "x"));
    assert_string_equal(vstring_str(test_warnings),
                        "warning: unsupported SASL server implementation: sqlite\n");
    assert_null(xsasl_client_init("dovecot", "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mechanism_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exchanges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids_increase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_death, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
        cmocka_unit_test(test_unknown_type),
    };
    int failed;

    if (mkdtemp(test_dir) == NULL)
        return 1;
    snprintf(test_sock, sizeof(test_sock), "%s/private/auth", test_dir);
    snprintf(test_log, sizeof(test_log), "%s/log", test_dir);
    var_queue_directory = test_dir;
    test_warnings = vstring_alloc(100);
    msg_output(test_capture);
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    server_stop();
    unlink(test_sock);
    unlink(test_log);
    snprintf(test_sock, sizeof(test_sock), "%s/private", test_dir);
    rmdir(test_sock);
    rmdir(test_dir);
    return failed;
}
