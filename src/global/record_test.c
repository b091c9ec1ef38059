/*
 * record_test - unit tests for record: round trips of every length
 * class, the exact byte encoding, hostile input (truncation, forged
 * lengths, over-long length encodings, over-limit records), in-place type
 * changes with rec_put_at() under read-ahead, rec_decode() on partial
 * buffers, names and attribute splitting.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

static char test_file[] = "/tmp/record_test.XXXXXX";
static int test_warnings;

/* Count warnings; the cases check results and how many were logged. */
static void test_msg(enum msg_level level, const char *text UNUSED)
{
    if (level == MSG_WARN)
        test_warnings++;
}

/* A fresh empty scratch file opened read-write. */
static VSTREAM *scratch(void)
{
    VSTREAM *fp = vstream_fopen(test_file, O_RDWR | O_CREAT | O_TRUNC, 0600);

    assert_non_null(fp);
    return fp;
}

/* A stream that reads exactly the bytes BUF[0..LEN). */
static VSTREAM *bytes_stream(const void *buf, size_t len)
{
    VSTREAM *fp = scratch();

    assert_int_equal(vstream_fwrite(fp, buf, len), 0);
    assert_int_equal(vstream_fseek(fp, 0, SEEK_SET), 0);
    return fp;
}

static const size_t round_trip_lengths[] = {0,     1,     2,     126,   127,   128,   129,
                                            16383, 16384, 65535, 65536, 65537, 200000};

static void test_round_trip(void **state UNUSED)
{
    VSTREAM *fp = scratch();
    VSTRING *buf = vstring_alloc(10);
    char *data = mymalloc(200001);

    for (size_t i = 0; i < 200001; i++)
        data[i] = (char)(i * 7 + 3); /* includes null bytes */
    for (size_t i = 0; i < ARRAY_LEN(round_trip_lengths); i++)
        assert_int_equal(rec_put(fp, REC_TYPE_NORM, data, round_trip_lengths[i]), REC_TYPE_NORM);
    assert_int_equal(rec_fputs(fp, REC_TYPE_FROM, "alice@example.com"), REC_TYPE_FROM);
    assert_int_equal(rec_fprintf(fp, REC_TYPE_TIME, "%d %d", 1700000000, 123456), REC_TYPE_TIME);
    assert_int_equal(rec_fputs(fp, REC_TYPE_END, ""), REC_TYPE_END);
    assert_int_equal(vstream_fseek(fp, 0, SEEK_SET), 0);
    for (size_t i = 0; i < ARRAY_LEN(round_trip_lengths); i++) {
        assert_int_equal(rec_get(fp, buf, 0), REC_TYPE_NORM);
        assert_int_equal(VSTRING_LEN(buf), round_trip_lengths[i]);
        assert_memory_equal(vstring_str(buf), data, round_trip_lengths[i]);
        assert_int_equal(vstring_str(buf)[round_trip_lengths[i]], 0);
    }
    assert_int_equal(rec_get(fp, buf, 0), REC_TYPE_FROM);
    assert_string_equal(vstring_str(buf), "alice@example.com");
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_TIME);
    assert_string_equal(vstring_str(buf), "1700000000 123456");
    assert_int_equal(rec_get(fp, buf, 0), REC_TYPE_END);
    assert_int_equal(VSTRING_LEN(buf), 0);
    assert_int_equal(rec_get(fp, buf, 0), REC_TYPE_EOF);
    vstream_fclose(fp);
    vstring_free(buf);
    myfree(data);
}

/* The exact bytes of a record header: type, then base-128 LSB first. */
static const struct {
    size_t len;
    unsigned char head[6];
    size_t head_len;
} encoding_cases[] = {
    {0, {'N', 0x00}, 2},         {5, {'N', 0x05}, 2},         {127, {'N', 0x7f}, 2},
    {128, {'N', 0x80, 0x01}, 3}, {300, {'N', 0xac, 0x02}, 3}, {16384, {'N', 0x80, 0x80, 0x01}, 4},
};

static void test_encoding(void **state UNUSED)
{
    for (size_t i = 0; i < ARRAY_LEN(encoding_cases); i++) {
        VSTREAM *fp = scratch();
        char *data = mycalloc(1, encoding_cases[i].len + 1);
        unsigned char got[6];

        assert_int_equal(rec_put(fp, 'N', data, encoding_cases[i].len), 'N');
        assert_int_equal(vstream_fseek(fp, 0, SEEK_SET), 0);
        assert_int_equal(vstream_fread(fp, got, encoding_cases[i].head_len), encoding_cases[i].head_len);
        assert_memory_equal(got, encoding_cases[i].head, encoding_cases[i].head_len);
        vstream_fclose(fp);
        myfree(data);
    }
}

