/*
 * attr_test - unit tests for attr over a socketpair: the exact wire
 * bytes, round trips of every type, any order, the strictness flags,
 * RECV_ATTR_HASH, ATTR_FLAG_MORE, and damaged input (bad numbers,
 * truncation, bad names, over-long values, a hangup).
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "attr.h"
#include "htable.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

static int test_warnings;
static char test_last_warning[512];

/* Count warnings and keep the last one. */
static void test_msg(enum msg_level level, const char *text)
{
    if (level == MSG_WARN) {
        test_warnings++;
        snprintf(test_last_warning, sizeof(test_last_warning), "%s", text);
    }
}

/* Release one hash value. */
static void value_free(void *value)
{
    myfree(value);
}

/* Two connected streams: PAIR[0] writes, PAIR[1] reads (and vice versa). */
static void make_pair(VSTREAM **pair)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pair[0] = vstream_fdopen(sv[0], O_RDWR);
    pair[1] = vstream_fdopen(sv[1], O_RDWR);
    vstream_set_timeout(pair[1], 5);
}

static void close_pair(VSTREAM **pair)
{
    if (pair[0])
        vstream_fclose(pair[0]);
    vstream_fclose(pair[1]);
}

/* Write raw bytes to the sending side. */
static void send_raw(VSTREAM *fp, const void *buf, size_t len)
{
    assert_int_equal(vstream_fwrite(fp, buf, len), 0);
    assert_int_equal(vstream_fflush(fp), 0);
}

static void test_wire_format(void **state UNUSED)
{
    static const char expect[] = "queue_id\0ABC123\0status\0-5\0size\0"
                                 "123456789012\0\0";
    VSTREAM *pair[2];
    char got[sizeof(expect)];

    make_pair(pair);
    assert_int_equal(attr_print(pair[0], ATTR_FLAG_NONE, SEND_ATTR_STR("queue_id", "ABC123"),
                                SEND_ATTR_INT("status", -5), SEND_ATTR_LONG("size", 123456789012LL),
                                ATTR_TYPE_END),
                     0);
    assert_int_equal(vstream_fread(pair[1], got, sizeof(expect) - 1), sizeof(expect) - 1);
    assert_memory_equal(got, expect, sizeof(expect) - 1);
    close_pair(pair);
}

static void test_round_trip(void **state UNUSED)
{
    VSTREAM *pair[2];
    VSTRING *id = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);
    int status = 0;
    long long size = 0;

    make_pair(pair);
    /* Sent in another order than requested; one value is empty, one binary-ish. */
    attr_print(pair[0], ATTR_FLAG_NONE, SEND_ATTR_STR("reason", ""), SEND_ATTR_LONG("size", -9000000000LL),
               SEND_ATTR_INT("status", 2147483647), SEND_ATTR_STR("queue_id", "x y\t\001z"), ATTR_TYPE_END);
    test_warnings = 0;
    assert_int_equal(attr_scan(pair[1], ATTR_FLAG_STRICT, RECV_ATTR_INT("status", &status),
                               RECV_ATTR_STR("queue_id", id), RECV_ATTR_LONG("size", &size),
                               RECV_ATTR_STR("reason", why), ATTR_TYPE_END),
                     4);
    assert_int_equal(status, 2147483647);
    assert_true(size == -9000000000LL);
    assert_string_equal(vstring_str(id), "x y\t\001z");
    assert_string_equal(vstring_str(why), "");
    assert_int_equal(test_warnings, 0);
    close_pair(pair);
    vstring_free(id);
    vstring_free(why);
}

/* Two messages back to back, the first built with ATTR_FLAG_MORE. */
static void test_more_and_sequence(void **state UNUSED)
{
    VSTREAM *pair[2];
    int a = 0, b = 0, c = 0;

    make_pair(pair);
    attr_print(pair[0], ATTR_FLAG_MORE, SEND_ATTR_INT("a", 1), ATTR_TYPE_END);
    attr_print(pair[0], ATTR_FLAG_NONE, SEND_ATTR_INT("b", 2), ATTR_TYPE_END);
    attr_print(pair[0], ATTR_FLAG_NONE, SEND_ATTR_INT("c", 3), ATTR_TYPE_END);
    assert_int_equal(
        attr_scan(pair[1], ATTR_FLAG_STRICT, RECV_ATTR_INT("a", &a), RECV_ATTR_INT("b", &b), ATTR_TYPE_END),
        2);
    assert_int_equal(attr_scan(pair[1], ATTR_FLAG_STRICT, RECV_ATTR_INT("c", &c), ATTR_TYPE_END), 1);
    assert_int_equal(a + 10 * b + 100 * c, 321);
    close_pair(pair);
}

