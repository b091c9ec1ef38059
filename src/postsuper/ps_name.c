/*
 * ps_name - the queue file name that matches a file's inode. See ps_name.h.
 *
 * Public functions: ps_name_is_long(), ps_name_fix().
 */
#include "sys_defs.h"

#include <string.h>

#include "ps_name.h"
#include "vstring.h"

/* The digits of long queue IDs (base 52; base 51 omits the 'z'). */
static const char ps_name_b52[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

#define PS_LONG_SEC_MIN  6   /* base-52 digits of the seconds, at least */
#define PS_LONG_USEC_LEN 4   /* base-52 digits of the microseconds */
#define PS_LONG_SEP      'z' /* between time and inode */
#define PS_SHORT_USEC    5   /* hex digits of the microseconds */

/* Where the time part of long name NAME ends (its 'z'), or NULL when NAME is short. */
static const char *ps_name_long_sep(const char *name)
{
    const char *sep = strchr(name, PS_LONG_SEP);

    if (sep == NULL || sep - name < PS_LONG_SEC_MIN + PS_LONG_USEC_LEN)
        return NULL;
    for (const char *cp = name; cp < sep; cp++)
        if (strchr(ps_name_b52, *cp) == NULL)
            return NULL;
    return sep;
}

/* True when NAME has the long queue ID form (time digits, 'z', inode). */
bool ps_name_is_long(const char *name)
{
    return ps_name_long_sep(name) != NULL;
}

/* Append INODE in base 51 (the long ID alphabet without 'z'). */
static void ps_name_b51(VSTRING *buf, unsigned long long inode)
{
    char digits[64];
    size_t n = 0;

    do {
        digits[n++] = ps_name_b52[inode % 51];
        inode /= 51;
    } while (inode > 0);
    while (n > 0)
        vstring_addch(buf, digits[--n]);
}

/* The name NAME should have with INODE; true when it differs. */
bool ps_name_fix(VSTRING *buf, const char *name, ino_t inode, bool long_ids, bool strict)
{
    const char *sep = ps_name_long_sep(name);

    vstring_reset(buf);
    if (sep == NULL) {
        /* Short: keep the microseconds, replace the inode part. */
        size_t keep = strlen(name) < PS_SHORT_USEC ? strlen(name) : PS_SHORT_USEC;

        vstring_strncat(buf, name, keep);
        vstring_sprintf_append(buf, "%llX", (unsigned long long)inode);
    } else if (!long_ids) {
        /* Long to short: the microseconds in hex, then the inode. */
        unsigned long usec = 0;

        for (const char *cp = sep - PS_LONG_USEC_LEN; cp < sep; cp++)
            usec = usec * 52 + (unsigned long)(strchr(ps_name_b52, *cp) - ps_name_b52);
        vstring_sprintf(buf, "%05lX%llX", usec, (unsigned long long)inode);
    } else if (strict) {
        vstring_strncat(buf, name, (size_t)(sep - name) + 1);
        ps_name_b51(buf, (unsigned long long)inode);
    } else {
        vstring_strcpy(buf, name);
    }
    return strcmp(vstring_str(buf), name) != 0;
}
