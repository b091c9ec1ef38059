/*
 * dict_cdb_test - unit tests for cdb: tables: builds and lookups, key
 * folding, the NUL conventions, duplicates, sequences, tables that cannot
 * be opened or updated, corrupt files, rebuilds under open readers,
 * temporary files and file modes.
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

#include "dict.h"
#include "dict_cdb.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

#ifdef HAS_CDB

#define BUILD_FLAGS (O_RDWR | O_CREAT | O_TRUNC)
#define NUL_FLAGS   (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)

static char tmpdir[64];
static char table[100]; /* tmpdir/t: the table name */
static char path[110];  /* tmpdir/t.cdb: its file */
static VSTRING *logged; /* messages logged during a test */

/* Collect messages instead of printing them. */
static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
}

static int setup(void **state UNUSED)
{
    strcpy(tmpdir, "/tmp/dict_cdb_test.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    snprintf(table, sizeof(table), "%s/t", tmpdir);
    snprintf(path, sizeof(path), "%s.cdb", table);
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

/* Assert that the test directory holds exactly the names in want. */
static void assert_listing(const char *want)
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
    assert_string_equal(vstring_str(got), want);
    vstring_free(got);
}

/* Open the table; fail the test if it is a surrogate. */
static DICT *topen(int open_flags, int dict_flags)
{
    DICT *dict = dict_cdb_open(table, open_flags, dict_flags);

    if (dict->flags & DICT_FLAG_SURROGATE)
        fail_msg("cdb:%s: %s", table, dict_surrogate_reason(dict));
    return dict;
}

/* Build the table from NULL-terminated key, value pairs. */
static void build(int dict_flags, const char *const *pairs)
{
    DICT *dict = topen(BUILD_FLAGS, dict_flags | DICT_FLAG_BULK_UPDATE);

    for (; *pairs; pairs += 2)
        assert_int_equal(dict_put(dict, pairs[0], pairs[1]), DICT_STAT_SUCCESS);
    dict_close(dict);
}

/* The answer of an open table: the value, "-" (not found) or "!" (error). */
static char *get(DICT *dict, const char *key)
{
    const char *value = dict_get(dict, key);

    return mystrdup(value ? value : dict->error ? "!" : "-");
}

/* Assert the answer of the table for key. */
static void assert_answer(int dict_flags, const char *key, const char *want)
{
    DICT *dict = topen(O_RDONLY, dict_flags);
    char *got = get(dict, key);

    if (strcmp(got, want) != 0)
        fail_msg("key \"%s\": got \"%s\", want \"%s\"", key, got, want);
    myfree(got);
    dict_close(dict);
}

/* All entries of the table as "key=value;" in file order. */
static char *listing(void)
{
    DICT *dict = topen(O_RDONLY, DICT_FLAG_DEFAULT);
    VSTRING *out = vstring_alloc(100);
    const char *key, *value;

    for (int func = DICT_SEQ_FUN_FIRST; dict_seq(dict, func, &key, &value) == DICT_STAT_SUCCESS;
         func = DICT_SEQ_FUN_NEXT)
        vstring_sprintf_append(out, "%s=%s;", key, value);
    assert_int_equal(dict->error, DICT_ERR_NONE);
    dict_close(dict);
    return vstring_export(out);
}

/* Build, then look up found and missing keys, folded by default. */
static void test_lookups(void **state UNUSED)
{
    static const char *const pairs[] = {
        "Kdent@Example.com", "kyle.dent@example.com", "b", "2,   3", "\"a b\"", "c", "x", "Mixed Case", NULL,
    };
    static const struct {
        const char *key;
        const char *want;
    } cases[] = {
        {"kdent@example.com", "kyle.dent@example.com"},
        {"KDENT@EXAMPLE.COM", "kyle.dent@example.com"},
        {"nobody", "-"},
        {"b", "2,   3"},
        {"\"a b\"", "c"},
        {"X", "Mixed Case"},
        {"", "-"},
    };

    build(DICT_FLAG_DEFAULT, pairs);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        assert_answer(DICT_FLAG_DEFAULT, cases[i].key, cases[i].want);
    assert_listing("t.cdb");
    assert_string_equal(vstring_str(logged), "");
}

/* Keys keep their case when the table does not fold. */
static void test_folding(void **state UNUSED)
{
    static const char *const pairs[] = {"Kdent", "Value", NULL};
    static const struct {
        int build_fold;
        int query_fold;
        const char *key;
        const char *want;
    } cases[] = {
        {0, 0, "Kdent", "Value"},
        {0, 0, "kdent", "-"},
        {0, DICT_FLAG_FOLD_FIX, "Kdent", "-"},
        {DICT_FLAG_FOLD_FIX, DICT_FLAG_FOLD_FIX, "KDENT", "Value"},
        {DICT_FLAG_FOLD_FIX, 0, "kdent", "Value"},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        build(DICT_FLAG_DUP_WARN | cases[i].build_fold, pairs);
        assert_answer(cases[i].query_fold, cases[i].key, cases[i].want);
    }
}

/* Written with or without NUL; read with either or both conventions. */
static void test_nul(void **state UNUSED)
{
    static const char *const pairs[] = {"k", "v", NULL};
    static const struct {
        int write;
        int read;
        const char *want;
        int flags_after; /* NUL flags after the lookup */
    } cases[] = {
        {DICT_FLAG_TRY1NULL, NUL_FLAGS, "v", DICT_FLAG_TRY1NULL},
        {DICT_FLAG_TRY0NULL, NUL_FLAGS, "v", DICT_FLAG_TRY0NULL},
        {DICT_FLAG_TRY1NULL, DICT_FLAG_TRY1NULL, "v", DICT_FLAG_TRY1NULL},
        {DICT_FLAG_TRY0NULL, DICT_FLAG_TRY0NULL, "v", DICT_FLAG_TRY0NULL},
        {DICT_FLAG_TRY1NULL, DICT_FLAG_TRY0NULL, "-", DICT_FLAG_TRY0NULL},
        {DICT_FLAG_TRY0NULL, DICT_FLAG_TRY1NULL, "-", DICT_FLAG_TRY1NULL},
        {NUL_FLAGS, DICT_FLAG_TRY1NULL, "v", DICT_FLAG_TRY1NULL}, /* default: with NUL */
        {0, DICT_FLAG_TRY1NULL, "v", DICT_FLAG_TRY1NULL},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        DICT *dict;
        char *got;

        build(DICT_FLAG_DUP_WARN | cases[i].write, pairs);
        dict = topen(O_RDONLY, cases[i].read);
        got = get(dict, "k");
        if (strcmp(got, cases[i].want) != 0 || (dict->flags & NUL_FLAGS) != cases[i].flags_after)
            fail_msg("case %zu: got \"%s\" flags %#x", i, got, dict->flags & NUL_FLAGS);
        myfree(got);
        dict_close(dict);
    }
}

/* Duplicate keys: replaced, kept silently, kept with a warning. */
static void test_duplicates(void **state UNUSED)
{
    static const struct {
        int dup;
        const char *want;
        const char *want_list;
        int put_result;
        bool warns;
    } cases[] = {
        {DICT_FLAG_DUP_REPLACE, "4", "b=2;a=4;", DICT_STAT_SUCCESS, false},
        {DICT_FLAG_DUP_IGNORE, "1", "a=1;b=2;", DICT_STAT_FAIL, false},
        {DICT_FLAG_DUP_WARN, "1", "a=1;b=2;", DICT_STAT_FAIL, true},
    };
    static const int nul[] = {DICT_FLAG_TRY1NULL, DICT_FLAG_TRY0NULL};
    VSTRING *want = vstring_alloc(100);

    for (size_t n = 0; n < ARRAY_LEN(nul); n++) {
        for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
            DICT *dict =
                topen(BUILD_FLAGS, cases[i].dup | nul[n] | DICT_FLAG_FOLD_FIX | DICT_FLAG_BULK_UPDATE);
            char *got;

            vstring_reset(logged);
            assert_int_equal(dict_put(dict, "a", "1"), DICT_STAT_SUCCESS);
            assert_int_equal(dict_put(dict, "A", "3"), cases[i].put_result);
            assert_int_equal(dict_put(dict, "b", "2"), DICT_STAT_SUCCESS);
            assert_int_equal(dict_put(dict, "a", "4"), cases[i].put_result);
            dict_close(dict);
            vstring_reset(want);
            if (cases[i].warns)
                vstring_sprintf(want,
                                "warning: %s: duplicate entry: \"a\"\n"
                                "warning: %s: duplicate entry: \"a\"\n",
                                table, table);
            assert_string_equal(vstring_str(logged), vstring_str(want));
            got = listing();
            assert_string_equal(got, cases[i].want_list);
            myfree(got);
            assert_answer(DICT_FLAG_DEFAULT, "a", cases[i].want);
        }
    }
    vstring_free(want);
}

