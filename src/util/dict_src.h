/*
 * dict_src - one entry of a table source file ("key whitespace value").
 *
 * dict_src_split(line, file, lineno, flags, &key, &value) splits one logical line
 * (readlline) of a postmap/texthash source in place. A key that starts
 * with '"' runs to the matching unescaped '"' and keeps its quotes (so
 * '"a b" x' stores the key "a b" with the quotes). The value is the rest
 * of the line without surrounding whitespace.
 *
 * Returns 1 with key and value set, or 0 for a line that must be skipped,
 * after a warning naming FILE and line: 'expected format: key whitespace
 * value' (with DICT_SRC_FLAG_IGNORING, as texthash says it, followed by
 * " -- ignoring this line") or "unbalanced '\"' in 'LINE' -- ignoring this line". A key ending
 * in ':' is accepted with the warning 'record is in "key: value" format;
 * is this an alias file?'.
 */
#ifndef DICT_SRC_H
#define DICT_SRC_H

#define DICT_SRC_FLAG_NONE     0
#define DICT_SRC_FLAG_IGNORING (1 << 0) /* texthash: "... -- ignoring this line" */

extern int dict_src_split(char *line, const char *file, int lineno, int flags, char **key, char **value);

#endif
