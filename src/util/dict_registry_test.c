/*
 * dict_registry_test - unit tests for shared tables: one DICT per spec and
 * flags, reference counting, change detection in opening order.
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
#include "dict_registry.h"
#include "msg.h"
#include "mymalloc.h"

/* Opens and closes of the "regtest" type below. */
static int regtest_opens;
static int regtest_closes;

static void regtest_close(DICT *dict)
{
    regtest_closes++;
    dict_free(dict);
}

/* A table type that watches the file it is named after, if there is one. */
static DICT *regtest_open(const char *name, int open_flags, int dict_flags)
{
    DICT *dict = dict_alloc("regtest", name, sizeof(DICT));
    int fd;

    (void)open_flags;
    dict->flags = dict_flags | DICT_FLAG_FIXED;
    dict->close = regtest_close;
    if ((fd = open(name, O_RDONLY)) >= 0) {
        dict_file_watch(dict, fd);
        (void)close(fd);
    }
    regtest_opens++;
    return dict;
}

/* A log channel that drops everything. */
static void quiet(enum msg_level level UNUSED, const char *text UNUSED)
{
}

static int setup(void **state UNUSED)
{
    msg_output_reset();
    msg_output(quiet);
    dict_open_register("regtest", regtest_open);
    dict_allow_surrogate = 1;
    regtest_opens = regtest_closes = 0;
    return 0;
}

/* Same spec and flags share one DICT; anything else gets its own. */
static void test_sharing(void **state UNUSED)
{
    static const struct {
        const char *spec1;
        int dict_flags1;
        const char *spec2;
        int dict_flags2;
        int open_flags2;
        bool shared;
    } cases[] = {
        {"regtest:a", DICT_FLAG_DEFAULT, "regtest:a", DICT_FLAG_DEFAULT, O_RDONLY, true},
        {"regtest:a", DICT_FLAG_DEFAULT, "regtest:b", DICT_FLAG_DEFAULT, O_RDONLY, false},
        {"regtest:a", DICT_FLAG_DEFAULT, "regtest:a", DICT_FLAG_DEFAULT & ~DICT_FLAG_FOLD_FIX, O_RDONLY,
         false},
        {"regtest:a", DICT_FLAG_DEFAULT, "regtest:a", DICT_FLAG_DEFAULT, O_RDWR, false},
        {"inline:{a=1}", DICT_FLAG_DEFAULT, "inline:{a=1}", DICT_FLAG_DEFAULT, O_RDONLY, true},
        {"static:x", DICT_FLAG_DEFAULT, "static:y", DICT_FLAG_DEFAULT, O_RDONLY, false},
        {"nosuchtype:x", DICT_FLAG_DEFAULT, "nosuchtype:x", DICT_FLAG_DEFAULT, O_RDONLY, true},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        DICT *d1 = dict_registry_open(cases[i].spec1, O_RDONLY, cases[i].dict_flags1);
        DICT *d2 = dict_registry_open(cases[i].spec2, cases[i].open_flags2, cases[i].dict_flags2);

        if ((d1 == d2) != cases[i].shared)
            fail_msg("case %zu: %s and %s: shared=%d", i, cases[i].spec1, cases[i].spec2, d1 == d2);
        assert_string_equal(dict_registry_spec(d1), cases[i].spec1);
        assert_string_equal(dict_registry_spec(d2), cases[i].spec2);
        dict_registry_close(d1);
        dict_registry_close(d2);
        assert_null(dict_registry_spec(d1) ? "still registered" : NULL);
    }
    assert_int_equal(regtest_opens, regtest_closes);
}

/* The table is closed once, after its last user lets go. */
static void test_refcount(void **state UNUSED)
{
    DICT *dicts[4];

    for (size_t i = 0; i < ARRAY_LEN(dicts); i++)
        dicts[i] = dict_registry_open("regtest:shared", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_int_equal(regtest_opens, 1);
    for (size_t i = 0; i < ARRAY_LEN(dicts); i++) {
        assert_ptr_equal(dicts[i], dicts[0]);
        assert_int_equal(regtest_closes, 0);
        dict_registry_close(dicts[i]);
    }
    assert_int_equal(regtest_closes, 1);

    /* Opening it again opens it afresh. */
    dicts[0] = dict_registry_open("regtest:shared", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_int_equal(regtest_opens, 2);
    dict_registry_close(dicts[0]);
    assert_int_equal(regtest_closes, 2);
}

/* Set path's modification time to seconds after the epoch. */
static void set_mtime(const char *path, time_t seconds)
{
    struct timespec times[2] = {{seconds, 0}, {seconds, 0}};

    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

/* dict_registry_changed() names the first changed table in opening order. */
static void test_changed(void **state UNUSED)
{
    char dir[] = "/tmp/dict_registry_testXXXXXX";
    char path[3][100];
    char spec[3][320];
    DICT *dict[3];

    assert_non_null(mkdtemp(dir));
    for (int i = 0; i < 3; i++) {
        FILE *fp;

        snprintf(path[i], sizeof(path[i]), "%s/t%d", dir, i);
        snprintf(spec[i], sizeof(spec[i]), "regtest:%s", path[i]);
        assert_non_null(fp = fopen(path[i], "w"));
        fclose(fp);
        set_mtime(path[i], 1000000);
        dict[i] = dict_registry_open(spec[i], O_RDONLY, DICT_FLAG_DEFAULT);
    }
    assert_null(dict_registry_changed());

    /* A later table changes, then an earlier one: the earlier one is named. */
    set_mtime(path[2], 2000000);
    assert_string_equal(dict_registry_changed(), spec[2]);
    set_mtime(path[1], 2000000);
    assert_string_equal(dict_registry_changed(), spec[1]);

    /* Closed tables are no longer watched. */
    dict_registry_close(dict[1]);
    assert_string_equal(dict_registry_changed(), spec[2]);

    /* A file replaced by rename (the old one unlinked) counts as changed. */
    dict_registry_close(dict[2]);
    assert_null(dict_registry_changed());
    assert_int_equal(unlink(path[0]), 0);
    assert_string_equal(dict_registry_changed(), spec[0]);
    dict_registry_close(dict[0]);

    /* Tables without a file never change. */
    dict[0] = dict_registry_open("inline:{a=1}", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_null(dict_registry_changed());
    dict_registry_close(dict[0]);

    for (int i = 1; i < 3; i++)
        (void)unlink(path[i]);
    (void)rmdir(dir);
}

/* Closing a table the registry did not open is a bug: panic. */
static void test_close_unknown(void **state UNUSED)
{
    pid_t pid;
    int status;

    if ((pid = fork()) == 0) {
        DICT *dict = dict_open("static:x", O_RDONLY, DICT_FLAG_DEFAULT);

        dict_registry_close(dict);
        _exit(0);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_sharing, setup),
        cmocka_unit_test_setup(test_refcount, setup),
        cmocka_unit_test_setup(test_changed, setup),
        cmocka_unit_test_setup(test_close_unknown, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
