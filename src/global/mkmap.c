/*
 * mkmap - table building and querying for postmap and postalias (see
 * mkmap.h).
 */
#include "sys_defs.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alias_src.h"
#include "dict_open.h"
#include "dict_src.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "maillog_client.h"
#include "msg_stderr.h"
#include "mkmap.h"
#include "msg.h"
#include "mymalloc.h"
#include "readlline.h"
#include "stringops.h"

/* Split arg into type and name, the type defaulting to default_database_type. */
static void mkmap_split(const char *arg, VSTRING *type, VSTRING *name)
{
    VSTRING *why = vstring_alloc(100);

    if (strchr(arg, ':') == NULL) {
        vstring_strcpy(type, var_default_database_type);
        vstring_strcpy(name, arg);
    } else if (dict_split_spec(arg, type, name, why) < 0) {
        msg_fatal("%s", vstring_str(why));
    }
    vstring_free(why);
}

/* The NUL convention for reading: what -n/-N asked for, else both. */
static int mkmap_read_flags(const MKMAP_OPTS *opts)
{
    int flags = opts->dict_flags | DICT_FLAG_LOCK;

    if ((flags & (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)) == 0)
        flags |= DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL;
    return flags;
}

/* Open every table named in args. */
static DICT **mkmap_open_all(const ARGV *args, int open_flags, int dict_flags)
{
    DICT **dicts = mymalloc(sizeof(DICT *) * (args->argc + 1));
    VSTRING *type = vstring_alloc(16);
    VSTRING *name = vstring_alloc(100);

    for (size_t i = 0; i < args->argc; i++) {
        mkmap_split(args->argv[i], type, name);
        dicts[i] = dict_open3(vstring_str(type), vstring_str(name), open_flags, dict_flags);
    }
    dicts[args->argc] = NULL;
    vstring_free(type);
    vstring_free(name);
    return dicts;
}

/* Close what mkmap_open_all() opened. */
static void mkmap_close_all(DICT **dicts)
{
    for (DICT **dp = dicts; *dp; dp++)
        dict_close(*dp);
    myfree(dicts);
}

/* A failed lookup or update ends the command. */
static NORETURN mkmap_fail(DICT *dict, const char *what)
{
    msg_fatal("table %s:%s: %s error", dict->type, dict->name, what);
}

/*
 * The first value for key in dicts, or NULL. An empty value is a broken
 * table (tables.md section 1): a failed lookup, so the command fails.
 */
static const char *mkmap_find(DICT **dicts, const char *key)
{
    const char *value;

    for (DICT **dp = dicts; *dp; dp++) {
        if ((value = dict_get(*dp, key)) != NULL) {
            if (*value == 0) {
                msg_warn("table %s:%s: key %s: empty string result is not allowed", (*dp)->type, (*dp)->name,
                         key);
                msg_warn("table %s:%s should return NO RESULT in case of NOT FOUND", (*dp)->type,
                         (*dp)->name);
                mkmap_fail(*dp, "query");
            }
            return value;
        }
        if ((*dp)->error)
            mkmap_fail(*dp, "query");
    }
    return NULL;
}

/* Print one "KEY<TAB>VALUE" line in the command's style. */
static void mkmap_print(const char *key, const char *value, const MKMAP_OPTS *opts)
{
    printf("%s%s\t%s\n", key, opts->syntax == MKMAP_ALIASES ? ":" : "", value);
}

/*
 * As root, become the owner of the source file unless -o (postmap(1)):
 * a table is then built with the permissions of the person who edits it.
 */
static void mkmap_set_owner(const struct stat *st, const MKMAP_OPTS *opts)
{
    if (geteuid() != 0 || opts->keep_root || st->st_uid == 0)
        return;
    if (setgid(st->st_gid) < 0 || setgroups(0, NULL) < 0)
        msg_fatal("set group ID %ld: %m", (long)st->st_gid);
    if (setuid(st->st_uid) < 0)
        msg_fatal("set user ID %ld: %m", (long)st->st_uid);
}

