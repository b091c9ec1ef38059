/*
 * atomic_file_test - unit tests for atomic_file: commits (content, mode
 * under the umask, the descriptor afterwards), abandons, files left by
 * processes that exit before a commit, forked children that must not
 * remove their parent's files, and the error messages.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "atomic_file.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

static char tmpdir[64];
static char path[100];    /* tmpdir/f: the file that is replaced */
static char inplace[100]; /* tmpdir/g: a file created in place and guarded */
static char other[100];   /* tmpdir/h: a child's own guarded file */
static VSTRING *logged;   /* messages logged during a test */

/* A child's handle; static, so a child that exits without a commit leaks nothing. */
static ATOMIC_FILE *volatile child_af;

/* Collect messages instead of printing them. */
static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
}

static int setup(void **state UNUSED)
{
    strcpy(tmpdir, "/tmp/atomic_file_test.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    snprintf(path, sizeof(path), "%s/f", tmpdir);
    snprintf(inplace, sizeof(inplace), "%s/g", tmpdir);
    snprintf(other, sizeof(other), "%s/h", tmpdir);
    logged = vstring_alloc(100);
    msg_output_reset();
    msg_output(capture);
    return 0;
}

/* Remove a directory tree (the test directory). */
static void remove_tree(const char *dir)
{
    DIR *dp = opendir(dir);
    struct dirent *de;
    char sub[300];

    while (dp && (de = readdir(dp)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
        if (unlink(sub) < 0)
            remove_tree(sub);
    }
    if (dp)
        closedir(dp);
    (void)rmdir(dir);
}

static int teardown(void **state UNUSED)
{
    remove_tree(tmpdir);
    vstring_free(logged);
    return 0;
}

/* The names in the test directory, sorted, separated by spaces. */
static char *listing(void)
{
    struct dirent **names;
    VSTRING *got = vstring_alloc(100);
    int n = scandir(tmpdir, &names, NULL, alphasort);

    assert_true(n >= 0);
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.')
            vstring_sprintf_append(got, "%s%s", VSTRING_LEN(got) ? " " : "", names[i]->d_name);
        free(names[i]);
    }
    free(names);
    return vstring_export(got);
}

/* Assert that the test directory holds exactly the names in want. */
static void assert_listing(const char *want)
{
    char *got = listing();

    assert_string_equal(got, want);
    myfree(got);
}

/* Write text as the whole content of a file. */
static void put_file(const char *file, const char *text)
{
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(close(fd), 0);
}

/* Assert the content of a file. */
static void assert_content(const char *file, const char *want)
{
    char buf[100];
    int fd = open(file, O_RDONLY);
    ssize_t n;

    assert_true(fd >= 0);
    assert_true((n = read(fd, buf, sizeof(buf) - 1)) >= 0);
    buf[n] = 0;
    assert_int_equal(close(fd), 0);
    assert_string_equal(buf, want);
}

/* Create the temporary file for path and write text to it; fail the test on error. */
static ATOMIC_FILE *create_with(const char *text, mode_t mode)
{
    VSTRING *why = vstring_alloc(100);
    ATOMIC_FILE *af;

    if ((af = atomic_file_create(path, mode, why)) == NULL)
        fail_msg("%s", vstring_str(why));
    vstring_free(why);
    assert_string_equal(af->path, path);
    assert_int_equal(strncmp(af->tmp_path, path, strlen(path)), 0);
    assert_int_equal(strlen(af->tmp_path), strlen(path) + 7);
    assert_int_equal(write(af->fd, text, strlen(text)), (ssize_t)strlen(text));
    return af;
}

/* A commit leaves only the new file, with the mode less the umask. */
static void test_commit(void **state UNUSED)
{
    static const struct {
        const char *old; /* NULL: no file before */
        mode_t mode;
        mode_t mask;
        mode_t want;
    } cases[] = {
        {NULL, 0644, 022, 0644},    {NULL, 0644, 077, 0600}, {"old\n", 0644, 027, 0640},
        {"old\n", 0600, 022, 0600}, {NULL, 0666, 002, 0664}, {"old\n", 0755, 022, 0755},
    };
    mode_t saved = umask(022);
    struct stat st, fst;
    ATOMIC_FILE *af;
    int fd;

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        (void)unlink(path);
        if (cases[i].old != NULL)
            put_file(path, cases[i].old);
        umask(cases[i].mask);
        af = create_with("new\n", cases[i].mode);
        umask(saved);
        fd = af->fd;
        /* Until the commit, readers see the old file (or none). */
        if (cases[i].old != NULL)
            assert_content(path, cases[i].old);
        else
            assert_int_equal(access(path, F_OK), -1);
        assert_int_equal(atomic_file_commit(af, NULL), 0);
        assert_listing("f");
        assert_content(path, "new\n");
        assert_int_equal(stat(path, &st), 0);
        if ((st.st_mode & 07777) != cases[i].want)
            fail_msg("case %zu: mode %03o umask %03o: got %03o, want %03o", i, (unsigned)cases[i].mode,
                     (unsigned)cases[i].mask, (unsigned)(st.st_mode & 07777), (unsigned)cases[i].want);
        /* The caller's descriptor now refers to the installed file. */
        assert_int_equal(fstat(fd, &fst), 0);
        assert_true(fst.st_ino == st.st_ino && fst.st_dev == st.st_dev);
        assert_int_equal(close(fd), 0);
    }
    umask(saved);
    assert_string_equal(vstring_str(logged), "");
}

