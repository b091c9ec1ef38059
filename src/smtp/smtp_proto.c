/*
 * smtp_proto - one SMTP or LMTP session with one server (spec/delivery.md
 * 6.2, 6.3, 7).
 *
 *   smtp_proto(state, session) runs the conversation on a connected
 *   session: greeting, EHLO (HELO fallback) or LHLO, feature parsing
 *   (smtp_discard_ehlo_keywords applied), the loop check on the EHLO
 *   reply, the SIZE and SMTPUTF8 checks, XFORWARD, MAIL FROM, one RCPT TO
 *   per pending recipient and DATA (in one write when the server offers
 *   PIPELINING), the message with dot-stuffing, the end-of-data reply
 *   (LMTP: one per accepted recipient) and QUIT, or, when the session
 *   may be cached, RSET if needed and no QUIT (smtp_cache.c). A session
 *   from the cache (reuse_count > 0) skips the greeting and EHLO.
 *
 *   Recipients decided by this server are reported at once (sent, 5xx
 *   bounced, 4xx deferred on the last address). A 4xx RCPT reply on an
 *   earlier address marks the recipient SMTP_RCPT_SOFT (tried again on
 *   the next address). Failures of the whole server (refused greeting,
 *   lost connection, timeout, loop) are remembered with smtp_site_fail().
 *
 *   Returns SMTP_PROTO_OK (conversation ended normally), SMTP_PROTO_SITE
 *   (server-wide failure: try the next address) or SMTP_PROTO_FINAL (do
 *   not try other addresses: a 5xx greeting with smtp_skip_5xx_greeting =
 *   no, the message is too large, SMTPUTF8 is needed but not offered).
 *
 *   8-bit mail (encoding 8bitmime) for a server without 8BITMIME is
 *   converted to 7 bits on the fly (smtp_mime.c) unless
 *   disable_mime_output_conversion = yes.
 *
 * Not implemented: STARTTLS, AUTH, BDAT, quoting of unusual local parts.
 *
 * Errors: as above; nothing is fatal.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce.h"
#include "deliver_request.h"
#include "dsn.h"
#include "mail_params.h"
#include "msg.h"
#include "msg_stats.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "record.h"
#include "smtp.h"
#include "smtp_mime.h"
#include "stringops.h"
#include "vstream.h"

/* Conversation stages, for timeout and lost-connection texts. */
#define STAGE_GREET "receiving the initial server greeting"
#define STAGE_EHLO  "performing the EHLO handshake"
#define STAGE_HELO  "performing the HELO handshake"
#define STAGE_LHLO  "performing the LHLO handshake"
#define STAGE_XFWD  "sending XFORWARD"
#define STAGE_MAIL  "sending MAIL FROM"
#define STAGE_RCPT  "sending RCPT TO"
#define STAGE_DATA  "sending DATA command"
#define STAGE_BODY  "sending message body"
#define STAGE_DOT   "sending end of data -- message may be sent more than once"
#define STAGE_QUIT  "sending QUIT"

/* The first word of TEXT equals NAME (case-insensitive). */
static bool smtp_first_word_is(const char *text, const char *name)
{
    size_t len = strcspn(text, " \t");

    return len == strlen(name) && strncasecmp(text, name, len) == 0;
}

/* Is WORD in the comma/space-separated LIST (case-insensitive)? */
static bool smtp_listed(const char *list, const char *word)
{
    char *copy;
    char *bp;
    char *item;
    bool found = false;

    if (list == NULL || *list == 0)
        return false;
    bp = copy = mystrdup(list);
    while (!found && (item = mystrtok(&bp, ", \t\r\n")) != NULL)
        found = strcasecmp(item, word) == 0;
    myfree(copy);
    return found;
}

/* Is KEYWORD listed in smtp_discard_ehlo_keywords? */
static bool smtp_discarded(const char *keyword)
{
    return smtp_listed(smtp_params.discard_keywords, keyword);
}

