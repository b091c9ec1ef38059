/*
 * log_adhoc - the delivery log line (delivery.md section 1):
 *
 *   QID: to=<RCPT>, orig_to=<ORIG>, relay=RELAY, conn_use=N, delay=T,
 *        delays=A/B/C/D, dsn=X.Y.Z, status=STATUS (TEXT)
 *
 * log_adhoc(id, stats, rcpt, relay, dsn, status) logs it with msg_info()
 * (so under the calling program's syslog name: postfix/local,
 * postfix/qmgr, ...). orig_to= appears only when the original recipient
 * is not empty and differs from the recipient ignoring case; conn_use=
 * only when stats->reuse_count > 0 (value reuse_count + 1). STATUS is
 * "sent", "deferred", "bounced", "expired", "deliverable",
 * "undeliverable". The null address prints as to=<>.
 *
 * log_adhoc_delay(buf, seconds) appends one delay value as Postfix prints
 * it: 2 significant digits, at most $delay_logging_resolution_limit
 * decimals (0.12, 1.2, 0.01), whole numbers from 10 s up (12, 3944),
 * trailing zeros and a trailing '.' dropped, values below the resolution
 * as "0". Exported for the unit tests.
 *
 * Errors: none.
 */
#ifndef LOG_ADHOC_H
#define LOG_ADHOC_H

#include "dsn.h"
#include "msg_stats.h"
#include "recipient_list.h"
#include "vstring.h"

extern void log_adhoc(const char *id, const MSG_STATS *stats, const RECIPIENT *rcpt, const char *relay,
                      const DSN *dsn, const char *status);
extern void log_adhoc_delay(VSTRING *buf, double seconds);

#endif
