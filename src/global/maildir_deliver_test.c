/*
 * maildir_deliver_test - unit tests for maildir_deliver: tmp/new/cur are
 * created (with missing parents), the file in new/ has the exact content
 * and a unique name of the documented form, two deliveries in the same
 * second get different names, nothing stays in tmp/, and errors
 * (an unwritable directory, a corrupt queue file) are reported.
 */
#include "sys_defs.h"

#include <dirent.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "dsn.h"
#include "mail_copy.h"
#include "maildir_deliver.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

static char test_dir[] = "/tmp/maildir_deliver_test.XXXXXX";

/* A queue file with MESG, the given N lines and XTRA (or not); *mesg is the MESG offset. */
static VSTREAM *queue_file(const char *const *lines, bool xtra, off_t *mesg)
{
    VSTRING *path = vstring_sprintf(vstring_alloc(100), "%s/queuefile", test_dir);
    VSTREAM *fp = vstream_fopen(vstring_str(path), O_RDWR | O_CREAT | O_TRUNC, 0600);

    assert_non_null(fp);
    assert_int_equal(rec_fputs(fp, REC_TYPE_FROM, "s@example.com"), REC_TYPE_FROM);
    *mesg = vstream_ftell(fp);
    assert_int_equal(rec_fputs(fp, REC_TYPE_MESG, ""), REC_TYPE_MESG);
    for (const char *const *cpp = lines; *cpp; cpp++)
        assert_int_equal(rec_fputs(fp, REC_TYPE_NORM, *cpp), REC_TYPE_NORM);
    if (xtra)
        assert_int_equal(rec_fputs(fp, REC_TYPE_XTRA, ""), REC_TYPE_XTRA);
    assert_int_equal(rec_fputs(fp, REC_TYPE_END, ""), REC_TYPE_END);
    assert_int_equal(vstream_fflush(fp), 0);
    vstring_free(path);
    return fp;
}

/* The names in a directory (without . and ..), sorted, in an ARGV-like NULL-terminated array count. */
static int dir_entries(const char *dir, char names[][256], int max)
{
    DIR *dp = opendir(dir);
    struct dirent *de;
    int n = 0;

    if (dp == NULL)
        return -1;
    while ((de = readdir(dp)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n < max)
            snprintf(names[n], 256, "%s", de->d_name);
        n++;
    }
    closedir(dp);
    return n;
}

/* The whole content of a file. */
static char *file_content(const char *path)
{
    VSTREAM *fp = vstream_fopen(path, O_RDONLY, 0);
    VSTRING *buf = vstring_alloc(1000);
    int ch;

    assert_non_null(fp);
    while ((ch = vstream_getc(fp)) != VSTREAM_EOF)
        vstring_memcat(buf, (char[]){(char)ch}, 1);
    vstream_fclose(fp);
    return vstring_export(buf);
}

