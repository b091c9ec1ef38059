/*
 * safe_open_test - unit tests for safe_open, in a private temporary directory.
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
#include <unistd.h>
#include <cmocka.h>

#include "safe_open.h"
#include "vstring.h"

static char tmpdir[64];

/* What is at the path before safe_open() runs. */
enum setup { MISSING, REGULAR, SYMLINK, DANGLING, HARDLINK, DIRECTORY, FIFO };

#define NO_UID  ((uid_t)-1)
#define NO_GID  ((gid_t)-1)
#define CONTENT "existing\n"

/* Make the private temporary directory. */
static int setup(void **state UNUSED)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/safe_open_test.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* Remove the temporary directory and everything in it. */
static int teardown(void **state UNUSED)
{
    char cmd[100];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Make a fresh directory for one case and put the named thing at dir/file. */
static void prepare(enum setup what, int n, char *path, char *other, size_t len)
{
    char dir[100];

    snprintf(dir, sizeof(dir), "%s/%d", tmpdir, n);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, len, "%s/file", dir);
    snprintf(other, len, "%s/other", dir);
    if (what == REGULAR || what == SYMLINK || what == HARDLINK) {
        FILE *fp = fopen(what == REGULAR ? path : other, "w");

        assert_non_null(fp);
        fputs(CONTENT, fp);
        fclose(fp);
    }
    if (what == SYMLINK || what == DANGLING)
        assert_int_equal(symlink(other, path), 0);
    if (what == HARDLINK)
        assert_int_equal(link(other, path), 0);
    if (what == DIRECTORY)
        assert_int_equal(mkdir(path, 0700), 0);
    if (what == FIFO)
        assert_int_equal(mkfifo(path, 0600), 0);
}

/* Size of a file, or -1 if it does not exist. */
static long file_size(const char *path)
{
    struct stat st;

    return lstat(path, &st) < 0 ? -1 : (long)st.st_size;
}

/* Each kind of file at the path, with each kind of request. */
static void test_cases(void **state UNUSED)
{
    static const struct {
        enum setup setup;
        int flags;
        bool wrong_user;
        bool wrong_group;
        const char *want_why; /* NULL: success; else the start of the reason */
        int want_errno;
        long want_size; /* of path (success) or of other (failure) */
    } cases[] = {
        {MISSING, O_WRONLY | O_APPEND | O_CREAT, false, false, NULL, 0, 0},
        {MISSING, O_WRONLY | O_CREAT | O_EXCL, false, false, NULL, 0, 0},
        {MISSING, O_WRONLY, false, false, "cannot open file: No such file or directory", ENOENT, -1},
        {REGULAR, O_WRONLY | O_APPEND | O_CREAT, false, false, NULL, 0, sizeof(CONTENT) - 1},
        {REGULAR, O_RDWR | O_TRUNC, false, false, NULL, 0, 0},
        {REGULAR, O_WRONLY | O_CREAT | O_EXCL, false, false, "cannot create file exclusively: File exists",
         EEXIST, -1},
        {REGULAR, O_WRONLY, true, false, "file is owned by uid ", EPERM, -1},
        {REGULAR, O_WRONLY, false, true, "file has group id ", EPERM, -1},
        {SYMLINK, O_WRONLY | O_TRUNC, false, false, "file is a symbolic link", ELOOP, sizeof(CONTENT) - 1},
        {SYMLINK, O_RDONLY, false, false, "file is a symbolic link", ELOOP, sizeof(CONTENT) - 1},
        {DANGLING, O_WRONLY | O_CREAT, false, false, "file is a symbolic link", ELOOP, -1},
        {DANGLING, O_WRONLY | O_CREAT | O_EXCL, false, false, "cannot create file exclusively: File exists",
         EEXIST, -1},
        {HARDLINK, O_WRONLY | O_TRUNC, false, false, "file has 2 hard links", EMLINK, sizeof(CONTENT) - 1},
        {DIRECTORY, O_RDONLY, false, false, "file is not a regular file", EINVAL, -1},
        {DIRECTORY, O_WRONLY, false, false, "cannot open file: Is a directory", EISDIR, -1},
        {FIFO, O_RDONLY, false, false, "file is not a regular file", EINVAL, -1},
    };
    VSTRING *why = vstring_alloc(10);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char path[128], other[128];
        struct stat st;

        prepare(cases[i].setup, (int)i, path, other, sizeof(path));
        uid_t user = cases[i].wrong_user ? geteuid() + 1 : geteuid();
        gid_t group = cases[i].wrong_group ? getegid() + 1 : getegid();

        errno = 0;
        int fd = safe_open(path, cases[i].flags, 0640, &st, user, group, why);

        if (cases[i].want_why == NULL) {
            if (fd < 0)
                fail_msg("case %zu: %s", i, vstring_str(why));
            assert_int_equal(st.st_size, cases[i].want_size);
            assert_int_equal(file_size(path), cases[i].want_size);
            assert_true(S_ISREG(st.st_mode));
            assert_int_equal(st.st_uid, geteuid());
            assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
            assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
            if (cases[i].setup == MISSING) {
                mode_t mask = umask(0);

                umask(mask);
                assert_int_equal(st.st_mode & 0777, 0640 & ~mask);
            }
            /* The descriptor was opened with the caller's access mode. */
            assert_int_equal(write(fd, "x", 1), (cases[i].flags & O_ACCMODE) == O_RDONLY ? -1 : 1);
            close(fd);
        } else {
            assert_int_equal(fd, -1);
            assert_int_equal(errno, cases[i].want_errno);
            if (strncmp(vstring_str(why), cases[i].want_why, strlen(cases[i].want_why)) != 0)
                fail_msg("case %zu: got \"%s\", want \"%s\"", i, vstring_str(why), cases[i].want_why);
            /* Whatever the path pointed to is untouched. */
            assert_int_equal(file_size(other), cases[i].want_size);
        }
    }
    vstring_free(why);
}

/* A file created for someone else is theirs; a chown we may not do leaves nothing behind. */
static void test_create_owner(void **state UNUSED)
{
    VSTRING *why = vstring_alloc(10);
    char path[128];
    struct stat st;
    bool root = geteuid() == 0;
    uid_t user = root ? 65534 : geteuid() + 1;
    gid_t group = root ? 65534 : getegid();

    snprintf(path, sizeof(path), "%s/owned", tmpdir);
    int fd = safe_open(path, O_WRONLY | O_CREAT, 0600, &st, user, group, why);

    if (root) {
        assert_true(fd >= 0);
        assert_int_equal(st.st_uid, 65534);
        assert_int_equal(st.st_gid, 65534);
        close(fd);
        /* Reopening requires the same owner. */
        fd = safe_open(path, O_WRONLY, 0, NULL, 65534, NO_GID, why);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(safe_open(path, O_WRONLY, 0, NULL, 0, NO_GID, why), -1);
        assert_string_equal(vstring_str(why), "file is owned by uid 65534, not uid 0");
    } else {
        assert_int_equal(fd, -1);
        assert_int_equal(errno, EPERM);
        assert_true(strncmp(vstring_str(why), "cannot set file owner", 21) == 0);
        assert_int_equal(file_size(path), -1);
    }

    /* No owner requested: whoever we are. */
    snprintf(path, sizeof(path), "%s/anyone", tmpdir);
    fd = safe_open(path, O_WRONLY | O_CREAT, 0600, &st, NO_UID, NO_GID, why);
    assert_true(fd >= 0);
    assert_int_equal(st.st_uid, geteuid());
    close(fd);
    vstring_free(why);
}

/* Run the tests. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_create_owner),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
