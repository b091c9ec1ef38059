/*
 * header_body_checks - the actions of header_checks, mime_header_checks,
 * nested_header_checks and body_checks results (and of the SMTP client's
 * smtp_*_checks, which support a subset).
 *
 * header_body_checks_parse(result, buf, value, title) parses a table
 * result "ACTION [text]" (ACTION case-insensitive) into result->action
 * (HBC_*) and result->text (the optional text, "" when none; it points
 * into buf or into value, valid while both are). title is the parameter
 * name used in warnings ("header_checks"). For REJECT the text is the
 * complete reason: an optional text that does not start with an enhanced
 * status code 4.x.x or 5.x.x gets "5.7.1 " in front; no text gives
 * "5.7.1 message content rejected". result->defer is set when the
 * reason is a 4.x.x one.
 *
 * header_body_checks_name(action) is the lower-case word of the log line
 * ("reject", "warning", "info", "hold", "discard", "filter", "redirect",
 * "bcc", "prepend", "replace", "strip", "pass"), NULL for actions that log
 * nothing.
 *
 * Errors: an unknown action or an action whose argument is missing or
 * malformed (FILTER without transport:destination, REDIRECT/BCC without
 * user@domain, PREPEND/REPLACE without text) logs a warning and returns
 * HBC_INVALID, which callers treat like DUNNO:
 *   warning: unknown command in TITLE map: VALUE
 *   warning: bad FILTER command TEXT in TITLE -- need transport:destination
 *   warning: bad REDIRECT target "TEXT" in TITLE map, need user@domain
 *   warning: bad BCC address "TEXT" in TITLE map, need user@domain
 *   warning: PREPEND action without text in TITLE map
 */
#ifndef HEADER_BODY_CHECKS_H
#define HEADER_BODY_CHECKS_H

#include <stdbool.h>

#include "vstring.h"

typedef enum HBC_ACTION {
    HBC_DUNNO,   /* no match, DUNNO, OK */
    HBC_INVALID, /* bad result, already logged; acts as DUNNO */
    HBC_REJECT,
    HBC_DISCARD,
    HBC_HOLD,
    HBC_FILTER,
    HBC_REDIRECT,
    HBC_BCC,
    HBC_PREPEND,
    HBC_REPLACE,
    HBC_IGNORE,
    HBC_STRIP,
    HBC_WARN,
    HBC_INFO,
    HBC_PASS,
} HBC_ACTION;

typedef struct HBC_RESULT {
    HBC_ACTION action;
    const char *text; /* optional text, "" when none */
    bool defer;       /* REJECT with a 4.x.x reason */
} HBC_RESULT;

extern HBC_ACTION header_body_checks_parse(HBC_RESULT *result, VSTRING *buf, const char *value,
                                           const char *title);
extern const char *header_body_checks_name(HBC_ACTION action);

#endif
