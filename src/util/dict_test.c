/*
 * dict_test - unit tests for the table interface, the registry and the
 * table types kept in memory or asked of the system: static, inline,
 * texthash, environ, unix, fail, unionmap, pipemap, proxy, nis and the
 * surrogate that stands in for a table that cannot be opened.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "dict_open.h"
#include "dict_src.h"
#include "msg.h"
#include "msg_stderr.h"
#include "mymalloc.h"

/* Warnings logged during a test, one per line. */
static VSTRING *logged;

static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
}

static int setup(void **state UNUSED)
{
    logged = vstring_alloc(100);
    msg_output_reset();
    msg_output(capture);
    dict_allow_surrogate = 1;
    return 0;
}

static int teardown(void **state UNUSED)
{
    vstring_free(logged);
    return 0;
}

/* Answer of spec for key: the value, "-" for not found, "!" for an error. */
static char *answer(const char *spec, const char *key)
{
    DICT *dict = dict_open(spec, O_RDONLY, DICT_FLAG_DEFAULT);
    const char *value = dict_get(dict, key);
    char *result = mystrdup(value ? value : dict->error ? "!" : "-");

    dict_close(dict);
    return result;
}

static void test_lookups(void **state UNUSED)
{
    static const struct {
        const char *spec;
        const char *key;
        const char *want;
    } cases[] = {
        {"static:foo", "anything", "foo"},
        {"static:{ a b }", "k", "a b"},
        {"static:{ a b", "k", "!"},
        {"inline:{a=1, b=2, { c = x y }}", "b", "2"},
        {"inline:{a=1, b=2, { c = x y }}", "c", "x y"},
        {"inline:{a=1, b=2, { c = x y }}", "z", "-"},
        {"inline:{Key=Value}", "KEY", "Value"},
        {"inline:{a=1,a=2}", "a", "2"},
        {"inline:{}", "a", "!"},
        {"inline:{a}", "a", "!"},
        {"inline:{ {key with space = v} }", "a", "!"},
        {"inline:a=1", "a", "!"},
        {"unix:passwd.byname", "root", "root:x:0:0:root:/root:/bin/bash"},
        {"unix:passwd.byname", "no-such-user-xyz", "-"},
        {"unix:group.byname", "root", "root:x:0:"},
        {"unix:foo", "root", "!"},
        {"fail:x", "a", "!"},
        {"unionmap:{inline:{a=b}, inline:{a=c}, inline:{x=y}}", "a", "b,c"},
        {"unionmap:{inline:{a=b}, inline:{a=c}}", "q", "-"},
        {"unionmap:{inline:{a=b}, fail:x}", "a", "!"},
        {"unionmap:x", "a", "!"},
        {"unionmap:{}", "a", "!"},
        {"pipemap:{inline:{a=b}, inline:{b=c}}", "a", "c"},
        {"pipemap:{inline:{a=b}, inline:{x=c}}", "a", "-"},
        {"pipemap:{fail:x, inline:{x=c}}", "a", "!"},
        {"proxy:inline:{a=1}", "a", "1"},
        {"proxy:fail:x", "a", "!"},
        {"nosuchtype:x", "a", "!"},
        {":x", "a", "!"},
        {"static:", "a", "!"},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *got = answer(cases[i].spec, cases[i].key);

        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s key %s: got \"%s\", want \"%s\"", cases[i].spec, cases[i].key, got, cases[i].want);
        myfree(got);
    }
}

