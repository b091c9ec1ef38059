/*
 * pipe_attr - parse pipe(8)'s master.cf attributes and expand its argv=
 * macros per request. Interface and errors: pipe_attr.h.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mac_expand.h"
#include "mail_copy.h"
#include "msg.h"
#include "mymalloc.h"
#include "pipe_attr.h"
#include "stringops.h"
#include "tok822.h"
#include "vstring.h"

#define PIPE_DEF_NULL_SENDER "MAILER-DAEMON"

/* The error text of the last failed parse (one daemon, one parse). */
static VSTRING *pipe_attr_err;

/* Format an error text into the static buffer. */
static const char *PRINTFLIKE(1, 2) pipe_attr_error(const char *fmt, ...)
{
    va_list ap;

    if (pipe_attr_err == NULL)
        pipe_attr_err = vstring_alloc(100);
    va_start(ap, fmt);
    vstring_vsprintf(pipe_attr_err, fmt, ap);
    va_end(ap);
    return vstring_str(pipe_attr_err);
}

/* Map the flags= letters; unknown letters are ignored with a warning. */
static void pipe_attr_flags(PIPE_ATTR *attr, const char *value)
{
    for (const char *cp = value; *cp; cp++) {
        switch (*cp) {
        case 'B':
            attr->copy_flags |= MAIL_COPY_BLANK;
            break;
        case 'D':
            attr->copy_flags |= MAIL_COPY_DELIVERED;
            break;
        case 'F':
            attr->copy_flags |= MAIL_COPY_FROM;
            break;
        case 'O':
            attr->copy_flags |= MAIL_COPY_ORIG_RCPT;
            break;
        case 'R':
            attr->copy_flags |= MAIL_COPY_RETURN_PATH;
            break;
        case '.':
            attr->copy_flags |= MAIL_COPY_DOT;
            break;
        case '>':
            attr->copy_flags |= MAIL_COPY_QUOTE;
            break;
        case 'X':
            attr->flags |= PIPE_FLAG_FINAL;
            break;
        case 'h':
            attr->flags |= PIPE_FLAG_FOLD_HOST;
            break;
        case 'q':
            attr->flags |= PIPE_FLAG_QUOTE;
            break;
        case 'u':
            attr->flags |= PIPE_FLAG_FOLD_LOCAL;
            break;
        default:
            msg_warn("unknown pipe flag: %c (ignored)", *cp);
            break;
        }
    }
}

/* Turn the C escapes of an eol= value into bytes; NULL when malformed. */
static char *pipe_attr_unescape(const char *value)
{
    VSTRING *buf = vstring_alloc(10);

    for (const char *cp = value; *cp; cp++) {
        int ch = (unsigned char)*cp;

        if (ch == '\\') {
            switch (*++cp) {
            case 'a':
                ch = '\a';
                break;
            case 'b':
                ch = '\b';
                break;
            case 'f':
                ch = '\f';
                break;
            case 'n':
                ch = '\n';
                break;
            case 'r':
                ch = '\r';
                break;
            case 't':
                ch = '\t';
                break;
            case 'v':
                ch = '\v';
                break;
            case '\\':
                ch = '\\';
                break;
            default:
                if (*cp >= '0' && *cp <= '7') {
                    ch = 0;
                    for (int n = 0; n < 3 && *cp >= '0' && *cp <= '7'; n++, cp++)
                        ch = ch * 8 + (*cp - '0');
                    cp--;
                    if (ch > 0377)
                        ch = -1;
                } else {
                    ch = -1; /* trailing backslash or unknown escape */
                }
                break;
            }
            if (ch <= 0) {
                vstring_free(buf);
                return NULL;
            }
        }
        vstring_addch(buf, ch);
    }
    return vstring_export(buf);
}

/* Replace a string attribute, freeing the old value. */
static void pipe_attr_set(char **slot, const char *value)
{
    if (*slot)
        myfree(*slot);
    *slot = mystrdup(value);
}

