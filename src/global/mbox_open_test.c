/*
 * mbox_open_test - unit tests for mbox_open: creating a mailbox with its
 * owner, refusing symlinks, hard links, non-regular files and foreign
 * owners, the dot-lock (created, removed, stale ones replaced), lock
 * contention for each method (4.2.0 after deliver_lock_attempts),
 * mbox_truncate(), and lock method names.
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
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>
#include <cmocka.h>

#include "dsn.h"
#include "mail_params.h"
#include "mbox_open.h"
#include "msg.h"
#include "myflock.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

#define MBOX_FLAGS (O_APPEND | O_WRONLY | O_CREAT)

static char test_dir[] = "/tmp/mbox_open_test.XXXXXX";
static int test_warnings;

/* Count warnings instead of printing them. */
static void test_msg(enum msg_level level, const char *text UNUSED)
{
    if (level == MSG_WARN)
        test_warnings++;
}

/* A path in the scratch directory (static buffer per slot). */
static const char *scratch(int slot, const char *name)
{
    static VSTRING *bufs[4];

    if (bufs[slot] == NULL)
        bufs[slot] = vstring_alloc(100);
    return vstring_str(vstring_sprintf(bufs[slot], "%s/%s", test_dir, name));
}

/* Does path exist (without following symlinks)? */
static bool exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* Write text into a new file. */
static void put_file(const char *path, const char *text)
{
    VSTREAM *fp = vstream_fopen(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_non_null(fp);
    vstream_fputs(text, fp);
    assert_int_equal(vstream_fclose(fp), 0);
}

/* A new mailbox gets our owner; the dot-lock exists while held and goes away after. */
static void test_create(void **state UNUSED)
{
    const char *path = scratch(0, "alice");
    const char *lock = scratch(1, "alice.lock");
    DSN_BUF *why = dsb_create();
    struct stat st;

    (void)unlink(path);
    MBOX *mp = mbox_open(path, MBOX_FLAGS, 0600, &st, getuid(), getgid(),
                         MBOX_DOT_LOCK | MBOX_FCNTL_LOCK | MBOX_FLOCK_LOCK, "5.2.0", why);

    assert_non_null(mp);
    assert_int_equal(mp->locked, MBOX_DOT_LOCK | MBOX_FCNTL_LOCK | MBOX_FLOCK_LOCK);
    assert_int_equal(mp->orig_size, 0);
    assert_int_equal(st.st_uid, getuid());
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_true(exists(lock));
    vstream_fputs("From x  Sat Nov 21 10:00:00 2026\n", mp->fp);
    mbox_release(mp);
    assert_false(exists(lock));

    /* Appending to an existing mailbox: orig_size is its length. */
    mp = mbox_open(path, MBOX_FLAGS, 0600, &st, (uid_t)-1, (gid_t)-1, MBOX_DOT_LOCK, "5.2.0", why);
    assert_non_null(mp);
    assert_int_equal(mp->orig_size, 33);
    assert_int_equal(st.st_size, 33);
    mbox_release(mp);

    /* As root, a new mailbox is given to its owner. */
    if (geteuid() == 0) {
        const char *owned = scratch(2, "owned");

        mp = mbox_open(owned, MBOX_FLAGS, 0600, &st, 65534, 65534, MBOX_FCNTL_LOCK, "5.2.0", why);
        assert_non_null(mp);
        assert_int_equal(st.st_uid, 65534);
        assert_int_equal(st.st_gid, 65534);
        mbox_release(mp);
    }
    dsb_free(why);
}

static const struct refuse_case {
    const char *name;
    const char *def_status;
    const char *status;
    const char *reason;
} refuse_cases[] = {
    {"symlink", "5.2.0", "5.2.0", "file is a symbolic link"},
    {"hardlink", "5.2.0", "5.2.0", "file has 2 hard links"},
    {"directory", "5.3.0", "5.3.0", "cannot open file: Is a directory"},
    {"fifo", "5.2.0", "5.2.0", "cannot open file: No such device or address"},
    {"foreign", "5.2.0", "5.2.0", NULL}, /* reason names the uids */
    {"nodir/x", "5.2.0", "5.2.0", "cannot open file: No such file or directory"},
};

/* Destinations that must not be written to. */
static void test_refuse(void **state UNUSED)
{
    DSN_BUF *why = dsb_create();

    put_file(scratch(0, "target"), "x");
    assert_int_equal(symlink(scratch(0, "target"), scratch(1, "symlink")), 0);
    put_file(scratch(0, "hardlink"), "x");
    assert_int_equal(link(scratch(0, "hardlink"), scratch(1, "hardlink2")), 0);
    assert_int_equal(mkdir(scratch(0, "directory"), 0700), 0);
    assert_int_equal(mkfifo(scratch(0, "fifo"), 0600), 0);
    put_file(scratch(0, "foreign"), "x");

    for (size_t i = 0; i < ARRAY_LEN(refuse_cases); i++) {
        const struct refuse_case *c = &refuse_cases[i];
        uid_t uid = strcmp(c->name, "foreign") == 0 ? getuid() + 1 : (uid_t)-1;
        MBOX *mp =
            mbox_open(scratch(0, c->name), strcmp(c->name, "nodir/x") ? MBOX_FLAGS : O_APPEND | O_WRONLY,
                      0600, NULL, uid, (gid_t)-1, MBOX_DOT_LOCK | MBOX_FCNTL_LOCK, c->def_status, why);

        if (mp != NULL)
            fail_msg("case %s: opened", c->name);
        assert_string_equal(vstring_str(why->status), c->status);
        if (c->reason)
            assert_string_equal(vstring_str(why->reason), c->reason);
        else
            assert_non_null(strstr(vstring_str(why->reason), "is owned by uid"));
        /* No dot-lock was left behind. */
        VSTRING *lock = vstring_sprintf(vstring_alloc(100), "%s.lock", scratch(0, c->name));

        assert_false(exists(vstring_str(lock)));
        vstring_free(lock);
    }
    /* The symlink's target was not touched. */
    struct stat st;

    assert_int_equal(stat(scratch(0, "target"), &st), 0);
    assert_int_equal(st.st_size, 1);
    dsb_free(why);
}

/* A stale dot-lock is removed; a fresh one makes the open fail with 4.2.0. */
static void test_dotlock(void **state UNUSED)
{
    const char *path = scratch(0, "dotbox");
    const char *lock = scratch(1, "dotbox.lock");
    DSN_BUF *why = dsb_create();
    time_t old = time(NULL) - 1000;
    struct utimbuf times = {.actime = old, .modtime = old};

    var_deliver_lock_attempts = 2;
    var_deliver_lock_delay = 1;
    var_stale_lock_time = 500;

    /* Stale. */
    put_file(lock, "12345\n");
    assert_int_equal(utime(lock, &times), 0);
    test_warnings = 0;
    MBOX *mp = mbox_open(path, MBOX_FLAGS, 0600, NULL, (uid_t)-1, (gid_t)-1, MBOX_DOT_LOCK, "5.2.0", why);

    assert_non_null(mp);
    assert_int_equal(test_warnings, 1); /* removing stale lock file */
    assert_int_equal(mp->locked, MBOX_DOT_LOCK);
    struct stat st;

    assert_int_equal(stat(lock, &st), 0);
    assert_true(st.st_mtime > old);
    mbox_release(mp);
    assert_false(exists(lock));

    /* Fresh: held by someone else. */
    put_file(lock, "12345\n");
    mp = mbox_open(path, MBOX_FLAGS, 0600, NULL, (uid_t)-1, (gid_t)-1, MBOX_DOT_LOCK | MBOX_FCNTL_LOCK,
                   "5.2.0", why);
    assert_null(mp);
    assert_string_equal(vstring_str(why->status), "4.2.0");
    assert_string_equal(vstring_str(why->reason),
                        "unable to lock for exclusive access: Resource temporarily unavailable");
    assert_true(exists(lock)); /* not ours: left alone */
    assert_int_equal(unlink(lock), 0);

    /* A directory we may not write to: no dot-lock, no error. */
    if (geteuid() != 0) {
        const char *rodir = scratch(2, "ro");
        const char *robox = scratch(3, "ro/box");

        assert_int_equal(mkdir(rodir, 0700), 0);
        put_file(robox, "");
        assert_int_equal(chmod(rodir, 0500), 0);
        mp = mbox_open(robox, MBOX_FLAGS, 0600, NULL, (uid_t)-1, (gid_t)-1, MBOX_DOT_LOCK | MBOX_FCNTL_LOCK,
                       "5.2.0", why);
        assert_non_null(mp);
        assert_int_equal(mp->locked, MBOX_FCNTL_LOCK);
        mbox_release(mp);
        assert_int_equal(chmod(rodir, 0700), 0);
    }
    dsb_free(why);
}

/* Another process holds an fcntl or flock lock: 4.2.0 after the attempts, no dot-lock left. */
static void test_contention(void **state UNUSED)
{
    static const struct {
        int mask;
        int method;
    } cases[] = {
        {MBOX_FCNTL_LOCK, MYFLOCK_METHOD_FCNTL},
        {MBOX_FLOCK_LOCK, MYFLOCK_METHOD_FLOCK},
    };
    const char *path = scratch(0, "busy");
    const char *lock = scratch(1, "busy.lock");
    DSN_BUF *why = dsb_create();

    var_deliver_lock_attempts = 2;
    var_deliver_lock_delay = 1;
    put_file(path, "");
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int ready[2];
        int release[2];
        char ch;

        assert_int_equal(pipe(ready), 0);
        assert_int_equal(pipe(release), 0);
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
            int fd = open(path, O_RDWR);

            if (fd < 0 || myflock(fd, cases[i].method, MYFLOCK_OP_EXCLUSIVE) < 0)
                _exit(1);
            (void)!write(ready[1], "x", 1);
            (void)!read(release[0], &ch, 1);
            _exit(0);
        }
        assert_int_equal(read(ready[0], &ch, 1), 1);
        MBOX *mp = mbox_open(path, MBOX_FLAGS, 0600, NULL, (uid_t)-1, (gid_t)-1,
                             MBOX_DOT_LOCK | cases[i].mask, "5.2.0", why);

        assert_null(mp);
        assert_string_equal(vstring_str(why->status), "4.2.0");
        assert_string_equal(vstring_str(why->reason),
                            "unable to lock for exclusive access: Resource temporarily unavailable");
        assert_false(exists(lock));
        (void)!write(release[1], "x", 1);
        int status;

        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(status, 0);
        close(ready[0]);
        close(ready[1]);
        close(release[0]);
        close(release[1]);

        /* Released: now it works. */
        mp = mbox_open(path, MBOX_FLAGS, 0600, NULL, (uid_t)-1, (gid_t)-1, MBOX_DOT_LOCK | cases[i].mask,
                       "5.2.0", why);
        assert_non_null(mp);
        mbox_release(mp);
    }
    dsb_free(why);
}

