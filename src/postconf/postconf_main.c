/*
 * postconf_main - show and edit main.cf parameters. See postconf.h.
 */
#include "sys_defs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_edit.h"
#include "mac_expand.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "postconf.h"
#include "stringops.h"
#include "vstring.h"

#define PC_FOLD_WIDTH 80

/* Print text, folding at whitespace into lines of at most 80 columns. */
static void pc_print_folded(const char *first, const char *text)
{
    VSTRING *line = vstring_alloc(100);
    char *copy = mystrdup(text);
    char *cp = copy;
    char *word;
    bool fresh = *first == 0;           /* nothing on this line yet */

    vstring_strcpy(line, first);
    while ((word = mystrtok(&cp, CHARS_SPACE)) != NULL) {
        if (!fresh && VSTRING_LEN(line) + 1 + strlen(word) > PC_FOLD_WIDTH) {
            printf("%s\n", vstring_str(line));
            vstring_strcpy(line, "    ");
            fresh = true;
        }
        if (!fresh)
            vstring_addch(line, ' ');
        vstring_strcat(line, word);
        fresh = false;
    }
    printf("%s\n", vstring_str(line));
    vstring_free(line);
    myfree(copy);
}

/* Print "name = value" as -h, -H and -f ask. */
void pc_print_line(const char *name, const char *value)
{
    if (pc_flags & PC_HIDE_VALUE)
        printf("%s\n", name);
    else if ((pc_flags & PC_FOLD) && (pc_flags & PC_HIDE_NAME))
        pc_print_folded("", value);
    else if (pc_flags & PC_FOLD) {
        VSTRING *first = vstring_alloc(100);

        vstring_sprintf(first, "%s =", name);
        pc_print_folded(vstring_str(first), value);
        vstring_free(first);
    } else if (pc_flags & PC_HIDE_NAME)
        printf("%s\n", value);
    else
        printf("%s = %s\n", name, value);
}

/* Show one parameter, expanded when -x asks. */
static void pc_show_one(const char *name, const char *raw)
{
    if (pc_flags & PC_EXPAND) {
        VSTRING *buf = vstring_alloc(100);
        const PARAM_INFO *param = mail_params_find(name);

        if (param && param->type == PT_RAW)
            vstring_strcpy(buf, raw);
        else if (mail_conf_expand(buf, raw) & MAC_EXP_ERROR)
            mail_conf_macro_fatal(name);
        pc_print_line(name, vstring_str(buf));
        vstring_free(buf);
    } else {
        pc_print_line(name, raw);
    }
}

static int pc_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The names postconf lists without arguments, sorted. */
static ARGV *pc_all_names(void)
{
    ARGV *names = argv_alloc(mail_params_count + 10);

    if (pc_flags & PC_SHOW_NONDEFAULT) {
        HTABLE_INFO **list = htable_list(mail_conf_table);

        for (HTABLE_INFO **ht = list; *ht; ht++)
            argv_add(names, (*ht)->key);
        myfree(list);
        if (mail_conf_dir_explicit && htable_find(mail_conf_table, "config_directory") == NULL)
            argv_add(names, "config_directory");
    } else {
        for (size_t i = 0; i < mail_params_count; i++)
            argv_add(names, mail_params_table[i].name);
        if ((pc_flags & PC_SHOW_DEFAULTS) == 0) {
            HTABLE_INFO **list = htable_list(mail_conf_table);

            for (HTABLE_INFO **ht = list; *ht; ht++)
                if (mail_params_find((*ht)->key) == NULL && pc_known_name((*ht)->key))
                    argv_add(names, (*ht)->key);
            myfree(list);
        }
    }
    qsort(names->argv, names->argc, sizeof(char *), pc_strcmp);
    return names;
}

void pc_show_main(char **args)
{
    ARGV *names = *args ? NULL : pc_all_names();
    char **cpp = names ? names->argv : args;

    for (; *cpp; cpp++) {
        const char *name = *cpp;
        const PARAM_INFO *param = mail_params_find(name);
        const char *value;

        if (pc_flags & PC_SHOW_DEFAULTS)
            value = param ? mail_params_default(param) : NULL;
        else if ((pc_flags & PC_SHOW_NONDEFAULT) && mail_conf_entry(name) == NULL &&
                 !(strcmp(name, "config_directory") == 0 && mail_conf_dir_explicit))
            continue;
        else
            value = mail_conf_raw(name);
        if (value == NULL) {
            msg_warn("%s: unknown parameter", name);
            continue;
        }
        pc_show_one(name, value);
    }
    argv_free(names);
}

/* The parameter name of a main.cf logical line ("" when malformed). */
static char *pc_main_key(const char *line)
{
    size_t len;

    line += strspn(line, CHARS_SPACE);
    len = strcspn(line, "=" CHARS_SPACE);
    return mystrndup(line, len);
}

void pc_edit_main(char **args, int mode)
{
    CONF_EDIT *ce = conf_edit_open(mail_conf_path, pc_main_key);
    ARGV *names = argv_alloc(4);
    ARGV *values = argv_alloc(4);

    for (char **cpp = args; *cpp; cpp++) {
        if (strchr(*cpp, '\n'))
            msg_fatal("-e, -X, or -# argument contains newline: %s", *cpp);
        if (**cpp == '#')
            msg_fatal("-e, -X, or -# argument starts with '#': %s", *cpp);
        if (mode == PC_EDIT_SET) {
            char *copy = mystrdup(*cpp);
            char *name;
            char *value;

            if (split_nameval(copy, &name, &value) != NULL)
                msg_fatal("syntax error in parameter assignment: \"%s\"", *cpp);
            argv_add(names, name);
            argv_add(values, value);
            myfree(copy);
        } else {
            if (strchr(*cpp, '='))
                msg_fatal("-X or -# requires name without value");
            argv_add(names, *cpp);
        }
    }
    for (size_t n = 0; n < names->argc; n++) {
        int found = 0;
        VSTRING *text = vstring_alloc(100);

        for (size_t i = 0; i < ce->count; i++) {
            CONF_EDIT_ENTRY *entry = ce->entries + i;

            if (entry->deleted || strcmp(entry->key, names->argv[n]) != 0)
                continue;
            if (found++ == 1)
                msg_warn("%s: multiple entries for \"%s\"", mail_conf_path, names->argv[n]);
            if (mode == PC_EDIT_SET) {
                vstring_sprintf(text, "%s = %s", names->argv[n], values->argv[n]);
                conf_edit_replace(ce, entry, vstring_str(text));
            } else if (mode == PC_EDIT_DELETE) {
                conf_edit_delete(ce, entry);
            } else {
                conf_edit_comment(ce, entry);
            }
        }
        if (!found && mode == PC_EDIT_SET) {
            vstring_sprintf(text, "%s = %s", names->argv[n], values->argv[n]);
            conf_edit_append(ce, vstring_str(text));
        }
        vstring_free(text);
    }
    argv_sort(ce->tail);
    conf_edit_close(ce);
    argv_free(names);
    argv_free(values);
}