/* A surrogate says why, once at open and at every lookup. */
static void test_surrogate(void **state UNUSED)
{
    DICT *dict;

    vstring_reset(logged);
    dict = dict_open("nosuchtype:/x", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_true(dict->flags & DICT_FLAG_SURROGATE);
    assert_string_equal(dict_surrogate_reason(dict), "unsupported dictionary type: nosuchtype");
    assert_null(dict_get(dict, "k"));
    assert_int_equal(dict->error, DICT_ERR_RETRY);
    assert_int_equal(dict_put(dict, "k", "v"), DICT_STAT_ERROR);
    dict_close(dict);
    assert_string_equal(vstring_str(logged), "error: unsupported dictionary type: nosuchtype\n"
                                             "warning: nosuchtype:/x is unavailable. "
                                             "unsupported dictionary type: nosuchtype\n"
                                             "warning: nosuchtype:/x is unavailable. "
                                             "unsupported dictionary type: nosuchtype\n");

    vstring_reset(logged);
    dict = dict_open(":F", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_string_equal(dict_surrogate_reason(dict),
                        "open dictionary: expecting \"type:name\" form instead of \":F\"");
    dict_close(dict);

    dict = dict_open("static:x", O_RDWR | O_CREAT | O_TRUNC, DICT_FLAG_DEFAULT);
    assert_string_equal(dict_surrogate_reason(dict), "static:x map requires O_RDONLY access mode");
    dict_close(dict);
    dict = dict_open("inline:{a=b}", O_RDWR | O_CREAT, DICT_FLAG_DEFAULT);
    assert_string_equal(dict_surrogate_reason(dict), "inline:{a=b} map requires O_RDONLY access mode");
    dict_close(dict);
    dict = dict_open("proxy:inline:{a=b}", O_RDWR | O_CREAT, DICT_FLAG_DEFAULT);
    assert_string_equal(dict_surrogate_reason(dict), "can't create maps via the proxy service");
    dict_close(dict);
}

/* Asking a type for an operation it lacks ends the program, as Postfix. */
static void test_refused_operations(void **state UNUSED)
{
    static const char *const ops[] = {"update", "sequence"};

    for (size_t i = 0; i < ARRAY_LEN(ops); i++) {
        char buf[200] = "";
        int fds[2];
        int status;
        pid_t pid;

        assert_int_equal(pipe(fds), 0);
        if ((pid = fork()) == 0) {
            DICT *dict = dict_open("environ:x", O_RDONLY, DICT_FLAG_DEFAULT);
            const char *key;
            const char *value;

            dup2(fds[1], 2);
            msg_output_reset();
            msg_stderr_init("t");
            if (i == 0)
                dict_put(dict, "a", "b");
            else
                dict_seq(dict, DICT_SEQ_FUN_FIRST, &key, &value);
            _exit(0);
        }
        close(fds[1]);
        assert_true(read(fds[0], buf, sizeof(buf) - 1) > 0);
        close(fds[0]);
        waitpid(pid, &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
        vstring_sprintf(logged, "t: fatal: table environ:x: %s operation is not supported\n", ops[i]);
        assert_string_equal(buf, vstring_str(logged));
    }
}

/* environ folds the key unless the caller turns folding off. */
static void test_environ(void **state UNUSED)
{
    DICT *dict;

    setenv("POSTERN_TEST_VAR", "v1", 1);
    setenv("postern_test_var", "v2", 1);
    dict = dict_open("environ:x", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_string_equal(dict_get(dict, "POSTERN_TEST_VAR"), "v2");
    dict_close(dict);
    dict = dict_open("environ:x", O_RDONLY, DICT_FLAG_DEFAULT & ~DICT_FLAG_FOLD_FIX);
    assert_string_equal(dict_get(dict, "POSTERN_TEST_VAR"), "v1");
    dict_close(dict);
}

/* texthash reads a postmap source: folding, duplicates, bad lines. */
static void test_texthash(void **state UNUSED)
{
    char path[] = "/tmp/dict_test.XXXXXX";
    int fd = mkstemp(path);
    static const char text[] = "# comment\nKey1 Value 1\nb 2,\n   3\nlonely\nkey1 dup\n"
                               "\"a b\" quoted\n";
    VSTRING *spec = vstring_alloc(100);
    const char *key;
    const char *value;
    DICT *dict;
    int n;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
    close(fd);
    vstring_sprintf(spec, "texthash:%s", path);
    vstring_reset(logged);
    dict = dict_open(vstring_str(spec), O_RDONLY, DICT_FLAG_DEFAULT);
    assert_string_equal(dict_get(dict, "KEY1"), "Value 1");
    assert_string_equal(dict_get(dict, "b"), "2,   3");
    assert_string_equal(dict_get(dict, "\"a b\""), "quoted");
    assert_null(dict_get(dict, "lonely"));
    assert_null(dict_get(dict, "#"));
    for (n = 0; dict_seq(dict, n ? DICT_SEQ_FUN_NEXT : DICT_SEQ_FUN_FIRST, &key, &value) == 0;)
        n++;
    assert_int_equal(n, 3);
    dict_close(dict);
    vstring_sprintf(spec,
                    "%s, line 5: expected format: key whitespace value -- ignoring this line\n"
                    "warning: %s, line 6: duplicate entry: \"key1\"\n",
                    path, path);
    assert_string_equal(vstring_str(logged) + strlen("warning: "), vstring_str(spec));
    unlink(path);

    dict = dict_open("texthash:/nonexistent/x", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_string_equal(dict_surrogate_reason(dict),
                        "open database /nonexistent/x: No such file or directory");
    dict_close(dict);
    vstring_free(spec);
}

/* Source lines: key and value split, quoting, the warnings. */
static void test_source_lines(void **state UNUSED)
{
    static const struct {
        const char *line;
        const char *want; /* "key|value" or "" when skipped */
        const char *warning;
    } cases[] = {
        {"a 1", "a|1", ""},
        {"  a \t 1 2  ", "a|1 2", ""},
        {"\"a b\" c", "\"a b\"|c", ""},
        {"\"a\\\"b\" c", "\"a\\\"b\"|c", ""},
        {"\"a b c", "", "warning: f, line 7: unbalanced '\"' in '\"a b c' -- ignoring this line\n"},
        {"lonely", "", "warning: f, line 7: expected format: key whitespace value\n"},
        {"xxx: yyy", "xxx:|yyy",
         "warning: f, line 7: record is in \"key: value\" format; is this an alias file?\n"},
    };
    VSTRING *got = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *line = mystrdup(cases[i].line);
        char *key;
        char *value;

        vstring_reset(logged);
        vstring_reset(got);
        if (dict_src_split(line, "f", 7, DICT_SRC_FLAG_NONE, &key, &value))
            vstring_sprintf(got, "%s|%s", key, value);
        assert_string_equal(vstring_str(got), cases[i].want);
        assert_string_equal(vstring_str(logged), cases[i].warning);
        myfree(line);
    }
    vstring_free(got);
}

/* postconf -m: sorted, without duplicates, always the basic types. */
static void test_mapnames(void **state UNUSED)
{
    ARGV *names = dict_mapnames();
    static const char *const basic[] = {"environ", "fail",     "inline",   "pipemap", "proxy",
                                        "static",  "texthash", "unionmap", "unix"};

    for (size_t i = 1; i < names->argc; i++)
        assert_true(strcmp(names->argv[i - 1], names->argv[i]) < 0);
    for (size_t i = 0; i < ARRAY_LEN(basic); i++) {
        bool found = false;

        for (size_t j = 0; j < names->argc; j++)
            found |= strcmp(names->argv[j], basic[i]) == 0;
        if (!found)
            fail_msg("type %s is not listed", basic[i]);
    }
    argv_free(names);
}

/* dict_changed() sees a file modified or replaced after the open. */
static void test_changed(void **state UNUSED)
{
    char path[] = "/tmp/dict_test.XXXXXX";
    int fd = mkstemp(path);
    DICT *dict = dict_open("static:x", O_RDONLY, DICT_FLAG_DEFAULT);
    struct timespec times[2] = {{0, UTIME_OMIT}, {12345, 0}};

    assert_false(dict_changed(dict));
    dict_file_watch(dict, fd);
    assert_false(dict_changed(dict));
    assert_int_equal(futimens(fd, times), 0);
    assert_true(dict_changed(dict));
    dict_file_watch(dict, fd);
    assert_false(dict_changed(dict));
    unlink(path);
    assert_true(dict_changed(dict));
    close(fd);
    dict_close(dict);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_surrogate),
        cmocka_unit_test(test_refused_operations),
        cmocka_unit_test(test_environ),
        cmocka_unit_test(test_texthash),
        cmocka_unit_test(test_source_lines),
        cmocka_unit_test(test_mapnames),
        cmocka_unit_test(test_changed),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
