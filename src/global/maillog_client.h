/*
 * maillog_client - choose where a Postern program's diagnostics go.
 *
 * maillog_client_init(PROGNAME, FLAGS) is called after mail_params_init().
 * With maillog_file set, records go to that file ("/dev/stdout" is
 * standard output) in the "Mmm DD HH:MM:SS HOST syslog_name/PROGNAME[PID]:"
 * format; the path must start with an entry of maillog_file_prefixes,
 * otherwise it is fatal: "maillog_file value 'PATH' does not match any
 * prefix in maillog_file_prefixes". Without maillog_file they go to syslog
 * with ident syslog_name/PROGNAME and facility syslog_facility; so do they
 * when the file exists but this process may not write it (a user's
 * sendmail in system mode, where the file belongs to mail_owner; Postfix
 * would pass such lines to its postlogd service).
 * MAILLOG_CLIENT_FLAG_STDERR also keeps a "PROGNAME: text" copy on
 * standard error (for commands run by a person).
 */
#ifndef MAILLOG_CLIENT_H
#define MAILLOG_CLIENT_H

#define MAILLOG_CLIENT_FLAG_NONE 0
#define MAILLOG_CLIENT_FLAG_STDERR (1 << 0)

extern void maillog_client_init(const char *progname, int flags);

#endif
