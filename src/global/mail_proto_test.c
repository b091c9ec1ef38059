/*
 * mail_proto_test - unit tests for mail_proto in a scratch queue
 * directory: mail_connect() to a listening private/ socket with an
 * attribute exchange, mail_connect_wait() when the service is up,
 * mail_trigger() to a FIFO and to a socket (the listener receives the
 * exact bytes), and the failures (no such service, not a FIFO/socket).
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
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "attr.h"
#include "iostuff.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "msg.h"
#include "sockets.h"
#include "vstream.h"
#include "vstring.h"

static char test_dir[] = "/tmp/mail_proto_test.XXXXXX";
static int test_warnings;
static char test_last_warning[512];

static void test_msg(enum msg_level level, const char *text)
{
    if (level == MSG_WARN) {
        test_warnings++;
        snprintf(test_last_warning, sizeof(test_last_warning), "%s", text);
    }
}

/* $test_dir/CLASS/NAME. */
static const char *service_path(VSTRING *buf, const char *class_, const char *name)
{
    return vstring_str(vstring_sprintf(buf, "%s/%s/%s", test_dir, class_, name));
}

static void test_connect(void **state UNUSED)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *id = vstring_alloc(10);
    int listen_fd = unix_listen(service_path(path, MAIL_CLASS_PRIVATE, MAIL_SERVICE_CLEANUP), 10, BLOCKING);
    int status = -1;

    assert_true(listen_fd >= 0);
    VSTREAM *client = mail_connect(MAIL_CLASS_PRIVATE, MAIL_SERVICE_CLEANUP, BLOCKING);
    assert_non_null(client);
    assert_string_equal(vstream_path(client), "private/cleanup");
    assert_int_equal(client->read_timeout, var_ipc_timeout * 1000);

    int server_fd = accept(listen_fd, NULL, NULL);
    assert_true(server_fd >= 0);
    VSTREAM *server = vstream_fdopen(server_fd, O_RDWR);

    attr_print(server, ATTR_FLAG_NONE, SEND_ATTR_STR(MAIL_ATTR_QUEUEID, "ABC123"), ATTR_TYPE_END);
    assert_int_equal(attr_scan(client, ATTR_FLAG_STRICT, RECV_ATTR_STR(MAIL_ATTR_QUEUEID, id), ATTR_TYPE_END),
                     1);
    assert_string_equal(vstring_str(id), "ABC123");
    attr_print(client, ATTR_FLAG_NONE, SEND_ATTR_INT(MAIL_ATTR_STATUS, 0), ATTR_TYPE_END);
    assert_int_equal(
        attr_scan(server, ATTR_FLAG_STRICT, RECV_ATTR_INT(MAIL_ATTR_STATUS, &status), ATTR_TYPE_END), 1);
    assert_int_equal(status, 0);
    vstream_fclose(client);
    vstream_fclose(server);

    /* mail_connect_wait() returns at once when the service is there. */
    client = mail_connect_wait(MAIL_CLASS_PRIVATE, MAIL_SERVICE_CLEANUP);
    assert_non_null(client);
    vstream_fclose(client);
    close(listen_fd);

    /* No such service: NULL and one warning naming it. */
    test_warnings = 0;
    assert_null(mail_connect(MAIL_CLASS_PRIVATE, "nosuch", BLOCKING));
    assert_int_equal(test_warnings, 1);
    assert_non_null(strstr(test_last_warning, "connect to subsystem private/nosuch"));
    vstring_free(path);
    vstring_free(id);
}

static void test_trigger_fifo(void **state UNUSED)
{
    VSTRING *path = vstring_alloc(100);
    int fd = fifo_listen(service_path(path, MAIL_CLASS_PUBLIC, MAIL_SERVICE_PICKUP), 0622, NON_BLOCKING);
    char buf[16];

    assert_true(fd >= 0);
    assert_int_equal(mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_PICKUP, "W", 1), 0);
    assert_int_equal(mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_PICKUP, "ID", 2), 0);
    assert_int_equal(read_wait(fd, 1000), 0);
    assert_int_equal(read(fd, buf, sizeof(buf)), 3);
    assert_memory_equal(buf, "WID", 3);
    close(fd);
    vstring_free(path);
}

