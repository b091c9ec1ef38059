/*
 * postconf_master - show and edit master.cf entries. See postconf.h.
 */
#include "sys_defs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_edit.h"
#include "msg.h"
#include "mymalloc.h"
#include "postconf.h"
#include "stringops.h"
#include "vstring.h"

/* Columns where postconf -M starts each field. */
static const size_t pc_master_columns[] = {0, 11, 17, 25, 33, 41, 49, 57};

#define PC_FOLD_WIDTH 80

/* Append an argument, braced when it needs to be. */
static void pc_append_arg(VSTRING *buf, const char *arg)
{
    char *text = master_ent_arg_text(arg);

    vstring_strcat(buf, text);
    myfree(text);
}

/* Format an entry as postconf -M (or -Mf when fold) prints it. */
void pc_format_master(VSTRING *buf, const MASTER_ENT *ent, bool fold)
{
    size_t line_start = 0;

    vstring_reset(buf);
    for (int f = 0; f < MASTER_FIELD_COUNT; f++) {
        if (f > 0) {
            if (VSTRING_LEN(buf) < pc_master_columns[f])
                while (VSTRING_LEN(buf) < pc_master_columns[f])
                    vstring_addch(buf, ' ');
            else
                vstring_addch(buf, ' ');
        }
        vstring_strcat(buf, ent->field[f]);
    }
    for (size_t i = 1; i < ent->args->argc; i++) {
        const char *arg = ent->args->argv[i];
        char *text = master_ent_arg_text(arg);

        if (fold && (*arg == '-' || VSTRING_LEN(buf) - line_start + 1 + strlen(text) > PC_FOLD_WIDTH)) {
            vstring_strcat(buf, "\n    ");
            line_start = VSTRING_LEN(buf) - 4;
        } else {
            vstring_addch(buf, ' ');
        }
        vstring_strcat(buf, text);
        myfree(text);
        if (strcmp(arg, "-o") == 0 && i + 1 < ent->args->argc) {
            vstring_addch(buf, ' ');
            pc_append_arg(buf, ent->args->argv[++i]);
        }
    }
}

/* Split "a/b/c" into up to three parts; missing parts match anything. */
static void pc_split_request(const char *request, char *parts[3])
{
    char *copy = mystrdup(request);
    char *cp = copy;

    for (int i = 0; i < 3; i++) {
        char *slash = cp ? strchr(cp, '/') : NULL;

        if (slash)
            *slash = 0;
        parts[i] = cp && *cp && strcmp(cp, "*") != 0 ? mystrdup(cp) : NULL;
        cp = slash ? slash + 1 : NULL;
    }
    myfree(copy);
}

static void pc_free_request(char *parts[3])
{
    for (int i = 0; i < 3; i++)
        myfree(parts[i]);
}

static bool pc_match(const char *pattern, const char *value)
{
    return pattern == NULL || strcmp(pattern, value) == 0;
}

/* True when entry matches the service and type parts of a request. */
static bool pc_entry_matches(const MASTER_ENT *ent, char *parts[3])
{
    return pc_match(parts[0], ent->field[MASTER_FIELD_SERVICE]) && pc_match(parts[1], ent->field[MASTER_FIELD_TYPE]);
}

/* The command column as -F prints it: everything after the wakeup columns. */
static char *pc_command_text(const MASTER_ENT *ent)
{
    VSTRING *buf = vstring_alloc(100);

    for (size_t i = 0; i < ent->args->argc; i++) {
        if (i > 0)
            vstring_addch(buf, ' ');
        pc_append_arg(buf, ent->args->argv[i]);
    }
    return vstring_export(buf);
}

/*
 * Call fn for each entry, in master.cf order, that matches any request
 * (every entry when there are none; then parts are all wildcards); warn
 * about requests that matched nothing. An entry that several requests
 * match is shown once per request, as Postfix does.
 */
typedef void (*PC_ENTRY_FN)(const MASTER_ENT *ent, char *parts[3]);

static void pc_walk(char **requests, PC_ENTRY_FN fn)
{
    size_t count = 0;
    char *(*parts)[3];
    bool *matched;

    while (requests[count])
        count++;
    parts = mycalloc(count + 1, sizeof(*parts));
    matched = mycalloc(count + 1, sizeof(*matched));
    for (size_t r = 0; r < count; r++)
        pc_split_request(requests[r], parts[r]);
    for (size_t i = 0; i < pc_master->count; i++) {
        const MASTER_ENT *ent = pc_master->ents[i];

        if (count == 0)
            fn(ent, parts[0]);
        for (size_t r = 0; r < count; r++) {
            if (pc_entry_matches(ent, parts[r])) {
                fn(ent, parts[r]);
                matched[r] = true;
            }
        }
    }
    for (size_t r = 0; r < count; r++) {
        if (!matched[r])
            msg_warn("unmatched request: \"%s\"", requests[r]);
        pc_free_request(parts[r]);
    }
    myfree(parts);
    myfree(matched);
}

