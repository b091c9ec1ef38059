/*
 * cleanup_final_test - unit tests for the frame's connection and commit
 * side, on a temporary queue directory with real sockets: the queue ID
 * reply, records decoded from input split at every byte position, the
 * group commit (files become 0700 in one event-loop round, one qmgr wakeup
 * per batch), hold, discard, rejection, a client that leaves before END,
 * malformed and over-long records, the inactivity timeout.
 *
 * The stages are replaced by test_stage(), a tiny stage that writes each
 * record, keeps the offsets a real stage keeps, and reacts to the content
 * lines "reject", "hold" and "discard".
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "cleanup.h"
#include "cleanup_frame.h"
#include "cleanup_user.h"
#include "events.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
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

static char top[] = "/tmp/cleanup_final_testXXXXXX";
static char old_cwd[4096];
static int qmgr_fd = -1; /* listening socket at public/qmgr, counts wakeups */
static int disconnects;  /* clients the frame let go */

/* The frame's disconnect hook: what the server skeleton would do. */
static void test_disconnect(VSTREAM *client)
{
    event_disable_readwrite(vstream_fileno(client));
    (void)vstream_fclose(client);
    disconnects++;
}

static int setup(void **unused UNUSED)
{
    VSTRING *buf = vstring_alloc(100);
    FILE *fp;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};

    assert_non_null(mkdtemp(top));
    assert_non_null(getcwd(old_cwd, sizeof(old_cwd)));
    static const char *const dirs[] = {"etc", "queue", "queue/incoming", "queue/hold", "queue/public"};

    for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
        assert_int_equal(mkdir(vstring_str(vstring_sprintf(buf, "%s/%s", top, dirs[i])), 0700), 0);
    fp = fopen(vstring_str(vstring_sprintf(buf, "%s/etc/main.cf", top)), "w");
    assert_non_null(fp);
    fprintf(fp, "queue_directory = %s/queue\nmyhostname = mail.example.com\n", top);
    fclose(fp);
    mail_conf_read_dir(vstring_str(vstring_sprintf(buf, "%s/etc", top)));
    mail_params_init();
    assert_int_equal(chdir(var_queue_directory), 0);

    /* A stand-in queue manager that never answers: wakeups pile up in its backlog. */
    qmgr_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/queue/public/qmgr", top);
    assert_int_equal(bind(qmgr_fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    assert_int_equal(listen(qmgr_fd, 64), 0);

    cleanup_disconnect = test_disconnect;
    logged = vstring_alloc(100);
    msg_output_reset();
    msg_output(capture);
    vstring_free(buf);
    return 0;
}

static int teardown(void **unused UNUSED)
{
    VSTRING *cmd = vstring_alloc(100);

    close(qmgr_fd);
    assert_int_equal(chdir(old_cwd), 0);
    assert_int_equal(system(vstring_str(vstring_sprintf(cmd, "rm -rf '%s'", top))), 0);
    vstring_free(cmd);
    vstring_free(logged);
    return 0;
}

/* Wakeups the queue manager received since the last call; each must be "I". */
static int qmgr_wakeups(void)
{
    int count = 0;
    int fd;

    while ((fd = accept(qmgr_fd, NULL, NULL)) >= 0) {
        char buf[16];
        ssize_t n = read(fd, buf, sizeof(buf));

        assert_int_equal(n, 1);
        assert_int_equal(buf[0], 'I');
        close(fd);
        count++;
    }
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    return count;
}

/* --- the stand-in stage ---------------------------------------------- */

/* What the stage saw: "T:data|" per record. */
static VSTRING *seen;

static void test_stage(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    assert_int_equal(data[len], 0); /* the frame terminates record data */
    vstring_sprintf_append(seen, "%c:", type);
    vstring_memcat(seen, data, len);
    vstring_strcat(seen, "|");
    switch (type) {
    case REC_TYPE_FLGS:
        state->flags = atoi(data);
        return;
    case REC_TYPE_RCPT:
        state->rcpt_count++;
        break;
    case REC_TYPE_MESG:
        state->data_offset = vstream_ftell(state->dst);
        break;
    case REC_TYPE_XTRA:
        state->xtra_offset = vstream_ftell(state->dst);
        break;
    case REC_TYPE_NORM:
        state->cont_length += (long long)len + 1;
        if (strcmp(data, "reject") == 0)
            cleanup_set_error(state, CLEANUP_STAT_CONT, "5.7.1 rejected by test");
        if (strcmp(data, "hold") == 0)
            state->hold_reason = mystrdup("test");
        if (strcmp(data, "discard") == 0)
            state->discard = true;
        break;
    }
    cleanup_out(state, type, data, len);
    if (type == REC_TYPE_END)
        state->done = true;
}

/* A stage that forgets to finish. */
static void lazy_stage(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    cleanup_out(state, type, data, len);
}

/* --- the client side --------------------------------------------------- */

/* Append one record in the wire format: type, base-128 length, data. */
static void put_record(VSTRING *buf, int type, const char *data, size_t len)
{
    size_t n = len;

    vstring_addch(buf, type);
    do {
        int ch = (int)(n & 0x7f);

        n >>= 7;
        vstring_addch(buf, n ? ch | 0x80 : ch);
    } while (n);
    vstring_memcat(buf, data, len);
}

/* A complete message: FLGS, sender, recipients, content lines, END. */
static VSTRING *message(int flags, const char *const *lines)
{
    VSTRING *buf = vstring_alloc(200);
    char num[16];

    snprintf(num, sizeof(num), "%d", flags);
    put_record(buf, REC_TYPE_FLGS, num, strlen(num));
    put_record(buf, REC_TYPE_FROM, "sender@example.com", 18);
    put_record(buf, REC_TYPE_RCPT, "one@example.com", 15);
    put_record(buf, REC_TYPE_RCPT, "two@example.com", 15);
    put_record(buf, REC_TYPE_MESG, "", 0);
    for (; *lines; lines++)
        put_record(buf, REC_TYPE_NORM, *lines, strlen(*lines));
    put_record(buf, REC_TYPE_XTRA, "", 0);
    put_record(buf, REC_TYPE_END, "", 0);
    return buf;
}

/* What test_stage records for message(flags, lines). */
static const char *expected_seen(VSTRING *buf, int flags, const char *const *lines)
{
    vstring_sprintf(buf, "f:%d|S:sender@example.com|R:one@example.com|R:two@example.com|M:|", flags);
    for (; *lines; lines++)
        vstring_sprintf_append(buf, "N:%s|", *lines);
    vstring_strcat(buf, "X:|E:|");
    return vstring_str(buf);
}

typedef struct CLIENT {
    int fd;               /* the client's end */
    CLEANUP_STATE *state; /* the frame's state (until the frame lets go) */
    char qid[64];
} CLIENT;

/* Read one attribute message "name\0value\0...\0" into "name=value " text. */
static void read_attrs(int fd, VSTRING *out)
{
    bool in_value = false;
    size_t field_len = 0;

    vstring_reset(out);
    for (;;) {
        char ch;

        assert_int_equal(read(fd, &ch, 1), 1);
        if (ch != 0) {
            vstring_addch(out, ch);
            field_len++;
            continue;
        }
        if (!in_value && field_len == 0)
            return; /* the end marker */
        vstring_addch(out, in_value ? ' ' : '=');
        in_value = !in_value;
        field_len = 0;
    }
}

/* Connect a client to the frame: queue file created, queue ID received. */
static void client_open(CLIENT *c, CLEANUP_ACTION action, bool watch)
{
    int sv[2];
    VSTRING *attrs = vstring_alloc(100);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    c->fd = sv[1];
    c->state = cleanup_open(vstream_fdopen(sv[0], O_RDWR));
    assert_non_null(c->state);
    c->state->action = action;
    if (watch)
        cleanup_input_start(c->state);
    read_attrs(c->fd, attrs);
    assert_int_equal(sscanf(vstring_str(attrs), "queue_id=%63s ", c->qid), 1);
    assert_string_equal(c->state->queue_id, c->qid);
    assert_int_equal(VSTRING_LEN(attrs), strlen("queue_id=") + strlen(c->qid) + 1);
    vstring_free(attrs);
}

/* The reply after the message, as "status=N reason=TEXT ", then end of file. */
static const char *client_reply(CLIENT *c, VSTRING *buf)
{
    char ch;

    read_attrs(c->fd, buf);
    assert_int_equal(read(c->fd, &ch, 1), 0);
    close(c->fd);
    return vstring_str(buf);
}

/* Run event-loop rounds until N clients were let go (at most 5 seconds). */
static void run_until_disconnects(int n)
{
    for (int i = 0; i < 100 && disconnects < n; i++)
        event_loop(50);
    assert_int_equal(disconnects, n);
}

/* Mode bits of queue/QUEUE/ID, or -1 when the file does not exist. */
static int file_mode(const char *queue, const char *id)
{
    char name[256];
    struct stat st;

    snprintf(name, sizeof(name), "%s/%s", queue, id);
    return stat(name, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* The file's SIZE record must describe the file. */
static void check_size_record(const char *queue, const char *id, int rcpts)
{
    char name[256];
    VSTRING *raw = vstring_alloc(1000);
    FILE *fp;
    int ch;
    size_t pos = 0;
    long long mesg = -1, xtra = -1, content = 0;
    char size_data[REC_SIZE_LEN + 1] = "";
    char want[REC_SIZE_LEN + 1];

    snprintf(name, sizeof(name), "%s/%s", queue, id);
    fp = fopen(name, "rb");
    assert_non_null(fp);
    while ((ch = getc(fp)) != EOF)
        vstring_addch(raw, ch);
    fclose(fp);
    while (pos < VSTRING_LEN(raw)) {
        int type;
        const char *data;
        size_t len;
        ssize_t n = rec_decode(vstring_str(raw) + pos, VSTRING_LEN(raw) - pos, &type, &data, &len);

        assert_true(n > 0);
        if (pos == 0) {
            assert_int_equal(type, REC_TYPE_SIZE);
            assert_int_equal(len, REC_SIZE_LEN);
            memcpy(size_data, data, len);
        }
        if (type == REC_TYPE_MESG)
            mesg = (long long)pos;
        if (type == REC_TYPE_XTRA)
            xtra = (long long)pos;
        if (type == REC_TYPE_NORM)
            content += (long long)len + 1;
        pos += (size_t)n;
    }
    snprintf(want, sizeof(want), REC_SIZE_FORMAT, content, mesg, rcpts, 0, xtra);
    assert_string_equal(size_data, want);
    vstring_free(raw);
}

static void reset(void)
{
    disconnects = 0;
    vstring_reset(logged);
    if (seen == NULL)
        seen = vstring_alloc(100);
    vstring_reset(seen);
    (void)qmgr_wakeups();
}

/* --- tests ------------------------------------------------------------- */

/* One message: status=0 after the commit, the file complete (0700) in incoming, one wakeup. */
static void test_single_message(void **unused UNUSED)
{
    static const char *const lines[] = {"Subject: one", "", "body", NULL};
    VSTRING *msg = message(0, lines);
    VSTRING *buf = vstring_alloc(100);
    CLIENT c;

    reset();
    client_open(&c, test_stage, true);
    assert_int_equal(file_mode("incoming", c.qid), 0600);
    assert_int_equal(write(c.fd, vstring_str(msg), VSTRING_LEN(msg)), (ssize_t)VSTRING_LEN(msg));
    run_until_disconnects(1);
    assert_string_equal(client_reply(&c, buf), "status=0 reason= ");
    assert_int_equal(file_mode("incoming", c.qid), 0700);
    check_size_record("incoming", c.qid, 2);
    assert_string_equal(vstring_str(seen), expected_seen(buf, 0, lines));
    assert_int_equal(qmgr_wakeups(), 1);
    assert_string_equal(vstring_str(logged), "");
    vstring_free(msg);
    vstring_free(buf);
}

/* Messages that complete in the same round share one commit and one wakeup. */
static void test_group_commit(void **unused UNUSED)
{
    static const char *const lines[] = {"Subject: batch", "", "body", NULL};
    VSTRING *msg = message(0, lines);
    VSTRING *buf = vstring_alloc(100);
    CLIENT c[4];

    reset();
    for (size_t i = 0; i < ARRAY_LEN(c); i++)
        client_open(&c[i], test_stage, true);
    for (size_t i = 0; i < ARRAY_LEN(c); i++)
        assert_int_equal(write(c[i].fd, vstring_str(msg), VSTRING_LEN(msg)), (ssize_t)VSTRING_LEN(msg));
    /* One round reads all four and commits them together at its end. */
    event_loop(1000);
    assert_int_equal(disconnects, (int)ARRAY_LEN(c));
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        assert_string_equal(client_reply(&c[i], buf), "status=0 reason= ");
        assert_int_equal(file_mode("incoming", c[i].qid), 0700);
        check_size_record("incoming", c[i].qid, 2);
    }
    assert_int_equal(qmgr_wakeups(), 1);
    vstring_free(msg);
    vstring_free(buf);
}

/* HOLD (client flag or stage action): the complete file is in hold/, never in incoming/; no wakeup. */
static void test_hold(void **unused UNUSED)
{
    static const char *const plain[] = {"Subject: held", "", "body", NULL};
    static const char *const action[] = {"Subject: held", "hold", "", "body", NULL};
    static const struct {
        int flags;
        const char *const *lines;
    } cases[] = {{CLEANUP_FLAG_HOLD, plain}, {0, action}};
    VSTRING *buf = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        VSTRING *msg = message(cases[i].flags, cases[i].lines);
        CLIENT c;

        reset();
        client_open(&c, test_stage, true);
        assert_int_equal(write(c.fd, vstring_str(msg), VSTRING_LEN(msg)), (ssize_t)VSTRING_LEN(msg));
        run_until_disconnects(1);
        assert_string_equal(client_reply(&c, buf), "status=0 reason= ");
        assert_int_equal(file_mode("incoming", c.qid), -1);
        assert_int_equal(file_mode("hold", c.qid), 0700);
        check_size_record("hold", c.qid, 2);
        assert_int_equal(qmgr_wakeups(), 0);
        vstring_free(msg);
    }
    vstring_free(buf);
}

/* DISCARD (flag or action): the client hears success, nothing stays queued. */
static void test_discard(void **unused UNUSED)
{
    static const char *const plain[] = {"Subject: gone", "", "body", NULL};
    static const char *const action[] = {"Subject: gone", "discard", "", "body", NULL};
    static const struct {
        int flags;
        const char *const *lines;
    } cases[] = {{CLEANUP_FLAG_DISCARD, plain}, {0, action}};
    VSTRING *buf = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        VSTRING *msg = message(cases[i].flags, cases[i].lines);
        CLIENT c;

        reset();
        client_open(&c, test_stage, true);
        assert_int_equal(write(c.fd, vstring_str(msg), VSTRING_LEN(msg)), (ssize_t)VSTRING_LEN(msg));
        run_until_disconnects(1);
        assert_string_equal(client_reply(&c, buf), "status=0 reason= ");
        assert_int_equal(file_mode("incoming", c.qid), -1);
        assert_int_equal(file_mode("hold", c.qid), -1);
        assert_int_equal(qmgr_wakeups(), 0);
        vstring_free(msg);
    }
    vstring_free(buf);
}

