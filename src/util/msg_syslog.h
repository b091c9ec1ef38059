/*
 * msg_syslog - the diagnostics channel to the system logger.
 *
 * msg_syslog_init(IDENT, FACILITY) opens syslog with IDENT (for example
 * "postfix/smtpd") and the process ID; msg_syslog_facility() maps a
 * facility name such as "mail" or "local3" to its code (-1 if unknown).
 * Records longer than MSG_RECORD_LIMIT bytes are cut.
 */
#ifndef MSG_SYSLOG_H
#define MSG_SYSLOG_H

#define MSG_RECORD_LIMIT 2000

extern void msg_syslog_init(const char *ident, int facility);
extern int msg_syslog_facility(const char *name);

#endif
