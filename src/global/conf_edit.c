/*
 * conf_edit - rewrite a configuration file in place. See conf_edit.h.
 */
#include "sys_defs.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "conf_edit.h"
#include "msg.h"
#include "mymalloc.h"
#include "readlline.h"
#include "vstring.h"

CONF_EDIT *conf_edit_open(const char *path, CONF_EDIT_KEY_FN key_fn)
{
    CONF_EDIT *ce = mycalloc(1, sizeof(*ce));
    VSTRING *line = vstring_alloc(100);
    VSTRING *logical = vstring_alloc(100);
    FILE *fp;
    int ch;
    size_t size = 16;

    ce->path = mystrdup(path);
    ce->lines = argv_alloc(100);
    ce->tail = argv_alloc(4);
    ce->entries = mymalloc(size * sizeof(*ce->entries));
    if ((fp = fopen(path, "r")) == NULL)
        msg_fatal("open %s: %m", path);
    for (;;) {
        vstring_reset(line);
        while ((ch = getc(fp)) != EOF && ch != '\n')
            vstring_addch(line, ch);
        if (ch == EOF && VSTRING_LEN(line) == 0)
            break;
        argv_add(ce->lines, vstring_str(line));
    }
    if (ferror(fp))
        msg_fatal("read %s: %m", path);
    fclose(fp);

    for (size_t i = 0; i < ce->lines->argc; i++) {
        const char *text = ce->lines->argv[i];

        if (readlline_ignorable(text))
            continue;
        if (text[0] == ' ' || text[0] == '\t') {
            /* A continuation; one with nothing to continue is left alone. */
            if (ce->count > 0)
                ce->entries[ce->count - 1].last = i;
            continue;
        }
        if (ce->count == size)
            ce->entries = myrealloc(ce->entries, (size *= 2) * sizeof(*ce->entries));
        ce->entries[ce->count++] = (CONF_EDIT_ENTRY){NULL, i, i, 0};
    }
    /* Keys are computed from the whole logical line. */
    for (size_t n = 0; n < ce->count; n++) {
        CONF_EDIT_ENTRY *entry = ce->entries + n;

        vstring_reset(logical);
        for (size_t i = entry->first; i <= entry->last; i++)
            if (!readlline_ignorable(ce->lines->argv[i]))
                vstring_sprintf_append(logical, "%s%s", i > entry->first ? " " : "", ce->lines->argv[i]);
        entry->key = key_fn(vstring_str(logical));
    }
    vstring_free(line);
    vstring_free(logical);
    return ce;
}

/* Drop the entry's first line and its continuation lines (not comments). */
static void conf_edit_remove_lines(CONF_EDIT *ce, CONF_EDIT_ENTRY *entry)
{
    for (size_t i = entry->first; i <= entry->last; i++) {
        if (i > entry->first && readlline_ignorable(ce->lines->argv[i]))
            continue;
        ce->lines->argv[i] = myfree(ce->lines->argv[i]);
    }
    entry->deleted = 1;
}

void conf_edit_replace(CONF_EDIT *ce, CONF_EDIT_ENTRY *entry, const char *text)
{
    conf_edit_remove_lines(ce, entry);
    ce->lines->argv[entry->first] = mystrdup(text);
}

void conf_edit_delete(CONF_EDIT *ce, CONF_EDIT_ENTRY *entry)
{
    conf_edit_remove_lines(ce, entry);
}

void conf_edit_comment(CONF_EDIT *ce, CONF_EDIT_ENTRY *entry)
{
    for (size_t i = entry->first; i <= entry->last; i++) {
        char *old = ce->lines->argv[i];

        if (i > entry->first && readlline_ignorable(old))
            continue;
        ce->lines->argv[i] = mymalloc(strlen(old) + 2);
        sprintf(ce->lines->argv[i], "#%s", old);
        myfree(old);
    }
    entry->deleted = 1;
}

void conf_edit_append(CONF_EDIT *ce, const char *text)
{
    argv_add(ce->tail, text);
}

/* Write everything to a temporary file beside PATH, sync, and rename over PATH. */
void conf_edit_close(CONF_EDIT *ce)
{
    VSTRING *why = vstring_alloc(100);
    ATOMIC_FILE *af;
    struct stat st;
    FILE *fp;

    /* The new file gets the old one's permissions, less the umask. */
    if (stat(ce->path, &st) < 0)
        msg_fatal("stat %s: %m", ce->path);
    if ((af = atomic_file_create(ce->path, st.st_mode & 07777, why)) == NULL)
        msg_fatal("%s", vstring_str(why));
    if ((fp = fdopen(af->fd, "w")) == NULL)
        msg_fatal("fdopen %s: %m", af->tmp_path);
    for (size_t i = 0; i < ce->lines->argc; i++)
        if (ce->lines->argv[i])
            fprintf(fp, "%s\n", ce->lines->argv[i]);
    for (size_t i = 0; i < ce->tail->argc; i++)
        fprintf(fp, "%s\n", ce->tail->argv[i]);
    /* On any failure exit() removes the temporary file; PATH is unchanged. */
    if (fflush(fp) != 0 || ferror(fp))
        msg_fatal("write %s: %m", af->tmp_path);
    if (atomic_file_commit(af, why) < 0)
        msg_fatal("%s", vstring_str(why));
    (void)fclose(fp); /* everything is written and synced */
    vstring_free(why);
    for (size_t n = 0; n < ce->count; n++)
        myfree(ce->entries[n].key);
    myfree(ce->entries);
    argv_free(ce->lines);
    argv_free(ce->tail);
    myfree(ce->path);
    myfree(ce);
}
