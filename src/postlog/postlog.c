/*
 * postlog - log text as a Postern program would (postlog(1)).
 *
 * Usage: postlog [-iv] [-c config_dir] [-p priority] [-t tag] [text...]
 *
 * The text arguments, joined by spaces, become one record; without them
 * every line of standard input becomes one. Records go where every
 * Postern program logs (maillog_client: maillog_file or syslog) as
 * "TAG[PID]: text", TAG defaulting to "$syslog_name/postlog"; priority is
 * info (default), warn (or warning), error, fatal or panic, and adds the
 * usual "warning: " etc. prefix. -i is accepted (the PID is always
 * logged). When standard error is a terminal, records are shown there too.
 *
 * Errors: "postlog: fatal: bad severity: "X"", usage errors; exit 1.
 */
#include "sys_defs.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "maillog_client.h"
#include "msg.h"
#include "msg_logfile.h"
#include "msg_stderr.h"
#include "msg_syslog.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

/* -p VALUE to a msg level; -1 when unknown. */
static int postlog_level(const char *name)
{
    static const struct {
        const char *name;
        enum msg_level level;
    } levels[] = {
        {"info", MSG_INFO},   {"warn", MSG_WARN},   {"warning", MSG_WARN},
        {"error", MSG_ERROR}, {"fatal", MSG_FATAL}, {"panic", MSG_PANIC},
    };

    for (size_t i = 0; i < ARRAY_LEN(levels); i++)
        if (strcasecmp(name, levels[i].name) == 0)
            return (int)levels[i].level;
    return -1;
}

/* Send the records to the log with TAG instead of the program name. */
static void postlog_tag(const char *tag)
{
    char *host = mystrndup(var_myhostname, strcspn(var_myhostname, "."));

    /* Both channels are registered already; a second init changes the tag. */
    if (*var_maillog_file) {
        if (msg_logfile_init(var_maillog_file, tag, host) < 0)
            msg_fatal("open maillog_file %s: %m", var_maillog_file);
    } else {
        msg_syslog_init(tag, msg_syslog_facility(var_syslog_facility));
    }
    myfree(host);
}

/* Log one record at LEVEL (fatal and panic are logged, not acted on). */
static void postlog_text(int level, const char *fmt, ...) PRINTFLIKE(2, 3);

static void postlog_text(int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vprintf((enum msg_level)level, fmt, ap);
    va_end(ap);
}

int main(int argc, char **argv)
{
    const char *tag = NULL;
    const char *priority = "info";
    int level;
    int ch;

    mail_process_name = "postlog";
    msg_stderr_init("postlog");
    while ((ch = getopt(argc, argv, "c:ip:t:v")) != -1) {
        switch (ch) {
        case 'c':
            mail_conf_select(optarg);
            break;
        case 'i':
            break;
        case 'p':
            priority = optarg;
            break;
        case 't':
            tag = optarg;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            msg_fatal("usage: postlog [-c config_dir] [-i] [-p priority] [-t tag] [-v] [text]");
        }
    }
    mail_conf_read();
    mail_params_init();
    maillog_client_init("postlog", MAILLOG_CLIENT_FLAG_NONE);
    if ((level = postlog_level(priority)) < 0)
        msg_fatal("bad severity: \"%s\"", priority);
    if (tag != NULL)
        postlog_tag(tag);
    if (isatty(STDERR_FILENO))
        msg_stderr_init(tag ? tag : "postlog");

    if (optind < argc) {
        VSTRING *text = vstring_alloc(100);

        for (int i = optind; i < argc; i++)
            vstring_sprintf_append(text, "%s%s", i > optind ? " " : "", argv[i]);
        postlog_text(level, "%s", vstring_str(text));
        vstring_free(text);
    } else {
        VSTRING *line = vstring_alloc(100);

        while (vstream_fgets_nonl_limit(line, vstream_in, VSTREAM_NO_LIMIT) != VSTREAM_LINE_EOF)
            postlog_text(level, "%s", vstring_str(line));
        vstring_free(line);
    }
    return 0;
}
