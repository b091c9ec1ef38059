/*
 * bounce_log_test - unit tests for bounce_log: entries appended and read
 * back field by field (hashed defer/ directory included), CR and LF in
 * values replaced by spaces, malformed and incomplete entries skipped
 * with a warning, unknown names ignored, rewind, a missing log.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "bounce_log.h"
#include "mail_params.h"
#include "mail_queue.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

static char test_dir[] = "/tmp/bounce_log_test.XXXXXX";
static int test_warnings;

/* Count warnings. */
static void test_msg(enum msg_level level, const char *text UNUSED)
{
    if (level == MSG_WARN)
        test_warnings++;
}

/* One entry of the table: what is appended, what must be read back. */
typedef struct TEST_ENTRY {
    RECIPIENT rcpt;
    DSN dsn;
    time_t when;
    const char *reason_read; /* the reason after CR/LF replacement */
} TEST_ENTRY;

static const TEST_ENTRY test_entries[] = {
    {{1234, "rfc822;bob@example.net", 0, "bob@example.net", "bob@example.net"},
     {"4.4.1", "delayed", "connect to mx.example.net[192.0.2.1]:25: Connection refused", "", "", "", ""},
     1763712345,
     "connect to mx.example.net[192.0.2.1]:25: Connection refused"},
    {{77, "", 4 | 8, "", "carol@example.net"},
     {"5.1.1", "failed", "host mx said:\r\n550 no\nsuch user", "smtp", "550 5.1.1 no such user", "dns",
      "mx.example.net"},
     1,
     "host mx said:  550 no such user"},
    {{0, "", 0, "alias@example.com", "dave@example.com"},
     {"5.1.1", "failed", "unknown user: \"dave\"", "x-unix", "unknown user: \"dave\"", "", ""},
     0,
     "unknown user: \"dave\""},
};

/* Append every table entry to QUEUE/ID. */
static void append_all(const char *queue, const char *id)
{
    VSTREAM *fp = mail_queue_open(queue, id, O_WRONLY | O_APPEND | O_CREAT, 0600);

    assert_non_null(fp);
    for (size_t i = 0; i < ARRAY_LEN(test_entries); i++)
        assert_int_equal(
            bounce_log_append(fp, &test_entries[i].rcpt, &test_entries[i].dsn, test_entries[i].when), 0);
    assert_int_equal(vstream_fclose(fp), 0);
}

/* Read QUEUE/ID and compare with the table. */
static void check_all(BOUNCE_LOG *bp)
{
    for (size_t i = 0; i < ARRAY_LEN(test_entries); i++) {
        const TEST_ENTRY *te = test_entries + i;

        assert_non_null(bounce_log_read(bp));
        assert_string_equal(bp->rcpt.address, te->rcpt.address);
        assert_string_equal(bp->rcpt.orig_addr, te->rcpt.orig_addr);
        assert_string_equal(bp->rcpt.dsn_orcpt, te->rcpt.dsn_orcpt);
        assert_int_equal(bp->rcpt.offset, te->rcpt.offset);
        assert_int_equal(bp->rcpt.dsn_notify, te->rcpt.dsn_notify);
        assert_string_equal(bp->dsn.status, te->dsn.status);
        assert_string_equal(bp->dsn.action, te->dsn.action);
        assert_string_equal(bp->dsn.reason, te->reason_read);
        assert_string_equal(bp->dsn.dtype, te->dsn.dtype);
        assert_string_equal(bp->dsn.dtext, te->dsn.dtext);
        assert_string_equal(bp->dsn.mtype, te->dsn.mtype);
        assert_string_equal(bp->dsn.mname, te->dsn.mname);
        assert_int_equal((long long)bp->log_time, (long long)te->when);
    }
    assert_null(bounce_log_read(bp));
}

