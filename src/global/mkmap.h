/*
 * mkmap - what postmap and postalias do to tables: build one from its
 * source, apply changes from standard input, query, list, delete.
 *
 * The two commands differ only in source syntax (MKMAP_POSTMAP "key
 * value" lines, dict_src.h; MKMAP_ALIASES "name: value, ...", alias_src.h)
 * and output ("KEY<TAB>VALUE" vs "KEY:<TAB>VALUE"), so both are this one
 * module with a MKMAP_OPTS.
 *
 * mkmap_main(argc, argv, syntax) is the whole command line interface of
 * both (options as postmap(1)), returning the exit status.
 *
 * mkmap_opts_init(opts, syntax) sets the defaults of a plain command.
 *
 * Public functions (each "arg" is [type:]name, the type defaulting to
 * $default_database_type):
 *   mkmap_build(arg, opts, incremental)   build name's table from the
 *            source file name; incremental (-i) adds stdin's entries to
 *            the existing table. The backend makes the result atomic.
 *   mkmap_query(args, key, opts)          print the first table's value
 *   mkmap_query_stream(args, fp, opts)    keys from fp (or a message with
 *            MKMAP_MSG_* in opts->message); "KEY<TAB>VALUE" per hit
 *   mkmap_list(args, opts)                every entry of every table
 *   mkmap_delete(args, key, opts)         key ("-": keys from stdin) from
 *            every table
 * The query, list and delete functions return the exit status: 0 when
 * something was found/deleted, 1 when not.
 *
 * Errors: a table that cannot be opened, a failed lookup and an
 * unreadable source are fatal (message on stderr, exit 1), leaving any
 * existing table as it was; bad source lines are skipped with a warning.
 */
#ifndef MKMAP_H
#define MKMAP_H

#include <stdio.h>

#include "argv.h"

#define MKMAP_POSTMAP 0
#define MKMAP_ALIASES 1

#define MKMAP_MSG_HEADER (1 << 0) /* -h: header lines are keys */
#define MKMAP_MSG_BODY   (1 << 1) /* -b: body lines are keys */
#define MKMAP_MSG_MIME   (1 << 2) /* -m: parse MIME structure */

typedef struct MKMAP_OPTS {
    int syntax;        /* MKMAP_POSTMAP or MKMAP_ALIASES */
    int dict_flags;    /* DICT_FLAG_DUP_*, FOLD_FIX, TRY*NULL */
    int message;       /* MKMAP_MSG_* for -q - */
    bool inherit_mode; /* new files copy the source's read bits (not -p) */
    bool keep_root;    /* -o: root does not become the source's owner */
} MKMAP_OPTS;

extern void mkmap_opts_init(MKMAP_OPTS *opts, int syntax);
extern int mkmap_main(int argc, char **argv, int syntax);
extern void mkmap_build(const char *arg, const MKMAP_OPTS *opts, bool incremental);
extern int mkmap_query(const ARGV *args, const char *key, const MKMAP_OPTS *opts);
extern int mkmap_query_stream(const ARGV *args, FILE *fp, const MKMAP_OPTS *opts);
extern int mkmap_list(const ARGV *args, const MKMAP_OPTS *opts);
extern int mkmap_delete(const ARGV *args, const char *key, const MKMAP_OPTS *opts);

#endif
