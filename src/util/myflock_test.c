/*
 * myflock_test - unit tests for myflock. Conflicts are tested from a child
 * process, because fcntl locks never conflict within one process.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "iostuff.h"
#include "myflock.h"
#include "vstring.h"

static char tmpdir[64];
static char file[100];

/* Make the temporary directory and the file to lock. */
static int setup(void **state UNUSED)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/myflock_test.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(file, sizeof(file), "%s/mailbox", tmpdir);
    int fd = open(file, O_RDWR | O_CREAT, 0600);

    return fd < 0 ? -1 : close(fd);
}

/* Remove the temporary directory and everything in it. */
static int teardown(void **state UNUSED)
{
    char cmd[100];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* In a child with its own descriptor: 0 = got the lock, 1 = EAGAIN, 2 = other error. */
static int contend(int method, int op)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(file, O_RDWR);

        if (fd < 0)
            _exit(3);
        if (myflock(fd, method, op) == 0)
            _exit(0);
        _exit(errno == EAGAIN ? 1 : 2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* The method list for postconf -l, and name lookup. */
static void test_methods(void **state UNUSED)
{
    static const char *const want[] = {"flock", "fcntl", "dotlock"};
    static const struct {
        const char *name;
        int method;
    } cases[] = {
        {"flock", MYFLOCK_METHOD_FLOCK},
        {"fcntl", MYFLOCK_METHOD_FCNTL},
        {"dotlock", MYFLOCK_METHOD_DOTLOCK},
        {"FLOCK", -1},
        {"", -1},
        {"lockf", -1},
    };
    const char *const *names = myflock_methods();
    size_t n = 0;

    for (; names[n]; n++) {
        assert_true(n < ARRAY_LEN(want));
        assert_string_equal(names[n], want[n]);
    }
    assert_int_equal(n, ARRAY_LEN(want));
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        assert_int_equal(myflock_method(cases[i].name), cases[i].method);
}

/* What a second process gets while we hold a lock. */
static void test_conflicts(void **state UNUSED)
{
    static const struct {
        int held;    /* our lock (NONE: locked, then released) */
        int request; /* the other process's NOWAIT request */
        int want;    /* 0: granted, 1: EAGAIN */
    } cases[] = {
        {MYFLOCK_OP_EXCLUSIVE, MYFLOCK_OP_EXCLUSIVE, 1}, {MYFLOCK_OP_EXCLUSIVE, MYFLOCK_OP_SHARED, 1},
        {MYFLOCK_OP_SHARED, MYFLOCK_OP_SHARED, 0},       {MYFLOCK_OP_SHARED, MYFLOCK_OP_EXCLUSIVE, 1},
        {MYFLOCK_OP_NONE, MYFLOCK_OP_EXCLUSIVE, 0},
    };
    static const int methods[] = {MYFLOCK_METHOD_FLOCK, MYFLOCK_METHOD_FCNTL};

    for (size_t m = 0; m < ARRAY_LEN(methods); m++) {
        for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
            int fd = open(file, O_RDWR);

            assert_true(fd >= 0);
            if (cases[i].held == MYFLOCK_OP_NONE) {
                assert_int_equal(myflock(fd, methods[m], MYFLOCK_OP_EXCLUSIVE), 0);
                assert_int_equal(myflock(fd, methods[m], MYFLOCK_OP_NONE), 0);
            } else {
                assert_int_equal(myflock(fd, methods[m], cases[i].held | MYFLOCK_OP_NOWAIT), 0);
            }
            assert_int_equal(contend(methods[m], cases[i].request | MYFLOCK_OP_NOWAIT), cases[i].want);
            close(fd);
        }
    }

    /* flock locks belong to the open file: a second open in the same process conflicts. */
    int fd1 = open(file, O_RDWR);
    int fd2 = open(file, O_RDWR);

    assert_int_equal(myflock(fd1, MYFLOCK_METHOD_FLOCK, MYFLOCK_OP_EXCLUSIVE), 0);
    assert_int_equal(myflock(fd2, MYFLOCK_METHOD_FLOCK, MYFLOCK_OP_EXCLUSIVE | MYFLOCK_OP_NOWAIT), -1);
    assert_int_equal(errno, EAGAIN);
    close(fd1);
    close(fd2);
    assert_int_equal(myflock(-1, MYFLOCK_METHOD_FCNTL, MYFLOCK_OP_SHARED), -1);
    assert_int_equal(errno, EBADF);
}

/* A blocking request waits until the holder lets go. */
static void test_wait(void **state UNUSED)
{
    static const int methods[] = {MYFLOCK_METHOD_FLOCK, MYFLOCK_METHOD_FCNTL};

    for (size_t m = 0; m < ARRAY_LEN(methods); m++) {
        int fd = open(file, O_RDWR);
        int sync[2];

        assert_int_equal(pipe(sync), 0);
        assert_int_equal(myflock(fd, methods[m], MYFLOCK_OP_EXCLUSIVE), 0);
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
            int cfd = open(file, O_RDWR);

            close(sync[0]);
            int64_t start = iostuff_clock_ms();

            (void)!write(sync[1], "", 1);
            if (myflock(cfd, methods[m], MYFLOCK_OP_EXCLUSIVE) < 0)
                _exit(2);
            _exit(iostuff_clock_ms() - start >= 100 ? 0 : 1);
        }
        close(sync[1]);
        char ch;

        assert_int_equal(timed_read(sync[0], &ch, 1, 2000), 1);
        usleep(150000);
        assert_int_equal(myflock(fd, methods[m], MYFLOCK_OP_NONE), 0);
        int status;

        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        close(sync[0]);
        close(fd);
    }
}