const char *pipe_attr_parse(PIPE_ATTR *attr, char *const *argv)
{
    memset(attr, 0, sizeof(*attr));
    attr->uid = (uid_t)-1;
    attr->gid = (gid_t)-1;
    attr->null_sender = mystrdup(PIPE_DEF_NULL_SENDER);
    attr->eol = mystrdup("\n");

    for (; *argv; argv++) {
        const char *arg = *argv;
        const char *eq = strchr(arg, '=');
        size_t nlen = eq ? (size_t)(eq - arg) : 0;
        const char *value = eq ? eq + 1 : "";

#define PIPE_ATTR_IS(name) (nlen == sizeof(name) - 1 && strncasecmp(arg, name, nlen) == 0)

        if (eq == NULL)
            return pipe_attr_error("unknown attribute name: %s", arg);
        if (PIPE_ATTR_IS("flags")) {
            pipe_attr_flags(attr, value);
        } else if (PIPE_ATTR_IS("user")) {
            const char *colon = strchr(value, ':');

            if (attr->user)
                myfree(attr->user);
            attr->user = colon ? mystrndup(value, (size_t)(colon - value)) : mystrdup(value);
            if (colon)
                pipe_attr_set(&attr->group, colon + 1);
        } else if (PIPE_ATTR_IS("group")) {
            pipe_attr_set(&attr->group, value);
        } else if (PIPE_ATTR_IS("null_sender")) {
            pipe_attr_set(&attr->null_sender, value);
        } else if (PIPE_ATTR_IS("size")) {
            char *end;

            errno = 0;
            attr->size_limit = strtol(value, &end, 10);
            if (*value == 0 || *end != 0 || errno != 0 || attr->size_limit < 0)
                return pipe_attr_error("size= attribute has invalid value: %s", value);
        } else if (PIPE_ATTR_IS("eol")) {
            char *eol = pipe_attr_unescape(value);

            if (eol == NULL)
                return pipe_attr_error("eol= attribute has invalid value: %s", value);
            myfree(attr->eol);
            attr->eol = eol;
        } else if (PIPE_ATTR_IS("directory")) {
            pipe_attr_set(&attr->directory, value);
        } else if (PIPE_ATTR_IS("chroot")) {
            pipe_attr_set(&attr->chroot, value);
        } else if (PIPE_ATTR_IS("argv")) {
            attr->command = argv_alloc(4);
            if (*value)
                argv_add(attr->command, value);
            while (*++argv)
                argv_add(attr->command, *argv);
            break;
        } else {
            return pipe_attr_error("unknown attribute name: %.*s", (int)nlen, arg);
        }
    }
    if (attr->user == NULL || *attr->user == 0)
        return pipe_attr_error("missing user= attribute");
    if (attr->command == NULL || attr->command->argc == 0)
        return pipe_attr_error("missing argv= attribute");
    return NULL;
}

const char *pipe_attr_user(PIPE_ATTR *attr)
{
    struct passwd *pw;

    if ((pw = getpwnam(attr->user)) == NULL)
        return pipe_attr_error("unknown user name: %s", attr->user);
    if (pw->pw_uid == 0)
        return pipe_attr_error("user= attribute specifies root privileges");
    attr->uid = pw->pw_uid;
    attr->gid = pw->pw_gid;
    if (attr->group && *attr->group) {
        struct group *gr;

        if ((gr = getgrnam(attr->group)) == NULL)
            return pipe_attr_error("unknown group name: %s", attr->group);
        if (gr->gr_gid == 0)
            return pipe_attr_error("group= attribute specifies root group privileges");
        attr->gid = gr->gr_gid;
    }
    return NULL;
}

void pipe_attr_free(PIPE_ATTR *attr)
{
    char **strings[] = {&attr->user, &attr->group,     &attr->null_sender,
                        &attr->eol,  &attr->directory, &attr->chroot};

    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        if (*strings[i])
            *strings[i] = myfree(*strings[i]);
    if (attr->command)
        attr->command = argv_free(attr->command);
}