/* Add the mechanisms of one "AUTH ..." or "AUTH=..." line, once each. */
static void smtp_auth_mechanisms(SMTP_SESSION *session, const ARGV *words)
{
    VSTRING *buf = vstring_alloc(50);

    vstring_strcpy(buf, session->sasl_mechanisms ? session->sasl_mechanisms : "");
    for (size_t w = 1; w < words->argc; w++) {
        if (smtp_listed(vstring_str(buf), words->argv[w]))
            continue;
        if (VSTRING_LEN(buf))
            vstring_addch(buf, ' ');
        vstring_strcat(buf, words->argv[w]);
    }
    if (session->sasl_mechanisms)
        myfree(session->sasl_mechanisms);
    session->sasl_mechanisms = vstring_export(buf);
}

/* Parse the EHLO/LHLO reply's keyword lines into session features. */
static void smtp_parse_features(SMTP_SESSION *session, const SMTP_RESP *resp)
{
    static const struct {
        const char *name;
        int flag;
    } table[] = {
        {"PIPELINING", SMTP_FEAT_PIPELINING}, {"SIZE", SMTP_FEAT_SIZE},
        {"8BITMIME", SMTP_FEAT_8BITMIME},     {"DSN", SMTP_FEAT_DSN},
        {"SMTPUTF8", SMTP_FEAT_SMTPUTF8},     {"XFORWARD", SMTP_FEAT_XFORWARD},
        {"STARTTLS", SMTP_FEAT_STARTTLS},     {"AUTH", SMTP_FEAT_AUTH},
    };
    static const struct {
        const char *name;
        int flag;
    } xfwd[] = {
        {"NAME", SMTP_XFWD_NAME},     {"ADDR", SMTP_XFWD_ADDR}, {"PORT", SMTP_XFWD_PORT},
        {"PROTO", SMTP_XFWD_PROTO},   {"HELO", SMTP_XFWD_HELO}, {"IDENT", SMTP_XFWD_IDENT},
        {"SOURCE", SMTP_XFWD_SOURCE},
    };

    session->features |= SMTP_FEAT_ESMTP;
    for (size_t i = 1; i < resp->lines->argc; i++) {
        ARGV *words = argv_split(resp->lines->argv[i], " \t=");

        if (words->argc == 0 || smtp_discarded(words->argv[0])) {
            argv_free(words);
            continue;
        }
        for (size_t k = 0; k < sizeof(table) / sizeof(table[0]); k++) {
            if (strcasecmp(words->argv[0], table[k].name) != 0)
                continue;
            session->features |= table[k].flag;
            if (table[k].flag == SMTP_FEAT_SIZE && words->argc > 1 && alldig(words->argv[1]))
                session->size_limit = strtol(words->argv[1], NULL, 10);
            if (table[k].flag == SMTP_FEAT_AUTH)
                smtp_auth_mechanisms(session, words);
            if (table[k].flag == SMTP_FEAT_XFORWARD)
                for (size_t w = 1; w < words->argc; w++)
                    for (size_t x = 0; x < sizeof(xfwd) / sizeof(xfwd[0]); x++)
                        if (strcasecmp(words->argv[w], xfwd[x].name) == 0)
                            session->xforward |= xfwd[x].flag;
        }
        argv_free(words);
    }
}

/* Does the message need SMTPUTF8 (non-ASCII envelope or headers)? */
static bool smtp_needs_utf8(const DELIVER_REQUEST *request)
{
    const RECIPIENT *rcpt = request->rcpt_list.info;

    if (request->smtputf8 == 0)
        return false;
    if (request->smtputf8 & ~1)
        return true; /* header, sender or recipient flags */
    for (const unsigned char *cp = (const unsigned char *)request->sender; *cp; cp++)
        if (*cp & 0x80)
            return true;
    for (int i = 0; i < request->rcpt_list.len; i++)
        for (const unsigned char *cp = (const unsigned char *)rcpt[i].address; *cp; cp++)
            if (*cp & 0x80)
                return true;
    return false;
}

