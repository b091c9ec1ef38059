/*
 * dict_lmdb_test - unit tests for the hash:, btree: and lmdb: tables:
 * builds and lookups, key folding, the NUL conventions, duplicates,
 * deletes, sequences, tables that cannot be opened, rebuilds under open
 * readers, temporary files, file modes, map growth and readers running
 * while the table is rebuilt.
 *
 * The backend is compiled into this test with a 1 MiB writer map and a
 * small replay-log limit, so that the tests also run the code for a full
 * map (grow, replay, commit in pieces) and for readers whose file was
 * grown by another process.
 */
#include "sys_defs.h"

#define DICT_LMDB_WRITE_MAP ((size_t)1 << 20)
#define DICT_LMDB_LOG_MAX   ((size_t)64 << 10)
#include "dict_lmdb.c"

#include <dirent.h>
#include <stdio.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <cmocka.h>

#ifdef HAS_LMDB

typedef DICT *(*OPEN_FN)(const char *, int, int);

static const struct {
    const char *type;
    const char *suffix;
    OPEN_FN open;
} types[] = {
    {"hash", ".db", dict_hash_open},
    {"btree", ".db", dict_btree_open},
    {"lmdb", ".lmdb", dict_lmdb_open},
};

#define BUILD_FLAGS (O_RDWR | O_CREAT | O_TRUNC)
#define NUL_FLAGS   (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)

static char tmpdir[64];
static char table[100]; /* tmpdir/t: the table name */
static char path[110];  /* its file, set by table_file() */
static VSTRING *logged; /* messages logged during a test */

/* Collect messages instead of printing them. */
static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
}

static int setup(void **state UNUSED)
{
    strcpy(tmpdir, "/tmp/dict_lmdb_test.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    snprintf(table, sizeof(table), "%s/t", tmpdir);
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

/* Set path to the file of type t for the table name. */
static const char *table_file(size_t t)
{
    snprintf(path, sizeof(path), "%s%s", table, types[t].suffix);
    return path;
}

/* The names in the test directory, sorted, joined by spaces. */
static char *listing(void)
{
    struct dirent **names;
    VSTRING *out = vstring_alloc(100);
    int n = scandir(tmpdir, &names, NULL, alphasort);

    assert_true(n >= 0);
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.')
            vstring_sprintf_append(out, "%s%s", VSTRING_LEN(out) ? " " : "", names[i]->d_name);
        free(names[i]);
    }
    free(names);
    return vstring_export(out);
}

/* Assert that the test directory holds exactly the names in want. */
static void assert_listing(const char *want)
{
    char *got = listing();

    assert_string_equal(got, want);
    myfree(got);
}

/* Open table t; fail the test if it is a surrogate. */
static DICT *topen(size_t t, int open_flags, int dict_flags)
{
    DICT *dict = types[t].open(table, open_flags, dict_flags);

    if (dict->flags & DICT_FLAG_SURROGATE)
        fail_msg("%s:%s: %s", types[t].type, table, dict_surrogate_reason(dict));
    return dict;
}

/* Build table t from NULL-terminated key, value pairs. */
static void build(size_t t, int dict_flags, const char *const *pairs)
{
    DICT *dict = topen(t, BUILD_FLAGS, dict_flags | DICT_FLAG_BULK_UPDATE);

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

/* Open table t, look key up, close. */
static char *answer(size_t t, int dict_flags, const char *key)
{
    DICT *dict = topen(t, O_RDONLY, dict_flags);
    char *result = get(dict, key);

    dict_close(dict);
    return result;
}

/* Assert the answer of table t for key. */
static void assert_answer(size_t t, int dict_flags, const char *key, const char *want)
{
    char *got = answer(t, dict_flags, key);

    if (strcmp(got, want) != 0)
        fail_msg("%s: key \"%s\": got \"%s\", want \"%s\"", types[t].type, key, got, want);
    myfree(got);
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

    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        build(t, DICT_FLAG_DEFAULT, pairs);
        for (size_t i = 0; i < ARRAY_LEN(cases); i++)
            assert_answer(t, DICT_FLAG_DEFAULT, cases[i].key, cases[i].want);
    }
    assert_listing("t.db t.lmdb");
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

    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
            build(t, DICT_FLAG_DUP_WARN | cases[i].build_fold, pairs);
            assert_answer(t, DICT_FLAG_LOCK | cases[i].query_fold, cases[i].key, cases[i].want);
        }
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

    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
            DICT *dict;
            char *got;

            build(t, DICT_FLAG_DUP_WARN | cases[i].write, pairs);
            dict = topen(t, O_RDONLY, DICT_FLAG_LOCK | cases[i].read);
            got = get(dict, "k");
            if (strcmp(got, cases[i].want) != 0 || (dict->flags & NUL_FLAGS) != cases[i].flags_after)
                fail_msg("%s case %zu: got \"%s\" flags %#x", types[t].type, i, got, dict->flags & NUL_FLAGS);
            myfree(got);
            dict_close(dict);
        }
    }
}

