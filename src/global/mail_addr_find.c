/*
 * mail_addr_find - look up an address in an address-style table list.
 * See mail_addr_find.h for the search order.
 *
 * The address is parsed once into its local part (internal, unquoted
 * form), user part, extension and domain; every key is then built from
 * those parts, in external form first and internal form second when the
 * two differ.
 */
#include "sys_defs.h"

#include <string.h>
#include <strings.h>

#include "mail_addr_find.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_local.h"
#include "stringops.h"

/* Characters that make a local part need quotes (besides controls and space). */
#define MAIL_ADDR_FIND_SPECIALS "()<>@,;:\\\"[]"

/* Whether an internal-form local part is not a valid dot-atom as it stands. */
static bool mail_addr_find_needs_quote(const char *local)
{
    const unsigned char *cp = (const unsigned char *)local;

    if (*cp == 0)
        return false;
    if (*cp == '.')
        return true;
    for (; *cp; cp++) {
        if (*cp == '.' && cp[1] == '.')
            return true;
        if (*cp <= ' ' || *cp == 127 || strchr(MAIL_ADDR_FIND_SPECIALS, *cp) != NULL)
            return true;
    }
    return cp[-1] == '.';
}

/* Append the external (quoted if necessary) form of a local part. */
static void mail_addr_find_quote(VSTRING *out, const char *local)
{
    if (!mail_addr_find_needs_quote(local)) {
        vstring_strcat(out, local);
        return;
    }
    vstring_addch(out, '"');
    for (const char *cp = local; *cp; cp++) {
        if (*cp == '"' || *cp == '\\')
            vstring_addch(out, '\\');
        vstring_addch(out, *cp);
    }
    vstring_addch(out, '"');
}

/* Where the extension starts in an internal local part (its length if none). */
static size_t mail_addr_find_ext_pos(const char *local)
{
    const char *delims = var_recipient_delimiter ? var_recipient_delimiter : "";
    size_t len = strlen(local);
    size_t pos;

    if (*delims == 0)
        return len;
    if (strcasecmp(local, "postmaster") == 0 || strcasecmp(local, "MAILER-DAEMON") == 0 ||
        (var_double_bounce_sender && strcasecmp(local, var_double_bounce_sender) == 0))
        return len;
    /* Mailing-list names predate extensions: leave them whole. */
    if (strchr(delims, '-') != NULL &&
        (strncasecmp(local, "owner-", 6) == 0 || (len > 8 && strcasecmp(local + len - 8, "-request") == 0)))
        return len;
    pos = strcspn(local, delims);
    return pos == 0 ? len : pos;
}

/* Parse an external-form address into internal local part, user, extension, domain. */
bool mail_addr_find_split(const char *address, VSTRING *local, VSTRING *user, VSTRING *extension,
                          VSTRING *domain)
{
    const char *at = NULL;
    const char *cp;
    bool quoted = false;
    size_t pos;

    for (cp = address; *cp; cp++) {
        if (*cp == '\\' && cp[1] != 0)
            cp++;
        else if (*cp == '"')
            quoted = !quoted;
        else if (*cp == '@' && !quoted)
            at = cp;
    }
    vstring_reset(local);
    for (cp = address; cp < (at ? at : address + strlen(address)); cp++) {
        if (*cp == '\\' && cp[1] != 0 && cp + 1 != at)
            vstring_addch(local, *++cp);
        else if (*cp != '"')
            vstring_addch(local, *cp);
    }
    pos = mail_addr_find_ext_pos(vstring_str(local));
    vstring_strncpy(user, vstring_str(local), pos);
    vstring_strcpy(extension, vstring_str(local) + pos);
    vstring_strcpy(domain, at ? at + 1 : "");
    return at != NULL;
}

/* Append local+suffix in external form and, when different, internal form. */
void mail_addr_find_forms(ARGV *keys, const char *local, const char *suffix)
{
    VSTRING *buf = vstring_alloc(100);

    mail_addr_find_quote(buf, local);
    vstring_strcat(buf, suffix);
    argv_add(keys, vstring_str(buf));
    if (mail_addr_find_needs_quote(local)) {
        vstring_strcpy(buf, local);
        vstring_strcat(buf, suffix);
        argv_add(keys, vstring_str(buf));
    }
    vstring_free(buf);
}

/* Look up each form of local+suffix; NULL when none matched or on error. */
static const char *mail_addr_find_try(MAPS *maps, const char *local, const char *suffix, int flags)
{
    ARGV *keys = argv_alloc(2);
    const char *result = NULL;

    mail_addr_find_forms(keys, local, suffix);
    for (size_t i = 0; i < keys->argc && result == NULL && maps->error == DICT_ERR_NONE; i++)
        result = maps_find(maps, keys->argv[i], flags);
    argv_free(keys);
    return result;
}

/* 1 when the bare local part may be looked up for domain, 0 if not, -1 on error. */
static int mail_addr_find_is_local(const char *domain)
{
    if (var_myorigin && strcasecmp(domain, var_myorigin) == 0)
        return 1;
    return resolve_local(domain);
}

