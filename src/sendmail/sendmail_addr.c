/*
 * sendmail_addr - addresses and header recipients for sendmail. See
 * sendmail_addr.h.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "mymalloc.h"
#include "sendmail_addr.h"
#include "tok822.h"

/* True for tokens that are words (adjacent words are joined by a space). */
static bool sendmail_addr_word(int type)
{
    return type == TOK822_ATOM || type == TOK822_QSTRING || type == TOK822_DLITERAL;
}

/* Append the internal form of tokens [start, end) to OUT as one address. */
static void sendmail_addr_internal(ARGV *out, const TOK822 *tok, size_t start, size_t end)
{
    VSTRING *buf = vstring_alloc(100);
    int prev = 0;

    for (size_t i = start; i < end; i++) {
        if (tok[i].type == TOK822_COMMENT)
            continue;
        if (sendmail_addr_word(tok[i].type)) {
            if (sendmail_addr_word(prev))
                vstring_strcat(buf, " ");
            vstring_memcat(buf, vstring_str(tok[i].text), VSTRING_LEN(tok[i].text));
        } else {
            char ch = (char)tok[i].type;

            vstring_memcat(buf, &ch, 1);
        }
        prev = tok[i].type;
    }
    argv_add(out, vstring_str(buf));
    vstring_free(buf);
}

/* One list element [start, end): the <route-addr> if any, else the words. */
static size_t sendmail_addr_element(ARGV *out, const TOK822 *tok, size_t start, size_t end)
{
    size_t open = end;
    size_t close;
    bool words = false;

    for (size_t i = start; i < end; i++) {
        if (tok[i].type == '<') {
            open = i;
            break;
        }
        if (tok[i].type != TOK822_COMMENT)
            words = true;
    }
    if (open == end) {
        if (!words)
            return 0;
        sendmail_addr_internal(out, tok, start, end);
        return 1;
    }
    for (close = open + 1; close < end && tok[close].type != '>'; close++)
        /* void */;
    /* A source route "<@a,@b:user@x>" keeps only what follows the last colon. */
    for (size_t i = open + 1; i < close; i++)
        if (tok[i].type == ':')
            open = i;
    sendmail_addr_internal(out, tok, open + 1, close);
    return 1;
}

size_t sendmail_addr_extract(ARGV *out, const char *text)
{
    TOK822_LIST *list = tok822_scan(text);
    const TOK822 *tok = list->tokens;
    size_t start = 0;
    size_t found = 0;
    int depth = 0;

    for (size_t i = 0; i <= list->count; i++) {
        int type = i < list->count ? tok[i].type : ',';

        if (type == '<') {
            depth++;
        } else if (type == '>') {
            if (depth > 0)
                depth--;
        } else if (depth == 0 && type == ':') {
            start = i + 1; /* "group:" - the name is not an address */
        } else if ((depth == 0 || i == list->count) && (type == ',' || type == ';')) {
            found += sendmail_addr_element(out, tok, start, i);
            start = i + 1;
        }
    }
    tok822_free(list);
    return found;
}

bool sendmail_addr_is_header(const char *line, size_t len)
{
    size_t i = 0;

    while (i < len && line[i] != ':' && line[i] > ' ' && line[i] < 127)
        i++;
    if (i == 0)
        return false;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i < len && line[i] == ':';
}

SENDMAIL_HDR *sendmail_hdr_alloc(void)
{
    SENDMAIL_HDR *h = mymalloc(sizeof(*h));

    h->header = vstring_alloc(100);
    h->in_headers = true;
    h->at_start = true;
    h->plain = argv_alloc(5);
    h->resent = argv_alloc(5);
    h->saw_resent = false;
    h->rcpt = NULL;
    return h;
}

/* Take the recipients out of the header collected so far, if it has any. */
static void sendmail_hdr_flush(SENDMAIL_HDR *h)
{
    static const char *const names[] = {"to", "cc", "bcc"};
    const char *text = vstring_str(h->header);
    const char *colon = strchr(text, ':');
    bool resent = strncasecmp(text, "resent-", 7) == 0;
    const char *name = resent ? text + 7 : text;
    size_t name_len;

    if (VSTRING_LEN(h->header) == 0 || colon == NULL)
        return;
    name_len = (size_t)(colon - name);
    while (name_len > 0 && (name[name_len - 1] == ' ' || name[name_len - 1] == '\t'))
        name_len--;
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        if (strlen(names[i]) == name_len && strncasecmp(name, names[i], name_len) == 0) {
            if (resent)
                h->saw_resent = true;
            sendmail_addr_extract(resent ? h->resent : h->plain, colon + 1);
            break;
        }
    }
    vstring_truncate(h->header, 0);
}

bool sendmail_hdr_line(SENDMAIL_HDR *h, const char *line, size_t len, bool complete)
{
    if (!h->in_headers)
        return false;
    if (h->at_start) {
        if (len == 0 && complete) {
            sendmail_hdr_flush(h);
            h->in_headers = false;
            return false;
        }
        if (len > 0 && (line[0] == ' ' || line[0] == '\t') && VSTRING_LEN(h->header) > 0) {
            /* A continuation line: unfold it into the current header. */
        } else if (sendmail_addr_is_header(line, len)) {
            sendmail_hdr_flush(h);
        } else {
            sendmail_hdr_flush(h);
            h->in_headers = false;
            return false;
        }
    }
    vstring_memcat(h->header, line, len);
    h->at_start = complete;
    return true;
}

void sendmail_hdr_done(SENDMAIL_HDR *h)
{
    if (h->in_headers)
        sendmail_hdr_flush(h);
    h->in_headers = false;
    h->rcpt = h->saw_resent ? h->resent : h->plain;
}

SENDMAIL_HDR *sendmail_hdr_free(SENDMAIL_HDR *h)
{
    vstring_free(h->header);
    argv_free(h->plain);
    argv_free(h->resent);
    myfree(h);
    return NULL;
}
