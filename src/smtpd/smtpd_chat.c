/*
 * smtpd_chat - what the SMTP server says and reads (smtpd_chat.h).
 *
 * Public functions:
 *   smtpd_chat_reply()    rewrite (soft_bounce, footer, length, printable)
 *                         and buffer one reply; tarpit delay
 *   smtpd_chat_query()    read one command line (line_length_limit, bare
 *                         <LF> policy)
 *   smtpd_chat_pending()  client input already waiting
 *   smtpd_chat_flush()    write buffered replies
 *   smtpd_chat_format()   the rewriting alone (unit tests)
 *   smtpd_chat_strip_esc()  drop the enhanced status codes of a formatted
 *                         reply (ENHANCEDSTATUSCODES discarded)
 *   smtpd_chat_bare_lf_mode()  the smtpd_forbid_bare_newline mode for
 *                         this client
 *
 * Replies go into the client stream's write buffer; the stream flushes
 * them before it reads, so pipelined replies leave in one write. I/O
 * errors and timeouts call smtpd_chat_lost_hook (set by smtpd.c), which
 * never returns.
 */
#include "sys_defs.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dict.h"
#include "iostuff.h"
#include "mac_expand.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mymalloc.h"
#include "maps.h"
#include "msg.h"
#include "smtpd_chat.h"
#include "smtpd_check.h"
#include "stringops.h"
#include "vstream.h"
#include "vstring.h"

#define SMTPD_CHAT_REPLY_MAX 510 /* characters per reply line, as Postfix */

void (*smtpd_chat_lost_hook)(SMTPD_STATE *state, const char *why);

static MAPS *smtpd_chat_footer_maps;

/* Give up on the client: the hook logs and ends the session. */
static NORETURN smtpd_chat_lost(SMTPD_STATE *state, const char *why)
{
    if (smtpd_chat_lost_hook)
        smtpd_chat_lost_hook(state, why);
    msg_fatal("%s after %s from %s", why, state->where ? state->where : "CONNECT",
              state->namaddr ? state->namaddr : "unknown");
}

/* Look up a footer macro: $client_address, $client_name, ... */
static const char *smtpd_chat_macro(const char *name, void *context)
{
    SMTPD_STATE *state = context;
    static char timebuf[64];

    if (strcmp(name, "client_address") == 0)
        return state->addr;
    if (strcmp(name, "client_name") == 0)
        return state->name;
    if (strcmp(name, "client_port") == 0)
        return state->port;
    if (strcmp(name, "server_name") == 0)
        return var_myhostname;
    if (strcmp(name, "localtime") == 0) {
        time_t now = time(NULL);
        struct tm tm;

        strftime(timebuf, sizeof(timebuf), "%b %d %H:%M:%S", localtime_r(&now, &tm));
        return timebuf;
    }
    return mail_conf_eval(name);
}

/* The footer text for this client, or NULL. */
static const char *smtpd_chat_footer(SMTPD_STATE *state)
{
    if (var_smtpd_reject_footer_maps && *var_smtpd_reject_footer_maps && state->addr) {
        const char *value;

        if (smtpd_chat_footer_maps == NULL)
            smtpd_chat_footer_maps = maps_create("smtpd_reject_footer_maps", var_smtpd_reject_footer_maps, 0);
        if ((value = maps_find(smtpd_chat_footer_maps, state->addr, 0)) != NULL)
            return value;
    }
    return var_smtpd_reject_footer && *var_smtpd_reject_footer ? var_smtpd_reject_footer : NULL;
}

/* Clean one output line: cut to the limit, non-printables become spaces. */
static void smtpd_chat_clean(VSTRING *line)
{
    if (VSTRING_LEN(line) > SMTPD_CHAT_REPLY_MAX)
        vstring_truncate(line, SMTPD_CHAT_REPLY_MAX);
    for (char *cp = vstring_str(line); *cp; cp++)
        if ((unsigned char)*cp < ' ' || (unsigned char)*cp == 0x7f)
            *cp = ' ';
}

/*
 * Rewrite REPLY into OUT as the lines to send, each ending in CRLF:
 * soft_bounce, the reject footer (FOOTER, already expanded, or NULL),
 * the length limit and printable characters.
 */
