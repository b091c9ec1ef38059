/*
 * cleanup_missing - what cleanup adds at the end of the primary headers.
 *
 * cleanup_missing_headers(state) runs once, when the primary headers end.
 * In the local rewrite context, or with always_add_missing_headers = yes,
 * it adds the headers the message lacks, in this order, with "Resent-" in
 * front when the message has any Resent- header:
 *   Message-Id: <YYYYMMDDhhmmss.QID@$myhostname>   (GMT of the queue file
 *               creation; <QID@$myhostname> with enable_long_queue_ids),
 *               logged as "QID: [resent-]message-id=<...>"
 *   Date: Sat, 21 Nov 2026 15:01:02 +0000 (UTC)    (arrival, local zone)
 *   From: Full Name <sender>   (a known, non-empty full name; the phrase
 *               is quoted when it has special characters), else
 *               From: sender, and From: MAILER-DAEMON for the null sender
 *   $undisclosed_recipients_header   when there is no To: or Cc: and the
 *               parameter is not empty
 * Added headers see no checks and no rewriting. A message without any
 * Message-ID: header then logs "QID: message-id=<>".
 *
 * Nothing is added to a message that is discarded or has failed (other
 * than by a content rejection or the hop limit, which still complete the
 * file as Postfix does).
 *
 * Errors: a bad undisclosed_recipients_header value logs a warning and is
 * not added.
 */
#include "sys_defs.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup_content.h"
#include "cleanup_user.h"
#include "is_header.h"
#include "mail_date.h"
#include "mail_params.h"
#include "msg.h"
#include "vstring.h"

#define CLEANUP_MAILER_DAEMON "MAILER-DAEMON"

/* Characters an atom may hold besides letters, digits and 8-bit bytes. */
#define CLEANUP_ATEXT "!#$%&'*+-/=?^_`{|}~"

/* Does the full name need to be a quoted string in a phrase? */
static bool cleanup_missing_needs_quotes(const char *name)
{
    for (const unsigned char *cp = (const unsigned char *)name; *cp; cp++) {
        if (*cp >= 0x80 || *cp == ' ' || *cp == '\t')
            continue;
        if (*cp < 0x20 || *cp == 0x7f)
            return true;
        if (!((*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z') || (*cp >= '0' && *cp <= '9') ||
              strchr(CLEANUP_ATEXT, *cp)))
            return true;
    }
    return false;
}

/* The phrase for a full name: words joined by one space, or one quoted string. */
static const char *cleanup_missing_phrase(VSTRING *buf, const char *fullname)
{
    vstring_reset(buf);
    if (cleanup_missing_needs_quotes(fullname)) {
        vstring_addch(buf, '"');
        for (const char *cp = fullname; *cp; cp++) {
            if (*cp == '"' || *cp == '\\')
                vstring_addch(buf, '\\');
            vstring_addch(buf, *cp == '\r' || *cp == '\n' ? ' ' : *cp);
        }
        vstring_addch(buf, '"');
    } else {
        for (const char *cp = fullname; *cp;) {
            size_t len;

            cp += strspn(cp, " \t");
            if ((len = strcspn(cp, " \t")) == 0)
                break;
            if (VSTRING_LEN(buf) > 0)
                vstring_addch(buf, ' ');
            vstring_strncat(buf, cp, len);
            cp += len;
        }
    }
    return vstring_str(buf);
}

/* The sender as a header address: a local part with specials is quoted. */
static const char *cleanup_missing_address(VSTRING *buf, const char *sender)
{
    const char *at = strrchr(sender, '@');
    size_t local_len = at ? (size_t)(at - sender) : strlen(sender);
    bool quote = local_len == 0 ? false : (sender[0] == '.' || sender[local_len - 1] == '.');

    for (size_t i = 0; i < local_len && !quote; i++) {
        unsigned char ch = (unsigned char)sender[i];

        if (ch < 0x80 && !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                           strchr(CLEANUP_ATEXT ".", ch)))
            quote = true;
        if (ch == '.' && i + 1 < local_len && sender[i + 1] == '.')
            quote = true;
    }
    vstring_reset(buf);
    if (!quote)
        return vstring_strcpy(buf, sender)->data;
    vstring_addch(buf, '"');
    for (size_t i = 0; i < local_len; i++) {
        if (sender[i] == '"' || sender[i] == '\\')
            vstring_addch(buf, '\\');
        vstring_addch(buf, sender[i]);
    }
    vstring_addch(buf, '"');
    if (at)
        vstring_strcat(buf, at);
    return vstring_str(buf);
}

