/*
 * smtpd_token - split an SMTP command line into words, and check the
 * address in MAIL FROM / RCPT TO / VRFY (spec/smtpd.md §3.2, §3.3).
 * Both are libFuzzer targets (fuzz/smtpd_fuzz.c): any input, however
 * malformed, must give an answer without crashing or reading out of
 * bounds.
 *
 *   argc = smtpd_token(line, &argv)
 *       split at white space, keeping <...> together ("FROM:<a b@c>"),
 *       so that "MAIL FROM: <a@b> SIZE=5" gives MAIL, FROM:, <a@b>,
 *       SIZE=5. The tokens point into an internal buffer reused by the
 *       next call. Token types: SMTPD_TOK_OTHER, SMTPD_TOK_ADDR (a
 *       bracketed <...> address, strval without the brackets),
 *       SMTPD_TOK_ERROR (unbalanced <, or a quoted string that does not
 *       end).
 *   smtpd_addr_extract(args, argc, result, flags)
 *       the envelope address of MAIL/RCPT: args are the tokens after
 *       "FROM:"/"TO:" (the address, possibly glued to the keyword; the
 *       caller splits "FROM:<a@b>" itself). Returns the index of the
 *       first parameter token after the address, or -1 for bad syntax.
 *       result gets the address in internal (unquoted) form with source
 *       routes removed ("<@a,@b:u@c>" -> "u@c"), "" for "<>". flags:
 *       SMTPD_ADDR_STRICT (strict_rfc821_envelopes: only <addr>, no
 *       phrase, no bare address), SMTPD_ADDR_EMPTY_OK (<> allowed, for
 *       MAIL), SMTPD_ADDR_UTF8 (SMTPUTF8: valid UTF-8 allowed, invalid
 *       UTF-8 is an error). Non-strict mode accepts "a@b", "<a@b>" and
 *       "Name <a@b>" as Postfix does.
 *   smtpd_token_utf8_ok(str, len)
 *       whether the bytes are well-formed UTF-8 (command lines and
 *       addresses with SMTPUTF8).
 *
 * Errors: none besides the return values.
 */
#ifndef SMTPD_TOKEN_H
#define SMTPD_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "vstring.h"

#define SMTPD_TOK_OTHER 0
#define SMTPD_TOK_ADDR  1
#define SMTPD_TOK_ERROR 2

typedef struct SMTPD_TOKEN {
    int tokval;       /* SMTPD_TOK_* */
    char *strval;     /* the word (for ADDR without <>) */
    VSTRING *vstrval; /* storage */
} SMTPD_TOKEN;

#define SMTPD_ADDR_STRICT   (1 << 0)
#define SMTPD_ADDR_EMPTY_OK (1 << 1)
#define SMTPD_ADDR_UTF8     (1 << 2)

extern int smtpd_token(char *line, SMTPD_TOKEN **argvp);
extern int smtpd_addr_extract(SMTPD_TOKEN *args, int argc, VSTRING *result, int flags);
extern bool smtpd_token_utf8_ok(const char *str, size_t len);

#endif
