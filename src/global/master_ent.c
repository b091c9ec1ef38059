/*
 * master_ent - read master.cf. See master_ent.h.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master_ent.h"
#include "msg.h"
#include "mymalloc.h"
#include "readlline.h"
#include "stringops.h"
#include "valid_hostname.h"
#include "vstring.h"

/* Field names as Postfix's messages and postconf -F use them. */
const char *const master_field_names[MASTER_FIELD_COUNT] = {
    "service", "type", "private", "unprivileged", "chroot", "wakeup", "process_limit", "command",
};

/* Field names in "missing ... field" and "bad value" messages. */
static const char *const master_field_errnames[MASTER_FIELD_COUNT] = {
    "service", "transport type", "private", "unprivileged", "chroot", "wakeup_time", "max_proc", "command",
};

typedef struct MASTER_PARSE {
    const char *path;
    int line;
} MASTER_PARSE;

static NORETURN master_ent_error(const MASTER_PARSE *mp, const char *fmt, ...) PRINTFLIKE(2, 3);

static NORETURN master_ent_error(const MASTER_PARSE *mp, const char *fmt, ...)
{
    VSTRING *text = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf(text, fmt, ap);
    va_end(ap);
    msg_fatal("%s: line %d: %s", mp->path, mp->line, vstring_str(text));
}

bool master_ent_valid_type(const char *type)
{
    static const char *const types[] = {"inet", "unix", "unix-dgram", "fifo", "pass"};

    for (size_t i = 0; i < ARRAY_LEN(types); i++)
        if (strcmp(type, types[i]) == 0)
            return true;
    return false;
}

/* A y/n column; "-" selects the default. */
static bool master_ent_bool(const MASTER_PARSE *mp, enum master_field field, const char *value, bool def)
{
    if (strcmp(value, "-") == 0)
        return def;
    if (strcmp(value, "y") == 0)
        return true;
    if (strcmp(value, "n") == 0)
        return false;
    master_ent_error(mp, "field \"%s\": bad value: \"%s\"", master_field_errnames[field], value);
}

/* The host part of an inet service name must be a host name or address. */
static void master_ent_check_inet(const MASTER_PARSE *mp, const char *name)
{
    char *copy = mystrdup(name);
    char *host = copy;
    char *colon;
    unsigned char addr[16];

    if (*host == '[') {
        char *end = strchr(host, ']');

        if (end == NULL || (end[1] != ':' && end[1] != 0))
            master_ent_error(mp, "bad hostname or network address: %s", name);
        *end = 0;
        host++;
        if (inet_pton(AF_INET6, host, addr) != 1)
            master_ent_error(mp, "bad hostname or network address: %s", name);
    } else if ((colon = strrchr(host, ':')) != NULL) {
        *colon = 0;
        if (*host && !valid_hostname(host) && inet_pton(AF_INET, host, addr) != 1 &&
            inet_pton(AF_INET6, host, addr) != 1)
            master_ent_error(mp, "bad hostname or network address: %s", name);
    }
    myfree(copy);
}

/* How an argument is printed: braced when it has blanks, is empty or starts with '{'. */
char *master_ent_arg_text(const char *arg)
{
    VSTRING *buf = vstring_alloc(100);

    if (*arg == 0 || arg[strcspn(arg, CHARS_SPACE)] != 0 || *arg == '{')
        vstring_sprintf(buf, "{%s}", arg);
    else
        vstring_strcpy(buf, arg);
    return vstring_export(buf);
}

/* Split the command column into arguments and -o overrides. */
static void master_ent_command(const MASTER_PARSE *mp, MASTER_ENT *ent, char *cp)
{
    char *arg;
    const char *err;

    ent->args = argv_alloc(4);
    ent->override_names = argv_alloc(2);
    ent->override_values = argv_alloc(2);
    while ((arg = mystrtokq(&cp, CHARS_SPACE, "{}")) != NULL) {
        if ((err = extpar(&arg, "{}")) != NULL)
            master_ent_error(mp, "%s: \"%s\"", err, arg);
        if (strcmp(arg, "-o") == 0 && ent->args->argc > 0) {
            char *setting = mystrtokq(&cp, CHARS_SPACE, "{}");
            char *name;
            char *value;

            if (setting == NULL)
                master_ent_error(mp, "missing value after -o");
            if ((err = extpar(&setting, "{}")) != NULL)
                master_ent_error(mp, "%s: \"%s\"", err, setting);
            if ((err = split_nameval(setting, &name, &value)) != NULL)
                master_ent_error(mp, "%s: \"-o %s\"", err, setting);
            argv_add(ent->override_names, name);
            argv_add(ent->override_values, value);
            argv_add(ent->args, "-o");
            VSTRING *nv = vstring_alloc(100);

            vstring_sprintf(nv, "%s=%s", name, value);
            argv_add(ent->args, vstring_str(nv));
            vstring_free(nv);
        } else {
            argv_add(ent->args, arg);
        }
    }
}

