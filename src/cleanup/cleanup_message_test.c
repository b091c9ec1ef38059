/*
 * cleanup_message_test - the content stage end to end: records in, queue
 * file records and log lines out.
 *
 * Each case sets parameters and a CLEANUP_STATE (the queue file is a
 * temporary file), feeds the content one record per input line ("+" in
 * front: a CONT piece) and then XTRA, and compares the decoded records
 * written ("N:" NORM, "C:" CONT, "X" XTRA), the log and the state. Cases
 * with address headers use the remote context, where the envelope stage
 * leaves headers alone, so the test holds with the real envelope stage.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cleanup.h"
#include "cleanup_user.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "vstream.h"
#include "vstring.h"

static VSTRING *logged;
static char queue_path[] = "/tmp/cleanup_message_testXXXXXX";
static char header_path[] = "/tmp/cleanup_message_hdrXXXXXX";
static char mime_path[] = "/tmp/cleanup_message_mimeXXXXXX";
static char nested_path[] = "/tmp/cleanup_message_nestXXXXXX";
static char body_path[] = "/tmp/cleanup_message_bodyXXXXXX";
static char maps_header[100], maps_mime[100], maps_nested[100], maps_body[100];

static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
}

/* Write a rules file into a mkstemp() path. */
static void write_rules(char *path, const char *rules)
{
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, rules, strlen(rules)), (ssize_t)strlen(rules));
    close(fd);
}