/* mbox_truncate() cuts the file back to its length at open time. */
static void test_truncate(void **state UNUSED)
{
    const char *path = scratch(0, "trunc");
    DSN_BUF *why = dsb_create();
    struct stat st;

    put_file(path, "old content\n");
    MBOX *mp = mbox_open(path, MBOX_FLAGS, 0600, NULL, (uid_t)-1, (gid_t)-1, MBOX_FCNTL_LOCK, "5.2.0", why);

    assert_non_null(mp);
    vstream_fputs("new partial message\n", mp->fp);
    assert_int_equal(vstream_fflush(mp->fp), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 32);
    mbox_truncate(mp);
    mbox_release(mp);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 12);
    dsb_free(why);
}

static const struct mask_case {
    const char *styles;
    int mask;
} mask_cases[] = {
    {"fcntl, dotlock", MBOX_FCNTL_LOCK | MBOX_DOT_LOCK},
    {"flock", MBOX_FLOCK_LOCK},
    {"dotlock,flock fcntl", MBOX_FCNTL_LOCK | MBOX_DOT_LOCK | MBOX_FLOCK_LOCK},
    {"", 0},
};

static int fatal_fd = -1;

/* In the child: send fatal messages to the parent. */
static void fatal_msg(enum msg_level level, const char *text)
{
    if (level == MSG_FATAL)
        (void)!write(fatal_fd, text, strlen(text));
}

