/*
 * testagent - a scriptable delivery agent for end-to-end tests of the
 * queue manager; built for the tests only (build/test-libexec), never
 * installed.
 *
 * master.cf: test unix - - n - - testagent /path/rules /path/journal
 *
 * The rules file is read again at each request. One rule per line,
 * "REGEX ACTION [TEXT]"; REGEX (POSIX extended, case-insensitive) is
 * matched against the recipient, the first match wins, no match means
 * "sent". Empty lines and lines starting with '#' are ignored. Actions:
 *
 *   sent [TEXT]      delivered, dsn 2.0.0, text default "delivered"
 *   defer [TEXT]     deferred, text default "4.0.0 test deferral"
 *   bounce [TEXT]    bounced, text default "5.0.0 test bounce"
 *   hopfail [TEXT]   every recipient of the request is deferred with TEXT
 *                    and hop_status/hop_reason are set (a dead
 *                    destination); default "4.4.1 test destination failure"
 *   crash            exit(1) at once, nothing marked, no answer
 *   sleep N [TEXT]   sleep N seconds, then as sent
 *
 * TEXT may start with an RFC 3463 status. A line "save DIR" makes the
 * agent write the message content (from data_offset: NORM lines with a
 * newline, CONT pieces without, up to XTRA) to DIR/QUEUEID.RECIPIENT.eml
 * for each recipient it delivers. The relay is "testagent[NEXTHOP]".
 *
 * The journal gets one JSON line per request (appended under flock):
 * {"pid", "start", "end" (float seconds), "queue_id", "nexthop",
 * "sender", "flags", "recipients": [{"address", "orig", "offset",
 * "notify", "result"}]}, result being the action applied.
 *
 * Errors: an unreadable rules file means "sent" for everybody with a
 * warning; a bad rule line is skipped with a warning; a journal or save
 * problem is a warning.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "bounce.h"
#include "deliver_request.h"
#include "dsn.h"
#include "mail_server.h"
#include "msg.h"
#include "myflock.h"
#include "mymalloc.h"
#include "record.h"
#include "stringops.h"
#include "vstream.h"
#include "vstring.h"

typedef enum { TA_SENT, TA_DEFER, TA_BOUNCE, TA_HOPFAIL, TA_CRASH, TA_SLEEP } TA_ACTION;

static const char *const testagent_action_names[] = {"sent", "defer", "bounce", "hopfail", "crash", "sleep"};

typedef struct TA_RULE {
    regex_t re;
    TA_ACTION action;
    int seconds; /* sleep */
    char *text;  /* NULL: the action's default */
} TA_RULE;

typedef struct TA_RULES {
    TA_RULE *rule;
    int len;
    char *save_dir; /* NULL: do not save */
} TA_RULES;

/* Parse an action name; -1 if unknown. */
static int testagent_action(const char *name)
{
    for (size_t i = 0; i < sizeof(testagent_action_names) / sizeof(testagent_action_names[0]); i++)
        if (strcasecmp(name, testagent_action_names[i]) == 0)
            return (int)i;
    return -1;
}