/* Duplicate keys in a build, an incremental update and single updates. */
static void test_duplicates(void **state UNUSED)
{
    static const struct {
        int dup;
        const char *want;
        int put_result;
        bool warns;
    } cases[] = {
        {DICT_FLAG_DUP_REPLACE, "2", DICT_STAT_SUCCESS, false},
        {DICT_FLAG_DUP_IGNORE, "1", DICT_STAT_FAIL, false},
        {DICT_FLAG_DUP_WARN, "1", DICT_STAT_FAIL, true},
    };
    static const struct {
        int open_flags;
        int dict_flags;
    } modes[] = {
        {BUILD_FLAGS, DICT_FLAG_BULK_UPDATE},
        {O_RDWR | O_CREAT, DICT_FLAG_BULK_UPDATE},
        {O_RDWR | O_CREAT, 0},
    };
    static const char *const first[] = {"a", "1", NULL};
    VSTRING *want = vstring_alloc(100);

    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
            for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
                int flags = cases[i].dup | DICT_FLAG_FOLD_FIX | modes[m].dict_flags;
                DICT *dict;

                if (modes[m].open_flags & O_TRUNC) {
                    dict = topen(t, modes[m].open_flags, flags);
                    assert_int_equal(dict_put(dict, "a", "1"), DICT_STAT_SUCCESS);
                } else {
                    build(t, DICT_FLAG_DUP_WARN, first);
                    dict = topen(t, modes[m].open_flags, flags);
                }
                vstring_reset(logged);
                assert_int_equal(dict_put(dict, "A", "2"), cases[i].put_result);
                dict_close(dict);
                vstring_reset(want);
                if (cases[i].warns)
                    vstring_sprintf(want, "warning: %s%s: duplicate entry: \"a\"\n",
                                    strcmp(types[t].type, "lmdb") ? "" : "lmdb:",
                                    strcmp(types[t].type, "lmdb") ? table_file(t) : table);
                assert_string_equal(vstring_str(logged), vstring_str(want));
                assert_answer(t, DICT_FLAG_DEFAULT, "a", cases[i].want);
            }
        }
    }
    vstring_free(want);
}

