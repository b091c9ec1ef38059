/*
 * smtpd_policy_test - unit tests for the policy delegation client. Each
 * test forks a small policy server on a UNIX-domain (or TCP) socket in a
 * temporary directory; the server answers each request with the next
 * entry of a script and appends what it received, with an "ACCEPT" line
 * per accepted connection, to a journal the test then compares exactly:
 * the request lines, connection reuse and request_limit, reconnection
 * after the server closed, timeout, malformed and missing actions, and
 * try_limit, each ending in the default action; the endpoint forms.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail_params.h"
#include "mymalloc.h"
#include "smtpd.h"
#include "smtpd_policy.h"
#include "sockets.h"
#include "vstring.h"

/* Server script entries besides a literal reply. */
#define SRV_CLOSE       "<close>"       /* read the request, close without reply */
#define SRV_SLEEP       "<sleep>"       /* read the request, never answer */
#define SRV_REPLY_CLOSE "<reply-close>" /* "action=OK", then close */

typedef struct SERVER {
    char dir[64];
    char path[128];
    char journal[128];
    char spec_path[160];
    pid_t pid;
} SERVER;

/* Append BUF to the journal at once. */
static void journal_write(const char *journal, const char *buf, size_t len)
{
    int fd = open(journal, O_WRONLY | O_APPEND | O_CREAT, 0600);

    if (fd >= 0) {
        if (write(fd, buf, len) < 0)
            _exit(3);
        close(fd);
    }
}

/* Read one request (up to an empty line) into BUF; false at end of file. */
static bool server_read(FILE *fp, VSTRING *buf)
{
    char line[8192];

    vstring_reset(buf);
    while (fgets(line, sizeof(line), fp) != NULL) {
        vstring_sprintf_append(buf, "%s", line);
        if (strcmp(line, "\n") == 0)
            return true;
    }
    return false;
}

/* Requests in the journal so far (the next script step). */
static size_t journal_requests(const char *journal)
{
    FILE *fp = fopen(journal, "r");
    char line[8192];
    size_t n = 0;

    if (fp == NULL)
        return 0;
    while (fgets(line, sizeof(line), fp))
        if (strcmp(line, "request=smtpd_access_policy\n") == 0)
            n++;
    fclose(fp);
    return n;
}

/* Serve one connection following SCRIPT (the client sends one request at a time). */
static void server_conn(int fd, const char *journal, const char **script, size_t script_len)
{
    VSTRING *buf = vstring_alloc(1000);
    FILE *fp = fdopen(fd, "r");

    journal_write(journal, "ACCEPT\n", 7);
    while (server_read(fp, buf)) {
        size_t next = journal_requests(journal);
        const char *step = next < script_len ? script[next] : "action=DUNNO\n\n";

        journal_write(journal, vstring_str(buf), VSTRING_LEN(buf));
        if (strcmp(step, SRV_CLOSE) == 0)
            break;
        if (strcmp(step, SRV_SLEEP) == 0) {
            sleep(30);
            break;
        }
        if (strcmp(step, SRV_REPLY_CLOSE) == 0) {
            if (write(fd, "action=OK\n\n", 11) < 0)
                break;
            break;
        }
        if (write(fd, step, strlen(step)) < 0)
            break;
    }
    fclose(fp);
}

/* The server process group: one process per connection. */
static void server_run(int listen_fd, const char *journal, const char **script)
{
    size_t script_len = 0;

    while (script[script_len])
        script_len++;
    setpgid(0, 0);
    signal(SIGCHLD, SIG_IGN);
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);

        if (fd < 0)
            continue;
        if (fork() == 0) {
            close(listen_fd);
            server_conn(fd, journal, script, script_len);
            _exit(0);
        }
        close(fd);
    }
}

/* Start a server with SCRIPT on a UNIX socket (queue_dir/private/policy if PRIVATE). */
static void server_start(SERVER *srv, const char **script, bool private_dir)
{
    int fd;

    strcpy(srv->dir, "/tmp/smtpd_policy_test.XXXXXX");
    assert_non_null(mkdtemp(srv->dir));
    var_queue_directory = srv->dir;
    if (private_dir) {
        snprintf(srv->path, sizeof(srv->path), "%s/private", srv->dir);
        assert_int_equal(mkdir(srv->path, 0700), 0);
        snprintf(srv->path, sizeof(srv->path), "%s/private/policy", srv->dir);
    } else {
        snprintf(srv->path, sizeof(srv->path), "%s/policy", srv->dir);
    }
    snprintf(srv->journal, sizeof(srv->journal), "%s/journal", srv->dir);
    snprintf(srv->spec_path, sizeof(srv->spec_path), "unix:%s", srv->path);
    fd = unix_listen(srv->path, 10, BLOCKING);
    assert_true(fd >= 0);
    if ((srv->pid = fork()) == 0) {
        server_run(fd, srv->journal, script);
        _exit(0);
    }
    close(fd);
}