/* Parse one logical master.cf line. */
static MASTER_ENT *master_ent_parse(const MASTER_PARSE *mp, char *line)
{
    MASTER_ENT *ent = mycalloc(1, sizeof(*ent));
    char *cp = line;
    char *value;

    ent->line = mp->line;
    for (int f = MASTER_FIELD_SERVICE; f < MASTER_FIELD_COMMAND; f++) {
        if ((value = mystrtok(&cp, CHARS_SPACE)) == NULL)
            master_ent_error(mp, "missing \"%s\" field", master_field_errnames[f]);
        ent->field[f] = mystrdup(value);
    }
    cp += strspn(cp, CHARS_SPACE);
    if (*cp == 0)
        master_ent_error(mp, "missing \"%s\" field", master_field_errnames[MASTER_FIELD_COMMAND]);

    const char *type = ent->field[MASTER_FIELD_TYPE];

    if (!master_ent_valid_type(type))
        master_ent_error(mp, "bad transport type: %s", type);
    if (strcmp(type, "inet") == 0 && strcmp(ent->field[MASTER_FIELD_PRIVATE], "n") != 0) {
        if (strcmp(ent->field[MASTER_FIELD_PRIVATE], "y") != 0 && strcmp(ent->field[MASTER_FIELD_PRIVATE], "-") != 0)
            master_ent_error(mp, "field \"private\": bad value: \"%s\"", ent->field[MASTER_FIELD_PRIVATE]);
        master_ent_error(mp, "inet service cannot be private");
    }
    ent->private_ = master_ent_bool(mp, MASTER_FIELD_PRIVATE, ent->field[MASTER_FIELD_PRIVATE], true);
    ent->unpriv = master_ent_bool(mp, MASTER_FIELD_UNPRIV, ent->field[MASTER_FIELD_UNPRIV], true);
    ent->chroot = master_ent_bool(mp, MASTER_FIELD_CHROOT, ent->field[MASTER_FIELD_CHROOT], false);
    if (strcmp(type, "inet") == 0)
        master_ent_check_inet(mp, ent->field[MASTER_FIELD_SERVICE]);

    value = ent->field[MASTER_FIELD_WAKEUP];
    if (strcmp(value, "-") != 0) {
        size_t len = strlen(value);
        char *digits = mystrdup(value);

        if (len > 1 && digits[len - 1] == '?') {
            digits[len - 1] = 0;
            ent->wakeup_if_used = true;
        }
        if (!alldig(digits))
            master_ent_error(mp, "field \"%s\": bad value: \"%s\"", master_field_errnames[MASTER_FIELD_WAKEUP], value);
        ent->wakeup = atoi(digits);
        myfree(digits);
    }
    value = ent->field[MASTER_FIELD_MAXPROC];
    if (strcmp(value, "-") == 0)
        ent->maxproc = -1;
    else if (alldig(value))
        ent->maxproc = atoi(value);
    else
        master_ent_error(mp, "field \"%s\": bad value: \"%s\"", master_field_errnames[MASTER_FIELD_MAXPROC], value);

    master_ent_command(mp, ent, cp);
    ent->field[MASTER_FIELD_COMMAND] = mystrdup(ent->args->argv[0]);
    return ent;
}

static void master_ent_free_one(MASTER_ENT *ent)
{
    for (int f = 0; f < MASTER_FIELD_COUNT; f++)
        myfree(ent->field[f]);
    argv_free(ent->args);
    argv_free(ent->override_names);
    argv_free(ent->override_values);
    myfree(ent);
}

MASTER_ENT *master_ent_find(const MASTER_TABLE *table, const char *service, const char *type)
{
    for (size_t i = 0; i < table->count; i++) {
        MASTER_ENT *ent = table->ents[i];

        if (strcmp(ent->field[MASTER_FIELD_SERVICE], service) == 0 &&
            (type == NULL || strcmp(ent->field[MASTER_FIELD_TYPE], type) == 0))
            return ent;
    }
    return NULL;
}

MASTER_TABLE *master_ent_read(const char *path, int flags)
{
    MASTER_TABLE *table = mycalloc(1, sizeof(*table));
    VSTRING *buf = vstring_alloc(100);
    MASTER_PARSE mp = {path, 0};
    READLLINE rl = {NULL, path, 0};
    size_t size = 16;

    table->path = mystrdup(path);
    table->ents = mymalloc(size * sizeof(MASTER_ENT *));
    if ((rl.fp = fopen(path, "r")) == NULL) {
        if (errno == ENOENT && (flags & MASTER_ENT_FLAG_MISSING_OK))
            return table;
        if (errno == ENOENT)
            msg_fatal("no %s file found", path);
        msg_fatal("open %s: %m", path);
    }
    while (readlline(buf, &rl, &mp.line)) {
        MASTER_ENT *ent = master_ent_parse(&mp, vstring_str(buf));
        MASTER_ENT *old = master_ent_find(table, ent->field[MASTER_FIELD_SERVICE], ent->field[MASTER_FIELD_TYPE]);

        if (old) {
            for (size_t i = 0; i < table->count; i++)
                if (table->ents[i] == old)
                    table->ents[i] = ent;
            master_ent_free_one(old);
            continue;
        }
        if (table->count == size)
            table->ents = myrealloc(table->ents, (size *= 2) * sizeof(MASTER_ENT *));
        table->ents[table->count++] = ent;
    }
    fclose(rl.fp);
    vstring_free(buf);
    return table;
}

/* Parse one entry given as text (postconf -Me); errors name path and line. */
MASTER_ENT *master_ent_parse_text(const char *path, int line, const char *text)
{
    MASTER_PARSE mp = {path, line};
    char *copy = mystrdup(text);
    MASTER_ENT *ent = master_ent_parse(&mp, copy);

    myfree(copy);
    return ent;
}

MASTER_ENT *master_ent_free_entry(MASTER_ENT *ent)
{
    master_ent_free_one(ent);
    return NULL;
}

MASTER_TABLE *master_ent_free(MASTER_TABLE *table)
{
    if (table) {
        for (size_t i = 0; i < table->count; i++)
            master_ent_free_one(table->ents[i]);
        myfree(table->ents);
        myfree(table->path);
        myfree(table);
    }
    return NULL;
}
