/*
 * sockets_test - unit tests for sockets: TCP on loopback with ephemeral
 * ports, UNIX-domain sockets and FIFOs in a private temporary directory.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "iostuff.h"
#include "sockets.h"

static char tmpdir[64];

/* Make the private temporary directory. */
static int setup(void **state UNUSED)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/sockets_test.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* Remove the temporary directory and everything in it. */
static int teardown(void **state UNUSED)
{
    char cmd[100];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A path inside the test directory. */
static const char *tmp_path(const char *name)
{
    static char path[128];

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    return path;
}

/* Is ::1 configured here? (Some containers have no IPv6.) */
static bool have_ipv6_loopback(void)
{
    INET_ADDR_LIST *list = inet_addr_local(INET_ADDR_IPV6);
    bool found = false;

    for (size_t i = 0; list && i < list->used; i++) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&list->info[i].addr;

        found |= IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
    }
    inet_addr_list_free(list);
    return found;
}

/* Accept one connection and exchange a greeting in each direction. */
static void exchange(int listen_fd, int client_fd)
{
    char buf[16];
    int server_fd;

    assert_int_equal(read_wait(listen_fd, 2000), 0);
    assert_true((server_fd = accept(listen_fd, NULL, NULL)) >= 0);
    assert_int_equal(write_buf(client_fd, "hello", 5, 1000), 5);
    assert_int_equal(timed_read(server_fd, buf, sizeof(buf), 1000), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(write_buf(server_fd, "bye", 3, 1000), 3);
    assert_int_equal(timed_read(client_fd, buf, sizeof(buf), 1000), 3);
    assert_memory_equal(buf, "bye", 3);
    close(server_fd);
}

/* The address a listener is bound to, as "host:port" text. */
static void bound_address(int fd, SOCKADDR_STRING *buf)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    assert_int_equal(sockaddr_to_string((struct sockaddr *)&ss, buf), 0);
}

/* Splitting host and port, with defaults and syntax errors. */
static void test_host_port(void **state UNUSED)
{
    static const struct {
        const char *input;
        const char *def_host;
        const char *def_port;
        const char *want_host;
        const char *want_port;
        const char *want_err;
    } cases[] = {
        {"host:25", NULL, NULL, "host", "25", NULL},
        {"1.2.3.4:smtp", NULL, NULL, "1.2.3.4", "smtp", NULL},
        {"[::1]:25", NULL, NULL, "::1", "25", NULL},
        {"::1:25", NULL, NULL, "::1", "25", NULL},
        {"[fe80::1%eth0]:587", NULL, NULL, "fe80::1%eth0", "587", NULL},
        {"[mail.example]", NULL, "25", "mail.example", "25", NULL},
        {"mail.example", NULL, "25", "mail.example", "25", NULL},
        {":10025", "localhost", NULL, "localhost", "10025", NULL},
        {"host:", NULL, "25", "host", "25", NULL},
        {"mail.example", NULL, NULL, NULL, NULL, "missing port"},
        {":25", NULL, NULL, NULL, NULL, "missing host name"},
        {"[::1:25", NULL, NULL, NULL, NULL, "missing \"]\""},
        {"[::1]25", NULL, NULL, NULL, NULL, "text after \"]\" is not \":port\""},
        {"[]:25", NULL, NULL, NULL, NULL, "empty host name in \"[]\""},
        {"host:65536", NULL, NULL, NULL, NULL, "bad port syntax"},
        {"host:2 5", NULL, NULL, NULL, NULL, "bad port syntax"},
        {"ho st:25", NULL, NULL, NULL, NULL, "bad host name syntax"},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char buf[64];
        const char *host = "unset";
        const char *port = "unset";

        snprintf(buf, sizeof(buf), "%s", cases[i].input);
        const char *err = host_port(buf, &host, cases[i].def_host, &port, cases[i].def_port);

        if (cases[i].want_err) {
            assert_non_null(err);
            assert_string_equal(err, cases[i].want_err);
        } else {
            if (err)
                fail_msg("\"%s\": %s", cases[i].input, err);
            assert_string_equal(host, cases[i].want_host);
            assert_string_equal(port, cases[i].want_port);
        }
    }
}

