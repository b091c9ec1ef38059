/*
 * delivered_hdr_test - unit tests for delivered_hdr: Delivered-To: values
 * found case-insensitively among the headers (also after continuation
 * lines and in L records), never in the body, none in a message without
 * headers or a corrupt queue file, and the file position restored.
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

#include "delivered_hdr.h"
#include "msg.h"
#include "rec_type.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

static char test_path[] = "/tmp/delivered_hdr_test.XXXXXX";

#define MAX_RECS 10

typedef struct TEST_REC {
    int type;
    const char *data;
} TEST_REC;

static const struct hdr_case {
    const char *name;
    TEST_REC recs[MAX_RECS]; /* after MESG; ends with type 0 */
    bool xtra;
    const char *found[4];     /* NULL-terminated */
    const char *not_found[4]; /* NULL-terminated */
} hdr_cases[] = {
    {"one header",
     {{REC_TYPE_NORM, "Received: x"},
      {REC_TYPE_NORM, "Delivered-To: Alice@Example.COM"},
      {REC_TYPE_NORM, ""},
      {REC_TYPE_NORM, "body"}},
     true,
     {"alice@example.com", "ALICE@example.com", NULL},
     {"bob@example.com", "alice", NULL}},
    {"name case, blanks, several",
     {{REC_TYPE_NORM, "DELIVERED-TO:bob@example.com  "},
      {REC_TYPE_NORM, " folded continuation"},
      {REC_TYPE_NORM, "delivered-to :  carol@example.com"},
      {REC_TYPE_NORM, "Subject: s"}},
     true,
     {"bob@example.com", "carol@example.com", NULL},
     {"folded", NULL}},
    {"body is not searched",
     {{REC_TYPE_NORM, "Subject: s"}, {REC_TYPE_NORM, ""}, {REC_TYPE_NORM, "Delivered-To: body@example.com"}},
     true,
     {NULL},
     {"body@example.com", NULL}},
    {"headers end at a non-header line",
     {{REC_TYPE_NORM, "Subject: s"},
      {REC_TYPE_NORM, "not a header"},
      {REC_TYPE_NORM, "Delivered-To: late@example.com"}},
     true,
     {NULL},
     {"late@example.com", NULL}},
    {"no headers at all",
     {{REC_TYPE_NORM, "plain text"}, {REC_TYPE_NORM, "Delivered-To: x@example.com"}},
     true,
     {NULL},
     {"x@example.com", NULL}},
    {"value split over L records",
     {{REC_TYPE_CONT, "Delivered-To: lo"}, {REC_TYPE_CONT, "ng@exa"}, {REC_TYPE_NORM, "mple.com"}},
     true,
     {"long@example.com", NULL},
     {"lo", NULL}},
    {"other header names",
     {{REC_TYPE_NORM, "X-Delivered-To: a@b"}, {REC_TYPE_NORM, "Delivered-Tox: c@d"}},
     true,
     {NULL},
     {"a@b", "c@d", NULL}},
    {"corrupt: no XTRA, ok so far",
     {{REC_TYPE_NORM, "Delivered-To: early@example.com"}, {REC_TYPE_RCPT, "junk"}},
     false,
     {"early@example.com", NULL},
     {"junk", NULL}},
};

/* Write MESG, the records and XTRA at some offset; returns the MESG offset. */
static off_t write_queue_file(VSTREAM *fp, const struct hdr_case *c)
{
    off_t mesg;

    assert_int_equal(vstream_fseek(fp, 0, SEEK_SET), 0);
    assert_int_equal(ftruncate(vstream_fileno(fp), 0), 0);
    assert_int_equal(rec_fputs(fp, REC_TYPE_FROM, "sender@example.com"), REC_TYPE_FROM);
    mesg = vstream_ftell(fp);
    assert_int_equal(rec_fputs(fp, REC_TYPE_MESG, ""), REC_TYPE_MESG);
    for (int i = 0; i < MAX_RECS && c->recs[i].type; i++)
        assert_int_equal(rec_fputs(fp, c->recs[i].type, c->recs[i].data), c->recs[i].type);
    if (c->xtra)
        assert_int_equal(rec_fputs(fp, REC_TYPE_XTRA, ""), REC_TYPE_XTRA);
    assert_int_equal(rec_fputs(fp, REC_TYPE_END, ""), REC_TYPE_END);
    assert_int_equal(vstream_fflush(fp), 0);
    return mesg;
}

/* Table: what is found and what is not; the position is restored. */
static void test_headers(void **state UNUSED)
{
    int fd = mkstemp(test_path);

    assert_true(fd >= 0);
    VSTREAM *fp = vstream_fdopen(fd, O_RDWR);

    for (size_t i = 0; i < ARRAY_LEN(hdr_cases); i++) {
        const struct hdr_case *c = &hdr_cases[i];
        off_t mesg = write_queue_file(fp, c);

        assert_int_equal(vstream_fseek(fp, 3, SEEK_SET), 3);
        DELIVERED_HDR_INFO *info = delivered_hdr_init(fp, mesg);

        assert_int_equal(vstream_ftell(fp), 3);
        for (const char *const *cpp = c->found; *cpp; cpp++)
            if (!delivered_hdr_find(info, *cpp))
                fail_msg("case %s: %s not found", c->name, *cpp);
        for (const char *const *cpp = c->not_found; *cpp; cpp++)
            if (delivered_hdr_find(info, *cpp))
                fail_msg("case %s: %s found", c->name, *cpp);
        delivered_hdr_free(info);
    }
    vstream_fclose(fp);
    (void)unlink(test_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