static void test_round_trip(void **state UNUSED)
{
    static const char *const queues[] = {MAIL_QUEUE_BOUNCE, MAIL_QUEUE_DEFER, MAIL_QUEUE_TRACE};

    for (size_t q = 0; q < ARRAY_LEN(queues); q++) {
        BOUNCE_LOG *bp;

        test_warnings = 0;
        append_all(queues[q], "ABCDEF123");
        bp = bounce_log_open(queues[q], "ABCDEF123", O_RDONLY, 0);
        assert_non_null(bp);
        check_all(bp);
        bounce_log_rewind(bp);
        check_all(bp);
        assert_int_equal(bounce_log_close(bp), 0);
        assert_int_equal(test_warnings, 0);
    }
}

static void test_hashed_path(void **state UNUSED)
{
    VSTRING *path = vstring_alloc(100);
    struct stat st;

    append_all(MAIL_QUEUE_DEFER, "DBA3F1A9");
    vstring_sprintf(path, "%s/defer/D/DBA3F1A9", test_dir);
    assert_int_equal(stat(vstring_str(path), &st), 0);
    vstring_free(path);
}

static void test_missing(void **state UNUSED)
{
    errno = 0;
    assert_null(bounce_log_open(MAIL_QUEUE_BOUNCE, "NOSUCHID", O_RDONLY, 0));
    assert_int_equal(errno, ENOENT);
}

/* Raw log texts and the recipients a reader must return. */
static const struct {
    const char *text;
    const char *rcpts; /* space-separated, in order */
    int warnings;
} test_malformed[] = {
    {"recipient=a@x\nstatus=5.0.0\n\n", "a@x", 0},
    {"status=5.0.0\nreason=no recipient\n\nrecipient=b@x\nstatus=5.0.0\n\n", "b@x", 1},
    {"recipient=c@x\nreason=no status\n\nrecipient=d@x\nstatus=4.0.0\n\n", "d@x", 1},
    {"\n\n\nrecipient=e@x\nfuture_field=1\nno equals sign\nstatus=2.0.0\n\n\n", "e@x", 0},
    {"recipient=f@x\nstatus=5.0.0\n\nrecipient=g@x\nstat", "f@x", 1},
    {"recipient=h@x\nstatus=5.0.0", "", 1},
    {"recipient=i@x\nstatus=5.0.0\n", "i@x", 0},
    {"", "", 0},
};

static void test_skip_malformed(void **state UNUSED)
{
    VSTRING *got = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(test_malformed); i++) {
        VSTREAM *fp;
        BOUNCE_LOG *bp;

        vstring_sprintf(path, "%s/bounce/M%zu", test_dir, i);
        fp = vstream_fopen(vstring_str(path), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_non_null(fp);
        vstream_fputs(test_malformed[i].text, fp);
        assert_int_equal(vstream_fclose(fp), 0);

        vstring_sprintf(path, "M%zu", i);
        test_warnings = 0;
        bp = bounce_log_open(MAIL_QUEUE_BOUNCE, vstring_str(path), O_RDONLY, 0);
        assert_non_null(bp);
        vstring_truncate(got, 0);
        while (bounce_log_read(bp) != NULL)
            vstring_sprintf_append(got, "%s%s", VSTRING_LEN(got) ? " " : "", bp->rcpt.address);
        bounce_log_close(bp);
        assert_string_equal(vstring_str(got), test_malformed[i].rcpts);
        assert_int_equal(test_warnings, test_malformed[i].warnings);
    }
    vstring_free(got);
    vstring_free(path);
}

static int test_setup(void **state UNUSED)
{
    VSTRING *sub = vstring_alloc(100);

    if (mkdtemp(test_dir) == NULL)
        return -1;
    var_queue_directory = test_dir;
    var_hash_queue_names = "deferred, defer";
    var_hash_queue_depth = 1;
    for (const MAIL_QUEUE_DIR *qd = mail_queue_dirs; qd->name; qd++) {
        vstring_sprintf(sub, "%s/%s", test_dir, qd->name);
        if (mkdir(vstring_str(sub), 0700) < 0)
            return -1;
    }
    vstring_free(sub);
    msg_output(test_msg);
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
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_hashed_path),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_skip_malformed),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
