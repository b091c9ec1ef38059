/*
 * flush_clnt - the client of the fast-flush service (flush(8), queue.md
 * section 8): per-destination logs of deferred queue IDs so that ETRN,
 * sendmail -qR and postqueue -s deliver one site's mail at once.
 *
 *   flush_add(site, id)     remember that message ID waits for SITE
 *                           (called for deferred recipients; does
 *                           nothing without a round trip when SITE is not
 *                           in fast_flush_domains)
 *   flush_send_site(site)   deliver the mail for SITE now
 *   flush_send_file(id)     deliver one deferred message now (postqueue -i)
 *   flush_refresh()         refresh logs older than fast_flush_refresh_time
 *   flush_purge()           flush every log now
 *
 * flush_site_valid(site) says whether SITE is a host name or an
 * [address] literal; flush_site_policy(site) whether it is in
 * fast_flush_domains (FLUSH_STAT_OK, FLUSH_STAT_DENY, or FLUSH_STAT_FAIL
 * after a table lookup error; flush_site_init() opens the list early, for
 * a daemon that drops privileges); the service and the client share them.
 *
 * Each request returns FLUSH_STAT_OK, FLUSH_STAT_BAD (bad site name),
 * FLUSH_STAT_DENY (SITE not eligible: not in fast_flush_domains), or
 * FLUSH_STAT_FAIL (the service failed or could not be reached).
 *
 * "Deliver now" means: the flush service moves each queued message for
 * the site from deferred/ to incoming/ with the MAIL_QUEUE_STAT_FLUSH mode
 * bit (mail_queue.h), then triggers the queue manager; the queue manager
 * delivers such a message at once, including recipients in
 * defer_transports.
 *
 * Protocol: public/flush, "request" = one of FLUSH_REQ_*, "site",
 * "queue_id"; answer "status".
 */
#ifndef FLUSH_CLNT_H
#define FLUSH_CLNT_H

#include <stdbool.h>

#define FLUSH_REQ_ADD       "add"
#define FLUSH_REQ_SEND_SITE "send_site"
#define FLUSH_REQ_SEND_FILE "send_file"
#define FLUSH_REQ_REFRESH   "refresh"
#define FLUSH_REQ_PURGE     "purge"

#define FLUSH_STAT_OK   0
#define FLUSH_STAT_FAIL (-1)
#define FLUSH_STAT_BAD  (-2)
#define FLUSH_STAT_DENY (-3)

extern void flush_site_init(void);
extern bool flush_site_valid(const char *site);
extern int flush_site_policy(const char *site);
extern int flush_add(const char *site, const char *id);
extern int flush_send_site(const char *site);
extern int flush_send_file(const char *id);
extern int flush_refresh(void);
extern int flush_purge(void);

#endif
