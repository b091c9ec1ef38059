/*
 * header_body_checks - parse a header/body check result into an action
 * (see header_body_checks.h).
 */
#include "sys_defs.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "header_body_checks.h"
#include "msg.h"

#define HBC_DEFAULT_DSN    "5.7.1"
#define HBC_DEFAULT_REJECT "message content rejected"

/* The action words, their codes, and what the argument must look like. */
#define HBC_ARG_NONE     0 /* text ignored */
#define HBC_ARG_OPTIONAL 1
#define HBC_ARG_REQUIRED 2 /* PREPEND, REPLACE */
#define HBC_ARG_ADDRESS  3 /* REDIRECT, BCC: user@domain */
#define HBC_ARG_FILTER   4 /* transport:destination */

static const struct {
    const char *word;
    HBC_ACTION action;
    int arg;
    const char *log_name;
} header_body_checks_table[] = {
    {"REJECT", HBC_REJECT, HBC_ARG_OPTIONAL, "reject"},
    {"DISCARD", HBC_DISCARD, HBC_ARG_OPTIONAL, "discard"},
    {"HOLD", HBC_HOLD, HBC_ARG_OPTIONAL, "hold"},
    {"FILTER", HBC_FILTER, HBC_ARG_FILTER, "filter"},
    {"REDIRECT", HBC_REDIRECT, HBC_ARG_ADDRESS, "redirect"},
    {"BCC", HBC_BCC, HBC_ARG_ADDRESS, "bcc"},
    {"PREPEND", HBC_PREPEND, HBC_ARG_REQUIRED, "prepend"},
    {"REPLACE", HBC_REPLACE, HBC_ARG_REQUIRED, "replace"},
    {"IGNORE", HBC_IGNORE, HBC_ARG_NONE, NULL},
    {"STRIP", HBC_STRIP, HBC_ARG_OPTIONAL, "strip"},
    {"WARN", HBC_WARN, HBC_ARG_OPTIONAL, "warning"},
    {"INFO", HBC_INFO, HBC_ARG_OPTIONAL, "info"},
    {"PASS", HBC_PASS, HBC_ARG_OPTIONAL, "pass"},
    {"DUNNO", HBC_DUNNO, HBC_ARG_NONE, NULL},
    {"OK", HBC_DUNNO, HBC_ARG_NONE, NULL},
};

#define HBC_TABLE_LEN (sizeof(header_body_checks_table) / sizeof(header_body_checks_table[0]))

/* Length of an enhanced status code "C.S.D" (C 4 or 5) at text, or 0. */
static size_t header_body_checks_dsn_len(const char *text)
{
    const char *cp = text;

    if (*cp != '4' && *cp != '5')
        return 0;
    cp++;
    for (int part = 0; part < 2; part++) {
        size_t digits = 0;

        if (*cp++ != '.')
            return 0;
        while (isdigit((unsigned char)*cp) && digits < 3)
            cp++, digits++;
        if (digits == 0)
            return 0;
    }
    return *cp == 0 || *cp == ' ' || *cp == '\t' ? (size_t)(cp - text) : 0;
}

/* Parse "ACTION [text]" into result; see header_body_checks.h. */
HBC_ACTION header_body_checks_parse(HBC_RESULT *result, VSTRING *buf, const char *value, const char *title)
{
    size_t word_len = strcspn(value, " \t");
    const char *text = value + word_len;
    size_t i;

    result->action = HBC_INVALID;
    result->text = "";
    result->defer = false;
    while (*text == ' ' || *text == '\t')
        text++;
    for (i = 0; i < HBC_TABLE_LEN; i++)
        if (strlen(header_body_checks_table[i].word) == word_len &&
            strncasecmp(header_body_checks_table[i].word, value, word_len) == 0)
            break;
    if (i == HBC_TABLE_LEN || word_len == 0) {
        msg_warn("unknown command in %s map: %s", title, value);
        return result->action;
    }
    switch (header_body_checks_table[i].arg) {
    case HBC_ARG_NONE:
        break;
    case HBC_ARG_OPTIONAL:
        result->text = text;
        break;
    case HBC_ARG_REQUIRED:
        if (*text == 0) {
            msg_warn("%s action without text in %s map", header_body_checks_table[i].word, title);
            return result->action;
        }
        result->text = text;
        break;
    case HBC_ARG_ADDRESS:
        if (strchr(text, '@') == NULL || strpbrk(text, " \t") != NULL) {
            msg_warn("bad %s %s \"%s\" in %s map, need user@domain", header_body_checks_table[i].word,
                     header_body_checks_table[i].action == HBC_BCC ? "address" : "target", text, title);
            return result->action;
        }
        result->text = text;
        break;
    case HBC_ARG_FILTER:
        if (*text == 0) {
            msg_warn("missing FILTER command argument in %s map", title);
            return result->action;
        }
        if (strchr(text, ':') == NULL) {
            msg_warn("bad FILTER command %s in %s -- need transport:destination", text, title);
            return result->action;
        }
        result->text = text;
        break;
    }
    if (header_body_checks_table[i].action == HBC_REJECT) {
        if (*text == 0)
            vstring_strcpy(buf, HBC_DEFAULT_DSN " " HBC_DEFAULT_REJECT);
        else if (header_body_checks_dsn_len(text) > 0)
            vstring_strcpy(buf, text);
        else
            vstring_sprintf(buf, "%s %s", HBC_DEFAULT_DSN, text);
        result->text = vstring_str(buf);
        result->defer = result->text[0] == '4';
    }
    result->action = header_body_checks_table[i].action;
    return result->action;
}

/* The log word of an action, or NULL. */
const char *header_body_checks_name(HBC_ACTION action)
{
    for (size_t i = 0; i < HBC_TABLE_LEN; i++)
        if (header_body_checks_table[i].action == action)
            return header_body_checks_table[i].log_name;
    return NULL;
}