/* Numeric text for IPv4, IPv6 and IPv4-mapped addresses; other families fail. */
static void test_sockaddr_to_string(void **state UNUSED)
{
    static const struct {
        int family;
        const char *addr;
        int port;
        const char *want_addr;
        const char *want_text;
    } cases[] = {
        {AF_INET, "192.0.2.1", 25, "192.0.2.1", "192.0.2.1:25"},
        {AF_INET6, "::1", 587, "::1", "[::1]:587"},
        {AF_INET6, "2001:db8::a:b", 0, "2001:db8::a:b", "[2001:db8::a:b]:0"},
        {AF_INET6, "::ffff:198.51.100.7", 65535, "198.51.100.7", "198.51.100.7:65535"},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct sockaddr_storage ss;
        SOCKADDR_STRING buf;
        char port[8];

        memset(&ss, 0, sizeof(ss));
        if (cases[i].family == AF_INET) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

            sin->sin_family = AF_INET;
            sin->sin_port = htons((uint16_t)cases[i].port);
            assert_int_equal(inet_pton(AF_INET, cases[i].addr, &sin->sin_addr), 1);
        } else {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

            sin6->sin6_family = AF_INET6;
            sin6->sin6_port = htons((uint16_t)cases[i].port);
            assert_int_equal(inet_pton(AF_INET6, cases[i].addr, &sin6->sin6_addr), 1);
        }
        assert_int_equal(sockaddr_to_string((struct sockaddr *)&ss, &buf), 0);
        snprintf(port, sizeof(port), "%d", cases[i].port);
        assert_string_equal(buf.addr, cases[i].want_addr);
        assert_string_equal(buf.port, port);
        assert_string_equal(buf.text, cases[i].want_text);
    }
    struct sockaddr_storage ss = {.ss_family = AF_UNIX};
    SOCKADDR_STRING buf;

    assert_int_equal(sockaddr_to_string((struct sockaddr *)&ss, &buf), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
}

/* Listen on each address form, connect to what was bound, exchange bytes. */
static void test_inet_exchange(void **state UNUSED)
{
    static const struct {
        const char *listen;
        const char *connect_host; /* NULL: the bound address */
        bool ipv6;
    } cases[] = {
        {"127.0.0.1:0", NULL, false}, {"0", "127.0.0.1", false}, {":0", "127.0.0.1", false},
        {"localhost:0", NULL, false}, {"[::1]:0", NULL, true},   {"::1:0", NULL, true},
    };
    bool ipv6 = have_ipv6_loopback();

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int lfd = inet_listen(cases[i].listen, 10, NON_BLOCKING);

        if (cases[i].ipv6 && !ipv6) {
            /* Without ::1 there is nothing to bind to; say so rather than pass silently. */
            assert_int_equal(lfd, -1);
            continue;
        }
        if (lfd < 0)
            fail_msg("inet_listen %s: %s", cases[i].listen, strerror(errno));
        assert_true(fcntl(lfd, F_GETFL) & O_NONBLOCK);
        assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
        SOCKADDR_STRING bound;
        char target[100];

        bound_address(lfd, &bound);
        if (cases[i].connect_host)
            snprintf(target, sizeof(target), "%s:%s", cases[i].connect_host, bound.port);
        else
            snprintf(target, sizeof(target), "%s", bound.text);
        int cfd = inet_connect(target, BLOCKING, 5);

        if (cfd < 0)
            fail_msg("inet_connect %s: %s", target, strerror(errno));
        assert_false(fcntl(cfd, F_GETFL) & O_NONBLOCK);
        exchange(lfd, cfd);
        close(cfd);
        close(lfd);
    }
}

/* The listener's IPv6 socket is IPv6-only and reusable at once after close. */
static void test_inet_options(void **state UNUSED)
{
    int on = 0;
    socklen_t len = sizeof(on);
    int lfd = inet_listen("127.0.0.1:0", 10, BLOCKING);
    SOCKADDR_STRING bound;

    assert_true(lfd >= 0);
    assert_int_equal(getsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, &len), 0);
    assert_int_equal(on, 1);
    bound_address(lfd, &bound);
    /* A second listener on the same port fails while the first is open. */
    assert_int_equal(inet_listen(bound.text, 10, BLOCKING), -1);
    assert_int_equal(errno, EADDRINUSE);
    close(lfd);
    if (have_ipv6_loopback()) {
        lfd = inet_listen("[::]:0", 10, BLOCKING);
        assert_true(lfd >= 0);
        on = 0;
        assert_int_equal(getsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &len), 0);
        assert_int_equal(on, 1);
        /* IPv6-only: the same port is not reachable over IPv4. */
        bound_address(lfd, &bound);
        char target[64];

        snprintf(target, sizeof(target), "127.0.0.1:%s", bound.port);
        assert_int_equal(inet_connect(target, BLOCKING, 2), -1);
        assert_int_equal(errno, ECONNREFUSED);
        close(lfd);
    }
}