/* Send XFORWARD with the attributes the server announced; 0 or SITE. */
static int smtp_xforward(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp)
{
    DELIVER_REQUEST *request = state->request;
    VSTRING *line = vstring_alloc(200);
    VSTRING *xt = vstring_alloc(100);
    const struct {
        int flag;
        const char *name;
        const char *value;
    } attrs[] = {
        {SMTP_XFWD_NAME, "NAME", request->client_name},
        {SMTP_XFWD_ADDR, "ADDR", request->client_addr},
        {SMTP_XFWD_PORT, "PORT", request->client_port},
        {SMTP_XFWD_PROTO, "PROTO", request->client_proto},
        {SMTP_XFWD_HELO, "HELO", request->client_helo},
        {SMTP_XFWD_IDENT, "IDENT", request->queue_id},
        {SMTP_XFWD_SOURCE, "SOURCE",
         request->rewrite_context && strcmp(request->rewrite_context, "local") == 0 ? "LOCAL" : "REMOTE"},
    };
    int result = 0;

    session->stage = STAGE_XFWD;
    /* Two commands, as attribute lines must stay short. */
    for (int part = 0; part < 2 && result == 0; part++) {
        size_t from = part == 0 ? 0 : 3;
        size_t to = part == 0 ? 3 : sizeof(attrs) / sizeof(attrs[0]);

        vstring_strcpy(line, "XFORWARD");
        for (size_t i = from; i < to; i++) {
            const char *value = attrs[i].value && *attrs[i].value ? attrs[i].value : "[UNAVAILABLE]";

            if (!(session->xforward & attrs[i].flag))
                continue;
            if (attrs[i].flag == SMTP_XFWD_ADDR && strchr(value, ':') &&
                strncasecmp(value, "IPv6:", 5) != 0) {
                VSTRING *tmp = vstring_alloc(60);

                vstring_sprintf(tmp, "IPV6:%s", value);
                smtp_xtext_encode(xt, vstring_str(tmp));
                vstring_free(tmp);
            } else {
                smtp_xtext_encode(xt, value);
            }
            vstring_sprintf_append(line, " %s=%s", attrs[i].name, vstring_str(xt));
        }
        if (VSTRING_LEN(line) == strlen("XFORWARD"))
            continue;
        if (smtp_chat_cmd(session, smtp_params.xforward_timeout, "%s", vstring_str(line)) < 0 ||
            smtp_chat_resp(session, resp, smtp_params.xforward_timeout) < 0) {
            result = smtp_stream_fail(state, session);
        } else if (resp->code / 100 != 2) {
            smtp_site_fail(state, session->relay, resp->dsn, vstring_str(resp->text), session->host,
                           "host %s said: %s (in reply to XFORWARD command)", session->namaddr,
                           vstring_str(resp->text));
            state->why_site = false;
            result = SMTP_PROTO_SITE;
        }
    }
    vstring_free(line);
    vstring_free(xt);
    return result;
}

/* Report recipient IDX from a server reply to COMMAND. */
static void smtp_rcpt_reply(SMTP_STATE *state, SMTP_SESSION *session, int idx, const SMTP_RESP *resp,
                            const char *command)
{
    DSN_BUF *why = dsb_create();

    if (resp->code / 100 == 2) {
        dsb_smtp(why, resp->dsn, vstring_str(resp->text), session->host, "%s", vstring_str(resp->text));
        dsb_action(why, smtp_lmtp_mode ? DSN_ACTION_DELIVERED : DSN_ACTION_RELAYED);
    } else {
        dsb_smtp(why, resp->dsn, vstring_str(resp->text), session->host, "host %s said: %s (in reply to %s)",
                 session->namaddr, vstring_str(resp->text), command);
    }
    smtp_rcpt_report(state, idx, session->relay, why, SMTP_REPORT_AUTO);
    dsb_free(why);
}

/* Report every accepted recipient from one reply. */
static void smtp_accepted_reply(SMTP_STATE *state, SMTP_SESSION *session, const SMTP_RESP *resp,
                                const char *command)
{
    for (int i = 0; i < state->request->rcpt_list.len; i++)
        if (state->rcpt_stat[i] == SMTP_RCPT_ACCEPTED)
            smtp_rcpt_reply(state, session, i, resp, command);
}

