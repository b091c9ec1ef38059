/*
 * smtpd_token - split an SMTP command line into words and extract the
 * envelope address of MAIL FROM / RCPT TO / VRFY (smtpd_token.h).
 *
 * Public functions:
 *   smtpd_token(line, &argv)        words of a command line
 *   smtpd_addr_extract(args, argc, result, flags)
 *                                   the address among the words after
 *                                   "FROM:" / "TO:"
 *   smtpd_token_utf8_ok(str, len)   whether str is well-formed UTF-8
 *
 * Both parsers are pure (no I/O, no configuration) so that a fuzz target
 * can call them with any input. Errors are return values only.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "mymalloc.h"
#include "smtpd_token.h"
#include "vstring.h"

static SMTPD_TOKEN *smtpd_token_argv;
static int smtpd_token_size;

/* Grow the token array to hold at least N tokens. */
static void smtpd_token_grow(int n)
{
    if (n <= smtpd_token_size)
        return;
    int new_size = smtpd_token_size ? smtpd_token_size : 8;

    while (new_size < n)
        new_size *= 2;
    smtpd_token_argv = myrealloc(smtpd_token_argv, (size_t)new_size * sizeof(*smtpd_token_argv));
    for (int i = smtpd_token_size; i < new_size; i++) {
        smtpd_token_argv[i].vstrval = vstring_alloc(32);
        smtpd_token_argv[i].strval = vstring_str(smtpd_token_argv[i].vstrval);
        smtpd_token_argv[i].tokval = SMTPD_TOK_OTHER;
    }
    smtpd_token_size = new_size;
}