/* Read the rules file into RULES. */
static void testagent_rules_read(TA_RULES *rules, const char *path)
{
    VSTREAM *fp;
    VSTRING *line = vstring_alloc(100);
    int lineno = 0;

    rules->rule = NULL;
    rules->len = 0;
    rules->save_dir = NULL;
    if ((fp = vstream_fopen(path, O_RDONLY, 0)) == NULL) {
        msg_warn("open rules file %s: %m", path);
        vstring_free(line);
        return;
    }
    while (vstream_fgets_nonl_limit(line, fp, VSTREAM_NO_LIMIT) != VSTREAM_LINE_EOF) {
        char *cp = vstring_str(line);
        char *pattern, *name, *arg;
        int action, err;
        TA_RULE rule;

        lineno++;
        if ((pattern = mystrtok(&cp, " \t")) == NULL || *pattern == '#')
            continue;
        if (strcmp(pattern, "save") == 0 && (arg = mystrtok(&cp, " \t")) != NULL) {
            myfree(rules->save_dir);
            rules->save_dir = mystrdup(arg);
            continue;
        }
        if ((name = mystrtok(&cp, " \t")) == NULL || (action = testagent_action(name)) < 0) {
            msg_warn("%s, line %d: bad or missing action -- ignored", path, lineno);
            continue;
        }
        memset(&rule, 0, sizeof(rule));
        rule.action = (TA_ACTION)action;
        if (rule.action == TA_SLEEP) {
            if ((arg = mystrtok(&cp, " \t")) == NULL || !alldig(arg)) {
                msg_warn("%s, line %d: sleep needs a number -- ignored", path, lineno);
                continue;
            }
            rule.seconds = atoi(arg);
        }
        cp = trimblanks(cp);
        rule.text = *cp ? mystrdup(cp) : NULL;
        if ((err = regcomp(&rule.re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB)) != 0) {
            msg_warn("%s, line %d: bad regular expression \"%s\" -- ignored", path, lineno, pattern);
            myfree(rule.text);
            continue;
        }
        rules->rule = (TA_RULE *)myrealloc(rules->rule, (size_t)(rules->len + 1) * sizeof(*rules->rule));
        rules->rule[rules->len++] = rule;
    }
    (void)vstream_fclose(fp);
    vstring_free(line);
}

/* Free the rules. */
static void testagent_rules_free(TA_RULES *rules)
{
    for (int i = 0; i < rules->len; i++) {
        regfree(&rules->rule[i].re);
        myfree(rules->rule[i].text);
    }
    myfree(rules->rule);
    myfree(rules->save_dir);
}

/* The first rule matching ADDR, or NULL. */
static const TA_RULE *testagent_match(const TA_RULES *rules, const char *addr)
{
    for (int i = 0; i < rules->len; i++)
        if (regexec(&rules->rule[i].re, addr, 0, NULL, 0) == 0)
            return rules->rule + i;
    return NULL;
}

/* Current time in seconds as a double. */
static double testagent_now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Append STR as a JSON string. */
static void testagent_json_str(VSTRING *buf, const char *str)
{
    vstring_strcat(buf, "\"");
    for (const unsigned char *cp = (const unsigned char *)str; *cp; cp++) {
        if (*cp == '"' || *cp == '\\')
            vstring_sprintf_append(buf, "\\%c", *cp);
        else if (*cp < 0x20 || *cp >= 0x7f)
            vstring_sprintf_append(buf, "\\u%04x", *cp);
        else
            vstring_strncat(buf, (const char *)cp, 1);
    }
    vstring_strcat(buf, "\"");
}

/* Append one line to the journal under an exclusive lock. */
static void testagent_journal(const char *path, VSTRING *line)
{
    int fd;

    if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        msg_warn("open journal %s: %m", path);
        return;
    }
    if (myflock(fd, MYFLOCK_METHOD_FLOCK, MYFLOCK_OP_EXCLUSIVE) < 0)
        msg_warn("lock journal %s: %m", path);
    if (write(fd, vstring_str(line), VSTRING_LEN(line)) != (ssize_t)VSTRING_LEN(line))
        msg_warn("write journal %s: %m", path);
    (void)close(fd);
}

/* The message content from the MESG record to XTRA, into BUF; 0 or -1. */
static int testagent_content(DELIVER_REQUEST *request, VSTRING *buf)
{
    VSTRING *rec = vstring_alloc(100);
    int type;
    int ret = -1;

    vstring_truncate(buf, 0);
    if (vstream_fseek(request->fp, (off_t)request->data_offset, SEEK_SET) < 0) {
        msg_warn("%s: seek: %m", request->queue_id);
    } else if ((type = rec_get(request->fp, rec, 0)) != REC_TYPE_MESG) {
        msg_warn("%s: no MESG record at offset %ld", request->queue_id, request->data_offset);
    } else {
        while ((type = rec_get(request->fp, rec, 0)) == REC_TYPE_NORM || type == REC_TYPE_CONT) {
            vstring_memcat(buf, vstring_str(rec), VSTRING_LEN(rec));
            if (type == REC_TYPE_NORM)
                vstring_strcat(buf, "\n");
        }
        if (type == REC_TYPE_XTRA)
            ret = 0;
        else
            msg_warn("%s: unexpected record type %d in message content", request->queue_id, type);
    }
    vstring_free(rec);
    return ret;
}

