/*
 * mail_proto - how Postern's programs reach each other: service names,
 * the attribute names of their requests and replies, and the helpers to
 * connect to a service or to wake one up.
 *
 * Services live under $queue_directory: public/NAME (the private column
 * of master.cf is "n": pickup, cleanup, qmgr, showq, flush, postlog in the
 * stock file) and private/NAME (rewrite, bounce, delivery agents, ...).
 *
 * mail_connect(class, name, block_mode) connects to the UNIX-domain
 * stream socket class/name and returns a VSTREAM with the ipc_timeout
 * limit, or NULL with a warning; mail_connect_quiet() is the same without
 * the warning (errno says why), for callers with their own wording (the
 * queue manager's "connect to transport ..."). mail_connect_wait()
 * retries once per second until it succeeds, for callers that cannot do
 * anything else meanwhile (pickup -> cleanup); it logs one warning per 10
 * failures.
 * mail_trigger(class, name, buf, len) delivers a wakeup request to a
 * trigger service: it writes BUF to a FIFO, or connects to a UNIX-domain
 * socket, writes BUF and closes (the service decides by the file type);
 * returns 0 or -1 with a warning.
 */
#ifndef MAIL_PROTO_H
#define MAIL_PROTO_H

#include <stddef.h>

#include "vstream.h"

/* Service classes (directories under the queue directory). */
#define MAIL_CLASS_PUBLIC  "public"
#define MAIL_CLASS_PRIVATE "private"

/* Well-known services (the default master.cf names). */
#define MAIL_SERVICE_CLEANUP "cleanup"
#define MAIL_SERVICE_PICKUP  "pickup"
#define MAIL_SERVICE_QUEUE   "qmgr"
#define MAIL_SERVICE_REWRITE "rewrite"
#define MAIL_SERVICE_BOUNCE  "bounce"
#define MAIL_SERVICE_DEFER   "defer"
#define MAIL_SERVICE_TRACE   "trace"
#define MAIL_SERVICE_FLUSH   "flush"
#define MAIL_SERVICE_SHOWQ   "showq"

/* Trigger requests (one byte each; several may be sent at once). */
#define TRIGGER_REQ_WAKEUP   'W' /* generic wakeup (master's wakeup timer) */
#define QMGR_REQ_SCAN_INCOMING 'I'
#define QMGR_REQ_SCAN_DEFERRED 'D'
#define QMGR_REQ_SCAN_ALL      'A' /* ignore retry times */
#define QMGR_REQ_FLUSH_DEAD    'F' /* forget dead destinations */

/* Attribute names of requests and replies (attr.h). */
#define MAIL_ATTR_REQ      "request"
#define MAIL_ATTR_QUEUEID  "queue_id"
#define MAIL_ATTR_FLAGS    "flags"
#define MAIL_ATTR_STATUS   "status"
#define MAIL_ATTR_WHY      "reason"
#define MAIL_ATTR_SENDER   "sender"
#define MAIL_ATTR_RECIP    "recipient"
#define MAIL_ATTR_ORCPT    "original_recipient"
#define MAIL_ATTR_QUEUE    "queue_name"
#define MAIL_ATTR_SITE     "site"

extern VSTREAM *mail_connect(const char *class_, const char *name, int block_mode);
extern VSTREAM *mail_connect_quiet(const char *class_, const char *name, int block_mode);
extern VSTREAM *mail_connect_wait(const char *class_, const char *name);
extern int mail_trigger(const char *class_, const char *name, const char *buf, size_t len);

#endif
