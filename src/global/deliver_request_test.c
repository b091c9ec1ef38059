/*
 * deliver_request_test - unit tests for the agent side of the delivery
 * request protocol, over a socketpair against a queue file written with
 * the record API in a scratch queue directory: a request is read with
 * every attribute (the smtpd AUTH login too) and recipient, the queue
 * file is open at the MESG record, recipients are marked done in place (and a bad offset is
 * refused), the answer carries status/hop_status/hop_reason; a missing
 * queue file is answered as finished; malformed requests get no answer.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "attr.h"
#include "deliver_request.h"
#include "mail_params.h"
#include "mail_queue.h"
#include "msg.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

static char test_dir[] = "/tmp/deliver_request_test.XXXXXX";

/* The scratch message: its ID and record offsets. */
static VSTRING *msg_id;
static long data_offset, rcpt_offset[2], sender_offset;

static void quiet(enum msg_level level UNUSED, const char *text UNUSED)
{
}

/* Write a small queue file into active/. */
static void make_queue_file(void)
{
    struct timeval tv;
    VSTREAM *fp;

    msg_id = vstring_alloc(20);
    fp = mail_queue_enter(MAIL_QUEUE_ACTIVE, 0600, &tv, msg_id);
    assert_non_null(fp);
    rec_fprintf(fp, REC_TYPE_SIZE, REC_SIZE_FORMAT, 0LL, 0LL, 0, 0, 0LL);
    rec_fprintf(fp, REC_TYPE_TIME, "%ld %ld", (long)tv.tv_sec, (long)tv.tv_usec);
    sender_offset = (long)vstream_ftell(fp);
    rec_fputs(fp, REC_TYPE_FROM, "sender@example.com");
    rec_fputs(fp, REC_TYPE_ORCP, "Alice@example.com");
    rcpt_offset[0] = (long)vstream_ftell(fp);
    rec_fputs(fp, REC_TYPE_RCPT, "alice@example.com");
    rcpt_offset[1] = (long)vstream_ftell(fp);
    rec_fputs(fp, REC_TYPE_RCPT, "bob@example.net");
    data_offset = (long)vstream_ftell(fp);
    rec_fputs(fp, REC_TYPE_MESG, "");
    rec_fputs(fp, REC_TYPE_NORM, "Subject: test");
    rec_fputs(fp, REC_TYPE_NORM, "");
    rec_fputs(fp, REC_TYPE_NORM, "body");
    rec_fputs(fp, REC_TYPE_XTRA, "");
    rec_fputs(fp, REC_TYPE_END, "");
    assert_int_equal(vstream_fclose(fp), 0);
}

/* The type byte at OFFSET of the scratch message. */
static int type_at(long offset)
{
    VSTREAM *fp = mail_queue_open(MAIL_QUEUE_ACTIVE, vstring_str(msg_id), O_RDONLY, 0);
    int ch;

    assert_non_null(fp);
    assert_true(vstream_fseek(fp, offset, SEEK_SET) == offset);
    ch = vstream_getc(fp);
    vstream_fclose(fp);
    return ch;
}

/* A connected pair: [0] the queue manager, [1] the agent. */
static void pair(VSTREAM **qmgr, VSTREAM **agent)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    *qmgr = vstream_fdopen(sv[0], O_RDWR);
    *agent = vstream_fdopen(sv[1], O_RDWR);
    vstream_set_timeout(*qmgr, 5);
    vstream_set_timeout(*agent, 5);
}