/* State of one argument's expansion. */
typedef struct PIPE_EXPAND_STATE {
    const PIPE_ATTR *attr;
    const PIPE_EXPAND_CTX *ctx;
    int rcpt_index; /* the recipient the per-recipient names use */
    bool per_rcpt;  /* a per-recipient name was looked up */
    VSTRING *value; /* the value of the last lookup */
    VSTRING *scratch;
} PIPE_EXPAND_STATE;

/* Lower-case the part of an address before (local) or after the last '@'. */
static void pipe_fold(VSTRING *addr, bool local, bool domain)
{
    char *str = vstring_str(addr);
    char *at = strrchr(str, '@');

    for (char *cp = str; *cp; cp++) {
        bool in_domain = at != NULL && cp > at;

        if ((in_domain && domain) || (!in_domain && cp != at && local))
            *cp = (char)tolower((unsigned char)*cp);
    }
}

/* An address as a command argument: folded per h/u, quoted per q. */
static const char *pipe_expand_addr(PIPE_EXPAND_STATE *st, const char *addr, bool fold)
{
    int flags = st->attr->flags;

    vstring_strcpy(st->scratch, addr);
    if (fold)
        pipe_fold(st->scratch, (flags & PIPE_FLAG_FOLD_LOCAL) != 0, (flags & PIPE_FLAG_FOLD_HOST) != 0);
    if ((flags & PIPE_FLAG_QUOTE) && *addr)
        tok822_quote_local(st->value, vstring_str(st->scratch));
    else
        vstring_strcpy(st->value, vstring_str(st->scratch));
    return vstring_str(st->value);
}

/* The local part of the current recipient split per recipient_delimiter. */
static const char *pipe_expand_local(PIPE_EXPAND_STATE *st, const char *addr, const char *which)
{
    const char *at = strrchr(addr, '@');
    size_t len = at ? (size_t)(at - addr) : strlen(addr);
    const char *delim = st->ctx->rcpt_delim ? st->ctx->rcpt_delim : "";
    size_t ulen = len;

    vstring_strncpy(st->value, addr, len);
    if (st->attr->flags & PIPE_FLAG_FOLD_LOCAL)
        lowercase(vstring_str(st->value));
    if (*delim) {
        ulen = strcspn(vstring_str(st->value), delim);
        if (ulen > len)
            ulen = len;
    }
    if (strcmp(which, "user") == 0) {
        vstring_truncate(st->value, ulen);
    } else if (strcmp(which, "extension") == 0) {
        const char *ext = ulen < len ? vstring_str(st->value) + ulen + 1 : "";

        vstring_strcpy(st->scratch, ext);
        vstring_strcpy(st->value, vstring_str(st->scratch));
    }
    return vstring_str(st->value);
}

