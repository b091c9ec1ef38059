/*
 * mail_flow - inflow control (in_flow_delay): new mail waits when it
 * arrives faster than it is delivered (spec security.md, queue.md 5.1).
 *
 * The master creates one pipe and hands both ends to every process it
 * starts (MASTER_FLOW_READ, MASTER_FLOW_WRITE in master_proto.h). Each
 * byte in the pipe is a token: permission to start one new message.
 *
 * mail_flow_init() in a process the master started (mail_server.c):
 *     checks that the descriptors are that pipe and keeps them from the
 *     commands the process runs (close-on-exec). Until then, and in a
 *     process started otherwise (smtpd -S, tests), the other functions
 *     do nothing.
 * mail_flow_feed(level): the queue manager, whenever it has finished a
 *     message (and at start and on its periodic scan), fills the pipe up
 *     to LEVEL tokens (default_process_limit, as Postfix).
 * mail_flow_wait(): smtpd and pickup, before each new message, take a
 *     token; with none there they wait for one, at most in_flow_delay
 *     seconds, and then go on without. With the default 100 smtpd
 *     processes and 1s this lets at most about 100 messages a second more
 *     in than the queue manager finishes. in_flow_delay = 0: no waiting.
 */
#ifndef MAIL_FLOW_H
#define MAIL_FLOW_H

extern void mail_flow_init(void);
extern void mail_flow_feed(int level);
extern void mail_flow_wait(void);

#endif
