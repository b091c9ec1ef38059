/*
 * msg_syslog - diagnostics to the system logger. See msg_syslog.h.
 */
#include "sys_defs.h"

#include <string.h>
#include <syslog.h>

#include "msg.h"
#include "msg_syslog.h"
#include "mymalloc.h"

static char *msg_syslog_ident;

static void msg_syslog_print(enum msg_level level, const char *text)
{
    static const int priority[] = {LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT};

    syslog(priority[level], "%s%.*s", msg_level_prefix(level), MSG_RECORD_LIMIT, text);
}

void msg_syslog_init(const char *ident, int facility)
{
    /* openlog() keeps the pointer, so the copy must live as long as we do. */
    char *old = msg_syslog_ident;

    msg_syslog_ident = mystrdup(ident);
    openlog(msg_syslog_ident, LOG_PID | LOG_NDELAY, facility);
    if (old)
        myfree(old);
    else
        msg_output(msg_syslog_print);
}

int msg_syslog_facility(const char *name)
{
    static const struct {
        const char *name;
        int code;
    } facilities[] = {
        {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},     {"daemon", LOG_DAEMON},
        {"ftp", LOG_FTP},       {"kern", LOG_KERN},         {"lpr", LOG_LPR},       {"mail", LOG_MAIL},
        {"news", LOG_NEWS},     {"syslog", LOG_SYSLOG},     {"user", LOG_USER},     {"uucp", LOG_UUCP},
        {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},     {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
        {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},     {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
    };

    for (size_t i = 0; i < ARRAY_LEN(facilities); i++)
        if (strcasecmp(name, facilities[i].name) == 0)
            return facilities[i].code;
    return -1;
}