/* Send the message attributes of a request. */
static void send_request(VSTREAM *qmgr, const char *queue, const char *id, long offset, int rcpt_count)
{
    assert_int_equal(
        attr_print(
            qmgr, ATTR_FLAG_NONE, SEND_ATTR_INT(DELIVER_ATTR_FLAGS, DEL_REQ_FLAG_RECORD),
            SEND_ATTR_STR(DELIVER_ATTR_QUEUE_NAME, queue), SEND_ATTR_STR(DELIVER_ATTR_QUEUE_ID, id),
            SEND_ATTR_LONG(DELIVER_ATTR_DATA_OFFSET, offset), SEND_ATTR_LONG(DELIVER_ATTR_DATA_SIZE, 24),
            SEND_ATTR_STR(DELIVER_ATTR_NEXTHOP, "example.com"), SEND_ATTR_STR(DELIVER_ATTR_ENCODING, "7bit"),
            SEND_ATTR_INT(DELIVER_ATTR_SMTPUTF8, 0), SEND_ATTR_STR(DELIVER_ATTR_SENDER, "sender@example.com"),
            SEND_ATTR_STR(DELIVER_ATTR_DSN_ENVID, "env-1"), SEND_ATTR_INT(DELIVER_ATTR_DSN_RET, 2),
            SEND_ATTR_STR(DELIVER_ATTR_CLIENT_NAME, "client.example"),
            SEND_ATTR_STR(DELIVER_ATTR_CLIENT_ADDR, "192.0.2.7"),
            SEND_ATTR_STR(DELIVER_ATTR_CLIENT_PORT, "4711"),
            SEND_ATTR_STR(DELIVER_ATTR_CLIENT_PROTO, "ESMTP"),
            SEND_ATTR_STR(DELIVER_ATTR_CLIENT_HELO, "helo.example"),
            SEND_ATTR_STR(DELIVER_ATTR_RWR_CONTEXT, "remote"),
            SEND_ATTR_STR(DELIVER_ATTR_SASL_METHOD, "PLAIN"),
            SEND_ATTR_STR(DELIVER_ATTR_SASL_USERNAME, "alice@example.com"),
            SEND_ATTR_STR(DELIVER_ATTR_SASL_SENDER, ""),
            SEND_ATTR_LONG(DELIVER_ATTR_TIME_INCOMING, 1763712000123456LL),
            SEND_ATTR_LONG(DELIVER_ATTR_TIME_ACTIVE, 1763712001000000LL),
            SEND_ATTR_LONG(DELIVER_ATTR_TIME_HANDOFF, 1763712001500000LL),
            SEND_ATTR_INT(DELIVER_ATTR_RCPT_COUNT, rcpt_count), ATTR_TYPE_END),
        0);
}

/* Send one recipient message. */
static void send_rcpt(VSTREAM *qmgr, const char *orig, const char *addr, const char *orcpt, int notify,
                      long offset)
{
    assert_int_equal(attr_print(qmgr, ATTR_FLAG_NONE, SEND_ATTR_STR(DELIVER_ATTR_ORCPT, orig),
                                SEND_ATTR_STR(DELIVER_ATTR_RECIP, addr),
                                SEND_ATTR_STR(DELIVER_ATTR_DSN_ORCPT, orcpt),
                                SEND_ATTR_INT(DELIVER_ATTR_DSN_NOTIFY, notify),
                                SEND_ATTR_LONG(DELIVER_ATTR_OFFSET, offset), ATTR_TYPE_END),
                     0);
}

/* Read the agent's answer. */
static void read_answer(VSTREAM *qmgr, int want_status, const char *want_hop_status,
                        const char *want_hop_reason)
{
    VSTRING *hop_status = vstring_alloc(10);
    VSTRING *hop_reason = vstring_alloc(10);
    int status = -1;

    assert_int_equal(attr_scan(qmgr, ATTR_FLAG_STRICT, RECV_ATTR_INT(DELIVER_ATTR_STATUS, &status),
                               RECV_ATTR_STR(DELIVER_ATTR_HOP_STATUS, hop_status),
                               RECV_ATTR_STR(DELIVER_ATTR_HOP_REASON, hop_reason), ATTR_TYPE_END),
                     3);
    assert_int_equal(status, want_status);
    assert_string_equal(vstring_str(hop_status), want_hop_status);
    assert_string_equal(vstring_str(hop_reason), want_hop_reason);
    vstring_free(hop_status);
    vstring_free(hop_reason);
}