/* Add one logical source line to the table. */
static void mkmap_add_line(DICT *dict, char *line, const char *file, int lineno, const MKMAP_OPTS *opts,
                           VSTRING *key_buf, VSTRING *value_buf)
{
    char *key;
    char *value;

    if (opts->syntax == MKMAP_ALIASES) {
        if (!alias_src_split(line, file, lineno, key_buf, value_buf))
            return;
        key = vstring_str(key_buf);
        value = vstring_str(value_buf);
    } else if (!dict_src_split(line, file, lineno, DICT_SRC_FLAG_NONE, &key, &value)) {
        return;
    }
    if (dict_put(dict, key, value) == DICT_STAT_ERROR)
        mkmap_fail(dict, "update");
}

/* Build (or with incremental, update from stdin) one table. */
void mkmap_build(const char *arg, const MKMAP_OPTS *opts, bool incremental)
{
    VSTRING *type = vstring_alloc(16);
    VSTRING *name = vstring_alloc(100);
    VSTRING *line = vstring_alloc(100);
    VSTRING *key_buf = vstring_alloc(100);
    VSTRING *value_buf = vstring_alloc(100);
    READLLINE rl;
    struct stat st;
    int dict_flags = opts->dict_flags | DICT_FLAG_BULK_UPDATE;
    DICT *dict;
    int lineno;

    mkmap_split(arg, type, name);
    if (strcmp(vstring_str(type), "proxy") == 0)
        msg_fatal("can't create maps via the proxy service");
    if (incremental) {
        rl.fp = stdin;
        rl.name = "stdin";
    } else {
        if ((rl.fp = fopen(vstring_str(name), "re")) == NULL)
            msg_fatal("open %s: %m", vstring_str(name));
        rl.name = vstring_str(name);
        if (fstat(fileno(rl.fp), &st) < 0)
            msg_fatal("fstat %s: %m", vstring_str(name));
        mkmap_set_owner(&st, opts);
        if (opts->inherit_mode)
            umask(022 | (~st.st_mode & 077));
    }
    rl.lineno = 0;
    if ((dict_flags & (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)) == 0)
        dict_flags |= DICT_FLAG_TRY1NULL;
    dict = dict_open3(vstring_str(type), vstring_str(name), O_RDWR | O_CREAT | (incremental ? 0 : O_TRUNC),
                      dict_flags);
    while (readlline(line, &rl, &lineno) != NULL)
        mkmap_add_line(dict, vstring_str(line), rl.name, lineno, opts, key_buf, value_buf);
    if (ferror(rl.fp))
        msg_fatal("read %s: %m", rl.name);

    /* Sendmail's end-of-aliases marker, which some programs look for. */
    if (opts->syntax == MKMAP_ALIASES) {
        dict->flags = (dict->flags & ~DICT_FLAG_DUP_MASK) | DICT_FLAG_DUP_REPLACE;
        if (dict_put(dict, "@", "@") == DICT_STAT_ERROR)
            mkmap_fail(dict, "update");
    }
    dict_close(dict);
    if (!incremental)
        (void)fclose(rl.fp);
    vstring_free(type);
    vstring_free(name);
    vstring_free(line);
    vstring_free(key_buf);
    vstring_free(value_buf);
}

/* -q KEY: print the first table's value. */
int mkmap_query(const ARGV *args, const char *key, const MKMAP_OPTS *opts)
{
    DICT **dicts = mkmap_open_all(args, O_RDONLY, mkmap_read_flags(opts));
    const char *value = mkmap_find(dicts, key);

    if (value != NULL)
        printf("%s\n", value);
    mkmap_close_all(dicts);
    return value != NULL ? 0 : 1;
}

/* Look up one key read from the input; true when found. */
static bool mkmap_query_key(DICT **dicts, const char *key, const MKMAP_OPTS *opts)
{
    const char *value = mkmap_find(dicts, key);

    if (value != NULL)
        mkmap_print(key, value, opts);
    return value != NULL;
}

/*
 * Reading a message for -q - with -h/-b (postmap(1)): header lines (with
 * their continuation lines, joined by newlines) and body lines become
 * keys. With -m, MIME part headers and attached message headers count as
 * headers, not body, as header_checks and body_checks see them.
 */
