/*
 * postconf - show and edit the Postern configuration.
 *
 * Usage: postconf [-dfhHnqvx] [-c DIR] [-o name=value] [name ...]
 *        postconf [-e] name=value ...     postconf -X name ...
 *        postconf -# name ...             postconf -m | -l | -a | -A
 *        postconf -M[fx] [service[/type] ...]   -Me svc/type=entry, -MX, -M#
 *        postconf -F[hH] [svc/type/field ...]   -Fe svc/type/field=value
 *        postconf -P[hH] [svc/type/param ...]   -Pe svc/type/param=value, -PX
 *
 * Output formats, warnings and exit codes are Postfix's (see
 * docs/postconf.md and the spec, config.md section 6).
 */
#include "sys_defs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail_conf.h"
#include "dict_open.h"
#include "master_ent.h"
#include "msg.h"
#include "msg_stderr.h"
#include "myflock.h"
#include "mymalloc.h"
#include "postconf.h"
#include "stringops.h"
#include "xsasl.h"

int pc_flags;
MASTER_TABLE *pc_master;
char *pc_master_path;

static NORETURN pc_usage(void)
{
    msg_fatal("usage: postconf [-a (server SASL types)] [-A (client SASL types)] "
              "[-c config_dir] [-d (defaults)] [-e (edit)] [-f (fold lines)] "
              "[-F (master.cf fields)] [-H (parameter names)] [-h (no names)] [-l (lock types)] "
              "[-M (master.cf)] [-m (map types)] [-n (non-defaults)] [-o name=value (override)] "
              "[-P (master.cf parameters)] [-q (quiet)] [-v] [-X (remove)] [-x (expand)] "
              "[-# (comment-out)] [name...]");
}

/* postconf -m: the lookup table types built into this program, sorted. */
static void pc_show_maps(void)
{
    ARGV *names = dict_mapnames();

    for (size_t i = 0; i < names->argc; i++)
        printf("%s\n", names->argv[i]);
    argv_free(names);
}

/* postconf -l: the mailbox lock methods this system supports. */
static void pc_show_locks(void)
{
    const char *const *methods = myflock_methods();

    for (; *methods; methods++)
        printf("%s\n", *methods);
}

/* postconf -a / -A: the SASL server or client backends built in. */
static void pc_show_sasl(ARGV *types)
{
    for (size_t i = 0; i < types->argc; i++)
        printf("%s\n", types->argv[i]);
    argv_free(types);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int edit_mode = -1;  /* -e, -X, -# */
    int master_what = 0; /* -M, -F, -P */
    int list_what = 0;   /* -m, -l, -a, -A */
    ARGV *overrides = argv_alloc(2);
    int ch;

    msg_stderr_init("postconf");
    mail_conf_macro_error = "macro processing error";
    while ((ch = getopt(argc, argv, "aAc:deEfFhHlmMno:PqvxX#")) != -1) {
        switch (ch) {
        case 'a':
        case 'A':
        case 'l':
        case 'm':
            list_what = ch;
            break;
        case 'c':
            dir = optarg;
            break;
        case 'd':
            pc_flags |= PC_SHOW_DEFAULTS;
            break;
        case 'e':
            edit_mode = PC_EDIT_SET;
            break;
        case 'X':
            edit_mode = PC_EDIT_DELETE;
            break;
        case '#':
            edit_mode = PC_EDIT_COMMENT;
            break;
        case 'f':
            pc_flags |= PC_FOLD;
            break;
        case 'F':
        case 'M':
        case 'P':
            if (master_what && master_what != ch)
                pc_usage();
            master_what = ch;
            break;
        case 'h':
            pc_flags |= PC_HIDE_NAME;
            break;
        case 'H':
            pc_flags |= PC_HIDE_VALUE;
            break;
        case 'n':
            pc_flags |= PC_SHOW_NONDEFAULT;
            break;
        case 'o':
            argv_add(overrides, optarg);
            break;
        case 'q':
            pc_flags |= PC_QUIET;
            break;
        case 'v':
            msg_verbose++;
            break;
        case 'x':
            pc_flags |= PC_EXPAND;
            break;
        default:
            pc_usage();
        }
    }
    if ((pc_flags & PC_SHOW_DEFAULTS) && (pc_flags & PC_SHOW_NONDEFAULT))
        msg_fatal("specify one of -d and -n");

    switch (list_what) {
    case 'l':
        pc_show_locks();
        exit(0);
    case 'm':
        pc_show_maps();
        exit(0);
    case 'a':
        pc_show_sasl(xsasl_server_types());
        exit(0);
    case 'A':
        pc_show_sasl(xsasl_client_types());
        exit(0);
    }

    if (dir) {
        if (setenv("MAIL_CONFIG", dir, 1) < 0)
            msg_fatal("setenv: %m");
        mail_conf_read_dir(dir);
        mail_conf_dir_explicit = 1;
    } else {
        mail_conf_read();
    }
    for (size_t i = 0; i < overrides->argc; i++) {
        char *copy = mystrdup(overrides->argv[i]);
        char *name;
        char *value;

        if (split_nameval(copy, &name, &value) != NULL)
            msg_fatal("invalid parameter assignment: %s", overrides->argv[i]);
        mail_conf_override(name, value);
        myfree(copy);
    }
    argv_free(overrides);
    pc_master_path = mymalloc(strlen(mail_conf_dir) + sizeof("/master.cf"));
    sprintf(pc_master_path, "%s/master.cf", mail_conf_dir);
    pc_master = master_ent_read(pc_master_path, MASTER_ENT_FLAG_MISSING_OK);
    if (pc_flags & PC_SHOW_DEFAULTS)
        mail_conf_forget();
    if ((pc_flags & PC_QUIET) == 0)
        mail_conf_undef_hook(pc_warn_undefined);

    char **names = argv + optind;
    int has_assignment = 0;

    for (char **cpp = names; *cpp; cpp++)
        if (strchr(*cpp, '='))
            has_assignment = 1;
    if (master_what) {
        if (edit_mode >= 0)
            pc_edit_master(master_what, edit_mode, names);
        else if (master_what == PC_MASTER_ENTRY)
            pc_show_master(names);
        else if (master_what == PC_MASTER_FIELD)
            pc_show_fields(names);
        else
            pc_show_params(names);
    } else if (edit_mode >= 0 || has_assignment) {
        pc_edit_main(names, edit_mode >= 0 ? edit_mode : PC_EDIT_SET);
    } else {
        pc_show_main(names);
    }
    if (fflush(stdout) != 0)
        msg_fatal("write error on standard output: %m");
    if ((pc_flags & (PC_QUIET | PC_SHOW_DEFAULTS)) == 0 && edit_mode < 0)
        pc_scan_unused();
    pc_flush_warnings();
    return 0;
}
