/*
 * msg_logfile - diagnostics to a log file or standard output.
 * See msg_logfile.h.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "msg_logfile.h"
#include "msg_syslog.h"
#include "mymalloc.h"
#include "vstring.h"

static int msg_logfile_fd = -1;
static char *msg_logfile_path;
static char *msg_logfile_tag;
static char *msg_logfile_host;

/* Format the "Mmm DD HH:MM:SS" time stamp that begins each record. */
void msg_logfile_format(char *buf, size_t len, time_t when)
{
    struct tm tm;

    localtime_r(&when, &tm);
    strftime(buf, len, "%b %d %H:%M:%S", &tm);
}

/* One record: the time stamp is formatted once per second. */
static void msg_logfile_print(enum msg_level level, const char *text)
{
    static time_t stamp_time = -1;
    static char stamp[32];
    VSTRING *line = vstring_alloc(200);
    time_t now = time(NULL);

    if (now != stamp_time) {
        msg_logfile_format(stamp, sizeof(stamp), now);
        stamp_time = now;
    }
    vstring_sprintf(line, "%s %s %s[%ld]: %s%.*s", stamp, msg_logfile_host, msg_logfile_tag, (long)getpid(),
                    msg_level_prefix(level), MSG_RECORD_LIMIT, text);
    vstring_addch(line, '\n');
    if (msg_logfile_fd >= 0)
        (void)!write(msg_logfile_fd, vstring_str(line), VSTRING_LEN(line));
    vstring_free(line);
}

/* Open (or reopen) the configured path. */
static int msg_logfile_open(void)
{
    int fd;

    if (strcmp(msg_logfile_path, "/dev/stdout") == 0)
        fd = dup(STDOUT_FILENO);
    else
        fd = open(msg_logfile_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (msg_logfile_fd >= 0)
        close(msg_logfile_fd);
    msg_logfile_fd = fd;
    return 0;
}

int msg_logfile_reopen(void)
{
    return msg_logfile_path ? msg_logfile_open() : 0;
}

int msg_logfile_init(const char *path, const char *tag, const char *host)
{
    int first = msg_logfile_path == NULL;

    if (!first) {
        myfree(msg_logfile_path);
        myfree(msg_logfile_tag);
        myfree(msg_logfile_host);
    }
    msg_logfile_path = mystrdup(path);
    msg_logfile_tag = mystrdup(tag);
    msg_logfile_host = mystrdup(host);
    if (msg_logfile_open() < 0)
        return -1;
    msg_output(msg_logfile_print); /* registers once, also after msg_output_reset() */
    return 0;
}
