/*
 * deliver_request - the delivery agent's side of the queue manager's
 * delivery request protocol. See deliver_request.h. Public functions:
 * deliver_request_read(), deliver_request_done(), deliver_completed().
 *
 * Errors: a malformed request, or a queue file that cannot be opened or
 * positioned, is logged with msg_warn() and deliver_request_read()
 * returns NULL (the queue manager then sees a lost connection and
 * defers). A missing queue file is answered as finished. Nothing here is
 * fatal.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "attr.h"
#include "deliver_request.h"
#include "mail_queue.h"
#include "msg.h"
#include "myflock.h"
#include "mymalloc.h"
#include "record.h"
#include "vstring.h"

/* Microseconds since the epoch into a timeval (negative: unset). */
static void deliver_request_time(struct timeval *tv, long long usec)
{
    if (usec <= 0) {
        tv->tv_sec = 0;
        tv->tv_usec = 0;
    } else {
        tv->tv_sec = (time_t)(usec / 1000000);
        tv->tv_usec = (suseconds_t)(usec % 1000000);
    }
}

/* True for a queue name made of letters only ("active", "incoming"). */
static int deliver_request_queue_ok(const char *name)
{
    if (*name == 0)
        return 0;
    for (const char *cp = name; *cp; cp++)
        if (!islower((unsigned char)*cp))
            return 0;
    return 1;
}

/* Send the answer message. */
static int deliver_request_answer(VSTREAM *stream, int status, const char *hop_status, const char *hop_reason)
{
    if (attr_print(stream, ATTR_FLAG_NONE, SEND_ATTR_INT(DELIVER_ATTR_STATUS, status),
                   SEND_ATTR_STR(DELIVER_ATTR_HOP_STATUS, hop_status),
                   SEND_ATTR_STR(DELIVER_ATTR_HOP_REASON, hop_reason), ATTR_TYPE_END) != 0 ||
        vstream_fflush(stream) != 0) {
        msg_warn("%s: cannot send delivery status: %m",
                 vstream_path(stream) ? vstream_path(stream) : "client");
        return -1;
    }
    return 0;
}

/* Free a request and everything it owns, closing the queue file. */
static void deliver_request_free(DELIVER_REQUEST *request)
{
    if (request->fp)
        (void)vstream_fclose(request->fp);
    myfree(request->queue_name);
    myfree(request->queue_id);
    myfree(request->nexthop);
    myfree(request->encoding);
    myfree(request->sender);
    myfree(request->dsn_envid);
    myfree(request->client_name);
    myfree(request->client_addr);
    myfree(request->client_port);
    myfree(request->client_proto);
    myfree(request->client_helo);
    myfree(request->rewrite_context);
    myfree(request->sasl_method);
    myfree(request->sasl_username);
    myfree(request->sasl_sender);
    recipient_list_free(&request->rcpt_list);
    dsb_free(request->hop_status);
    myfree(request);
}

/* Read the N recipient messages of a request into LIST; 0 or -1. */
static int deliver_request_rcpts(VSTREAM *stream, RECIPIENT_LIST *list, int count)
{
    VSTRING *orig = vstring_alloc(100);
    VSTRING *addr = vstring_alloc(100);
    VSTRING *orcpt = vstring_alloc(100);
    int notify;
    long long offset;
    int ret = 0;

    for (int i = 0; i < count; i++) {
        if (attr_scan(stream, ATTR_FLAG_MISSING, RECV_ATTR_STR(DELIVER_ATTR_ORCPT, orig),
                      RECV_ATTR_STR(DELIVER_ATTR_RECIP, addr), RECV_ATTR_STR(DELIVER_ATTR_DSN_ORCPT, orcpt),
                      RECV_ATTR_INT(DELIVER_ATTR_DSN_NOTIFY, &notify),
                      RECV_ATTR_LONG(DELIVER_ATTR_OFFSET, &offset), ATTR_TYPE_END) != 5) {
            msg_warn("%s: error receiving recipient %d of %d", vstream_path(stream), i + 1, count);
            ret = -1;
            break;
        }
        if (offset <= 0 || notify < 0) {
            msg_warn("%s: bad offset %lld or notify %d for recipient <%s>", vstream_path(stream), offset,
                     notify, vstring_str(addr));
            ret = -1;
            break;
        }
        recipient_list_add(list, (long)offset, vstring_str(orcpt), notify, vstring_str(orig),
                           vstring_str(addr));
    }
    vstring_free(orig);
    vstring_free(addr);
    vstring_free(orcpt);
    return ret;
}

