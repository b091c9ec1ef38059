/*
 * spawn_test - unit tests for spawn.
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
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "argv.h"
#include "iostuff.h"
#include "spawn.h"
#include "vstring.h"

static const char *const path_only[] = {"PATH", NULL};

/* Run attr (or a command line) with stdout and stderr captured; returns spawn's result. */
static int run_capture(SPAWN_ATTR *attr, const char *command, SPAWN_RESULT *result, VSTRING *out,
                       VSTRING *why)
{
    int fds[2];
    char buf[4096];
    ssize_t n;

    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    attr->stdout_fd = fds[1];
    if (attr->stderr_fd < 0)
        attr->stderr_fd = fds[1];
    int status = command ? spawn_shell_command(command, attr, result, why) : spawn_command(attr, result, why);

    close(fds[1]);
    vstring_reset(out);
    while ((n = timed_read(fds[0], buf, sizeof(buf), 2000)) > 0)
        vstring_memcat(out, buf, (size_t)n);
    close(fds[0]);
    return status;
}

/* Command lines that need the shell, and ones split into words. */
static void test_argv(void **state UNUSED)
{
    static const struct {
        const char *command;
        const char *want[5];
    } cases[] = {
        {"/bin/echo a  b", {"/bin/echo", "a", "b"}},
        {"  prog\targ  ", {"prog", "arg"}},
        {"", {NULL}},
        {"echo $HOME", {"/bin/sh", "-c", "echo $HOME"}},
        {"a | b", {"/bin/sh", "-c", "a | b"}},
        {"x > file", {"/bin/sh", "-c", "x > file"}},
        {"ls *.c", {"/bin/sh", "-c", "ls *.c"}},
        {"echo 'quoted arg'", {"/bin/sh", "-c", "echo 'quoted arg'"}},
        {"FOO=1 prog", {"/bin/sh", "-c", "FOO=1 prog"}},
        {"a\nb", {"/bin/sh", "-c", "a\nb"}},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ARGV *argv = spawn_argv(cases[i].command);
        size_t n = 0;

        while (cases[i].want[n])
            n++;
        assert_int_equal(argv->argc, n);
        for (size_t j = 0; j < n; j++)
            assert_string_equal(argv->argv[j], cases[i].want[j]);
        assert_null(argv->argv[n]);
        argv_free(argv);
    }
}

/* The exported environment: copied names, set values, later entries win. */
static void test_env(void **state UNUSED)
{
    static const struct {
        const char *exports[4];
        const char *adds[4];
        const char *want[5];
    } cases[] = {
        {{NULL}, {NULL}, {NULL}},
        {{"SPAWN_T1", "SPAWN_UNSET", NULL}, {NULL}, {"SPAWN_T1=one", NULL}},
        {{"SPAWN_T1", "TZ=UTC", NULL}, {"SPAWN_T1=two", "X=", NULL}, {"SPAWN_T1=two", "TZ=UTC", "X="}},
        {{"SPAWN_T2", "SPAWN_T1", NULL}, {"SPAWN_T2", NULL}, {"SPAWN_T2=a=b", "SPAWN_T1=one"}},
        {{"=junk", "", NULL}, {"A=1", "A=2", NULL}, {"A=2"}},
    };

    setenv("SPAWN_T1", "one", 1);
    setenv("SPAWN_T2", "a=b", 1);
    unsetenv("SPAWN_UNSET");
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        ARGV *env = spawn_env(cases[i].exports, cases[i].adds);
        size_t n = 0;

        while (n < ARRAY_LEN(cases[i].want) && cases[i].want[n])
            n++;
        assert_int_equal(env->argc, n);
        for (size_t j = 0; j < n; j++)
            assert_string_equal(env->argv[j], cases[i].want[j]);
        argv_free(env);
    }
    ARGV *env = spawn_env(NULL, NULL);

    assert_int_equal(env->argc, 0);
    argv_free(env);
}