/* Run fn in a child process; return its exit status (-1: killed). */
static int in_child(void (*fn)(size_t), size_t t)
{
    int status;
    pid_t pid;

    fflush(stdout);
    if ((pid = fork()) == 0) {
        fn(t);
        _exit(0);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The table a child works on; static, so a child dying in msg_fatal() leaks nothing. */
static DICT *volatile child_dict;

/* Child: a duplicate without any DUP flag ends the program. */
static void dup_without_flag(size_t t)
{
    DICT *dict = child_dict = topen(t, BUILD_FLAGS, DICT_FLAG_BULK_UPDATE | NUL_FLAGS);

    (void)dict_put(dict, "a", "2");
    (void)dict_put(dict, "a", "3");
    dict_close(dict);
}

/* Child: die in the middle of a build. */
static void die_in_build(size_t t)
{
    DICT *dict = child_dict = topen(t, BUILD_FLAGS, DICT_FLAG_BULK_UPDATE | DICT_FLAG_DUP_WARN);

    (void)dict_put(dict, "a", "new");
    msg_fatal("dying in the middle of a build");
}

/* Child: build while the table's name is taken by a directory: rename fails. */
static void fail_at_close(size_t t)
{
    DICT *dict = child_dict = topen(t, BUILD_FLAGS, DICT_FLAG_BULK_UPDATE | DICT_FLAG_DUP_WARN);

    (void)dict_put(dict, "a", "new");
    dict_close(dict);
}

/* Failed builds leave the old table and no temporary file. */
static void test_failed_builds(void **state UNUSED)
{
    static const char *const old[] = {"a", "old", NULL};
    char sub[130];

    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        build(t, DICT_FLAG_DUP_WARN, old);
        assert_int_equal(in_child(dup_without_flag, t), 1);
        assert_int_equal(in_child(die_in_build, t), 1);
        assert_answer(t, DICT_FLAG_DEFAULT, "a", "old");
        assert_listing(t == 2 ? "t.db t.lmdb" : "t.db");
    }
    /* A build that dies leaves no new table file either. */
    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        (void)unlink(table_file(t));
        assert_int_equal(in_child(die_in_build, t), 1);
    }
    assert_listing("");
    build(2, DICT_FLAG_DUP_WARN, old);
    build(0, DICT_FLAG_DUP_WARN, old);

    /* hash: the final rename fails. */
    assert_int_equal(unlink(table_file(0)), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(sub, sizeof(sub), "%s/x", path);
    assert_int_equal(close(open(sub, O_CREAT | O_WRONLY, 0644)), 0);
    assert_int_equal(in_child(fail_at_close, 0), 1);
    assert_listing("t.db t.lmdb");
}

/* Deletes in bulk (postmap -d) and single mode, with and without NUL. */
static void test_delete(void **state UNUSED)
{
    static const char *const pairs[] = {"a", "1", "b", "2", "c", "3", NULL};
    static const struct {
        const char *key;
        int want;
    } cases[] = {
        {"A", DICT_STAT_SUCCESS},
        {"a", DICT_STAT_FAIL},
        {"zz", DICT_STAT_FAIL},
        {"c", DICT_STAT_SUCCESS},
    };
    static const int write_nul[] = {DICT_FLAG_TRY1NULL, DICT_FLAG_TRY0NULL};
    static const int bulk[] = {DICT_FLAG_BULK_UPDATE, 0};

    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        for (size_t n = 0; n < ARRAY_LEN(write_nul); n++) {
            for (size_t b = 0; b < ARRAY_LEN(bulk); b++) {
                DICT *dict;

                build(t, DICT_FLAG_DUP_WARN | write_nul[n], pairs);
                dict = topen(t, O_RDWR, DICT_FLAG_DEFAULT | bulk[b]);
                for (size_t i = 0; i < ARRAY_LEN(cases); i++)
                    assert_int_equal(dict_del(dict, cases[i].key), cases[i].want);
                dict_close(dict);
                assert_answer(t, DICT_FLAG_DEFAULT, "a", "-");
                assert_answer(t, DICT_FLAG_DEFAULT, "b", "2");
                assert_answer(t, DICT_FLAG_DEFAULT, "c", "-");
            }
        }
    }
}

/* Build count entries "keyN" -> "valueN" (padded to make the table grow). */
static void build_many(size_t t, int open_flags, int dict_flags, int from, int count)
{
    DICT *dict = topen(t, open_flags, DICT_FLAG_DUP_WARN | DICT_FLAG_FOLD_FIX | dict_flags);
    char key[32], value[200];

    for (int i = from; i < from + count; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        snprintf(value, sizeof(value), "value%d %0120d", i, i);
        assert_int_equal(dict_put(dict, key, value), DICT_STAT_SUCCESS);
    }
    dict_close(dict);
}

/* Check count entries from build_many() through one open table. */
static void check_many(DICT *dict, int from, int count)
{
    char key[32], value[200];
    const char *got;

    for (int i = from; i < from + count; i++) {
        snprintf(key, sizeof(key), "KEY%d", i);
        snprintf(value, sizeof(value), "value%d %0120d", i, i);
        if ((got = dict_get(dict, key)) == NULL || strcmp(got, value) != 0)
            fail_msg("%s: %s: got %s", dict->type, key, got ? got : dict->error ? "error" : "nothing");
    }
}

/* Count the entries a sequence lists, checking that each is right. */
static int count_sequence(DICT *dict)
{
    const char *key, *value;
    char want[200];
    int n = 0, func = DICT_SEQ_FUN_FIRST;

    while (dict_seq(dict, func, &key, &value) == DICT_STAT_SUCCESS) {
        snprintf(want, sizeof(want), "value%d %0120d", atoi(key + 3), atoi(key + 3));
        assert_string_equal(value, want);
        n++;
        func = DICT_SEQ_FUN_NEXT;
    }
    assert_int_equal(dict->error, DICT_ERR_NONE);
    return n;
}