/* True for the blanks that separate command words. */
static bool smtpd_token_space(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * Copy one word starting at *cpp into vp and advance *cpp. Quoted strings
 * and <...> groups keep their blanks; returns SMTPD_TOK_ERROR when a quote
 * or a < is not closed, else SMTPD_TOK_OTHER.
 */
static int smtpd_token_word(const char **cpp, VSTRING *vp)
{
    const char *cp = *cpp;
    int level = 0;
    bool quoted = false;
    int result = SMTPD_TOK_OTHER;

    for (; *cp; cp++) {
        int ch = (unsigned char)*cp;

        if (quoted) {
            if (ch == '\\' && cp[1]) {
                vstring_addch(vp, ch);
                ch = (unsigned char)*++cp;
            } else if (ch == '"') {
                quoted = false;
            }
        } else if (ch == '"') {
            quoted = true;
        } else if (ch == '\\' && cp[1]) {
            vstring_addch(vp, ch);
            ch = (unsigned char)*++cp;
        } else if (ch == '<') {
            level++;
        } else if (ch == '>' && level > 0) {
            level--;
        } else if (level == 0 && smtpd_token_space(ch)) {
            break;
        }
        vstring_addch(vp, ch);
    }
    if (quoted || level > 0)
        result = SMTPD_TOK_ERROR;
    *cpp = cp;
    return result;
}

/* Split LINE into words; see smtpd_token.h. */
int smtpd_token(char *line, SMTPD_TOKEN **argvp)
{
    const char *cp = line;
    int argc = 0;

    for (;;) {
        while (*cp && smtpd_token_space((unsigned char)*cp))
            cp++;
        if (*cp == 0)
            break;
        smtpd_token_grow(argc + 1);
        SMTPD_TOKEN *tp = smtpd_token_argv + argc;

        vstring_reset(tp->vstrval);
        tp->tokval = smtpd_token_word(&cp, tp->vstrval);
        tp->strval = vstring_str(tp->vstrval);
        if (tp->tokval == SMTPD_TOK_OTHER && tp->strval[0] == '<') {
            size_t len = VSTRING_LEN(tp->vstrval);

            /* A whole <...> word is an address; strip the brackets. */
            if (len >= 2 && tp->strval[len - 1] == '>') {
                tp->strval[len - 1] = 0;
                tp->strval++;
                tp->tokval = SMTPD_TOK_ADDR;
            }
        }
        argc++;
    }
    smtpd_token_grow(argc + 1);
    *argvp = smtpd_token_argv;
    return argc;
}

/* Whether the LEN bytes at STR are well-formed UTF-8 (no overlongs, no surrogates). */
bool smtpd_token_utf8_ok(const char *str, size_t len)
{
    const unsigned char *cp = (const unsigned char *)str;
    const unsigned char *end = cp + len;

    while (cp < end) {
        unsigned ch = *cp++;
        int more;
        unsigned min;
        unsigned code;

        if (ch < 0x80)
            continue;
        if (ch >= 0xc2 && ch <= 0xdf)
            more = 1, min = 0x80, code = ch & 0x1f;
        else if (ch >= 0xe0 && ch <= 0xef)
            more = 2, min = 0x800, code = ch & 0x0f;
        else if (ch >= 0xf0 && ch <= 0xf4)
            more = 3, min = 0x10000, code = ch & 0x07;
        else
            return false;
        if (end - cp < more)
            return false;
        while (more-- > 0) {
            if ((*cp & 0xc0) != 0x80)
                return false;
            code = (code << 6) | (*cp++ & 0x3f);
        }
        if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
            return false;
    }
    return true;
}

/*
 * Turn the text of an address (brackets removed) into its internal form
 * in RESULT: drop a source route, remove quotes and backslash escapes.
 * Returns false for bad syntax.
 */
static bool smtpd_addr_internal(const char *text, VSTRING *result, int flags)
{
    const char *cp = text;
    bool quoted = false;
    bool eight_bit = false;

    vstring_reset(result);
    /* Source route "@a,@b:user@domain": keep what follows the last ':'. */
    if (*cp == '@') {
        const char *colon = NULL;

        for (const char *p = cp; *p && *p != '"'; p++)
            if (*p == ':') {
                colon = p;
                break;
            }
        if (colon == NULL)
            return false;
        cp = colon + 1;
    }
    for (; *cp; cp++) {
        int ch = (unsigned char)*cp;

        if (ch >= 0x80)
            eight_bit = true;
        if (quoted) {
            if (ch == '"') {
                quoted = false;
                continue;
            }
            if (ch == '\\') {
                if (cp[1] == 0)
                    return false;
                ch = (unsigned char)*++cp;
            }
            if (ch == '\r' || ch == '\n' || ch == 0)
                return false;
        } else if (ch == '"') {
            quoted = true;
            continue;
        } else if (ch == '\\') {
            if (cp[1] == 0)
                return false;
            ch = (unsigned char)*++cp;
        } else if (ch <= ' ' || ch == 0x7f || ch == '<' || ch == '>' || ch == '(' || ch == ')' || ch == ',' ||
                   ch == ';') {
            return false;
        }
        vstring_addch(result, ch);
    }
    if (quoted)
        return false;
    if (eight_bit && ((flags & SMTPD_ADDR_UTF8) == 0 || !smtpd_token_utf8_ok(text, strlen(text))))
        return false;
    if (VSTRING_LEN(result) == 0 && (flags & SMTPD_ADDR_EMPTY_OK) == 0)
        return false;
    return true;
}

/* True when a word may be part of an RFC 822 phrase before <address>. */
static bool smtpd_addr_phrase_word(const SMTPD_TOKEN *tp)
{
    return tp->tokval == SMTPD_TOK_OTHER && strchr(tp->strval, '=') == NULL &&
           strchr(tp->strval, '<') == NULL && strchr(tp->strval, '>') == NULL;
}

/* Extract the envelope address; see smtpd_token.h. */
int smtpd_addr_extract(SMTPD_TOKEN *args, int argc, VSTRING *result, int flags)
{
    int addr_at = -1;

    vstring_reset(result);
    if (argc <= 0)
        return -1;
    for (int i = 0; i < argc; i++)
        if (args[i].tokval == SMTPD_TOK_ERROR)
            return -1;
    if (args[0].tokval == SMTPD_TOK_ADDR) {
        addr_at = 0;
    } else if (flags & SMTPD_ADDR_STRICT) {
        return -1;
    } else {
        /* "Phrase <addr>": only phrase words may precede the address. */
        for (int i = 0; i < argc; i++) {
            if (args[i].tokval == SMTPD_TOK_ADDR) {
                addr_at = i;
                break;
            }
            if (!smtpd_addr_phrase_word(args + i))
                break;
        }
        if (addr_at < 0) {
            /* A bare address. */
            if (!smtpd_addr_internal(args[0].strval, result, flags & ~SMTPD_ADDR_EMPTY_OK))
                return -1;
            return 1;
        }
    }
    if (!smtpd_addr_internal(args[addr_at].strval, result, flags))
        return -1;
    return addr_at + 1;
}
