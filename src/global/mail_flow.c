/*
 * mail_flow - inflow control through the master's token pipe. See
 * mail_flow.h.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iostuff.h"
#include "mail_flow.h"
#include "mail_params.h"
#include "master_proto.h"
#include "msg.h"

static bool mail_flow_ok;

/* Use the pipe only if the master gave it (both ends of a FIFO). */
void mail_flow_init(void)
{
    struct stat rd, wr;

    mail_flow_ok = fstat(MASTER_FLOW_READ, &rd) == 0 && S_ISFIFO(rd.st_mode) &&
                   fstat(MASTER_FLOW_WRITE, &wr) == 0 && S_ISFIFO(wr.st_mode) && rd.st_ino == wr.st_ino;
    if (mail_flow_ok) {
        (void)close_on_exec(MASTER_FLOW_READ, true);
        (void)close_on_exec(MASTER_FLOW_WRITE, true);
    }
}

/* Fill the pipe up to LEVEL tokens; see mail_flow.h. */
void mail_flow_feed(int level)
{
    static const char tokens[256];
    int have;

    if (!mail_flow_ok || ioctl(MASTER_FLOW_READ, FIONREAD, &have) < 0)
        return;
    while (have < level) {
        size_t n = (size_t)(level - have) < sizeof(tokens) ? (size_t)(level - have) : sizeof(tokens);
        ssize_t put = write(MASTER_FLOW_WRITE, tokens, n);

        if (put <= 0) /* full (EAGAIN) or gone */
            return;
        have += (int)put;
    }
}

/* Take a token, waiting at most in_flow_delay for one; see mail_flow.h. */
void mail_flow_wait(void)
{
    int64_t deadline;
    char token;

    if (!mail_flow_ok || var_in_flow_delay <= 0)
        return;
    deadline = iostuff_clock_ms() + (int64_t)var_in_flow_delay * 1000;
    for (;;) {
        /* Processes waiting at once all wake for a token; one gets it. */
        if (read(MASTER_FLOW_READ, &token, 1) == 1)
            return;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return;
        int64_t left = deadline - iostuff_clock_ms();

        if (left <= 0) {
            if (msg_verbose)
                msg_info("in_flow_delay: no token after %ds; going on", var_in_flow_delay);
            return;
        }
        struct pollfd pfd = {.fd = MASTER_FLOW_READ, .events = POLLIN};

        (void)poll(&pfd, 1, (int)left);
    }
}