/* Many entries, a tenth of them replaced: lookups and the sequence agree. */
static void test_many(void **state UNUSED)
{
    DICT *dict = topen(BUILD_FLAGS, DICT_FLAG_DUP_REPLACE | DICT_FLAG_DEFAULT | DICT_FLAG_BULK_UPDATE);
    char key[32], value[64];
    const char *k, *v;
    int n = 0;

    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        snprintf(value, sizeof(value), "value%d", i);
        assert_int_equal(dict_put(dict, key, value), DICT_STAT_SUCCESS);
    }
    for (int i = 0; i < 20000; i += 10) {
        snprintf(key, sizeof(key), "KEY%d", i);
        snprintf(value, sizeof(value), "new%d", i);
        assert_int_equal(dict_put(dict, key, value), DICT_STAT_SUCCESS);
    }
    dict_close(dict);
    dict = topen(O_RDONLY, DICT_FLAG_DEFAULT);
    for (int func = DICT_SEQ_FUN_FIRST; dict_seq(dict, func, &k, &v) == DICT_STAT_SUCCESS;
         func = DICT_SEQ_FUN_NEXT) {
        int i = atoi(k + 3);

        snprintf(value, sizeof(value), "%s%d", i % 10 ? "value" : "new", i);
        assert_string_equal(v, value);
        n++;
    }
    assert_int_equal(n, 20000);
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "Key%d", i);
        snprintf(value, sizeof(value), "%s%d", i % 10 ? "value" : "new", i);
        assert_non_null(v = dict_get(dict, key));
        assert_string_equal(v, value);
    }
    dict_close(dict);
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

