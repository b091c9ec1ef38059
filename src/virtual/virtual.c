/*
 * virtual - the virtual(8) delivery agent: final delivery for
 * virtual_mailbox_domains into mailboxes found by table lookup
 * (spec/delivery.md 3).
 *
 * For each recipient of a request (normally one;
 * virtual_destination_recipient_limit decides) the full address, folded
 * to lower case, is looked up in virtual_mailbox_maps, virtual_uid_maps
 * and virtual_gid_maps with mail_addr_find() (user+ext@domain,
 * user@domain, @domain). The mailbox is $virtual_mailbox_base/RESULT: a
 * result ending in "/" is a Maildir (maildir_deliver.h), anything else a
 * UNIX mbox file appended to under virtual_mailbox_lock (mbox_open.h,
 * mail_copy.h with MAIL_COPY_MBOX). In system mode the process keeps
 * root and writes each mailbox with the effective uid/gid of the
 * recipient; rootless it writes as the running user but checks the
 * looked-up ids the same way. virtual_mailbox_limit is the soft
 * RLIMIT_FSIZE while a mailbox is written. Like Postfix's virtual(8)
 * there are no aliases, .forward files, commands or files, and no
 * Delivered-To: loop check (forwarding loops are caught by the hop
 * count in cleanup).
 *
 * Results (relay=virtual): "delivered to mailbox" / "delivered to
 * maildir"; not in virtual_mailbox_maps: bounce 5.1.1 'unknown user:
 * "ADDR"'; a failed lookup, a missing or bad uid/gid: defer 4.3.5 "mail
 * system configuration error" with a warning; mailbox errors: the
 * primitive's status with "delivery failed to mailbox PATH: " or
 * "maildir delivery failed: " before its text, bounced when the status
 * is 5.X.X (e.g. 5.2.2 "error writing message: File too large") and
 * deferred otherwise; a corrupt queue file defers 4.3.0.
 *
 * Errors: a relative or empty virtual_mailbox_base and a
 * virtual_mailbox_limit below message_size_limit are fatal configuration
 * errors at start-up, as in Postfix.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounce.h"
#include "deliver_request.h"
#include "dict.h"
#include "dsn.h"
#include "mail_addr_find.h"
#include "mail_copy.h"
#include "mail_params.h"
#include "mail_server.h"
#include "maildir_deliver.h"
#include "maps.h"
#include "mbox_open.h"
#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"
#include "vstring.h"

#define VIRTUAL_RELAY "virtual"

/* Configuration error status and text for uid/gid and lookup problems. */
#define VIRTUAL_CONF_STATUS "4.3.5"
#define VIRTUAL_CONF_TEXT   "mail system configuration error"

static MAPS *virtual_mailbox_maps;
static MAPS *virtual_uid_maps;
static MAPS *virtual_gid_maps;
static int virtual_lock_mask;
static bool virtual_root; /* system mode: switch to the mailbox owner */

/* One recipient's mailbox attributes. */
typedef struct VIRTUAL_USER {
    char *address; /* recipient, lower case */
    char *mailbox; /* full path */
    uid_t uid;
    gid_t gid;
} VIRTUAL_USER;

/* Make uid/gid the effective ids (system mode); root again with 0/0. */
static void virtual_set_eugid(uid_t uid, gid_t gid)
{
    if (!virtual_root)
        return;
    if (geteuid() != 0 && seteuid(0) < 0)
        msg_fatal("seteuid(0): %m");
    if (setegid(gid) < 0)
        msg_fatal("setegid(%ld): %m", (long)gid);
    if (setgroups(1, &gid) < 0)
        msg_fatal("setgroups(%ld): %m", (long)gid);
    if (uid != 0 && seteuid(uid) < 0)
        msg_fatal("seteuid(%ld): %m", (long)uid);
}

/* Report one recipient with dsb's status: sent, bounced or deferred. */
static int virtual_report(DELIVER_REQUEST *request, const RECIPIENT *rcpt, DSN_BUF *dsb)
{
    DSN dsn;
    const char *status = vstring_str(dsb->status);

    dsn_from_buf(&dsn, dsb);
    if (status[0] == '2')
        return sent(request->flags, request->queue_id, &request->msg_stats, rcpt, VIRTUAL_RELAY, &dsn);
    if (status[0] == '5')
        return bounce_append(request->flags, request->queue_id, &request->msg_stats, rcpt, VIRTUAL_RELAY,
                             &dsn);
    return defer_append(request->flags, request->queue_id, &request->msg_stats, rcpt, VIRTUAL_RELAY, &dsn);
}

/* Put PREFIX before the reason of dsb. */
static void virtual_prefix_reason(DSN_BUF *dsb, const char *prefix)
{
    VSTRING *tmp = vstring_alloc(100);

    vstring_sprintf(tmp, "%s%s", prefix, vstring_str(dsb->reason));
    vstring_strcpy(dsb->reason, vstring_str(tmp));
    vstring_free(tmp);
}

