/*
 * mime_state - a MIME parser that works one content record at a time.
 *
 * The caller feeds the message content as it arrives, one record per
 * call: REC_TYPE_NORM (a line, or the last piece of a long line) or
 * REC_TYPE_CONT (a piece of a long line that goes on in the next record),
 * then REC_TYPE_EOF (rec_type.h) at the end. The parser tells the caller,
 * through callbacks, what each piece is:
 *
 *   head_out(context, class, opts, header)  one logical header: a header
 *       line and its continuation lines joined with "\n" (the original
 *       folding), CONT pieces concatenated, at most header_limit bytes
 *       (the rest is discarded, MIME_ERR_TRUNC_HEADER). class is
 *       MIME_HDR_PRIMARY (message headers), MIME_HDR_MULTIPART (headers of
 *       a multipart body part) or MIME_HDR_NESTED (headers of an attached
 *       message/rfc822); opts is header_opts_find()'s entry or NULL. The
 *       callback may change the header text (the parser does not use it
 *       afterwards).
 *   head_end(context)  end of the primary headers (blank line, a line
 *       that is not a header, or the end of input), once.
 *   body_out(context, rec_type, buf, len, offset)  one body record as it
 *       came (NORM or CONT), including the blank line that ends a header
 *       block and the multipart boundary lines; offset is the number of
 *       body bytes before it in the current part (lines count "\n").
 *   body_end(context)  end of input, once, after everything else.
 *   err_print(context, err, text, len)  a problem listed in the options
 *       (MIME_OPT_REPORT_*): err is one MIME_ERR_* bit, text the line or
 *       header concerned. May be NULL.
 *
 * Structure: a Content-Type: multipart/... header with a boundary
 * parameter makes lines "--boundary" start a new part (whose headers are
 * MIME_HDR_MULTIPART) and "--boundary--" end the multipart; inner
 * boundaries are closed by an outer one. message/rfc822 (and
 * message/global) with an identity transfer encoding (7bit, 8bit,
 * binary) makes the body an attached message whose headers are
 * MIME_HDR_NESTED; in multipart/digest a part without Content-Type is
 * message/rfc822. Multipart and attached-message levels together may
 * nest nesting_limit deep; deeper structure is treated as plain body
 * (MIME_ERR_NESTING). MIME_OPT_DISABLE_MIME turns all of this off:
 * primary headers, then body.
 *
 * mime_state_update() returns the MIME_ERR_* bits seen so far.
 * mime_state_8bit() tells whether any header or body byte had the high
 * bit set. mime_state_error(err) is a text for one MIME_ERR_* bit.
 *
 * Errors: none are fatal; malformed MIME is passed through as body.
 */
#ifndef MIME_STATE_H
#define MIME_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "header_opts.h"
#include "vstring.h"

typedef struct MIME_STATE MIME_STATE;

typedef void (*MIME_STATE_HEAD_OUT)(void *context, int header_class, const HEADER_OPTS *opts,
                                    VSTRING *header);
typedef void (*MIME_STATE_ANY_END)(void *context);
typedef void (*MIME_STATE_BODY_OUT)(void *context, int rec_type, const char *buf, size_t len, off_t offset);
typedef void (*MIME_STATE_ERR_PRINT)(void *context, int err, const char *text, size_t len);

typedef struct MIME_STATE_CALLBACKS {
    MIME_STATE_HEAD_OUT head_out;
    MIME_STATE_ANY_END head_end;
    MIME_STATE_BODY_OUT body_out;
    MIME_STATE_ANY_END body_end;
    MIME_STATE_ERR_PRINT err_print; /* may be NULL */
} MIME_STATE_CALLBACKS;

/* Header classes. */
#define MIME_HDR_PRIMARY   1
#define MIME_HDR_MULTIPART 2
#define MIME_HDR_NESTED    3

/* Options. */
#define MIME_OPT_NONE                     0
#define MIME_OPT_DISABLE_MIME             (1 << 0)
#define MIME_OPT_REPORT_TRUNC_HEADER      (1 << 1)
#define MIME_OPT_REPORT_NESTING           (1 << 2)
#define MIME_OPT_REPORT_8BIT_IN_HEADER    (1 << 3)
#define MIME_OPT_REPORT_8BIT_IN_7BIT_BODY (1 << 4)

/* Problems. */
#define MIME_ERR_TRUNC_HEADER      (1 << 0)
#define MIME_ERR_NESTING           (1 << 1)
#define MIME_ERR_8BIT_IN_HEADER    (1 << 2)
#define MIME_ERR_8BIT_IN_7BIT_BODY (1 << 3)

extern MIME_STATE *mime_state_alloc(int options, size_t header_limit, int nesting_limit,
                                    const MIME_STATE_CALLBACKS *callbacks, void *context);
extern int mime_state_update(MIME_STATE *state, int rec_type, const char *buf, size_t len);
extern MIME_STATE *mime_state_free(MIME_STATE *state);
extern bool mime_state_8bit(const MIME_STATE *state);
extern const char *mime_state_error(int err);

#endif
