/*
 * log_adhoc_test - unit tests for log_adhoc: delay values as Postfix
 * prints them (2 significant digits, at most
 * $delay_logging_resolution_limit decimals, whole seconds from 10 s up,
 * "0" below the resolution), and whole delivery log lines compared with
 * the Postfix examples of delivery.md section 1 (delay=T,
 * delays=A/B/C/D, orig_to= only when it differs ignoring case,
 * conn_use= on a reused connection, to=<> for the null address).
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "log_adhoc.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

static const struct {
    double seconds;
    int limit;
    const char *text;
} delay_cases[] = {
    {0.123, 2, "0.12"}, {1.234, 2, "1.2"},   {12.6, 2, "13"},      {3944.2, 2, "3944"},
    {0.004, 2, "0"},    {0.01, 2, "0.01"},   {0.1, 2, "0.1"},      {2.0, 2, "2"},
    {0, 2, "0"},        {-3.5, 2, "0"},      {9.96, 2, "10"},      {10.0, 2, "10"},
    {0.996, 2, "1"},    {0.0123, 2, "0.01"}, {0.0123, 3, "0.012"}, {0.0004, 3, "0"},
    {0.123, 0, "0"},    {0.6, 0, "1"},       {1.234, 0, "1"},      {0.05, 2, "0.05"},
    {0.58, 2, "0.58"},  {3943.0, 2, "3943"}, {0.5, 2, "0.5"},      {0.0061, 6, "0.0061"},
    {5.55, 1, "5.5"},   {99.5, 2, "100"},    {0.105, 1, "0.1"},    {123456.7, 2, "123457"},
};

static void test_delay_format(void **state UNUSED)
{
    VSTRING *buf = vstring_alloc(10);

    for (size_t i = 0; i < ARRAY_LEN(delay_cases); i++) {
        var_delay_logging_resolution_limit = delay_cases[i].limit;
        vstring_strcpy(buf, "x=");
        log_adhoc_delay(buf, delay_cases[i].seconds);
        if (strcmp(vstring_str(buf) + 2, delay_cases[i].text) != 0)
            fail_msg("delay %g (limit %d): got \"%s\", want \"%s\"", delay_cases[i].seconds,
                     delay_cases[i].limit, vstring_str(buf) + 2, delay_cases[i].text);
    }
    var_delay_logging_resolution_limit = 2;
    vstring_free(buf);
}

static char *captured;

/* Keep the last logged line. */
static void capture(enum msg_level level, const char *text)
{
    assert_int_equal(level, MSG_INFO);
    myfree(captured);
    captured = mystrdup(text);
}

#define BASE 1763712000L

/* A time BASE + usec microseconds, or unset when usec < 0. */
static struct timeval at(long usec)
{
    struct timeval tv = {0, 0};

    if (usec >= 0) {
        tv.tv_sec = BASE + usec / 1000000;
        tv.tv_usec = usec % 1000000;
    }
    return tv;
}

