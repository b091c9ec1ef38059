/*
 * dsn_test - unit tests for dsn: the length of an RFC 3463 status at the
 * start of a text, splitting "X.Y.Z text" with a default status (the
 * default's class wins), and the DSN_BUF builders and views.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "dsn.h"
#include "vstring.h"

static const struct {
    const char *text;
    size_t len;
} status_len_cases[] = {
    {"5.1.1 User unknown", 5},
    {"5.1.1", 5},
    {"4.0.0", 5},
    {"2.0.0 Ok", 5},
    {"5.123.456 long", 9},
    {"4.12.3", 6},
    {"5.1234.1 too many digits", 0},
    {"5.1.1234", 0},
    {"3.1.1 bad class", 0},
    {"5.1.1x", 0},
    {"5.1.1\tx", 0},
    {"5.1", 0},
    {"5..1", 0},
    {"5.1.", 0},
    {"55.1.1", 0},
    {" 5.1.1", 0},
    {"x5.1.1", 0},
    {"", 0},
    {"550 5.1.1 reply code first", 0},
};

static void test_status_len(void **state UNUSED)
{
    for (size_t i = 0; i < ARRAY_LEN(status_len_cases); i++) {
        size_t got = dsn_status_len(status_len_cases[i].text);

        if (got != status_len_cases[i].len)
            fail_msg("dsn_status_len(\"%s\") = %zu, want %zu", status_len_cases[i].text, got,
                     status_len_cases[i].len);
    }
}

static const struct {
    const char *text;
    const char *def;
    const char *status;
    const char *reason;
} split_cases[] = {
    {"5.1.1 User unknown in virtual alias table", "5.0.0", "5.1.1", "User unknown in virtual alias table"},
    {"User unknown", "5.0.0", "5.0.0", "User unknown"},
    {"4.1.1 wrong class", "5.0.0", "5.1.1", "wrong class"},
    {"5.7.1 go away", "4.0.0", "4.7.1", "go away"},
    {"4.3.2   several spaces", "4.0.0", "4.3.2", "several spaces"},
    {"5.1.1", "5.0.0", "5.1.1", ""},
    {"", "4.0.0", "4.0.0", ""},
    {"5.1.1x not a status", "5.0.0", "5.0.0", "5.1.1x not a status"},
    {"2.0.0 discarded", "2.0.0", "2.0.0", "discarded"},
    {"5.2.2 mailbox full", "2.0.0", "2.2.2", "mailbox full"},
    {"example.com", "2.0.0", "2.0.0", "example.com"},
};

static void test_split(void **state UNUSED)
{
    VSTRING *status = vstring_alloc(10);
    VSTRING *reason = vstring_alloc(10);

    for (size_t i = 0; i < ARRAY_LEN(split_cases); i++) {
        vstring_strcpy(status, "junk");
        vstring_strcpy(reason, "junk");
        dsn_split(status, reason, split_cases[i].text, split_cases[i].def);
        assert_string_equal(vstring_str(status), split_cases[i].status);
        assert_string_equal(vstring_str(reason), split_cases[i].reason);
    }
    vstring_free(status);
    vstring_free(reason);
}

/* Compare every field of a DSN view. */
static void check_dsn(const DSN *dsn, const char *status, const char *action, const char *reason,
                      const char *dtype, const char *dtext, const char *mtype, const char *mname)
{
    assert_string_equal(dsn->status, status);
    assert_string_equal(dsn->action, action);
    assert_string_equal(dsn->reason, reason);
    assert_string_equal(dsn->dtype, dtype);
    assert_string_equal(dsn->dtext, dtext);
    assert_string_equal(dsn->mtype, mtype);
    assert_string_equal(dsn->mname, mname);
}

static void test_builders(void **state UNUSED)
{
    DSN_BUF *dsb = dsb_create();
    DSN dsn;
    DSN partial = {.status = "4.4.1", .reason = "no route"};

    dsb_smtp(dsb, "5.1.1", "550 5.1.1 no such user", "mx.example.net", "host %s said: %s", "mx.example.net",
             "550 5.1.1 no such user");
    check_dsn(dsn_from_buf(&dsn, dsb), "5.1.1", "", "host mx.example.net said: 550 5.1.1 no such user",
              "smtp", "550 5.1.1 no such user", "dns", "mx.example.net");

    /* Each builder starts from an empty buffer. */
    dsb_unix(dsb, "5.1.1", "unknown user: \"%s\"", "bob");
    check_dsn(dsn_from_buf(&dsn, dsb), "5.1.1", "", "unknown user: \"bob\"", "x-unix",
              "unknown user: \"bob\"", "", "");

    dsb_simple(dsb, "4.0.0", "%s", "deferred");
    dsb_action(dsb, DSN_ACTION_DELAYED);
    check_dsn(dsn_from_buf(&dsn, dsb), "4.0.0", "delayed", "deferred", "", "", "", "");

    dsb_smtp(dsb, "4.4.1", "", "", "connect failed");
    check_dsn(dsn_from_buf(&dsn, dsb), "4.4.1", "", "connect failed", "smtp", "", "", "");

    dsb_from_dsn(dsb, &partial);
    check_dsn(dsn_from_buf(&dsn, dsb), "4.4.1", "", "no route", "", "", "", "");

    dsb_reset(dsb);
    check_dsn(dsn_from_buf(&dsn, dsb), "", "", "", "", "", "", "");
    dsb_free(dsb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_len),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_builders),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