/* Stop the server; return its journal (myfree it). */
static char *server_stop(SERVER *srv)
{
    char cmd[200];
    VSTRING *text = vstring_alloc(1000);
    FILE *fp;
    char line[8192];
    char *result;

    kill(-srv->pid, SIGKILL);
    kill(srv->pid, SIGKILL);
    waitpid(srv->pid, NULL, 0);
    if ((fp = fopen(srv->journal, "r")) != NULL) {
        while (fgets(line, sizeof(line), fp))
            vstring_sprintf_append(text, "%s", line);
        fclose(fp);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", srv->dir);
    if (system(cmd) != 0)
        fail_msg("cannot remove %s", srv->dir);
    result = mystrdup(vstring_str(text));
    vstring_free(text);
    return result;
}

/* Count occurrences of NEEDLE in HAY. */
static int count_of(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *cp = hay; (cp = strstr(cp, needle)) != NULL; cp += strlen(needle))
        n++;
    return n;
}

/* A session at RCPT time with every field the request uses. */
static void state_fill(SMTPD_STATE *state)
{
    memset(state, 0, sizeof(*state));
    state->where = SMTPD_CMD_RCPT;
    state->protocol = "ESMTP";
    state->addr = "192.0.2.10";
    state->name = "client.example.test";
    state->port = "54321";
    state->reverse_name = "client.example.test";
    state->dest_addr = "192.0.2.1";
    state->dest_port = "25";
    state->helo_name = "helo.example.test";
    state->sender = "alice@example.test";
    state->recipient = "bob@example.test";
    state->rcpt_count = 1;
    state->queue_id = "4ABCD12345";
    state->instance = "12c5.6b01fc1f.6124d.0";
    state->msg_size = 1234;
    state->act_size = 999;
}

