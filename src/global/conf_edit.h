/*
 * conf_edit - rewrite main.cf or master.cf in place, keeping comments.
 *
 * conf_edit_open(PATH) reads the file's physical lines and groups them
 * into entries: a line that starts with neither whitespace nor '#' begins
 * an entry, and the whitespace-indented, non-comment lines after it are
 * its continuations. Each entry gets a key computed by the caller's key
 * function (the parameter name, or "service/type").
 *
 * conf_edit_replace() replaces an entry (first line and continuations) by
 * new text, conf_edit_delete() removes it, conf_edit_comment() puts '#'
 * before each of its physical lines; conf_edit_append() adds text at the
 * end. conf_edit_close() writes the result to a temporary file in the same
 * directory, syncs it and renames it over the original, so readers see the
 * old or the new file, never a mix; on error nothing is changed and the
 * temporary file is removed (fatal).
 */
#ifndef CONF_EDIT_H
#define CONF_EDIT_H

#include <stddef.h>

#include "argv.h"

typedef struct CONF_EDIT_ENTRY {
    char *key;
    size_t first;                       /* index of the first physical line */
    size_t last;                        /* index of the last continuation */
    int deleted;
} CONF_EDIT_ENTRY;

typedef struct CONF_EDIT {
    char *path;
    ARGV *lines;                        /* physical lines without newline; NULL = removed */
    CONF_EDIT_ENTRY *entries;
    size_t count;
    ARGV *tail;                         /* appended text */
} CONF_EDIT;

typedef char *(*CONF_EDIT_KEY_FN)(const char *logical_line);

extern CONF_EDIT *conf_edit_open(const char *path, CONF_EDIT_KEY_FN key_fn);
extern void conf_edit_replace(CONF_EDIT *ce, CONF_EDIT_ENTRY *entry, const char *text);
extern void conf_edit_delete(CONF_EDIT *ce, CONF_EDIT_ENTRY *entry);
extern void conf_edit_comment(CONF_EDIT *ce, CONF_EDIT_ENTRY *entry);
extern void conf_edit_append(CONF_EDIT *ce, const char *text);
extern void conf_edit_close(CONF_EDIT *ce);

#endif
