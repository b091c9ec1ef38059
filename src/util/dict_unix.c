/*
 * dict_unix - the "unix" table (see dict_unix.h).
 */
#include "sys_defs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "dict_unix.h"
#include "msg.h"

typedef struct DICT_UNIX {
    DICT dict;
    VSTRING *result;
} DICT_UNIX;

/* A lookup error (not "no such name") fails the lookup temporarily. */
static const char *dict_unix_error(DICT *dict, const char *key)
{
    if (errno == 0 || errno == ENOENT || errno == ESRCH || errno == EBADF || errno == EPERM)
        return NULL;
    msg_warn("%s:%s: lookup of \"%s\": %m", dict->type, dict->name, key);
    DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, NULL);
}

static const char *dict_unix_passwd(DICT *dict, const char *key)
{
    DICT_UNIX *dp = (DICT_UNIX *)dict;
    struct passwd *pw;

    key = dict_fold(dict, key);
    errno = 0;
    if ((pw = getpwnam(key)) == NULL)
        return dict_unix_error(dict, key);
    vstring_sprintf(dp->result, "%s:%s:%ld:%ld:%s:%s:%s", pw->pw_name, pw->pw_passwd, (long)pw->pw_uid,
                    (long)pw->pw_gid, pw->pw_gecos, pw->pw_dir, pw->pw_shell);
    return vstring_str(dp->result);
}

static const char *dict_unix_group(DICT *dict, const char *key)
{
    DICT_UNIX *dp = (DICT_UNIX *)dict;
    struct group *gr;

    key = dict_fold(dict, key);
    errno = 0;
    if ((gr = getgrnam(key)) == NULL)
        return dict_unix_error(dict, key);
    vstring_sprintf(dp->result, "%s:%s:%ld:", gr->gr_name, gr->gr_passwd, (long)gr->gr_gid);
    for (char **member = gr->gr_mem; *member; member++)
        vstring_sprintf_append(dp->result, "%s%s", member == gr->gr_mem ? "" : ",", *member);
    return vstring_str(dp->result);
}

static void dict_unix_close(DICT *dict)
{
    vstring_free(((DICT_UNIX *)dict)->result);
    dict_free(dict);
}

/* Open unix:passwd.byname or unix:group.byname. */
DICT *dict_unix_open(const char *name, int open_flags, int dict_flags)
{
    static const struct {
        const char *name;
        const char *(*lookup)(DICT *, const char *);
    } maps[] = {
        {"passwd.byname", dict_unix_passwd},
        {"group.byname", dict_unix_group},
    };
    DICT_UNIX *dp;
    DICT *dict;

    if ((dict = dict_require_rdonly("unix", name, open_flags, dict_flags)) != NULL)
        return dict;
    for (size_t i = 0; i < ARRAY_LEN(maps); i++) {
        if (strcmp(maps[i].name, name) == 0) {
            dp = (DICT_UNIX *)dict_alloc("unix", name, sizeof(*dp));
            dp->dict.lookup = maps[i].lookup;
            dp->dict.close = dict_unix_close;
            dp->dict.flags = dict_flags | DICT_FLAG_FIXED;
            dp->result = vstring_alloc(100);
            return &dp->dict;
        }
    }
    return dict_surrogate("unix", name, open_flags, dict_flags, "unknown table: unix:%s", name);
}