static void pc_print_entry(const MASTER_ENT *ent, char *parts[3] UNUSED)
{
    VSTRING *buf = vstring_alloc(200);

    pc_format_master(buf, ent, (pc_flags & PC_FOLD) != 0);
    printf("%s\n", vstring_str(buf));
    vstring_free(buf);
}

void pc_show_master(char **names)
{
    pc_walk(names, pc_print_entry);
}

static void pc_print_fields(const MASTER_ENT *ent, char *parts[3])
{
    VSTRING *name = vstring_alloc(100);

    for (int f = 0; f < MASTER_FIELD_COUNT; f++) {
        if (!pc_match(parts[2], master_field_names[f]))
            continue;
        char *value = f == MASTER_FIELD_COMMAND ? pc_command_text(ent) : mystrdup(ent->field[f]);

        vstring_sprintf(name, "%s/%s/%s", ent->field[MASTER_FIELD_SERVICE], ent->field[MASTER_FIELD_TYPE],
                        master_field_names[f]);
        pc_print_line(vstring_str(name), value);
        myfree(value);
    }
    vstring_free(name);
}

void pc_show_fields(char **names)
{
    pc_walk(names, pc_print_fields);
}

static void pc_print_params(const MASTER_ENT *ent, char *parts[3])
{
    VSTRING *name = vstring_alloc(100);
    ARGV *order = argv_copy(ent->override_names);

    argv_sort(order);
    argv_uniq(order);
    for (size_t n = 0; n < order->argc; n++) {
        const char *value = NULL;

        if (!pc_match(parts[2], order->argv[n]))
            continue;
        for (size_t i = 0; i < ent->override_names->argc; i++)
            if (strcmp(ent->override_names->argv[i], order->argv[n]) == 0)
                value = ent->override_values->argv[i];
        vstring_sprintf(name, "%s/%s/%s", ent->field[MASTER_FIELD_SERVICE], ent->field[MASTER_FIELD_TYPE],
                        order->argv[n]);
        pc_print_line(vstring_str(name), value);
    }
    argv_free(order);
    vstring_free(name);
}

void pc_show_params(char **names)
{
    pc_walk(names, pc_print_params);
}

/* "service/type" of a master.cf logical line. */
static char *pc_master_key(const char *line)
{
    char *copy = mystrdup(line);
    char *cp = copy;
    char *service = mystrtok(&cp, CHARS_SPACE);
    char *type = service ? mystrtok(&cp, CHARS_SPACE) : NULL;
    VSTRING *key = vstring_alloc(50);

    vstring_sprintf(key, "%s/%s", service ? service : "", type ? type : "");
    myfree(copy);
    return vstring_export(key);
}

/* Rebuild an entry's logical line from its columns and arguments. */
static void pc_entry_text(VSTRING *buf, const MASTER_ENT *ent, const char *replace_command)
{
    vstring_reset(buf);
    for (int f = 0; f < MASTER_FIELD_COMMAND; f++)
        vstring_sprintf_append(buf, "%s ", ent->field[f]);
    if (replace_command) {
        vstring_strcat(buf, replace_command);
        return;
    }
    for (size_t i = 0; i < ent->args->argc; i++) {
        if (i > 0)
            vstring_addch(buf, ' ');
        if (i > 0 && strcmp(ent->args->argv[i - 1], "-o") == 0) {
            /* Long form keeps values with blanks intact when re-parsed. */
            vstring_strcat(buf, "{ ");
            vstring_strcat(buf, ent->args->argv[i]);
            vstring_strcat(buf, " }");
        } else {
            pc_append_arg(buf, ent->args->argv[i]);
        }
    }
}

