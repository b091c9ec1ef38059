/*
 * anvil - the connection count and rate service (private/anvil), a
 * multi_server with one process (master.cf process limit 1), so that
 * every smtpd process shares one set of counters.
 *
 * Requests (attr.h; anvil_clnt.h): request=connect|disconnect|message|
 * recipient|newtls|newtls_report|auth|lookup and ident=SERVICE:ADDR. Every reply is
 * status (0, or -1 for a bad request), count (open connections) and rate
 * (connections, messages, recipients, new TLS sessions or AUTH commands
 * in this $anvil_rate_time_unit, by request; lookup: connections,
 * without counting).
 *
 * Every $anvil_status_update_time and before a planned exit it logs the
 * peaks since the last report ("statistics: max connection rate 5/60s
 * for (smtp:192.0.2.10) at Nov 21 10:00:00", anvil_table.h). Idle
 * entries are forgotten once per time unit.
 *
 * Errors: a malformed message logs a warning and drops the client; an
 * unknown request is answered with status -1 after a warning.
 */
#include "sys_defs.h"

#include <string.h>
#include <time.h>

#include "anvil_table.h"
#include "argv.h"
#include "attr.h"
#include "events.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mail_server.h"
#include "msg.h"
#include "vstream.h"
#include "vstring.h"

#define ANVIL_ATTR_IDENT "ident"
#define ANVIL_ATTR_COUNT "count"
#define ANVIL_ATTR_RATE  "rate"

static ANVIL_TABLE *anvil_table;

/* Log the peaks since the last report. */
static void anvil_status_log(void)
{
    ARGV *lines = argv_alloc(5);

    anvil_table_stats(anvil_table, lines);
    for (size_t i = 0; i < lines->argc; i++)
        msg_info("%s", lines->argv[i]);
    argv_free(lines);
}

/* Timer: the periodic statistics report. */
static void anvil_status_event(int event UNUSED, void *context UNUSED)
{
    anvil_status_log();
    event_request_timer(anvil_status_event, NULL, var_anvil_status_update_time * 1000);
}

/* Timer: forget entries that have been idle for a whole time unit. */
static void anvil_expire_event(int event UNUSED, void *context UNUSED)
{
    int gone = anvil_table_expire(anvil_table, time(NULL));

    if (msg_verbose && gone)
        msg_info("expired %d entries, %zu left", gone, anvil_table_size(anvil_table));
    event_request_timer(anvil_expire_event, NULL, var_anvil_rate_time_unit * 1000);
}

/* Serve one request. */
static void anvil_service(VSTREAM *client, char *service UNUSED, char **argv UNUSED)
{
    static VSTRING *request;
    static VSTRING *ident;
    time_t now = time(NULL);
    int status = 0;
    int count = 0;
    int rate = 0;
    const char *req;

    if (request == NULL) {
        request = vstring_alloc(20);
        ident = vstring_alloc(100);
    }
    if (attr_scan(client, ATTR_FLAG_STRICT, RECV_ATTR_STR(MAIL_ATTR_REQ, request),
                  RECV_ATTR_STR(ANVIL_ATTR_IDENT, ident), ATTR_TYPE_END) != 2) {
        multi_server_disconnect(client);
        return;
    }
    req = vstring_str(request);
    if (strcmp(req, "connect") == 0) {
        anvil_table_connect(anvil_table, vstring_str(ident), now, &count, &rate);
    } else if (strcmp(req, "disconnect") == 0) {
        anvil_table_disconnect(anvil_table, vstring_str(ident), now);
    } else if (strcmp(req, "message") == 0) {
        anvil_table_message(anvil_table, vstring_str(ident), now, &rate);
    } else if (strcmp(req, "recipient") == 0) {
        anvil_table_recipient(anvil_table, vstring_str(ident), now, &rate);
    } else if (strcmp(req, "newtls") == 0) {
        anvil_table_newtls(anvil_table, vstring_str(ident), now, &rate);
    } else if (strcmp(req, "newtls_report") == 0) {
        anvil_table_newtls_report(anvil_table, vstring_str(ident), now, &rate);
    } else if (strcmp(req, "auth") == 0) {
        anvil_table_auth(anvil_table, vstring_str(ident), now, &rate);
    } else if (strcmp(req, "lookup") == 0) {
        anvil_table_lookup(anvil_table, vstring_str(ident), now, &count, &rate);
    } else {
        msg_warn("unrecognized request: \"%.100s\", ignored", req);
        status = -1;
    }
    if (msg_verbose)
        msg_info("%s %s: count=%d rate=%d", req, vstring_str(ident), count, rate);
    if (attr_print(client, ATTR_FLAG_NONE, SEND_ATTR_INT(MAIL_ATTR_STATUS, status),
                   SEND_ATTR_INT(ANVIL_ATTR_COUNT, count), SEND_ATTR_INT(ANVIL_ATTR_RATE, rate),
                   ATTR_TYPE_END) != 0)
        multi_server_disconnect(client);
}

/* Set up the table and the timers. */
static void anvil_post_init(char *service UNUSED, char **argv UNUSED)
{
    anvil_table = anvil_table_create(var_anvil_rate_time_unit);
    event_request_timer(anvil_status_event, NULL, var_anvil_status_update_time * 1000);
    event_request_timer(anvil_expire_event, NULL, var_anvil_rate_time_unit * 1000);
}

/* Last report before a planned exit. */
static void anvil_exit(void)
{
    if (anvil_table)
        anvil_status_log();
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {.post_init = anvil_post_init, .on_exit = anvil_exit};

    multi_server_main(argc, argv, anvil_service, &opts);
}