/* Dot-locks: exclusive, removable, stale ones expire. */
static void test_dotlock(void **state UNUSED)
{
    static const struct {
        bool pre_existing;
        int age; /* of the existing lock, seconds */
        int stale_age;
        int want;
        int want_errno;
    } cases[] = {
        {false, 0, 0, 0, 0},         {true, 0, 0, -1, EAGAIN}, {true, 0, 60, -1, EAGAIN},
        {true, 3600, 0, -1, EAGAIN}, {true, 3600, 60, 0, 0},
    };
    VSTRING *why = vstring_alloc(100);
    char lock[128];
    char want_why[256];
    struct stat st;

    snprintf(lock, sizeof(lock), "%s.lock", file);
    snprintf(want_why, sizeof(want_why), "lock file %s exists", lock);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        unlink(lock);
        if (cases[i].pre_existing) {
            struct timeval tv[2];

            close(open(lock, O_WRONLY | O_CREAT, 0600));
            gettimeofday(&tv[0], NULL);
            tv[0].tv_sec -= cases[i].age;
            tv[1] = tv[0];
            assert_int_equal(utimes(lock, tv), 0);
        }
        errno = 0;
        assert_int_equal(myflock_dotlock(file, cases[i].stale_age, why), cases[i].want);
        assert_int_equal(lstat(lock, &st), 0);
        if (cases[i].want == 0) {
            assert_true(st.st_size > 0); /* ours, with our PID */
            assert_string_equal(vstring_str(why), "");
        } else {
            assert_int_equal(errno, cases[i].want_errno);
            assert_string_equal(vstring_str(why), want_why);
        }
    }
    assert_int_equal(myflock_dotunlock(file), 0);
    assert_int_equal(lstat(lock, &st), -1);
    assert_int_equal(myflock_dotunlock(file), -1);
    assert_int_equal(errno, ENOENT);

    /* Lock and unlock again. */
    assert_int_equal(myflock_dotlock(file, 0, why), 0);
    assert_int_equal(myflock_dotunlock(file), 0);

    /* No such directory. */
    char missing[128];

    snprintf(missing, sizeof(missing), "%s/nodir/mailbox", tmpdir);
    assert_int_equal(myflock_dotlock(missing, 0, why), -1);
    assert_int_equal(errno, ENOENT);
    snprintf(want_why, sizeof(want_why), "cannot create lock file %s.lock: No such file or directory",
             missing);
    assert_string_equal(vstring_str(why), want_why);
    vstring_free(why);
}

/* Run the tests. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_wait),
        cmocka_unit_test(test_dotlock),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