/* Apply one -Me/-MX/-M#/-Fe/-Pe/-PX request to the parsed file. */
static void pc_edit_one(CONF_EDIT *ce, int what, int mode, const char *request)
{
    char *copy = mystrdup(request);
    char *eq = strchr(copy, '=');
    char *value = NULL;
    char *parts[3];
    VSTRING *key = vstring_alloc(50);
    VSTRING *text = vstring_alloc(200);
    CONF_EDIT_ENTRY *entry = NULL;
    MASTER_ENT *ent = NULL;

    if (mode == PC_EDIT_SET) {
        if (eq == NULL)
            msg_fatal("-%ce requires \"name=value\": %s", what, request);
        *eq = 0;
        value = trimblanks(eq + 1);
    } else if (eq) {
        msg_fatal("-%c%c requires a name without value: %s", what, mode == PC_EDIT_DELETE ? 'X' : '#', request);
    }
    pc_split_request(trimblanks(copy), parts);
    if (parts[0] == NULL || parts[1] == NULL || ((what != PC_MASTER_ENTRY) != (parts[2] != NULL)))
        msg_fatal("invalid -%c request: \"%s\"", what, request);
    vstring_sprintf(key, "%s/%s", parts[0], parts[1]);
    for (size_t i = 0; i < ce->count; i++)
        if (!ce->entries[i].deleted && strcmp(ce->entries[i].key, vstring_str(key)) == 0)
            entry = ce->entries + i;
    if (entry == NULL && !(what == PC_MASTER_ENTRY && mode == PC_EDIT_SET))
        msg_fatal("%s: no such service: \"%s\"", pc_master_path, vstring_str(key));
    if (entry)
        ent = master_ent_find(pc_master, parts[0], parts[1]);

    if (what == PC_MASTER_ENTRY) {
        if (mode == PC_EDIT_SET) {
            MASTER_ENT *new_ent = master_ent_parse_text(pc_master_path, 0, value);

            if (strcmp(new_ent->field[MASTER_FIELD_SERVICE], parts[0]) != 0 ||
                strcmp(new_ent->field[MASTER_FIELD_TYPE], parts[1]) != 0)
                msg_fatal("-Me request \"%s\": service/type mismatch", request);
            pc_format_master(text, new_ent, true);
            master_ent_free_entry(new_ent);
        }
    } else if (what == PC_MASTER_FIELD) {
        int field = -1;

        for (int f = 0; f < MASTER_FIELD_COUNT; f++)
            if (strcmp(parts[2], master_field_names[f]) == 0)
                field = f;
        if (field < 0 || mode != PC_EDIT_SET)
            msg_fatal("invalid -F%c request: \"%s\"", mode == PC_EDIT_SET ? 'e' : 'X', request);
        if (field == MASTER_FIELD_COMMAND) {
            pc_entry_text(text, ent, value);
        } else {
            char *old = ent->field[field];

            ent->field[field] = (char *) value;
            pc_entry_text(text, ent, NULL);
            ent->field[field] = old;
        }
    } else {
        /* -Pe adds or replaces "-o name=value"; -PX removes it. */
        ARGV *args = argv_copy(ent->args);

        for (size_t i = 1; i + 1 < args->argc; /* void */) {
            size_t len = strlen(parts[2]);

            if (strcmp(args->argv[i], "-o") == 0 && strncmp(args->argv[i + 1], parts[2], len) == 0 &&
                args->argv[i + 1][len] == '=')
                argv_delete(args, i, 2);
            else
                i++;
        }
        if (mode == PC_EDIT_SET) {
            VSTRING *nv = vstring_alloc(50);
            size_t where = 1;

            /* New -o options go after the existing ones, before other arguments. */
            while (where + 1 < args->argc && strcmp(args->argv[where], "-o") == 0)
                where += 2;
            vstring_sprintf(nv, "%s=%s", parts[2], value);
            argv_insert(args, where, "-o");
            argv_insert(args, where + 1, vstring_str(nv));
            vstring_free(nv);
        }
        ARGV *saved = ent->args;

        ent->args = args;
        pc_entry_text(text, ent, NULL);
        ent->args = saved;
        argv_free(args);
    }
    if (what != PC_MASTER_ENTRY) {
        /* Re-parse so an edit can never write an invalid entry. */
        MASTER_ENT *new_ent = master_ent_parse_text(pc_master_path, entry ? (int) entry->first + 1 : 0,
                                                    vstring_str(text));

        pc_format_master(text, new_ent, true);
        master_ent_free_entry(new_ent);
    }
    if (what == PC_MASTER_ENTRY && mode == PC_EDIT_DELETE)
        conf_edit_delete(ce, entry);
    else if (what == PC_MASTER_ENTRY && mode == PC_EDIT_COMMENT)
        conf_edit_comment(ce, entry);
    else if (entry)
        conf_edit_replace(ce, entry, vstring_str(text));
    else
        conf_edit_append(ce, vstring_str(text));
    pc_free_request(parts);
    vstring_free(key);
    vstring_free(text);
    myfree(copy);
}

void pc_edit_master(int what, int mode, char **args)
{
    CONF_EDIT *ce;

    if ((what == PC_MASTER_FIELD && mode != PC_EDIT_SET) || (what == PC_MASTER_PARAM && mode == PC_EDIT_COMMENT))
        msg_fatal("-%c does not support -%c", what, mode == PC_EDIT_DELETE ? 'X' : '#');
    ce = conf_edit_open(pc_master_path, pc_master_key);
    for (char **cpp = args; *cpp; cpp++)
        pc_edit_one(ce, what, mode, *cpp);
    conf_edit_close(ce);
}