/* Sequences list everything, also while entries are deleted. */
static void test_sequence(void **state UNUSED)
{
    const char *key, *value;
    DICT *dict;
    int seen, func;

    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        build_many(t, BUILD_FLAGS, DICT_FLAG_BULK_UPDATE, 0, 500);
        dict = topen(t, O_RDONLY, DICT_FLAG_DEFAULT);
        assert_int_equal(count_sequence(dict), 500);
        assert_int_equal(count_sequence(dict), 500); /* again, after the end */
        dict_close(dict);

        /* A cache cleanup: delete every even key while stepping through. */
        for (int bulk = 0; bulk <= DICT_FLAG_BULK_UPDATE; bulk += DICT_FLAG_BULK_UPDATE) {
            build_many(t, BUILD_FLAGS, DICT_FLAG_BULK_UPDATE, 0, 500);
            dict = topen(t, O_RDWR, DICT_FLAG_DEFAULT | bulk);
            seen = 0;
            for (func = DICT_SEQ_FUN_FIRST; dict_seq(dict, func, &key, &value) == DICT_STAT_SUCCESS;
                 func = DICT_SEQ_FUN_NEXT) {
                seen++;
                if (atoi(key + 3) % 2 == 0) {
                    char copy[32];

                    snprintf(copy, sizeof(copy), "%s", key);
                    assert_int_equal(dict_del(dict, copy), DICT_STAT_SUCCESS);
                    assert_non_null(dict_get(dict, "key1"));
                }
            }
            assert_int_equal(seen, 500);
            dict_close(dict);
            dict = topen(t, O_RDONLY, DICT_FLAG_DEFAULT);
            assert_int_equal(count_sequence(dict), 250);
            check_many(dict, 1, 1);
            dict_close(dict);
        }
    }
}

/* Tables that cannot be opened are surrogates that say why. */
static void test_open_errors(void **state UNUSED)
{
    static const struct {
        const char *content; /* NULL: no file; "": empty; "B": Berkeley DB header */
        int open_flags;
        const char *hash_why; /* after "open database FILE: " */
        const char *lmdb_why;
    } cases[] = {
        {NULL, O_RDONLY, "No such file or directory", "No such file or directory"},
        {NULL, O_RDWR, "No such file or directory", "No such file or directory"},
        {"", O_RDONLY, "not a Postern TYPE table; rebuild it with postmap",
         "MDB_INVALID: File is not an LMDB file; rebuild it with postmap"},
        {"garbage", O_RDONLY, "not a Postern TYPE table; rebuild it with postmap",
         "MDB_INVALID: File is not an LMDB file; rebuild it with postmap"},
        {"garbage", O_RDWR, "not a Postern TYPE table; rebuild it with postmap",
         "MDB_INVALID: File is not an LMDB file; rebuild it with postmap"},
        {"B", O_RDONLY,
         "not a Postern TYPE table (a Berkeley DB file from Postfix?); rebuild it with postmap",
         "MDB_INVALID: File is not an LMDB file; rebuild it with postmap"},
    };
    static const char *const pairs[] = {"a", "1", NULL};
    VSTRING *want = vstring_alloc(100);
    unsigned char junk[8192];
    const char *why, *type_at;
    DICT *dict;

    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
            (void)unlink(table_file(t));
            if (cases[i].content != NULL) {
                int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

                memset(junk, 'x', sizeof(junk));
                if (strcmp(cases[i].content, "B") == 0) {
                    memset(junk, 0, sizeof(junk));
                    memcpy(junk + 12, &(uint32_t){0x00061561}, 4);
                }
                if (*cases[i].content)
                    assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
                assert_int_equal(close(fd), 0);
            }
            dict = types[t].open(table, cases[i].open_flags, DICT_FLAG_DEFAULT);
            vstring_sprintf(want, "open database %s: ", path);
            why = t == 2 ? cases[i].lmdb_why : cases[i].hash_why;
            if ((type_at = strstr(why, "TYPE")) != NULL)
                vstring_sprintf_append(want, "%.*s%s%s", (int)(type_at - why), why, types[t].type,
                                       type_at + 4);
            else
                vstring_strcat(want, why);
            assert_true(dict->flags & DICT_FLAG_SURROGATE);
            assert_string_equal(dict_surrogate_reason(dict), vstring_str(want));
            assert_null(dict_get(dict, "a"));
            assert_int_equal(dict->error, DICT_ERR_RETRY);
            dict_close(dict);

            /* A build replaces whatever was there. */
            if (cases[i].content != NULL) {
                build(t, DICT_FLAG_DUP_WARN, pairs);
                assert_answer(t, DICT_FLAG_DEFAULT, "a", "1");
            }
        }
    }
    /* A file cut short (reading past its end would kill the process). */
    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        build_many(t, BUILD_FLAGS, DICT_FLAG_BULK_UPDATE, 0, 500);
        assert_int_equal(truncate(table_file(t), 3 * 4096), 0);
        dict = types[t].open(table, O_RDONLY, DICT_FLAG_DEFAULT);
        vstring_sprintf(want, "open database %s: the file is truncated; rebuild it with postmap", path);
        assert_string_equal(dict_surrogate_reason(dict), vstring_str(want));
        dict_close(dict);
    }

    /* No directory to build in. */
    dict = dict_hash_open("/nonexistent/x", BUILD_FLAGS, DICT_FLAG_BULK_UPDATE);
    assert_true(dict->flags & DICT_FLAG_SURROGATE);
    assert_string_equal(dict_surrogate_reason(dict),
                        "open database /nonexistent/x.db: No such file or directory");
    dict_close(dict);
    dict = dict_hash_open("/nonexistent", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_string_equal(dict_surrogate_reason(dict),
                        "open database /nonexistent.db: No such file or directory");
    dict_close(dict);
    vstring_free(want);
}