/* The table a child works on; static, so a child dying in msg_fatal() leaks nothing. */
static DICT *volatile child_dict;

/* Child: a duplicate without any DUP flag ends the program. */
static void dup_without_flag(void)
{
    DICT *dict = child_dict = topen(BUILD_FLAGS, DICT_FLAG_BULK_UPDATE);

    (void)dict_put(dict, "a", "2");
    (void)dict_put(dict, "a", "3");
    dict_close(dict);
}

/* Child: die in the middle of a build. */
static void die_in_build(void)
{
    DICT *dict = child_dict = topen(BUILD_FLAGS, DICT_FLAG_BULK_UPDATE | DICT_FLAG_DUP_WARN);

    (void)dict_put(dict, "a", "new");
    msg_fatal("dying in the middle of a build");
}

/* Child: a build whose final rename fails. */
static void fail_at_close(void)
{
    DICT *dict = child_dict = topen(BUILD_FLAGS, DICT_FLAG_BULK_UPDATE | DICT_FLAG_DUP_WARN);

    (void)dict_put(dict, "a", "new");
    dict_close(dict);
}

/* Failed builds leave the old table and no temporary file. */
static void test_failed_builds(void **state UNUSED)
{
    static const char *const old[] = {"a", "old", NULL};
    char sub[130];

    build(DICT_FLAG_DUP_WARN, old);
    assert_int_equal(in_child(dup_without_flag), 1);
    assert_int_equal(in_child(die_in_build), 1);
    assert_answer(DICT_FLAG_DEFAULT, "a", "old");
    assert_listing("t.cdb");

    /* The table's name is taken by a directory: the rename fails. */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(sub, sizeof(sub), "%s/x", path);
    assert_int_equal(close(open(sub, O_CREAT | O_WRONLY, 0644)), 0);
    assert_int_equal(in_child(fail_at_close), 1);
    assert_listing("t.cdb");
}

