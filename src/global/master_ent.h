/*
 * master_ent - read master.cf.
 *
 * master_ent_read(PATH) parses every entry of a master.cf file (logical
 * lines as in main.cf) into a MASTER_TABLE, in file order. A later entry
 * with the same service name and type replaces an earlier one. Syntax
 * errors are fatal: "PATH: line N: MESSAGE", MESSAGE one of
 *   bad transport type: TYPE
 *   missing "FIELD" field
 *   field "FIELD": bad value: "VALUE"
 *   inet service cannot be private
 *   bad hostname or network address: NAME
 * A missing file is fatal ("no PATH file found") unless the caller passes
 * MASTER_ENT_FLAG_MISSING_OK.
 *
 * Each entry keeps the columns as written (for postconf -M/-F) and their
 * resolved values. The command column is split into arguments; { ... }
 * groups are one argument with the braces removed; "-o name=value" and
 * "-o { name = value }" become overrides, kept in order, and are also left
 * in args in normalised form ("-o name=value").
 */
#ifndef MASTER_ENT_H
#define MASTER_ENT_H

#include <stdbool.h>

#include "argv.h"

/* The columns of one entry, in file order. */
enum master_field {
    MASTER_FIELD_SERVICE,
    MASTER_FIELD_TYPE,
    MASTER_FIELD_PRIVATE,
    MASTER_FIELD_UNPRIV,
    MASTER_FIELD_CHROOT,
    MASTER_FIELD_WAKEUP,
    MASTER_FIELD_MAXPROC,
    MASTER_FIELD_COMMAND,
    MASTER_FIELD_COUNT
};

typedef struct MASTER_ENT {
    char *field[MASTER_FIELD_COUNT];    /* as written; COMMAND: the program */
    ARGV *args;                         /* program and arguments, normalised */
    ARGV *override_names;               /* -o names, in order */
    ARGV *override_values;              /* -o values, same order */
    bool private_;                      /* socket in private/ */
    bool unpriv;                        /* run as mail_owner */
    bool chroot;
    int wakeup;                         /* seconds, 0 = none */
    bool wakeup_if_used;                /* "N?": none before first use */
    int maxproc;                        /* 0 = unlimited; -1: default_process_limit */
    int line;                           /* where the entry starts */
} MASTER_ENT;

typedef struct MASTER_TABLE {
    MASTER_ENT **ents;
    size_t count;
    char *path;
} MASTER_TABLE;

#define MASTER_ENT_FLAG_MISSING_OK (1 << 0)

extern const char *const master_field_names[MASTER_FIELD_COUNT];

extern MASTER_TABLE *master_ent_read(const char *path, int flags);
extern MASTER_TABLE *master_ent_free(MASTER_TABLE *table);
extern MASTER_ENT *master_ent_parse_text(const char *path, int line, const char *text);
extern MASTER_ENT *master_ent_free_entry(MASTER_ENT *ent);
extern MASTER_ENT *master_ent_find(const MASTER_TABLE *table, const char *service, const char *type);
extern bool master_ent_valid_type(const char *type);
extern char *master_ent_arg_text(const char *arg);

#endif