/* Write the content to DIR/QUEUEID.RECIPIENT.eml. */
static void testagent_save(const char *dir, const char *id, const char *rcpt, const VSTRING *content)
{
    VSTRING *path = vstring_alloc(100);
    VSTREAM *fp;

    vstring_sprintf(path, "%s/%s.", dir, id);
    for (const char *cp = rcpt; *cp; cp++)
        vstring_strncat(path, *cp == '/' ? "_" : cp, 1);
    vstring_strcat(path, ".eml");
    if ((fp = vstream_fopen(vstring_str(path), O_WRONLY | O_CREAT | O_TRUNC, 0644)) == NULL) {
        msg_warn("create %s: %m", vstring_str(path));
    } else {
        vstream_fwrite(fp, vstring_str(content), VSTRING_LEN(content));
        if (vstream_fclose(fp) != 0)
            msg_warn("write %s: %m", vstring_str(path));
    }
    vstring_free(path);
}

/* Text and default status of a rule's outcome, as a DSN in DSB. */
static void testagent_dsn(DSN_BUF *dsb, const char *text, const char *def_text, const char *def_status)
{
    VSTRING *status = vstring_alloc(10);
    VSTRING *reason = vstring_alloc(100);

    dsn_split(status, reason, text ? text : def_text, def_status);
    dsb_simple(dsb, vstring_str(status), "%s", vstring_str(reason));
    vstring_free(status);
    vstring_free(reason);
}