/* Where message text goes: the session stream, dot-stuffed, CRLF. */
typedef struct SMTP_TEXT_OUT {
    SMTP_SESSION *session;
    bool at_start; /* the next byte starts a line */
} SMTP_TEXT_OUT;

/* Write one content record (SMTP_MIME_OUT). */
static void smtp_text_out(void *context, int rec_type, const char *buf, size_t len)
{
    SMTP_TEXT_OUT *out = context;
    VSTREAM *stream = out->session->stream;

    if (out->at_start && len > 0 && buf[0] == '.')
        vstream_putc('.', stream);
    vstream_fwrite(stream, buf, len);
    if (rec_type == REC_TYPE_NORM)
        vstream_fputs("\r\n", stream);
    out->at_start = rec_type == REC_TYPE_NORM;
}

/* Must 8-bit content be converted to 7 bits for this server? */
static bool smtp_downgrade(const SMTP_STATE *state, const SMTP_SESSION *session)
{
    const char *encoding = state->request->encoding;

    return encoding != NULL && strcasecmp(encoding, "8bitmime") == 0 &&
           (session->features & SMTP_FEAT_8BITMIME) == 0 && !var_disable_mime_output_conversion;
}

/* Copy the message content with CRLF and dot-stuffing (converted to
 * 7 bits when smtp_downgrade() says so); 0, or -1 on a stream error
 * (session), or 1 when the queue file is unreadable. */
static int smtp_send_content(SMTP_STATE *state, SMTP_SESSION *session)
{
    DELIVER_REQUEST *request = state->request;
    VSTRING *buf = vstring_alloc(1000);
    SMTP_TEXT_OUT out = {session, true};
    SMTP_MIME *conv = smtp_downgrade(state, session) ? smtp_mime_alloc(smtp_text_out, &out) : NULL;
    int type;
    int result = 0;

    session->stage = STAGE_BODY;
    vstream_set_deadline(session->stream, false);
    vstream_set_timeout(session->stream, smtp_params.data_xfer_timeout);
    if (vstream_fseek(request->fp, request->data_offset, SEEK_SET) < 0) {
        vstring_free(buf);
        if (conv)
            smtp_mime_free(conv);
        return 1;
    }
    for (bool first = true;; first = false) {
        type = rec_get(request->fp, buf, 0);
        if (first && type == REC_TYPE_MESG)
            continue;
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT)
            break;
        if (conv)
            smtp_mime_update(conv, type, vstring_str(buf), VSTRING_LEN(buf));
        else
            smtp_text_out(&out, type, vstring_str(buf), VSTRING_LEN(buf));
        if (vstream_ferror(session->stream))
            break;
    }
    if (conv && type == REC_TYPE_XTRA && !vstream_ferror(session->stream))
        smtp_mime_update(conv, REC_TYPE_EOF, "", 0);
    if (vstream_ferror(session->stream))
        result = -1;
    else if (type != REC_TYPE_XTRA)
        result = 1;
    else if (!out.at_start)
        vstream_fputs("\r\n", session->stream);
    vstring_free(buf);
    if (conv)
        smtp_mime_free(conv);
    return result;
}

/* Transfer the data after a 354 and read the end-of-data reply(s). */
static int smtp_data(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp)
{
    int status = smtp_send_content(state, session);

    if (status < 0)
        return smtp_stream_fail(state, session);
    if (status > 0) {
        DSN_BUF *why = dsb_create();

        msg_warn("%s: queue file is corrupt or unreadable", state->request->queue_id);
        dsb_simple(why, "4.3.0", "mail system configuration error: queue file read error");
        for (int i = 0; i < state->request->rcpt_list.len; i++)
            if (state->rcpt_stat[i] == SMTP_RCPT_ACCEPTED)
                smtp_rcpt_report(state, i, session->relay, why, SMTP_REPORT_DEFER);
        dsb_free(why);
        return SMTP_PROTO_FINAL; /* the session is now unusable */
    }
    session->stage = STAGE_DOT;
    if (smtp_chat_cmd(session, smtp_params.data_done_timeout, ".") < 0)
        return smtp_stream_fail(state, session);
    if (vstream_fflush(session->stream) == VSTREAM_EOF)
        return smtp_stream_fail(state, session);
    if (!smtp_lmtp_mode) {
        if (smtp_chat_resp(session, resp, smtp_params.data_done_timeout) < 0)
            return smtp_stream_fail(state, session);
        smtp_accepted_reply(state, session, resp, "end of DATA command");
        return SMTP_PROTO_OK;
    }
    for (int i = 0; i < state->request->rcpt_list.len; i++) {
        if (state->rcpt_stat[i] != SMTP_RCPT_ACCEPTED)
            continue;
        if (smtp_chat_resp(session, resp, smtp_params.data_done_timeout) < 0)
            return smtp_stream_fail(state, session);
        smtp_rcpt_reply(state, session, i, resp, "end of DATA command");
    }
    return SMTP_PROTO_OK;
}