/* Look up one numeric id (uid or gid) for user; false with dsb set. */
static bool virtual_lookup_id(MAPS *maps, const char *addr, long minimum, const char *what, long *id,
                              DSN_BUF *dsb)
{
    const char *result = mail_addr_find(maps, addr, NULL);
    char *end;

    if (result == NULL) {
        if (maps->error != DICT_ERR_NONE)
            msg_warn("table %s: lookup %s: lookup failed", maps->title, addr);
        else
            msg_warn("recipient %s: not found in %s", addr, maps->title);
        dsb_simple(dsb, VIRTUAL_CONF_STATUS, "%s", VIRTUAL_CONF_TEXT);
        return false;
    }
    errno = 0;
    *id = strtol(result, &end, 10);
    if (!alldig(result) || *end != 0 || errno != 0 || *id < minimum) {
        msg_warn("recipient %s: bad %s %s in %s", addr, what, result, maps->title);
        dsb_simple(dsb, VIRTUAL_CONF_STATUS, "%s", VIRTUAL_CONF_TEXT);
        return false;
    }
    return true;
}

/*
 * Find the mailbox, uid and gid of usr->address. Returns 1 when found,
 * 0 when the recipient is unknown or a lookup failed (dsb set).
 */
static int virtual_lookup_user(VIRTUAL_USER *usr, DSN_BUF *dsb)
{
    const char *result = mail_addr_find(virtual_mailbox_maps, usr->address, NULL);
    VSTRING *path;
    long uid;
    long gid;

    if (result == NULL) {
        if (virtual_mailbox_maps->error != DICT_ERR_NONE) {
            msg_warn("table %s: lookup %s: lookup failed", virtual_mailbox_maps->title, usr->address);
            dsb_simple(dsb, VIRTUAL_CONF_STATUS, "%s", VIRTUAL_CONF_TEXT);
        } else {
            dsb_simple(dsb, "5.1.1", "unknown user: \"%s\"", usr->address);
        }
        return 0;
    }
    path = vstring_alloc(100);
    vstring_sprintf(path, "%s/%s", var_virtual_mailbox_base, result);
    usr->mailbox = vstring_export(path);
    if (!virtual_lookup_id(virtual_uid_maps, usr->address, var_virtual_minimum_uid, "uid", &uid, dsb))
        return 0;
    if (!virtual_lookup_id(virtual_gid_maps, usr->address, 1, "gid", &gid, dsb))
        return 0;
    usr->uid = (uid_t)uid;
    usr->gid = (gid_t)gid;
    return 1;
}

/* Append the message to the mbox file of usr; dsb gets the result. */
static void virtual_deliver_mbox(DELIVER_REQUEST *request, const char *orig, VIRTUAL_USER *usr, DSN_BUF *dsb)
{
    struct stat st;
    MBOX *mp;
    int copy_stat;

    mp = mbox_open(usr->mailbox, O_APPEND | O_WRONLY | O_CREAT, S_IRUSR | S_IWUSR, &st, (uid_t)-1, (gid_t)-1,
                   virtual_lock_mask, "4.2.0", dsb);
    if (mp != NULL && virtual_root && var_strict_mailbox_ownership && st.st_uid != usr->uid) {
        mbox_release(mp);
        dsb_simple(dsb, "4.2.0", "destination %s is not owned by recipient", usr->mailbox);
        msg_warn("specify \"strict_mailbox_ownership = no\" to ignore mailbox ownership mismatch");
        return;
    }
    if (mp == NULL) {
        copy_stat = MAIL_COPY_STAT_WRITE;
    } else {
        copy_stat = mail_copy(request->sender, orig, usr->address, request->fp, request->data_offset, mp->fp,
                              MAIL_COPY_MBOX, "\n", dsb);
        if (copy_stat != 0)
            mbox_truncate(mp);
        mbox_release(mp);
    }
    if (copy_stat & MAIL_COPY_STAT_CORRUPT) {
        dsb_simple(dsb, "4.3.0", "queue file is corrupt");
        return;
    }
    if (copy_stat != 0) {
        VSTRING *prefix = vstring_alloc(100);

        vstring_sprintf(prefix, "delivery failed to mailbox %s: ", usr->mailbox);
        virtual_prefix_reason(dsb, vstring_str(prefix));
        vstring_free(prefix);
        return;
    }
    dsb_simple(dsb, "2.0.0", "delivered to mailbox");
}

/* Write the message into the Maildir of usr; dsb gets the result. */
static void virtual_deliver_maildir(DELIVER_REQUEST *request, const char *orig, VIRTUAL_USER *usr,
                                    DSN_BUF *dsb)
{
    if (maildir_deliver(usr->mailbox, request->sender, orig, usr->address, request->fp, request->data_offset,
                        0, dsb, NULL) == 0) {
        dsb_simple(dsb, "2.0.0", "delivered to maildir");
        return;
    }
    if (errno == EACCES) {
        msg_warn("maildir access problem for UID/GID=%lu/%lu: %s", (unsigned long)usr->uid,
                 (unsigned long)usr->gid, vstring_str(dsb->reason));
        msg_warn("perhaps you need to create the maildirs in advance");
    }
    if (strcmp(vstring_str(dsb->reason), "queue file is corrupt") == 0) {
        dsb_simple(dsb, "4.3.0", "queue file is corrupt");
        return;
    }
    virtual_prefix_reason(dsb, "maildir delivery failed: ");
}

