/*
 * dotforward_test - unit tests for dotforward.c: forward_path expansion
 * with every variable, conditionals and forward_expansion_filter, and the
 * .forward file rules (first existing file wins, empty file, bad owner,
 * world-writable, ~/ paths, self-reference).
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "local_expand.h"
#include "mail_params.h"
#include "msg.h"

static VSTRING *logged;

static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
}

#define FILTER       "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DEFAULT_PATH "$home/.forward${recipient_delimiter}${extension}, $home/.forward"

static LOCAL_USER test_user = {"alice", "/home/alice", "/bin/sh", 1000, 1000};

/* A state for alice+EXT@example.com (ext NULL: none). */
static LOCAL_STATE alice_state(const char *local, const char *ext)
{
    LOCAL_STATE st;

    memset(&st, 0, sizeof(st));
    st.rcpt.address = ext ? "alice+lists@example.com" : "alice@example.com";
    st.rcpt.orig_addr = "";
    st.rcpt.dsn_orcpt = "";
    st.user = "alice";
    st.local = (char *)local;
    st.extension = (char *)ext;
    st.domain = "example.com";
    st.owner = &test_user;
    return st;
}

/* The paths joined with " | ". */
static const char *paths_joined(const LOCAL_STATE *st, VSTRING *out)
{
    ARGV *paths = deliver_forward_paths(st);

    vstring_reset(out);
    for (size_t i = 0; i < paths->argc; i++)
        vstring_sprintf_append(out, "%s%s", i ? " | " : "", paths->argv[i]);
    argv_free(paths);
    return vstring_str(out);
}

static void test_paths(void **state UNUSED)
{
    static const struct {
        const char *pattern;
        const char *local;
        const char *ext;
        const char *want;
    } cases[] = {
        {DEFAULT_PATH, "alice+lists", "lists", "/home/alice/.forward+lists | /home/alice/.forward"},
        {DEFAULT_PATH, "alice-lists", "lists", "/home/alice/.forward-lists | /home/alice/.forward"},
        {DEFAULT_PATH, "alice", NULL, "/home/alice/.forward | /home/alice/.forward"},
        {"/fw/$user/$domain/$local", "alice+x", "x", "/fw/alice/example.com/alice+x"},
        {"/fw/${extension?ext-$extension}${extension:plain}", "alice+x", "x", "/fw/ext-x"},
        {"/fw/${extension?ext-$extension}${extension:plain}", "alice", NULL, "/fw/plain"},
        {"/fw/${extension?{$extension}:{none}}", "alice", NULL, "/fw/none"},
        {"/fw/$recipient", "alice", NULL, "/fw/alice@example.com"},
        {"/fw$shell", "alice", NULL, "/fw/bin/sh"},
        {"/fw/$extension", "alice+a;b c", "a;b c", "/fw/a_b_c"},
        {"relative/$user, /abs", "alice", NULL, "/abs"},
    };
    VSTRING *out = vstring_alloc(100);

    logged = vstring_alloc(100);
    msg_output(capture);
    var_forward_expansion_filter = FILTER;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        LOCAL_STATE st = alice_state(cases[i].local, cases[i].ext);
        const char *got;

        var_forward_path = (char *)cases[i].pattern;
        got = paths_joined(&st, out);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("'%s' for %s: got '%s', want '%s'", cases[i].pattern, cases[i].local, got,
                     cases[i].want);
    }
    assert_string_equal(vstring_str(logged), "warning: forward_path: not an absolute path: relative/alice\n");
    msg_output_reset();
    vstring_free(logged);
    vstring_free(out);
}

/* Write text to dir/name with mode. */
static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
    VSTRING *path = vstring_alloc(100);
    FILE *fp;

    vstring_sprintf(path, "%s/%s", dir, name);
    fp = fopen(vstring_str(path), "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    chmod(vstring_str(path), mode);
    vstring_free(path);
}

/* Expect deliver_dotforward() to decline with exactly the warning want. */
static void expect_declined(LOCAL_STATE *st, const char *want)
{
    int status = 99;

    vstring_reset(logged);
    assert_false(deliver_dotforward(st, &status));
    assert_int_equal(status, 99);
    assert_string_equal(vstring_str(logged), want);
}

/*
 * The file rules, observed without delivering: a world-writable file is
 * declined with a warning naming it, which also shows which file was
 * chosen (the first existing one; later ones are not consulted).
 */
static void test_files(void **state UNUSED)
{
    char dir[] = "/tmp/dotforward_testXXXXXX";
    LOCAL_USER me = {"me", dir, "/bin/sh", getuid(), getgid()};
    VSTRING *want = vstring_alloc(100);
    LOCAL_STATE st;

    assert_non_null(mkdtemp(dir));
    logged = vstring_alloc(100);
    msg_output(capture);
    var_forward_expansion_filter = FILTER;
    var_forward_path = DEFAULT_PATH;
    var_default_privs = "nobody";
    st = alice_state("alice+lists", "lists");
    st.owner = &me;

    /* No file: not handled, nothing logged. */
    expect_declined(&st, "");

    /* .forward+lists exists: it is the one chosen for alice+lists. */
    write_file(dir, ".forward+lists", "/tmp/lists\n", 0666);
    write_file(dir, ".forward", "/tmp/plain\n", 0666);
    vstring_sprintf(want, "warning: file %s/.forward+lists is world writable\n", dir);
    expect_declined(&st, vstring_str(want));

    /* alice+other falls back to .forward. */
    st = alice_state("alice+other", "other");
    st.owner = &me;
    vstring_sprintf(want, "warning: file %s/.forward is world writable\n", dir);
    expect_declined(&st, vstring_str(want));

    /* Self-reference: reached from the own .forward, the file is not read. */
    st.exp_type = LOCAL_EXP_TYPE_FORWARD;
    st.exp_from = "alice";
    expect_declined(&st, "");
    st.exp_type = LOCAL_EXP_TYPE_NONE;
    st.exp_from = NULL;

    /* Not a passwd user: no .forward at all. */
    st.owner = NULL;
    expect_declined(&st, "");
    st.owner = &me;

    /* Empty or comments only: no forwarding. */
    write_file(dir, ".forward", "# nothing\n\n", 0644);
    expect_declined(&st, "");

    /* A directory is not a regular file. */
    vstring_sprintf(want, "%s/.forward", dir);
    unlink(vstring_str(want));
    assert_int_equal(mkdir(vstring_str(want), 0755), 0);
    vstring_sprintf(want, "warning: file %s/.forward is not a regular file\n", dir);
    expect_declined(&st, vstring_str(want));
    vstring_sprintf(want, "%s/.forward", dir);
    rmdir(vstring_str(want));

    /* Bad owner (only testable when we can give the file away). */
    if (geteuid() == 0) {
        VSTRING *path = vstring_alloc(100);

        write_file(dir, ".forward", "/tmp/plain\n", 0644);
        vstring_sprintf(path, "%s/.forward", dir);
        assert_int_equal(chown(vstring_str(path), 4242, 4242), 0);
        me.uid = 4243;
        me.gid = 4243;
        chmod(dir, 0755);
        vstring_sprintf(want, "warning: file %s/.forward has bad owner uid 4242\n", dir);
        expect_declined(&st, vstring_str(want));
        vstring_free(path);
    }

    msg_output_reset();
    vstring_sprintf(want, "rm -rf %s", dir);
    assert_int_equal(system(vstring_str(want)), 0);
    vstring_free(want);
    vstring_free(logged);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