/* Hostile or damaged input: every case ends in REC_TYPE_ERROR with a warning. */
static const struct {
    const char *label;
    unsigned char bytes[16];
    size_t len;
    size_t maxlen;
} hostile_cases[] = {
    {"type only", {'N'}, 1, 0},
    {"length cut short", {'N', 0x80}, 2, 0},
    {"data cut short", {'N', 0x05, 'a', 'b'}, 4, 0},
    {"six length bytes", {'N', 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 7, 0},
    {"huge length, no data", {'N', 0xff, 0xff, 0xff, 0xff, 0x7f}, 6, 0},
    {"huge length, some data", {'N', 0xff, 0xff, 0xff, 0xff, 0x7f, 'x', 'y', 'z'}, 9, 0},
    {"over the limit", {'N', 0x0a, '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'}, 12, 9},
};

static void test_hostile(void **state UNUSED)
{
    VSTRING *buf = vstring_alloc(10);

    for (size_t i = 0; i < ARRAY_LEN(hostile_cases); i++) {
        VSTREAM *fp = bytes_stream(hostile_cases[i].bytes, hostile_cases[i].len);

        test_warnings = 0;
        assert_int_equal(rec_get(fp, buf, hostile_cases[i].maxlen), REC_TYPE_ERROR);
        if (test_warnings != 1)
            fail_msg("%s: %d warnings", hostile_cases[i].label, test_warnings);
        /* Nothing near the forged length was allocated. */
        assert_true(buf->size < 2 * 65536 + 64);
        vstream_fclose(fp);
    }
    vstring_free(buf);
}

/* A forged 32 GB length must not allocate more than what really arrives. */
static void test_hostile_allocation(void **state UNUSED)
{
    static const unsigned char head[] = {'N', 0xff, 0xff, 0xff, 0xff, 0x7f};
    VSTREAM *fp = scratch();
    VSTRING *buf = vstring_alloc(10);
    char *filler = mycalloc(1, 300000);

    assert_int_equal(vstream_fwrite(fp, head, sizeof(head)), 0);
    assert_int_equal(vstream_fwrite(fp, filler, 300000), 0);
    assert_int_equal(vstream_fseek(fp, 0, SEEK_SET), 0);
    test_warnings = 0;
    assert_int_equal(rec_get(fp, buf, 0), REC_TYPE_ERROR);
    assert_int_equal(test_warnings, 1);
    assert_int_equal(VSTRING_LEN(buf), 300000);
    assert_true(buf->size <= 2 * (300000 + 65536 + 1));
    vstream_fclose(fp);
    vstring_free(buf);
    myfree(filler);
}

/* Random bytes never crash the reader, and it always terminates. */
static void test_garbage(void **state UNUSED)
{
    VSTRING *buf = vstring_alloc(10);
    unsigned seed = 12345;

    for (int round = 0; round < 200; round++) {
        unsigned char junk[512];
        size_t len = 1 + (seed % sizeof(junk));
        int type;
        int count = 0;

        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245 + 12345;
            junk[i] = (unsigned char)(seed >> 16);
        }
        VSTREAM *fp = bytes_stream(junk, len);

        while ((type = rec_get(fp, buf, 0)) >= 0)
            assert_true(++count <= (int)len);
        assert_true(type == REC_TYPE_EOF || type == REC_TYPE_ERROR);
        vstream_fclose(fp);
    }
    vstring_free(buf);
}

/*
 * rec_put_at() changes a type byte in place while the reader is in the
 * middle of the file with read-ahead buffered, then reading continues.
 */
static void test_put_at(void **state UNUSED)
{
    VSTREAM *fp = scratch();
    VSTRING *buf = vstring_alloc(10);
    off_t rcpt_off[3];

    assert_int_equal(rec_fputs(fp, REC_TYPE_FROM, "s@example.com"), REC_TYPE_FROM);
    for (int i = 0; i < 3; i++) {
        rcpt_off[i] = vstream_ftell(fp);
        assert_int_equal(rec_fprintf(fp, REC_TYPE_RCPT, "r%d@example.com", i), REC_TYPE_RCPT);
    }
    assert_int_equal(rec_fputs(fp, REC_TYPE_END, ""), REC_TYPE_END);
    vstream_fclose(fp);

    fp = vstream_fopen(test_file, O_RDWR, 0);
    assert_non_null(fp);
    assert_int_equal(rec_get(fp, buf, 0), REC_TYPE_FROM);
    assert_int_equal(rec_get(fp, buf, 0), REC_TYPE_RCPT); /* r0: the rest is now read ahead */
    assert_true(vstream_peek(fp) > 0);
    assert_int_equal(rec_put_at(fp, rcpt_off[0], REC_TYPE_DONE), REC_TYPE_DONE);
    assert_int_equal(rec_put_at(fp, rcpt_off[2], REC_TYPE_DONE), REC_TYPE_DONE);
    assert_int_equal(rec_get(fp, buf, 0), REC_TYPE_RCPT);
    assert_string_equal(vstring_str(buf), "r1@example.com");
    assert_int_equal(rec_get(fp, buf, 0), REC_TYPE_DONE);
    assert_string_equal(vstring_str(buf), "r2@example.com");
    assert_int_equal(rec_get(fp, buf, 0), REC_TYPE_END);
    vstream_fclose(fp);

    /* The file on disk has the changes. */
    fp = vstream_fopen(test_file, O_RDONLY, 0);
    const int expect[] = {REC_TYPE_FROM, REC_TYPE_DONE, REC_TYPE_RCPT,
                          REC_TYPE_DONE, REC_TYPE_END,  REC_TYPE_EOF};
    for (size_t i = 0; i < ARRAY_LEN(expect); i++)
        assert_int_equal(rec_get(fp, buf, 0), expect[i]);
    vstream_fclose(fp);
    vstring_free(buf);
}