/* Tables that cannot be opened, or not for update, are surrogates. */
static void test_open_errors(void **state UNUSED)
{
    static const struct {
        int size; /* -1: no file */
        char fill;
        int open_flags;
        const char *why; /* after "open database FILE: " */
    } cases[] = {
        {-1, 0, O_RDONLY, "No such file or directory"},
        {0, 0, O_RDONLY, "not a cdb file; rebuild it with postmap"},
        {100, 'x', O_RDONLY, "not a cdb file; rebuild it with postmap"},
        {8192, 'x', O_RDONLY, "not a cdb file; rebuild it with postmap"},
        {8192, 0, O_RDONLY, "not a cdb file; rebuild it with postmap"},
    };
    static const int update_flags[] = {O_RDWR, O_RDWR | O_CREAT, O_WRONLY | O_CREAT};
    static const char *const pairs[] = {"a", "1", NULL};
    VSTRING *want = vstring_alloc(100);
    char junk[8192];
    DICT *dict;

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        (void)unlink(path);
        if (cases[i].size >= 0) {
            int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

            memset(junk, cases[i].fill, sizeof(junk));
            assert_int_equal(write(fd, junk, (size_t)cases[i].size), cases[i].size);
            assert_int_equal(close(fd), 0);
        }
        dict = dict_cdb_open(table, cases[i].open_flags, DICT_FLAG_DEFAULT);
        vstring_sprintf(want, "open database %s: %s", path, cases[i].why);
        assert_true(dict->flags & DICT_FLAG_SURROGATE);
        assert_string_equal(dict_surrogate_reason(dict), vstring_str(want));
        assert_null(dict_get(dict, "a"));
        assert_int_equal(dict->error, DICT_ERR_RETRY);
        dict_close(dict);
        if (cases[i].size >= 0) {
            build(DICT_FLAG_DUP_WARN, pairs);
            assert_answer(DICT_FLAG_DEFAULT, "a", "1");
        }
    }

    /* No incremental updates (a reader's update is fatal: see dict_test). */
    for (size_t i = 0; i < ARRAY_LEN(update_flags); i++) {
        dict = dict_cdb_open(table, update_flags[i], DICT_FLAG_DEFAULT);
        assert_true(dict->flags & DICT_FLAG_SURROGATE);
        assert_string_equal(dict_surrogate_reason(dict),
                            "dict_cdb_open: inappropriate open flags for cdb database"
                            " - specify O_RDONLY or O_WRONLY|O_CREAT|O_TRUNC");
        dict_close(dict);
    }
    dict = dict_cdb_open("/nonexistent/x", BUILD_FLAGS, DICT_FLAG_BULK_UPDATE);
    assert_string_equal(dict_surrogate_reason(dict),
                        "open database /nonexistent/x.cdb: No such file or directory");
    dict_close(dict);
    assert_listing("t.cdb");
    vstring_free(want);
}