/* A stage error: the client gets the status bits and the stage's text; the file is gone. */
static void test_reject(void **unused UNUSED)
{
    static const char *const lines[] = {"Subject: bad", "reject", "after", NULL};
    VSTRING *msg = message(0, lines);
    VSTRING *buf = vstring_alloc(100);
    CLIENT c;

    reset();
    client_open(&c, test_stage, true);
    assert_int_equal(write(c.fd, vstring_str(msg), VSTRING_LEN(msg)), (ssize_t)VSTRING_LEN(msg));
    run_until_disconnects(1);

    VSTRING *want = vstring_alloc(100);

    vstring_sprintf(want, "status=%d reason=5.7.1 rejected by test ", CLEANUP_STAT_CONT);
    assert_string_equal(client_reply(&c, buf), vstring_str(want));
    assert_int_equal(file_mode("incoming", c.qid), -1);
    /* Records after the error never reach the stage. */
    assert_string_equal(vstring_str(seen), "f:0|S:sender@example.com|R:one@example.com|R:two@example.com|M:|"
                                           "N:Subject: bad|N:reject|");
    assert_int_equal(qmgr_wakeups(), 0);
    vstring_free(want);
    vstring_free(msg);
    vstring_free(buf);
}

/* The generic "DSN TEXT" of an error without a reason. */
static const char *generic_reason(VSTRING *buf, unsigned status)
{
    const CLEANUP_STAT_DETAIL *detail = cleanup_stat_detail(status);

    return vstring_str(vstring_sprintf(buf, "status=%u reason=%s %s ", status, detail->dsn, detail->text));
}

