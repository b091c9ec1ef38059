/*
 * postqueue - the user interface to the mail queue (postqueue(1),
 * queue.md 9.2 and 9.3); set-gid setgid_group in system mode like
 * postdrop, so that it can reach public/showq, public/qmgr and
 * public/flush.
 *
 * Usage: postqueue [-v] [-c config_dir] -f | -i queue_id | -j | -p | -s site
 *
 *   -p  the mailq listing from the showq service, byte for byte as
 *       queue.md 9.2 (short or long queue ID layout per
 *       enable_long_queue_ids)
 *   -j  the same messages as JSON lines (queue.md 9.3, fixed key order)
 *   -f  wake the queue manager: forget dead destinations, scan all queues
 *       ignoring retry times ("FA" on public/qmgr)
 *   -s  fast flush one site (flush_send_site); -i one queue ID
 *       (flush_send_file)
 *
 * Listing obeys authorized_mailq_users, flushing authorized_flush_users.
 * When showq cannot be reached, root reads the queue directly
 * (showq_scan.h) after "warning: Mail system is down -- accessing queue
 * directly"; others get "fatal: Queue report unavailable - mail system
 * is down". -c DIR / MAIL_CONFIG are honoured for a set-gid postqueue
 * only for root or when the default main.cf lists DIR (as postdrop).
 * -v counts for root only.
 *
 * Errors: "postqueue: fatal: ..." on stderr with a sysexits status: 64
 * usage and bad site names (queue.md 9.3), 69 mail system down, site not
 * eligible or a malformed -i queue ID (as Debian's Postfix), 77 user not
 * authorized, 75 table lookup errors.
 */
#include "sys_defs.h"

#include <pwd.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "flush_clnt.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "maillog_client.h"
#include "msg.h"
#include "msg_stderr.h"
#include "mymalloc.h"
#include "showq_scan.h"
#include "sockets.h"
#include "string_list.h"
#include "vstream.h"
#include "vstring.h"

typedef enum { PQ_NONE, PQ_FLUSH, PQ_FILE, PQ_JSON, PQ_LIST, PQ_SITE } PQ_MODE;

/* What a listing has printed so far. */
typedef struct PQ_LIST_STATE {
    bool json;
    bool long_ids;
    unsigned long count;
    unsigned long long bytes;
} PQ_LIST_STATE;

static NORETURN pq_usage(void)
{
    msg_fatal_status(EX_USAGE, "usage: postqueue -f | postqueue -i queueid | postqueue -j | "
                               "postqueue -p | postqueue -s site");
}

/* Check the invoking user against PARAM's list; WHAT is the refused action. */
static void pq_check_user(const char *param, const char *value, const char *what)
{
    long uid = (long)getuid();
    struct passwd *pw = getpwuid((uid_t)uid);
    char num[30];
    const char *name;
    STRING_LIST *list = string_list_init(param, value);

    snprintf(num, sizeof(num), "%ld", uid);
    name = pw ? pw->pw_name : num;
    if (!string_list_match(list, name)) {
        if (list->error)
            msg_fatal_status(EX_TEMPFAIL, "User %s(%ld): %s lookup error", name, uid, param);
        msg_fatal_status(EX_NOPERM, "User %s(%ld) is not allowed to %s", name, uid, what);
    }
    string_list_free(list);
}

/* A JSON string literal of TEXT. */
static void pq_json_string(VSTREAM *out, const char *text)
{
    vstream_putc('"', out);
    for (const unsigned char *cp = (const unsigned char *)text; *cp; cp++) {
        switch (*cp) {
        case '"':
            vstream_fputs("\\\"", out);
            break;
        case '\\':
            vstream_fputs("\\\\", out);
            break;
        case '\b':
            vstream_fputs("\\b", out);
            break;
        case '\f':
            vstream_fputs("\\f", out);
            break;
        case '\n':
            vstream_fputs("\\n", out);
            break;
        case '\r':
            vstream_fputs("\\r", out);
            break;
        case '\t':
            vstream_fputs("\\t", out);
            break;
        default:
            if (*cp < 0x20 || *cp == 0x7f)
                vstream_fprintf(out, "\\u%04x", *cp);
            else
                vstream_putc(*cp, out);
        }
    }
    vstream_putc('"', out);
}

/* One message as a JSON line (queue.md 9.3 key order). */
static void pq_print_json(VSTREAM *out, const SHOWQ_MSG *msg)
{
    vstream_fputs("{\"queue_name\": ", out);
    pq_json_string(out, vstring_str(msg->queue));
    vstream_fputs(", \"queue_id\": ", out);
    pq_json_string(out, vstring_str(msg->id));
    vstream_fprintf(out,
                    ", \"arrival_time\": %lld, \"message_size\": %lld, \"forced_expire\": %s, \"sender\": ",
                    msg->arrival, msg->size, msg->forced_expire ? "true" : "false");
    pq_json_string(out, vstring_str(msg->sender));
    vstream_fputs(", \"recipients\": [", out);
    for (size_t i = 0; i < msg->rcpts->argc; i++) {
        vstream_fputs(i ? ", {\"address\": " : "{\"address\": ", out);
        pq_json_string(out, msg->rcpts->argv[i]);
        if (*msg->reasons->argv[i]) {
            vstream_fputs(", \"delay_reason\": ", out);
            pq_json_string(out, msg->reasons->argv[i]);
        }
        vstream_putc('}', out);
    }
    vstream_fputs("]}\n", out);
}

