/*
 * mail_params_init - turn the configuration into typed parameter globals.
 *
 * mail_params_init() evaluates every registered parameter (main.cf, then
 * -o overrides, then defaults), converts it to its type and stores it in
 * var_NAME. A bad value is fatal with Postfix's text, prefixed by the
 * main.cf file and line that set it:
 *   bad boolean configuration: NAME = VALUE
 *   bad numerical configuration: NAME = VALUE
 *   parameter NAME: bad time value or unit: VALUE
 *   invalid NAME parameter value N < MIN (or > MAX)
 * then mail_params_check() applies the start-up checks on host names,
 * myorigin and relayhost. mail_params_time() converts a time value with
 * the given default unit into seconds (0 on syntax error).
 * mail_process_name is the running program's name (process_name).
 *
 * mail_params_accounts() (mail_params_init.c) makes the system-mode
 * start-up account checks of config.md 10 on mail_owner, setgid_group
 * and default_privs (fatal with Postfix's texts) and fills
 * mail_owner_uid, mail_owner_gid and mail_setgid_gid. Only processes
 * running as root call it; rootless mode never looks the accounts up.
 *
 * mail_params_check_setgid_config() is for set-gid commands (postdrop,
 * postqueue): another configuration directory in MAIL_CONFIG is accepted
 * only for root, without set-gid privileges, or when the default main.cf
 * lists it in alternate_config_directories or multi_instance_directories;
 * otherwise "fatal: untrusted configuration directory name: DIR".
 */
#include <sys/types.h>

#ifndef MAIL_PARAMS_INIT_H
#define MAIL_PARAMS_INIT_H

extern const char *mail_process_name;

extern void mail_params_init(void);
extern void mail_params_check(void);
extern int mail_params_time(const char *value, int def_unit, long long *seconds);

extern uid_t mail_owner_uid;
extern gid_t mail_owner_gid;
extern gid_t mail_setgid_gid;
extern void mail_params_accounts(void);
extern void mail_params_check_setgid_config(void);

#endif
