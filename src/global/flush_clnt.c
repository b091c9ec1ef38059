/*
 * flush_clnt - the client of the fast-flush service. See flush_clnt.h.
 *
 * Public functions: flush_add(), flush_send_site(), flush_send_file(),
 * flush_refresh(), flush_purge().
 *
 * As Postfix's client, flush_add() and flush_send_site() answer
 * FLUSH_STAT_BAD for a malformed site name and FLUSH_STAT_DENY for a site
 * outside fast_flush_domains without a round trip (so "postqueue -s" says
 * so even while the mail system is down); the service checks again.
 *
 * Errors: FLUSH_STAT_FAIL when public/flush cannot be reached or answers
 * badly (with a warning); the other statuses come from the service.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "attr.h"
#include "domain_list.h"
#include "flush_clnt.h"
#include "iostuff.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"
#include "valid_hostname.h"
#include "vstream.h"
#include "vstring.h"

/* fast_flush_domains, built by flush_site_init() or on first use. */
static DOMAIN_LIST *flush_site_domains;

/* Open fast_flush_domains now (a daemon does it while privileged). */
void flush_site_init(void)
{
    if (flush_site_domains == NULL)
        flush_site_domains = domain_list_init("fast_flush_domains", var_fast_flush_domains);
}

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

/* True when SITE is a host name or an [address] literal. */
bool flush_site_valid(const char *site)
{
    size_t len = strlen(site);
    unsigned char addr[16];
    char *inner;
    bool ok;

    if (len == 0 || strchr(site, '/') != NULL)
        return false;
    if (site[0] != '[')
        return valid_hostname(site);
    if (len < 3 || site[len - 1] != ']')
        return false;
    inner = mystrndup(site + 1, len - 2);
    if (strncasecmp(inner, "IPv6:", 5) == 0)
        ok = inet_pton(AF_INET6, inner + 5, addr) == 1;
    else
        ok = inet_pton(AF_INET, inner, addr) == 1;
    myfree(inner);
    return ok;
}

/* Whether SITE is in fast_flush_domains: FLUSH_STAT_OK, _DENY or _FAIL. */
int flush_site_policy(const char *site)
{
    char *name;
    size_t len;
    int match;

    if (*var_fast_flush_domains == 0)
        return FLUSH_STAT_DENY;
    flush_site_init();
    name = lowercase(mystrdup(site));
    len = strlen(name);
    if (len > 2 && name[0] == '[' && name[len - 1] == ']') {
        memmove(name, name + 1, len - 2);
        name[len - 2] = 0;
    }
    match = domain_list_match(flush_site_domains, name);
    myfree(name);
    if (match)
        return FLUSH_STAT_OK;
    if (flush_site_domains->error) {
        msg_warn("%s: fast_flush_domains lookup error", site);
        return FLUSH_STAT_FAIL;
    }
    return FLUSH_STAT_DENY;
}

/* True unless SITE is known not to be eligible (lookup errors: the service decides). */
static bool flush_clnt_eligible(const char *site)
{
    return flush_site_policy(site) != FLUSH_STAT_DENY;
}

/* Remember that ID waits for SITE. */
int flush_add(const char *site, const char *id)
{
    if (!flush_site_valid(site))
        return FLUSH_STAT_BAD;
    if (!flush_clnt_eligible(site))
        return FLUSH_STAT_DENY;
    return flush_clnt_request(FLUSH_REQ_ADD, site, id);
}

/* Deliver SITE's mail now. */
int flush_send_site(const char *site)
{
    if (!flush_site_valid(site))
        return FLUSH_STAT_BAD;
    if (!flush_clnt_eligible(site))
        return FLUSH_STAT_DENY;
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