static int setup(void **unused UNUSED)
{
    int fd = mkstemp(queue_path);

    assert_true(fd >= 0);
    close(fd);
    write_rules(header_path, "/^Subject: reject4/ REJECT 4.7.1 try later\n"
                             "/^Subject: reject/ REJECT\n"
                             "/^Subject: goaway/ REJECT Go away\n"
                             "/^Subject: warn/ WARN some text\n"
                             "/^Subject: info/ INFO\n"
                             "/^Subject: prepend/ PREPEND X-Seen: 1\n"
                             "/^Subject: badprepend/ PREPEND no header\n"
                             "/^Subject: replace/ REPLACE From: replaced@example.com\n"
                             "/^X-Debug:/ IGNORE\n"
                             "/^X-Strip:/ STRIP stripped\n"
                             "/^Subject: filter/ FILTER smtp:[192.0.2.9]:10025\n"
                             "/^Subject: badfilter/ FILTER nocolon\n"
                             "/^Subject: redirect/ REDIRECT sink@example.com\n"
                             "/^Subject: bcc/ BCC arch@example.com\n"
                             "/^Subject: hold/ HOLD held text\n"
                             "/^Subject: discard/ DISCARD\n"
                             "/^Subject: pass/ PASS trusted\n"
                             "/^Subject: bogus/ FROBNICATE\n"
                             "/^Content-Type:/ WARN ctype\n"
                             "/^X-Long:/ WARN\n");
    write_rules(mime_path, "/^Content-/ INFO mime\n/^X-/ INFO mime-x\n");
    write_rules(nested_path, "/^Subject:/ INFO nested\n");
    write_rules(body_path, "/^secret/ HOLD\n/^bodywarn/ WARN body text\n/^replaceme/ REPLACE replaced body\n"
                           "/^dropme/ IGNORE\n/^prependme/ PREPEND prepended line\n/^xxx/ WARN xxx\n");
    snprintf(maps_header, sizeof(maps_header), "regexp:%s", header_path);
    snprintf(maps_mime, sizeof(maps_mime), "regexp:%s", mime_path);
    snprintf(maps_nested, sizeof(maps_nested), "regexp:%s", nested_path);
    snprintf(maps_body, sizeof(maps_body), "regexp:%s", body_path);
    logged = vstring_alloc(1000);
    msg_output_reset();
    msg_output(capture);
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

static int teardown(void **unused UNUSED)
{
    unlink(queue_path);
    unlink(header_path);
    unlink(mime_path);
    unlink(nested_path);
    unlink(body_path);
    vstring_free(logged);
    return 0;
}

/* Postfix's defaults at compatibility level 3.6 with myhostname = mail.example.com; then the case's changes.
 */
static void defaults(void)
{
    mail_conf_forget();
    mail_conf_override("compatibility_level", "3.6");
    mail_conf_override("myhostname", "mail.example.com");
    mail_params_init();
}

/* A state as the frame and envelope stage leave it at the MESG record. */
static CLEANUP_STATE *state_create(const char *context, const char *sender, int flags)
{
    CLEANUP_STATE *state = mycalloc(1, sizeof(*state));

    state->dst = vstream_fopen(queue_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_non_null(state->dst);
    state->queue_id = mystrdup("4C9BBA720B1");
    state->create_time.tv_sec = 1795273262;  /* Sat, 21 Nov 2026 15:01:02 GMT */
    state->arrival_time.tv_sec = 1793523907; /* Sun,  1 Nov 2026 09:05:07 GMT */
    state->flags = flags;
    state->reason = vstring_alloc(10);
    state->temp1 = vstring_alloc(10);
    state->temp2 = vstring_alloc(10);
    state->sender = sender ? mystrdup(sender) : NULL;
    state->rewrite_context = context;
    state->first_rcpt = mystrdup("bob@example.net");
    state->header_bcc = argv_alloc(1);
    state->action = cleanup_message;
    return state;
}

static void state_destroy(CLEANUP_STATE *state)
{
    cleanup_message_free(state);
    assert_null(state->mime);
    vstream_fclose(state->dst);
    myfree(state->queue_id);
    myfree(state->sender);
    myfree(state->fullname);
    myfree(state->first_rcpt);
    myfree(state->filter);
    myfree(state->redirect);
    myfree(state->hold_reason);
    myfree(state->message_id);
    argv_free(state->header_bcc);
    if (state->extracted)
        argv_free(state->extracted);
    vstring_free(state->reason);
    vstring_free(state->temp1);
    vstring_free(state->temp2);
    myfree(state);
}

/* Feed the content and XTRA through state->action. */
static void feed(CLEANUP_STATE *state, const char *input)
{
    const char *cp = input;

    while (*cp) {
        size_t len = strcspn(cp, "\n");
        const char *start = cp + (*cp == '+');

        state->action(state, *cp == '+' ? REC_TYPE_CONT : REC_TYPE_NORM, start, len - (size_t)(start - cp));
        cp += len + (cp[len] == '\n');
    }
    assert_true(state->action == cleanup_message);
    state->action(state, REC_TYPE_XTRA, "", 0);
    assert_true(state->action == cleanup_extracted);
}

/* The records written so far, one per line: "N:text", "C:text", "X". */
static char *written(CLEANUP_STATE *state)
{
    VSTRING *out = vstring_alloc(100);
    VSTRING *raw = vstring_alloc(100);
    char chunk[4096];
    ssize_t n;
    int fd;
    size_t pos = 0;

    assert_int_equal(vstream_fflush(state->dst), 0);
    fd = open(queue_path, O_RDONLY);
    assert_true(fd >= 0);
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        vstring_memcat(raw, chunk, (size_t)n);
    close(fd);
    while (pos < VSTRING_LEN(raw)) {
        int type = (unsigned char)vstring_str(raw)[pos++];
        size_t len = 0;
        int shift = 0;
        unsigned char ch;

        do {
            assert_true(pos < VSTRING_LEN(raw));
            ch = (unsigned char)vstring_str(raw)[pos++];
            len |= (size_t)(ch & 0x7f) << shift;
            shift += 7;
        } while (ch & 0x80);
        assert_true(pos + len <= VSTRING_LEN(raw));
        if (type == REC_TYPE_XTRA) {
            vstring_strcat(out, "X\n");
        } else {
            vstring_sprintf_append(out, "%c:",
                                   type == REC_TYPE_NORM   ? 'N'
                                   : type == REC_TYPE_CONT ? 'C'
                                                           : '?');
            vstring_strncat(out, vstring_str(raw) + pos, len);
            vstring_addch(out, '\n');
        }
        pos += len;
    }
    vstring_free(raw);
    return vstring_export(out);
}

#define LOG_MID  "4C9BBA720B1: message-id=<20261121150102.4C9BBA720B1@mail.example.com>\n"
#define OUT_MID  "N:Message-Id: <20261121150102.4C9BBA720B1@mail.example.com>\n"
#define OUT_DATE "N:Date: Sun,  1 Nov 2026 09:05:07 +0000 (UTC)\n"
#define CTX                                                                                                  \
    "from client.example[192.0.2.1]; from=<alice@example.com> to=<bob@example.net> proto=ESMTP "             \
    "helo=<helo.example>"

/* Knobs a case may turn. */
typedef struct CASE {
    const char *label;
    const char *context; /* rewrite context */
    const char *sender;
    const char *fullname;
    int flags;
    bool always_add;
    bool long_ids;
    bool checks;          /* header_checks and body_checks on */
    bool mime_checks;     /* separate mime/nested tables */
    long long size_limit; /* 0: default */
    int hop_limit;        /* 0: default */
    int line_limit;       /* 0: default */
    long long body_limit; /* 0: default */
    const char *undisclosed;
    const char *input;
    const char *want; /* records */
    const char *log;
    unsigned errs;
    const char *reason;
} CASE;

static const CASE cases[] = {
    {"local submission gets Message-Id, Date, From with a quoted full name", "local", "alice@example.com",
     "Alice Q. Smith", CLEANUP_FLAG_FILTER, false, false, false, false, 0, 0, 0, 0, NULL,
     "Subject: t\n\nhi\n",
     "N:Subject: t\n" OUT_MID OUT_DATE "N:From: \"Alice Q. Smith\" <alice@example.com>\nN:\nN:hi\nX\n",
     LOG_MID, 0, ""},
    {"full name of atoms is not quoted, blanks collapse", "remote", "a@example.com", "  Al   Smith ", 0, true,
     false, false, false, 0, 0, 0, 0, NULL, "Subject: t\n\n",
     "N:Subject: t\n" OUT_MID OUT_DATE "N:From: Al Smith <a@example.com>\nN:\nX\n", LOG_MID, 0, ""},
    {"quotes and backslashes are escaped", "remote", "a@example.com", "Al \"Q\" B\\S", 0, true, false, false,
     false, 0, 0, 0, 0, NULL, "Subject: t\n\n",
     "N:Subject: t\n" OUT_MID OUT_DATE "N:From: \"Al \\\"Q\\\" B\\\\S\" <a@example.com>\nN:\nX\n", LOG_MID, 0,
     ""},
    {"null sender: From: MAILER-DAEMON, no full name", "remote", "", "Mail System", 0, true, false, false,
     false, 0, 0, 0, 0, NULL, "Subject: t\n\n",
     "N:Subject: t\n" OUT_MID OUT_DATE "N:From: MAILER-DAEMON\nN:\nX\n", LOG_MID, 0, ""},
    {"empty full name: bare sender; long queue IDs", "remote", "a@example.com", "", 0, true, true, false,
     false, 0, 0, 0, 0, NULL, "Subject: t\n\n",
     "N:Subject: t\nN:Message-Id: <4C9BBA720B1@mail.example.com>\n" OUT_DATE "N:From: a@example.com\nN:\nX\n",
     "4C9BBA720B1: message-id=<4C9BBA720B1@mail.example.com>\n", 0, ""},
    {"remote context adds nothing and logs message-id=<>", "remote", "a@example.com", NULL, 0, false, false,
     false, false, 0, 0, 0, 0, "To: undisclosed-recipients:;", "Subject: t\n\nhi\n",
     "N:Subject: t\nN:\nN:hi\nX\n", "4C9BBA720B1: message-id=<>\n", 0, ""},
    {"existing headers are kept and the Message-ID logged as is", "remote", "a@example.com", NULL, 0, true,
     false, false, false, 0, 0, 0, 0, "To: undisclosed-recipients:;",
     "From: x@y\nDate: whenever\nMessage-ID:\n  <abc@d>  \nCc: c@d\n\n",
     "N:From: x@y\nN:Date: whenever\nN:Message-ID:\nN:  <abc@d>  \nN:Cc: c@d\nN:\nX\n",
     "4C9BBA720B1: message-id=<abc@d>  \n", 0, ""},
    {"undisclosed_recipients_header without To/Cc", "remote", "a@example.com", NULL, 0, true, false, false,
     false, 0, 0, 0, 0, "To: undisclosed-recipients:;", "From: x@y\nDate: d\nMessage-Id: <m@x>\n\n",
     "N:From: x@y\nN:Date: d\nN:Message-Id: <m@x>\nN:To: undisclosed-recipients:;\nN:\nX\n",
     "4C9BBA720B1: message-id=<m@x>\n", 0, ""},
    {"Resent- headers get Resent- variants", "remote", "a@example.com", "Alice", 0, true, false, false, false,
     0, 0, 0, 0, NULL, "Subject: t\nResent-To: x@y\n\n",
     "N:Subject: t\nN:Resent-To: x@y\nN:Resent-Message-Id: <20261121150102.4C9BBA720B1@mail.example.com>\n"
     "N:Resent-Date: Sun,  1 Nov 2026 09:05:07 +0000 (UTC)\nN:Resent-From: Alice <a@example.com>\nN:\nX\n",
     "4C9BBA720B1: resent-message-id=<20261121150102.4C9BBA720B1@mail.example.com>\n4C9BBA720B1: "
     "message-id=<>\n",
     0, ""},
    {"message_drop_headers", "remote", "a@example.com", NULL, 0, false, false, false, false, 0, 0, 0, 0, NULL,
     "Return-Path: <x@y>\nTo: t@x\nBcc: z@y\nContent-Length: 12\nResent-Bcc: r@y\nMessage-Id: <m@x>\n\nb\n",
     "N:To: t@x\nN:Message-Id: <m@x>\nN:\nN:b\nX\n", "4C9BBA720B1: message-id=<m@x>\n", 0, ""},
    {"a body without blank line gets one", "remote", "a@example.com", NULL, 0, false, false, false, false, 0,
     0, 0, 0, NULL, "Message-Id: <m@x>\nthis is body\nmore\n",
     "N:Message-Id: <m@x>\nN:\nN:this is body\nN:more\nX\n", "4C9BBA720B1: message-id=<m@x>\n", 0, ""},
    {"headers only: no blank line added", "remote", "a@example.com", NULL, 0, false, false, false, false, 0,
     0, 0, 0, NULL, "Message-Id: <m@x>\n", "N:Message-Id: <m@x>\nX\n", "4C9BBA720B1: message-id=<m@x>\n", 0,
     ""},
    {"long lines keep their CONT pieces; long headers are cut at line_length_limit", "remote",
     "a@example.com", NULL, 0, false, false, false, false, 0, 0, 512, 0, NULL, NULL, NULL,
     "4C9BBA720B1: message-id=<>\n", 0, ""},
    {"message_size_limit: stop writing, keep reading", "remote", "a@example.com", NULL, 0, false, false,
     false, false, 25, 0, 0, 0, NULL, "Message-Id: <m@x>\n\n0123456789\nabcdef\nlast\n",
     "N:Message-Id: <m@x>\nN:\n", "4C9BBA720B1: message-id=<m@x>\n", CLEANUP_STAT_SIZE, ""},
    {"hopcount_limit", "remote", "a@example.com", NULL, 0, false, false, false, false, 0, 3, 0, 0, NULL,
     "Received: a\nReceived: b\nreceived: c\nMessage-Id: <m@x>\n\n", NULL,
     "4C9BBA720B1: message-id=<m@x>\nwarning: 4C9BBA720B1: message rejected: hopcount exceeded\n",
     CLEANUP_STAT_HOPS, ""},
    {"one hop below the limit is fine", "remote", "a@example.com", NULL, 0, false, false, false, false, 0, 3,
     0, 0, NULL, "Received: a\nReceived: b\nMessage-Id: <m@x>\n\n",
     "N:Received: a\nN:Received: b\nN:Message-Id: <m@x>\nN:\nX\n", "4C9BBA720B1: message-id=<m@x>\n", 0, ""},
    {"REJECT without text", "remote", "alice@example.com", NULL, CLEANUP_FLAG_FILTER, false, false, true,
     false, 0, 0, 0, 0, NULL, "Subject: reject me\nX-After: 1\n\nbodywarn\n", "",
     "4C9BBA720B1: reject: header Subject: reject me " CTX ": 5.7.1 message content rejected\n"
     "4C9BBA720B1: message-id=<>\n",
     CLEANUP_STAT_CONT, "5.7.1 message content rejected"},
    {"REJECT with text", "remote", "alice@example.com", NULL, CLEANUP_FLAG_FILTER, false, false, true, false,
     0, 0, 0, 0, NULL, "Subject: goaway\n\n", "",
     "4C9BBA720B1: reject: header Subject: goaway " CTX ": 5.7.1 Go away\n4C9BBA720B1: message-id=<>\n",
     CLEANUP_STAT_CONT, "5.7.1 Go away"},
    {"REJECT 4.x.x defers", "remote", "alice@example.com", NULL, CLEANUP_FLAG_FILTER, false, false, true,
     false, 0, 0, 0, 0, NULL, "Subject: reject4\n\n", "",
     "4C9BBA720B1: reject: header Subject: reject4 " CTX ": 4.7.1 try later\n", CLEANUP_STAT_DEFER,
     "4.7.1 try later"},
    {"WARN, INFO, PREPEND, IGNORE, STRIP and body actions", "remote", "alice@example.com", NULL,
     CLEANUP_FLAG_FILTER, false, false, true, false, 0, 0, 0, 0, NULL,
     "Subject: warn\nSubject: info\nX-Debug: 1\nX-Strip: 2\nSubject: prepend\nMessage-Id: <m@x>\n\n"
     "bodywarn\nreplaceme x\ndropme\nprependme\n",
     "N:Subject: warn\nN:Subject: info\nN:X-Seen: 1\nN:Subject: prepend\nN:Message-Id: "
     "<m@x>\nN:\nN:bodywarn\n"
     "N:replaced body\nN:prepended line\nN:prependme\nX\n",
     "4C9BBA720B1: warning: header Subject: warn " CTX ": some text\n"
     "4C9BBA720B1: info: header Subject: info " CTX "\n"
     "4C9BBA720B1: strip: header X-Strip: 2 " CTX ": stripped\n"
     "4C9BBA720B1: prepend: header Subject: prepend " CTX ": X-Seen: 1\n"
     "4C9BBA720B1: message-id=<m@x>\n"
     "4C9BBA720B1: warning: body bodywarn " CTX ": body text\n"
     "4C9BBA720B1: replace: body replaceme x " CTX ": replaced body\n"
     "4C9BBA720B1: prepend: body prependme " CTX ": prepended line\n",
     0, ""},
    {"REPLACE output is a header again (counts as From:)", "remote", "alice@example.com", NULL,
     CLEANUP_FLAG_FILTER, true, false, true, false, 0, 0, 0, 0, NULL,
     "Subject: replace\nDate: d\nMessage-Id: <m@x>\n\n",
     "N:From: replaced@example.com\nN:Date: d\nN:Message-Id: <m@x>\nN:\nX\n",
     "4C9BBA720B1: replace: header Subject: replace " CTX ": From: replaced@example.com\n"
     "4C9BBA720B1: message-id=<m@x>\n",
     0, ""},
    {"bad PREPEND header, bad FILTER and unknown actions are ignored", "remote", "alice@example.com", NULL,
     CLEANUP_FLAG_FILTER, false, false, true, false, 0, 0, 0, 0, NULL,
     "Subject: badprepend\nSubject: badfilter\nSubject: bogus\n\n",
     "N:Subject: badprepend\nN:Subject: badfilter\nN:Subject: bogus\nN:\nX\n",
     "warning: bad PREPEND header text \"no header\" in header_checks map -- need \"headername: "
     "headervalue\"\n"
     "warning: bad FILTER command nocolon in header_checks -- need transport:destination\n"
     "warning: unknown command in header_checks map: FROBNICATE\n"
     "4C9BBA720B1: message-id=<>\n",
     0, ""},
    {"FILTER, BCC, HOLD and body HOLD", "remote", "alice@example.com", NULL, CLEANUP_FLAG_FILTER, false,
     false, true, false, 0, 0, 0, 0, NULL, "Subject: filter\nSubject: bcc\nSubject: hold\n\nsecret\n",
     "N:Subject: filter\nN:Subject: bcc\nN:Subject: hold\nN:\nN:secret\nX\n",
     "4C9BBA720B1: filter: header Subject: filter " CTX ": smtp:[192.0.2.9]:10025\n"
     "4C9BBA720B1: bcc: header Subject: bcc " CTX ": arch@example.com\n"
     "4C9BBA720B1: hold: header Subject: hold " CTX ": held text\n"
     "4C9BBA720B1: message-id=<>\n",
     0, ""},
    {"REDIRECT ends inspection", "remote", "alice@example.com", NULL, CLEANUP_FLAG_FILTER, false, false, true,
     false, 0, 0, 0, 0, NULL, "Subject: redirect\nSubject: warn\n\nbodywarn\n",
     "N:Subject: redirect\nN:Subject: warn\nN:\nN:bodywarn\nX\n",
     "4C9BBA720B1: redirect: header Subject: redirect " CTX
     ": sink@example.com\n4C9BBA720B1: message-id=<>\n",
     0, ""},
    {"PASS ends inspection", "remote", "alice@example.com", NULL, CLEANUP_FLAG_FILTER, false, false, true,
     false, 0, 0, 0, 0, NULL, "Subject: pass\nSubject: warn\n\nbodywarn\n",
     "N:Subject: pass\nN:Subject: warn\nN:\nN:bodywarn\nX\n",
     "4C9BBA720B1: pass: header Subject: pass " CTX ": trusted\n4C9BBA720B1: message-id=<>\n", 0, ""},
    {"DISCARD ends inspection and adds nothing", "local", "alice@example.com", NULL, CLEANUP_FLAG_FILTER,
     false, false, true, false, 0, 0, 0, 0, NULL, "Subject: discard\nSubject: warn\n\n",
     "N:Subject: discard\nN:Subject: warn\nN:\nX\n",
     "4C9BBA720B1: discard: header Subject: discard " CTX "\n", 0, ""},
    {"no checks without CLEANUP_FLAG_FILTER", "remote", "alice@example.com", NULL, 0, false, false, true,
     false, 0, 0, 0, 0, NULL, "Subject: reject\n\nsecret\n", "N:Subject: reject\nN:\nN:secret\nX\n",
     "4C9BBA720B1: message-id=<>\n", 0, ""},
    {"one table for all header classes runs once per header; LINE cut at 200", "remote", "alice@example.com",
     NULL, CLEANUP_FLAG_FILTER, false, false, true, false, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, ""},
    {"MIME part headers, attached message headers, body_checks per part", "remote", "alice@example.com", NULL,
     CLEANUP_FLAG_FILTER, false, false, true, true, 0, 0, 0, 6, NULL,
     "Content-Type: multipart/mixed; boundary=b\nX-Top: 1\n\nxxx1\n--b\nX-Part: 1\nContent-Type: "
     "message/rfc822\n\n"
     "Subject: inner\nX-Inner: 1\n\nxxx2\nxxx3\n--b--\n",
     "N:Content-Type: multipart/mixed; boundary=b\nN:X-Top: 1\nN:\nN:xxx1\nN:--b\nN:X-Part: 1\n"
     "N:Content-Type: message/rfc822\nN:\nN:Subject: inner\nN:X-Inner: 1\nN:\nN:xxx2\nN:xxx3\nN:--b--\nX\n",
     "4C9BBA720B1: info: header Content-Type: multipart/mixed; boundary=b " CTX ": mime\n"
     "4C9BBA720B1: message-id=<>\n"
     "4C9BBA720B1: warning: body xxx1 " CTX ": xxx\n"
     "4C9BBA720B1: info: header X-Part: 1 " CTX ": mime-x\n"
     "4C9BBA720B1: info: header Content-Type: message/rfc822 " CTX ": mime\n"
     "4C9BBA720B1: info: header Subject: inner " CTX ": nested\n"
     "4C9BBA720B1: warning: body xxx2 " CTX ": xxx\n",
     0, ""},
};

/* Run one case; returns the state for more checks (the caller destroys it). */
static CLEANUP_STATE *run_case(const CASE *c, const char *input, const char *want, const char *log)
{
    CLEANUP_STATE *state;
    char *got;

    defaults();
    var_always_add_missing_headers = c->always_add;
    var_enable_long_queue_ids = c->long_ids;
    if (c->checks) {
        var_header_checks = var_mime_header_checks = var_nested_header_checks = maps_header;
        var_body_checks = maps_body;
    }
    if (c->mime_checks) {
        var_mime_header_checks = maps_mime;
        var_nested_header_checks = maps_nested;
    }
    if (c->size_limit)
        var_message_size_limit = c->size_limit;
    if (c->hop_limit)
        var_hopcount_limit = c->hop_limit;
    if (c->line_limit)
        var_line_length_limit = c->line_limit;
    if (c->body_limit)
        var_body_checks_size_limit = c->body_limit;
    if (c->undisclosed)
        var_undisclosed_recipients_header = (char *)c->undisclosed;
    cleanup_message_init();
    state = state_create(c->context, c->sender, c->flags);
    if (c->fullname)
        state->fullname = mystrdup(c->fullname);
    if (c->checks) {
        state->client_name = "client.example";
        state->client_addr = "192.0.2.1";
        state->protocol = "ESMTP";
        state->helo = "helo.example";
    }
    vstring_reset(logged);
    feed(state, input);
    got = written(state);
    if (want && strcmp(got, want) != 0)
        print_error("case \"%s\":\n--- got\n%s--- want\n%s", c->label, got, want);
    if (want)
        assert_string_equal(got, want);
    if (log && strcmp(vstring_str(logged), log) != 0)
        print_error("case \"%s\":\n--- log\n%s--- want\n%s", c->label, vstring_str(logged), log);
    if (log)
        assert_string_equal(vstring_str(logged), log);
    assert_int_equal(state->errs, c->errs);
    assert_string_equal(vstring_str(state->reason), c->reason);
    myfree(got);
    return state;
}

/* The table: records written, log, errors. */
static void test_cases(void **unused UNUSED)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].input == NULL)
            continue;
        state_destroy(run_case(cases + i, cases[i].input, cases[i].want, cases[i].log));
    }
}

