/*
 * flush_clnt - the client of the fast-flush service. See flush_clnt.h.
 *
 * Public functions: flush_add(), flush_send_site(), flush_send_file(),
 * flush_refresh(), flush_purge().
 *
 * Errors: FLUSH_STAT_FAIL when public/flush cannot be reached or answers
 * badly (with a warning); the other statuses come from the service.
 */
#include "sys_defs.h"

#include <string.h>

#include "attr.h"
#include "domain_list.h"
#include "flush_clnt.h"
#include "iostuff.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"
#include "vstream.h"
#include "vstring.h"

/* fast_flush_domains, built on first use. */
static DOMAIN_LIST *flush_clnt_domains;

/* One request and its status answer. */
static int flush_clnt_request(const char *request, const char *site, const char *id)
{
    VSTREAM *stream;
    int status = FLUSH_STAT_FAIL;

    if ((stream = mail_connect(MAIL_CLASS_PUBLIC, MAIL_SERVICE_FLUSH, BLOCKING)) == NULL)
        return FLUSH_STAT_FAIL;
    if (attr_print(stream, ATTR_FLAG_NONE, SEND_ATTR_STR(MAIL_ATTR_REQ, request),
                   SEND_ATTR_STR(MAIL_ATTR_SITE, site ? site : ""),
                   SEND_ATTR_STR(MAIL_ATTR_QUEUEID, id ? id : ""), ATTR_TYPE_END) != 0 ||
        attr_scan(stream, ATTR_FLAG_STRICT, RECV_ATTR_INT(MAIL_ATTR_STATUS, &status), ATTR_TYPE_END) != 1) {
        msg_warn("%s service failure", MAIL_SERVICE_FLUSH);
        status = FLUSH_STAT_FAIL;
    }
    vstream_fclose(stream);
    return status;
}

/* True unless SITE is known not to be in fast_flush_domains. */
static bool flush_clnt_eligible(const char *site)
{
    char *name;
    size_t len;
    int match;

    if (*var_fast_flush_domains == 0)
        return false;
    if (flush_clnt_domains == NULL)
        flush_clnt_domains = domain_list_init("fast_flush_domains", var_fast_flush_domains);
    name = lowercase(mystrdup(site));
    len = strlen(name);
    if (len > 2 && name[0] == '[' && name[len - 1] == ']') {
        memmove(name, name + 1, len - 2);
        name[len - 2] = 0;
    }
    match = domain_list_match(flush_clnt_domains, name);
    myfree(name);
    return match || flush_clnt_domains->error != 0; /* lookup errors: let the service decide */
}

/* Remember that ID waits for SITE. */
int flush_add(const char *site, const char *id)
{
    if (!flush_clnt_eligible(site))
        return FLUSH_STAT_DENY;
    return flush_clnt_request(FLUSH_REQ_ADD, site, id);
}

/* Deliver SITE's mail now. */
int flush_send_site(const char *site)
{
    return flush_clnt_request(FLUSH_REQ_SEND_SITE, site, NULL);
}

/* Deliver one deferred message now. */
int flush_send_file(const char *id)
{
    return flush_clnt_request(FLUSH_REQ_SEND_FILE, NULL, id);
}

/* Refresh old logs. */
int flush_refresh(void)
{
    return flush_clnt_request(FLUSH_REQ_REFRESH, NULL, NULL);
}

/* Flush every log. */
int flush_purge(void)
{
    return flush_clnt_request(FLUSH_REQ_PURGE, NULL, NULL);
}
