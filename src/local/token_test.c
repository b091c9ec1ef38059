/*
 * token_test - unit tests for token.c and include.c: alias right-hand
 * sides cut into destinations with Postfix's quoting rules, and the
 * dispatch of commands, files and :include: files.
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
#include "local_test_stubs.h"
#include "msg.h"

static VSTRING *logged;

static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
}

/* The destinations of text joined with " | ". */
static const char *split_joined(const char *text, VSTRING *out)
{
    ARGV *dests = deliver_token_split(text);

    vstring_reset(out);
    for (size_t i = 0; i < dests->argc; i++)
        vstring_sprintf_append(out, "%s%s", i ? " | " : "", dests->argv[i]);
    argv_free(dests);
    return vstring_str(out);
}

static void test_split(void **state UNUSED)
{
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"alice", "alice"},
        {"alice, bob@remote.test", "alice | bob@remote.test"},
        {"alice,bob,,carol", "alice | bob | carol"},
        {"  alice ,\n\tbob  ", "alice | bob"},
        {"\"|/usr/bin/id -u > /tmp/uid\"", "|/usr/bin/id -u > /tmp/uid"},
        {"\"| /bin/cmd arg\", x", "|/bin/cmd arg | x"},
        {"|/bin/true", "|/bin/true"},
        {"/var/mail/file, /var/spool/maildir/", "/var/mail/file | /var/spool/maildir/"},
        {":include:/etc/list", ":include:/etc/list"},
        {":include: /etc/list, bob", ":include:/etc/list | bob"},
        {":INCLUDE:/etc/list", ":include:/etc/list"},
        {"\"/path with space/f\"", "/path with space/f"},
        {"\"a, b\"@x.test, c", "a, b@x.test | c"},
        {"\"quoted \\\"q\\\" name\"", "quoted \"q\" name"},
        {"a\\,b", "a,b"},
        {"\\alice, bob", "alice | bob"},
        {"alice (Alice Smith), bob", "alice | bob"},
        {"Bob Smith <bob@remote.test>, c", "bob@remote.test | c"},
        {"~/mbox", "~/mbox"},
        {"", ""},
        {" , ", ""},
    };
    VSTRING *out = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *got = split_joined(cases[i].text, out);

        if (strcmp(got, cases[i].want) != 0)
            fail_msg("'%s': got '%s', want '%s'", cases[i].text, got, cases[i].want);
    }
    vstring_free(out);
}

/* A state for expansion tests. */
static LOCAL_STATE test_state(void)
{
    LOCAL_STATE st;

    memset(&st, 0, sizeof(st));
    st.rcpt.address = "list@example.com";
    st.rcpt.orig_addr = "";
    st.rcpt.dsn_orcpt = "";
    st.user = "list";
    st.local = "list";
    st.domain = "example.com";
    st.exp_type = LOCAL_EXP_TYPE_ALIAS;
    st.privs = local_default_privs();
    return st;
}

static void test_dispatch(void **state UNUSED)
{
    LOCAL_STATE st = test_state();

    vstring_reset(stub_log);
    assert_int_equal(deliver_token_string(&st, "\"|/bin/echo hi\", /tmp/f, /tmp/d/"), 0);
    assert_string_equal(vstring_str(stub_log), "command /bin/echo hi\nfile /tmp/f\nfile /tmp/d/\n");
}

/* Write text to a new file of the given mode; returns its path. */
static char *write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
    VSTRING *path = vstring_alloc(100);
    FILE *fp;

    vstring_sprintf(path, "%s/%s", dir, name);
    fp = fopen(vstring_str(path), "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    chmod(vstring_str(path), mode);
    return vstring_export(path);
}

static void test_include(void **state UNUSED)
{
    char dir[] = "/tmp/token_testXXXXXX";
    LOCAL_STATE st = test_state();
    VSTRING *text = vstring_alloc(100);
    char *good;
    char *bad;

    assert_non_null(mkdtemp(dir));
    chmod(dir, 0755); /* readable with default_privs when run as root */
    good = write_file(dir, "list", "# members\n\"|/bin/true\"\n/tmp/out,\n  /tmp/more\n\n", 0644);
    bad = write_file(dir, "ww", "/tmp/x\n", 0666);
    logged = vstring_alloc(100);
    msg_output(capture);

    /* A readable include file: its lines are delivered one level deeper. */
    vstring_reset(stub_log);
    vstring_sprintf(text, ":include:%s", good);
    assert_int_equal(deliver_token_string(&st, vstring_str(text)), 0);
    assert_string_equal(vstring_str(stub_log), "command /bin/true\nfile /tmp/out\nfile /tmp/more\n");

    /* World-writable, missing and relative: 5.3.5, detail only in the log. */
    vstring_reset(stub_log);
    vstring_reset(logged);
    assert_int_equal(deliver_include(&st, bad), 0);
    assert_string_equal(vstring_str(stub_log), "bounce 5.3.5 %s\n");
    vstring_sprintf(text, "warning: file %s is world writable\n", bad);
    assert_string_equal(vstring_str(logged), vstring_str(text));

    vstring_reset(stub_log);
    vstring_reset(logged);
    vstring_sprintf(text, "%s/missing", dir);
    assert_int_equal(deliver_include(&st, vstring_str(text)), 0);
    assert_string_equal(vstring_str(stub_log), "bounce 5.3.5 %s\n");
    vstring_sprintf(text, "warning: cannot open include file %s/missing: No such file or directory\n", dir);
    assert_string_equal(vstring_str(logged), vstring_str(text));

    vstring_reset(stub_log);
    assert_int_equal(deliver_include(&st, "relative/list"), 0);
    assert_string_equal(vstring_str(stub_log), "bounce 5.3.5 %s\n");

    /* Nesting limit. */
    vstring_reset(stub_log);
    st.level = DELIVER_EXP_LIMIT + 1;
    assert_int_equal(deliver_include(&st, good), 0);
    assert_string_equal(vstring_str(stub_log), "bounce 5.4.6 :include: nesting limit exceeded\n");

    msg_output_reset();
    unlink(good);
    unlink(bad);
    rmdir(dir);
    myfree(good);
    myfree(bad);
    vstring_free(text);
    vstring_free(logged);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_include),
    };

    stub_log = vstring_alloc(100);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
