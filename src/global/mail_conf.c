/*
 * mail_conf - read main.cf and answer parameter queries. See mail_conf.h.
 */
#include "sys_defs.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mac_expand.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "readlline.h"
#include "stringops.h"

char *mail_conf_dir;
char *mail_conf_path;
int mail_conf_dir_explicit;
HTABLE *mail_conf_table;
HTABLE *mail_conf_overrides;
const char *mail_conf_macro_error = "dictionary mail_dict: macro processing error";

static MAIL_CONF_UNDEF_FN mail_conf_undef_fn;
static HTABLE *mail_conf_cache; /* expanded values */

/* Release a cached expanded value. */
static void mail_conf_free_value(void *ptr)
{
    myfree(ptr);
}

static void mail_conf_entry_free(void *ptr)
{
    MAIL_CONF_ENTRY *entry = ptr;

    myfree(entry->value);
    myfree(entry);
}

/* Forget expanded values after any change. */
static void mail_conf_flush_cache(void)
{
    if (mail_conf_cache)
        mail_conf_cache = htable_free(mail_conf_cache, mail_conf_free_value);
}

/* Read the main.cf in the directory named by MAIL_CONFIG or the default. */
void mail_conf_read(void)
{
    const char *dir = getenv("MAIL_CONFIG");

    mail_conf_dir_explicit = dir != NULL && *dir != 0;
    mail_conf_read_dir(mail_conf_dir_explicit ? dir : DEF_CONFIG_DIR);
}

void mail_conf_read_dir(const char *dir)
{
    VSTRING *buf = vstring_alloc(100);
    READLLINE rl;
    int first;

    if (mail_conf_table)
        mail_conf_table = htable_free(mail_conf_table, mail_conf_entry_free);
    mail_conf_flush_cache();
    mail_conf_table = htable_create(100, 0);
    if (mail_conf_overrides == NULL)
        mail_conf_overrides = htable_create(10, 0);
    myfree(mail_conf_dir);
    myfree(mail_conf_path);
    mail_conf_dir = mystrdup(dir);
    mail_conf_path = mymalloc(strlen(dir) + sizeof("/main.cf"));
    sprintf(mail_conf_path, "%s/main.cf", dir);

    if ((rl.fp = fopen(mail_conf_path, "r")) == NULL)
        msg_fatal("open %s: %m", mail_conf_path);
    rl.name = mail_conf_path;
    rl.lineno = 0;
    while (readlline(buf, &rl, &first)) {
        char *name;
        char *value;
        const char *err = split_nameval(vstring_str(buf), &name, &value);
        MAIL_CONF_ENTRY *entry;

        if (err)
            msg_fatal("%s, line %d: %s: \"%s\"", mail_conf_path, first, err, vstring_str(buf));
        if ((entry = htable_find(mail_conf_table, name)) != NULL) {
            if (strcmp(entry->value, value) != 0)
                msg_warn("%s, line %d: overriding earlier entry: %s=%s", mail_conf_path, first, name,
                         entry->value);
            htable_delete(mail_conf_table, name, mail_conf_entry_free);
        }
        entry = mymalloc(sizeof(*entry));
        entry->value = mystrdup(value);
        entry->file = mail_conf_path;
        entry->line = first;
        htable_enter(mail_conf_table, name, entry);
    }
    if (ferror(rl.fp))
        msg_fatal("read %s: %m", mail_conf_path);
    fclose(rl.fp);
    vstring_free(buf);
}

/* Apply a -o name=value setting; it wins over main.cf. */
void mail_conf_override(const char *name, const char *value)
{
    MAIL_CONF_ENTRY *entry = mymalloc(sizeof(*entry));

    if (mail_conf_overrides == NULL)
        mail_conf_overrides = htable_create(10, 0);
    htable_delete(mail_conf_overrides, name, mail_conf_entry_free);
    entry->value = mystrdup(value);
    entry->file = NULL;
    entry->line = 0;
    htable_enter(mail_conf_overrides, name, entry);
    mail_conf_flush_cache();
}