/* Greeting and EHLO/HELO/LHLO; 0 or a SMTP_PROTO_* failure. */
static int smtp_helo(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp)
{
    int result;

    if ((result = smtp_tls_wrap(state, session)) != 0)
        return result;
    session->stage = STAGE_GREET;
    if (smtp_chat_resp(session, resp, smtp_params.helo_timeout) < 0)
        return smtp_stream_fail(state, session);
    if (resp->code / 100 != 2) {
        bool final = resp->code / 100 == 5 && !smtp_params.skip_5xx_greeting;

        if (!final)
            resp->dsn[0] = '4';
        smtp_site_fail(state, session->relay, resp->dsn, vstring_str(resp->text), session->host,
                       "host %s refused to talk to me: %s", session->namaddr, vstring_str(resp->text));
        return final ? SMTP_PROTO_FINAL : SMTP_PROTO_SITE;
    }
    if (!smtp_lmtp_mode && smtp_first_word_is(vstring_str(resp->first), var_myhostname))
        msg_warn("host %s greeted me with my own hostname %s", session->relay, var_myhostname);
    return smtp_ehlo(state, session, resp);
}

/*
 * EHLO (LHLO, HELO) and the server's features; also after STARTTLS,
 * when everything learned before is forgotten. 0 or SMTP_PROTO_*.
 */
int smtp_ehlo(SMTP_STATE *state, SMTP_SESSION *session, SMTP_RESP *resp)
{
    const char *cmd;

    session->features &= SMTP_FEAT_BEST_MX;
    session->xforward = 0;
    session->size_limit = 0;
    if (session->sasl_mechanisms)
        session->sasl_mechanisms = (myfree(session->sasl_mechanisms), NULL);
    if (smtp_lmtp_mode) {
        cmd = "LHLO";
        session->stage = STAGE_LHLO;
    } else if (smtp_params.never_ehlo) {
        cmd = "HELO";
        session->stage = STAGE_HELO;
    } else {
        cmd = "EHLO";
        session->stage = STAGE_EHLO;
    }
    if (smtp_chat_cmd(session, smtp_params.helo_timeout, "%s %s", cmd, smtp_params.helo_name) < 0 ||
        smtp_chat_resp(session, resp, smtp_params.helo_timeout) < 0)
        return smtp_stream_fail(state, session);
    if (resp->code / 100 != 2 && strcmp(cmd, "EHLO") == 0) {
        cmd = "HELO";
        session->stage = STAGE_HELO;
        if (smtp_chat_cmd(session, smtp_params.helo_timeout, "HELO %s", smtp_params.helo_name) < 0 ||
            smtp_chat_resp(session, resp, smtp_params.helo_timeout) < 0)
            return smtp_stream_fail(state, session);
    }
    if (resp->code / 100 != 2) {
        smtp_site_fail(state, session->relay, resp->dsn, vstring_str(resp->text), session->host,
                       "host %s refused to talk to me: %s", session->namaddr, vstring_str(resp->text));
        return SMTP_PROTO_SITE;
    }
    if (strcmp(cmd, "HELO") != 0)
        smtp_parse_features(session, resp);

    /* A server answering with our own name: mail loops back to us. */
    if (!smtp_lmtp_mode && session->port == 25 && strcmp(cmd, "EHLO") == 0 &&
        smtp_first_word_is(vstring_str(resp->first), var_myhostname)) {
        msg_warn("host %s replied to HELO/EHLO with my own hostname %s", session->relay, var_myhostname);
        smtp_site_fail(state, session->relay, (session->features & SMTP_FEAT_BEST_MX) ? "5.4.6" : "4.4.6",
                       NULL, NULL, "mail for %s loops back to myself", state->nexthop);
        return (session->features & SMTP_FEAT_BEST_MX) ? SMTP_PROTO_FINAL : SMTP_PROTO_SITE;
    }
    return 0;
}