/* Listener and client failures, with errno. */
static void test_inet_errors(void **state UNUSED)
{
    static const struct {
        const char *addr;
        bool listen;
        int want_errno;
    } cases[] = {
        {"127.0.0.1:99999", true, EINVAL}, {"[127.0.0.1", true, EINVAL},
        {"12a b", true, EINVAL},           {"127.0.0.1:no-such-service", true, EADDRNOTAVAIL},
        {"127.0.0.1", false, EINVAL},      {"127.0.0.1:no-such-service", false, EHOSTUNREACH},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        errno = 0;
        if (cases[i].listen)
            assert_int_equal(inet_listen(cases[i].addr, 10, BLOCKING), -1);
        else
            assert_int_equal(inet_connect(cases[i].addr, BLOCKING, 1), -1);
        assert_int_equal(errno, cases[i].want_errno);
    }

    /* A port nobody listens on: find one by closing a listener. */
    int lfd = inet_listen("127.0.0.1:0", 10, BLOCKING);
    SOCKADDR_STRING bound;

    bound_address(lfd, &bound);
    close(lfd);
    assert_int_equal(inet_connect(bound.text, BLOCKING, 2), -1);
    assert_int_equal(errno, ECONNREFUSED);
}

/*
 * A listener with a full backlog drops new connection requests, so a
 * client runs into its time limit instead of hanging.
 */
static void test_connect_timeout(void **state UNUSED)
{
    static const struct {
        bool unix_domain;
    } cases[] = {{false}, {true}};

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int lfd;
        char target[128];
        int fill[32];
        int nfill = 0;

        if (cases[i].unix_domain) {
            snprintf(target, sizeof(target), "%s", tmp_path("backlog"));
            lfd = unix_listen(target, 0, BLOCKING);
        } else {
            SOCKADDR_STRING bound;

            lfd = inet_listen("127.0.0.1:0", 0, BLOCKING);
            bound_address(lfd, &bound);
            snprintf(target, sizeof(target), "%s", bound.text);
        }
        assert_true(lfd >= 0);
        /* Fill the backlog with connections that are never accepted. */
        while (nfill < (int)ARRAY_LEN(fill)) {
            int fd = cases[i].unix_domain ? unix_connect(target, NON_BLOCKING, 1)
                                          : inet_connect(target, NON_BLOCKING, 1);

            if (fd < 0) {
                assert_int_equal(errno, ETIMEDOUT);
                break;
            }
            fill[nfill++] = fd;
        }
        assert_true(nfill > 0 && nfill < (int)ARRAY_LEN(fill));
        int64_t start = iostuff_clock_ms();
        int fd = cases[i].unix_domain ? unix_connect(target, BLOCKING, 1) : inet_connect(target, BLOCKING, 1);

        assert_int_equal(fd, -1);
        assert_int_equal(errno, ETIMEDOUT);
        int64_t elapsed = iostuff_clock_ms() - start;

        assert_true(elapsed >= 1000 && elapsed < 3000);
        while (nfill > 0)
            close(fill[--nfill]);
        close(lfd);
    }
}

/* UNIX-domain sockets: exchange, mode, stale socket, refusals. */
static void test_unix(void **state UNUSED)
{
    const char *path = tmp_path("sock");
    struct stat st;
    char longpath[200];

    int lfd = unix_listen(path, 10, NON_BLOCKING);

    assert_true(lfd >= 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0666);
    int cfd = unix_connect(path, BLOCKING, 2);

    assert_true(cfd >= 0);
    exchange(lfd, cfd);
    close(cfd);
    close(lfd);

    /* The socket left behind is stale; a new listener replaces it. */
    lfd = unix_listen(path, 10, BLOCKING);
    assert_true(lfd >= 0);
    cfd = unix_connect(path, NON_BLOCKING, 0);
    assert_true(cfd >= 0);
    assert_true(fcntl(cfd, F_GETFL) & O_NONBLOCK);
    exchange(lfd, cfd);
    close(cfd);
    close(lfd);
    unlink(path);

    static const struct {
        const char *what;
        int want_errno;
    } errors[] = {
        {"regular file", EEXIST},
        {"too long", ENAMETOOLONG},
        {"no directory", ENOENT},
    };

    for (size_t i = 0; i < ARRAY_LEN(errors); i++) {
        const char *target = path;

        if (i == 0) {
            int fd = open(path, O_WRONLY | O_CREAT, 0600);

            close(fd);
        } else if (i == 1) {
            memset(longpath, 'x', sizeof(longpath) - 1);
            longpath[0] = '/';
            longpath[sizeof(longpath) - 1] = 0;
            target = longpath;
        } else {
            target = tmp_path("missing/sock");
        }
        errno = 0;
        assert_int_equal(unix_listen(target, 10, BLOCKING), -1);
        assert_int_equal(errno, errors[i].want_errno);
        if (i == 0) {
            /* Not ours: left alone. */
            assert_int_equal(lstat(path, &st), 0);
            assert_true(S_ISREG(st.st_mode));
            assert_int_equal(unix_connect(path, BLOCKING, 1), -1);
            assert_int_equal(errno, ECONNREFUSED);
            unlink(path);
        }
    }
    assert_int_equal(unix_connect(tmp_path("nosuch"), BLOCKING, 1), -1);
    assert_int_equal(errno, ENOENT);
}