static void test_trigger_socket(void **state UNUSED)
{
    VSTRING *path = vstring_alloc(100);
    int listen_fd = unix_listen(service_path(path, MAIL_CLASS_PUBLIC, MAIL_SERVICE_QUEUE), 10, BLOCKING);
    char buf[16];

    assert_true(listen_fd >= 0);
    assert_int_equal(mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_QUEUE, "DF", 2), 0);
    int fd = accept(listen_fd, NULL, NULL);
    assert_true(fd >= 0);
    /* The client wrote its bytes and closed: we read them, then EOF. */
    assert_int_equal(read(fd, buf, sizeof(buf)), 2);
    assert_memory_equal(buf, "DF", 2);
    assert_int_equal(read(fd, buf, sizeof(buf)), 0);
    close(fd);
    close(listen_fd);
    vstring_free(path);
}

/* A listener whose backlog is full already holds wakeups: mail_trigger()
 * does not wait for room, reports success, and warns about nothing. */
static void test_trigger_full_backlog(void **state UNUSED)
{
    VSTRING *path = vstring_alloc(100);
    int listen_fd = unix_listen(service_path(path, MAIL_CLASS_PUBLIC, "busy"), 1, BLOCKING);
    int64_t started;
    int n = 0;

    assert_true(listen_fd >= 0);
    test_warnings = 0;
    /* Fill the backlog (the kernel queues backlog + 1 connections). */
    while (n < 50 && unix_connect_nowait(vstring_str(path), BLOCKING) >= 0)
        n++;
    assert_true(n >= 1 && n < 50);
    assert_int_equal(errno, EAGAIN);
    started = iostuff_clock_ms();
    assert_int_equal(mail_trigger(MAIL_CLASS_PUBLIC, "busy", "I", 1), 0);
    assert_true(iostuff_clock_ms() - started < 1000);
    assert_int_equal(test_warnings, 0);
    /* The earlier wakeups are still there for the service. */
    int fd = accept(listen_fd, NULL, NULL);
    assert_true(fd >= 0);
    close(fd);
    close(listen_fd);
    vstring_free(path);
}

static void test_trigger_errors(void **state UNUSED)
{
    VSTRING *path = vstring_alloc(100);
    int fd;

    test_warnings = 0;
    assert_int_equal(mail_trigger(MAIL_CLASS_PUBLIC, "nosuch", "W", 1), -1);
    assert_int_equal(test_warnings, 1);
    assert_non_null(strstr(test_last_warning, "public/nosuch"));

    fd = open(service_path(path, MAIL_CLASS_PUBLIC, "plain"), O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    test_warnings = 0;
    assert_int_equal(mail_trigger(MAIL_CLASS_PUBLIC, "plain", "W", 1), -1);
    assert_int_equal(test_warnings, 1);

    /* A FIFO nobody reads. */
    assert_int_equal(mkfifo(service_path(path, MAIL_CLASS_PUBLIC, "deaf"), 0600), 0);
    test_warnings = 0;
    assert_int_equal(mail_trigger(MAIL_CLASS_PUBLIC, "deaf", "W", 1), -1);
    assert_int_equal(test_warnings, 1);
    vstring_free(path);
}

static int test_setup(void **state UNUSED)
{
    VSTRING *sub = vstring_alloc(100);

    if (mkdtemp(test_dir) == NULL)
        return -1;
    var_queue_directory = test_dir;
    var_ipc_timeout = 3600;
    vstring_sprintf(sub, "%s/public", test_dir);
    if (mkdir(vstring_str(sub), 0700) < 0)
        return -1;
    vstring_sprintf(sub, "%s/private", test_dir);
    if (mkdir(vstring_str(sub), 0700) < 0)
        return -1;
    vstring_free(sub);
    signal(SIGPIPE, SIG_IGN);
    msg_output(test_msg);
    return 0;
}

static int test_teardown(void **state UNUSED)
{
    VSTRING *cmd = vstring_alloc(100);
    int rc;

    vstring_sprintf(cmd, "rm -rf '%s'", test_dir);
    rc = system(vstring_str(cmd));
    vstring_free(cmd);
    msg_output_reset();
    return rc == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect),
        cmocka_unit_test(test_trigger_fifo),
        cmocka_unit_test(test_trigger_socket),
        cmocka_unit_test(test_trigger_full_backlog),
        cmocka_unit_test(test_trigger_errors),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
