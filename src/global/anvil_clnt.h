/*
 * anvil_clnt - the client side of the anvil service (connection and rate
 * limits per client, spec/smtpd.md §1.2, §3.2, §3.3).
 *
 * anvil keeps, per (service, client address): the number of open
 * connections and the number of connections, messages and recipients in
 * the current $anvil_rate_time_unit. It logs statistics every
 * $anvil_status_update_time ("statistics: max connection rate 5/60s for
 * (smtp:192.0.2.10) at Nov 21 10:00:00", ...) and when it exits.
 *
 *   anvil = anvil_clnt_create()    connect lazily to private/anvil
 *   anvil_clnt_connect(anvil, service, addr, &count, &rate)
 *       a client connected: count = its open connections (this one
 *       included), rate = connections in this time unit.
 *   anvil_clnt_mail(anvil, service, addr, &msgs)   one more MAIL FROM
 *   anvil_clnt_rcpt(anvil, service, addr, &rcpts)  one more RCPT TO
 *   anvil_clnt_newtls(anvil, service, addr, &rate) one more new TLS session
 *   anvil_clnt_newtls_report(anvil, service, addr, &rate) new TLS sessions
 *       so far in this time unit (no change)
 *   anvil_clnt_auth(anvil, service, addr, &rate)   one more AUTH command
 *   anvil_clnt_disconnect(anvil, service, addr)    the client went away
 *   anvil_clnt_free(anvil)
 *
 * Each returns ANVIL_STAT_OK, or ANVIL_STAT_FAIL when the service cannot
 * be reached (the caller then applies no limit; a warning is logged).
 * Protocol (attr.h): request=connect|disconnect|message|recipient|newtls|newtls_report|auth|lookup,
 * ident=SERVICE:ADDR; reply status, count, rate.
 */
#ifndef ANVIL_CLNT_H
#define ANVIL_CLNT_H

#define ANVIL_STAT_OK   0
#define ANVIL_STAT_FAIL (-1)

typedef struct ANVIL_CLNT ANVIL_CLNT;

extern ANVIL_CLNT *anvil_clnt_create(void);
extern int anvil_clnt_connect(ANVIL_CLNT *anvil, const char *service, const char *addr, int *count, int *rate);
extern int anvil_clnt_mail(ANVIL_CLNT *anvil, const char *service, const char *addr, int *msgs);
extern int anvil_clnt_rcpt(ANVIL_CLNT *anvil, const char *service, const char *addr, int *rcpts);
extern int anvil_clnt_newtls(ANVIL_CLNT *anvil, const char *service, const char *addr, int *rate);
extern int anvil_clnt_newtls_report(ANVIL_CLNT *anvil, const char *service, const char *addr, int *rate);
extern int anvil_clnt_auth(ANVIL_CLNT *anvil, const char *service, const char *addr, int *rate);
extern int anvil_clnt_disconnect(ANVIL_CLNT *anvil, const char *service, const char *addr);
extern void anvil_clnt_free(ANVIL_CLNT *anvil);

#endif