void smtpd_chat_format(VSTRING *out, const char *reply, bool soft_bounce, const char *footer)
{
    VSTRING *text = vstring_alloc(100);
    VSTRING *line = vstring_alloc(100);
    char code[4] = "";
    char dsn[16] = "";
    bool last = false;

    vstring_strcpy(text, reply);
    char *cp = vstring_str(text);

    if (soft_bounce && cp[0] == '5' && VSTRING_LEN(text) >= 3) {
        cp[0] = '4';
        if ((cp[3] == ' ' || cp[3] == '-') && cp[4] == '5' && cp[5] == '.')
            cp[4] = '4';
    }
    if (VSTRING_LEN(text) >= 3 && (cp[0] == '4' || cp[0] == '5') && (cp[3] == ' ' || cp[3] == 0))
        last = true;
    vstring_reset(out);
    if (footer && *footer && last) {
        memcpy(code, cp, 3);
        if (cp[3] == ' ') {
            size_t n = strspn(cp + 4, "0123456789.");

            if (n > 0 && n < sizeof(dsn) && cp[4 + n] == ' ' && strchr(cp + 4, '.') < cp + 4 + n)
                memcpy(dsn, cp + 4, n);
        }
        if (strncmp(footer, "\\c", 2) == 0) {
            vstring_strcat(text, footer + 2);
            footer = NULL;
        } else {
            cp[3] = '-';
        }
    }
    vstring_strcpy(line, vstring_str(text));
    smtpd_chat_clean(line);
    vstring_strcat(out, vstring_str(line));
    vstring_strcat(out, "\r\n");
    if (footer && *footer && last) {
        /* Footer lines: "\n" (escaped or real) starts a new line. */
        const char *fp = footer;

        while (fp) {
            const char *nl = strstr(fp, "\\n");
            const char *real = strchr(fp, '\n');
            size_t skip = 2;

            if (real && (nl == NULL || real < nl))
                nl = real, skip = 1;
            vstring_sprintf(line, "%s%c%s%s", code, nl ? '-' : ' ', dsn, *dsn ? " " : "");
            vstring_strncat(line, fp, nl ? (size_t)(nl - fp) : strlen(fp));
            smtpd_chat_clean(line);
            vstring_strcat(out, vstring_str(line));
            vstring_strcat(out, "\r\n");
            fp = nl ? nl + skip : NULL;
        }
    }
    vstring_free(text);
    vstring_free(line);
}

/* Send one reply; see smtpd_chat.h. */
/* Remove the enhanced status code ("NNN X.Y.Z text" -> "NNN text") from
 * every line of a formatted reply (smtpd_discard_ehlo_keywords). */
void smtpd_chat_strip_esc(VSTRING *out)
{
    char *start = vstring_str(out);
    char *line = start;
    char *dst = start;
    char *end = vstring_end(out);

    while (line < end) {
        char *eol = memchr(line, '\n', (size_t)(end - line));
        char *next = eol ? eol + 1 : end;
        size_t skip = 0;

        if (next - line > 4 && (line[3] == ' ' || line[3] == '-') && line[4] == line[0]) {
            size_t n = strspn(line + 4, "0123456789.");

            if (line[4 + n] == ' ' && memchr(line + 4, '.', n) != NULL)
                skip = n + 1;
        }
        memmove(dst, line, 4);
        memmove(dst + 4, line + 4 + skip, (size_t)(next - line) - 4 - skip);
        dst += (next - line) - skip;
        line = next;
    }
    vstring_truncate(out, (size_t)(dst - start));
}

void smtpd_chat_reply(SMTPD_STATE *state, const char *fmt, ...)
{
    VSTRING *reply = vstring_alloc(100);
    VSTRING *out = vstring_alloc(100);
    VSTRING *footer = NULL;
    const char *footer_text = NULL;
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf(reply, fmt, ap);
    va_end(ap);
    if ((vstring_str(reply)[0] == '4' || vstring_str(reply)[0] == '5') &&
        (footer_text = smtpd_chat_footer(state)) != NULL) {
        footer = vstring_alloc(100);
        (void)mac_expand(footer, footer_text, 0, smtpd_chat_macro, state);
        footer_text = vstring_str(footer);
    }
    smtpd_chat_format(out, vstring_str(reply), var_soft_bounce, footer_text);
    if (state->flags & SMTPD_FLAG_NO_ESC)
        smtpd_chat_strip_esc(out);
    if (state->error_count >= var_smtpd_soft_error_limit && var_smtpd_error_sleep_time > 0) {
        smtpd_chat_flush(state);
        sleep((unsigned)var_smtpd_error_sleep_time);
    }
    if (strncmp(vstring_str(out), "421", 3) == 0 || strncmp(vstring_str(out), "521", 3) == 0)
        state->flags |= SMTPD_FLAG_HANGUP;
    if (msg_verbose)
        msg_info("> %s: %s", state->namaddr, vstring_str(reply));
    if (vstream_fwrite(state->client, vstring_str(out), VSTRING_LEN(out)) == VSTREAM_EOF) {
        vstring_free(reply);
        vstring_free(out);
        if (footer)
            vstring_free(footer);
        smtpd_chat_lost(state, vstream_ftimeout(state->client) ? "timeout" : "lost connection");
    }
    vstring_free(reply);
    vstring_free(out);
    if (footer)
        vstring_free(footer);
}