typedef struct MKMAP_MSG {
    DICT **dicts;
    const MKMAP_OPTS *opts;
    VSTRING *header;       /* header being collected */
    bool in_header;        /* reading a header block */
    bool nested_message;   /* after this header block, another one */
    VSTRING *content_type; /* of the current header block */
    ARGV *boundaries;      /* open multipart boundaries, innermost last */
    bool found;
} MKMAP_MSG;

/* Whether line starts a header: "name:" with printable name characters. */
static bool mkmap_is_header(const char *line)
{
    const char *cp;

    for (cp = line; *cp > ' ' && *cp < 127 && *cp != ':'; cp++)
        /* void */;
    return cp > line && *cp == ':';
}

/* Remember a Content-Type header's value (MIME mode). */
static void mkmap_note_header(MKMAP_MSG *mp, const char *header)
{
    if (strncasecmp(header, "content-type:", 13) == 0)
        vstring_strcpy(mp->content_type, header + 13);
}

/* The boundary parameter of a Content-Type value, in buf; false if none. */
static bool mkmap_boundary(const char *content_type, VSTRING *buf)
{
    const char *cp = content_type;
    const char *end;

    while ((cp = strcasestr(cp, "boundary")) != NULL) {
        cp += 8;
        cp += strspn(cp, " \t\r\n");
        if (*cp != '=')
            continue;
        cp += 1 + strspn(cp + 1, " \t\r\n");
        if (*cp == '"') {
            end = strchr(++cp, '"');
            if (end == NULL)
                end = cp + strlen(cp);
        } else {
            end = cp + strcspn(cp, "; \t\r\n");
        }
        vstring_strncpy(buf, cp, (size_t)(end - cp));
        return VSTRING_LEN(buf) > 0;
    }
    return false;
}

/* A header block ended: query its last header; decide what follows. */
static void mkmap_header_end(MKMAP_MSG *mp)
{
    const char *ctype = vstring_str(mp->content_type);
    VSTRING *boundary;

    mp->in_header = false;
    mp->nested_message = false;
    if ((mp->opts->message & MKMAP_MSG_MIME) == 0)
        return;
    ctype += strspn(ctype, " \t\r\n");
    if (strncasecmp(ctype, "multipart/", 10) == 0) {
        boundary = vstring_alloc(70);
        if (mkmap_boundary(ctype, boundary))
            argv_add(mp->boundaries, vstring_str(boundary));
        vstring_free(boundary);
    } else if (strncasecmp(ctype, "message/rfc822", 14) == 0 ||
               strncasecmp(ctype, "message/global", 14) == 0) {
        mp->in_header = true;
        mp->nested_message = true;
    }
    vstring_reset(mp->content_type);
}

/* Query the header collected so far, if any. */
static void mkmap_flush_header(MKMAP_MSG *mp)
{
    if (VSTRING_LEN(mp->header) == 0)
        return;
    if (mp->opts->message & MKMAP_MSG_MIME)
        mkmap_note_header(mp, vstring_str(mp->header));
    if ((mp->opts->message & MKMAP_MSG_HEADER) &&
        mkmap_query_key(mp->dicts, vstring_str(mp->header), mp->opts))
        mp->found = true;
    vstring_reset(mp->header);
}

/* Whether a body line is a MIME boundary; pops ended multiparts. */
static bool mkmap_boundary_line(MKMAP_MSG *mp, const char *line)
{
    if ((mp->opts->message & MKMAP_MSG_MIME) == 0 || line[0] != '-' || line[1] != '-')
        return false;
    for (size_t i = mp->boundaries->argc; i-- > 0;) {
        const char *b = mp->boundaries->argv[i];
        size_t len = strlen(b);

        if (strncmp(line + 2, b, len) != 0)
            continue;
        if (strncmp(line + 2 + len, "--", 2) == 0) {
            argv_truncate(mp->boundaries, i);
        } else {
            argv_truncate(mp->boundaries, i + 1);
            mp->in_header = true;
        }
        return true;
    }
    return false;
}

