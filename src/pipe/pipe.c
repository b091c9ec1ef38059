/*
 * pipe - deliver mail to an external command (Postfix's pipe(8);
 * spec/delivery.md 4).
 *
 * A master.cf entry names the command and how the message is given to
 * it (pipe_attr.h):
 *
 *   NAME unix - n n - - pipe flags=DRhu user=USER[:GROUP]
 *       [null_sender=TEXT] [size=BYTES] [eol=\n] [directory=DIR]
 *       [chroot=DIR] argv=COMMAND ARGS...
 *
 * Each request runs the command once for all its recipients (the queue
 * manager batches at most NAME_destination_recipient_limit of them)
 * with pipe_command(), within NAME_time_limit (default
 * $command_time_limit) seconds, as user= (only when running as root:
 * in rootless mode user= must name an existing non-root account but the
 * command runs as the instance's user). The command's result decides
 * every recipient: sent "delivered via NAME service" (plus " (OUTPUT)"),
 * or deferred/bounced with pipe_command()'s status and text; relay=NAME.
 * Flag X makes the success DSN action "delivered" instead of "relayed".
 * Before running: a message larger than size= bounces "5.2.3 message
 * too large"; flags D or O with more than one recipient defer "4.3.5
 * mail system configuration error" with a warning; with D a recipient
 * already named in a Delivered-To: header bounces "5.4.6 mail forwarding
 * loop for RCPT".
 *
 * chroot= is accepted but not applied (pipe_command() has no chroot step):
 * in rootless mode it is ignored; as root the request is deferred "4.3.5
 * mail system configuration error" with a warning rather than running the
 * command outside the jail.
 *
 * Errors: bad master.cf attributes, an unknown user= or one that is root
 * or (system mode) mail_owner are fatal at start-up; a bad NAME_time_limit
 * defers the request with a warning; a bad request is logged by
 * deliver_request_read() and the connection closed without an answer.
 */
#include "sys_defs.h"

#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "bounce.h"
#include "deliver_request.h"
#include "delivered_hdr.h"
#include "dsn.h"
#include "mail_conf.h"
#include "mail_copy.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "mail_server.h"
#include "msg.h"
#include "pipe_attr.h"
#include "pipe_command.h"
#include "vstring.h"

static PIPE_ATTR pipe_attr;

/* How a recipient ended; finished recipients are marked done. */
static int pipe_report(DELIVER_REQUEST *request, const RECIPIENT *rcpt, int pipe_stat, DSN_BUF *why,
                       const char *service)
{
    DSN dsn;
    int status;

    dsn_from_buf(&dsn, why);
    switch (pipe_stat) {
    case PIPE_STAT_OK:
        status = sent(request->flags, request->queue_id, &request->msg_stats, rcpt, service, &dsn);
        break;
    case PIPE_STAT_BOUNCE:
        status = bounce_append(request->flags, request->queue_id, &request->msg_stats, rcpt, service, &dsn);
        break;
    default:
        status = defer_append(request->flags, request->queue_id, &request->msg_stats, rcpt, service, &dsn);
        break;
    }
    if (status == 0 && deliver_completed(request->fp, rcpt->offset) == 0)
        return DEL_STAT_FINAL;
    return DEL_STAT_DEFER;
}

/* Report every recipient with one result; returns the request status. */
static int pipe_report_all(DELIVER_REQUEST *request, int pipe_stat, DSN_BUF *why, const char *service)
{
    int result = DEL_STAT_FINAL;

    for (int i = 0; i < request->rcpt_list.len; i++)
        result |= pipe_report(request, request->rcpt_list.info + i, pipe_stat, why, service);
    return result;
}

/* The time limit for this service; -1 after a warning when malformed. */
static int pipe_time_limit(const char *service)
{
    VSTRING *name = vstring_alloc(50);
    const char *value;
    long long secs;

    vstring_sprintf(name, "%s_time_limit", service);
    value = mail_conf_eval(vstring_str(name));
    if (value == NULL) {
        secs = var_command_time_limit;
    } else if (mail_params_time(value, 's', &secs) == 0 || secs <= 0 || secs > 0x7fffffff) {
        msg_warn("%s: bad time value or unit: %s", vstring_str(name), value);
        secs = -1;
    }
    vstring_free(name);
    return (int)secs;
}

