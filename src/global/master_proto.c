/*
 * master_proto - the service side of the master status protocol.
 *
 * master_notify() writes one fixed-size MASTER_STATUS record on
 * MASTER_STATUS_FD (master_proto.h). The record is far smaller than a
 * socket buffer, so it is written in one piece or not at all.
 *
 * Errors: -1 when the record cannot be written (the master has closed its
 * end, or the descriptor is not there); callers then exit.
 */
#include "sys_defs.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "master_proto.h"
#include "msg.h"

/* Tell the master that process PID (of GENERATION) is available or busy. */
int master_notify(pid_t pid, unsigned generation, int status)
{
    MASTER_STATUS stat;
    ssize_t n;

    memset(&stat, 0, sizeof(stat));
    stat.pid = pid;
    stat.generation = generation;
    stat.avail = status;
    do {
        n = write(MASTER_STATUS_FD, &stat, sizeof(stat));
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(stat)) {
        if (msg_verbose)
            msg_info("master_notify: status %d: %m", status);
        return -1;
    }
    return 0;
}