/* Add the headers the message lacks; see the file comment. */
void cleanup_missing_headers(CLEANUP_STATE *state)
{
    const char *qid = state->queue_id ? state->queue_id : "NOQUEUE";
    bool resent = (state->headers_seen & CLEANUP_HDR_RESENT) != 0;
    const char *prefix = resent ? "Resent-" : "";
    bool add = (state->rewrite_context && strcmp(state->rewrite_context, "local") == 0) ||
               var_always_add_missing_headers;
    VSTRING *hdr = vstring_alloc(100);
    VSTRING *tmp = vstring_alloc(100);

    if (state->discard || (state->errs & CLEANUP_STAT_LETHAL & ~(CLEANUP_STAT_CONT | CLEANUP_STAT_HOPS)) != 0)
        add = false;
    if (add) {
        unsigned mid_bit = resent ? CLEANUP_HDR_RESENT_MID : CLEANUP_HDR_MESSAGE_ID;
        unsigned date_bit = resent ? CLEANUP_HDR_RESENT_DATE : CLEANUP_HDR_DATE;
        unsigned from_bit = resent ? CLEANUP_HDR_RESENT_FROM : CLEANUP_HDR_FROM;
        unsigned to_bit = resent ? CLEANUP_HDR_RESENT_TO_CC : CLEANUP_HDR_TO_CC;
        const char *sender = state->sender ? state->sender : "";

        if ((state->headers_seen & mid_bit) == 0) {
            if (var_enable_long_queue_ids) {
                vstring_sprintf(tmp, "%s@%s", qid, var_myhostname);
            } else {
                time_t created = state->create_time.tv_sec;
                struct tm gmt;
                char stamp[32];

                gmtime_r(&created, &gmt);
                strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &gmt);
                vstring_sprintf(tmp, "%s.%s@%s", stamp, qid, var_myhostname);
            }
            vstring_sprintf(hdr, "%sMessage-Id: <%s>", prefix, vstring_str(tmp));
            cleanup_content_out_header(state, vstring_str(hdr));
            msg_info("%s: %smessage-id=<%s>", qid, resent ? "resent-" : "", vstring_str(tmp));
            state->headers_seen |= mid_bit;
        }
        if ((state->headers_seen & date_bit) == 0) {
            time_t arrival =
                state->arrival_time.tv_sec ? state->arrival_time.tv_sec : state->create_time.tv_sec;

            vstring_sprintf(hdr, "%sDate: ", prefix);
            vstring_strcat(hdr, mail_date(tmp, arrival));
            cleanup_content_out_header(state, vstring_str(hdr));
            state->headers_seen |= date_bit;
        }
        if ((state->headers_seen & from_bit) == 0) {
            VSTRING *addr = vstring_alloc(100);

            cleanup_missing_address(addr, *sender ? sender : CLEANUP_MAILER_DAEMON);
            if (*sender && state->fullname && *cleanup_missing_phrase(tmp, state->fullname))
                vstring_sprintf(hdr, "%sFrom: %s <%s>", prefix, vstring_str(tmp), vstring_str(addr));
            else
                vstring_sprintf(hdr, "%sFrom: %s", prefix, vstring_str(addr));
            cleanup_content_out_header(state, vstring_str(hdr));
            state->headers_seen |= from_bit;
            vstring_free(addr);
        }
        if ((state->headers_seen & to_bit) == 0 && *var_undisclosed_recipients_header) {
            if (is_header(var_undisclosed_recipients_header) == 0)
                msg_warn("bad undisclosed_recipients_header header text \"%s\" -- need \"headername: "
                         "headervalue\"",
                         var_undisclosed_recipients_header);
            else
                cleanup_content_out_header(state, var_undisclosed_recipients_header);
        }
    }
    if ((state->headers_seen & CLEANUP_HDR_MESSAGE_ID) == 0 && !state->discard &&
        (state->errs & CLEANUP_STAT_LETHAL & ~(CLEANUP_STAT_CONT | CLEANUP_STAT_HOPS)) == 0)
        msg_info("%s: message-id=<>", qid);
    vstring_free(hdr);
    vstring_free(tmp);
}