/* Deliver to the mailbox of usr with its privileges and the size limit. */
static void virtual_deliver_mailbox(DELIVER_REQUEST *request, const RECIPIENT *rcpt, VIRTUAL_USER *usr,
                                    DSN_BUF *dsb)
{
    const char *orig = *rcpt->orig_addr ? rcpt->orig_addr : rcpt->address;
    size_t len = strlen(usr->mailbox);
    struct rlimit saved;
    bool limited = false;

    if (!var_enable_original_recipient)
        orig = "";
    if (var_virtual_mailbox_limit > 0 && getrlimit(RLIMIT_FSIZE, &saved) == 0) {
        struct rlimit lim = saved;

        if (lim.rlim_max == RLIM_INFINITY || (rlim_t)var_virtual_mailbox_limit < lim.rlim_max)
            lim.rlim_cur = (rlim_t)var_virtual_mailbox_limit;
        limited = setrlimit(RLIMIT_FSIZE, &lim) == 0;
        if (!limited)
            msg_warn("setrlimit RLIMIT_FSIZE %lld: %m", var_virtual_mailbox_limit);
    }
    virtual_set_eugid(usr->uid, usr->gid);
    if (len > 0 && usr->mailbox[len - 1] == '/')
        virtual_deliver_maildir(request, orig, usr, dsb);
    else
        virtual_deliver_mbox(request, orig, usr, dsb);
    virtual_set_eugid(0, 0);
    if (limited && setrlimit(RLIMIT_FSIZE, &saved) < 0)
        msg_warn("restore RLIMIT_FSIZE: %m");
}

/* Deliver one recipient; returns 0 when finished, else DEL_STAT_DEFER. */
static int virtual_deliver_one(DELIVER_REQUEST *request, const RECIPIENT *rcpt)
{
    VIRTUAL_USER usr = {.address = lowercase(mystrdup(rcpt->address)), .mailbox = NULL};
    DSN_BUF *dsb = dsb_create();
    int status;

    if (virtual_lookup_user(&usr, dsb))
        virtual_deliver_mailbox(request, rcpt, &usr, dsb);
    status = virtual_report(request, rcpt, dsb);
    if (status == 0 && deliver_completed(request->fp, rcpt->offset) != 0)
        status = DEL_STAT_DEFER;
    dsb_free(dsb);
    myfree(usr.address);
    if (usr.mailbox)
        myfree(usr.mailbox);
    return status;
}

/*
 * Open the tables at the first request, once the skeleton allows
 * surrogates: a table that cannot be opened then defers its recipients
 * instead of stopping the agent.
 */
static void virtual_open_maps(void)
{
    int flags = DICT_FLAG_DEFAULT | DICT_FLAG_NO_REGSUB | DICT_FLAG_NO_PROXY;

    if (virtual_mailbox_maps != NULL)
        return;
    virtual_mailbox_maps = maps_create("virtual_mailbox_maps", var_virtual_mailbox_maps, flags);
    virtual_uid_maps = maps_create("virtual_uid_maps", var_virtual_uid_maps, flags);
    virtual_gid_maps = maps_create("virtual_gid_maps", var_virtual_gid_maps, flags);
}

/* One delivery request: every recipient in turn. */
static void virtual_service(VSTREAM *client, char *service UNUSED, char **argv UNUSED)
{
    DELIVER_REQUEST *request;
    int status = DEL_STAT_FINAL;

    if ((request = deliver_request_read(client)) == NULL)
        return;
    virtual_open_maps();
    for (int i = 0; i < request->rcpt_list.len; i++)
        if (virtual_deliver_one(request, request->rcpt_list.info + i) != 0)
            status = DEL_STAT_DEFER;
    (void)deliver_request_done(client, request, status);
}

/* Check the configuration. */
static void virtual_pre_init(char *service UNUSED, char **argv UNUSED)
{
    if (*var_virtual_mailbox_base != '/')
        msg_fatal("do not specify relative pathname: virtual_mailbox_base = %s", var_virtual_mailbox_base);
    if (var_virtual_mailbox_limit > 0) {
        if (var_message_size_limit == 0)
            msg_fatal("configuration error: virtual_mailbox_limit is limited but message_size_limit is "
                      "unlimited");
        if (var_virtual_mailbox_limit < var_message_size_limit)
            msg_fatal("configuration error: virtual_mailbox_limit is smaller than message_size_limit");
    }
    virtual_root = geteuid() == 0;
    virtual_lock_mask = mbox_lock_mask(var_virtual_mailbox_lock);
    /* A write past RLIMIT_FSIZE must fail with EFBIG, not kill us. */
    signal(SIGXFSZ, SIG_IGN);
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
        .pre_init = virtual_pre_init,
        .privileged = true,
    };

    single_server_main(argc, argv, virtual_service, &opts);
}