/* A reader keeps working while the table is rebuilt and updated. */
static void test_rebuild_under_reader(void **state UNUSED)
{
    static const char *const first[] = {"a", "1", "b", "2", NULL};
    static const char *const second[] = {"a", "new", NULL};
    DICT *reader, *writer;
    char *got;

    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        bool in_place = strcmp(types[t].type, "lmdb") == 0;

        build(t, DICT_FLAG_DUP_WARN, first);
        reader = topen(t, O_RDONLY, DICT_FLAG_DEFAULT);
        got = get(reader, "a");
        assert_string_equal(got, "1");
        myfree(got);
        assert_false(dict_changed(reader));
        build(t, DICT_FLAG_DUP_WARN, second);
        got = get(reader, "a");
        assert_string_equal(got, in_place ? "new" : "1");
        myfree(got);
        got = get(reader, "b");
        assert_string_equal(got, in_place ? "-" : "2");
        myfree(got);
        assert_int_equal(dict_changed(reader), !in_place);

        /* An update committed at once is seen at once by lmdb readers. */
        writer = topen(t, O_RDWR, DICT_FLAG_DEFAULT);
        assert_int_equal(dict_put(writer, "n", "9"), DICT_STAT_SUCCESS);
        got = get(reader, "n");
        assert_string_equal(got, in_place ? "9" : "-");
        myfree(got);
        dict_close(writer);
        dict_close(reader);
        assert_answer(t, DICT_FLAG_DEFAULT, "n", "9");
    }
}

/* New table files are 0644 less the umask; rebuilds follow the umask. */
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

    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
            (void)unlink(table_file(t));
            umask(cases[i].mask);
            build(t, DICT_FLAG_DUP_WARN, pairs);
            if (t != 2)
                build(t, DICT_FLAG_DUP_WARN, pairs); /* a rebuild: a new file */
            umask(saved);
            assert_int_equal(stat(table_file(t), &st), 0);
            if ((st.st_mode & 07777) != cases[i].want)
                fail_msg("%s umask %03o: mode %03o", types[t].type, (unsigned)cases[i].mask,
                         (unsigned)(st.st_mode & 07777));
        }
    }
    umask(saved);
}