/* Lock method names to masks; an unknown name is fatal and names the parameter. */
static void test_lock_mask(void **state UNUSED)
{
    for (size_t i = 0; i < ARRAY_LEN(mask_cases); i++)
        assert_int_equal(mbox_lock_mask(mask_cases[i].styles), mask_cases[i].mask);

    static const struct {
        char **param;
        const char *expect;
    } fatal_cases[] = {
        {&var_mailbox_delivery_lock, "mailbox_delivery_lock: unknown lock method: bogus"},
        {&var_virtual_mailbox_lock, "virtual_mailbox_lock: unknown lock method: bogus"},
    };

    for (size_t i = 0; i < ARRAY_LEN(fatal_cases); i++) {
        int fds[2];
        char buf[200];

        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();

        if (pid == 0) {
            fatal_fd = fds[1];
            msg_output_reset();
            msg_output(fatal_msg);
            *fatal_cases[i].param = "fcntl, bogus";
            (void)mbox_lock_mask(*fatal_cases[i].param);
            _exit(0);
        }
        close(fds[1]);
        ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
        int status;

        assert_true(n > 0);
        buf[n] = 0;
        assert_string_equal(buf, fatal_cases[i].expect);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
        close(fds[0]);
    }
}

/* Remove the scratch directory and what the tests left in it. */
static void cleanup_dir(void)
{
    VSTRING *cmd =
        vstring_sprintf(vstring_alloc(100), "chmod -R u+rwx '%s'; rm -rf '%s'", test_dir, test_dir);

    (void)!system(vstring_str(cmd));
    vstring_free(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),     cmocka_unit_test(test_refuse),   cmocka_unit_test(test_dotlock),
        cmocka_unit_test(test_contention), cmocka_unit_test(test_truncate), cmocka_unit_test(test_lock_mask),
    };

    if (mkdtemp(test_dir) == NULL)
        msg_fatal("mkdtemp: %m");
    msg_output(test_msg);
    int status = cmocka_run_group_tests(tests, NULL, NULL);

    cleanup_dir();
    return status;
}
