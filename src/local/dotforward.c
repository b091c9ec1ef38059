/*
 * dotforward - .forward files of local(8) (spec/delivery.md 2.3).
 *
 * Public functions:
 *   deliver_forward_paths(state)     forward_path expanded (local_expand.h)
 *   deliver_dotforward(state, &status)
 *       for a passwd user (state->owner): the first file of forward_path
 *       that exists is opened with the user's rights and must be a
 *       regular file owned by the user or root and not world-writable;
 *       its logical lines are delivered like an alias right-hand side,
 *       one level deeper, with exp_type "forward", exp_from the user and
 *       the user's privileges. When the user is reached again from their
 *       own .forward (self-reference) the file is not read again.
 *       Returns false when no usable .forward applies (missing, empty,
 *       bad owner, world-writable: the caller delivers to the mailbox),
 *       true with *status otherwise.
 *
 * Variables of forward_path: $user, $home, $shell, $recipient,
 * $extension, $domain, $local, $recipient_delimiter; characters of their
 * values that are not in forward_expansion_filter become '_'.
 *
 * Errors: a bad file is skipped with "warning: file F has bad owner uid N"
 * or "warning: file F is world writable"; an unreadable one with
 * "warning: cannot open F: REASON"; an expansion error with a warning
 * naming forward_path. Nothing here defers or bounces by itself.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "local.h"
#include "local_expand.h"
#include "local_util.h"
#include "mac_expand.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "readlline.h"
#include "stringops.h"
#include "vstring.h"

/* What the forward_path lookup function needs. */
typedef struct FORWARD_PATH_CTX {
    const LOCAL_STATE *state;
    VSTRING *value; /* filtered value of the last lookup */
} FORWARD_PATH_CTX;

/* mac_expand() lookup: the filtered value of name. */
static const char *dotforward_lookup(const char *name, void *context)
{
    FORWARD_PATH_CTX *ctx = context;
    const char *raw = local_expand_value(ctx->state, name);

    if (raw == NULL)
        return NULL;
    vstring_strcpy(ctx->value, raw);
    for (char *cp = vstring_str(ctx->value); *cp; cp++)
        if (strchr(var_forward_expansion_filter, *cp) == NULL)
            *cp = '_';
    return vstring_str(ctx->value);
}

/* forward_path expanded, one path per element; see local_expand.h. */
ARGV *deliver_forward_paths(const LOCAL_STATE *state)
{
    FORWARD_PATH_CTX ctx = {.state = state, .value = vstring_alloc(100)};
    ARGV *paths = argv_alloc(2);
    VSTRING *path = vstring_alloc(100);
    char *saved = mystrdup(var_forward_path);
    char *bp = saved;
    char *item;

    while ((item = mystrtokq(&bp, CHARS_COMMA_SP, "{}")) != NULL) {
        vstring_reset(path);
        if (mac_expand(path, item, MAC_EXP_FLAG_NORECURSE, dotforward_lookup, &ctx) & MAC_EXP_ERROR) {
            msg_warn("forward_path: bad element \"%s\"", item);
            continue;
        }
        if (VSTRING_LEN(path) == 0)
            continue;
        if (vstring_str(path)[0] != '/') {
            msg_warn("forward_path: not an absolute path: %s", vstring_str(path));
            continue;
        }
        argv_add(paths, vstring_str(path));
    }
    myfree(saved);
    vstring_free(path);
    vstring_free(ctx.value);
    return paths;
}

/* Deliver the logical lines of an open .forward file; returns how many. */
static int dotforward_read(LOCAL_STATE *state, FILE *fp, const char *path, int *status)
{
    READLLINE rl = {.fp = fp, .name = path, .lineno = 0};
    VSTRING *line = vstring_alloc(100);
    int first;
    int lines = 0;

    *status = 0;
    while (readlline(line, &rl, &first) != NULL) {
        lines++;
        if (deliver_token_string(state, vstring_str(line)) != 0)
            *status = -1;
    }
    vstring_free(line);
    return lines;
}

/*
 * Open path as the user; returns a stream, or NULL when the file is
 * absent (*exists false) or unusable (*exists true, warning logged).
 */
static FILE *dotforward_open(const LOCAL_STATE *state, const char *path, bool *exists)
{
    LOCAL_PRIVS privs = {.uid = state->owner->uid, .gid = state->owner->gid};
    struct stat st;
    FILE *fp;
    int fd;

    *exists = false;
    if ((fd = deliver_open_as(path, privs)) < 0) {
        if (errno != ENOENT && errno != ENOTDIR) {
            *exists = true;
            msg_warn("cannot open %s: %m", path);
        }
        return NULL;
    }
    *exists = true;
    if (fstat(fd, &st) < 0) {
        msg_warn("cannot open %s: %m", path);
    } else if (!S_ISREG(st.st_mode)) {
        msg_warn("file %s is not a regular file", path);
    } else if (st.st_uid != 0 && st.st_uid != state->owner->uid) {
        msg_warn("file %s has bad owner uid %ld", path, (long)st.st_uid);
    } else if (st.st_mode & S_IWOTH) {
        msg_warn("file %s is world writable", path);
    } else if ((fp = fdopen(fd, "r")) != NULL) {
        return fp;
    } else {
        msg_warn("cannot open %s: %m", path);
    }
    close(fd);
    return NULL;
}

/* .forward lookup and delivery; see the file comment. */
bool deliver_dotforward(LOCAL_STATE *state, int *status)
{
    LOCAL_STATE copy = *state;
    ARGV *paths;
    FILE *fp = NULL;
    bool exists = false;
    bool handled = false;
    int result;
    size_t i;

    if (state->owner == NULL || state->user == NULL)
        return false;
    if (state->exp_type == LOCAL_EXP_TYPE_FORWARD && state->exp_from &&
        strcasecmp(state->exp_from, state->user) == 0)
        return false;
    paths = deliver_forward_paths(state);
    for (i = 0; i < paths->argc && !exists; i++)
        fp = dotforward_open(state, paths->argv[i], &exists);
    if (fp != NULL) {
        copy.level = state->level + 1;
        copy.exp_type = LOCAL_EXP_TYPE_FORWARD;
        copy.exp_from = state->user;
        copy.privs.uid = state->owner->uid;
        copy.privs.gid = state->owner->gid;
        if (copy.privs.uid == 0)
            copy.privs = local_default_privs();
        if (msg_verbose)
            msg_info("deliver_dotforward: %s: %s", state->rcpt.address, paths->argv[i - 1]);
        handled = dotforward_read(&copy, fp, paths->argv[i - 1], &result) > 0;
        if (handled)
            *status = result;
        fclose(fp);
    }
    argv_free(paths);
    return handled;
}