static int setup(void **state UNUSED)
{
    var_smtpd_policy_service_timeout = 100;
    var_smtpd_policy_service_max_idle = 300;
    var_smtpd_policy_service_max_ttl = 1000;
    var_smtpd_policy_service_request_limit = 0;
    var_smtpd_policy_service_try_limit = 2;
    var_smtpd_policy_service_retry_delay = 1;
    var_smtpd_policy_service_default_action = "451 4.3.5 Server configuration problem";
    var_smtpd_policy_service_policy_context = "";
    var_compatibility_level = "3.6";
    var_mail_version = "0.1.0";
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static const char expect_rcpt[] = "request=smtpd_access_policy\n"
                                  "protocol_state=RCPT\n"
                                  "protocol_name=ESMTP\n"
                                  "client_address=192.0.2.10\n"
                                  "client_name=client.example.test\n"
                                  "client_port=54321\n"
                                  "reverse_client_name=client.example.test\n"
                                  "server_address=192.0.2.1\n"
                                  "server_port=25\n"
                                  "helo_name=helo.example.test\n"
                                  "sender=alice@example.test\n"
                                  "recipient=bob@example.test\n"
                                  "recipient_count=0\n"
                                  "queue_id=4ABCD12345\n"
                                  "instance=12c5.6b01fc1f.6124d.0\n"
                                  "size=1234\n"
                                  "etrn_domain=\n"
                                  "stress=\n"
                                  "sasl_method=\n"
                                  "sasl_username=\n"
                                  "sasl_sender=\n"
                                  "ccert_subject=\n"
                                  "ccert_issuer=\n"
                                  "ccert_fingerprint=\n"
                                  "ccert_pubkey_fingerprint=\n"
                                  "encryption_protocol=\n"
                                  "encryption_cipher=\n"
                                  "encryption_keysize=0\n"
                                  "policy_context=ctx1\n"
                                  "compatibility_level=3.6\n"
                                  "mail_version=0.1.0\n"
                                  "tls_sni=\n"
                                  "\n";

/* Exact request lines at RCPT, then at END-OF-MESSAGE and at connect. */
static void test_request_lines(void **unused UNUSED)
{
    static const char *script[] = {"action=REJECT no thanks\n\n", "foo=bar\naction=OK\n\n",
                                   "action=DUNNO\n\n", NULL};
    SERVER srv;
    SMTPD_STATE state;
    VSTRING *action = vstring_alloc(10);
    VSTRING *spec = vstring_alloc(100);
    SMTPD_POLICY *policy;
    char *journal;
    const char *second;

    server_start(&srv, script, false);
    vstring_sprintf(spec, "{ %s, policy_context = ctx1 }", srv.spec_path);
    policy = smtpd_policy_init(vstring_str(spec));
    assert_ptr_equal(smtpd_policy_init(vstring_str(spec)), policy);
    state_fill(&state);
    assert_true(smtpd_policy_query(&state, policy, action));
    assert_string_equal(vstring_str(action), "REJECT no thanks");

    state.where = SMTPD_AFTER_EOM;
    state.stress = true;
    assert_true(smtpd_policy_query(&state, policy, action));
    assert_string_equal(vstring_str(action), "OK");

    memset(&state, 0, sizeof(state));
    state.where = SMTPD_AFTER_CONNECT;
    state.addr = "192.0.2.10";
    state.name = "unknown";
    state.reverse_name = "unknown";
    state.port = "1";
    assert_true(smtpd_policy_query(&state, policy, action));
    assert_string_equal(vstring_str(action), "DUNNO");

    journal = server_stop(&srv);
    if (count_of(journal, "ACCEPT\n") != 1) /* one connection for all */
        fail_msg("%d connections", count_of(journal, "ACCEPT\n"));
    assert_memory_equal(journal, "ACCEPT\n", 7);
    assert_memory_equal(journal + 7, expect_rcpt, strlen(expect_rcpt));
    second = journal + 7 + strlen(expect_rcpt);
    assert_non_null(strstr(second, "protocol_state=END-OF-MESSAGE\n"));
    assert_non_null(strstr(second, "recipient=\nrecipient_count=1\n"));
    assert_non_null(strstr(second, "size=999\n"));
    assert_non_null(strstr(second, "stress=yes\n"));
    assert_non_null(strstr(second, "protocol_state=CONNECT\nprotocol_name=SMTP\nclient_address=192.0.2.10\n"
                                   "client_name=unknown\nclient_port=1\nreverse_client_name=unknown\n"
                                   "server_address=\nserver_port=\nhelo_name=\nsender=\nrecipient=\n"
                                   "recipient_count=0\nqueue_id=\ninstance=\nsize=0\n"));
    myfree(journal);
    vstring_free(spec);
    vstring_free(action);
}

/* Reuse, request_limit, and a new connection after the server closed one. */
static void test_reuse_and_reconnect(void **unused UNUSED)
{
    static const char *script[] = {"action=OK\n\n",    "action=OK\n\n", SRV_REPLY_CLOSE,
                                   "action=DUNNO\n\n", "action=OK\n\n", NULL};
    SERVER srv;
    SMTPD_STATE state;
    VSTRING *action = vstring_alloc(10);
    VSTRING *spec = vstring_alloc(100);
    SMTPD_POLICY *policy;
    char *journal;

    server_start(&srv, script, false);
    vstring_sprintf(spec, "{%s,request_limit=2,try_limit=1}", srv.spec_path);
    policy = smtpd_policy_init(vstring_str(spec));
    state_fill(&state);
    /* 1, 2: one connection; request_limit closes it; 3: new one, the server closes it after
     * replying; 4: detected before sending, new connection, no failure even with try_limit 1. */
    for (int i = 0; i < 4; i++)
        assert_true(smtpd_policy_query(&state, policy, action));
    assert_string_equal(vstring_str(action), "DUNNO");
    smtpd_policy_reset();
    assert_true(smtpd_policy_query(&state, policy, action));
    journal = server_stop(&srv);
    assert_int_equal(count_of(journal, "request=smtpd_access_policy\n"), 5);
    assert_int_equal(count_of(journal, "ACCEPT\n"), 3);
    myfree(journal);
    vstring_free(spec);
    vstring_free(action);
}

/* Failures end in the default action: timeout, malformed, no action, no server. */
static void test_failures(void **unused UNUSED)
{
    static const struct {
        const char *reply;
        const char *options;
        bool ok;
        const char *action;
    } cases[] = {
        {SRV_SLEEP, "timeout=1s, try_limit=1, default_action=DEFER_IF_PERMIT policy down", false,
         "DEFER_IF_PERMIT policy down"},
        {"garbage line\n\n", "try_limit=1", false, "451 4.3.5 Server configuration problem"},
        {"foo=bar\n\n", "try_limit=1", false, "451 4.3.5 Server configuration problem"},
        {"action=OK\n", "timeout=1s, try_limit = 1, default_action = DUNNO", false,
         "DUNNO"}, /* no empty line */
        {"action=PREPEND X-Test: yes\r\n\r\n", "try_limit=1", true, "PREPEND X-Test: yes"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *script[] = {cases[i].reply, NULL};
        SERVER srv;
        SMTPD_STATE state;
        VSTRING *action = vstring_alloc(10);
        VSTRING *spec = vstring_alloc(100);
        char *journal;
        bool ok;

        server_start(&srv, script, false);
        vstring_sprintf(spec, "{ %s, %s }", srv.spec_path, cases[i].options);
        state_fill(&state);
        ok = smtpd_policy_query(&state, smtpd_policy_init(vstring_str(spec)), action);
        journal = server_stop(&srv);
        if (ok != cases[i].ok || strcmp(vstring_str(action), cases[i].action) != 0)
            fail_msg("case %zu: %d \"%s\"", i, ok, vstring_str(action));
        assert_int_equal(count_of(journal, "request=smtpd_access_policy\n"), 1);
        myfree(journal);
        vstring_free(spec);
        vstring_free(action);
    }
}

/* try_limit: a server that drops the first request gets a second try. */
static void test_try_limit(void **unused UNUSED)
{
    static const char *script[] = {SRV_CLOSE, "action=HOLD\n\n", SRV_CLOSE, SRV_CLOSE, SRV_CLOSE, NULL};
    SERVER srv;
    SMTPD_STATE state;
    VSTRING *action = vstring_alloc(10);
    VSTRING *spec = vstring_alloc(100);
    SMTPD_POLICY *policy;
    char *journal;

    server_start(&srv, script, false);
    vstring_sprintf(spec, "{ %s }", srv.spec_path); /* try_limit 2, retry_delay 1s */
    policy = smtpd_policy_init(vstring_str(spec));
    state_fill(&state);
    assert_true(smtpd_policy_query(&state, policy, action));
    assert_string_equal(vstring_str(action), "HOLD");
    /* Dropped: on the reused connection, at once on a fresh one (both the first
     * try), and the second try: default action. */
    smtpd_policy_reset();
    assert_false(smtpd_policy_query(&state, policy, action));
    assert_string_equal(vstring_str(action), "451 4.3.5 Server configuration problem");
    journal = server_stop(&srv);
    assert_int_equal(count_of(journal, "request=smtpd_access_policy\n"), 5);
    myfree(journal);

    /* Nobody listens: every try fails to connect. */
    assert_false(smtpd_policy_query(&state, policy, action));
    assert_string_equal(vstring_str(action), "451 4.3.5 Server configuration problem");
    vstring_free(spec);
    vstring_free(action);
}

/* Endpoint forms: private/name and unix:private/name are under the queue directory; inet. */
static void test_endpoints(void **unused UNUSED)
{
    static const char *script[] = {"action=OK\n\n", "action=OK\n\n", NULL};
    SERVER srv;
    SMTPD_STATE state;
    VSTRING *action = vstring_alloc(10);
    char *journal;
    int fd;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    SOCKADDR_STRING addr;
    pid_t pid;
    char spec[100];

    state_fill(&state);
    server_start(&srv, script, true);
    assert_true(smtpd_policy_query(&state, smtpd_policy_init("private/policy"), action));
    assert_true(smtpd_policy_query(&state, smtpd_policy_init("unix:private/policy"), action));
    journal = server_stop(&srv);
    assert_int_equal(count_of(journal, "request=smtpd_access_policy\n"), 2);
    myfree(journal);

    fd = inet_listen("127.0.0.1:0", 10, BLOCKING);
    assert_true(fd >= 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    assert_int_equal(sockaddr_to_string((struct sockaddr *)&ss, &addr), 0);
    strcpy(srv.dir, "/tmp/smtpd_policy_test.XXXXXX");
    assert_non_null(mkdtemp(srv.dir));
    snprintf(srv.journal, sizeof(srv.journal), "%s/journal", srv.dir);
    if ((pid = fork()) == 0) {
        server_run(fd, srv.journal, script);
        _exit(0);
    }
    close(fd);
    srv.pid = pid;
    snprintf(spec, sizeof(spec), "inet:127.0.0.1:%s", addr.port);
    assert_true(smtpd_policy_query(&state, smtpd_policy_init(spec), action));
    assert_string_equal(vstring_str(action), "OK");
    journal = server_stop(&srv);
    assert_int_equal(count_of(journal, "request=smtpd_access_policy\n"), 1);
    myfree(journal);
    vstring_free(action);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_request_lines, setup),
        cmocka_unit_test_setup(test_reuse_and_reconnect, setup),
        cmocka_unit_test_setup(test_failures, setup),
        cmocka_unit_test_setup(test_try_limit, setup),
        cmocka_unit_test_setup(test_endpoints, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
