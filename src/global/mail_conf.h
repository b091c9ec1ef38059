/*
 * mail_conf - read main.cf and answer parameter queries.
 *
 * mail_conf_read() reads $MAIL_CONFIG/main.cf (or the compiled-in
 * config_directory); mail_conf_read_dir() reads DIR/main.cf. A missing
 * main.cf is fatal ("open FILE: No such file or directory"); a syntax
 * error is fatal and names file and line; a name set twice keeps the last
 * value with a warning. mail_conf_override() applies a -o setting.
 *
 * Queries: mail_conf_raw() returns the value as written (override, then
 * main.cf, then the built-in default) or NULL when the name is unknown
 * everywhere; mail_conf_eval() returns it with $names expanded (fatal on a
 * macro error); mail_conf_expand() expands an arbitrary value.
 * mail_conf_entry() returns where a main.cf value was set.
 * mail_conf_select(PATH) picks the instance for this process and the
 * programs it runs (-c/-C): it sets MAIL_CONFIG to PATH, or to PATH's
 * directory when PATH names a file (sendmail -C main.cf).
 * mail_conf_forget() drops main.cf and -o settings (postconf -d).
 *
 * Every value reference that hits an undefined name calls the hook set
 * with mail_conf_undef_hook() (postconf uses it to warn).
 */
#ifndef MAIL_CONF_H
#define MAIL_CONF_H

#include "htable.h"
#include "vstring.h"

typedef struct MAIL_CONF_ENTRY {
    char *value;
    const char *file;                   /* NULL for -o overrides */
    int line;
} MAIL_CONF_ENTRY;

typedef void (*MAIL_CONF_UNDEF_FN)(const char *name);

extern char *mail_conf_dir;             /* config directory in use */
extern char *mail_conf_path;            /* its main.cf */
extern int mail_conf_dir_explicit;      /* chosen by -c or MAIL_CONFIG */
extern HTABLE *mail_conf_table;         /* main.cf entries, in file order */
extern HTABLE *mail_conf_overrides;     /* -o entries */
extern const char *mail_conf_macro_error; /* fatal text after a macro error */

extern void mail_conf_select(const char *path);
extern void mail_conf_read(void);
extern void mail_conf_read_dir(const char *dir);
extern void mail_conf_override(const char *name, const char *value);
extern void mail_conf_forget(void);
extern const char *mail_conf_raw(const char *name);
extern const char *mail_conf_eval(const char *name);
extern int mail_conf_expand(VSTRING *result, const char *value);
extern const MAIL_CONF_ENTRY *mail_conf_entry(const char *name);
extern MAIL_CONF_UNDEF_FN mail_conf_undef_hook(MAIL_CONF_UNDEF_FN fn);
extern void mail_conf_where(VSTRING *buf, const char *name);
extern NORETURN mail_conf_macro_fatal(const char *name);

#endif
