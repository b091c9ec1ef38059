/*
 * cleanup_out_test - unit tests for the frame's output side: records
 * written to the queue file, error latching (first reason wins, nothing
 * written after a lethal error, one warning for a failed write), the log
 * context of check actions, and the fixed-width SIZE record patch.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cleanup.h"
#include "cleanup_frame.h"
#include "cleanup_user.h"
#include "htable.h"
#include "msg.h"
#include "mymalloc.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

/* Everything logged during a test, one message per line. */
static VSTRING *logged;

static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
}

static char path[] = "/tmp/cleanup_out_testXXXXXX";

static int setup(void **unused UNUSED)
{
    logged = vstring_alloc(100);
    msg_output_reset();
    msg_output(capture);
    return 0;
}

static int teardown(void **unused UNUSED)
{
    vstring_free(logged);
    return 0;
}

/* A state writing to a fresh temporary file (no client). */
static CLEANUP_STATE *state_on_file(void)
{
    CLEANUP_STATE *state = cleanup_state_alloc(NULL);
    int fd;

    strcpy(path, "/tmp/cleanup_out_testXXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    state->dst = vstream_fdopen(fd, O_RDWR);
    state->queue_id = mystrdup("TESTQID");
    state->queue_name = mystrdup("incoming");
    vstring_reset(logged);
    return state;
}

/* The whole file as bytes. */
static VSTRING *file_bytes(const char *name)
{
    VSTRING *buf = vstring_alloc(100);
    FILE *fp = fopen(name, "rb");
    int ch;

    assert_non_null(fp);
    while ((ch = getc(fp)) != EOF)
        vstring_addch(buf, ch);
    fclose(fp);
    return buf;
}

/* Decode the file into "T:data|" entries for comparison. */
static VSTRING *file_records(const char *name)
{
    VSTRING *raw = file_bytes(name);
    VSTRING *out = vstring_alloc(100);
    size_t pos = 0;

    while (pos < VSTRING_LEN(raw)) {
        int type;
        const char *data;
        size_t len;
        ssize_t n = rec_decode(vstring_str(raw) + pos, VSTRING_LEN(raw) - pos, &type, &data, &len);

        assert_true(n > 0);
        vstring_sprintf_append(out, "%c:", type);
        vstring_memcat(out, data, len);
        vstring_strcat(out, "|");
        pos += (size_t)n;
    }
    vstring_free(raw);
    return out;
}

/* cleanup_out, cleanup_out_string and cleanup_out_format write one record each, in order. */
static void test_records_written(void **unused UNUSED)
{
    CLEANUP_STATE *state = state_on_file();
    static const char binary[] = {'a', 0, 'b'};

    cleanup_out(state, REC_TYPE_FROM, "sender@example.com", 18);
    cleanup_out_string(state, REC_TYPE_RCPT, "rcpt@example.com");
    cleanup_out_format(state, REC_TYPE_TIME, "%ld %d", 1700000000L, 42);
    cleanup_out(state, REC_TYPE_NORM, binary, sizeof(binary));
    cleanup_out_string(state, REC_TYPE_NORM, "");
    cleanup_out(state, REC_TYPE_END, "", 0);
    assert_int_equal(vstream_fflush(state->dst), 0);
    assert_int_equal(state->errs, 0);

    VSTRING *got = file_records(path);
    static const char want[] = "S:sender@example.com|R:rcpt@example.com|T:1700000000 42|N:a\0b|N:|E:|";

    assert_int_equal(VSTRING_LEN(got), sizeof(want) - 1);
    assert_memory_equal(vstring_str(got), want, sizeof(want) - 1);
    assert_string_equal(vstring_str(logged), "");
    vstring_free(got);
    unlink(path);
    cleanup_state_free(state);
}

/* After a lethal error nothing more reaches the file. */
static void test_nothing_after_lethal_error(void **unused UNUSED)
{
    static const unsigned lethal[] = {CLEANUP_STAT_BAD,   CLEANUP_STAT_WRITE, CLEANUP_STAT_SIZE,
                                      CLEANUP_STAT_CONT,  CLEANUP_STAT_HOPS,  CLEANUP_STAT_RCPT,
                                      CLEANUP_STAT_DEFER, CLEANUP_STAT_PROXY};

    for (size_t i = 0; i < ARRAY_LEN(lethal); i++) {
        CLEANUP_STATE *state = state_on_file();

        cleanup_out_string(state, REC_TYPE_FROM, "a@b");
        cleanup_set_error(state, lethal[i], "5.7.1 no");
        cleanup_out_string(state, REC_TYPE_RCPT, "c@d");
        cleanup_out_format(state, REC_TYPE_NORM, "%s", "line");
        cleanup_out(state, REC_TYPE_END, "", 0);
        assert_int_equal(vstream_fflush(state->dst), 0);

        VSTRING *got = file_records(path);

        assert_string_equal(vstring_str(got), "S:a@b|");
        vstring_free(got);
        unlink(path);
        cleanup_state_free(state);
    }
}

/* A failed write latches WRITE with one warning naming the queue file; later records are dropped. */
static void test_write_error_latches(void **unused UNUSED)
{
    CLEANUP_STATE *state = cleanup_state_alloc(NULL);
    char *big = mymalloc(3 * VSTREAM_BUFSIZE);

    state->dst = vstream_fopen("/dev/full", O_WRONLY, 0);
    assert_non_null(state->dst);
    state->queue_id = mystrdup("ABCDE1");
    state->queue_name = mystrdup("incoming");
    vstring_reset(logged);
    memset(big, 'x', 3 * VSTREAM_BUFSIZE);
    cleanup_out(state, REC_TYPE_NORM, big, 3 * VSTREAM_BUFSIZE);
    assert_true(state->errs & CLEANUP_STAT_WRITE);
    cleanup_out(state, REC_TYPE_NORM, big, 3 * VSTREAM_BUFSIZE);
    cleanup_out_string(state, REC_TYPE_END, "");
    assert_string_equal(vstring_str(logged), "warning: ABCDE1: write queue file: No space left on device\n");
    assert_int_equal(VSTRING_LEN(state->reason), 0);
    myfree(big);
    cleanup_state_free(state);
}

/* Error bits accumulate; the first non-empty reason is kept. */
static void test_set_error_first_reason_wins(void **unused UNUSED)
{
    CLEANUP_STATE *state = cleanup_state_alloc(NULL);

    cleanup_set_error(state, CLEANUP_STAT_WRITE, NULL);
    assert_int_equal(state->errs, CLEANUP_STAT_WRITE);
    assert_string_equal(vstring_str(state->reason), "");
    cleanup_set_error(state, CLEANUP_STAT_CONT, "%s %s", "5.7.1", "first");
    cleanup_set_error(state, CLEANUP_STAT_DEFER, "4.3.0 second");
    assert_int_equal(state->errs, CLEANUP_STAT_WRITE | CLEANUP_STAT_CONT | CLEANUP_STAT_DEFER);
    assert_string_equal(vstring_str(state->reason), "5.7.1 first");
    cleanup_state_free(state);
}

/* Log context: only the known parts, "local" without a client. */
static void test_log_context(void **unused UNUSED)
{
    static const struct {
        const char *name, *addr, *proto, *helo, *sender, *rcpt;
        bool via_attr; /* the values live only in state->attr */
        const char *want;
    } cases[] = {
        {NULL, NULL, NULL, NULL, "a@b", "c@d", false, "from local; from=<a@b> to=<c@d>"},
        {NULL, NULL, NULL, NULL, "", NULL, false, "from local; from=<>"},
        {NULL, NULL, NULL, NULL, NULL, NULL, false, "from local;"},
        {"mx.example", "192.0.2.1", "ESMTP", "helo.example", "a@b", "c@d", false,
         "from mx.example[192.0.2.1]; from=<a@b> to=<c@d> proto=ESMTP helo=<helo.example>"},
        {"mx.example", "192.0.2.1", "ESMTP", "helo.example", "a@b", "c@d", true,
         "from mx.example[192.0.2.1]; from=<a@b> to=<c@d> proto=ESMTP helo=<helo.example>"},
        {NULL, "192.0.2.1", "SMTP", NULL, "a@b", NULL, false,
         "from unknown[192.0.2.1]; from=<a@b> proto=SMTP"},
        {"unknown", "2001:db8::1", NULL, "x", NULL, "c@d", true,
         "from unknown[2001:db8::1]; to=<c@d> helo=<x>"},
    };
    VSTRING *buf = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        CLEANUP_STATE *state = cleanup_state_alloc(NULL);

        if (cases[i].via_attr) {
            static const char *const names[] = {MAIL_ATTR_LOG_CLIENT_NAME, MAIL_ATTR_LOG_CLIENT_ADDR,
                                                MAIL_ATTR_LOG_PROTO_NAME, MAIL_ATTR_LOG_HELO_NAME};
            const char *values[] = {cases[i].name, cases[i].addr, cases[i].proto, cases[i].helo};

            for (size_t j = 0; j < 4; j++)
                if (values[j])
                    htable_enter(state->attr, names[j], mystrdup(values[j]));
        } else {
            state->client_name = cases[i].name;
            state->client_addr = cases[i].addr;
            state->protocol = cases[i].proto;
            state->helo = cases[i].helo;
        }
        state->sender = cases[i].sender ? mystrdup(cases[i].sender) : NULL;
        state->first_rcpt = cases[i].rcpt ? mystrdup(cases[i].rcpt) : NULL;
        assert_string_equal(cleanup_log_context(state, buf), cases[i].want);
        cleanup_state_free(state);
    }
    vstring_free(buf);
}

