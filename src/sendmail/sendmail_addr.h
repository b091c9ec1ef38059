/*
 * sendmail_addr - what sendmail needs to understand of a message: the
 * addresses in an address list and the recipients in its headers.
 *
 * sendmail_addr_extract(out, text) appends to OUT every address of the
 * RFC 5322 address list TEXT in internal form (quotes removed, comments
 * and phrases dropped, group names and route parts skipped): the
 * argument of -f, each command-line recipient, the value of a To:, Cc:
 * or Bcc: header. "<>" gives an empty address. It returns the number of
 * addresses appended.
 *
 * Header scanning for sendmail -t, one content line at a time:
 *   SENDMAIL_HDR *h = sendmail_hdr_alloc();
 *   while (more lines && sendmail_hdr_line(h, line, len, complete)) ...;
 *   sendmail_hdr_done(h);    recipients now in h->rcpt
 * sendmail_hdr_line() returns false once the header block has ended (an
 * empty line or a line that is not a header); LINE is one piece of a line
 * (COMPLETE false when the line continues in the next piece). Recipients
 * come from To:, Cc: and Bcc:, or only from Resent-To:, Resent-Cc: and
 * Resent-Bcc: when any of those is present (RFC 5322 3.6.6).
 *
 * sendmail_addr_is_header(line, len) tells whether LINE starts a header
 * ("name:" with an optional space before the colon). The first piece of
 * a line decides; pieces are at least line_length_limit (>= 512) bytes,
 * far longer than any header name.
 *
 * Errors: none; malformed addresses are taken as well as they can be.
 */
#ifndef SENDMAIL_ADDR_H
#define SENDMAIL_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "argv.h"
#include "vstring.h"

typedef struct SENDMAIL_HDR {
    VSTRING *header; /* the header being collected, unfolded */
    bool in_headers; /* still in the header block */
    bool at_start;   /* the next piece starts a line */
    ARGV *plain;     /* from To/Cc/Bcc */
    ARGV *resent;    /* from Resent-To/Cc/Bcc */
    bool saw_resent; /* a Resent- recipient header was seen */
    ARGV *rcpt;      /* result, after sendmail_hdr_done() */
} SENDMAIL_HDR;

extern size_t sendmail_addr_extract(ARGV *out, const char *text);
extern bool sendmail_addr_is_header(const char *line, size_t len);
extern SENDMAIL_HDR *sendmail_hdr_alloc(void);
extern bool sendmail_hdr_line(SENDMAIL_HDR *h, const char *line, size_t len, bool complete);
extern void sendmail_hdr_done(SENDMAIL_HDR *h);
extern SENDMAIL_HDR *sendmail_hdr_free(SENDMAIL_HDR *h);

#endif
