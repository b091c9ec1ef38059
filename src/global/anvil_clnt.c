/*
 * anvil_clnt - the client of the anvil service (private/anvil). See
 * anvil_clnt.h.
 *
 * Public functions: anvil_clnt_create(), anvil_clnt_connect(),
 * anvil_clnt_mail(), anvil_clnt_rcpt(), anvil_clnt_newtls(),
 * anvil_clnt_newtls_report(),
 * anvil_clnt_auth(), anvil_clnt_disconnect(), anvil_clnt_free().
 *
 * The connection is opened on first use and kept; a request that fails
 * on an open connection (anvil restarted) is sent once more on a new one.
 *
 * Errors: ANVIL_STAT_FAIL after "warning: problem talking to service
 * anvil: ..." when the service cannot be reached or answers badly.
 */
#include "sys_defs.h"

#include <errno.h>
#include <string.h>

#include "anvil_clnt.h"
#include "attr.h"
#include "iostuff.h"
#include "mail_proto.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

#define ANVIL_SERVICE    "anvil"
#define ANVIL_ATTR_IDENT "ident"
#define ANVIL_ATTR_COUNT "count"
#define ANVIL_ATTR_RATE  "rate"

struct ANVIL_CLNT {
    VSTREAM *stream; /* NULL until the first request */
    VSTRING *ident;  /* SERVICE:ADDR */
};

ANVIL_CLNT *anvil_clnt_create(void)
{
    ANVIL_CLNT *anvil = mymalloc(sizeof(*anvil));

    anvil->stream = NULL;
    anvil->ident = vstring_alloc(100);
    return anvil;
}

/* Drop the connection (the next request opens a new one). */
static void anvil_clnt_close(ANVIL_CLNT *anvil)
{
    if (anvil->stream != NULL) {
        vstream_fclose(anvil->stream);
        anvil->stream = NULL;
    }
}

/* One round trip on the current connection; 0 or -1. */
static int anvil_clnt_ask(ANVIL_CLNT *anvil, const char *request, int *status, int *count, int *rate)
{
    if (anvil->stream == NULL &&
        (anvil->stream = mail_connect_quiet(MAIL_CLASS_PRIVATE, ANVIL_SERVICE, BLOCKING)) == NULL)
        return -1;
    if (attr_print(anvil->stream, ATTR_FLAG_NONE, SEND_ATTR_STR(MAIL_ATTR_REQ, request),
                   SEND_ATTR_STR(ANVIL_ATTR_IDENT, vstring_str(anvil->ident)), ATTR_TYPE_END) == 0 &&
        attr_scan(anvil->stream, ATTR_FLAG_STRICT, RECV_ATTR_INT(MAIL_ATTR_STATUS, status),
                  RECV_ATTR_INT(ANVIL_ATTR_COUNT, count), RECV_ATTR_INT(ANVIL_ATTR_RATE, rate),
                  ATTR_TYPE_END) == 3)
        return 0;
    anvil_clnt_close(anvil);
    return -1;
}

/* Send REQUEST for SERVICE:ADDR; retry once on a fresh connection. */
static int anvil_clnt_request(ANVIL_CLNT *anvil, const char *request, const char *service, const char *addr,
                              int *count, int *rate)
{
    int status = 0;
    int dummy_count;
    int dummy_rate;
    bool reused = anvil->stream != NULL;

    if (count == NULL)
        count = &dummy_count;
    if (rate == NULL)
        rate = &dummy_rate;
    vstring_sprintf(anvil->ident, "%s:%s", service, addr);
    errno = 0;
    if (anvil_clnt_ask(anvil, request, &status, count, rate) != 0 &&
        (!reused || anvil_clnt_ask(anvil, request, &status, count, rate) != 0)) {
        msg_warn("problem talking to service %s: %s", ANVIL_SERVICE,
                 errno ? strerror(errno) : "protocol error");
        *count = *rate = 0;
        return ANVIL_STAT_FAIL;
    }
    if (status != 0) {
        msg_warn("service %s rejected request \"%s\" for %s", ANVIL_SERVICE, request,
                 vstring_str(anvil->ident));
        *count = *rate = 0;
        return ANVIL_STAT_FAIL;
    }
    return ANVIL_STAT_OK;
}

int anvil_clnt_connect(ANVIL_CLNT *anvil, const char *service, const char *addr, int *count, int *rate)
{
    return anvil_clnt_request(anvil, "connect", service, addr, count, rate);
}

int anvil_clnt_mail(ANVIL_CLNT *anvil, const char *service, const char *addr, int *msgs)
{
    return anvil_clnt_request(anvil, "message", service, addr, NULL, msgs);
}

int anvil_clnt_rcpt(ANVIL_CLNT *anvil, const char *service, const char *addr, int *rcpts)
{
    return anvil_clnt_request(anvil, "recipient", service, addr, NULL, rcpts);
}

/* One more new (not resumed) TLS session: its rate in this time unit. */
int anvil_clnt_newtls(ANVIL_CLNT *anvil, const char *service, const char *addr, int *rate)
{
    return anvil_clnt_request(anvil, "newtls", service, addr, NULL, rate);
}

/* The new TLS sessions so far in this time unit, counting none. */
int anvil_clnt_newtls_report(ANVIL_CLNT *anvil, const char *service, const char *addr, int *rate)
{
    return anvil_clnt_request(anvil, "newtls_report", service, addr, NULL, rate);
}

/* One more AUTH command: its rate in this time unit. */
int anvil_clnt_auth(ANVIL_CLNT *anvil, const char *service, const char *addr, int *rate)
{
    return anvil_clnt_request(anvil, "auth", service, addr, NULL, rate);
}

int anvil_clnt_disconnect(ANVIL_CLNT *anvil, const char *service, const char *addr)
{
    return anvil_clnt_request(anvil, "disconnect", service, addr, NULL, NULL);
}

void anvil_clnt_free(ANVIL_CLNT *anvil)
{
    anvil_clnt_close(anvil);
    vstring_free(anvil->ident);
    myfree(anvil);
}
