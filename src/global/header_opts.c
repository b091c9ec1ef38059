/*
 * header_opts - the table of header names with special meaning and the
 * message_drop_headers list (see header_opts.h).
 */
#include "sys_defs.h"

#include <string.h>
#include <strings.h>

#include "argv.h"
#include "header_opts.h"
#include "mymalloc.h"
#include "stringops.h"

static const HEADER_OPTS header_opts_table[] = {
    {"Apparently-To", HDR_APPARENTLY_TO, HDR_OPT_RECIP},
    {"Bcc", HDR_BCC, HDR_OPT_RECIP | HDR_OPT_EXTRACT},
    {"Cc", HDR_CC, HDR_OPT_RECIP | HDR_OPT_EXTRACT},
    {"Content-Description", HDR_CONTENT_DESCRIPTION, HDR_OPT_MIME},
    {"Content-Disposition", HDR_CONTENT_DISPOSITION, HDR_OPT_MIME},
    {"Content-ID", HDR_CONTENT_ID, HDR_OPT_MIME},
    {"Content-Length", HDR_CONTENT_LENGTH, 0},
    {"Content-Transfer-Encoding", HDR_CONTENT_TRANSFER_ENCODING, HDR_OPT_MIME},
    {"Content-Type", HDR_CONTENT_TYPE, HDR_OPT_MIME},
    {"Date", HDR_DATE, 0},
    {"Delivered-To", HDR_DELIVERED_TO, 0},
    {"Errors-To", HDR_ERRORS_TO, HDR_OPT_SENDER},
    {"From", HDR_FROM, HDR_OPT_SENDER},
    {"Message-ID", HDR_MESSAGE_ID, 0},
    {"MIME-Version", HDR_MIME_VERSION, HDR_OPT_MIME},
    {"Received", HDR_RECEIVED, 0},
    {"Reply-To", HDR_REPLY_TO, HDR_OPT_SENDER},
    {"Resent-Bcc", HDR_RESENT_BCC, HDR_OPT_RECIP | HDR_OPT_EXTRACT | HDR_OPT_RR},
    {"Resent-Cc", HDR_RESENT_CC, HDR_OPT_RECIP | HDR_OPT_EXTRACT | HDR_OPT_RR},
    {"Resent-Date", HDR_RESENT_DATE, HDR_OPT_RR},
    {"Resent-From", HDR_RESENT_FROM, HDR_OPT_SENDER | HDR_OPT_RR},
    {"Resent-Message-ID", HDR_RESENT_MESSAGE_ID, HDR_OPT_RR},
    {"Resent-Reply-To", HDR_RESENT_REPLY_TO, HDR_OPT_SENDER | HDR_OPT_RR},
    {"Resent-Sender", HDR_RESENT_SENDER, HDR_OPT_SENDER | HDR_OPT_RR},
    {"Resent-To", HDR_RESENT_TO, HDR_OPT_RECIP | HDR_OPT_EXTRACT | HDR_OPT_RR},
    {"Return-Path", HDR_RETURN_PATH, 0},
    {"Return-Receipt-To", HDR_RETURN_RECEIPT_TO, HDR_OPT_SENDER},
    {"Sender", HDR_SENDER, HDR_OPT_SENDER},
    {"To", HDR_TO, HDR_OPT_RECIP | HDR_OPT_EXTRACT},
    {"X-Original-To", HDR_X_ORIGINAL_TO, 0},
};

/* message_drop_headers, lower case. */
static ARGV *header_opts_drop_list;

/* The table entry for a header name, or NULL. */
const HEADER_OPTS *header_opts_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(header_opts_table) / sizeof(header_opts_table[0]); i++) {
        const HEADER_OPTS *hp = header_opts_table + i;

        if (strlen(hp->name) == len && strncasecmp(hp->name, name, len) == 0)
            return hp;
    }
    return NULL;
}

/* Set the names that message_drop_headers removes. */
void header_opts_drop_init(const char *names)
{
    char *copy = mystrdup(names ? names : "");
    char *bp = copy;
    char *name;

    if (header_opts_drop_list)
        argv_free(header_opts_drop_list);
    header_opts_drop_list = argv_alloc(4);
    while ((name = mystrtok(&bp, CHARS_COMMA_SP)) != NULL)
        argv_add(header_opts_drop_list, lowercase(name));
    myfree(copy);
}

/* Is this header name on the message_drop_headers list? */
bool header_opts_drop(const char *name, size_t len)
{
    if (header_opts_drop_list == NULL)
        return false;
    for (size_t i = 0; i < header_opts_drop_list->argc; i++) {
        const char *drop = header_opts_drop_list->argv[i];

        if (strlen(drop) == len && strncasecmp(drop, name, len) == 0)
            return true;
    }
    return false;
}