/* A client that goes away before END leaves nothing behind. */
static void test_disconnect_before_end(void **unused UNUSED)
{
    static const char *const lines[] = {"Subject: cut", "", "body", NULL};
    VSTRING *msg = message(0, lines);
    VSTRING *want = vstring_alloc(100);
    CLIENT c;

    reset();
    client_open(&c, test_stage, true);
    assert_int_equal(write(c.fd, vstring_str(msg), VSTRING_LEN(msg) - 3), (ssize_t)VSTRING_LEN(msg) - 3);
    close(c.fd);
    run_until_disconnects(1);
    assert_int_equal(file_mode("incoming", c.qid), -1);
    vstring_sprintf(want, "warning: %s: unexpected end of input from ", c.qid);
    assert_memory_equal(vstring_str(logged), vstring_str(want), VSTRING_LEN(want));
    assert_non_null(strstr(vstring_str(logged), " -- queue file removed\n"));
    assert_int_equal(qmgr_wakeups(), 0);
    vstring_free(want);
    vstring_free(msg);
}

/* Bytes that cannot be a record: BAD, generic reason, file removed, warning. */
static void test_malformed_record(void **unused UNUSED)
{
    static const char junk[] = {REC_TYPE_FROM, (char)0x80, (char)0x80, (char)0x80, (char)0x80,
                                (char)0x80,    (char)0x80, (char)0x80, 'x'};
    VSTRING *buf = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    CLIENT c;

    reset();
    client_open(&c, test_stage, true);
    assert_int_equal(write(c.fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    run_until_disconnects(1);
    assert_string_equal(client_reply(&c, buf), generic_reason(want, CLEANUP_STAT_BAD));
    assert_int_equal(file_mode("incoming", c.qid), -1);
    vstring_sprintf(want, "warning: %s: malformed record from ", c.qid);
    assert_memory_equal(vstring_str(logged), vstring_str(want), VSTRING_LEN(want));
    assert_string_equal(vstring_str(seen), "");
    vstring_free(want);
    vstring_free(buf);
}

/* A record at the limit passes; one over it is refused before it is buffered whole. */
static void test_record_limit(void **unused UNUSED)
{
    size_t limit = cleanup_rec_limit();
    char *data = mymalloc(2 * limit);
    VSTRING *in = vstring_alloc(2 * limit + 20);
    VSTRING *buf = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    CLIENT c;

    assert_true(limit >= 2 * (size_t)var_line_length_limit);
    assert_true(limit >= 1024 * 1024);
    memset(data, 'x', 2 * limit);

    /* At the limit: accepted. */
    reset();
    client_open(&c, test_stage, false);
    put_record(in, REC_TYPE_FLGS, "0", 1);
    put_record(in, REC_TYPE_MESG, "", 0);
    put_record(in, REC_TYPE_NORM, data, limit);
    put_record(in, REC_TYPE_XTRA, "", 0);
    put_record(in, REC_TYPE_END, "", 0);
    cleanup_input(c.state, vstring_str(in), VSTRING_LEN(in));
    cleanup_final_commit();
    assert_string_equal(client_reply(&c, buf), "status=0 reason= ");
    assert_int_equal(file_mode("incoming", c.qid), 0700);
    assert_int_equal(unlink(vstring_sprintf(buf, "incoming/%s", c.qid)->data), 0);

    /* Over the limit, announced as 2 * limit, refused after limit + a little. */
    reset();
    client_open(&c, test_stage, false);
    vstring_reset(in);
    put_record(in, REC_TYPE_NORM, data, 2 * limit);
    cleanup_input(c.state, vstring_str(in), limit + 100);
    assert_int_equal(disconnects, 1);
    assert_string_equal(client_reply(&c, buf), generic_reason(want, CLEANUP_STAT_BAD));
    assert_int_equal(file_mode("incoming", c.qid), -1);
    vstring_sprintf(want, "warning: %s: record of more than ", c.qid);
    assert_memory_equal(vstring_str(logged), vstring_str(want), VSTRING_LEN(want));
    myfree(data);
    vstring_free(in);
    vstring_free(buf);
    vstring_free(want);
}

/* Input split at every byte position (and one byte at a time) yields the same records. */
static void test_split_input(void **unused UNUSED)
{
    static const char *const lines[] = {"Subject: split", "", "a body line", "", NULL};
    VSTRING *msg = message(0, lines);
    VSTRING *buf = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    size_t len = VSTRING_LEN(msg);

    expected_seen(want, 0, lines);
    for (size_t k = 0; k <= len + 1; k++) {
        CLIENT c;

        reset();
        client_open(&c, test_stage, false);
        if (k <= len) {
            cleanup_input(c.state, vstring_str(msg), k);
            if (k < len) {
                assert_int_equal(disconnects, 0);
                cleanup_input(c.state, vstring_str(msg) + k, len - k);
            }
        } else {
            for (size_t i = 0; i < len; i++)
                cleanup_input(c.state, vstring_str(msg) + i, 1);
        }
        cleanup_final_commit();
        assert_int_equal(disconnects, 1);
        assert_string_equal(client_reply(&c, buf), "status=0 reason= ");
        assert_string_equal(vstring_str(seen), vstring_str(want));
        check_size_record("incoming", c.qid, 2);
        assert_int_equal(unlink(vstring_sprintf(buf, "incoming/%s", c.qid)->data), 0);
    }
    vstring_free(msg);
    vstring_free(buf);
    vstring_free(want);
}

/* A stage that does not finish on END is a protocol error, not a hang. */
static void test_end_without_done(void **unused UNUSED)
{
    static const char *const lines[] = {"Subject: x", NULL};
    VSTRING *msg = message(0, lines);
    VSTRING *buf = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    CLIENT c;

    reset();
    client_open(&c, lazy_stage, false);
    cleanup_input(c.state, vstring_str(msg), VSTRING_LEN(msg));
    assert_int_equal(disconnects, 1);
    assert_string_equal(client_reply(&c, buf), generic_reason(want, CLEANUP_STAT_BAD));
    assert_int_equal(file_mode("incoming", c.qid), -1);
    vstring_sprintf(want, "warning: %s: unexpected END record from ", c.qid);
    assert_memory_equal(vstring_str(logged), vstring_str(want), VSTRING_LEN(want));
    vstring_free(msg);
    vstring_free(buf);
    vstring_free(want);
}

/* A silent client is dropped after $ipc_timeout with BAD; its file is removed. */
static void test_timeout(void **unused UNUSED)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    int saved = var_ipc_timeout;
    CLIENT c;

    reset();
    var_ipc_timeout = 1;
    client_open(&c, test_stage, true);
    assert_int_equal(write(c.fd, "f\0011", 3), 3);
    run_until_disconnects(1);
    var_ipc_timeout = saved;
    assert_string_equal(client_reply(&c, buf), generic_reason(want, CLEANUP_STAT_BAD));
    assert_int_equal(file_mode("incoming", c.qid), -1);
    vstring_sprintf(want, "warning: %s: read timeout on ", c.qid);
    assert_memory_equal(vstring_str(logged), vstring_str(want), VSTRING_LEN(want));
    assert_string_equal(vstring_str(seen), "f:1|");
    vstring_free(buf);
    vstring_free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_message),
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_hold),
        cmocka_unit_test(test_discard),
        cmocka_unit_test(test_reject),
        cmocka_unit_test(test_disconnect_before_end),
        cmocka_unit_test(test_malformed_record),
        cmocka_unit_test(test_record_limit),
        cmocka_unit_test(test_split_input),
        cmocka_unit_test(test_end_without_done),
        cmocka_unit_test(test_timeout),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