/* Write buffered replies now. */
void smtpd_chat_flush(SMTPD_STATE *state)
{
    if (vstream_fflush(state->client) == VSTREAM_EOF)
        smtpd_chat_lost(state, vstream_ftimeout(state->client) ? "timeout" : "lost connection");
}

/* True when input is waiting: buffered, or readable on a socket. */
bool smtpd_chat_pending(SMTPD_STATE *state)
{
    if (vstream_peek(state->client) > 0)
        return true;
    if (state->addr_family == AF_UNSPEC)
        return false;
    return read_wait(vstream_fileno(state->client), 0) == 0;
}

/* The smtpd_forbid_bare_newline mode that applies to this client. */
int smtpd_chat_bare_lf_mode(SMTPD_STATE *state)
{
    static char *exempt_addr; /* the client address the cached answer is for */
    static bool exempt;
    const char *mode = var_smtpd_forbid_bare_newline;

    if (mode == NULL || strcasecmp(mode, "no") == 0)
        return SMTPD_BARE_LF_NO;
    if (exempt_addr == NULL || state->addr == NULL || strcmp(exempt_addr, state->addr) != 0) {
        myfree(exempt_addr);
        exempt_addr = mystrdup(state->addr ? state->addr : "");
        exempt = smtpd_check_bare_lf_exempt(state);
    }
    if (exempt)
        return SMTPD_BARE_LF_NO;
    if (strcasecmp(mode, "reject") == 0)
        return SMTPD_BARE_LF_REJECT;
    if (strcasecmp(mode, "note") == 0)
        return SMTPD_BARE_LF_NOTE;
    return SMTPD_BARE_LF_NORMALIZE;
}

/* Read one command line; see smtpd_chat.h. */
int smtpd_chat_query(SMTPD_STATE *state)
{
    size_t limit = var_line_length_limit > 0 ? (size_t)var_line_length_limit : 2048;
    int status;
    int ch;

    smtpd_chat_flush(state);
    status = vstream_fgets_limit(state->buffer, state->client, limit + 2);
    if (status == VSTREAM_LINE_EOF || status == VSTREAM_LINE_PARTIAL)
        smtpd_chat_lost(state, vstream_ftimeout(state->client) ? "timeout" : "lost connection");
    if (status == VSTREAM_LINE_LIMIT) {
        /* Read and drop the rest of the overlong line. */
        while ((ch = vstream_getc(state->client)) != VSTREAM_EOF && ch != '\n')
            /* void */;
        if (ch == VSTREAM_EOF)
            smtpd_chat_lost(state, vstream_ftimeout(state->client) ? "timeout" : "lost connection");
        vstring_reset(state->buffer);
        errno = EFBIG;
        return -1;
    }
    /* Strip the line end and note a bare <LF>. */
    size_t len = VSTRING_LEN(state->buffer);
    char *cp = vstring_str(state->buffer);
    bool bare = true;

    if (len > 0 && cp[len - 1] == '\n')
        len--;
    if (len > 0 && cp[len - 1] == '\r')
        len--, bare = false;
    vstring_truncate(state->buffer, len);
    if (msg_verbose)
        msg_info("< %s: %s", state->namaddr, vstring_str(state->buffer));
    if (bare) {
        int mode = smtpd_chat_bare_lf_mode(state);

        if (mode != SMTPD_BARE_LF_NO)
            state->flags |= SMTPD_FLAG_BARE_LF;
        if (mode == SMTPD_BARE_LF_REJECT)
            return 1;
    }
    return 0;
}