static void test_round_trip(void **state UNUSED)
{
    VSTREAM *qmgr, *agent;
    DELIVER_REQUEST *request;
    VSTRING *rec = vstring_alloc(10);

    pair(&qmgr, &agent);
    send_request(qmgr, MAIL_QUEUE_ACTIVE, vstring_str(msg_id), data_offset, 2);
    send_rcpt(qmgr, "Alice@example.com", "alice@example.com", "rfc822;Alice@example.com", 6, rcpt_offset[0]);
    send_rcpt(qmgr, "", "bob@example.net", "", 0, rcpt_offset[1]);

    request = deliver_request_read(agent);
    assert_non_null(request);
    assert_int_equal(request->flags, DEL_REQ_FLAG_RECORD);
    assert_string_equal(request->queue_name, "active");
    assert_string_equal(request->queue_id, vstring_str(msg_id));
    assert_int_equal(request->data_offset, data_offset);
    assert_int_equal(request->data_size, 24);
    assert_string_equal(request->nexthop, "example.com");
    assert_string_equal(request->encoding, "7bit");
    assert_string_equal(request->sender, "sender@example.com");
    assert_string_equal(request->dsn_envid, "env-1");
    assert_int_equal(request->dsn_ret, 2);
    assert_string_equal(request->client_name, "client.example");
    assert_string_equal(request->client_addr, "192.0.2.7");
    assert_string_equal(request->client_port, "4711");
    assert_string_equal(request->client_proto, "ESMTP");
    assert_string_equal(request->client_helo, "helo.example");
    assert_string_equal(request->rewrite_context, "remote");
    assert_string_equal(request->sasl_method, "PLAIN");
    assert_string_equal(request->sasl_username, "alice@example.com");
    assert_string_equal(request->sasl_sender, "");
    assert_int_equal(request->msg_stats.incoming_arrival.tv_sec, 1763712000);
    assert_int_equal(request->msg_stats.incoming_arrival.tv_usec, 123456);
    assert_int_equal(request->msg_stats.active_arrival.tv_sec, 1763712001);
    assert_int_equal(request->msg_stats.agent_handoff.tv_usec, 500000);
    assert_int_equal(request->msg_stats.conn_setup_done.tv_sec, 0);
    assert_int_equal(request->rcpt_list.len, 2);
    assert_string_equal(request->rcpt_list.info[0].orig_addr, "Alice@example.com");
    assert_string_equal(request->rcpt_list.info[0].address, "alice@example.com");
    assert_string_equal(request->rcpt_list.info[0].dsn_orcpt, "rfc822;Alice@example.com");
    assert_int_equal(request->rcpt_list.info[0].dsn_notify, 6);
    assert_int_equal(request->rcpt_list.info[0].offset, rcpt_offset[0]);
    assert_string_equal(request->rcpt_list.info[1].orig_addr, "");
    assert_int_equal(request->rcpt_list.info[1].offset, rcpt_offset[1]);

    /* The file is open at the MESG record. */
    assert_int_equal(rec_get(request->fp, rec, 0), REC_TYPE_MESG);
    assert_int_equal(rec_get(request->fp, rec, 0), REC_TYPE_NORM);
    assert_string_equal(vstring_str(rec), "Subject: test");

    /* Mark the first recipient done; marking again is harmless; other records are refused. */
    assert_int_equal(deliver_completed(request->fp, rcpt_offset[0]), 0);
    assert_int_equal(deliver_completed(request->fp, rcpt_offset[0]), 0);
    assert_int_equal(deliver_completed(request->fp, sender_offset), -1);
    assert_int_equal(deliver_completed(request->fp, data_offset), -1);
    assert_int_equal(deliver_completed(request->fp, 1000000), -1);
    /* The read position is kept. */
    assert_int_equal(rec_get(request->fp, rec, 0), REC_TYPE_NORM);
    assert_string_equal(vstring_str(rec), "");
    assert_int_equal(type_at(rcpt_offset[0]), REC_TYPE_DONE);
    assert_int_equal(type_at(rcpt_offset[1]), REC_TYPE_RCPT);
    assert_int_equal(type_at(sender_offset), REC_TYPE_FROM);

    dsb_simple(request->hop_status, "4.4.1", "connect to %s: Connection refused", "mx.example.com");
    assert_int_equal(deliver_request_done(agent, request, DEL_STAT_DEFER), 0);
    read_answer(qmgr, DEL_STAT_DEFER, "4.4.1", "connect to mx.example.com: Connection refused");
    vstream_fclose(qmgr);
    vstream_fclose(agent);
    vstring_free(rec);
}

