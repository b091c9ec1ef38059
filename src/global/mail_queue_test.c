/*
 * mail_queue_test - unit tests for mail_queue: short and long queue IDs
 * (exact encodings, the regular expressions of queue.md check 50, the
 * inode in the ID), ID syntax checks, hashed directory names for short
 * and long IDs, and the file life cycle (enter, open, rename into hashed
 * directories, remove, directory sync) in a scratch queue directory.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mail_params.h"
#include "mail_queue.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

static char test_dir[] = "/tmp/mail_queue_test.XXXXXX";

/* queue.md section 12, check 50. */
#define LONG_ID_REGEX  "^[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]+$"
#define SHORT_ID_REGEX "^[0-9A-F]{5}[0-9A-F]+$"

/* True when TEXT matches the extended regular expression PATTERN. */
static bool matches(const char *pattern, const char *text)
{
    regex_t re;
    bool ok;

    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    ok = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static const struct {
    bool long_ids;
    long sec;
    long usec;
    unsigned long long inode;
    const char *id;
} id_cases[] = {
    {false, 1763737192, 0xDBA3F, 0x1A9, "DBA3F1A9"},
    {false, 1763737192, 0, 0x5, "000005"},
    {false, 1763737192, 999999, 0xA72275ULL, "F423FA72275"},
    {false, 0, 1, 0xFFFFFFFFFFULL, "00001FFFFFFFFFF"},
    {true, 1763737192, 123456, 1234567, "4dCdfw0sf8z9HdB"},
    {true, 0, 0, 0, "0000000000z0"},
    {true, 1700000000, 999999, 51, "4SVLCh75plz10"},
};

static void test_id_make(void **state UNUSED)
{
    VSTRING *id = vstring_alloc(10);

    for (size_t i = 0; i < ARRAY_LEN(id_cases); i++) {
        struct timeval tv = {.tv_sec = id_cases[i].sec, .tv_usec = id_cases[i].usec};

        var_enable_long_queue_ids = id_cases[i].long_ids;
        mail_queue_id_make(id, (ino_t)id_cases[i].inode, &tv);
        assert_string_equal(vstring_str(id), id_cases[i].id);
        assert_true(matches(id_cases[i].long_ids ? LONG_ID_REGEX : SHORT_ID_REGEX, vstring_str(id)));
        assert_true(mail_queue_id_ok(vstring_str(id)));
    }
    var_enable_long_queue_ids = false;
    vstring_free(id);
}

static void test_id_ok(void **state UNUSED)
{
    static const struct {
        const char *id;
        bool ok;
    } cases[] = {
        {"DBA3F1A9", true},
        {"4dCdfw0sf8z9HdB", true},
        {"under_score", true},
        {"", false},
        {"bad/id", false},
        {"..", false},
        {"A.B", false},
        {"has space", false},
        {"1234567890123456789012345678901234567890123456789012345678901234", false}, /* 64 chars */
        {"123456789012345678901234567890123456789012345678901234567890123", true},   /* 63 chars */
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (mail_queue_id_ok(cases[i].id) != cases[i].ok)
            fail_msg("mail_queue_id_ok(\"%s\") != %d", cases[i].id, cases[i].ok);
    assert_false(mail_queue_id_ok(NULL));
}

static void test_paths(void **state UNUSED)
{
    static const struct {
        const char *names;
        int depth;
        const char *queue;
        const char *id;
        const char *dir;
        const char *path;
    } cases[] = {
        {"deferred, defer", 1, "deferred", "DBA3F1A9", "deferred/D", "deferred/D/DBA3F1A9"},
        {"deferred, defer", 1, "defer", "DBA3F1A9", "defer/D", "defer/D/DBA3F1A9"},
        {"deferred, defer", 1, "incoming", "DBA3F1A9", "incoming", "incoming/DBA3F1A9"},
        {"deferred, defer", 2, "deferred", "DBA3F1A9", "deferred/D/B", "deferred/D/B/DBA3F1A9"},
        {"deferred,incoming", 3, "incoming", "0F1E", "incoming/0/F/1", "incoming/0/F/1/0F1E"},
        {"", 1, "deferred", "DBA3F1A9", "deferred", "deferred/DBA3F1A9"},
        {"deferredx", 1, "deferred", "DBA3F1A9", "deferred", "deferred/DBA3F1A9"},
        /* Long IDs hash by their microseconds in hex, as short IDs do (0x1E240 = 123456). */
        {"deferred", 1, "deferred", "4dCdfw0sf8z9HdB", "deferred/1", "deferred/1/4dCdfw0sf8z9HdB"},
        {"deferred", 2, "deferred", "4SVLCh75plz10", "deferred/F/4", "deferred/F/4/4SVLCh75plz10"},
        /* An ID shorter than the depth uses what it has. */
        {"deferred", 3, "deferred", "AB", "deferred/A/B", "deferred/A/B/AB"},
    };
    VSTRING *buf = vstring_alloc(10);
    VSTRING *expect = vstring_alloc(10);
    char *saved_names = var_hash_queue_names;
    int saved_depth = var_hash_queue_depth;

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        var_hash_queue_names = (char *)cases[i].names;
        var_hash_queue_depth = cases[i].depth;
        assert_string_equal(mail_queue_dir(buf, cases[i].queue, cases[i].id, true), cases[i].dir);
        assert_string_equal(mail_queue_path(buf, cases[i].queue, cases[i].id, true), cases[i].path);
        vstring_sprintf(expect, "%s/%s", var_queue_directory, cases[i].path);
        assert_string_equal(mail_queue_path(buf, cases[i].queue, cases[i].id, false), vstring_str(expect));
    }
    var_hash_queue_names = saved_names;
    var_hash_queue_depth = saved_depth;
    vstring_free(buf);
    vstring_free(expect);
}

/* Names in DIR other than "." and ".." (sorted not needed: counted/checked). */
static int count_entries(const char *dir, bool *has_dot_name)
{
    DIR *dp = opendir(dir);
    struct dirent *de;
    int n = 0;

    assert_non_null(dp);
    *has_dot_name = false;
    while ((de = readdir(dp)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (strchr(de->d_name, '.'))
            *has_dot_name = true;
        n++;
    }
    closedir(dp);
    return n;
}

/* Decode a base-51 inode from the end of a long ID. */
static unsigned long long long_id_inode(const char *id)
{
    static const char b52[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
    unsigned long long v = 0;

    for (const char *cp = strrchr(id, 'z') + 1; *cp; cp++)
        v = v * 51 + (unsigned long long)(strchr(b52, *cp) - b52);
    return v;
}

static void test_life_cycle(void **state UNUSED)
{
    VSTRING *id = vstring_alloc(10);
    VSTRING *path = vstring_alloc(10);
    VSTRING *dir = vstring_alloc(10);
    struct timeval tv;
    struct stat st;
    bool dot;

    for (int long_ids = 0; long_ids <= 1; long_ids++) {
        var_enable_long_queue_ids = long_ids;
        VSTREAM *fp = mail_queue_enter(MAIL_QUEUE_INCOMING, 0600, &tv, id);

        assert_non_null(fp);
        assert_true(matches(long_ids ? LONG_ID_REGEX : SHORT_ID_REGEX, vstring_str(id)));
        assert_int_equal(fstat(vstream_fileno(fp), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        /* The ID encodes the inode and the creation time's microseconds. */
        if (long_ids) {
            assert_true(long_id_inode(vstring_str(id)) == (unsigned long long)st.st_ino);
        } else {
            char hex[40];

            snprintf(hex, sizeof(hex), "%05X%llX", (unsigned)tv.tv_usec, (unsigned long long)st.st_ino);
            assert_string_equal(vstring_str(id), hex);
        }
        /* Named after the ID, no temporary name left, stream path names it. */
        mail_queue_path(path, MAIL_QUEUE_INCOMING, vstring_str(id), false);
        assert_string_equal(vstream_path(fp), vstring_str(path));
        assert_int_equal(stat(vstring_str(path), &st), 0);
        vstring_sprintf(dir, "%s/incoming", var_queue_directory);
        assert_int_equal(count_entries(vstring_str(dir), &dot), 1);
        assert_false(dot);
        assert_int_equal(vstream_fputs("data", fp), 0);
        assert_int_equal(vstream_fclose(fp), 0);
        assert_int_equal(mail_queue_sync_dir(MAIL_QUEUE_INCOMING, vstring_str(id)), 0);

        /* Into a hashed queue: the subdirectory is created. */
        assert_int_equal(mail_queue_rename(vstring_str(id), MAIL_QUEUE_INCOMING, MAIL_QUEUE_DEFERRED), 0);
        mail_queue_path(path, MAIL_QUEUE_DEFERRED, vstring_str(id), false);
        assert_int_equal(stat(vstring_str(path), &st), 0);
        assert_non_null(strstr(vstring_str(path), "/deferred/"));
        assert_int_equal(mail_queue_sync_dir(MAIL_QUEUE_DEFERRED, vstring_str(id)), 0);
        mail_queue_dir(dir, MAIL_QUEUE_DEFERRED, vstring_str(id), false);
        assert_int_equal(stat(vstring_str(dir), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);

        fp = mail_queue_open(MAIL_QUEUE_DEFERRED, vstring_str(id), O_RDONLY, 0);
        assert_non_null(fp);
        char got[8] = {0};
        assert_int_equal(vstream_fread(fp, got, 4), 4);
        assert_string_equal(got, "data");
        vstream_fclose(fp);

        /* Missing source: -1 ENOENT, nothing created. */
        errno = 0;
        assert_int_equal(mail_queue_rename("NOSUCHID", MAIL_QUEUE_INCOMING, MAIL_QUEUE_HOLD), -1);
        assert_int_equal(errno, ENOENT);

        assert_int_equal(mail_queue_remove(MAIL_QUEUE_DEFERRED, vstring_str(id)), 0);
        assert_int_equal(mail_queue_remove(MAIL_QUEUE_DEFERRED, vstring_str(id)), -1);
        assert_int_equal(errno, ENOENT);
        assert_null(mail_queue_open(MAIL_QUEUE_DEFERRED, vstring_str(id), O_RDONLY, 0));
    }
    var_enable_long_queue_ids = false;

    /* O_CREAT makes missing hash directories. */
    VSTREAM *fp = mail_queue_open(MAIL_QUEUE_DEFER, "ABCDEF", O_CREAT | O_WRONLY, 0600);
    assert_non_null(fp);
    vstream_fclose(fp);
    vstring_sprintf(path, "%s/defer/A/ABCDEF", var_queue_directory);
    assert_int_equal(stat(vstring_str(path), &st), 0);

    /* Many files: all distinct IDs. */
    char *ids[50];
    for (int i = 0; i < 50; i++) {
        fp = mail_queue_enter(MAIL_QUEUE_INCOMING, 0600, &tv, id);
        assert_non_null(fp);
        vstream_fclose(fp);
        ids[i] = mystrdup(vstring_str(id));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
    }
    for (int i = 0; i < 50; i++) {
        assert_int_equal(mail_queue_remove(MAIL_QUEUE_INCOMING, ids[i]), 0);
        myfree(ids[i]);
    }

    /* Entering a hashed queue makes the missing hash subdirectory. */
    fp = mail_queue_enter(MAIL_QUEUE_DEFERRED, 0600, &tv, id);
    assert_non_null(fp);
    vstream_fclose(fp);
    mail_queue_path(path, MAIL_QUEUE_DEFERRED, vstring_str(id), false);
    assert_int_equal(stat(vstring_str(path), &st), 0);
    assert_int_equal(mail_queue_remove(MAIL_QUEUE_DEFERRED, vstring_str(id)), 0);

    /* No queue directory: NULL with a warning, no crash. */
    assert_null(mail_queue_enter("no-such-queue", 0600, &tv, id));
    vstring_free(id);
    vstring_free(path);
    vstring_free(dir);
}

/*
 * Recycling: a retired file moves into spare/ (mode 0600) and the next
 * new incoming file is that inode, empty, mode 0600, under a new ID (no
 * temporary name left behind); a large message's file is removed; a
 * spare with two names or another mode is not used; with no spare left a
 * file is created.
 */
static void test_spare(void **state UNUSED)
{
    VSTRING *id = vstring_alloc(10);
    VSTRING *path = vstring_alloc(10);
    VSTRING *dir = vstring_alloc(10);
    struct timeval tv;
    struct stat st;
    ino_t inode;
    bool dot;
    char old_id[MAIL_QUEUE_ID_LEN_MAX];

    VSTREAM *fp = mail_queue_enter(MAIL_QUEUE_INCOMING, 0600, &tv, id);
    assert_non_null(fp);
    assert_int_equal(vstream_fputs("old message content", fp), 0);
    assert_int_equal(fchmod(vstream_fileno(fp), MAIL_QUEUE_STAT_READY), 0);
    assert_int_equal(fstat(vstream_fileno(fp), &st), 0);
    inode = st.st_ino;
    vstream_fclose(fp);
    snprintf(old_id, sizeof(old_id), "%s", vstring_str(id));
    assert_int_equal(mail_queue_rename(old_id, MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE), 0);
    assert_int_equal(mail_queue_retire(MAIL_QUEUE_ACTIVE, old_id, 19), 0);
    vstring_sprintf(dir, "%s/%s", var_queue_directory, MAIL_QUEUE_SPARE);
    assert_int_equal(count_entries(vstring_str(dir), &dot), 1);

    fp = mail_queue_enter(MAIL_QUEUE_INCOMING, 0600, &tv, id);
    assert_non_null(fp);
    assert_int_equal(fstat(vstream_fileno(fp), &st), 0);
    assert_true(st.st_ino == inode);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_string_not_equal(vstring_str(id), old_id);
    assert_int_equal(count_entries(vstring_str(dir), &dot), 0);
    vstring_sprintf(path, "%s/incoming", var_queue_directory);
    assert_int_equal(count_entries(vstring_str(path), &dot), 1);
    assert_false(dot);
    vstream_fclose(fp);

    /* Too large to keep: removed. */
    assert_int_equal(mail_queue_retire(MAIL_QUEUE_INCOMING, vstring_str(id), MAIL_QUEUE_SPARE_SIZE + 1), 0);
    assert_int_equal(count_entries(vstring_str(dir), &dot), 0);
    assert_int_equal(count_entries(vstring_str(path), &dot), 0);

    /* A spare with a second name (a crash between two renames, fixed by
     * fsck) is not reused: the other name keeps its content. */
    fp = mail_queue_enter(MAIL_QUEUE_INCOMING, 0600, &tv, id);
    assert_non_null(fp);
    assert_int_equal(vstream_fputs("queued", fp), 0);
    vstream_fclose(fp);
    mail_queue_path(path, MAIL_QUEUE_INCOMING, vstring_str(id), false);
    vstring_sprintf(dir, "%s/%s/TWONAMES", var_queue_directory, MAIL_QUEUE_SPARE);
    assert_int_equal(link(vstring_str(path), vstring_str(dir)), 0);
    snprintf(old_id, sizeof(old_id), "%s", vstring_str(id));
    fp = mail_queue_enter(MAIL_QUEUE_INCOMING, 0600, &tv, id);
    assert_non_null(fp);
    assert_int_equal(fstat(vstream_fileno(fp), &st), 0);
    assert_int_equal(st.st_nlink, 1);
    vstream_fclose(fp);
    assert_int_equal(stat(vstring_str(path), &st), 0);
    assert_int_equal(st.st_size, 6);
    assert_int_equal(st.st_nlink, 1);
    assert_int_equal(mail_queue_remove(MAIL_QUEUE_INCOMING, old_id), 0);
    assert_int_equal(mail_queue_remove(MAIL_QUEUE_INCOMING, vstring_str(id)), 0);
    vstring_sprintf(dir, "%s/%s", var_queue_directory, MAIL_QUEUE_SPARE);
    vstring_sprintf(path, "%s/incoming", var_queue_directory);

    /* A spare with another mode than 0600 (one an older Postern kept) is removed, not used. */
    vstring_sprintf(dir, "%s/%s/OLDMODE", var_queue_directory, MAIL_QUEUE_SPARE);
    int old_fd = open(vstring_str(dir), O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(old_fd >= 0);
    assert_int_equal(write(old_fd, "old", 3), 3);
    assert_int_equal(fchmod(old_fd, MAIL_QUEUE_STAT_READY), 0);
    assert_int_equal(fstat(old_fd, &st), 0);
    inode = st.st_ino;
    fp = mail_queue_enter(MAIL_QUEUE_INCOMING, 0600, &tv, id);
    assert_non_null(fp);
    assert_int_equal(fstat(vstream_fileno(fp), &st), 0);
    assert_true(st.st_ino != inode);
    vstream_fclose(fp);
    assert_int_equal(access(vstring_str(dir), F_OK), -1);
    assert_int_equal(fstat(old_fd, &st), 0); /* removed, untouched */
    assert_int_equal(st.st_nlink, 0);
    assert_int_equal(st.st_size, 3);
    close(old_fd);
    assert_int_equal(mail_queue_remove(MAIL_QUEUE_INCOMING, vstring_str(id)), 0);
    vstring_sprintf(dir, "%s/%s", var_queue_directory, MAIL_QUEUE_SPARE);

    /* No spare: a new file. A missing file: -1 ENOENT. */
    fp = mail_queue_enter(MAIL_QUEUE_INCOMING, 0600, &tv, id);
    assert_non_null(fp);
    vstream_fclose(fp);
    assert_int_equal(mail_queue_remove(MAIL_QUEUE_INCOMING, vstring_str(id)), 0);
    assert_int_equal(mail_queue_retire(MAIL_QUEUE_ACTIVE, "NOSUCHID", 10), -1);
    assert_int_equal(errno, ENOENT);
    vstring_free(id);
    vstring_free(path);
    vstring_free(dir);
}

/*
 * Stocking spare/: fill creates empty files up to queue_spare_files and
 * a new message takes one; retire removes a file when spare/ is full;
 * queue_spare_files = 0 turns recycling off.
 */
static void test_spare_fill(void **state UNUSED)
{
    VSTRING *id = vstring_alloc(10);
    VSTRING *dir = vstring_alloc(10);
    struct timeval tv;
    struct stat st;
    bool dot;

    vstring_sprintf(dir, "%s/%s", var_queue_directory, MAIL_QUEUE_SPARE);
    assert_int_equal(count_entries(vstring_str(dir), &dot), 0);
    var_queue_spare_files = 3;
    assert_int_equal(mail_queue_spare_fill(2), 2);
    assert_int_equal(mail_queue_spare_fill(5), 1);
    assert_int_equal(mail_queue_spare_fill(5), 0);
    assert_int_equal(count_entries(vstring_str(dir), &dot), 3);

    /* A new message takes one, empty; spare/ full again after retiring it. */
    VSTREAM *fp = mail_queue_enter(MAIL_QUEUE_INCOMING, 0600, &tv, id);
    assert_non_null(fp);
    assert_int_equal(fstat(vstream_fileno(fp), &st), 0);
    assert_int_equal(st.st_size, 0);
    vstream_fclose(fp);
    mail_queue_spare_used();
    assert_int_equal(count_entries(vstring_str(dir), &dot), 2);
    assert_int_equal(mail_queue_retire(MAIL_QUEUE_INCOMING, vstring_str(id), 10), 0);
    assert_int_equal(count_entries(vstring_str(dir), &dot), 3);

    /* Full: the next finished message's file is removed. */
    fp = mail_queue_enter(MAIL_QUEUE_INCOMING, 0600, &tv, id);
    assert_non_null(fp);
    vstream_fclose(fp);
    mail_queue_spare_used();
    assert_int_equal(mail_queue_spare_fill(1), 0); /* not idle since the last call */
    assert_int_equal(mail_queue_spare_fill(1), 1);
    assert_int_equal(mail_queue_retire(MAIL_QUEUE_INCOMING, vstring_str(id), 10), 0);
    assert_int_equal(count_entries(vstring_str(dir), &dot), 3);
    vstring_sprintf(id, "%s/incoming", var_queue_directory);
    assert_int_equal(count_entries(vstring_str(id), &dot), 0);

    /* Off: nothing is created and nothing retired; leftovers are used up. */
    var_queue_spare_files = 0;
    assert_int_equal(mail_queue_spare_fill(5), 0);
    fp = mail_queue_enter(MAIL_QUEUE_INCOMING, 0600, &tv, id);
    assert_non_null(fp);
    vstream_fclose(fp);
    assert_int_equal(mail_queue_retire(MAIL_QUEUE_INCOMING, vstring_str(id), 10), 0);
    assert_int_equal(count_entries(vstring_str(dir), &dot), 2);
    vstring_sprintf(id, "%s/incoming", var_queue_directory);
    assert_int_equal(count_entries(vstring_str(id), &dot), 0);

    var_queue_spare_files = 1000;
    vstring_free(id);
    vstring_free(dir);
}

static void test_pid_path(void **state UNUSED)
{
    char *path = mail_queue_pid_path();
    VSTRING *expect = vstring_alloc(10);

    vstring_sprintf(expect, "%s/pid/master.pid", var_queue_directory);
    assert_string_equal(path, vstring_str(expect));
    myfree(path);
    vstring_free(expect);
}

/* Drop diagnostics. */
static void test_quiet(enum msg_level level UNUSED, const char *text UNUSED)
{
}

static int test_setup(void **state UNUSED)
{
    VSTRING *sub = vstring_alloc(100);

    if (mkdtemp(test_dir) == NULL)
        return -1;
    var_queue_directory = test_dir;
    var_hash_queue_names = "deferred, defer";
    var_hash_queue_depth = 1;
    var_queue_spare_files = 1000;
    for (const MAIL_QUEUE_DIR *qd = mail_queue_dirs; qd->name; qd++) {
        vstring_sprintf(sub, "%s/%s", test_dir, qd->name);
        if (mkdir(vstring_str(sub), qd->mode) < 0)
            return -1;
    }
    vstring_free(sub);
    msg_output(test_quiet);
    return 0;
}

static int test_teardown(void **state UNUSED)
{
    VSTRING *cmd = vstring_alloc(100);
    int rc;

    vstring_sprintf(cmd, "rm -rf '%s'", test_dir);
    rc = system(vstring_str(cmd));
    vstring_free(cmd);
    msg_output_reset();
    return rc == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_make),    cmocka_unit_test(test_id_ok),    cmocka_unit_test(test_paths),
        cmocka_unit_test(test_life_cycle), cmocka_unit_test(test_spare),
        cmocka_unit_test(test_spare_fill),
        cmocka_unit_test(test_pid_path),
    };

    umask(077);
    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