/* A file whose records are damaged: lookups fail, never "not found". */
static void test_corrupt(void **state UNUSED)
{
    static const char *const pairs[] = {"a", "1", NULL};
    unsigned char rec[8];
    DICT *dict;
    char *got;
    int fd;

    build(DICT_FLAG_DUP_WARN, pairs);
    /* The only record: key length 2 ("a" and NUL), then a huge value length. */
    assert_true((fd = open(path, O_RDWR)) >= 0);
    assert_int_equal(pread(fd, rec, sizeof(rec), 2048), sizeof(rec));
    assert_int_equal(rec[0], 2);
    memset(rec + 4, 0xff, 4);
    assert_int_equal(pwrite(fd, rec, sizeof(rec), 2048), sizeof(rec));
    assert_int_equal(close(fd), 0);
    dict = topen(O_RDONLY, DICT_FLAG_DEFAULT);
    vstring_reset(logged);
    got = get(dict, "a");
    assert_string_equal(got, "!");
    assert_non_null(strstr(vstring_str(logged), "warning: "));
    myfree(got);
    dict_close(dict);
}

/* A reader keeps the old table after a rebuild and notices the change. */
static void test_rebuild_under_reader(void **state UNUSED)
{
    static const char *const first[] = {"a", "1", "b", "2", NULL};
    static const char *const second[] = {"a", "new", NULL};
    DICT *reader;
    char *got;

    build(DICT_FLAG_DUP_WARN, first);
    reader = topen(O_RDONLY, DICT_FLAG_DEFAULT);
    assert_false(dict_changed(reader));
    build(DICT_FLAG_DUP_WARN, second);
    got = get(reader, "b");
    assert_string_equal(got, "2");
    myfree(got);
    assert_true(dict_changed(reader));
    dict_close(reader);
    assert_answer(DICT_FLAG_DEFAULT, "a", "new");
    assert_answer(DICT_FLAG_DEFAULT, "b", "-");
    assert_listing("t.cdb");
}

/* Open descriptors: count, and how many lack close-on-exec. */
static int count_fds(int *inherited)
{
    DIR *dp = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0, fd, self = dirfd(dp);

    *inherited = 0;
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.' || (fd = atoi(de->d_name)) == self || fd <= 2)
            continue;
        n++;
        if ((fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0)
            (*inherited)++;
    }
    closedir(dp);
    return n;
}

/* Tables close what they open, and nothing leaks into spawned commands. */
static void test_descriptors(void **state UNUSED)
{
    static const char *const pairs[] = {"a", "1", NULL};
    int before, inherited_before, inherited;
    DICT *reader, *builder, *missing;

    before = count_fds(&inherited_before);
    build(DICT_FLAG_DUP_WARN, pairs);
    reader = topen(O_RDONLY, DICT_FLAG_DEFAULT);
    builder = topen(BUILD_FLAGS, DICT_FLAG_DEFAULT | DICT_FLAG_BULK_UPDATE);
    assert_int_equal(dict_put(builder, "c", "3"), DICT_STAT_SUCCESS);
    missing = dict_cdb_open("/nonexistent", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_true(count_fds(&inherited) > before);
    assert_int_equal(inherited, inherited_before);
    dict_close(missing);
    dict_close(reader);
    dict_close(builder);
    assert_int_equal(count_fds(&inherited), before);
}

/* New table files are 0644 less the umask. */
static void test_mode(void **state UNUSED)
{
    static const struct {
        mode_t mask;
        mode_t want;
    } cases[] = {
        {022, 0644},
        {027, 0640},
        {077, 0600},
        {002, 0644},
    };
    static const char *const pairs[] = {"a", "1", NULL};
    mode_t saved = umask(022);
    struct stat st;

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        umask(cases[i].mask);
        build(DICT_FLAG_DUP_WARN, pairs);
        umask(saved);
        assert_int_equal(stat(path, &st), 0);
        if ((st.st_mode & 07777) != cases[i].want)
            fail_msg("umask %03o: mode %03o", (unsigned)cases[i].mask, (unsigned)(st.st_mode & 07777));
    }
    umask(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_builds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuild_under_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void)
{
    printf("dict_cdb_test: built without tinycdb, nothing to test\n");
    return 0;
}

#endif