/* Exit status, captured output, exported environment, stdin, cwd. */
static void test_run(void **state UNUSED)
{
    static const char *const extra_env[] = {"FOO=bar", NULL};
    static const struct {
        const char *command;
        const char *cwd;
        const char *input;
        const char *want_out;
        int want_exit;
    } cases[] = {
        {"echo out; echo err >&2; exit 3", NULL, NULL, "out\nerr\n", 3},
        {"env", NULL, NULL, NULL, 0}, /* checked below */
        {"tr a-z A-Z", NULL, "hello\n", "HELLO\n", 0},
        {"pwd", "/", NULL, "/\n", 0},
        {"echo hello | tr a-z A-Z", NULL, NULL, "HELLO\n", 0},
        {"false", NULL, NULL, "", 1},
    };
    VSTRING *out = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        SPAWN_ATTR attr = SPAWN_ATTR_INIT;
        SPAWN_RESULT result;
        int in[2] = {-1, -1};

        attr.export_env = path_only;
        attr.env = extra_env;
        attr.cwd = cases[i].cwd;
        if (cases[i].input) {
            assert_int_equal(pipe2(in, O_CLOEXEC), 0);
            assert_int_equal(write_buf(in[1], cases[i].input, strlen(cases[i].input), 1000),
                             (ssize_t)strlen(cases[i].input));
            close(in[1]);
            attr.stdin_fd = in[0];
        }
        if (run_capture(&attr, cases[i].command, &result, out, why) < 0)
            fail_msg("%s: %s", cases[i].command, vstring_str(why));
        if (in[0] >= 0)
            close(in[0]);
        assert_true(result.pid > 0);
        assert_false(result.timed_out);
        assert_true(WIFEXITED(result.status));
        assert_int_equal(WEXITSTATUS(result.status), cases[i].want_exit);
        if (cases[i].want_out) {
            assert_string_equal(vstring_str(out), cases[i].want_out);
        } else {
            /* Exactly what we exported, nothing inherited. */
            char want[4096];

            snprintf(want, sizeof(want), "PATH=%s\nFOO=bar\n", getenv("PATH"));
            assert_string_equal(vstring_str(out), want);
        }
    }
    vstring_free(out);
    vstring_free(why);
}

/* Commands that cannot start, and bad requests. */
static void test_errors(void **state UNUSED)
{
    static char *const missing[] = {"/nonexistent/prog", NULL};
    static char *const not_in_path[] = {"no-such-command-xyzzy", NULL};
    static char *const not_executable[] = {"/etc/passwd", NULL};
    static char *const empty[] = {NULL};
    static char *const ok[] = {"true", NULL};
    static const struct {
        char *const *argv;
        uid_t uid;
        gid_t gid;
        const char *cwd;
        int want_errno;
        const char *want_why;
    } cases[] = {
        {missing, (uid_t)-1, (gid_t)-1, NULL, ENOENT,
         "cannot execute \"/nonexistent/prog\": No such file or directory"},
        {not_in_path, (uid_t)-1, (gid_t)-1, NULL, ENOENT,
         "cannot execute \"no-such-command-xyzzy\": No such file or directory"},
        {not_executable, (uid_t)-1, (gid_t)-1, NULL, EACCES,
         "cannot execute \"/etc/passwd\": Permission denied"},
        {empty, (uid_t)-1, (gid_t)-1, NULL, EINVAL, "empty command"},
        {ok, 65534, (gid_t)-1, NULL, EINVAL, "user ID 65534 without group ID"},
        {ok, (uid_t)-1, (gid_t)-1, "/nonexistent", ENOENT,
         "cannot change directory to \"/nonexistent\": No such file or directory"},
    };
    VSTRING *why = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        SPAWN_ATTR attr = SPAWN_ATTR_INIT;
        SPAWN_RESULT result;

        attr.argv = cases[i].argv;
        attr.uid = cases[i].uid;
        attr.gid = cases[i].gid;
        attr.cwd = cases[i].cwd;
        attr.export_env = path_only;
        errno = 0;
        assert_int_equal(spawn_command(&attr, &result, why), -1);
        assert_int_equal(errno, cases[i].want_errno);
        assert_string_equal(vstring_str(why), cases[i].want_why);
    }
    /* Nothing was left unreaped. */
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
    vstring_free(why);
}

