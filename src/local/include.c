/*
 * include - ":include:/path" destinations of local(8) (spec/delivery.md
 * 2.2, 2.4).
 *
 * Public functions:
 *   deliver_include(state, path)
 *       reads the file (an absolute path to a regular, not world-writable
 *       file) with the current privileges (default_privs under a
 *       root-owned alias table, the alias table owner, or the .forward
 *       user) and delivers its logical lines like an alias right-hand
 *       side, one level deeper, with exp_type "include". Commands and
 *       files listed there run as the include file's owner when it was
 *       reached with default_privs from an alias (root-owned file:
 *       default_privs again); otherwise the privileges stay unchanged.
 *       A file met twice at one level is read once.
 *   deliver_open_as(path, privs)       see local_expand.h
 *
 * Errors: every problem with the file bounces "5.3.5 mail system
 * configuration error"; the detail ("cannot open include file F:
 * Permission denied", "file F is world writable", ...) is logged as a
 * warning only. More than 100 levels: "5.4.6 :include: nesting limit
 * exceeded". Returns 0 (done) or -1 (some destination deferred).
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local.h"
#include "local_expand.h"
#include "msg.h"
#include "readlline.h"
#include "vstring.h"

#define INCLUDE_CONFIG_ERROR "mail system configuration error"

/* open(path, O_RDONLY) as privs when running as root (uid -1: as we are). */
int deliver_open_as(const char *path, LOCAL_PRIVS privs)
{
    int fd;
    int saved;

    if (geteuid() != 0 || privs.uid == 0 || privs.uid == (uid_t)-1)
        return open(path, O_RDONLY | O_NOCTTY);
    if (setegid(privs.gid) < 0)
        msg_fatal("setegid %ld: %m", (long)privs.gid);
    if (seteuid(privs.uid) < 0)
        msg_fatal("seteuid %ld: %m", (long)privs.uid);
    fd = open(path, O_RDONLY | O_NOCTTY);
    saved = errno;
    if (seteuid(0) < 0)
        msg_fatal("seteuid 0: %m");
    if (setegid(0) < 0)
        msg_fatal("setegid 0: %m");
    errno = saved;
    return fd;
}

/* Bounce the configuration error whose detail was already logged. */
static int include_error(LOCAL_STATE *state)
{
    return local_bounce(state, "5.3.5", "%s", INCLUDE_CONFIG_ERROR);
}

/* Whether state's privileges are default_privs reached from an alias. */
static bool include_takes_owner(const LOCAL_STATE *state)
{
    LOCAL_PRIVS def = local_default_privs();

    return (state->exp_type == LOCAL_EXP_TYPE_ALIAS || state->exp_type == LOCAL_EXP_TYPE_INCLUDE) &&
           state->privs.uid == def.uid;
}

/* Deliver the logical lines of an open include file. */
static int include_read(LOCAL_STATE *state, FILE *fp, const char *path)
{
    READLLINE rl = {.fp = fp, .name = path, .lineno = 0};
    VSTRING *line = vstring_alloc(100);
    int first;
    int status = 0;

    while (readlline(line, &rl, &first) != NULL)
        if (deliver_token_string(state, vstring_str(line)) != 0)
            status = -1;
    vstring_free(line);
    return status;
}

/* :include: delivery; see the file comment. */
int deliver_include(LOCAL_STATE *state, const char *path)
{
    LOCAL_STATE copy = *state;
    VSTRING *key;
    struct stat st;
    LOCAL_USER *owner;
    FILE *fp;
    int fd;
    bool dup;
    int status;

    if (state->level > DELIVER_EXP_LIMIT) {
        msg_warn(":include: nesting limit exceeded: %s", path);
        return local_bounce(state, "5.4.6", ":include: nesting limit exceeded");
    }
    key = vstring_alloc(100);
    vstring_sprintf(key, "include %d %s", state->level, path);
    dup = local_dup_seen(state, vstring_str(key));
    vstring_free(key);
    if (dup)
        return 0;
    if (*path != '/') {
        msg_warn(":include: file must be an absolute pathname: %s", path);
        return include_error(state);
    }
    if ((fd = deliver_open_as(path, state->privs)) < 0) {
        msg_warn("cannot open include file %s: %m", path);
        return include_error(state);
    }
    if (fstat(fd, &st) < 0) {
        msg_warn("cannot open include file %s: %m", path);
        close(fd);
        return include_error(state);
    }
    if (!S_ISREG(st.st_mode)) {
        msg_warn("file %s is not a regular file", path);
        close(fd);
        return include_error(state);
    }
    if (st.st_mode & S_IWOTH) {
        msg_warn("file %s is world writable", path);
        close(fd);
        return include_error(state);
    }
    if ((fp = fdopen(fd, "r")) == NULL) {
        msg_warn("cannot open include file %s: %m", path);
        close(fd);
        return include_error(state);
    }
    copy.level = state->level + 1;
    copy.exp_type = LOCAL_EXP_TYPE_INCLUDE;
    copy.exp_from = path;
    if (include_takes_owner(state)) {
        if (st.st_uid == 0) {
            copy.privs = local_default_privs();
        } else {
            copy.privs.uid = st.st_uid;
            copy.privs.gid = st.st_gid;
            if ((owner = local_user_by_uid(st.st_uid)) != NULL) {
                copy.privs.gid = owner->gid;
                local_user_free(owner);
            }
        }
    }
    status = include_read(&copy, fp, path);
    fclose(fp);
    return status;
}