/* One message in the mailq layout (queue.md 9.2). */
static void pq_print_text(VSTREAM *out, const SHOWQ_MSG *msg, bool long_ids, bool first)
{
    VSTRING *idmark = vstring_alloc(MAIL_QUEUE_ID_LEN_MAX);
    time_t when = (time_t)msg->arrival;
    struct tm *tm = localtime(&when);
    char date[64];
    const char *sender = *vstring_str(msg->sender) ? vstring_str(msg->sender) : "MAILER-DAEMON";
    const char *prev = NULL;

    if (first) {
        if (long_ids)
            vstream_fprintf(out, "%-17s %8s %-19s %s\n", "----Queue ID-----", "--Size--",
                            "---Arrival Time----", "--Sender/Recipient------");
        else
            vstream_fprintf(out, "%-11s %7s %-20s %s\n", "-Queue ID-", "--Size--", "----Arrival Time----",
                            "-Sender/Recipient-------");
    } else {
        vstream_putc('\n', out);
    }
    /* asctime() layout: "Mon May  5 14:42:15 2003". */
    if (tm == NULL || strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", tm) == 0)
        snprintf(date, sizeof(date), "%lld", msg->arrival);
    vstring_strcpy(idmark, vstring_str(msg->id));
    if (strcmp(vstring_str(msg->queue), "active") == 0)
        vstring_addch(idmark, '*');
    else if (strcmp(vstring_str(msg->queue), "hold") == 0)
        vstring_addch(idmark, '!');
    if (msg->forced_expire)
        vstring_addch(idmark, '#');
    if (long_ids)
        vstream_fprintf(out, "%-17s %8lld %19.19s %s\n", vstring_str(idmark), msg->size, date, sender);
    else
        vstream_fprintf(out, "%-11s %7lld %-20.20s %s\n", vstring_str(idmark), msg->size, date, sender);
    for (size_t i = 0; i < msg->rcpts->argc; i++) {
        const char *why = *msg->reasons->argv[i] ? msg->reasons->argv[i] : NULL;

        if (why != NULL && (prev == NULL || strcmp(prev, why) != 0)) {
            int pad = 76 - (int)strlen(why);

            vstream_fprintf(out, "%*s(%s)\n", pad > 0 ? pad : 0, "", why);
        } else if (why == NULL && prev != NULL) {
            vstream_fprintf(out, "%*s(%s)\n", 76 - (int)strlen("reason unavailable"), "",
                            "reason unavailable");
        }
        prev = why;
        if (long_ids)
            vstream_fprintf(out, "%-17s %8s %-19s %s\n", "", "", "", msg->rcpts->argv[i]);
        else
            vstream_fprintf(out, "%-11s %7s %-20s %s\n", "", "", "", msg->rcpts->argv[i]);
    }
    vstring_free(idmark);
}

/* Print one message of the listing. */
static int pq_print(const SHOWQ_MSG *msg, void *context)
{
    PQ_LIST_STATE *state = context;

    if (state->json)
        pq_print_json(vstream_out, msg);
    else
        pq_print_text(vstream_out, msg, state->long_ids, state->count == 0);
    state->count++;
    state->bytes += msg->size > 0 ? (unsigned long long)msg->size : 0;
    return vstream_ferror(vstream_out) ? -1 : 0;
}

/* Connect to public/showq without a warning; NULL when unreachable. */
static VSTREAM *pq_showq_connect(void)
{
    VSTRING *path = vstring_sprintf(vstring_alloc(100), "%s/%s/%s", var_queue_directory, MAIL_CLASS_PUBLIC,
                                    MAIL_SERVICE_SHOWQ);
    int fd = unix_connect(vstring_str(path), BLOCKING, var_ipc_timeout);
    VSTREAM *stream = NULL;

    if (fd >= 0) {
        stream = vstream_fdopen(fd, O_RDWR);
        vstream_set_timeout(stream, var_ipc_timeout);
    } else if (msg_verbose) {
        msg_info("connect to %s: %m", vstring_str(path));
    }
    vstring_free(path);
    return stream;
}

/* -p / -j: list the queue through showq, or directly for root. */
static void pq_show(bool json)
{
    PQ_LIST_STATE state = {.json = json, .long_ids = var_enable_long_queue_ids};
    VSTREAM *showq;

    pq_check_user("authorized_mailq_users", var_authorized_mailq_users, "view the mail queue");
    if ((showq = pq_showq_connect()) != NULL) {
        SHOWQ_MSG *msg = showq_msg_alloc();
        int rc;

        while ((rc = showq_scan_recv(showq, msg)) > 0)
            if (pq_print(msg, &state) < 0)
                break;
        showq_msg_free(msg);
        vstream_fclose(showq);
        if (rc < 0)
            msg_fatal_status(EX_SOFTWARE, "malformed showq server reply");
    } else if (getuid() == 0) {
        msg_warn("Mail system is down -- accessing queue directly");
        (void)showq_scan(showq_scan_defer_log, pq_print, &state);
    } else {
        msg_fatal_status(EX_UNAVAILABLE, "Queue report unavailable - mail system is down");
    }
    if (!json) {
        if (state.count == 0)
            vstream_fputs("Mail queue is empty\n", vstream_out);
        else
            vstream_fprintf(vstream_out, "\n-- %llu Kbytes in %lu Request%s.\n", state.bytes / 1024,
                            state.count, state.count == 1 ? "" : "s");
    }
    if (vstream_fflush(vstream_out) != 0)
        msg_fatal_status(EX_IOERR, "write error: %m");
}

/* -f: wake the queue manager. */
static void pq_flush_all(void)
{
    static const char req[] = {QMGR_REQ_FLUSH_DEAD, QMGR_REQ_SCAN_ALL};

    pq_check_user("authorized_flush_users", var_authorized_flush_users, "flush the mail queue");
    if (mail_trigger(MAIL_CLASS_PUBLIC, MAIL_SERVICE_QUEUE, req, sizeof(req)) < 0)
        msg_fatal_status(EX_UNAVAILABLE, "Cannot flush mail queue - mail system is down");
}

/* -s SITE: fast flush. */
static void pq_flush_site(const char *site)
{
    int status;

    pq_check_user("authorized_flush_users", var_authorized_flush_users, "flush the mail queue");
    switch (status = flush_send_site(site)) {
    case FLUSH_STAT_OK:
        return;
    case FLUSH_STAT_BAD:
        msg_fatal_status(EX_USAGE, "Cannot flush mail queue - invalid destination: \"%.100s%s\"", site,
                         strlen(site) > 100 ? "..." : "");
    case FLUSH_STAT_DENY:
        msg_fatal_status(EX_UNAVAILABLE, "Flush service is not configured for destination \"%.100s%s\"", site,
                         strlen(site) > 100 ? "..." : "");
    case FLUSH_STAT_FAIL:
        msg_fatal_status(EX_UNAVAILABLE, "Cannot flush mail queue - mail system is down");
    default:
        msg_fatal_status(EX_SOFTWARE, "unexpected flush service reply status %d", status);
    }
}

/* -i ID: deliver one deferred message now. */
static void pq_flush_file(const char *id)
{
    int status;

    pq_check_user("authorized_flush_users", var_authorized_flush_users, "flush the mail queue");
    if (!mail_queue_id_ok(id))
        msg_fatal_status(EX_UNAVAILABLE, "Cannot flush queue ID - invalid name: \"%.100s%s\"", id,
                         strlen(id) > 100 ? "..." : "");
    switch (status = flush_send_file(id)) {
    case FLUSH_STAT_OK:
        return;
    case FLUSH_STAT_BAD:
        msg_fatal_status(EX_UNAVAILABLE, "Cannot flush queue ID - invalid name: \"%.100s%s\"", id,
                         strlen(id) > 100 ? "..." : "");
    case FLUSH_STAT_FAIL:
        msg_fatal_status(EX_UNAVAILABLE, "Cannot flush mail queue - mail system is down");
    default:
        msg_fatal_status(EX_SOFTWARE, "unexpected flush service reply status %d", status);
    }
}

int main(int argc, char **argv)
{
    PQ_MODE mode = PQ_NONE;
    const char *arg = NULL;
    int ch;

    mail_process_name = "postqueue";
    msg_stderr_init("postqueue");
    umask(022);
    signal(SIGPIPE, SIG_IGN);
    while ((ch = getopt(argc, argv, "c:fi:jps:v")) != -1) {
        PQ_MODE want = PQ_NONE;

        switch (ch) {
        case 'c':
            mail_conf_select(optarg);
            continue;
        case 'v':
            if (getuid() == 0)
                msg_verbose++;
            continue;
        case 'f':
            want = PQ_FLUSH;
            break;
        case 'i':
            want = PQ_FILE;
            arg = optarg;
            break;
        case 'j':
            want = PQ_JSON;
            break;
        case 'p':
            want = PQ_LIST;
            break;
        case 's':
            want = PQ_SITE;
            arg = optarg;
            break;
        default:
            pq_usage();
        }
        if (mode != PQ_NONE)
            pq_usage();
        mode = want;
    }
    if (mode == PQ_NONE || optind < argc)
        pq_usage();
    mail_params_check_setgid_config();
    mail_conf_read();
    mail_params_init();
    maillog_client_init("postqueue", MAILLOG_CLIENT_FLAG_NONE);
    msg_stderr_init("postqueue");

    switch (mode) {
    case PQ_LIST:
        pq_show(false);
        break;
    case PQ_JSON:
        pq_show(true);
        break;
    case PQ_FLUSH:
        pq_flush_all();
        break;
    case PQ_SITE:
        pq_flush_site(arg);
        break;
    case PQ_FILE:
        pq_flush_file(arg);
        break;
    case PQ_NONE:
        pq_usage();
    }
    return 0;
}
