/*
 * mail_copy_test - unit tests for mail_copy: the exact bytes written for
 * every flag (From_ line, Return-Path, X-Original-To, Delivered-To, >From
 * quoting only at line start, dot stuffing, the blank line, eol "\r\n",
 * L records joined), the starting offset, write errors (file size limit,
 * /dev/full), read errors and corrupt queue files.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "dsn.h"
#include "mail_copy.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

static char test_dir[] = "/tmp/mail_copy_test.XXXXXX";

/* One content record: type and text ("" ends the list when type is 0). */
typedef struct TEST_REC {
    int type;
    const char *data;
} TEST_REC;

#define MAX_RECS 12

/*
 * Write a queue file: an envelope record, MESG, the content records, XTRA,
 * END. Returns it open for reading, positioned at the start; *mesg_offset
 * is the offset of the MESG record.
 */
static VSTREAM *queue_file(const char *name, const TEST_REC *recs, off_t *mesg_offset, bool xtra)
{
    VSTRING *path = vstring_alloc(100);

    vstring_sprintf(path, "%s/%s", test_dir, name);
    VSTREAM *fp = vstream_fopen(vstring_str(path), O_RDWR | O_CREAT | O_TRUNC, 0600);

    assert_non_null(fp);
    assert_int_equal(rec_fputs(fp, REC_TYPE_FROM, "sender@example.com"), REC_TYPE_FROM);
    *mesg_offset = vstream_ftell(fp);
    assert_int_equal(rec_fputs(fp, REC_TYPE_MESG, ""), REC_TYPE_MESG);
    for (int i = 0; i < MAX_RECS && recs[i].type; i++)
        assert_int_equal(rec_put(fp, recs[i].type, recs[i].data, strlen(recs[i].data)), recs[i].type);
    if (xtra) {
        assert_int_equal(rec_fputs(fp, REC_TYPE_XTRA, ""), REC_TYPE_XTRA);
        assert_int_equal(rec_fputs(fp, REC_TYPE_RCPT, "rcpt@example.com"), REC_TYPE_RCPT);
        assert_int_equal(rec_fputs(fp, REC_TYPE_END, ""), REC_TYPE_END);
    }
    assert_int_equal(vstream_fflush(fp), 0);
    assert_int_equal(vstream_fseek(fp, 0, SEEK_SET), 0);
    vstring_free(path);
    return fp;
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

/* The From_ line mail_copy() writes at time t. */
static void from_line(VSTRING *buf, const char *sender, time_t t, const char *eol)
{
    struct tm tm;
    char date[64];

    localtime_r(&t, &tm);
    asctime_r(&tm, date);
    date[24] = 0;
    vstring_sprintf(buf, "From %s  %s%s", sender, date, eol);
}

static const TEST_REC plain_content[] = {
    {REC_TYPE_NORM, "Subject: hi"},
    {REC_TYPE_NORM, ""},
    {REC_TYPE_NORM, "From the start"},
    {REC_TYPE_NORM, " From not at start"},
    {REC_TYPE_NORM, ".dot"},
    {REC_TYPE_NORM, "."},
    {REC_TYPE_CONT, "Fro"},
    {REC_TYPE_NORM, "m joined"},
    {REC_TYPE_CONT, "long "},
    {REC_TYPE_CONT, "line "},
    {REC_TYPE_NORM, "From end"},
    {0, ""},
};

#define PLAIN_BODY                                                                                           \
    "Subject: hi\n\nFrom the start\n From not at start\n.dot\n.\nFrom joined\nlong line From end\n"

static const struct copy_case {
    const char *name;
    const char *sender;
    const char *orig_rcpt;
    const char *delivered;
    int flags;
    const char *eol;
    const char *from_sender; /* NULL: no From_ line expected */
    const char *expect;      /* after the From_ line */
} copy_cases[] = {
    {"plain", "a@b", "o@b", "d@b", 0, "\n", NULL, PLAIN_BODY},
    {"quote", "a@b", "", "", MAIL_COPY_QUOTE, "\n", NULL,
     "Subject: hi\n\n>From the start\n From not at start\n.dot\n.\n>From joined\nlong line From end\n"},
    {"dot", "a@b", "", "", MAIL_COPY_DOT, "\n", NULL,
     "Subject: hi\n\nFrom the start\n From not at start\n..dot\n..\nFrom joined\nlong line From end\n"},
    {"blank", "a@b", "", "", MAIL_COPY_BLANK, "\n", NULL, PLAIN_BODY "\n"},
    {"return path", "a@b", "", "", MAIL_COPY_RETURN_PATH, "\n", NULL, "Return-Path: <a@b>\n" PLAIN_BODY},
    {"null return path", "", "", "", MAIL_COPY_RETURN_PATH, "\n", NULL, "Return-Path: <>\n" PLAIN_BODY},
    {"orig rcpt", "a@b", "Orig@B", "", MAIL_COPY_ORIG_RCPT, "\n", NULL, "X-Original-To: Orig@B\n" PLAIN_BODY},
    {"empty orig rcpt", "a@b", "", "", MAIL_COPY_ORIG_RCPT, "\n", NULL, PLAIN_BODY},
    {"delivered lower-cased", "a@b", "", "User@Example.COM", MAIL_COPY_DELIVERED, "\n", NULL,
     "Delivered-To: user@example.com\n" PLAIN_BODY},
    {"from", "a@b", "", "", MAIL_COPY_FROM, "\n", "a@b", PLAIN_BODY},
    {"from null sender", "", "", "", MAIL_COPY_FROM, "\n", "MAILER-DAEMON", PLAIN_BODY},
    {"mbox", "a@b", "o@b", "D@B", MAIL_COPY_MBOX, "\n", "a@b",
     "Return-Path: <a@b>\nX-Original-To: o@b\nDelivered-To: d@b\n"
     "Subject: hi\n\n>From the start\n From not at start\n.dot\n.\n>From joined\nlong line From end\n\n"},
    {"maildir", "a@b", "o@b", "d@b", MAIL_COPY_MAILDIR, "\n", NULL,
     "Return-Path: <a@b>\nX-Original-To: o@b\nDelivered-To: d@b\n" PLAIN_BODY},
    {"crlf everything", "a@b", "o@b", "d@b",
     MAIL_COPY_FROM | MAIL_COPY_RETURN_PATH | MAIL_COPY_ORIG_RCPT | MAIL_COPY_DELIVERED | MAIL_COPY_QUOTE |
         MAIL_COPY_DOT | MAIL_COPY_BLANK,
     "\r\n", "a@b",
     "Return-Path: <a@b>\r\nX-Original-To: o@b\r\nDelivered-To: d@b\r\n"
     "Subject: hi\r\n\r\n>From the start\r\n From not at start\r\n..dot\r\n..\r\n>From joined\r\n"
     "long line From end\r\n\r\n"},
};

/* Every flag combination in the table gives exactly the expected bytes. */
static void test_copy_flags(void **state UNUSED)
{
    DSN_BUF *why = dsb_create();
    VSTRING *out_path = vstring_alloc(100);
    VSTRING *from0 = vstring_alloc(100);
    VSTRING *from1 = vstring_alloc(100);
    VSTRING *expect = vstring_alloc(1000);
    off_t mesg;

    for (size_t i = 0; i < ARRAY_LEN(copy_cases); i++) {
        const struct copy_case *c = &copy_cases[i];
        VSTREAM *src = queue_file("q", plain_content, &mesg, true);

        vstring_sprintf(out_path, "%s/out", test_dir);
        VSTREAM *dst = vstream_fopen(vstring_str(out_path), O_WRONLY | O_CREAT | O_TRUNC, 0600);

        assert_non_null(dst);
        time_t t0 = time(NULL);
        int status = mail_copy(c->sender, c->orig_rcpt, c->delivered, src, mesg, dst, c->flags, c->eol, why);
        time_t t1 = time(NULL);

        assert_int_equal(vstream_fclose(dst), 0);
        vstream_fclose(src);
        if (status != 0)
            fail_msg("case %s: status %d (%s)", c->name, status, vstring_str(why->reason));
        char *got = file_content(vstring_str(out_path));

        if (c->from_sender) {
            from_line(from0, c->from_sender, t0, c->eol);
            from_line(from1, c->from_sender, t1, c->eol);
            const char *from = strncmp(got, vstring_str(from0), VSTRING_LEN(from0)) == 0 ? vstring_str(from0)
                                                                                         : vstring_str(from1);
            vstring_sprintf(expect, "%s%s", from, c->expect);
        } else {
            vstring_strcpy(expect, c->expect);
        }
        if (strcmp(got, vstring_str(expect)) != 0)
            fail_msg("case %s:\ngot:    [%s]\nexpect: [%s]", c->name, got, vstring_str(expect));
        myfree(got);
    }
    vstring_free(expect);
    vstring_free(from1);
    vstring_free(from0);
    vstring_free(out_path);
    dsb_free(why);
}

static const struct edge_case {
    const char *name;
    TEST_REC recs[MAX_RECS];
    int flags;
    const char *expect;
} edge_cases[] = {
    {"empty message", {{0, ""}}, MAIL_COPY_BLANK, "\n"},
    {"short L records at line start",
     {{REC_TYPE_CONT, "F"}, {REC_TYPE_CONT, "r"}, {REC_TYPE_CONT, "om"}, {REC_TYPE_NORM, " x"}, {0, ""}},
     MAIL_COPY_QUOTE,
     ">From x\n"},
    {"short line is not From",
     {{REC_TYPE_NORM, "From"}, {REC_TYPE_NORM, "Fro"}, {0, ""}},
     MAIL_COPY_QUOTE,
     "From\nFro\n"},
    {"last line only in L records",
     {{REC_TYPE_NORM, "a"}, {REC_TYPE_CONT, ".b"}, {0, ""}},
     MAIL_COPY_DOT,
     "a\n..b\n"},
    {"quote and dot together",
     {{REC_TYPE_NORM, "From x"}, {REC_TYPE_NORM, ".From"}, {0, ""}},
     MAIL_COPY_QUOTE | MAIL_COPY_DOT,
     ">From x\n..From\n"},
    {"From needs the space",
     {{REC_TYPE_NORM, "Fromage"}, {REC_TYPE_NORM, "from x"}, {0, ""}},
     MAIL_COPY_QUOTE,
     "Fromage\nfrom x\n"},
    {"bytes kept as they are", {{REC_TYPE_NORM, "a\rb\tc"}, {0, ""}}, 0, "a\rb\tc\n"},
};

/* Line-start handling across L records and at the ends of the message. */
static void test_copy_edges(void **state UNUSED)
{
    DSN_BUF *why = dsb_create();
    VSTRING *out_path = vstring_alloc(100);
    off_t mesg;

    vstring_sprintf(out_path, "%s/out", test_dir);
    for (size_t i = 0; i < ARRAY_LEN(edge_cases); i++) {
        const struct edge_case *c = &edge_cases[i];
        VSTREAM *src = queue_file("q", c->recs, &mesg, true);
        VSTREAM *dst = vstream_fopen(vstring_str(out_path), O_WRONLY | O_CREAT | O_TRUNC, 0600);

        assert_int_equal(mail_copy("s", "", "", src, mesg, dst, c->flags, "\n", why), 0);
        assert_int_equal(vstream_fclose(dst), 0);
        vstream_fclose(src);
        char *got = file_content(vstring_str(out_path));

        if (strcmp(got, c->expect) != 0)
            fail_msg("case %s:\ngot:    [%s]\nexpect: [%s]", c->name, got, c->expect);
        myfree(got);
    }
    vstring_free(out_path);
    dsb_free(why);
}

/* src_offset -1 copies from where the file is; after MESG works as well as at it. */
static void test_copy_offsets(void **state UNUSED)
{
    static const TEST_REC recs[] = {{REC_TYPE_NORM, "line"}, {0, ""}};
    DSN_BUF *why = dsb_create();
    VSTRING *out_path = vstring_sprintf(vstring_alloc(100), "%s/out", test_dir);
    VSTRING *buf = vstring_alloc(100);
    off_t mesg;

    for (int variant = 0; variant < 3; variant++) {
        VSTREAM *src = queue_file("q", recs, &mesg, true);
        VSTREAM *dst = vstream_fopen(vstring_str(out_path), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        off_t offset = mesg;

        if (variant > 0) {
            assert_int_equal(vstream_fseek(src, mesg, SEEK_SET), mesg);
            if (variant == 2) {
                assert_int_equal(rec_get(src, buf, 0), REC_TYPE_MESG);
                offset = vstream_ftell(src);
            } else {
                offset = -1;
            }
        }
        assert_int_equal(mail_copy("s", "", "", src, offset, dst, 0, "\n", why), 0);
        assert_int_equal(vstream_fclose(dst), 0);
        vstream_fclose(src);
        char *got = file_content(vstring_str(out_path));

        assert_string_equal(got, "line\n");
        myfree(got);
    }
    vstring_free(buf);
    vstring_free(out_path);
    dsb_free(why);
}

/* Over RLIMIT_FSIZE: 5.2.2 File too large; /dev/full: 4.3.0 No space left. */
static void test_write_errors(void **state UNUSED)
{
    static const TEST_REC recs[] = {{REC_TYPE_NORM, "0123456789012345678901234567890123456789"},
                                    {REC_TYPE_NORM, "0123456789012345678901234567890123456789"},
                                    {REC_TYPE_NORM, "0123456789012345678901234567890123456789"},
                                    {0, ""}};
    DSN_BUF *why = dsb_create();
    VSTRING *out_path = vstring_sprintf(vstring_alloc(100), "%s/out", test_dir);
    struct rlimit saved;
    struct rlimit small;
    off_t mesg;

    /* File size limit. */
    VSTREAM *src = queue_file("q", recs, &mesg, true);
    VSTREAM *dst = vstream_fopen(vstring_str(out_path), O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    small = saved;
    small.rlim_cur = 50;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    int status = mail_copy("s", "", "", src, mesg, dst, MAIL_COPY_MBOX, "\n", why);

    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    assert_int_equal(status, MAIL_COPY_STAT_WRITE);
    assert_string_equal(vstring_str(why->status), "5.2.2");
    assert_string_equal(vstring_str(why->reason), "error writing message: File too large");
    vstream_fclose(dst);
    vstream_fclose(src);

    /* A full disk. */
    src = queue_file("q", recs, &mesg, true);
    dst = vstream_fopen("/dev/full", O_WRONLY, 0);
    assert_non_null(dst);
    status = mail_copy("s", "", "", src, mesg, dst, MAIL_COPY_TOFILE, "\n", why);
    assert_int_equal(status, MAIL_COPY_STAT_WRITE);
    assert_string_equal(vstring_str(why->status), "4.3.0");
    assert_string_equal(vstring_str(why->reason), "error writing message: No space left on device");
    assert_int_equal(errno, ENOSPC);
    vstream_fclose(dst);
    vstream_fclose(src);

    vstring_free(out_path);
    dsb_free(why);
}

static const struct corrupt_case {
    const char *name;
    TEST_REC recs[MAX_RECS];
    bool xtra;
} corrupt_cases[] = {
    {"no XTRA record", {{REC_TYPE_NORM, "a"}, {0, ""}}, false},
    {"envelope record in content", {{REC_TYPE_NORM, "a"}, {REC_TYPE_RCPT, "x@y"}, {0, ""}}, true},
    {"second MESG", {{REC_TYPE_MESG, ""}, {REC_TYPE_NORM, "a"}, {0, ""}}, true},
};

/* Bad content records: MAIL_COPY_STAT_CORRUPT, "5.3.0 queue file is corrupt". */
static void test_corrupt(void **state UNUSED)
{
    DSN_BUF *why = dsb_create();
    VSTRING *out_path = vstring_sprintf(vstring_alloc(100), "%s/out", test_dir);
    off_t mesg;

    for (size_t i = 0; i < ARRAY_LEN(corrupt_cases); i++) {
        VSTREAM *src = queue_file("q", corrupt_cases[i].recs, &mesg, corrupt_cases[i].xtra);
        VSTREAM *dst = vstream_fopen(vstring_str(out_path), O_WRONLY | O_CREAT | O_TRUNC, 0600);

        assert_int_equal(mail_copy("s", "", "", src, mesg, dst, 0, "\n", why), MAIL_COPY_STAT_CORRUPT);
        assert_string_equal(vstring_str(why->status), "5.3.0");
        assert_string_equal(vstring_str(why->reason), "queue file is corrupt");
        vstream_fclose(dst);
        vstream_fclose(src);
    }

    /* A record whose length runs past the end of the file. */
    VSTRING *qpath = vstring_sprintf(vstring_alloc(100), "%s/trunc", test_dir);
    VSTREAM *src = vstream_fopen(vstring_str(qpath), O_RDWR | O_CREAT | O_TRUNC, 0600);

    assert_int_equal(vstream_fwrite(src,
                                    "N\x10"
                                    "abc",
                                    5),
                     0);
    assert_int_equal(vstream_fflush(src), 0);
    VSTREAM *dst = vstream_fopen(vstring_str(out_path), O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_int_equal(mail_copy("s", "", "", src, 0, dst, 0, "\n", why), MAIL_COPY_STAT_CORRUPT);
    vstream_fclose(dst);
    vstream_fclose(src);

    /* A queue "file" that cannot be read at all. */
    src = vstream_fopen(test_dir, O_RDONLY, 0);
    assert_non_null(src);
    dst = vstream_fopen(vstring_str(out_path), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(mail_copy("s", "", "", src, 0, dst, 0, "\n", why), MAIL_COPY_STAT_READ);
    assert_string_equal(vstring_str(why->status), "4.3.0");
    assert_string_equal(vstring_str(why->reason), "error reading message: Is a directory");
    vstream_fclose(dst);
    vstream_fclose(src);

    vstring_free(qpath);
    vstring_free(out_path);
    dsb_free(why);
}

/* Remove the scratch directory and what the tests left in it. */
static void cleanup_dir(void)
{
    VSTRING *cmd = vstring_sprintf(vstring_alloc(100), "rm -rf '%s'", test_dir);

    (void)!system(vstring_str(cmd));
    vstring_free(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_flags),   cmocka_unit_test(test_copy_edges),
        cmocka_unit_test(test_copy_offsets), cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_corrupt),
    };

    if (mkdtemp(test_dir) == NULL)
        msg_fatal("mkdtemp: %m");
    int status = cmocka_run_group_tests(tests, NULL, NULL);

    cleanup_dir();
    return status;
}
