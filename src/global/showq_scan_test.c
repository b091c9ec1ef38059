/*
 * showq_scan_test - unit tests for showq_scan: parsing queue files into
 * listing records (a table of record sequences: queue files with and
 * without SIZE, DONE/DRCP recipients, extracted recipients reached by
 * seeking, damaged files), and a round trip of the showq protocol.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "rec_type.h"
#include "record.h"
#include "showq_scan.h"
#include "vstream.h"
#include "vstring.h"

static char test_file[] = "/tmp/showq_scan_test.XXXXXX";

/* One record of a test file; type 0 ends the list, '?' is the SIZE record. */
typedef struct REC {
    int type;
    const char *data;
} REC;

typedef struct CASE {
    const char *name;
    REC recs[16];
    int rc;         /* showq_scan_file() result */
    long long size; /* -1: no SIZE record */
    long long arrival;
    const char *sender;
    const char *rcpts; /* comma-separated */
} CASE;

#define SIZE_REC '?'

static const CASE cases[] = {
    {"cleanup file",
     {{SIZE_REC, ""},
      {'T', "1700000000 12"},
      {'S', "a@example.com"},
      {'R', "b@example.net"},
      {'D', "done@example.net"},
      {'d', "dropped@example.net"},
      {'M', ""},
      {'N', "Subject: x"},
      {'N', ""},
      {'N', "body"},
      {'X', ""},
      {'R', "extra@example.net"},
      {'E', ""},
      {0, NULL}},
     0,
     42,
     1700000000,
     "a@example.com",
     "b@example.net,extra@example.net"},
    {"maildrop file without SIZE",
     {{'T', "1700000001 0"},
      {'S', ""},
      {'R', "c@example.net"},
      {'M', ""},
      {'N', "x"},
      {'X', ""},
      {'E', ""},
      {0, NULL}},
     0,
     -1,
     1700000001,
     "",
     "c@example.net"},
    {"no END record",
     {{SIZE_REC, ""}, {'T', "1 0"}, {'S', "a@b"}, {'R', "c@d"}, {0, NULL}},
     -1,
     0,
     0,
     NULL,
     NULL},
    {"bad SIZE record", {{'C', "junk"}, {'E', ""}, {0, NULL}}, -1, 0, 0, NULL, NULL},
};

/* Write CASE's records; the SIZE record gets the real offsets. */
static VSTREAM *write_case(const CASE *c)
{
    VSTREAM *fp = vstream_fopen(test_file, O_RDWR | O_CREAT | O_TRUNC, 0600);
    off_t mesg = 0, xtra = 0;
    VSTRING *size = vstring_alloc(100);

    assert_non_null(fp);
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(vstream_fseek(fp, 0, SEEK_SET), 0);
        for (const REC *r = c->recs; r->type; r++) {
            if (r->type == 'M')
                mesg = vstream_ftell(fp);
            if (r->type == 'X')
                xtra = vstream_ftell(fp);
            if (r->type == SIZE_REC) {
                vstring_sprintf(size, REC_SIZE_FORMAT, 42LL, (long long)mesg, 1, 0, (long long)xtra);
                rec_put(fp, REC_TYPE_SIZE, vstring_str(size), VSTRING_LEN(size));
            } else {
                rec_fputs(fp, r->type, r->data);
            }
        }
    }
    assert_int_equal(vstream_fflush(fp), 0);
    assert_int_equal(vstream_fseek(fp, 0, SEEK_SET), 0);
    vstring_free(size);
    return fp;
}

/* Join MSG's recipients with commas. */
static const char *joined(const SHOWQ_MSG *msg, VSTRING *buf)
{
    vstring_reset(buf);
    for (size_t i = 0; i < msg->rcpts->argc; i++) {
        if (i)
            vstring_addch(buf, ',');
        vstring_strcat(buf, msg->rcpts->argv[i]);
    }
    return vstring_str(buf);
}

static void test_parse(void **state UNUSED)
{
    SHOWQ_MSG *msg = showq_msg_alloc();
    VSTRING *buf = vstring_alloc(100);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const CASE *c = &cases[i];
        VSTREAM *fp = write_case(c);
        int rc = showq_scan_file(fp, msg);

        vstream_fclose(fp);
        if (rc != c->rc)
            fail_msg("%s: rc %d, want %d", c->name, rc, c->rc);
        if (rc < 0) {
            assert_true(VSTRING_LEN(msg->why) > 0);
            continue;
        }
        assert_int_equal(msg->size, c->size);
        assert_int_equal(msg->arrival, c->arrival);
        assert_string_equal(vstring_str(msg->sender), c->sender);
        assert_string_equal(joined(msg, buf), c->rcpts);
        assert_int_equal(msg->reasons->argc, msg->rcpts->argc);
    }
    vstring_free(buf);
    showq_msg_free(msg);
}

static void test_protocol(void **state UNUSED)
{
    SHOWQ_MSG *out = showq_msg_alloc();
    SHOWQ_MSG *in = showq_msg_alloc();
    VSTRING *buf = vstring_alloc(100);
    VSTREAM *fp = vstream_fopen(test_file, O_RDWR | O_CREAT | O_TRUNC, 0600);

    vstring_strcpy(out->queue, "deferred");
    vstring_strcpy(out->id, "ABCDEF123");
    vstring_strcpy(out->sender, "");
    out->arrival = 1700000000;
    out->size = 1234;
    out->forced_expire = true;
    argv_add(out->rcpts, "x@example.net");
    argv_add(out->reasons, "connect to x: refused");
    argv_add(out->rcpts, "y@example.net");
    argv_add(out->reasons, "");
    assert_int_equal(showq_scan_send(fp, out), 0);
    assert_int_equal(showq_scan_end(fp), 0);
    assert_int_equal(vstream_fseek(fp, 0, SEEK_SET), 0);
    assert_int_equal(showq_scan_recv(fp, in), 1);
    assert_string_equal(vstring_str(in->queue), "deferred");
    assert_string_equal(vstring_str(in->id), "ABCDEF123");
    assert_string_equal(vstring_str(in->sender), "");
    assert_int_equal(in->arrival, 1700000000);
    assert_int_equal(in->size, 1234);
    assert_true(in->forced_expire);
    assert_string_equal(joined(in, buf), "x@example.net,y@example.net");
    assert_string_equal(in->reasons->argv[0], "connect to x: refused");
    assert_string_equal(in->reasons->argv[1], "");
    assert_int_equal(showq_scan_recv(fp, in), 0);
    vstream_fclose(fp);
    vstring_free(buf);
    showq_msg_free(in);
    showq_msg_free(out);
}

static int test_setup(void **state UNUSED)
{
    int fd = mkstemp(test_file);

    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int test_teardown(void **state UNUSED)
{
    return unlink(test_file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_protocol),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