/* The strictness flags, one message each. */
static const struct {
    const char *label;
    int flags;
    const char *wire; /* pairs, then the end marker */
    size_t wire_len;
    int result;
    const char *warning; /* substring of the warning, or NULL for none */
} strict_cases[] = {
#define W(s) s, sizeof(s) - 1
    {"all present", ATTR_FLAG_STRICT,
     W("n\0"
       "1\0s\0x\0\0"),
     2, NULL},
    {"missing, lenient", ATTR_FLAG_NONE,
     W("n\0"
       "1\0\0"),
     1, NULL},
    {"missing, strict", ATTR_FLAG_MISSING,
     W("n\0"
       "1\0\0"),
     -1, "missing attribute s"},
    {"extra, lenient", ATTR_FLAG_MISSING,
     W("n\0"
       "1\0s\0x\0junk\0y\0\0"),
     2, NULL},
    {"extra, strict", ATTR_FLAG_EXTRA,
     W("n\0"
       "1\0junk\0y\0s\0x\0\0"),
     -1, "unexpected attribute junk"},
    {"bad number", ATTR_FLAG_NONE,
     W("n\0"
       "12x\0\0"),
     -1, "malformed numerical data for attribute n"},
    {"empty number", ATTR_FLAG_NONE, W("n\0\0\0"), -1, "malformed numerical data"},
    {"int overflow", ATTR_FLAG_NONE,
     W("n\0"
       "2147483648\0\0"),
     -1, "malformed numerical data"},
    {"bad name", ATTR_FLAG_NONE, W("Bad-Name\0x\0\0"), -1, "malformed attribute name"},
    {"cut in a value", ATTR_FLAG_NONE,
     W("n\0"
       "12"),
     -1, "premature end-of-input"},
    {"cut after a value", ATTR_FLAG_NONE,
     W("n\0"
       "12\0"),
     -1, "premature end-of-input"},
    {"cut after a name", ATTR_FLAG_NONE, W("n\0"), -1, "premature end-of-input"},
    {"hangup", ATTR_FLAG_NONE, W(""), -1, NULL},
#undef W
};

static void test_strictness(void **state UNUSED)
{
    VSTRING *s = vstring_alloc(10);

    for (size_t i = 0; i < ARRAY_LEN(strict_cases); i++) {
        VSTREAM *pair[2];
        int n = 0;
        int rc;

        make_pair(pair);
        if (strict_cases[i].wire_len)
            send_raw(pair[0], strict_cases[i].wire, strict_cases[i].wire_len);
        vstream_fclose(pair[0]);
        pair[0] = NULL;
        test_warnings = 0;
        test_last_warning[0] = 0;
        rc = attr_scan(pair[1], strict_cases[i].flags, RECV_ATTR_INT("n", &n), RECV_ATTR_STR("s", s),
                       ATTR_TYPE_END);
        if (rc != strict_cases[i].result)
            fail_msg("%s: result %d, expected %d", strict_cases[i].label, rc, strict_cases[i].result);
        if (strict_cases[i].warning == NULL) {
            if (test_warnings != 0)
                fail_msg("%s: unexpected warning: %s", strict_cases[i].label, test_last_warning);
        } else if (test_warnings != 1 || strstr(test_last_warning, strict_cases[i].warning) == NULL) {
            fail_msg("%s: %d warnings, last \"%s\"", strict_cases[i].label, test_warnings, test_last_warning);
        }
        close_pair(pair);
    }
    vstring_free(s);
}

static void test_hash(void **state UNUSED)
{
    VSTREAM *pair[2];
    HTABLE *table = htable_create(10, 0);
    int status = -1;

    make_pair(pair);
    attr_print(pair[0], ATTR_FLAG_NONE, SEND_ATTR_STR("x_one", "1"), SEND_ATTR_INT("status", 7),
               SEND_ATTR_STR("x_two", "two words"), SEND_ATTR_STR("x_one", "again"), ATTR_TYPE_END);
    assert_int_equal(attr_scan(pair[1], ATTR_FLAG_STRICT, RECV_ATTR_INT("status", &status),
                               RECV_ATTR_HASH(table), ATTR_TYPE_END),
                     3);
    assert_int_equal(status, 7);
    assert_int_equal(table->used, 2);
    assert_string_equal(htable_find(table, "x_one"), "again");
    assert_string_equal(htable_find(table, "x_two"), "two words");
    assert_null(htable_find(table, "status"));
    htable_free(table, value_free);
    close_pair(pair);
}

/* A value longer than ATTR_LEN_MAX is refused without reading it all. */
static void test_too_long(void **state UNUSED)
{
    VSTREAM *pair[2];
    VSTRING *s = vstring_alloc(10);
    size_t len = ATTR_LEN_MAX + 10;
    char *big = mymalloc(len + 3);
    pid_t pid;

    memset(big, 'v', len + 3);
    big[0] = 's';
    big[1] = 0;
    big[len + 2] = 0;
    make_pair(pair);
    /* The writer would block on a full socket buffer: let a child write. */
    if ((pid = fork()) == 0) {
        vstream_fwrite(pair[0], big, len + 3);
        vstream_fflush(pair[0]);
        _exit(0);
    }
    vstream_fclose(pair[0]);
    pair[0] = NULL;
    test_warnings = 0;
    assert_int_equal(attr_scan(pair[1], ATTR_FLAG_NONE, RECV_ATTR_STR("s", s), ATTR_TYPE_END), -1);
    assert_int_equal(test_warnings, 1);
    assert_non_null(strstr(test_last_warning, "too long"));
    close_pair(pair);
    myfree(big);
    vstring_free(s);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int test_setup(void **state UNUSED)
{
    msg_output(test_msg);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static int test_teardown(void **state UNUSED)
{
    msg_output_reset();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_format),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_more_and_sequence),
        cmocka_unit_test(test_strictness),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_too_long),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
