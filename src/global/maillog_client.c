/*
 * maillog_client - choose where diagnostics go. See maillog_client.h.
 */
#include "sys_defs.h"

#include <errno.h>

#include <string.h>

#include "maillog_client.h"
#include "mail_params.h"
#include "msg.h"
#include "msg_logfile.h"
#include "msg_stderr.h"
#include "msg_syslog.h"
#include "mymalloc.h"
#include "stringops.h"
#include "vstring.h"

/* True when path starts with one of the maillog_file_prefixes. */
static int maillog_client_allowed(const char *path)
{
    char *copy = mystrdup(var_maillog_file_prefixes);
    char *cp = copy;
    char *prefix;
    int ok = 0;

    while (!ok && (prefix = mystrtok(&cp, CHARS_COMMA_SP)) != NULL)
        ok = strncmp(path, prefix, strlen(prefix)) == 0;
    myfree(copy);
    return ok;
}

void maillog_client_init(const char *progname, int flags)
{
    VSTRING *tag = vstring_alloc(50);
    char *host = mystrndup(var_myhostname, strcspn(var_myhostname, "."));
    int facility;

    vstring_sprintf(tag, "%s/%s", var_syslog_name, progname);
    msg_output_reset();
    if (flags & MAILLOG_CLIENT_FLAG_STDERR)
        msg_stderr_init(vstring_str(tag));
    if (*var_maillog_file) {
        if (!maillog_client_allowed(var_maillog_file))
            msg_fatal("maillog_file value '%s' does not match any prefix in maillog_file_prefixes",
                      var_maillog_file);
        if (msg_logfile_init(var_maillog_file, vstring_str(tag), host) == 0)
            goto done;
        /* A user's sendmail or postdrop in system mode: the file is mail_owner's. */
        if (errno != EACCES && errno != EPERM)
            msg_fatal("open maillog_file %s: %m", var_maillog_file);
    }
    if ((facility = msg_syslog_facility(var_syslog_facility)) < 0)
        msg_fatal("unknown syslog_facility value: %s", var_syslog_facility);
    msg_syslog_init(vstring_str(tag), facility);
done:
    myfree(host);
    vstring_free(tag);
}
