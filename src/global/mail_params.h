/*
 * mail_params - the registry of every main.cf parameter Postern knows.
 *
 * Each parameter is declared exactly once, in mail_params.def, as
 *
 *   PARAM(name, type, default, min, max, flags)
 *
 * name     Postfix's parameter name (a C identifier suffix; may start with
 *          a digit: 2bounce_notice_recipient).
 * type     PT_STR (expanded string), PT_RAW (string whose $variables are
 *          expanded later by the program using it, e.g. forward_path),
 *          PT_LIST (expanded string read as a list), PT_BOOL, PT_INT,
 *          PT_LONG (byte counts and other large numbers), PT_TIME
 *          (seconds; the value may carry a unit s m h d w).
 * default  Postfix's default expression exactly as `postconf -d` prints
 *          it, as a C string. Ignored for PF_DYNAMIC parameters.
 * min,max  Inclusive bounds for numeric types; max 0 means no upper bound.
 * flags    PF_DYNAMIC: the default is computed at run time
 *          (mail_params_dynamic_default()); PF_UNIT_M/H/D/W: the default
 *          time unit when the value has none (else seconds); PF_DEPRECATED:
 *          postconf warns that the parameter will be removed (the
 *          replacement is in mail_params_replacement()).
 *
 * From the list this header derives one typed global per parameter,
 * var_NAME (char * for string types, bool, int, long long, int seconds),
 * filled by mail_params_init() (mail_conf.h), and the table
 * mail_params_table[] that postconf and the configuration engine walk.
 */
#ifndef MAIL_PARAMS_H
#define MAIL_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "sys_defs.h"

typedef enum { PT_STR, PT_RAW, PT_LIST, PT_BOOL, PT_INT, PT_LONG, PT_TIME } PARAM_TYPE;

#define PF_DYNAMIC (1 << 0)
#define PF_UNIT_M (1 << 1)
#define PF_UNIT_H (1 << 2)
#define PF_UNIT_D (1 << 3)
#define PF_UNIT_W (1 << 4)
#define PF_DEPRECATED (1 << 5)

typedef struct PARAM_INFO {
    const char *name;
    PARAM_TYPE type;
    const char *def;                    /* default expression */
    long long min;
    long long max;                      /* 0: unbounded */
    int flags;
    void *var;                          /* &var_NAME */
} PARAM_INFO;

#define PARAM_CTYPE_PT_STR char *
#define PARAM_CTYPE_PT_RAW char *
#define PARAM_CTYPE_PT_LIST char *
#define PARAM_CTYPE_PT_BOOL bool
#define PARAM_CTYPE_PT_INT int
#define PARAM_CTYPE_PT_LONG long long
#define PARAM_CTYPE_PT_TIME int

#define PARAM(name, type, def, min, max, flags) extern PARAM_CTYPE_##type var_##name;
#include "mail_params.def"
#undef PARAM

extern const PARAM_INFO mail_params_table[];
extern const size_t mail_params_count;

extern const PARAM_INFO *mail_params_find(const char *name);
extern const char *mail_params_default(const PARAM_INFO *param);
extern const char *mail_params_replacement(const char *name);
extern int mail_params_unit(const PARAM_INFO *param);

#endif
