/*
 * postconf - internal interfaces between the postconf modules.
 *
 * postconf.c parses the command line and dispatches; postconf_main.c shows
 * and edits main.cf parameters; postconf_master.c shows and edits
 * master.cf entries; postconf_warn.c finds unused, undefined and
 * deprecated parameters and prints the collected warnings, sorted and
 * once each, after the command's output.
 */
#ifndef POSTCONF_H
#define POSTCONF_H

#include <stdbool.h>

#include "argv.h"
#include "master_ent.h"
#include "vstring.h"

#define PC_SHOW_DEFAULTS (1 << 0)       /* -d */
#define PC_SHOW_NONDEFAULT (1 << 1)     /* -n */
#define PC_HIDE_NAME (1 << 2)           /* -h */
#define PC_HIDE_VALUE (1 << 3)          /* -H */
#define PC_EXPAND (1 << 4)              /* -x */
#define PC_FOLD (1 << 5)                /* -f */
#define PC_QUIET (1 << 6)               /* -q */

extern int pc_flags;
extern MASTER_TABLE *pc_master;
extern char *pc_master_path;

/* postconf_main.c */
extern void pc_show_main(char **names);
extern void pc_edit_main(char **args, int mode);
extern void pc_print_line(const char *name, const char *value);

#define PC_EDIT_SET 0
#define PC_EDIT_DELETE 1
#define PC_EDIT_COMMENT 2

/* postconf_master.c */
extern void pc_show_master(char **names);
extern void pc_show_fields(char **names);
extern void pc_show_params(char **names);
extern void pc_edit_master(int what, int mode, char **args);
extern void pc_format_master(VSTRING *buf, const MASTER_ENT *ent, bool fold);

#define PC_MASTER_ENTRY 'M'
#define PC_MASTER_FIELD 'F'
#define PC_MASTER_PARAM 'P'

/* postconf_warn.c */
extern void pc_warn(const char *fmt, ...) PRINTFLIKE(1, 2);
extern void pc_warn_undefined(const char *name);
extern void pc_scan_unused(void);
extern void pc_flush_warnings(void);
extern bool pc_known_name(const char *name);

#endif