/* Polite end of a session; errors do not matter any more. */
static void smtp_quit(SMTP_SESSION *session, SMTP_RESP *resp)
{
    session->stage = STAGE_QUIT;
    if (smtp_chat_cmd(session, smtp_params.quit_timeout, "QUIT") == 0)
        (void)smtp_chat_resp(session, resp, smtp_params.quit_timeout);
}

/* MAIL FROM with the parameters the server supports. */
static void smtp_mail_cmd(SMTP_STATE *state, SMTP_SESSION *session, VSTRING *cmd, bool utf8)
{
    DELIVER_REQUEST *request = state->request;
    VSTRING *xt = vstring_alloc(100);

    vstring_sprintf(cmd, "MAIL FROM:<%s>", request->sender);
    if (session->features & SMTP_FEAT_SIZE)
        vstring_sprintf_append(cmd, " SIZE=%ld", request->data_size);
    if ((session->features & SMTP_FEAT_8BITMIME) && request->encoding &&
        strcasecmp(request->encoding, "8bitmime") == 0)
        vstring_strcat(cmd, " BODY=8BITMIME");
    if (utf8 && (session->features & SMTP_FEAT_SMTPUTF8))
        vstring_strcat(cmd, " SMTPUTF8");
    if (session->features & SMTP_FEAT_DSN) {
        if (request->dsn_ret == DSN_RET_FULL)
            vstring_strcat(cmd, " RET=FULL");
        else if (request->dsn_ret == DSN_RET_HDRS)
            vstring_strcat(cmd, " RET=HDRS");
        if (request->dsn_envid && *request->dsn_envid) {
            smtp_xtext_encode(xt, request->dsn_envid);
            vstring_sprintf_append(cmd, " ENVID=%s", vstring_str(xt));
        }
    }
    vstring_free(xt);
}

/* RCPT TO with NOTIFY and ORCPT when the server has DSN. */
static void smtp_rcpt_cmd(SMTP_SESSION *session, const RECIPIENT *rcpt, VSTRING *cmd)
{
    VSTRING *xt = vstring_alloc(100);

    vstring_sprintf(cmd, "RCPT TO:<%s>", rcpt->address);
    if (session->features & SMTP_FEAT_DSN) {
        if (rcpt->dsn_notify & DSN_NOTIFY_NEVER) {
            vstring_strcat(cmd, " NOTIFY=NEVER");
        } else if (rcpt->dsn_notify & DSN_NOTIFY_ANY) {
            const char *sep = " NOTIFY=";

            if (rcpt->dsn_notify & DSN_NOTIFY_SUCCESS) {
                vstring_sprintf_append(cmd, "%sSUCCESS", sep);
                sep = ",";
            }
            if (rcpt->dsn_notify & DSN_NOTIFY_FAILURE) {
                vstring_sprintf_append(cmd, "%sFAILURE", sep);
                sep = ",";
            }
            if (rcpt->dsn_notify & DSN_NOTIFY_DELAY)
                vstring_sprintf_append(cmd, "%sDELAY", sep);
        }
        if (rcpt->dsn_orcpt && *rcpt->dsn_orcpt) {
            const char *semi = strchr(rcpt->dsn_orcpt, ';');

            if (semi != NULL) {
                smtp_xtext_encode(xt, semi + 1);
                vstring_sprintf_append(cmd, " ORCPT=%.*s;%s", (int)(semi - rcpt->dsn_orcpt), rcpt->dsn_orcpt,
                                       vstring_str(xt));
            }
        } else if (rcpt->orig_addr && *rcpt->orig_addr) {
            smtp_xtext_encode(xt, rcpt->orig_addr);
            vstring_sprintf_append(cmd, " ORCPT=rfc822;%s", vstring_str(xt));
        }
    }
    vstring_free(xt);
}