/* Process one input line of a message. */
static void mkmap_message_line(MKMAP_MSG *mp, const char *line)
{
    if (mp->in_header) {
        if ((*line == ' ' || *line == '\t') && VSTRING_LEN(mp->header) > 0) {
            vstring_addch(mp->header, '\n');
            vstring_strcat(mp->header, line);
            return;
        }
        mkmap_flush_header(mp);
        if (mkmap_is_header(line)) {
            vstring_strcpy(mp->header, line);
            return;
        }
        mkmap_header_end(mp);
        if (*line == 0)
            return;
        /* A non-header line starts the body. */
    }
    /* Boundary lines are body lines too, as body_checks sees them. */
    (void)mkmap_boundary_line(mp, line);
    if ((mp->opts->message & MKMAP_MSG_BODY) && mkmap_query_key(mp->dicts, line, mp->opts))
        mp->found = true;
}

/* -q -: keys (or a message) from fp. */
int mkmap_query_stream(const ARGV *args, FILE *fp, const MKMAP_OPTS *opts)
{
    DICT **dicts = mkmap_open_all(args, O_RDONLY, mkmap_read_flags(opts));
    MKMAP_MSG msg = {.dicts = dicts, .opts = opts, .in_header = true};
    char *line = NULL;
    size_t size = 0;
    ssize_t len;

    msg.header = vstring_alloc(100);
    msg.content_type = vstring_alloc(100);
    msg.boundaries = argv_alloc(2);
    while ((len = getline(&line, &size, fp)) >= 0) {
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = 0;
        if (opts->message)
            mkmap_message_line(&msg, line);
        else if (mkmap_query_key(dicts, line, opts))
            msg.found = true;
    }
    if (opts->message && msg.in_header)
        mkmap_flush_header(&msg);
    free(line);
    vstring_free(msg.header);
    vstring_free(msg.content_type);
    argv_free(msg.boundaries);
    mkmap_close_all(dicts);
    return msg.found ? 0 : 1;
}

/* -s: every entry of every table. */
int mkmap_list(const ARGV *args, const MKMAP_OPTS *opts)
{
    DICT **dicts = mkmap_open_all(args, O_RDONLY, mkmap_read_flags(opts));
    const char *key;
    const char *value;
    int func;
    int status;
    bool found = false;

    for (DICT **dp = dicts; *dp; dp++) {
        for (func = DICT_SEQ_FUN_FIRST; (status = dict_seq(*dp, func, &key, &value)) == 0;
             func = DICT_SEQ_FUN_NEXT) {
            mkmap_print(key, value, opts);
            found = true;
        }
        if (status == DICT_STAT_ERROR)
            mkmap_fail(*dp, "sequence");
    }
    mkmap_close_all(dicts);
    return found ? 0 : 1;
}

/* Delete key from every table; true when something was deleted. */
static bool mkmap_delete_key(DICT **dicts, const char *key)
{
    bool deleted = false;

    for (DICT **dp = dicts; *dp; dp++) {
        switch (dict_del(*dp, key)) {
        case DICT_STAT_SUCCESS:
            deleted = true;
            break;
        case DICT_STAT_ERROR:
            mkmap_fail(*dp, "delete");
        }
    }
    return deleted;
}

/* -d KEY or -d -: delete from every table. */
int mkmap_delete(const ARGV *args, const char *key, const MKMAP_OPTS *opts)
{
    DICT **dicts = mkmap_open_all(args, O_RDWR, mkmap_read_flags(opts) | DICT_FLAG_BULK_UPDATE);
    bool deleted = false;
    char *line = NULL;
    size_t size = 0;
    ssize_t len;

    if (strcmp(key, "-") != 0) {
        deleted = mkmap_delete_key(dicts, key);
    } else {
        while ((len = getline(&line, &size, stdin)) >= 0) {
            if (len > 0 && line[len - 1] == '\n')
                line[--len] = 0;
            if (mkmap_delete_key(dicts, line))
                deleted = true;
        }
        free(line);
    }
    mkmap_close_all(dicts);
    return deleted ? 0 : 1;
}

/* The defaults: warn about duplicates, fold keys, copy the source's mode. */
void mkmap_opts_init(MKMAP_OPTS *opts, int syntax)
{
    memset(opts, 0, sizeof(*opts));
    opts->syntax = syntax;
    opts->dict_flags = DICT_FLAG_DUP_WARN | DICT_FLAG_FOLD_FIX;
    opts->inherit_mode = true;
}