/* Bytes as delivered: lines plus newlines; CONT pieces add no newline. */
static void test_length(void **unused UNUSED)
{
    const CASE *c = cases + 0;
    CLEANUP_STATE *state = run_case(c, "Subject: t\n\nhi\n", NULL, NULL);
    long long want = strlen("Subject: t\n"
                            "Message-Id: <20261121150102.4C9BBA720B1@mail.example.com>\n"
                            "Date: Sun,  1 Nov 2026 09:05:07 +0000 (UTC)\n"
                            "From: \"Alice Q. Smith\" <alice@example.com>\n\nhi\n");

    assert_int_equal(state->cont_length, want);
    state_destroy(state);
}

/* Long lines: body CONT pieces byte for byte; headers re-cut at line_length_limit. */
static void test_long_lines(void **unused UNUSED)
{
    const CASE *c = NULL;
    VSTRING *input = vstring_alloc(3000);
    VSTRING *want = vstring_alloc(3000);
    char big[601];
    CLEANUP_STATE *state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strncmp(cases[i].label, "long lines", 10) == 0)
            c = cases + i;
    assert_non_null(c);
    memset(big, 'a', 600);
    big[600] = 0;
    /* A 609-byte header arriving as two pieces, then a body line in three. */
    vstring_sprintf(input, "+X-Big: %.300s\n%s\n\n+%s\n+bbb\nccc\n", big, big + 298, big);
    vstring_sprintf(want, "C:X-Big: %.505s\nN:%s\nN:\nC:%s\nC:bbb\nN:ccc\nX\n", big, big + 503, big);
    state = run_case(c, vstring_str(input), vstring_str(want), c->log);
    assert_int_equal(state->cont_length, 609 + 1 + 1 + 600 + 3 + 3 + 1);
    state_destroy(state);
    vstring_free(input);
    vstring_free(want);
}

