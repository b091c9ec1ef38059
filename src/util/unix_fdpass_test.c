/*
 * unix_fdpass_test - unit tests for descriptor passing over a socketpair:
 * a pipe's write end passed and written through, the marker byte without
 * a descriptor, data that follows the byte left unread for the next
 * reader, end of file, and a timeout.
 */
#include "sys_defs.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "unix_fdpass.h"

static void test_pass(void **unused)
{
    int sv[2];
    int pfd[2];
    int got;
    char buf[16];

    (void)unused;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(pipe(pfd), 0);
    assert_int_equal(unix_send_fd(sv[0], pfd[1]), 0);
    close(pfd[1]);
    assert_int_equal(write(sv[0], "after", 5), 5);
    got = unix_recv_fd(sv[1], 5);
    assert_true(got >= 0);
    assert_int_equal(write(got, "hello", 5), 5);
    close(got);
    assert_int_equal(read(pfd[0], buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "hello", 5);
    /* The bytes behind the marker are still there for the next read. */
    assert_int_equal(read(sv[1], buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "after", 5);
    close(pfd[0]);
    close(sv[0]);
    close(sv[1]);
}

static void test_none_eof_timeout(void **unused)
{
    int sv[2];

    (void)unused;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(unix_send_fd(sv[0], -1), 0);
    assert_int_equal(unix_recv_fd(sv[1], 5), UNIX_FDPASS_NONE);
    assert_int_equal(unix_recv_fd(sv[1], 1), -1); /* nothing arrives: timeout */
    close(sv[0]);
    assert_int_equal(unix_recv_fd(sv[1], 5), -1);
    assert_int_equal(errno, ECONNRESET);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pass),
        cmocka_unit_test(test_none_eof_timeout),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