/* mac_expand() lookup: the value of one macro name, or NULL. */
static const char *pipe_expand_lookup(const char *name, void *context)
{
    PIPE_EXPAND_STATE *st = context;
    const PIPE_EXPAND_CTX *ctx = st->ctx;
    static const char *const rcpt_names[] = {
        "recipient", "original_recipient", "user", "extension", "mailbox", "domain"};
    static const struct {
        const char *name;
        size_t offset;
    } plain[] = {
        {"queue_id", offsetof(PIPE_EXPAND_CTX, queue_id)},
        {"envid", offsetof(PIPE_EXPAND_CTX, envid)},
        {"client_address", offsetof(PIPE_EXPAND_CTX, client_address)},
        {"client_hostname", offsetof(PIPE_EXPAND_CTX, client_hostname)},
        {"client_helo", offsetof(PIPE_EXPAND_CTX, client_helo)},
        {"client_port", offsetof(PIPE_EXPAND_CTX, client_port)},
        {"client_protocol", offsetof(PIPE_EXPAND_CTX, client_protocol)},
        {"sasl_method", offsetof(PIPE_EXPAND_CTX, sasl_method)},
        {"sasl_username", offsetof(PIPE_EXPAND_CTX, sasl_username)},
        {"sasl_sender", offsetof(PIPE_EXPAND_CTX, sasl_sender)},
    };

    for (size_t i = 0; i < sizeof(rcpt_names) / sizeof(rcpt_names[0]); i++) {
        const RECIPIENT *rcpt;

        if (strcmp(name, rcpt_names[i]) != 0)
            continue;
        st->per_rcpt = true;
        if (st->rcpt_index >= ctx->rcpt_count)
            return "";
        rcpt = ctx->rcpt + st->rcpt_index;
        if (strcmp(name, "recipient") == 0)
            return pipe_expand_addr(st, rcpt->address, true);
        if (strcmp(name, "original_recipient") == 0)
            return pipe_expand_addr(st, *rcpt->orig_addr ? rcpt->orig_addr : rcpt->address, true);
        if (strcmp(name, "domain") == 0) {
            const char *at = strrchr(rcpt->address, '@');

            vstring_strcpy(st->value, at ? at + 1 : "");
            if (st->attr->flags & PIPE_FLAG_FOLD_HOST)
                lowercase(vstring_str(st->value));
            return vstring_str(st->value);
        }
        return pipe_expand_local(st, rcpt->address, name);
    }
    if (strcmp(name, "sender") == 0) {
        if (*ctx->sender == 0) {
            if (*st->attr->null_sender == 0)
                return "";
            return pipe_expand_addr(st, st->attr->null_sender, false);
        }
        return pipe_expand_addr(st, ctx->sender, false);
    }
    if (strcmp(name, "nexthop") == 0) {
        vstring_strcpy(st->value, ctx->nexthop ? ctx->nexthop : "");
        if (st->attr->flags & PIPE_FLAG_FOLD_HOST)
            lowercase(vstring_str(st->value));
        return vstring_str(st->value);
    }
    if (strcmp(name, "size") == 0) {
        vstring_sprintf(st->value, "%ld", ctx->size);
        return vstring_str(st->value);
    }
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        if (strcmp(name, plain[i].name) == 0) {
            const char *value = *(const char *const *)((const char *)ctx + plain[i].offset);

            return value ? value : "";
        }
    }
    msg_warn("%s: unknown macro name \"%s\" in argv= attribute", ctx->service ? ctx->service : "pipe", name);
    return NULL;
}

ARGV *pipe_expand_argv(const PIPE_ATTR *attr, const PIPE_EXPAND_CTX *ctx)
{
    ARGV *result = argv_alloc(attr->command->argc + ctx->rcpt_count);
    VSTRING *buf = vstring_alloc(100);
    PIPE_EXPAND_STATE st = {.attr = attr, .ctx = ctx};

    st.value = vstring_alloc(100);
    st.scratch = vstring_alloc(100);
    for (size_t i = 0; i < attr->command->argc; i++) {
        const char *pattern = attr->command->argv[i];

        st.rcpt_index = 0;
        st.per_rcpt = false;
        vstring_reset(buf);
        (void)mac_expand(buf, pattern, MAC_EXP_FLAG_NORECURSE, pipe_expand_lookup, &st);
        if (!st.per_rcpt) {
            argv_add(result, vstring_str(buf));
            continue;
        }
        for (st.rcpt_index = 0; st.rcpt_index < ctx->rcpt_count; st.rcpt_index++) {
            if (st.rcpt_index > 0) {
                vstring_reset(buf);
                (void)mac_expand(buf, pattern, MAC_EXP_FLAG_NORECURSE, pipe_expand_lookup, &st);
            }
            argv_add(result, vstring_str(buf));
        }
    }
    vstring_free(buf);
    vstring_free(st.value);
    vstring_free(st.scratch);
    return result;
}