/* Command kinds in the MAIL/RCPT/DATA sequence. */
#define CMD_MAIL 0
#define CMD_RCPT 1
#define CMD_DATA 2

/* Run one session; see above. */
int smtp_proto(SMTP_STATE *state, SMTP_SESSION *session)
{
    DELIVER_REQUEST *request = state->request;
    SMTP_RESP *resp = smtp_resp_create();
    VSTRING *cmd = vstring_alloc(200);
    DSN_BUF *why = dsb_create();
    bool vrfy = (request->flags & DEL_REQ_FLAG_MTA_VRFY) != 0;
    bool utf8;
    int *order = NULL;
    int ncmd;
    int nrcpt = 0;
    int nsent = 0;
    int naccepted = 0;
    bool mail_ok = true;
    bool pipelined;
    bool txn_done = false;
    int result;

    if (session->reuse_count == 0 && ((result = smtp_helo(state, session, resp)) != 0 ||
                                      (result = smtp_tls_starttls(state, session, resp)) != 0 ||
                                      (result = smtp_sasl_authenticate(state, session, resp)) != 0))
        goto done;
    msg_stats_set_now(&request->msg_stats.conn_setup_done);

    /* Checks that decide the whole message for this server. */
    if ((session->features & SMTP_FEAT_SIZE) && session->size_limit > 0 &&
        request->data_size > session->size_limit) {
        dsb_simple(why, "5.3.4", "message size %ld exceeds size limit %ld of server %s", request->data_size,
                   session->size_limit, session->namaddr);
        smtp_report_pending(state, session->relay, why, SMTP_REPORT_BOUNCE);
        smtp_quit(session, resp);
        result = SMTP_PROTO_FINAL;
        goto done;
    }
    utf8 = smtp_needs_utf8(request);
    if (utf8 && !(session->features & SMTP_FEAT_SMTPUTF8)) {
        dsb_simple(why, "5.6.7", "SMTPUTF8 is required, but was not offered by host %s", session->namaddr);
        smtp_report_pending(state, session->relay, why, SMTP_REPORT_BOUNCE);
        smtp_quit(session, resp);
        result = SMTP_PROTO_FINAL;
        goto done;
    }
    if (smtp_params.send_xforward && (session->features & SMTP_FEAT_XFORWARD) && session->xforward != 0 &&
        (result = smtp_xforward(state, session, resp)) != 0)
        goto done;

    /* MAIL, RCPT for each pending recipient, DATA (not when verifying). */
    order = mymalloc(sizeof(int) * (request->rcpt_list.len + 1));
    for (int i = 0; i < request->rcpt_list.len; i++)
        if (state->rcpt_stat[i] == SMTP_RCPT_PENDING)
            order[nrcpt++] = i;
    ncmd = 1 + nrcpt + (vrfy ? 0 : 1);
    pipelined = (session->features & SMTP_FEAT_PIPELINING) != 0;
    for (int recv = 0; recv < ncmd; recv++) {
        int kind = recv == 0 ? CMD_MAIL : recv <= nrcpt ? CMD_RCPT : CMD_DATA;
        int timeout;

        /* Send what may be sent now. */
        while (nsent < ncmd && (pipelined || nsent == recv)) {
            int skind = nsent == 0 ? CMD_MAIL : nsent <= nrcpt ? CMD_RCPT : CMD_DATA;

            if (skind == CMD_MAIL) {
                smtp_mail_cmd(state, session, cmd, utf8);
                session->stage = STAGE_MAIL;
                timeout = smtp_params.mail_timeout;
            } else if (skind == CMD_RCPT) {
                smtp_rcpt_cmd(session, request->rcpt_list.info + order[nsent - 1], cmd);
                session->stage = STAGE_RCPT;
                timeout = smtp_params.rcpt_timeout;
            } else {
                vstring_strcpy(cmd, "DATA");
                session->stage = STAGE_DATA;
                timeout = smtp_params.data_init_timeout;
            }
            if (smtp_chat_cmd(session, timeout, "%s", vstring_str(cmd)) < 0) {
                result = smtp_stream_fail(state, session);
                goto done;
            }
            nsent++;
        }
        /* Read the reply to command RECV. */
        session->stage = kind == CMD_MAIL ? STAGE_MAIL : kind == CMD_RCPT ? STAGE_RCPT : STAGE_DATA;
        timeout = kind == CMD_MAIL   ? smtp_params.mail_timeout
                  : kind == CMD_RCPT ? smtp_params.rcpt_timeout
                                     : smtp_params.data_init_timeout;
        if (smtp_chat_resp(session, resp, timeout) < 0) {
            result = smtp_stream_fail(state, session);
            goto done;
        }
        if (kind == CMD_MAIL) {
            if (resp->code / 100 != 2) {
                mail_ok = false;
                if (resp->code / 100 == 5) {
                    dsb_smtp(why, resp->dsn, vstring_str(resp->text), session->host,
                             "host %s said: %s (in reply to MAIL FROM command)", session->namaddr,
                             vstring_str(resp->text));
                    smtp_report_pending(state, session->relay, why, SMTP_REPORT_BOUNCE);
                } else {
                    smtp_site_fail(state, session->relay, resp->dsn, vstring_str(resp->text), session->host,
                                   "host %s said: %s (in reply to MAIL FROM command)", session->namaddr,
                                   vstring_str(resp->text));
                    state->why_site = false;
                }
            }
        } else if (kind == CMD_RCPT) {
            int idx = order[recv - 1];

            if (!mail_ok)
                continue;
            if (resp->code / 100 == 2) {
                state->rcpt_stat[idx] = SMTP_RCPT_ACCEPTED;
                naccepted++;
                if (vrfy)
                    smtp_rcpt_reply(state, session, idx, resp, "RCPT TO command");
            } else if (resp->code / 100 == 5 || state->last_addr) {
                smtp_rcpt_reply(state, session, idx, resp, "RCPT TO command");
            } else {
                state->rcpt_stat[idx] = SMTP_RCPT_SOFT;
                smtp_site_fail(state, session->relay, resp->dsn, vstring_str(resp->text), session->host,
                               "host %s said: %s (in reply to RCPT TO command)", session->namaddr,
                               vstring_str(resp->text));
                state->why_site = false;
            }
        } else {
            if (resp->code == 354 && mail_ok && naccepted > 0) {
                result = smtp_data(state, session, resp);
                if (result != SMTP_PROTO_OK)
                    goto done;
                txn_done = true;
            } else if (resp->code == 354) {
                /* Pipelined DATA without recipients: end it empty. */
                session->stage = STAGE_DOT;
                if (smtp_chat_cmd(session, smtp_params.data_done_timeout, ".") < 0 ||
                    smtp_chat_resp(session, resp, smtp_params.data_done_timeout) < 0) {
                    result = smtp_stream_fail(state, session);
                    goto done;
                }
            } else if (mail_ok && naccepted > 0) {
                smtp_accepted_reply(state, session, resp, "DATA command");
            }
        }
        if (!pipelined && !mail_ok)
            break;
        if (!pipelined && kind == CMD_RCPT && recv == nrcpt && (naccepted == 0 || vrfy))
            break;
    }
    if (!(mail_ok && smtp_cache_prepare(state, session, resp, txn_done)))
        smtp_quit(session, resp);
    result = SMTP_PROTO_OK;

done:
    if (order)
        myfree(order);
    dsb_free(why);
    vstring_free(cmd);
    smtp_resp_free(resp);
    return result;
}

/* Close a session's connection, if it still has one, and free it. */
void smtp_session_free(SMTP_SESSION *session)
{
    if (session->stream) {
        smtp_tls_end(session);
        vstream_fclose(session->stream);
    }
    if (session->sasl_mechanisms)
        myfree(session->sasl_mechanisms);
    myfree(session->host);
    myfree(session->addr);
    myfree(session->namaddr);
    myfree(session->relay);
    myfree(session);
}
