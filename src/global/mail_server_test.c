/*
 * mail_server_test - unit tests for the server skeletons: a child process
 * runs single_server_main() or trigger_server_main() with a status
 * socketpair on MASTER_STATUS_FD and a UNIX-domain listener on
 * MASTER_LISTEN_FD, exactly as the master starts it; the test plays
 * master and client and checks the status records, what the service
 * function saw, and how the process ends.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "iostuff.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_server.h"
#include "master_proto.h"
#include "sockets.h"

static char tmpdir[64];
static char sock_path[128];

static int setup(void **state UNUSED)
{
    char path[128];
    FILE *fp;

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/mail_server_test.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/main.cf", tmpdir);
    if ((fp = fopen(path, "w")) == NULL)
        return -1;
    fprintf(fp,
            "queue_directory = %s\nmaillog_file = %s/maillog\nmaillog_file_prefixes = %s\n"
            "smtpd_banner = from main.cf $service_name\n",
            tmpdir, tmpdir, tmpdir);
    fclose(fp);
    snprintf(sock_path, sizeof(sock_path), "%s/sock", tmpdir);
    return setenv("MAIL_CONFIG", tmpdir, 1);
}

static int teardown(void **state UNUSED)
{
    char cmd[100];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The service: reply with the banner parameter, then wait for the client to close. */
static void echo_service(VSTREAM *client, char *service, char **argv)
{
    VSTRING *buf = vstring_alloc(10);

    vstream_fprintf(client, "%s|%s|%s\n", service, var_smtpd_banner, argv[0] ? argv[0] : "");
    vstream_fflush(client);
    (void)vstream_fgets_nonl_limit(buf, client, 100);
    vstring_free(buf);
}

/* The multi-client service: echo each line; end of file ends the client. */
static void multi_echo_service(VSTREAM *client, char *service UNUSED, char **argv UNUSED)
{
    VSTRING *buf = vstring_alloc(10);

    if (vstream_fgets_nonl_limit(buf, client, 100) != VSTREAM_LINE_OK) {
        multi_server_disconnect(client);
    } else {
        vstream_fprintf(client, "%s\n", vstring_str(buf));
        vstream_fflush(client);
    }
    vstring_free(buf);
}

static void trigger_service(char *buf, ssize_t len, char *service UNUSED, char **argv UNUSED)
{
    /* Report the request back through the status channel's sibling: a file. */
    char path[128];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/trigger.out", tmpdir);
    if ((fp = fopen(path, "a")) != NULL) {
        fprintf(fp, "%.*s\n", (int)len, buf);
        fclose(fp);
    }
}

typedef struct SERVER {
    pid_t pid;
    int status_fd; /* the master's end */
} SERVER;

typedef enum { SINGLE, TRIGGER, MULTI } SKELETON;

/* Start a skeleton as the master would; ARGV without the program name. */
static SERVER start_server(SKELETON kind, const char *const *args)
{
    SERVER srv;
    int pair[2];
    int listen_fd;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    assert_true((listen_fd = unix_listen(sock_path, 10, NON_BLOCKING)) >= 0);
    srv.pid = fork();
    assert_true(srv.pid >= 0);
    if (srv.pid == 0) {
        char *argv[20] = {"testprog"};
        int argc = 1;

        for (; args[argc - 1]; argc++)
            argv[argc] = (char *)args[argc - 1];
        int status_fd = fcntl(pair[1], F_DUPFD, 20);
        int lfd = fcntl(listen_fd, F_DUPFD, 20);

        dup2(status_fd, MASTER_STATUS_FD);
        dup2(lfd, MASTER_LISTEN_FD);
        close(pair[0]);
        static const MAIL_SERVER_OPTS opts;
        if (kind == TRIGGER)
            trigger_server_main(argc, argv, trigger_service, &opts);
        if (kind == MULTI)
            multi_server_main(argc, argv, multi_echo_service, &opts);
        single_server_main(argc, argv, echo_service, &opts);
    }
    close(pair[1]);
    close(listen_fd);
    srv.status_fd = pair[0];
    return srv;
}

/* The next status record, within 5 seconds. */
static MASTER_STATUS next_status(SERVER *srv)
{
    MASTER_STATUS stat;

    assert_int_equal(timed_read(srv->status_fd, &stat, sizeof(stat), 5000), sizeof(stat));
    assert_int_equal(stat.pid, srv->pid);
    return stat;
}