/* FIFOs: the mode sticks despite umask, triggers arrive, failures have errno. */
static void test_fifo(void **state UNUSED)
{
    const char *path = tmp_path("fifo");
    struct stat st;
    char buf[16];
    mode_t old_umask = umask(077);

    int fd = fifo_listen(path, 0622, NON_BLOCKING);

    umask(old_umask);
    assert_true(fd >= 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0622);

    static const struct {
        const char *data;
        size_t len;
    } triggers[] = {{"W", 1}, {"AB", 2}, {"\0", 1}};

    for (size_t i = 0; i < ARRAY_LEN(triggers); i++) {
        assert_int_equal(fifo_trigger(path, triggers[i].data, triggers[i].len, 1), 0);
        assert_int_equal(timed_read(fd, buf, sizeof(buf), 1000), (ssize_t)triggers[i].len);
        assert_memory_equal(buf, triggers[i].data, triggers[i].len);
    }
    /* The last writer going away is not end of file. */
    assert_int_equal(read_wait(fd, 20), -1);
    assert_int_equal(errno, ETIMEDOUT);
    close(fd);

    /* A FIFO nobody reads; a path that is not a FIFO; no such path. */
    assert_int_equal(fifo_trigger(path, "W", 1, 1), -1);
    assert_int_equal(errno, ENXIO);
    const char *file = tmp_path("plain");

    close(open(file, O_WRONLY | O_CREAT, 0600));
    assert_int_equal(fifo_trigger(file, "W", 1, 1), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(fifo_listen(file, 0622, BLOCKING), -1);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(fifo_trigger(tmp_path("nosuch"), "W", 1, 1), -1);
    assert_int_equal(errno, ENOENT);

    /* The stale FIFO is replaced by a new listener. */
    fd = fifo_listen(path, 0600, BLOCKING);
    assert_true(fd >= 0);
    assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_int_equal(fifo_trigger(path, "X", 1, 1), 0);
    assert_int_equal(timed_read(fd, buf, sizeof(buf), 1000), 1);
    close(fd);
}

/* Local addresses: loopback is listed with its netmask; families filter. */
static void test_inet_addr_local(void **state UNUSED)
{
    static const struct {
        int families;
        bool want_v4;
        bool want_v6;
    } cases[] = {
        {INET_ADDR_IPV4, true, false},
        {INET_ADDR_IPV6, false, true},
        {INET_ADDR_IPV4 | INET_ADDR_IPV6, true, true},
        {0, false, false},
    };
    bool ipv6 = have_ipv6_loopback();

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        INET_ADDR_LIST *list = inet_addr_local(cases[i].families);
        bool v4_loop = false;
        bool v6_loop = false;

        assert_non_null(list);
        for (size_t j = 0; j < list->used; j++) {
            INET_ADDR_INFO *info = &list->info[j];
            SOCKADDR_STRING addr, mask;

            assert_int_equal(info->addr.ss_family, info->mask.ss_family);
            assert_int_equal(sockaddr_to_string((struct sockaddr *)&info->addr, &addr), 0);
            assert_int_equal(sockaddr_to_string((struct sockaddr *)&info->mask, &mask), 0);
            if (info->addr.ss_family == AF_INET) {
                assert_true(cases[i].families & INET_ADDR_IPV4);
                if (strcmp(addr.addr, "127.0.0.1") == 0) {
                    v4_loop = true;
                    assert_string_equal(mask.addr, "255.0.0.0");
                    assert_int_equal(info->prefix_len, 8);
                }
            } else {
                assert_int_equal(info->addr.ss_family, AF_INET6);
                assert_true(cases[i].families & INET_ADDR_IPV6);
                if (strcmp(addr.addr, "::1") == 0) {
                    v6_loop = true;
                    assert_int_equal(info->prefix_len, 128);
                }
            }
            assert_true(info->ifname[0] != 0);
        }
        assert_int_equal(v4_loop, cases[i].want_v4);
        assert_int_equal(v6_loop, cases[i].want_v6 && ipv6);
        assert_null(inet_addr_list_free(list));
    }
}

/* Run the tests. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_port),
        cmocka_unit_test(test_sockaddr_to_string),
        cmocka_unit_test(test_inet_exchange),
        cmocka_unit_test(test_inet_options),
        cmocka_unit_test(test_inet_errors),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_inet_addr_local),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