/* Tables bigger than the first map: builds, bulk and single updates, readers. */
static void test_growth(void **state UNUSED)
{
    struct stat st;
    DICT *reader, *writer;
    char key[32];

    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        build_many(t, BUILD_FLAGS, DICT_FLAG_BULK_UPDATE, 0, 20000);
        assert_int_equal(stat(table_file(t), &st), 0);
        assert_true(st.st_size > 2 * (off_t)DICT_LMDB_WRITE_MAP);
        reader = topen(t, O_RDONLY, DICT_FLAG_DEFAULT);
        check_many(reader, 0, 20000);
        assert_int_equal(count_sequence(reader), 20000);

        /* The reader's map is too small once the file has grown in place. */
        build_many(t, O_RDWR, DICT_FLAG_BULK_UPDATE, 20000, 20000);
        check_many(reader, 0, 40000);
        build_many(t, O_RDWR, 0, 40000, 5000);
        check_many(reader, 40000, 5000);
        assert_int_equal(count_sequence(reader), 45000);

        /* Deletes in bulk, through a writer with a small map again. */
        writer = topen(t, O_RDWR, DICT_FLAG_DEFAULT | DICT_FLAG_BULK_UPDATE);
        for (int i = 0; i < 45000; i += 3) {
            snprintf(key, sizeof(key), "key%d", i);
            assert_int_equal(dict_del(writer, key), DICT_STAT_SUCCESS);
        }
        dict_close(writer);
        assert_int_equal(count_sequence(reader), 30000);
        dict_close(reader);
    }
    assert_listing("t.db t.lmdb");
    assert_string_equal(vstring_str(logged), "");
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
    int before, after, inherited_before, inherited;
    DICT *reader, *writer, *builder, *missing;

    before = count_fds(&inherited_before);
    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        build(t, DICT_FLAG_DUP_WARN, pairs);
        reader = topen(t, O_RDONLY, DICT_FLAG_DEFAULT);
        writer = topen(t, O_RDWR, DICT_FLAG_DEFAULT);
        assert_int_equal(dict_put(writer, "b", "2"), DICT_STAT_SUCCESS);
        assert_non_null(dict_get(reader, "b"));
        if (t != 2) {
            builder = topen(t, BUILD_FLAGS, DICT_FLAG_DEFAULT | DICT_FLAG_BULK_UPDATE);
            assert_int_equal(dict_put(builder, "c", "3"), DICT_STAT_SUCCESS);
        }
        missing = types[t].open("/nonexistent", O_RDONLY, DICT_FLAG_DEFAULT);
        assert_true(count_fds(&inherited) > before);
        assert_int_equal(inherited, inherited_before);
        dict_close(missing);
        dict_close(reader);
        dict_close(writer);
        if (t != 2)
            dict_close(builder);
        assert_int_equal(count_fds(&inherited), before);
    }
    after = count_fds(&inherited);
    assert_int_equal(after, before);
}

/* Child: look "a" up until stdin closes; exit with the number of failures. */
static void lookup_loop(size_t t)
{
    int failures = 0;
    char buf[1];

    (void)fcntl(0, F_SETFL, O_NONBLOCK);
    while (read(0, buf, 1) < 0 && errno == EAGAIN) {
        DICT *dict = types[t].open(table, O_RDONLY, DICT_FLAG_DEFAULT);
        const char *value = dict_get(dict, "a");

        if (value == NULL || strcmp(value, "1") != 0)
            failures++;
        dict_close(dict);
    }
    _exit(failures > 100 ? 100 : failures);
}

/* Lookups never fail or miss while the table is rebuilt again and again. */
static void test_rebuild_loop(void **state UNUSED)
{
    int fds[2], status;
    char key[32];
    DICT *dict;
    pid_t pid;

    for (size_t t = 0; t < ARRAY_LEN(types); t++) {
        build_many(t, BUILD_FLAGS, DICT_FLAG_BULK_UPDATE, 0, 0);
        dict = topen(t, O_RDWR, DICT_FLAG_DEFAULT);
        assert_int_equal(dict_put(dict, "a", "1"), DICT_STAT_SUCCESS);
        dict_close(dict);
        assert_int_equal(pipe(fds), 0);
        if ((pid = fork()) == 0) {
            (void)dup2(fds[0], 0);
            (void)close(fds[1]);
            lookup_loop(t);
        }
        (void)close(fds[0]);
        for (int round = 0; round < 50; round++) {
            dict = topen(t, BUILD_FLAGS, DICT_FLAG_DEFAULT | DICT_FLAG_BULK_UPDATE);
            for (int i = 0; i < 2000; i++) {
                snprintf(key, sizeof(key), "key%d", (i * 7919 + round) % 2000);
                assert_int_equal(dict_put(dict, key, key), DICT_STAT_SUCCESS);
            }
            assert_int_equal(dict_put(dict, "a", "1"), DICT_STAT_SUCCESS);
            dict_close(dict);
        }
        (void)close(fds[1]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_listing("t.db t.lmdb");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_builds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuild_under_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuild_loop, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void)
{
    printf("dict_lmdb_test: built without LMDB, nothing to test\n");
    return 0;
}

#endif