/* The SIZE record is rewritten in place with the same length; the rest of the file is untouched. */
static void test_size_patch(void **unused UNUSED)
{
    static const struct {
        long long size, data, xtra;
        int rcpts;
        const char *want;
    } cases[] = {
        {0, 0, 0, 0, "              0               0               0               0               0"},
        {1234, 81, 5000, 3,
         "           1234              81               3               0            5000"},
        {999999999999999LL, 999999999999999LL, 999999999999999LL, 2147483647,
         "999999999999999 999999999999999      2147483647               0 999999999999999"},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        CLEANUP_STATE *state = state_on_file();

        cleanup_out_format(state, REC_TYPE_SIZE, REC_SIZE_FORMAT, 0LL, 0LL, 0, 0, 0LL);
        cleanup_out_string(state, REC_TYPE_FROM, "a@b");
        cleanup_out_string(state, REC_TYPE_MESG, "");
        cleanup_out_string(state, REC_TYPE_NORM, "Subject: x");
        cleanup_out_string(state, REC_TYPE_END, "");
        assert_int_equal(vstream_fflush(state->dst), 0);

        VSTRING *before = file_bytes(path);

        state->cont_length = cases[i].size;
        state->data_offset = cases[i].data;
        state->rcpt_count = cases[i].rcpts;
        state->xtra_offset = cases[i].xtra;
        assert_int_equal(cleanup_size_patch(state), 0);
        assert_int_equal(state->errs, 0);

        VSTRING *after = file_bytes(path);
        VSTRING *want = vstring_alloc(100);

        vstring_sprintf(want, "C:%s|S:a@b|M:|N:Subject: x|E:|", cases[i].want);
        assert_int_equal(strlen(cases[i].want), REC_SIZE_LEN);
        assert_int_equal(VSTRING_LEN(after), VSTRING_LEN(before));
        /* type byte, one length byte, 79 data bytes */
        assert_memory_equal(vstring_str(after) + 2 + REC_SIZE_LEN, vstring_str(before) + 2 + REC_SIZE_LEN,
                            VSTRING_LEN(before) - 2 - REC_SIZE_LEN);

        VSTRING *got = file_records(path);

        assert_string_equal(vstring_str(got), vstring_str(want));
        vstring_free(got);
        vstring_free(want);
        vstring_free(before);
        vstring_free(after);
        unlink(path);
        cleanup_state_free(state);
    }
}

/* Values too wide for the fixed layout are a write error, the file is left alone. */
static void test_size_patch_overflow(void **unused UNUSED)
{
    CLEANUP_STATE *state = state_on_file();

    cleanup_out_format(state, REC_TYPE_SIZE, REC_SIZE_FORMAT, 0LL, 0LL, 0, 0, 0LL);
    assert_int_equal(vstream_fflush(state->dst), 0);
    state->cont_length = 1000000000000000LL;
    assert_int_equal(cleanup_size_patch(state), -1);
    assert_true(state->errs & CLEANUP_STAT_WRITE);
    assert_non_null(strstr(vstring_str(logged), "warning: TESTQID: size record values do not fit"));

    VSTRING *got = file_records(path);

    assert_string_equal(vstring_str(got),
                        "C:              0               0               0               0               0|");
    vstring_free(got);
    unlink(path);
    cleanup_state_free(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_written),     cmocka_unit_test(test_nothing_after_lethal_error),
        cmocka_unit_test(test_write_error_latches), cmocka_unit_test(test_set_error_first_reason_wins),
        cmocka_unit_test(test_log_context),         cmocka_unit_test(test_size_patch),
        cmocka_unit_test(test_size_patch_overflow),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