/* Search address in the order of mail_addr_find.h. */
const char *mail_addr_find(MAPS *maps, const char *address, char **extension)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *user = vstring_alloc(100);
    VSTRING *ext = vstring_alloc(10);
    VSTRING *domain = vstring_alloc(100);
    VSTRING *suffix = vstring_alloc(100);
    bool has_domain = mail_addr_find_split(address, local, user, ext, domain);
    bool has_ext = VSTRING_LEN(ext) > 0;
    bool used_ext = false;
    const char *result;
    int is_local;

    if (extension)
        *extension = NULL;
    maps->error = DICT_ERR_NONE;
    if (has_domain)
        vstring_sprintf(suffix, "@%s", vstring_str(domain));

    /* user+ext@domain, then user@domain. */
    result = mail_addr_find_try(maps, vstring_str(local), vstring_str(suffix), 0);
    if (result == NULL && maps->error == DICT_ERR_NONE && has_ext)
        used_ext = (result = mail_addr_find_try(maps, vstring_str(user), vstring_str(suffix),
                                                DICT_FLAG_FIXED)) != NULL;

    /* user+ext, then user, for this system's own domains. */
    if (result == NULL && maps->error == DICT_ERR_NONE && has_domain) {
        if ((is_local = mail_addr_find_is_local(vstring_str(domain))) < 0) {
            maps->error = DICT_ERR_RETRY;
        } else if (is_local > 0) {
            result = mail_addr_find_try(maps, vstring_str(local), "", DICT_FLAG_FIXED);
            if (result == NULL && maps->error == DICT_ERR_NONE && has_ext)
                used_ext =
                    (result = mail_addr_find_try(maps, vstring_str(user), "", DICT_FLAG_FIXED)) != NULL;
        }
    }

    /* The catch-all @domain. */
    if (result == NULL && maps->error == DICT_ERR_NONE && has_domain)
        result = maps_find(maps, vstring_str(suffix), DICT_FLAG_FIXED);

    if (result && used_ext && extension)
        *extension = mystrdup(vstring_str(ext));
    if (msg_verbose)
        msg_info("mail_addr_find: %s -> %s", address,
                 result                         ? result
                 : maps->error == DICT_ERR_NONE ? "(not found)"
                                                : "(try again)");
    vstring_free(local);
    vstring_free(user);
    vstring_free(ext);
    vstring_free(domain);
    vstring_free(suffix);
    return result;
}

/* address with extension appended to its local part. */
const char *mail_addr_find_add_ext(VSTRING *buf, const char *address, const char *extension)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *user = vstring_alloc(100);
    VSTRING *ext = vstring_alloc(10);
    VSTRING *domain = vstring_alloc(100);
    bool has_domain = mail_addr_find_split(address, local, user, ext, domain);

    vstring_strcat(local, extension);
    vstring_reset(buf);
    mail_addr_find_quote(buf, vstring_str(local));
    if (has_domain) {
        vstring_addch(buf, '@');
        vstring_strcat(buf, vstring_str(domain));
    }
    vstring_free(local);
    vstring_free(user);
    vstring_free(ext);
    vstring_free(domain);
    return vstring_str(buf);
}

/* The rewritten address for one result address (see mail_addr_find.h). */
const char *mail_addr_find_result(VSTRING *buf, const char *result, const char *address,
                                  const char *extension, bool propagate)
{
    VSTRING *addr = vstring_alloc(100);

    if (*result == '@') {
        VSTRING *local = vstring_alloc(100);
        VSTRING *user = vstring_alloc(100);
        VSTRING *ext = vstring_alloc(10);
        VSTRING *domain = vstring_alloc(100);
        size_t ext_len = extension ? strlen(extension) : 0;

        (void)mail_addr_find_split(address, local, user, ext, domain);
        /* The user without the extension that was stripped to find the result. */
        if (ext_len > 0 && VSTRING_LEN(local) >= ext_len &&
            strcmp(vstring_end(local) - ext_len, extension) == 0)
            vstring_truncate(local, VSTRING_LEN(local) - ext_len);
        mail_addr_find_quote(addr, vstring_str(local));
        vstring_strcat(addr, result);
        vstring_free(local);
        vstring_free(user);
        vstring_free(ext);
        vstring_free(domain);
    } else {
        vstring_strcpy(addr, result);
    }
    if (propagate && extension && *extension)
        mail_addr_find_add_ext(buf, vstring_str(addr), extension);
    else
        vstring_strcpy(buf, vstring_str(addr));
    vstring_free(addr);
    return vstring_str(buf);
}

/* Whether $propagate_unmatched_extensions names class_name. */
bool mail_addr_find_propagate(const char *class_name)
{
    char *copy;
    char *cp;
    char *item;
    bool found = false;

    if (var_propagate_unmatched_extensions == NULL)
        return false;
    cp = copy = mystrdup(var_propagate_unmatched_extensions);
    while (!found && (item = mystrtok(&cp, CHARS_COMMA_SP)) != NULL)
        found = strcasecmp(item, class_name) == 0;
    myfree(copy);
    return found;
}