/* An abandon leaves what was there before, and no temporary file. */
static void test_abandon(void **state UNUSED)
{
    static const struct {
        const char *old;  /* NULL: no file before */
        bool close_first; /* close the descriptor before abandoning */
        const char *want; /* the listing afterwards */
    } cases[] = {
        {NULL, true, ""},
        {NULL, false, ""},
        {"old\n", true, "f"},
        {"old\n", false, "f"},
    };
    ATOMIC_FILE *af;
    int fd;

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        (void)unlink(path);
        if (cases[i].old != NULL)
            put_file(path, cases[i].old);
        af = create_with("new\n", 0644);
        fd = af->fd;
        if (cases[i].close_first)
            assert_int_equal(close(fd), 0);
        assert_null(atomic_file_abandon(af));
        if (!cases[i].close_first)
            assert_int_equal(close(fd), 0);
        assert_listing(cases[i].want);
        if (cases[i].old != NULL)
            assert_content(path, cases[i].old);
    }
}

/* Run fn in a child process; return its exit status (-1: killed). */
static int in_child(void (*fn)(void))
{
    int status;
    pid_t pid;

    fflush(stdout);
    if ((pid = fork()) == 0) {
        fn();
        _exit(0);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Child: write a file, or exit with status 93; no cmocka in a child. */
static void child_put(const char *file, const char *text)
{
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0)
        _exit(93);
}

/* Child: create the temporary file and write to it. */
static void child_create(void)
{
    if ((child_af = atomic_file_create(path, 0644, NULL)) == NULL)
        _exit(90);
    if (write(child_af->fd, "new\n", 4) != 4)
        _exit(91);
}

/* Child: create, then exit(). */
static void create_exit(void)
{
    child_create();
    exit(0);
}

/* Child: create, then die in msg_fatal(). */
static void create_fatal(void)
{
    child_create();
    msg_fatal("dying before the commit");
}

/* Child: create, commit, then exit(). */
static void create_commit_exit(void)
{
    child_create();
    if (atomic_file_commit(child_af, NULL) < 0)
        _exit(92);
    child_af = NULL;
    exit(0);
}

/* Child: create a file in place, guard it, then exit(). */
static void guard_exit(void)
{
    child_put(inplace, "new\n");
    atomic_file_guard(inplace);
    exit(0);
}

/* Child: create a file in place, guard it, finish it, then exit(). */
static void unguard_exit(void)
{
    child_put(inplace, "new\n");
    atomic_file_guard(inplace);
    atomic_file_unguard(inplace);
    exit(0);
}

/* A process that exits before its commit leaves the old file and nothing else. */
static void test_exit(void **state UNUSED)
{
    static const struct {
        const char *name;
        void (*fn)(void);
        int status;           /* the child's exit status */
        const char *want;     /* the listing afterwards */
        const char *want_new; /* content of f afterwards */
    } cases[] = {
        {"create, exit()", create_exit, 0, "f", "old\n"},
        {"create, msg_fatal()", create_fatal, 1, "f", "old\n"},
        {"create, commit, exit()", create_commit_exit, 0, "f", "new\n"},
        {"guard, exit()", guard_exit, 0, "f", "old\n"},
        {"guard, unguard, exit()", unguard_exit, 0, "f g", "old\n"},
    };
    int status;

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        (void)unlink(inplace);
        put_file(path, "old\n");
        if ((status = in_child(cases[i].fn)) != cases[i].status)
            fail_msg("%s: exit status %d, want %d", cases[i].name, status, cases[i].status);
        assert_listing(cases[i].want);
        assert_content(path, cases[i].want_new);
    }
}