/* The exit status of the server, within 5 seconds. */
static int server_exit(SERVER *srv)
{
    int status = -1;

    for (int i = 0; i < 500; i++) {
        if (waitpid(srv->pid, &status, WNOHANG) == srv->pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(10000);
    }
    kill(srv->pid, SIGKILL);
    fail_msg("server did not exit");
    return -1;
}

/* One client session: returns the service's first line. */
static void session(char *line, size_t len)
{
    int fd = unix_connect(sock_path, BLOCKING, 5);
    ssize_t n;

    assert_true(fd >= 0);
    n = timed_read(fd, line, len - 1, 5000);
    assert_true(n > 0);
    line[n] = 0;
    close(fd);
}

static void test_single_status_and_master_gone(void **state UNUSED)
{
    static const struct {
        const char *args[10];
        const char *reply;
    } cases[] = {
        {{"-n", "svc", "-t", "unix", NULL}, "svc|from main.cf svc|\n"},
        {{"-n", "svc", "-t", "unix", "-o", "smtpd_banner=over $service_name", "extra", NULL},
         "svc|over svc|extra\n"},
        {{"-n", "x", "-t", "unix", "-o", "syslog_name=postfix/$service_name", NULL}, "x|from main.cf x|\n"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        SERVER srv = start_server(SINGLE, cases[i].args);
        char line[200];

        session(line, sizeof(line));
        assert_string_equal(line, cases[i].reply);
        assert_int_equal(next_status(&srv).avail, MASTER_STAT_TAKEN);
        assert_int_equal(next_status(&srv).avail, MASTER_STAT_AVAIL);
        close(srv.status_fd); /* the master goes away: the idle server exits */
        assert_int_equal(server_exit(&srv), 0);
    }
}

static void test_single_max_use(void **state UNUSED)
{
    static const char *const args[] = {"-n", "svc", "-t", "unix", "-o", "max_use=2", NULL};
    SERVER srv = start_server(SINGLE, args);
    char line[200];

    session(line, sizeof(line));
    assert_int_equal(next_status(&srv).avail, MASTER_STAT_TAKEN);
    assert_int_equal(next_status(&srv).avail, MASTER_STAT_AVAIL);
    session(line, sizeof(line));
    assert_int_equal(next_status(&srv).avail, MASTER_STAT_TAKEN);
    /* Second client was the last: exit without turning available again. */
    assert_int_equal(server_exit(&srv), 0);
    close(srv.status_fd);
}

/* One echo exchange with a multi-client server over FD. */
static void multi_echo(int fd, const char *line)
{
    char reply[100];
    ssize_t n;

    assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
    n = timed_read(fd, reply, sizeof(reply) - 1, 5000);
    assert_true(n > 0);
    reply[n] = 0;
    assert_string_equal(reply, line);
}

/* Whether a status record arrives within MS milliseconds. */
static bool status_within(SERVER *srv, int ms)
{
    MASTER_STATUS stat;

    return timed_read(srv->status_fd, &stat, sizeof(stat), ms) == sizeof(stat);
}

static void test_multi_stays_available(void **state UNUSED)
{
    static const char *const args[] = {"-n", "svc", "-t", "unix", "-o", "max_use=3", NULL};
    SERVER srv = start_server(MULTI, args);
    int a = unix_connect(sock_path, BLOCKING, 5);
    int b = unix_connect(sock_path, BLOCKING, 5);
    int c;

    /* Serving two clients at once, it still takes more: no status record. */
    assert_true(a >= 0 && b >= 0);
    multi_echo(a, "one\n");
    multi_echo(b, "two\n");
    assert_false(status_within(&srv, 300));
    /* The third is the last of max_use: from now on it takes no more. */
    assert_true((c = unix_connect(sock_path, BLOCKING, 5)) >= 0);
    multi_echo(c, "three\n");
    assert_int_equal(next_status(&srv).avail, MASTER_STAT_TAKEN);
    multi_echo(a, "still served\n");
    close(a);
    close(b);
    close(c);
    assert_int_equal(server_exit(&srv), 0);
    assert_false(status_within(&srv, 0));
    close(srv.status_fd);
}

static void test_single_max_idle(void **state UNUSED)
{
    static const char *const args[] = {"-n", "svc", "-t", "unix", "-o", "max_idle=1s", NULL};
    SERVER srv = start_server(SINGLE, args);

    assert_int_equal(server_exit(&srv), 0);
    close(srv.status_fd);
}

static void test_trigger(void **state UNUSED)
{
    static const char *const args[] = {"-n", "pickup", "-t", "unix", NULL};
    SERVER srv = start_server(TRIGGER, args);
    char path[128];
    char buf[100] = "";
    FILE *fp;
    int fd = unix_connect(sock_path, BLOCKING, 5);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "W", 1), 1);
    close(fd);
    assert_int_equal(next_status(&srv).avail, MASTER_STAT_TAKEN);
    assert_int_equal(next_status(&srv).avail, MASTER_STAT_AVAIL);
    snprintf(path, sizeof(path), "%s/trigger.out", tmpdir);
    assert_non_null(fp = fopen(path, "r"));
    assert_non_null(fgets(buf, sizeof(buf), fp));
    fclose(fp);
    assert_string_equal(buf, "W\n");
    kill(srv.pid, SIGTERM);
    assert_int_equal(server_exit(&srv), 0);
    close(srv.status_fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_status_and_master_gone),
        cmocka_unit_test(test_single_max_use),
        cmocka_unit_test(test_multi_stays_available),
        cmocka_unit_test(test_single_max_idle),
        cmocka_unit_test(test_trigger),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
