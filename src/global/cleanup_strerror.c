/*
 * cleanup_strerror - what a cleanup reply status means to a client: the
 * short text, the SMTP reply code and enhanced status code smtpd sends,
 * and receive_override_options as flags to clear. See cleanup_user.h.
 *
 * Public functions: cleanup_strerror(), cleanup_stat_detail(),
 * input_transp_cleanup().
 *
 * When several status bits are set, the first row of the table that
 * matches wins (temporary problems before permanent ones, so a message
 * is never bounced for what a retry could fix). Unknown bits from a
 * misbehaving peer read as an internal protocol error, never a crash.
 * input_transp_cleanup() warns about an unknown option name and ignores
 * it (Postfix makes this fatal).
 */
#include "sys_defs.h"

#include <string.h>

#include "cleanup_user.h"
#include "msg.h"

/* In order of precedence; smtpd's texts ("Error: " + the short text). */
#define CLEANUP_STAT_PREFIX "Error: "
static const CLEANUP_STAT_DETAIL cleanup_stat_table[] = {
    {CLEANUP_STAT_DEFER, 451, "4.7.1", CLEANUP_STAT_PREFIX "service unavailable"},
    {CLEANUP_STAT_PROXY, 451, "4.3.0", CLEANUP_STAT_PREFIX "queue file write error"},
    {CLEANUP_STAT_BAD, 451, "4.3.0", CLEANUP_STAT_PREFIX "internal protocol error"},
    {CLEANUP_STAT_WRITE, 451, "4.3.0", CLEANUP_STAT_PREFIX "queue file write error"},
    {CLEANUP_STAT_RCPT, 550, "5.1.0", CLEANUP_STAT_PREFIX "no recipients specified"},
    {CLEANUP_STAT_HOPS, 554, "5.4.0", CLEANUP_STAT_PREFIX "too many hops"},
    {CLEANUP_STAT_SIZE, 552, "5.3.4", CLEANUP_STAT_PREFIX "message file too big"},
    {CLEANUP_STAT_CONT, 550, "5.7.1", CLEANUP_STAT_PREFIX "message content rejected"},
};

static const CLEANUP_STAT_DETAIL cleanup_stat_success = {CLEANUP_STAT_OK, 250, "2.0.0", "Success"};

/* The table index for STATUS (non-zero): first matching bit, else BAD. */
static size_t cleanup_stat_index(unsigned status)
{
    size_t bad = 0;

    for (size_t i = 0; i < ARRAY_LEN(cleanup_stat_table); i++) {
        if (status & cleanup_stat_table[i].status)
            return i;
        if (cleanup_stat_table[i].status == CLEANUP_STAT_BAD)
            bad = i;
    }
    msg_warn("cleanup status 0x%x has no known bit", status);
    return bad;
}

/* The short text of the most important bit of STATUS ("Success" for none). */
const char *cleanup_strerror(unsigned status)
{
    if (status == CLEANUP_STAT_OK)
        return cleanup_stat_success.text;
    return cleanup_stat_table[cleanup_stat_index(status)].text + sizeof(CLEANUP_STAT_PREFIX) - 1;
}

/* SMTP code, enhanced status code and smtpd's text for STATUS. */
const CLEANUP_STAT_DETAIL *cleanup_stat_detail(unsigned status)
{
    if (status == CLEANUP_STAT_OK)
        return &cleanup_stat_success;
    return &cleanup_stat_table[cleanup_stat_index(status)];
}

/* receive_override_options names and the cleanup flags each one clears. */
static const struct {
    const char *name;
    int clear;
} input_transp_table[] = {
    {"no_unknown_recipient_checks", 0}, /* smtpd's business, not cleanup's */
    {"no_address_mappings", CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_BCC_OK},
    {"no_header_body_checks", CLEANUP_FLAG_FILTER},
    {"no_milters", 0}, /* milters are not supported */
};

/* FLAGS minus what the receive_override_options value OPTIONS turns off. */
int input_transp_cleanup(int flags, const char *options)
{
    const char *cp = options ? options : "";

    while (*cp) {
        size_t len;
        size_t i;

        cp += strspn(cp, ", \t\r\n");
        if ((len = strcspn(cp, ", \t\r\n")) == 0)
            break;
        for (i = 0; i < ARRAY_LEN(input_transp_table); i++) {
            if (strlen(input_transp_table[i].name) == len &&
                strncasecmp(cp, input_transp_table[i].name, len) == 0) {
                flags &= ~input_transp_table[i].clear;
                break;
            }
        }
        if (i == ARRAY_LEN(input_transp_table))
            msg_warn("unknown receive_override_options value \"%.*s\" in \"%s\"", (int)len, cp, options);
        cp += len;
    }
    return flags;
}
