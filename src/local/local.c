/*
 * local - the local delivery agent (spec/delivery.md 2): main() and the
 * request loop. local.h is the module map; the result reporting,
 * passwd lookups and default_privs of local.h live in local_util.c.
 *
 * Per request: read it (deliver_request_read), collect the message's
 * Delivered-To: headers once, then deliver each recipient with a fresh
 * LOCAL_STATE (deliver_recipient, then forward_finish for the addresses
 * it collected), mark the finished ones done in the queue file and
 * answer DEL_STAT_DEFER when any stays queued.
 *
 * The process is privileged (it keeps root in system mode, switching to
 * the recipient's ids for each delivery); every file it writes is capped
 * by mailbox_size_limit through RLIMIT_FSIZE (EFBIG, not SIGXFSZ).
 *
 * Errors: mailbox_size_limit smaller than message_size_limit is a fatal
 * configuration error; a bad request is dropped by deliver_request_read().
 */
#include "sys_defs.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "deliver_request.h"
#include "delivered_hdr.h"
#include "htable.h"
#include "local.h"
#include "local_util.h"
#include "mail_params.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"

/* Deliver one recipient of REQUEST; 0 when finished, -1 when deferred. */
static int local_deliver_one(DELIVER_REQUEST *request, const RECIPIENT *rcpt, DELIVERED_HDR_INFO *loop_info)
{
    LOCAL_STATE state;
    int status;

    memset(&state, 0, sizeof(state));
    state.level = 0;
    state.request = request;
    state.rcpt = *rcpt;
    state.sender = request->sender;
    state.privs.uid = (uid_t)-1;
    state.privs.gid = (gid_t)-1;
    state.exp_type = LOCAL_EXP_TYPE_NONE;
    state.exp_from = "";
    state.loop_info = loop_info;
    state.dups = htable_create(13, 0);
    state.why = dsb_create();

    status = deliver_recipient(&state);
    status = forward_finish(&state, status);

    /* deliver_recipient() leaves the level-0 fields for forward_finish(). */
    myfree(state.delivered);
    myfree(state.user);
    myfree(state.extension);
    myfree(state.local);
    myfree(state.domain);
    local_user_free(state.owner);
    htable_free(state.dups, NULL);
    dsb_free(state.why);
    return status;
}

/* Deliver every recipient; DEL_STAT_FINAL or DEL_STAT_DEFER. */
static int local_deliver(DELIVER_REQUEST *request)
{
    DELIVERED_HDR_INFO *loop_info = delivered_hdr_init(request->fp, request->data_offset);
    int result = DEL_STAT_FINAL;

    for (int i = 0; i < request->rcpt_list.len; i++) {
        const RECIPIENT *rcpt = request->rcpt_list.info + i;

        if (local_deliver_one(request, rcpt, loop_info) == 0 &&
            deliver_completed(request->fp, rcpt->offset) == 0)
            continue;
        result = DEL_STAT_DEFER;
    }
    delivered_hdr_free(loop_info);
    return result;
}

/* One delivery request. */
static void local_service(VSTREAM *client, char *service UNUSED, char **argv UNUSED)
{
    DELIVER_REQUEST *request;
    int status;

    if ((request = deliver_request_read(client)) == NULL)
        return;
    status = local_deliver(request);
    (void)deliver_request_done(client, request, status);
}

/* Check the size limits and cap the files we write. */
static void local_pre_init(char *service UNUSED, char **argv UNUSED)
{
    struct rlimit rl;

    if (var_mailbox_size_limit > 0 && var_message_size_limit > 0 &&
        var_mailbox_size_limit < var_message_size_limit)
        msg_fatal("configuration error: mailbox_size_limit is smaller than message_size_limit");
    if (var_mailbox_size_limit > 0) {
        (void)signal(SIGXFSZ, SIG_IGN);
        rl.rlim_cur = rl.rlim_max = (rlim_t)var_mailbox_size_limit;
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            msg_fatal("setrlimit RLIMIT_FSIZE %lld: %m", (long long)var_mailbox_size_limit);
    }
    (void)local_default_privs(); /* fatal now rather than at the first delivery */
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
        .pre_init = local_pre_init,
        .privileged = true,
    };

    single_server_main(argc, argv, local_service, &opts);
}