/* Read one delivery request and open its queue file; NULL: see header. */
DELIVER_REQUEST *deliver_request_read(VSTREAM *stream)
{
    enum {
        S_QNAME,
        S_QID,
        S_NEXTHOP,
        S_ENC,
        S_SENDER,
        S_ENVID,
        S_CNAME,
        S_CADDR,
        S_CPORT,
        S_CPROTO,
        S_CHELO,
        S_RWR,
        S_SASL_METHOD,
        S_SASL_USERNAME,
        S_SASL_SENDER,
        S_N
    };
    VSTRING *s[S_N];
    long long offset, size, t_in, t_act, t_hand;
    int flags, smtputf8, dsn_ret, rcpt_count;
    DELIVER_REQUEST *request = NULL;
    int n;

    for (int i = 0; i < S_N; i++)
        s[i] = vstring_alloc(50);
    n = attr_scan(
        stream, ATTR_FLAG_MISSING, RECV_ATTR_INT(DELIVER_ATTR_FLAGS, &flags),
        RECV_ATTR_STR(DELIVER_ATTR_QUEUE_NAME, s[S_QNAME]), RECV_ATTR_STR(DELIVER_ATTR_QUEUE_ID, s[S_QID]),
        RECV_ATTR_LONG(DELIVER_ATTR_DATA_OFFSET, &offset), RECV_ATTR_LONG(DELIVER_ATTR_DATA_SIZE, &size),
        RECV_ATTR_STR(DELIVER_ATTR_NEXTHOP, s[S_NEXTHOP]), RECV_ATTR_STR(DELIVER_ATTR_ENCODING, s[S_ENC]),
        RECV_ATTR_INT(DELIVER_ATTR_SMTPUTF8, &smtputf8), RECV_ATTR_STR(DELIVER_ATTR_SENDER, s[S_SENDER]),
        RECV_ATTR_STR(DELIVER_ATTR_DSN_ENVID, s[S_ENVID]), RECV_ATTR_INT(DELIVER_ATTR_DSN_RET, &dsn_ret),
        RECV_ATTR_STR(DELIVER_ATTR_CLIENT_NAME, s[S_CNAME]),
        RECV_ATTR_STR(DELIVER_ATTR_CLIENT_ADDR, s[S_CADDR]),
        RECV_ATTR_STR(DELIVER_ATTR_CLIENT_PORT, s[S_CPORT]),
        RECV_ATTR_STR(DELIVER_ATTR_CLIENT_PROTO, s[S_CPROTO]),
        RECV_ATTR_STR(DELIVER_ATTR_CLIENT_HELO, s[S_CHELO]),
        RECV_ATTR_STR(DELIVER_ATTR_RWR_CONTEXT, s[S_RWR]),
        RECV_ATTR_STR(DELIVER_ATTR_SASL_METHOD, s[S_SASL_METHOD]),
        RECV_ATTR_STR(DELIVER_ATTR_SASL_USERNAME, s[S_SASL_USERNAME]),
        RECV_ATTR_STR(DELIVER_ATTR_SASL_SENDER, s[S_SASL_SENDER]),
        RECV_ATTR_LONG(DELIVER_ATTR_TIME_INCOMING, &t_in), RECV_ATTR_LONG(DELIVER_ATTR_TIME_ACTIVE, &t_act),
        RECV_ATTR_LONG(DELIVER_ATTR_TIME_HANDOFF, &t_hand),
        RECV_ATTR_INT(DELIVER_ATTR_RCPT_COUNT, &rcpt_count), ATTR_TYPE_END);
    if (n != 24) {
        if (n >= 0 || !vstream_feof(stream) || vstream_ferror(stream))
            msg_warn("%s: error receiving delivery request", vstream_path(stream));
        goto out;
    }
    if (!deliver_request_queue_ok(vstring_str(s[S_QNAME])) || !mail_queue_id_ok(vstring_str(s[S_QID]))) {
        msg_warn("%s: bad queue name \"%s\" or queue id \"%s\" in delivery request", vstream_path(stream),
                 vstring_str(s[S_QNAME]), vstring_str(s[S_QID]));
        goto out;
    }
    if (offset <= 0 || size < 0 || rcpt_count <= 0 || rcpt_count > DELIVER_RCPT_MAX) {
        msg_warn("%s: %s: bad data offset %lld, size %lld or recipient count %d in delivery request",
                 vstream_path(stream), vstring_str(s[S_QID]), offset, size, rcpt_count);
        goto out;
    }

    request = (DELIVER_REQUEST *)mymalloc(sizeof(*request));
    memset(request, 0, sizeof(*request));
    request->flags = flags;
    request->queue_name = mystrdup(vstring_str(s[S_QNAME]));
    request->queue_id = mystrdup(vstring_str(s[S_QID]));
    request->data_offset = (long)offset;
    request->data_size = (long)size;
    request->nexthop = mystrdup(vstring_str(s[S_NEXTHOP]));
    request->encoding = mystrdup(vstring_str(s[S_ENC]));
    request->smtputf8 = smtputf8;
    request->sender = mystrdup(vstring_str(s[S_SENDER]));
    request->dsn_envid = mystrdup(vstring_str(s[S_ENVID]));
    request->dsn_ret = dsn_ret;
    request->client_name = mystrdup(vstring_str(s[S_CNAME]));
    request->client_addr = mystrdup(vstring_str(s[S_CADDR]));
    request->client_port = mystrdup(vstring_str(s[S_CPORT]));
    request->client_proto = mystrdup(vstring_str(s[S_CPROTO]));
    request->client_helo = mystrdup(vstring_str(s[S_CHELO]));
    request->rewrite_context = mystrdup(vstring_str(s[S_RWR]));
    request->sasl_method = mystrdup(vstring_str(s[S_SASL_METHOD]));
    request->sasl_username = mystrdup(vstring_str(s[S_SASL_USERNAME]));
    request->sasl_sender = mystrdup(vstring_str(s[S_SASL_SENDER]));
    MSG_STATS_INIT(&request->msg_stats);
    deliver_request_time(&request->msg_stats.incoming_arrival, t_in);
    deliver_request_time(&request->msg_stats.active_arrival, t_act);
    deliver_request_time(&request->msg_stats.agent_handoff, t_hand);
    recipient_list_init(&request->rcpt_list);
    request->hop_status = dsb_create();

    if (deliver_request_rcpts(stream, &request->rcpt_list, rcpt_count) < 0) {
        deliver_request_free(request);
        request = NULL;
        goto out;
    }

    /* The message may have been deleted meanwhile (postsuper -d): nothing to do. */
    if ((request->fp = mail_queue_open(request->queue_name, request->queue_id, O_RDWR, 0)) == NULL) {
        if (errno == ENOENT) {
            msg_warn("%s: queue file %s/%s: no such file -- delivery request ignored", request->queue_id,
                     request->queue_name, request->queue_id);
            (void)deliver_request_answer(stream, DEL_STAT_FINAL, "", "");
        } else {
            msg_warn("%s: open queue file %s/%s: %m", request->queue_id, request->queue_name,
                     request->queue_id);
        }
        deliver_request_free(request);
        request = NULL;
        goto out;
    }
    /* Held until deliver_request_done(): a queue manager leaves a file alone while it is in use. */
    if (myflock(vstream_fileno(request->fp), MYFLOCK_METHOD_FLOCK, MYFLOCK_OP_SHARED) < 0) {
        msg_warn("%s: lock queue file: %m", request->queue_id);
        deliver_request_free(request);
        request = NULL;
        goto out;
    }
    if (vstream_fseek(request->fp, (off_t)request->data_offset, SEEK_SET) < 0) {
        msg_warn("%s: seek queue file to %ld: %m", request->queue_id, request->data_offset);
        deliver_request_free(request);
        request = NULL;
        goto out;
    }

out:
    for (int i = 0; i < S_N; i++)
        vstring_free(s[i]);
    return request;
}

