/*
 * master_proto - the contract between the master and the service
 * processes it starts.
 *
 * The master starts a service as
 *
 *   PROGRAM -n SERVICE -t TYPE [-s COUNT] [-u] [-z] [-v]... [-o name=value]... [ARGS]
 *
 * with the master.cf command arguments after the skeleton's options
 * (master.cf "-o" settings arrive as -o; the rest are the daemon's own
 * arguments). TYPE is inet, unix, unix-dgram, fifo or pass. -u means the
 * service is unprivileged (system mode: run as mail_owner); -z means chroot
 * to queue_directory (system mode only). The process
 * inherits:
 *
 *   MASTER_STATUS_FD  one end of a stream socketpair shared by all
 *                     processes of the service. The process writes a
 *                     MASTER_STATUS record whenever it turns available
 *                     (ready for a new client) or busy. When the master
 *                     closes its end (reload, stop, service removed) the
 *                     descriptor becomes readable with end of file: the
 *                     process finishes its current client and exits.
 *   MASTER_LISTEN_FD  the first of COUNT listening descriptors (default 1):
 *                     a listening stream socket, or a FIFO opened for
 *                     reading, or a datagram socket.
 *   MASTER_FLOW_READ, MASTER_FLOW_WRITE  the two ends of one pipe shared
 *                     by every process of every service, non-blocking:
 *                     the in_flow_delay tokens (mail_flow.h).
 *
 * Environment: MAIL_CONFIG (the instance), MAIL_VERBOSE when the master
 * is verbose, MAIL_LOGTAG. Standard input, output and error are
 * /dev/null, except that standard output stays the master's when
 * maillog_file is /dev/stdout; daemons log through msg/maillog_client.
 *
 * master_notify(pid, generation, status) writes one status record; it
 * returns 0 or -1 (the master has gone; callers then exit).
 */
#ifndef MASTER_PROTO_H
#define MASTER_PROTO_H

#include <sys/types.h>

#define MASTER_FLOW_READ  3
#define MASTER_FLOW_WRITE 4
#define MASTER_STATUS_FD  5
#define MASTER_LISTEN_FD  6

#define MASTER_STAT_TAKEN 0 /* busy with a client */
#define MASTER_STAT_AVAIL 1 /* ready for a new client */

typedef struct MASTER_STATUS {
    pid_t pid;
    unsigned generation; /* from the MASTER_GENERATION environment variable */
    int avail;           /* MASTER_STAT_* */
} MASTER_STATUS;

extern int master_notify(pid_t pid, unsigned generation, int status);

#endif