/* Child of a process with a pending file: end without touching it. */
static void child_exit(void)
{
    exit(0);
}

/* Child of a process with a pending file: die in msg_fatal(). */
static void child_fatal(void)
{
    msg_fatal("child dies");
}

/* Child of a process with a pending file: guard a file of its own, then exit(). */
static void child_own_guard(void)
{
    child_put(other, "child\n");
    atomic_file_guard(other);
    exit(0);
}

/* A forked child that exits does not remove its parent's pending files. */
static void test_fork(void **state UNUSED)
{
    static const struct {
        const char *name;
        void (*fn)(void);
        int status;
    } cases[] = {
        {"exit()", child_exit, 0},
        {"msg_fatal()", child_fatal, 1},
        {"own guard, exit()", child_own_guard, 0},
    };
    ATOMIC_FILE *af;
    char *want;
    int status, fd;

    put_file(path, "old\n");
    af = create_with("new\n", 0644);
    atomic_file_guard(inplace);
    put_file(inplace, "parent\n");
    want = listing();
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        if ((status = in_child(cases[i].fn)) != cases[i].status)
            fail_msg("%s: exit status %d, want %d", cases[i].name, status, cases[i].status);
        assert_int_equal(access(af->tmp_path, F_OK), 0);
        assert_content(inplace, "parent\n");
        assert_listing(want); /* the child removed its own file */
    }
    myfree(want);
    atomic_file_unguard(inplace);
    fd = af->fd;
    assert_int_equal(atomic_file_commit(af, NULL), 0);
    assert_int_equal(close(fd), 0);
    assert_listing("f g");
    assert_content(path, "new\n");
}

/* Failures: messages, errno, and what is left behind. */
static void test_errors(void **state UNUSED)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    ATOMIC_FILE *af;
    char sub[130];
    int fd;

    /* No directory to create in; why is optional. */
    errno = 0;
    assert_null(atomic_file_create("/nonexistent/x", 0644, why));
    assert_int_equal(errno, ENOENT);
    assert_string_equal(vstring_str(why),
                        "create a temporary file beside /nonexistent/x: No such file or directory");
    errno = 0;
    assert_null(atomic_file_create("/nonexistent/x", 0644, NULL));
    assert_int_equal(errno, ENOENT);

    /* The name is taken by a directory that is not empty: the rename fails. */
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(sub, sizeof(sub), "%s/x", path);
    put_file(sub, "");
    af = create_with("new\n", 0644);
    fd = af->fd;
    errno = 0;
    assert_int_equal(atomic_file_commit(af, why), -1);
    assert_int_equal(errno, EISDIR);
    vstring_sprintf(want, "install %s as %s: %s", af->tmp_path, path, strerror(EISDIR));
    assert_string_equal(vstring_str(why), vstring_str(want));
    /* The handle and the temporary file remain until abandoned. */
    assert_int_equal(access(af->tmp_path, F_OK), 0);
    assert_null(atomic_file_abandon(af));
    assert_int_equal(close(fd), 0);
    assert_listing("f");
    assert_string_equal(vstring_str(logged), "");
    vstring_free(want);
    vstring_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abandon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