/* Answer the request, close its queue file and free it. */
int deliver_request_done(VSTREAM *stream, DELIVER_REQUEST *request, int status)
{
    int ret;

    ret = deliver_request_answer(stream, status, vstring_str(request->hop_status->status),
                                 vstring_str(request->hop_status->reason));
    deliver_request_free(request);
    return ret;
}

/* Mark the RCPT record at OFFSET done; 0 or -1. */
int deliver_completed(VSTREAM *fp, long offset)
{
    off_t saved;
    int ch;

    /* Overwrite only a recipient record: a bad offset must not corrupt the file. */
    if ((saved = vstream_ftell(fp)) < 0 || vstream_fseek(fp, (off_t)offset, SEEK_SET) < 0) {
        msg_warn("%s: seek to recipient record at %ld: %m", vstream_path(fp), offset);
        return -1;
    }
    ch = vstream_getc(fp);
    if (vstream_fseek(fp, saved, SEEK_SET) < 0) {
        msg_warn("%s: seek: %m", vstream_path(fp));
        return -1;
    }
    if (ch == REC_TYPE_DONE)
        return 0;
    if (ch != REC_TYPE_RCPT) {
        msg_warn("%s: no recipient record at offset %ld -- not marked done", vstream_path(fp), offset);
        return -1;
    }
    if (rec_put_at(fp, (off_t)offset, REC_TYPE_DONE) == REC_TYPE_ERROR || vstream_fflush(fp) != 0) {
        msg_warn("%s: mark recipient at offset %ld done: %m", vstream_path(fp), offset);
        vstream_clearerr(fp);
        return -1;
    }
    return 0;
}
