/*
 * mail_proto - connect to a Postern service or wake one up; see
 * mail_proto.h for the service names and attribute names.
 *
 * Public functions: mail_connect(), mail_connect_quiet(), mail_connect_wait(),
 * mail_trigger().
 *
 * Errors: mail_connect() returns NULL after "warning: connect to
 * subsystem CLASS/NAME: REASON"; mail_connect_wait() never fails (it
 * warns once per 10 failed attempts); mail_trigger() returns -1 after a
 * warning that names the service.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iostuff.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "msg.h"
#include "mymalloc.h"
#include "sockets.h"
#include "vstream.h"
#include "vstring.h"

/* Time limit for delivering a trigger (Postfix's trigger_timeout default). */
#define MAIL_TRIGGER_TIMEOUT 10

/* $queue_directory/CLASS/NAME into BUF. */
static const char *mail_proto_path(VSTRING *buf, const char *class_, const char *name)
{
    return vstring_str(vstring_sprintf(buf, "%s/%s/%s", var_queue_directory, class_, name));
}

/* Connect without logging; NULL with errno on failure. */
VSTREAM *mail_connect_quiet(const char *class_, const char *name, int block_mode)
{
    VSTRING *path = vstring_alloc(100);
    VSTREAM *stream = NULL;
    int fd;

    fd = unix_connect(mail_proto_path(path, class_, name), block_mode, var_ipc_timeout);
    if (fd >= 0) {
        stream = vstream_fdopen(fd, O_RDWR);
        vstream_set_timeout(stream, var_ipc_timeout);
        stream->path = vstring_export(vstring_sprintf(vstring_alloc(50), "%s/%s", class_, name));
    }
    vstring_free(path);
    return stream;
}

/* Connect to the service CLASS/NAME; NULL with a warning on failure. */
VSTREAM *mail_connect(const char *class_, const char *name, int block_mode)
{
    VSTREAM *stream = mail_connect_quiet(class_, name, block_mode);

    if (stream == NULL)
        msg_warn("connect to subsystem %s/%s: %m", class_, name);
    return stream;
}

/* Connect to CLASS/NAME, retrying once per second until it works. */
VSTREAM *mail_connect_wait(const char *class_, const char *name)
{
    VSTREAM *stream;
    int count = 0;

    while ((stream = mail_connect_quiet(class_, name, BLOCKING)) == NULL) {
        if (++count % 10 == 0)
            msg_warn("connect #%d to subsystem %s/%s: %m", count, class_, name);
        sleep(1);
    }
    return stream;
}

/* Deliver a wakeup request to CLASS/NAME (FIFO or UNIX-domain socket). */
int mail_trigger(const char *class_, const char *name, const char *buf, size_t len)
{
    VSTRING *path = vstring_alloc(100);
    struct stat st;
    int rc = -1;
    int fd;

    mail_proto_path(path, class_, name);
    if (stat(vstring_str(path), &st) < 0) {
        msg_warn("unable to look up %s/%s: %m", class_, name);
    } else if (S_ISFIFO(st.st_mode)) {
        if ((rc = fifo_trigger(vstring_str(path), buf, len, MAIL_TRIGGER_TIMEOUT)) < 0)
            msg_warn("trigger %s/%s: %m", class_, name);
    } else if (S_ISSOCK(st.st_mode)) {
        /*
         * A full backlog holds wakeups the service has not read yet; it
         * handles them after this moment, so this one adds nothing (and
         * waiting for room would stall the caller, e.g. cleanup, under load).
         */
        if ((fd = unix_connect_nowait(vstring_str(path), BLOCKING)) < 0) {
            if (errno == EAGAIN)
                rc = 0;
            else
                msg_warn("connect to subsystem %s/%s: %m", class_, name);
        } else {
            /* MSG_NOSIGNAL: a service that went away must not kill a command. */
            if (write_wait(fd, MAIL_TRIGGER_TIMEOUT * 1000) == 0 &&
                send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len)
                rc = 0;
            else
                msg_warn("trigger %s/%s: %m", class_, name);
            close(fd);
        }
    } else {
        errno = EINVAL;
        msg_warn("%s/%s is neither a FIFO nor a socket", class_, name);
    }
    vstring_free(path);
    return rc;
}