/* Deliver one request according to the rules; returns the request status. */
static int testagent_deliver(DELIVER_REQUEST *request, const char *rules_path, const char *journal_path,
                             double start)
{
    TA_RULES rules;
    const TA_RULE **match;
    const TA_RULE *hopfail = NULL;
    int crash = 0;
    int result = DEL_STAT_FINAL;
    DSN_BUF *dsb = dsb_create();
    VSTRING *relay = vstring_alloc(50);
    VSTRING *content = NULL;
    VSTRING *journal = vstring_alloc(200);
    DSN dsn;

    testagent_rules_read(&rules, rules_path);
    match = (const TA_RULE **)mymalloc((size_t)request->rcpt_list.len * sizeof(*match));
    for (int i = 0; i < request->rcpt_list.len; i++) {
        match[i] = testagent_match(&rules, request->rcpt_list.info[i].address);
        if (match[i] && match[i]->action == TA_CRASH)
            crash = 1;
        if (match[i] && match[i]->action == TA_HOPFAIL && hopfail == NULL)
            hopfail = match[i];
    }
    vstring_sprintf(relay, "testagent[%s]", request->nexthop);
    if (rules.save_dir && !crash && !hopfail && !(request->flags & DEL_REQ_FLAG_MTA_VRFY)) {
        content = vstring_alloc(1000);
        if (testagent_content(request, content) < 0)
            content = vstring_free(content);
    }

    vstring_strcpy(journal, "{\"pid\": ");
    vstring_sprintf_append(journal, "%ld, \"start\": %.6f, ", (long)getpid(), start);
    vstring_strcat(journal, "\"queue_id\": ");
    testagent_json_str(journal, request->queue_id);
    vstring_strcat(journal, ", \"nexthop\": ");
    testagent_json_str(journal, request->nexthop);
    vstring_strcat(journal, ", \"sender\": ");
    testagent_json_str(journal, request->sender);
    vstring_sprintf_append(journal, ", \"flags\": %d, \"recipients\": [", request->flags);

    for (int i = 0; i < request->rcpt_list.len; i++) {
        const RECIPIENT *rcpt = request->rcpt_list.info + i;
        TA_ACTION action = hopfail ? TA_HOPFAIL : crash ? TA_CRASH : match[i] ? match[i]->action : TA_SENT;
        const char *text = hopfail ? hopfail->text : match[i] ? match[i]->text : NULL;
        int stat = DEL_STAT_DEFER;

        switch (action) {
        case TA_CRASH:
            break;
        case TA_SLEEP:
            sleep((unsigned)match[i]->seconds);
            /* FALLTHROUGH */
        case TA_SENT:
            testagent_dsn(dsb, text, "delivered", "2.0.0");
            dsb_action(dsb, DSN_ACTION_DELIVERED);
            stat = sent(request->flags, request->queue_id, &request->msg_stats, rcpt, vstring_str(relay),
                        dsn_from_buf(&dsn, dsb));
            if (stat == 0 && content)
                testagent_save(rules.save_dir, request->queue_id, rcpt->address, content);
            break;
        case TA_DEFER:
            testagent_dsn(dsb, text, "4.0.0 test deferral", "4.0.0");
            stat = defer_append(request->flags, request->queue_id, &request->msg_stats, rcpt,
                                vstring_str(relay), dsn_from_buf(&dsn, dsb));
            break;
        case TA_BOUNCE:
            testagent_dsn(dsb, text, "5.0.0 test bounce", "5.0.0");
            stat = bounce_append(request->flags, request->queue_id, &request->msg_stats, rcpt,
                                 vstring_str(relay), dsn_from_buf(&dsn, dsb));
            break;
        case TA_HOPFAIL:
            testagent_dsn(dsb, text, "4.4.1 test destination failure", "4.0.0");
            stat = defer_append(request->flags, request->queue_id, &request->msg_stats, rcpt,
                                vstring_str(relay), dsn_from_buf(&dsn, dsb));
            dsb_simple(request->hop_status, vstring_str(dsb->status), "%s", vstring_str(dsb->reason));
            break;
        }
        if (action != TA_CRASH) {
            if (stat == 0 && deliver_completed(request->fp, rcpt->offset) != 0)
                stat = DEL_STAT_DEFER;
            if (stat != 0)
                result = DEL_STAT_DEFER;
        }
        vstring_strcat(journal, i ? ", {\"address\": " : "{\"address\": ");
        testagent_json_str(journal, rcpt->address);
        vstring_strcat(journal, ", \"orig\": ");
        testagent_json_str(journal, rcpt->orig_addr);
        vstring_sprintf_append(journal, ", \"offset\": %ld, \"notify\": %d, \"result\": \"%s\"}",
                               rcpt->offset, rcpt->dsn_notify, testagent_action_names[action]);
    }
    vstring_sprintf_append(journal, "], \"end\": %.6f}\n", testagent_now());
    testagent_journal(journal_path, journal);
    if (crash) {
        msg_info("%s: crashing as the rules say", request->queue_id);
        exit(1);
    }

    if (content)
        vstring_free(content);
    vstring_free(journal);
    vstring_free(relay);
    dsb_free(dsb);
    myfree(match);
    testagent_rules_free(&rules);
    return result;
}

/* One delivery request. */
static void testagent_service(VSTREAM *client, char *service UNUSED, char **argv)
{
    DELIVER_REQUEST *request;
    double start;
    int status;

    if (argv[0] == NULL || argv[1] == NULL)
        msg_fatal("usage: testagent [options] RULES_FILE JOURNAL_FILE");
    if ((request = deliver_request_read(client)) == NULL)
        return;
    start = testagent_now();
    status = testagent_deliver(request, argv[0], argv[1], start);
    (void)deliver_request_done(client, request, status);
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts;

    single_server_main(argc, argv, testagent_service, &opts);
}