/* Two deliveries into a new Maildir (parents created): exact content, unique names, empty tmp/. */
static void test_deliver(void **state UNUSED)
{
    static const char *const lines[] = {"Subject: x", "", "From here", ".dot", NULL};
    static const char *const dirs[] = {"", "/", "tmp", "new", "cur"};
    DSN_BUF *why = dsb_create();
    VSTRING *dir = vstring_sprintf(vstring_alloc(100), "%s/home/u/Maildir/", test_dir);
    VSTRING *path1 = vstring_alloc(100);
    VSTRING *path2 = vstring_alloc(100);
    VSTRING *sub = vstring_alloc(100);
    char names[4][256];
    regex_t re;
    off_t mesg;

    VSTREAM *src = queue_file(lines, true, &mesg);

    assert_int_equal(maildir_deliver(vstring_str(dir), "s@example.com", "Orig@Example.com", "U@Example.com",
                                     src, mesg, 0, why, path1),
                     0);
    assert_int_equal(maildir_deliver(vstring_str(dir), "s@example.com", "Orig@Example.com", "U@Example.com",
                                     src, mesg, 0, why, path2),
                     0);
    vstream_fclose(src);
    assert_string_not_equal(vstring_str(path1), vstring_str(path2));

    for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
        struct stat st;

        vstring_sprintf(sub, "%s%s", vstring_str(dir), dirs[i]);
        assert_int_equal(stat(vstring_str(sub), &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        if (i >= 2)
            assert_int_equal(st.st_mode & 07777, 0700);
    }
    vstring_sprintf(sub, "%stmp", vstring_str(dir));
    assert_int_equal(dir_entries(vstring_str(sub), names, 4), 0);
    vstring_sprintf(sub, "%scur", vstring_str(dir));
    assert_int_equal(dir_entries(vstring_str(sub), names, 4), 0);
    vstring_sprintf(sub, "%snew", vstring_str(dir));
    assert_int_equal(dir_entries(vstring_str(sub), names, 4), 2);

    /* SECONDS.VdevIinodeMmicrosecondsPpid.HOST */
    assert_int_equal(regcomp(&re, "/new/[0-9]+\\.V[0-9a-f]+I[0-9a-f]+M[0-9]+P[0-9]+\\.[^/:]+$", REG_EXTENDED),
                     0);
    assert_int_equal(regexec(&re, vstring_str(path1), 0, NULL, 0), 0);
    assert_int_equal(regexec(&re, vstring_str(path2), 0, NULL, 0), 0);
    regfree(&re);

    static const char expect[] = "Return-Path: <s@example.com>\nX-Original-To: Orig@Example.com\n"
                                 "Delivered-To: u@example.com\nSubject: x\n\nFrom here\n.dot\n";
    char *got = file_content(vstring_str(path1));

    assert_string_equal(got, expect);
    myfree(got);
    got = file_content(vstring_str(path2));
    assert_string_equal(got, expect);
    myfree(got);

    vstring_free(sub);
    vstring_free(path2);
    vstring_free(path1);
    vstring_free(dir);
    dsb_free(why);
}

/* Extra copy flags are honoured (e.g. the From_ line is never in the Maildir set). */
static void test_copy_flags(void **state UNUSED)
{
    static const char *const lines[] = {"a", NULL};
    DSN_BUF *why = dsb_create();
    VSTRING *dir = vstring_sprintf(vstring_alloc(100), "%s/flags", test_dir);
    VSTRING *path = vstring_alloc(100);
    off_t mesg;
    VSTREAM *src = queue_file(lines, true, &mesg);

    assert_int_equal(maildir_deliver(vstring_str(dir), "", "", "", src, mesg, MAIL_COPY_BLANK, why, path), 0);
    vstream_fclose(src);
    char *got = file_content(vstring_str(path));

    assert_string_equal(got, "Return-Path: <>\na\n\n");
    myfree(got);
    vstring_free(path);
    vstring_free(dir);
    dsb_free(why);
}

/* Failures: no tmp file left, why set. */
static void test_errors(void **state UNUSED)
{
    static const char *const lines[] = {"a", NULL};
    DSN_BUF *why = dsb_create();
    VSTRING *dir = vstring_sprintf(vstring_alloc(100), "%s/corrupt", test_dir);
    VSTRING *sub = vstring_alloc(100);
    char names[4][256];
    off_t mesg;

    /* Corrupt queue file (no XTRA). */
    VSTREAM *src = queue_file(lines, false, &mesg);

    assert_int_equal(maildir_deliver(vstring_str(dir), "s", "", "", src, mesg, 0, why, NULL), -1);
    assert_string_equal(vstring_str(why->status), "5.3.0");
    assert_string_equal(vstring_str(why->reason), "queue file is corrupt");
    vstring_sprintf(sub, "%s/tmp", vstring_str(dir));
    assert_int_equal(dir_entries(vstring_str(sub), names, 4), 0);
    vstring_sprintf(sub, "%s/new", vstring_str(dir));
    assert_int_equal(dir_entries(vstring_str(sub), names, 4), 0);
    vstream_fclose(src);

    /* A directory we may not write to (root may write anywhere). */
    if (geteuid() != 0) {
        vstring_sprintf(dir, "%s/ro", test_dir);
        assert_int_equal(mkdir(vstring_str(dir), 0500), 0);
        vstring_sprintf(sub, "%s/ro/Maildir", test_dir);
        src = queue_file(lines, true, &mesg);
        assert_int_equal(maildir_deliver(vstring_str(sub), "s", "", "", src, mesg, 0, why, NULL), -1);
        assert_string_equal(vstring_str(why->status), "5.2.0");
        vstring_sprintf(dir, "create maildir directory %s/ro/Maildir: Permission denied", test_dir);
        assert_string_equal(vstring_str(why->reason), vstring_str(dir));
        vstream_fclose(src);

        /* tmp/ exists but is not writable. */
        vstring_sprintf(dir, "%s/rotmp", test_dir);
        for (int i = 0; i < 2; i++) {
            vstring_sprintf(sub, "%s%s", vstring_str(dir), i ? "/tmp" : "");
            assert_int_equal(mkdir(vstring_str(sub), i ? 0500 : 0700), 0);
        }
        src = queue_file(lines, true, &mesg);
        assert_int_equal(maildir_deliver(vstring_str(dir), "s", "", "", src, mesg, 0, why, NULL), -1);
        assert_string_equal(vstring_str(why->status), "5.2.0");
        assert_non_null(strstr(vstring_str(why->reason), "create maildir file "));
        assert_non_null(strstr(vstring_str(why->reason), "/rotmp/tmp/"));
        assert_non_null(strstr(vstring_str(why->reason), ": Permission denied"));
        vstream_fclose(src);
    }
    vstring_free(sub);
    vstring_free(dir);
    dsb_free(why);
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
        cmocka_unit_test(test_deliver),
        cmocka_unit_test(test_copy_flags),
        cmocka_unit_test(test_errors),
    };

    if (mkdtemp(test_dir) == NULL)
        msg_fatal("mkdtemp: %m");
    int status = cmocka_run_group_tests(tests, NULL, NULL);

    cleanup_dir();
    return status;
}