/* The usage message, as a fatal error. */
static NORETURN mkmap_usage(const char *progname)
{
    msg_fatal("usage: %s [-bfFhimnNoprsuUvw] [-c config_dir] [-d key] [-q key] "
              "[map_type:]file...",
              progname);
}

/* postmap(1) / postalias(1): parse the command line and do the work. */
int mkmap_main(int argc, char **argv, int syntax)
{
    const char *progname = syntax == MKMAP_ALIASES ? "postalias" : "postmap";
    MKMAP_OPTS opts;
    const char *query = NULL;
    const char *delete = NULL;
    bool list = false;
    bool incremental = false;
    ARGV *args;
    int status = 0;
    int ch;

    mkmap_opts_init(&opts, syntax);
    mail_process_name = progname;
    msg_stderr_init(progname);
    while ((ch = getopt(argc, argv, "bc:d:fFhimnNopq:rsuUvw")) != -1) {
        switch (ch) {
        case 'b':
            opts.message |= MKMAP_MSG_BODY;
            break;
        case 'c':
            mail_conf_select(optarg);
            break;
        case 'd':
            if (query || list)
                msg_fatal("specify only one of -s or -q or -d");
            delete = optarg;
            break;
        case 'f':
            opts.dict_flags &= ~DICT_FLAG_FOLD_FIX;
            break;
        case 'h':
            opts.message |= MKMAP_MSG_HEADER;
            break;
        case 'i':
            incremental = true;
            break;
        case 'm':
            opts.message |= MKMAP_MSG_MIME;
            break;
        case 'n':
            opts.dict_flags = (opts.dict_flags & ~DICT_FLAG_TRY1NULL) | DICT_FLAG_TRY0NULL;
            break;
        case 'N':
            opts.dict_flags = (opts.dict_flags & ~DICT_FLAG_TRY0NULL) | DICT_FLAG_TRY1NULL;
            break;
        case 'o':
            opts.keep_root = true;
            break;
        case 'p':
            opts.inherit_mode = false;
            break;
        case 'q':
            if (delete || list)
                msg_fatal("specify only one of -s or -q or -d");
            query = optarg;
            break;
        case 'r':
            opts.dict_flags = (opts.dict_flags & ~DICT_FLAG_DUP_MASK) | DICT_FLAG_DUP_REPLACE;
            break;
        case 's':
            if (query || delete)
                msg_fatal("specify only one of -s or -q or -d");
            list = true;
            break;
        case 'F':
        case 'u':
        case 'U':
            /* Base64 file values and SMTPUTF8 checks: accepted, not yet used. */
            break;
        case 'v':
            msg_verbose++;
            break;
        case 'w':
            opts.dict_flags = (opts.dict_flags & ~DICT_FLAG_DUP_MASK) | DICT_FLAG_DUP_IGNORE;
            break;
        default:
            mkmap_usage(progname);
        }
    }
    if (opts.message && (query == NULL || strcmp(query, "-") != 0))
        msg_fatal("specify -b -h or -m only with \"-q -\"");
    if (opts.message == MKMAP_MSG_MIME) {
        msg_warn("ignoring -m option without -b or -h");
        opts.message = 0;
    }
    if (optind >= argc)
        mkmap_usage(progname);
    mail_conf_read();
    mail_params_init();
    maillog_client_init(progname, MAILLOG_CLIENT_FLAG_NONE);
    msg_stderr_init(progname); /* "postmap: ..." on stderr, as Postfix */

    args = argv_alloc((size_t)(argc - optind));
    for (int i = optind; i < argc; i++)
        argv_add(args, argv[i]);
    if (query && strcmp(query, "-") == 0)
        status = mkmap_query_stream(args, stdin, &opts);
    else if (query)
        status = mkmap_query(args, query, &opts);
    else if (list)
        status = mkmap_list(args, &opts);
    else if (delete)
        status = mkmap_delete(args, delete, &opts);
    else
        for (size_t i = 0; i < args->argc; i++)
            mkmap_build(args->argv[i], &opts, incremental);
    argv_free(args);
    return status;
}