/* rec_decode() on every prefix of an encoded stream. */
static void test_decode(void **state UNUSED)
{
    VSTREAM *fp = scratch();
    VSTRING *all = vstring_alloc(100);
    char big[300];
    int type;
    const char *data;
    size_t data_len;

    memset(big, 'x', sizeof(big));
    rec_fputs(fp, REC_TYPE_RCPT, "a@b");
    rec_put(fp, REC_TYPE_NORM, big, sizeof(big));
    rec_fputs(fp, REC_TYPE_END, "");
    assert_int_equal(vstream_fseek(fp, 0, SEEK_SET), 0);
    vstring_space(all, 400);
    all->len = vstream_fread(fp, all->data, 400);
    assert_int_equal(VSTRING_LEN(all), 5 + 303 + 2);
    vstream_fclose(fp);

    for (size_t n = 0; n < 5; n++)
        assert_int_equal(rec_decode(all->data, n, &type, &data, &data_len), 0);
    assert_int_equal(rec_decode(all->data, VSTRING_LEN(all), &type, &data, &data_len), 5);
    assert_int_equal(type, REC_TYPE_RCPT);
    assert_int_equal(data_len, 3);
    assert_memory_equal(data, "a@b", 3);
    /* Header complete, data not: the length is known already. */
    data_len = 0;
    assert_int_equal(rec_decode(all->data + 5, 10, &type, &data, &data_len), 0);
    assert_int_equal(type, REC_TYPE_NORM);
    assert_int_equal(data_len, 300);
    assert_int_equal(rec_decode(all->data + 5, 303, &type, &data, &data_len), 303);
    assert_int_equal(rec_decode(all->data + 308, 2, &type, &data, &data_len), 2);
    assert_int_equal(type, REC_TYPE_END);
    assert_int_equal(data_len, 0);

    static const char six[] = {'N', '\x80', '\x80', '\x80', '\x80', '\x80', '\x01'};
    assert_int_equal(rec_decode(six, sizeof(six), &type, &data, &data_len), -1);
    vstring_free(all);
}

static void test_names(void **state UNUSED)
{
    static const struct {
        int type;
        const char *name;
    } cases[] = {
        {REC_TYPE_SIZE, "message_size"},   {REC_TYPE_TIME, "message_arrival_time"},
        {REC_TYPE_CTIME, "create_time"},   {REC_TYPE_RCPT, "recipient"},
        {REC_TYPE_DONE, "done_recipient"}, {REC_TYPE_ATTR, "named_attribute"},
        {REC_TYPE_END, "message_end"},     {'?', "unknown_record_type"},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        assert_string_equal(rec_type_name(cases[i].type), cases[i].name);
}

static void test_attr_split(void **state UNUSED)
{
    static const struct {
        const char *in;
        int result;
        const char *name;
        const char *value;
    } cases[] = {
        {"rewrite_context=local", 0, "rewrite_context", "local"},
        {"a=", 0, "a", ""},
        {"x=y=z", 0, "x", "y=z"},
        {"=value", -1, 0, 0},
        {"novalue", -1, 0, 0},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *copy = mystrdup(cases[i].in);
        char *name;
        char *value;

        assert_int_equal(rec_attr_split(copy, &name, &value), cases[i].result);
        if (cases[i].result == 0) {
            assert_string_equal(name, cases[i].name);
            assert_string_equal(value, cases[i].value);
        } else {
            assert_string_equal(copy, cases[i].in);
        }
        myfree(copy);
    }
}

static int test_setup(void **state UNUSED)
{
    int fd = mkstemp(test_file);

    if (fd < 0)
        return -1;
    close(fd);
    msg_output(test_msg);
    return 0;
}

static int test_teardown(void **state UNUSED)
{
    msg_output_reset();
    return unlink(test_file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_hostile),    cmocka_unit_test(test_hostile_allocation),
        cmocka_unit_test(test_garbage),    cmocka_unit_test(test_put_at),
        cmocka_unit_test(test_decode),     cmocka_unit_test(test_names),
        cmocka_unit_test(test_attr_split),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