static void test_plain_answer(void **state UNUSED)
{
    VSTREAM *qmgr, *agent;
    DELIVER_REQUEST *request;

    pair(&qmgr, &agent);
    send_request(qmgr, MAIL_QUEUE_ACTIVE, vstring_str(msg_id), data_offset, 1);
    send_rcpt(qmgr, "", "bob@example.net", "", 0, rcpt_offset[1]);
    assert_non_null(request = deliver_request_read(agent));
    assert_int_equal(deliver_request_done(agent, request, DEL_STAT_FINAL), 0);
    read_answer(qmgr, DEL_STAT_FINAL, "", "");
    vstream_fclose(qmgr);
    vstream_fclose(agent);
}

/* A queue file deleted meanwhile is answered "finished" by deliver_request_read(). */
static void test_missing_file(void **state UNUSED)
{
    VSTREAM *qmgr, *agent;

    pair(&qmgr, &agent);
    send_request(qmgr, MAIL_QUEUE_ACTIVE, "ABCDE12345", data_offset, 1);
    send_rcpt(qmgr, "", "bob@example.net", "", 0, rcpt_offset[1]);
    assert_null(deliver_request_read(agent));
    read_answer(qmgr, DEL_STAT_FINAL, "", "");
    vstream_fclose(qmgr);
    vstream_fclose(agent);
}

/* Malformed requests: NULL and no answer (the queue manager sees EOF). */
static void test_bad_requests(void **state UNUSED)
{
    static const struct {
        const char *queue, *id;
        long offset;
        int count, send_rcpts;
        long rcpt_offset;
    } cases[] = {
        {"active", "../../etc", 100, 1, 1, 100},     /* bad queue ID */
        {"../active", "ABCDE12345", 100, 1, 1, 100}, /* bad queue name */
        {"active", "ABCDE12345", 100, 0, 0, 100},    /* no recipients */
        {"active", "ABCDE12345", 100, DELIVER_RCPT_MAX + 1, 0, 100},
        {"active", "ABCDE12345", 0, 1, 1, 100},   /* no data offset */
        {"active", "ABCDE12345", 100, 2, 1, 100}, /* one recipient missing */
        {"active", "ABCDE12345", 100, 1, 1, 0},   /* recipient without offset */
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        VSTREAM *qmgr, *agent;
        int status;

        pair(&qmgr, &agent);
        send_request(qmgr, cases[i].queue, cases[i].id, cases[i].offset, cases[i].count);
        for (int r = 0; r < cases[i].send_rcpts; r++)
            send_rcpt(qmgr, "", "bob@example.net", "", 0, cases[i].rcpt_offset);
        shutdown(vstream_fileno(qmgr), SHUT_WR);
        assert_null(deliver_request_read(agent));
        vstream_fclose(agent);
        assert_int_equal(
            attr_scan(qmgr, ATTR_FLAG_NONE, RECV_ATTR_INT(DELIVER_ATTR_STATUS, &status), ATTR_TYPE_END), -1);
        vstream_fclose(qmgr);
    }

    /* A message with a missing attribute. */
    {
        VSTREAM *qmgr, *agent;

        pair(&qmgr, &agent);
        attr_print(qmgr, ATTR_FLAG_NONE, SEND_ATTR_INT(DELIVER_ATTR_FLAGS, 0), ATTR_TYPE_END);
        assert_null(deliver_request_read(agent));
        vstream_fclose(qmgr);
        vstream_fclose(agent);
    }
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
        if (mkdir(vstring_str(sub), qd->mode) < 0)
            return -1;
    }
    vstring_free(sub);
    msg_output(quiet);
    make_queue_file();
    return 0;
}

static int test_teardown(void **state UNUSED)
{
    VSTRING *cmd = vstring_alloc(100);
    int rc;

    vstring_sprintf(cmd, "rm -rf '%s'", test_dir);
    rc = system(vstring_str(cmd));
    vstring_free(cmd);
    vstring_free(msg_id);
    msg_output_reset();
    return rc == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_plain_answer),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_bad_requests),
    };

    umask(077);
    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