const MAIL_CONF_ENTRY *mail_conf_entry(const char *name)
{
    MAIL_CONF_ENTRY *entry;

    if (mail_conf_overrides && (entry = htable_find(mail_conf_overrides, name)) != NULL)
        return entry;
    return mail_conf_table ? htable_find(mail_conf_table, name) : NULL;
}

/* The unexpanded value: override, main.cf, built-in default; NULL if none. */
const char *mail_conf_raw(const char *name)
{
    const MAIL_CONF_ENTRY *entry;
    const PARAM_INFO *param;

    if (strcmp(name, "config_directory") == 0 && mail_conf_dir)
        return mail_conf_dir;
    if ((entry = mail_conf_entry(name)) != NULL)
        return entry->value;
    if ((param = mail_params_find(name)) != NULL)
        return mail_params_default(param);
    return NULL;
}

MAIL_CONF_UNDEF_FN mail_conf_undef_hook(MAIL_CONF_UNDEF_FN fn)
{
    MAIL_CONF_UNDEF_FN old = mail_conf_undef_fn;

    mail_conf_undef_fn = fn;
    return old;
}

static const char *mail_conf_lookup(const char *name, void *context UNUSED)
{
    const char *value = mail_conf_raw(name);

    if (value == NULL && mail_conf_undef_fn)
        mail_conf_undef_fn(name);
    return value;
}

/* Expand $names in value; returns MAC_EXP_* status bits. */
int mail_conf_expand(VSTRING *result, const char *value)
{
    vstring_reset(result);
    return mac_expand(result, value, MAC_EXP_FLAG_NONE, mail_conf_lookup, NULL);
}

/* The expanded value of a parameter, or NULL when it is unknown. */
const char *mail_conf_eval(const char *name)
{
    const char *raw = mail_conf_raw(name);
    const char *cached;
    VSTRING *buf;

    if (raw == NULL)
        return NULL;
    if (mail_conf_cache == NULL)
        mail_conf_cache = htable_create(100, 0);
    if ((cached = htable_find(mail_conf_cache, name)) != NULL)
        return cached;
    buf = vstring_alloc(100);
    if (mail_conf_expand(buf, raw) & MAC_EXP_ERROR)
        mail_conf_macro_fatal(name);
    return htable_enter(mail_conf_cache, name, vstring_export(buf))->value;
}

/* Die after a macro error in a parameter's value, naming where it was set. */
void mail_conf_macro_fatal(const char *name)
{
    VSTRING *where = vstring_alloc(100);

    mail_conf_where(where, name);
    msg_fatal("%s%s", vstring_str(where), mail_conf_macro_error);
}

/* "FILE, line N: " for a value set in main.cf, or "" otherwise. */
void mail_conf_where(VSTRING *buf, const char *name)
{
    const MAIL_CONF_ENTRY *entry = mail_conf_entry(name);

    vstring_reset(buf);
    if (entry && entry->file)
        vstring_sprintf(buf, "%s, line %d: ", entry->file, entry->line);
}

/* Forget main.cf and -o settings, leaving only built-in defaults. */
void mail_conf_forget(void)
{
    if (mail_conf_table)
        htable_free(mail_conf_table, mail_conf_entry_free);
    if (mail_conf_overrides)
        htable_free(mail_conf_overrides, mail_conf_entry_free);
    mail_conf_table = htable_create(10, 0);
    mail_conf_overrides = htable_create(10, 0);
    mail_conf_flush_cache();
}

/* Select the instance in PATH (a directory, or a file in one) via MAIL_CONFIG. */
void mail_conf_select(const char *path)
{
    struct stat st;
    char *dir = mystrdup(path);
    char *slash;

    if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode) && (slash = strrchr(dir, '/')) != NULL)
        *slash = 0;
    if (setenv("MAIL_CONFIG", dir, 1) < 0)
        msg_fatal("setenv: %m");
    myfree(dir);
}