/* Checks: state changes of the actions. */
static void test_action_state(void **unused UNUSED)
{
    const CASE *c = NULL;
    CLEANUP_STATE *state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strncmp(cases[i].label, "FILTER, BCC", 11) == 0)
            c = cases + i;
    assert_non_null(c);
    state = run_case(c, c->input, c->want, c->log);
    assert_string_equal(state->filter, "smtp:[192.0.2.9]:10025");
    assert_int_equal(state->header_bcc->argc, 1);
    assert_string_equal(state->header_bcc->argv[0], "arch@example.com");
    assert_true(state->flags & CLEANUP_FLAG_HOLD);
    assert_string_equal(state->hold_reason, "held text");
    assert_false(state->discard);
    assert_null(state->redirect);
    state_destroy(state);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strncmp(cases[i].label, "REDIRECT", 8) == 0)
            c = cases + i;
    state = run_case(c, c->input, c->want, c->log);
    assert_string_equal(state->redirect, "sink@example.com");
    state_destroy(state);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strncmp(cases[i].label, "DISCARD", 7) == 0)
            c = cases + i;
    state = run_case(c, c->input, c->want, c->log);
    assert_true(state->discard);
    state_destroy(state);
}

/* One shared table: Content-Type in the primary headers is checked once; long lines are cut in the log. */
static void test_shared_tables(void **unused UNUSED)
{
    const CASE *c = NULL;
    VSTRING *input = vstring_alloc(500);
    VSTRING *log = vstring_alloc(500);
    char big[301];
    CLEANUP_STATE *state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strncmp(cases[i].label, "one table", 9) == 0)
            c = cases + i;
    assert_non_null(c);
    memset(big, 'z', 300);
    big[300] = 0;
    vstring_sprintf(input, "Content-Type: text/plain\nX-Long: %.150s\n %.150s\n\n", big, big);
    vstring_sprintf(log,
                    "4C9BBA720B1: warning: header Content-Type: text/plain " CTX ": ctype\n"
                    "4C9BBA720B1: warning: header X-Long: %.150s? %.40s " CTX "\n"
                    "4C9BBA720B1: message-id=<>\n",
                    big, big);
    state = run_case(c, vstring_str(input), NULL, vstring_str(log));
    state_destroy(state);
    vstring_free(input);
    vstring_free(log);
}

/* A record type the content stage does not expect. */
static void test_bad_record(void **unused UNUSED)
{
    CLEANUP_STATE *state;

    defaults();
    cleanup_message_init();
    state = state_create("remote", "a@b", 0);
    vstring_reset(logged);
    cleanup_message(state, REC_TYPE_RCPT, "x@y", 3);
    assert_true(state->errs & CLEANUP_STAT_BAD);
    assert_string_equal(vstring_str(logged),
                        "warning: 4C9BBA720B1: message rejected: unexpected record type 82\n");
    state_destroy(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),         cmocka_unit_test(test_length),
        cmocka_unit_test(test_long_lines),    cmocka_unit_test(test_action_state),
        cmocka_unit_test(test_shared_tables), cmocka_unit_test(test_bad_record),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