static const struct {
    long in, act, hand, conn, done; /* microseconds after BASE; -1 unset */
    int reuse;
    const char *addr, *orig, *relay, *status, *dsn_status, *reason, *line;
} line_cases[] = {
    /* The three Postfix examples of delivery.md section 1. */
    {0, 50000, 60000, -1, 120000, 0, "alice@example.com", "", "local", "sent", "2.0.0",
     "delivered to mailbox",
     "3E0B31A0563: to=<alice@example.com>, relay=local, delay=0.12, delays=0.05/0.01/0/0.06, dsn=2.0.0, "
     "status=sent (delivered to mailbox)"},
    {0, 100000, 120000, 620000, 1200000, 0, "bob@example.net", "bob@example.net",
     "mx1.example.net[192.0.2.10]:25", "sent", "2.0.0", "250 2.0.0 Ok: queued as 9A8B7C",
     "3E0B31A0563: to=<bob@example.net>, relay=mx1.example.net[192.0.2.10]:25, delay=1.2, "
     "delays=0.1/0.02/0.5/0.58, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9A8B7C)"},
    {0, 3943000000L, 3943010000L, 3943510000L, 3943514000L, 0, "r@recip.test", "", "none", "deferred",
     "4.4.3",
     "Host or domain name not found. Name service error for name=recip.test type=MX: Host not found, try "
     "again",
     "3E0B31A0563: to=<r@recip.test>, relay=none, delay=3944, delays=3943/0.01/0.5/0, dsn=4.4.3, "
     "status=deferred (Host or domain name not found. Name service error for name=recip.test type=MX: Host "
     "not "
     "found, try again)"},
    /* orig_to differs; conn_use = reuse_count + 1. */
    {0, 10000, 10000, 20000, 30000, 2, "carol@example.org", "info@example.com", "mx[192.0.2.1]:25", "sent",
     "2.0.0", "250 ok",
     "3E0B31A0563: to=<carol@example.org>, orig_to=<info@example.com>, relay=mx[192.0.2.1]:25, conn_use=3, "
     "delay=0.03, delays=0.01/0/0.01/0.01, dsn=2.0.0, status=sent (250 ok)"},
    /* Same address in another case: no orig_to. Unset active/handoff count as the previous time. */
    {0, -1, -1, -1, 2500000, 0, "Dave@Example.COM", "dave@example.com", "none", "bounced", "5.1.1",
     "User unknown",
     "3E0B31A0563: to=<Dave@Example.COM>, relay=none, delay=2.5, delays=0/0/0/2.5, dsn=5.1.1, status=bounced "
     "(User unknown)"},
    /* The null address; a clock going backwards counts as 0. */
    {0, 20000000, 10000000, -1, 30000000, 0, "", "", "none", "sent", "2.0.0", "discarded",
     "3E0B31A0563: to=<>, relay=none, delay=30, delays=20/0/0/20, dsn=2.0.0, status=sent (discarded)"},
};

static void test_log_line(void **state UNUSED)
{
    msg_output(capture);
    for (size_t i = 0; i < ARRAY_LEN(line_cases); i++) {
        MSG_STATS stats;
        RECIPIENT rcpt = {.offset = 100,
                          .dsn_orcpt = "",
                          .dsn_notify = 0,
                          .orig_addr = line_cases[i].orig,
                          .address = line_cases[i].addr};
        DSN dsn = {.status = line_cases[i].dsn_status, .action = "", .reason = line_cases[i].reason};

        MSG_STATS_INIT(&stats);
        stats.incoming_arrival = at(line_cases[i].in);
        stats.active_arrival = at(line_cases[i].act);
        stats.agent_handoff = at(line_cases[i].hand);
        stats.conn_setup_done = at(line_cases[i].conn);
        stats.deliver_done = at(line_cases[i].done);
        stats.reuse_count = line_cases[i].reuse;
        log_adhoc("3E0B31A0563", &stats, &rcpt, line_cases[i].relay, &dsn, line_cases[i].status);
        assert_non_null(captured);
        assert_string_equal(captured, line_cases[i].line);
    }
    msg_output_reset();
    captured = myfree(captured);
}

/* An unset deliver_done means "now": the delay is the message's age. */
static void test_done_now(void **state UNUSED)
{
    MSG_STATS stats;
    RECIPIENT rcpt = {.offset = 1, .dsn_orcpt = "", .orig_addr = "", .address = "a@b"};
    DSN dsn = {.status = "4.0.0", .action = "", .reason = "later"};

    MSG_STATS_INIT(&stats);
    msg_stats_set_now(&stats.incoming_arrival);
    stats.incoming_arrival.tv_sec -= 100;
    msg_output(capture);
    log_adhoc("ID", &stats, &rcpt, "none", &dsn, "deferred");
    msg_output_reset();
    assert_non_null(captured);
    /* 100 s old: at most a second more by now. */
    assert_true(strncmp(captured, "ID: to=<a@b>, relay=none, delay=100, delays=0/0/0/100, ", 55) == 0 ||
                strncmp(captured, "ID: to=<a@b>, relay=none, delay=101, delays=0/0/0/101, ", 55) == 0);
    captured = myfree(captured);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay_format),
        cmocka_unit_test(test_log_line),
        cmocka_unit_test(test_done_now),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