/*
 * The time limit kills the whole process group: the background sleep
 * holds the output pipe open, so end of file proves it died too.
 */
static void test_time_limit(void **state UNUSED)
{
    static const struct {
        const char *command;
        int limit_ms;
        bool want_timeout;
    } cases[] = {
        {"sleep 30", 200, true},
        {"sleep 30 & sleep 30", 200, true},
        {"sleep 0.05", 5000, false},
    };
    VSTRING *out = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        SPAWN_ATTR attr = SPAWN_ATTR_INIT;
        SPAWN_RESULT result;
        int64_t start = iostuff_clock_ms();

        attr.export_env = path_only;
        attr.time_limit_ms = cases[i].limit_ms;
        assert_int_equal(run_capture(&attr, cases[i].command, &result, out, why), 0);
        int64_t elapsed = iostuff_clock_ms() - start;

        assert_int_equal(result.timed_out, cases[i].want_timeout);
        if (cases[i].want_timeout) {
            assert_true(WIFSIGNALED(result.status));
            assert_int_equal(WTERMSIG(result.status), SIGKILL);
            assert_true(elapsed >= cases[i].limit_ms);
            assert_true(elapsed < 1500);
        } else {
            assert_true(WIFEXITED(result.status) && WEXITSTATUS(result.status) == 0);
            assert_true(elapsed < 2000);
        }
    }
    vstring_free(out);
    vstring_free(why);
}

/* The child gets default signals and no stray descriptors. */
static void test_hygiene(void **state UNUSED)
{
    VSTRING *out = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    SPAWN_ATTR attr = SPAWN_ATTR_INIT;
    SPAWN_RESULT result;
    char command[100];

    attr.export_env = path_only;
    signal(SIGTERM, SIG_IGN);
    assert_int_equal(spawn_shell_command("kill -TERM $$; echo survived", &attr, &result, why), 0);
    signal(SIGTERM, SIG_DFL);
    assert_true(WIFSIGNALED(result.status));
    assert_int_equal(WTERMSIG(result.status), SIGTERM);

    int leak = open("/dev/null", O_RDONLY); /* not close-on-exec */

    assert_true(leak > 2);
    snprintf(command, sizeof(command), "test -e /proc/self/fd/%d && echo open || echo closed", leak);
    attr = (SPAWN_ATTR)SPAWN_ATTR_INIT;
    attr.export_env = path_only;
    assert_int_equal(run_capture(&attr, command, &result, out, why), 0);
    assert_string_equal(vstring_str(out), "closed\n");
    close(leak);
    vstring_free(out);
    vstring_free(why);
}

/* As root the command runs as the given user and group only; otherwise as ourselves. */
static void test_ids(void **state UNUSED)
{
    static char *const id_argv[] = {"/bin/sh", "-c", "id -u; id -g; id -G", NULL};
    VSTRING *out = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    SPAWN_ATTR attr = SPAWN_ATTR_INIT;
    SPAWN_RESULT result;
    char want[100];

    attr.argv = id_argv;
    attr.export_env = path_only;
    attr.uid = 65534;
    attr.gid = 65534;
    assert_int_equal(run_capture(&attr, NULL, &result, out, why), 0);
    assert_true(WIFEXITED(result.status) && WEXITSTATUS(result.status) == 0);
    if (geteuid() == 0) {
        assert_string_equal(vstring_str(out), "65534\n65534\n65534\n");
    } else {
        snprintf(want, sizeof(want), "%ld\n%ld\n", (long)geteuid(), (long)getegid());
        assert_true(strncmp(vstring_str(out), want, strlen(want)) == 0);
    }
    vstring_free(out);
    vstring_free(why);
}

/* Run the tests. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argv),   cmocka_unit_test(test_env),        cmocka_unit_test(test_run),
        cmocka_unit_test(test_errors), cmocka_unit_test(test_time_limit), cmocka_unit_test(test_hygiene),
        cmocka_unit_test(test_ids),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