/* Deliver one request; returns DEL_STAT_FINAL or DEL_STAT_DEFER. */
static int pipe_deliver(DELIVER_REQUEST *request, const char *service)
{
    DSN_BUF *why = dsb_create();
    PIPE_COMMAND_ATTR cmd = PIPE_COMMAND_ATTR_INIT;
    const RECIPIENT *first = request->rcpt_list.info;
    VSTRING *out = vstring_alloc(100);
    const char *sender;
    int time_limit;
    int result;
    int pipe_stat;
    ARGV *args;

    if (request->rcpt_list.len == 0) {
        result = DEL_STAT_FINAL;
        goto done;
    }

    /* Checks that decide every recipient at once. */
    if (pipe_attr.size_limit > 0 && request->data_size > pipe_attr.size_limit) {
        dsb_simple(why, "5.2.3", "message too large");
        result = pipe_report_all(request, PIPE_STAT_BOUNCE, why, service);
        goto done;
    }
    if (request->rcpt_list.len > 1 && (pipe_attr.copy_flags & (MAIL_COPY_DELIVERED | MAIL_COPY_ORIG_RCPT))) {
        msg_warn("pipe flag '%c' requires %s_destination_recipient_limit = 1",
                 (pipe_attr.copy_flags & MAIL_COPY_DELIVERED) ? 'D' : 'O', service);
        dsb_simple(why, "4.3.5", "mail system configuration error");
        result = pipe_report_all(request, PIPE_STAT_DEFER, why, service);
        goto done;
    }
    if (pipe_attr.chroot && geteuid() == 0) {
        msg_warn("%s: chroot= attribute is not supported: delivery deferred", service);
        dsb_simple(why, "4.3.5", "mail system configuration error");
        result = pipe_report_all(request, PIPE_STAT_DEFER, why, service);
        goto done;
    }
    if ((time_limit = pipe_time_limit(service)) < 0) {
        dsb_simple(why, "4.3.5", "mail system configuration error");
        result = pipe_report_all(request, PIPE_STAT_DEFER, why, service);
        goto done;
    }

    /* Mail forwarding loop: only one recipient here (see above). */
    if (pipe_attr.copy_flags & MAIL_COPY_DELIVERED) {
        DELIVERED_HDR_INFO *info = delivered_hdr_init(request->fp, request->data_offset);
        bool loop = delivered_hdr_find(info, first->address);

        delivered_hdr_free(info);
        if (loop) {
            dsb_simple(why, "5.4.6", "mail forwarding loop for %s", first->address);
            result = pipe_report_all(request, PIPE_STAT_BOUNCE, why, service);
            goto done;
        }
    }

    PIPE_EXPAND_CTX ctx = {
        .sender = request->sender,
        .nexthop = request->nexthop,
        .queue_id = request->queue_id,
        .envid = request->dsn_envid,
        .size = request->data_size,
        .client_address = request->client_addr,
        .client_hostname = request->client_name,
        .client_helo = request->client_helo,
        .client_port = request->client_port,
        .client_protocol = request->client_proto,
        .sasl_method = request->sasl_method,
        .sasl_username = request->sasl_username,
        .sasl_sender = request->sasl_sender,
        .rcpt_delim = var_recipient_delimiter,
        .rcpt = request->rcpt_list.info,
        .rcpt_count = request->rcpt_list.len,
        .service = service,
    };
    args = pipe_expand_argv(&pipe_attr, &ctx);

    sender = *request->sender ? request->sender : pipe_attr.null_sender;
    cmd.argv = args->argv;
    if (geteuid() == 0) {
        cmd.uid = pipe_attr.uid;
        cmd.gid = pipe_attr.gid;
    }
    cmd.cwd = pipe_attr.directory;
    cmd.time_limit = time_limit;
    cmd.sender = sender;
    cmd.orig_rcpt = *first->orig_addr ? first->orig_addr : first->address;
    cmd.delivered = first->address;
    cmd.copy_flags = pipe_attr.copy_flags;
    cmd.eol = pipe_attr.eol;
    cmd.out = out;
    pipe_stat = pipe_command(request->fp, request->data_offset, why, &cmd);
    argv_free(args);

    if (pipe_stat == PIPE_STAT_OK) {
        if (VSTRING_LEN(out) > 0)
            dsb_simple(why, "2.0.0", "delivered via %s service (%s)", service, vstring_str(out));
        else
            dsb_simple(why, "2.0.0", "delivered via %s service", service);
        dsb_action(why, (pipe_attr.flags & PIPE_FLAG_FINAL) ? DSN_ACTION_DELIVERED : DSN_ACTION_RELAYED);
    } else if (pipe_stat == PIPE_STAT_CORRUPT) {
        msg_warn("%s: queue file is corrupt", request->queue_id);
        pipe_stat = PIPE_STAT_DEFER;
    }
    result = pipe_report_all(request, pipe_stat, why, service);

done:
    dsb_free(why);
    vstring_free(out);
    return result;
}

/* One delivery request. */
static void pipe_service(VSTREAM *client, char *service UNUSED, char **argv UNUSED)
{
    DELIVER_REQUEST *request;
    int status;

    if ((request = deliver_request_read(client)) == NULL)
        return;
    status = pipe_deliver(request, mail_server_service_name);
    (void)deliver_request_done(client, request, status);
}

/* Parse the master.cf attributes while still privileged. */
static void pipe_pre_init(char *service UNUSED, char **argv)
{
    const char *err;

    if ((err = pipe_attr_parse(&pipe_attr, argv)) != NULL || (err = pipe_attr_user(&pipe_attr)) != NULL)
        msg_fatal("%s: %s", mail_server_service_name, err);
}

/* System mode: refuse mail_owner's identity (known only as root). */
static void pipe_post_init(char *service UNUSED, char **argv UNUSED)
{
    if (geteuid() == 0 && pipe_attr.uid == mail_owner_uid)
        msg_fatal("%s: user= attribute specifies mail system owner %s", mail_server_service_name,
                  var_mail_owner);
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
        .pre_init = pipe_pre_init,
        .post_init = pipe_post_init,
        .privileged = true,
    };

    single_server_main(argc, argv, pipe_service, &opts);
}
