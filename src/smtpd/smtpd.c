/*
 * smtpd - the Postern SMTP server (spec/smtpd.md; smtpd.h has the module
 * map).
 *
 * A single-server daemon (mail_server.h): one SMTP session per client
 * connection, or on standard input/output with -S (sendmail -bs). This
 * file holds main(), the session life cycle (smtpd_state_init(),
 * smtpd_state_reset_transaction(), smtpd_state_free()), the command loop
 * with its error, junk-command and pipelining policies, every command
 * (HELO EHLO XCLIENT XFORWARD MAIL RCPT DATA BDAT RSET NOOP VRFY ETRN HELP
 * QUIT), the conversation with cleanup (records as in docs/queue-file.md,
 * opened at the first accepted RCPT), the Received: header and the
 * connect/disconnect log lines.
 *
 * Errors: client errors get SMTP replies and count towards the error
 * limits; a lost connection or timeout logs "lost connection|timeout
 * after CMD from NAME[ADDR]" and ends the session; a cleanup failure gives
 * a 451 and the message is not queued (cleanup removes an unfinished
 * file). Nothing a client sends can crash the daemon.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "anvil_clnt.h"
#include "argv.h"
#include "attr.h"
#include "cleanup_user.h"
#include "flush_clnt.h"
#include "is_header.h"
#include "mail_date.h"
#include "mail_flow.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "mail_server.h"
#include "maps.h"
#include "match_list.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "record.h"
#include "smtpd.h"
#include "smtpd_chat.h"
#include "smtpd_check.h"
#include "smtpd_sasl.h"
#include "smtpd_tls.h"
#include "smtpd_token.h"
#include "stringops.h"
#include "valid_hostname.h"
#include "vstream.h"
#include "vstring.h"

/* EHLO keywords that smtpd_discard_ehlo_keywords can drop. */
#define EHLO_PIPELINING (1 << 0)
#define EHLO_SIZE       (1 << 1)
#define EHLO_VRFY       (1 << 2)
#define EHLO_ETRN       (1 << 3)
#define EHLO_STARTTLS   (1 << 4)
#define EHLO_AUTH       (1 << 5)
#define EHLO_XVERP      (1 << 6)
#define EHLO_XCLIENT    (1 << 7)
#define EHLO_XFORWARD   (1 << 8)
#define EHLO_ENHANCED   (1 << 9)
#define EHLO_8BITMIME   (1 << 10)
#define EHLO_DSN        (1 << 11)
#define EHLO_SMTPUTF8   (1 << 12)
#define EHLO_CHUNKING   (1 << 13)
#define EHLO_SILENT     (1 << 14)

static const struct {
    const char *name;
    int mask;
} smtpd_ehlo_names[] = {
    {"pipelining", EHLO_PIPELINING},
    {"size", EHLO_SIZE},
    {"vrfy", EHLO_VRFY},
    {"etrn", EHLO_ETRN},
    {"starttls", EHLO_STARTTLS},
    {"auth", EHLO_AUTH},
    {"xverp", EHLO_XVERP},
    {"xclient", EHLO_XCLIENT},
    {"xforward", EHLO_XFORWARD},
    {"enhancedstatuscodes", EHLO_ENHANCED},
    {"8bitmime", EHLO_8BITMIME},
    {"dsn", EHLO_DSN},
    {"smtputf8", EHLO_SMTPUTF8},
    {"chunking", EHLO_CHUNKING},
    {"silent-discard", EHLO_SILENT},
};

/* Command flags. */
#define CMD_JUNK (1 << 0) /* counts towards smtpd_junk_command_limit */
#define CMD_SYNC (1 << 1) /* no input may follow it (RFC 2920) */

typedef int (*SMTPD_CMD_FN)(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv);

typedef struct SMTPD_CMD {
    const char *name;
    SMTPD_CMD_FN action;
    int flags;
    int total; /* times used in this session */
    int ok;    /* times it succeeded */
} SMTPD_CMD;

/*
 * Per-session data that is not in SMTPD_STATE. One session at a time per
 * process (single_server), so these are file-scope.
 */
static jmp_buf smtpd_lost_jmp;       /* where a lost client ends up */
static const char *smtpd_lost_why;   /* "lost connection" or "timeout" */
static const char *smtpd_last_verb;  /* for "after CMD" */
static int smtpd_discard_mask;       /* EHLO_* dropped for this client */
static bool smtpd_access_denied;     /* smtpd_delay_reject = no rejection */
static int smtpd_unknown_total;      /* unknown commands */
static int smtpd_rcpt_overshoot;     /* RCPTs beyond smtpd_recipient_limit */
static char *smtpd_first_rcpt;       /* for "for <RCPT>" */
static struct timeval smtpd_arrival; /* MAIL time */
static bool smtpd_msg_failed;        /* BDAT: this transaction already failed */
static bool smtpd_msg_begun;         /* MESG and headers went to cleanup */
static bool smtpd_too_big;           /* content over message_size_limit */
static bool smtpd_bare_lf_content;   /* bare <LF> in content with "reject" */
static bool smtpd_anvil_connected;   /* anvil_clnt_connect() succeeded */
static VSTRING *smtpd_bdat_line;     /* partial line between BDAT chunks */
static VSTRING *smtpd_addr_buf;      /* address scratch */
static VSTRING *smtpd_line_copy;     /* the command line as received */

/* Per-process data. */
static ANVIL_CLNT *smtpd_anvil;
static MATCH_LIST *smtpd_forbidden;
static MAPS *smtpd_discard_maps;

static int smtpd_helo(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_ehlo(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_xclient(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_xforward(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_mail(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_rcpt(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_data(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_bdat(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_rset(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_noop(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_vrfy(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_etrn(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_help(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_quit(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_starttls(SMTPD_STATE *, int, SMTPD_TOKEN *);
static int smtpd_auth(SMTPD_STATE *, int, SMTPD_TOKEN *);

/* The command table, in the order of the disconnect log line. */
static SMTPD_CMD smtpd_cmd_table[] = {
    {"HELO", smtpd_helo, CMD_JUNK | CMD_SYNC, 0, 0},
    {"EHLO", smtpd_ehlo, CMD_JUNK | CMD_SYNC, 0, 0},
    {"XCLIENT", smtpd_xclient, 0, 0, 0},
    {"XFORWARD", smtpd_xforward, 0, 0, 0},
    {"STARTTLS", smtpd_starttls, 0, 0, 0},
    {"AUTH", smtpd_auth, 0, 0, 0},
    {"MAIL", smtpd_mail, 0, 0, 0},
    {"RCPT", smtpd_rcpt, 0, 0, 0},
    {"DATA", smtpd_data, CMD_SYNC, 0, 0},
    {"BDAT", smtpd_bdat, 0, 0, 0},
    {"RSET", smtpd_rset, CMD_JUNK, 0, 0},
    {"NOOP", smtpd_noop, CMD_JUNK | CMD_SYNC, 0, 0},
    {"VRFY", smtpd_vrfy, CMD_JUNK | CMD_SYNC, 0, 0},
    {"ETRN", smtpd_etrn, CMD_JUNK, 0, 0},
    {"HELP", smtpd_help, 0, 0, 0},
    {"QUIT", smtpd_quit, 0, 0, 0},
};

#define SMTPD_NCMD (sizeof(smtpd_cmd_table) / sizeof(smtpd_cmd_table[0]))

/* Free a string field and set it to NULL. */
#define SMTPD_FREE(p) ((p) = myfree(p))

/* Replace a string field. */
static void smtpd_set(char **field, const char *value)
{
    myfree(*field);
    *field = value ? mystrdup(value) : NULL;
}

/* Start a session's state. */
void smtpd_state_init(SMTPD_STATE *state, VSTREAM *client, const char *service)
{
    memset(state, 0, sizeof(*state));
    state->client = client;
    state->buffer = vstring_alloc(100);
    state->service = service;
    state->where = SMTPD_AFTER_CONNECT;
    state->stress = var_stress && *var_stress;
    state->addr_family = AF_UNSPEC;
    smtpd_check_state_init(state);
}

/* Forget the XFORWARD attributes. */
static void smtpd_xforward_reset(SMTPD_STATE *state)
{
    SMTPD_XFORWARD *xf = &state->xforward;

    SMTPD_FREE(xf->name);
    SMTPD_FREE(xf->addr);
    SMTPD_FREE(xf->port);
    SMTPD_FREE(xf->protocol);
    SMTPD_FREE(xf->helo);
    SMTPD_FREE(xf->ident);
    SMTPD_FREE(xf->source);
    xf->used = false;
}

/* End the mail transaction (after a message, RSET, HELO/EHLO). */
void smtpd_state_reset_transaction(SMTPD_STATE *state)
{
    if (state->cleanup) {
        /* A stream without END makes cleanup drop the file. */
        (void)vstream_fclose(state->cleanup);
        state->cleanup = NULL;
    }
    SMTPD_FREE(state->sender);
    SMTPD_FREE(state->sasl_sender);
    SMTPD_FREE(state->recipient);
    SMTPD_FREE(state->queue_id);
    SMTPD_FREE(state->encoding);
    SMTPD_FREE(state->dsn_envid);
    SMTPD_FREE(state->verp_delims);
    SMTPD_FREE(state->saved_filter);
    SMTPD_FREE(state->saved_redirect);
    SMTPD_FREE(state->discard_reason);
    SMTPD_FREE(state->instance);
    if (state->prepend)
        state->prepend = argv_free(state->prepend);
    if (state->saved_bcc)
        state->saved_bcc = argv_free(state->saved_bcc);
    state->saved_flags = 0;
    state->rcpt_count = 0;
    state->msg_size = 0;
    state->act_size = 0;
    state->dsn_ret = 0;
    state->bdat_seen = false;
    state->flags &= ~(SMTPD_FLAG_SMTPUTF8 | SMTPD_FLAG_AUTH_USED);
    SMTPD_FREE(smtpd_first_rcpt);
    smtpd_rcpt_overshoot = 0;
    smtpd_msg_failed = smtpd_msg_begun = smtpd_too_big = smtpd_bare_lf_content = false;
    if (smtpd_bdat_line)
        vstring_reset(smtpd_bdat_line);
    smtpd_check_reset(state);
}

/* Release everything at disconnect. */
void smtpd_state_free(SMTPD_STATE *state)
{
    smtpd_state_reset_transaction(state);
    smtpd_xforward_reset(state);
    smtpd_peer_reset(state);
    SMTPD_FREE(state->helo_name);
    SMTPD_FREE(state->protocol);
    SMTPD_FREE(state->sasl_method);
    SMTPD_FREE(state->sasl_username);
    SMTPD_FREE(state->sasl_sender);
    SMTPD_FREE(state->tls_protocol);
    SMTPD_FREE(state->tls_cipher);
    smtpd_check_state_free(state);
    vstring_free(state->buffer);
    state->buffer = NULL;
}

/* The client went away or timed out: back to the session's end. */
static NORETURN smtpd_lost(SMTPD_STATE *state, const char *why)
{
    (void)state;
    smtpd_lost_why = why;
    longjmp(smtpd_lost_jmp, 1);
}

/* The same from a stream error. */
static NORETURN smtpd_lost_stream(SMTPD_STATE *state)
{
    smtpd_lost(state, vstream_ftimeout(state->client) ? "timeout" : "lost connection");
}

/* Send a check's reply (421/521 disconnect through the chat layer). */
static int smtpd_reject(SMTPD_STATE *state, const char *reply)
{
    smtpd_chat_reply(state, "%s", reply);
    state->error_count++;
    return -1;
}

/* Printable copy of a client-supplied name: non-printables become '?'. */
static char *smtpd_printable(const char *str)
{
    char *copy = mystrdup(str);

    for (char *cp = copy; *cp; cp++)
        if ((unsigned char)*cp < 0x20 || (unsigned char)*cp == 0x7f)
            *cp = '?';
    return copy;
}

/* Decode xtext ("+2B" escapes) into RESULT; false when malformed. */
static bool smtpd_xtext_decode(VSTRING *result, const char *text)
{
    vstring_reset(result);
    for (const char *cp = text; *cp; cp++) {
        int ch = (unsigned char)*cp;

        if (ch == '+') {
            if (!isxdigit((unsigned char)cp[1]) || !isxdigit((unsigned char)cp[2]))
                return false;
            char hex[3] = {cp[1], cp[2], 0};

            ch = (int)strtol(hex, NULL, 16);
            cp += 2;
        } else if (ch < 33 || ch > 126 || ch == '=') {
            return false;
        }
        vstring_addch(result, ch);
    }
    return true;
}

/* Compute the EHLO keywords dropped for this client. */
static void smtpd_discard_init(SMTPD_STATE *state)
{
    VSTRING *text = vstring_alloc(100);
    char *bp;
    char *word;

    vstring_strcpy(text, var_smtpd_discard_ehlo_keywords ? var_smtpd_discard_ehlo_keywords : "");
    if (smtpd_discard_maps && state->addr) {
        const char *value = maps_find(smtpd_discard_maps, state->addr, 0);

        if (value) {
            vstring_strcpy(text, value);
        }
    }
    smtpd_discard_mask = 0;
    bp = vstring_str(text);
    while ((word = mystrtok(&bp, CHARS_COMMA_SP)) != NULL)
        for (size_t i = 0; i < sizeof(smtpd_ehlo_names) / sizeof(smtpd_ehlo_names[0]); i++)
            if (strcasecmp(word, smtpd_ehlo_names[i].name) == 0)
                smtpd_discard_mask |= smtpd_ehlo_names[i].mask;
    if (smtpd_discard_mask & EHLO_ENHANCED)
        state->flags |= SMTPD_FLAG_NO_ESC;
    else
        state->flags &= ~SMTPD_FLAG_NO_ESC;
    vstring_free(text);
}

/* Log the dropped EHLO keywords unless silent-discard. */
static void smtpd_discard_log(SMTPD_STATE *state)
{
    VSTRING *buf;

    if ((smtpd_discard_mask & ~EHLO_SILENT) == 0 || (smtpd_discard_mask & EHLO_SILENT))
        return;
    buf = vstring_alloc(100);
    for (size_t i = 0; i < sizeof(smtpd_ehlo_names) / sizeof(smtpd_ehlo_names[0]); i++) {
        if (smtpd_ehlo_names[i].mask == EHLO_SILENT || (smtpd_discard_mask & smtpd_ehlo_names[i].mask) == 0)
            continue;
        if (VSTRING_LEN(buf))
            vstring_strcat(buf, " ");
        for (const char *cp = smtpd_ehlo_names[i].name; *cp; cp++)
            vstring_addch(buf, toupper((unsigned char)*cp));
    }
    msg_info("%s: discarding EHLO keywords: %s", state->namaddr, vstring_str(buf));
    vstring_free(buf);
}

/* Connection-level checks: client restrictions with delay_reject = no. */
static void smtpd_connect_checks(SMTPD_STATE *state, bool greet)
{
    const char *reply = NULL;

    smtpd_access_denied = false;
    smtpd_discard_init(state);
    state->where = SMTPD_AFTER_CONNECT;
    if (!var_smtpd_delay_reject && (reply = smtpd_check_client(state)) != NULL) {
        smtpd_access_denied = true;
        smtpd_chat_reply(state, "%s", reply);
        state->error_count++;
        return;
    }
    if (greet)
        smtpd_chat_reply(state, "220 %s", var_smtpd_banner);
}

/* Join tokens FROM..argc-1 with single spaces. */
static const char *smtpd_join(VSTRING *buf, int argc, SMTPD_TOKEN *argv, int from)
{
    vstring_reset(buf);
    for (int i = from; i < argc; i++) {
        if (i > from)
            vstring_addch(buf, ' ');
        vstring_strcat(buf, argv[i].strval);
    }
    return vstring_str(buf);
}

/* HELO and EHLO shared part: store the name, run the HELO restrictions. */
static int smtpd_helo_common(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv, const char *verb)
{
    const char *reply;
    VSTRING *buf;

    if (argc < 2)
        return SMTPD_ERROR(state, "501 Syntax: %s hostname", verb);
    smtpd_state_reset_transaction(state);
    buf = vstring_alloc(100);
    myfree(state->helo_name);
    state->helo_name = smtpd_printable(smtpd_join(buf, argc, argv, 1));
    vstring_free(buf);
    if (!var_smtpd_delay_reject && (reply = smtpd_check_helo(state, state->helo_name)) != NULL) {
        SMTPD_FREE(state->helo_name);
        return smtpd_reject(state, reply);
    }
    return 0;
}

/* HELO name. */
static int smtpd_helo(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    if (smtpd_helo_common(state, argc, argv, "HELO") < 0)
        return -1;
    smtpd_set(&state->protocol, "SMTP");
    state->flags &= ~SMTPD_FLAG_ESMTP;
    smtpd_chat_reply(state, "250 %s", var_myhostname);
    return 0;
}

/* EHLO name: the keyword list. */
static int smtpd_ehlo(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    ARGV *lines;
    int drop = smtpd_discard_mask;
    const char *mechs;

    if (smtpd_helo_common(state, argc, argv, "EHLO") < 0)
        return -1;
    smtpd_set(&state->protocol, "ESMTP");
    state->flags |= SMTPD_FLAG_ESMTP;
    smtpd_discard_log(state);
    lines = argv_alloc(16);
    argv_add(lines, var_myhostname);
    if (!(drop & EHLO_PIPELINING))
        argv_add(lines, "PIPELINING");
    if (!(drop & EHLO_SIZE)) {
        if (var_message_size_limit > 0) {
            char size[64];

            snprintf(size, sizeof(size), "SIZE %lld", (long long)var_message_size_limit);
            argv_add(lines, size);
        } else {
            argv_add(lines, "SIZE");
        }
    }
    if (!var_disable_vrfy_command && !(drop & EHLO_VRFY))
        argv_add(lines, "VRFY");
    if (!(drop & EHLO_ETRN))
        argv_add(lines, "ETRN");
    if (!(drop & EHLO_STARTTLS) && smtpd_tls_offered(state))
        argv_add(lines, "STARTTLS");
    if (!(drop & EHLO_AUTH) && (mechs = smtpd_sasl_mechanisms(state)) != NULL) {
        VSTRING *auth = vstring_alloc(50);

        argv_add(lines, vstring_str(vstring_sprintf(auth, "AUTH %s", mechs)));
        if (var_broken_sasl_auth_clients)
            argv_add(lines, vstring_str(vstring_sprintf(auth, "AUTH=%s", mechs)));
        vstring_free(auth);
    }
    if (!(drop & EHLO_XVERP) && smtpd_check_verp_ok(state))
        argv_add(lines, "XVERP");
    if (!(drop & EHLO_XCLIENT) && smtpd_check_xclient_ok(state))
        argv_add(lines, "XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT");
    if (!(drop & EHLO_XFORWARD) && smtpd_check_xforward_ok(state))
        argv_add(lines, "XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT");
    if (!(drop & EHLO_ENHANCED))
        argv_add(lines, "ENHANCEDSTATUSCODES");
    if (!(drop & EHLO_8BITMIME))
        argv_add(lines, "8BITMIME");
    if (!(drop & EHLO_DSN))
        argv_add(lines, "DSN");
    if (var_smtputf8_enable && !(drop & EHLO_SMTPUTF8))
        argv_add(lines, "SMTPUTF8");
    if (!(drop & EHLO_CHUNKING))
        argv_add(lines, "CHUNKING");
    for (size_t i = 0; i < lines->argc; i++)
        smtpd_chat_reply(state, "250%c%s", i + 1 < lines->argc ? '-' : ' ', lines->argv[i]);
    argv_free(lines);
    return 0;
}

/* Whether VALUE is [UNAVAILABLE] or [TEMPUNAVAIL]. */
static int smtpd_xattr_unavail(const char *value)
{
    if (strcasecmp(value, "[UNAVAILABLE]") == 0)
        return SMTPD_PEER_CODE_PERM;
    if (strcasecmp(value, "[TEMPUNAVAIL]") == 0)
        return SMTPD_PEER_CODE_TEMP;
    return 0;
}

/* Printable address from ADDR= (IPv6: prefix in any case); NULL if bad. */
static const char *smtpd_xattr_addr(const char *value, int *family)
{
    static char buf[INET6_ADDRSTRLEN + 1];
    unsigned char bin[sizeof(struct in6_addr)];

    if (strncasecmp(value, "IPv6:", 5) == 0) {
        if (inet_pton(AF_INET6, value + 5, bin) != 1)
            return NULL;
        *family = AF_INET6;
        inet_ntop(AF_INET6, bin, buf, sizeof(buf));
        return buf;
    }
    if (inet_pton(AF_INET, value, bin) == 1) {
        *family = AF_INET;
        inet_ntop(AF_INET, bin, buf, sizeof(buf));
        return buf;
    }
    if (inet_pton(AF_INET6, value, bin) == 1) {
        *family = AF_INET6;
        inet_ntop(AF_INET6, bin, buf, sizeof(buf));
        return buf;
    }
    return NULL;
}

/* Whether VALUE is a port number. */
static bool smtpd_xattr_port(const char *value)
{
    return *value && alldig(value) && strlen(value) <= 5 && atoi(value) <= 65535;
}

/* Common checks of XCLIENT and XFORWARD. */
static int smtpd_xcommon_check(SMTPD_STATE *state, int argc, bool ok, const char *verb)
{
    if (!ok)
        return SMTPD_ERROR(state, "550 5.7.0 Error: insufficient authorization");
    if (state->sender)
        return SMTPD_ERROR(state, "503 5.5.1 Error: MAIL transaction in progress");
    if (argc < 2)
        return SMTPD_ERROR(state, "501 5.5.4 Syntax: %s attribute=value...", verb);
    return 0;
}

/* XCLIENT: replace the client identity and start over at the greeting. */
static int smtpd_xclient(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    static const char *const names[] = {"NAME", "REVERSE_NAME", "ADDR",     "PORT",    "PROTO",
                                        "HELO", "LOGIN",        "DESTADDR", "DESTPORT"};
    enum { X_NAME, X_RNAME, X_ADDR, X_PORT, X_PROTO, X_HELO, X_LOGIN, X_DADDR, X_DPORT, X_COUNT };
    char *values[X_COUNT] = {0};
    int status[X_COUNT] = {0};
    int family = state->addr_family;
    VSTRING *val = vstring_alloc(100);
    int result = 0;

    if (smtpd_xcommon_check(state, argc, smtpd_check_xclient_ok(state), "XCLIENT") < 0) {
        vstring_free(val);
        return -1;
    }
    for (int i = 1; i < argc && result == 0; i++) {
        char *eq = strchr(argv[i].strval, '=');
        size_t k;

        if (eq)
            *eq = 0;
        for (k = 0; k < X_COUNT; k++)
            if (strcasecmp(argv[i].strval, names[k]) == 0)
                break;
        if (eq == NULL || k == X_COUNT) {
            result = SMTPD_ERROR(state, "501 5.5.4 Bad XCLIENT attribute name: %s", argv[i].strval);
            break;
        }
        const char *raw = eq + 1;

        if (!smtpd_xtext_decode(val, raw)) {
            result = SMTPD_ERROR(state, "501 5.5.4 Bad %s syntax: %s", names[k], raw);
            break;
        }
        const char *v = vstring_str(val);
        int unavail = smtpd_xattr_unavail(v);
        bool good = true;

        status[k] = unavail;
        switch (k) {
        case X_NAME:
        case X_RNAME:
            good = unavail || valid_hostname(v);
            break;
        case X_ADDR:
        case X_DADDR:
            if (!unavail) {
                int fam;

                if ((v = smtpd_xattr_addr(v, &fam)) == NULL)
                    good = false;
                else if (k == X_ADDR)
                    family = fam;
            }
            break;
        case X_PORT:
        case X_DPORT:
            good = unavail || smtpd_xattr_port(v);
            break;
        case X_PROTO:
            good = unavail || strcasecmp(v, "SMTP") == 0 || strcasecmp(v, "ESMTP") == 0;
            break;
        default:
            for (const char *cp = v; *cp; cp++)
                if ((unsigned char)*cp < 0x21 || (unsigned char)*cp > 0x7e)
                    good = false;
            break;
        }
        if (!good) {
            result = SMTPD_ERROR(state, "501 5.5.4 Bad %s syntax: %s", names[k], raw);
            break;
        }
        myfree(values[k]);
        values[k] = mystrdup(unavail ? "unknown" : v);
    }
    vstring_free(val);
    if (result == 0) {
        smtpd_state_reset_transaction(state);
        smtpd_xforward_reset(state);
        if (values[X_NAME]) {
            smtpd_set(&state->name, values[X_NAME]);
            state->name_status = status[X_NAME] ? status[X_NAME] : SMTPD_PEER_CODE_OK;
        }
        if (values[X_RNAME]) {
            smtpd_set(&state->reverse_name, values[X_RNAME]);
            state->reverse_name_status = status[X_RNAME] ? status[X_RNAME] : SMTPD_PEER_CODE_OK;
        } else if (values[X_NAME]) {
            smtpd_set(&state->reverse_name, values[X_NAME]);
            state->reverse_name_status = state->name_status;
        }
        if (values[X_ADDR]) {
            smtpd_set(&state->addr, values[X_ADDR]);
            state->addr_family = status[X_ADDR] ? state->addr_family : family;
        }
        if (values[X_PORT])
            smtpd_set(&state->port, values[X_PORT]);
        if (values[X_DADDR])
            smtpd_set(&state->dest_addr, values[X_DADDR]);
        if (values[X_DPORT])
            smtpd_set(&state->dest_port, values[X_DPORT]);
        smtpd_sasl_connect(state);
        if (values[X_LOGIN] && !status[X_LOGIN]) {
            smtpd_set(&state->sasl_username, values[X_LOGIN]);
            smtpd_set(&state->sasl_method, "XCLIENT");
        }
        /* HELO and PROTO survive only when given. */
        SMTPD_FREE(state->helo_name);
        SMTPD_FREE(state->protocol);
        state->flags &= ~SMTPD_FLAG_ESMTP;
        if (values[X_HELO] && !status[X_HELO])
            state->helo_name = mystrdup(values[X_HELO]);
        if (values[X_PROTO] && !status[X_PROTO]) {
            state->protocol = mystrdup(values[X_PROTO]);
            for (char *cp = state->protocol; *cp; cp++)
                *cp = (char)toupper((unsigned char)*cp);
            if (strcmp(state->protocol, "ESMTP") == 0)
                state->flags |= SMTPD_FLAG_ESMTP;
        }
        smtpd_peer_namaddr(state);
        smtpd_connect_checks(state, true);
    }
    for (int k = 0; k < X_COUNT; k++)
        myfree(values[k]);
    return result;
}

/* XFORWARD: attributes for the logging of the next transaction. */
static int smtpd_xforward(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    SMTPD_XFORWARD *xf = &state->xforward;
    static const char *const names[] = {"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE"};
    char **fields[] = {&xf->name, &xf->addr, &xf->port, &xf->protocol, &xf->helo, &xf->ident, &xf->source};
    VSTRING *val;
    int result = 0;

    if (smtpd_xcommon_check(state, argc, smtpd_check_xforward_ok(state), "XFORWARD") < 0)
        return -1;
    val = vstring_alloc(100);
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i].strval, '=');
        size_t k;

        if (eq)
            *eq = 0;
        for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            if (strcasecmp(argv[i].strval, names[k]) == 0)
                break;
        if (eq == NULL || k == sizeof(names) / sizeof(names[0])) {
            result = SMTPD_ERROR(state, "501 5.5.4 Bad XFORWARD attribute name: %s", argv[i].strval);
            break;
        }
        const char *v = vstring_str(val);
        int unavail = 0;
        bool good = smtpd_xtext_decode(val, eq + 1);

        if (good) {
            unavail = smtpd_xattr_unavail(v);
            if (!unavail && k == 1) {
                int fam;
                const char *addr = smtpd_xattr_addr(v, &fam);

                if (addr == NULL)
                    good = false;
                else
                    vstring_strcpy(val, addr);
                v = vstring_str(val);
            } else if (!unavail && k == 0) {
                good = valid_hostname(v);
            } else if (!unavail && k == 2) {
                good = smtpd_xattr_port(v);
            } else if (!unavail && k == 6) {
                good = strcasecmp(v, "LOCAL") == 0 || strcasecmp(v, "REMOTE") == 0;
            }
        }
        if (!good) {
            result = SMTPD_ERROR(state, "501 5.5.4 Bad %s syntax: %s", names[k], eq + 1);
            break;
        }
        smtpd_set(fields[k], unavail ? (k == 0 ? "unknown" : NULL) : v);
        xf->used = true;
    }
    vstring_free(val);
    if (result == 0)
        smtpd_chat_reply(state, "250 2.0.0 Ok");
    return result;
}

/* Whether a client name/address pair was forwarded. */
#define XF_USED(state, field) ((state)->xforward.used && (state)->xforward.field)

/*
 * Insert a space after "FROM:"/"TO:" so that the address is its own word
 * ("MAIL FROM:<a@b>" -> "MAIL FROM: <a@b>").
 */
static void smtpd_split_colon(VSTRING *line)
{
    char *cp = vstring_str(line);
    size_t verb = strcspn(cp, " \t");
    const char *kw = NULL;

    if (verb == 4 && (strncasecmp(cp, "MAIL", 4) == 0 || strncasecmp(cp, "RCPT", 4) == 0)) {
        char *arg = cp + verb;

        while (*arg == ' ' || *arg == '\t')
            arg++;
        if (strncasecmp(arg, "FROM:", 5) == 0)
            kw = arg + 5;
        else if (strncasecmp(arg, "TO:", 3) == 0)
            kw = arg + 3;
        if (kw && *kw && *kw != ' ' && *kw != '\t') {
            size_t off = (size_t)(kw - cp);
            VSTRING *copy = vstring_alloc(VSTRING_LEN(line) + 2);

            vstring_strncpy(copy, cp, off);
            vstring_strcat(copy, " ");
            vstring_strcat(copy, cp + off);
            vstring_strcpy(line, vstring_str(copy));
            vstring_free(copy);
        }
    }
}

/* Open the cleanup connection and send the envelope head. */
static int smtpd_cleanup_open(SMTPD_STATE *state)
{
    VSTRING *qid = vstring_alloc(32);
    VSTRING *buf = vstring_alloc(100);
    int flags = input_transp_cleanup(CLEANUP_FLAG_MASK_EXTERNAL, var_receive_override_options) |
                CLEANUP_FLAG_SMTP_REPLY;
    const char *name = XF_USED(state, name) ? state->xforward.name : state->name;
    const char *addr = XF_USED(state, addr) ? state->xforward.addr : state->addr;
    const char *port = XF_USED(state, port) ? state->xforward.port : state->port;
    const char *helo = XF_USED(state, helo) ? state->xforward.helo : state->helo_name;
    const char *proto = XF_USED(state, protocol) ? state->xforward.protocol : state->protocol;

    if (state->flags & SMTPD_FLAG_SMTPUTF8)
        flags |= CLEANUP_FLAG_SMTPUTF8;
    mail_flow_wait(); /* in_flow_delay */
    if ((state->cleanup = mail_connect_wait(MAIL_CLASS_PUBLIC, MAIL_SERVICE_CLEANUP)) == NULL ||
        attr_scan(state->cleanup, ATTR_FLAG_STRICT, RECV_ATTR_STR(MAIL_ATTR_QUEUEID, qid), ATTR_TYPE_END) !=
            1) {
        msg_warn("%s: cannot connect to the cleanup service", state->namaddr);
        if (state->cleanup)
            (void)vstream_fclose(state->cleanup);
        state->cleanup = NULL;
        vstring_free(qid);
        vstring_free(buf);
        return -1;
    }
    vstream_set_timeout(state->cleanup, var_ipc_timeout);
    state->queue_id = mystrdup(vstring_str(qid));

    /* QUEUEID: client=name[addr][, orig_queue_id=ID][, orig_client=NAME[ADDR]] */
    vstring_sprintf(buf, "%s: client=%s", state->queue_id, state->namaddr);
    if (state->sasl_method)
        vstring_sprintf_append(buf, ", sasl_method=%s", state->sasl_method);
    if (state->sasl_username)
        vstring_sprintf_append(buf, ", sasl_username=%s", state->sasl_username);
    if (state->sasl_sender)
        vstring_sprintf_append(buf, ", sasl_sender=%s", state->sasl_sender);
    if (XF_USED(state, ident))
        vstring_sprintf_append(buf, ", orig_queue_id=%s", state->xforward.ident);
    if (XF_USED(state, name) || XF_USED(state, addr))
        vstring_sprintf_append(buf, ", orig_client=%s[%s]",
                               XF_USED(state, name) ? state->xforward.name : "unknown",
                               XF_USED(state, addr) ? state->xforward.addr : "unknown");
    msg_info("%s", vstring_str(buf));

    VSTREAM *c = state->cleanup;

    rec_fprintf(c, REC_TYPE_FLGS, "%d", flags);
    rec_fprintf(c, REC_TYPE_TIME, "%lld %ld", (long long)smtpd_arrival.tv_sec, (long)smtpd_arrival.tv_usec);
    if (name)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_LOG_CLIENT_NAME, name);
    if (addr)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_LOG_CLIENT_ADDR, addr);
    if (port)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_LOG_CLIENT_PORT, port);
    if (helo)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_LOG_HELO_NAME, helo);
    if (proto)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_LOG_PROTO_NAME, proto);
    /* The AUTH login for pipe(8) ${sasl_*} and local(8) SASL_*; as Postfix, before the context. */
    if (state->sasl_method)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_SASL_METHOD, state->sasl_method);
    if (state->sasl_username)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_SASL_USERNAME, state->sasl_username);
    if (state->sasl_sender)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_SASL_SENDER, state->sasl_sender);
    rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_RWR_CONTEXT,
                XF_USED(state, source) && strcasecmp(state->xforward.source, "LOCAL") == 0 ? "local"
                                                                                           : "remote");
    rec_fputs(c, REC_TYPE_FROM, state->sender);
    if (state->encoding)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_ENCODING, state->encoding);
    if (state->flags & SMTPD_FLAG_SMTPUTF8)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_SMTPUTF8, "1");
    if (state->dsn_envid)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_DSN_ENVID, state->dsn_envid);
    if (state->dsn_ret)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%d", MAIL_ATTR_DSN_RET, state->dsn_ret);
    if (state->verp_delims)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", "verp_delimiters", state->verp_delims);
    vstring_free(qid);
    vstring_free(buf);
    return 0;
}

#define SMTPD_ADDR_UNDECLARED_UTF8 (-2)

/* The address of MAIL FROM / RCPT TO (argv[2] on) into smtpd_addr_buf:
 * returns the index of the first parameter after it, -1 for bad syntax,
 * SMTPD_ADDR_UNDECLARED_UTF8 for a non-ASCII address without SMTPUTF8. */
static int smtpd_envelope_addr(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv, int flags, bool smtputf8)
{
    int next;

    if (var_strict_rfc821_envelopes)
        flags |= SMTPD_ADDR_STRICT;
    if (smtputf8 || var_smtputf8_enable)
        flags |= SMTPD_ADDR_UTF8;
    if ((next = smtpd_addr_extract(argv + 2, argc - 2, smtpd_addr_buf, flags)) < 0 ||
        smtpd_check_addr(state, vstring_str(smtpd_addr_buf), smtputf8) < 0)
        return -1;
    for (const char *cp = vstring_str(smtpd_addr_buf); *cp; cp++)
        if ((unsigned char)*cp >= 0x80 && !smtputf8)
            return SMTPD_ADDR_UNDECLARED_UTF8;
    return next;
}

/* MAIL FROM:<address> [parameters]. */
static int smtpd_mail(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    int flags = SMTPD_ADDR_EMPTY_OK;
    int next;
    int msgs;
    bool smtputf8 = false;
    bool auth_seen = false;
    const char *reply;

    state->where = SMTPD_CMD_MAIL;
    if (var_smtpd_helo_required && state->helo_name == NULL)
        return SMTPD_ERROR(state, "503 5.5.1 Error: send HELO/EHLO first");
    if (state->sender && state->bdat_seen)
        return SMTPD_ERROR(state, "503 5.5.1 Error: MAIL after BDAT");
    if (state->sender)
        return SMTPD_ERROR(state, "503 5.5.1 Error: nested MAIL command");
    if (argc < 3 || strcasecmp(argv[1].strval, "FROM:") != 0)
        return SMTPD_ERROR(state, "501 5.5.4 Syntax: MAIL FROM:<address>");
    if (var_smtpd_client_message_rate_limit > 0 && !smtpd_check_event_exempt(state) &&
        anvil_clnt_mail(smtpd_anvil, state->service, state->addr, &msgs) == ANVIL_STAT_OK &&
        msgs > var_smtpd_client_message_rate_limit) {
        msg_warn("Message delivery request rate limit exceeded: %d from %s for service %s", msgs,
                 state->namaddr, state->service);
        return SMTPD_ERROR(state, "450 4.7.1 Error: too much mail from %s", state->addr);
    }
    /* SMTPUTF8 is needed before the address is parsed. */
    for (int i = 3; i < argc; i++)
        if (strcasecmp(argv[i].strval, "SMTPUTF8") == 0 && var_smtputf8_enable)
            smtputf8 = true;
    if ((next = smtpd_envelope_addr(state, argc, argv, flags, smtputf8)) == SMTPD_ADDR_UNDECLARED_UTF8)
        return SMTPD_ERROR(state, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
    if (next < 0)
        return SMTPD_ERROR(state, "501 5.1.7 Bad sender address syntax");

    /* Parameters. */
    VSTRING *tmp = vstring_alloc(100);
    off_t size = 0;
    char *encoding = NULL, *envid = NULL, *verp = NULL, *sasl_sender = NULL;
    int ret = 0;
    int result = 0;

    for (int i = next + 2; i < argc && result == 0; i++) {
        char *arg = argv[i].strval;

        if (strncasecmp(arg, "SIZE=", 5) == 0) {
            if (!alldig(arg + 5) || strlen(arg + 5) > 18)
                result = SMTPD_ERROR(state, "501 5.5.4 Bad message size syntax");
            else
                size = (off_t)strtoll(arg + 5, NULL, 10);
        } else if (strncasecmp(arg, "BODY=", 5) == 0) {
            if (strcasecmp(arg + 5, "8BITMIME") == 0)
                smtpd_set(&encoding, "8bitmime");
            else if (strcasecmp(arg + 5, "7BIT") == 0)
                smtpd_set(&encoding, "7bit");
            else
                result = SMTPD_ERROR(state, "501 5.5.4 Unsupported BODY parameter");
        } else if (strcasecmp(arg, "SMTPUTF8") == 0 && var_smtputf8_enable) {
            /* handled above */
        } else if (strncasecmp(arg, "RET=", 4) == 0) {
            if (smtpd_discard_mask & EHLO_DSN)
                result = SMTPD_ERROR(state, "501 5.7.1 DSN support is disabled");
            else if (ret != 0)
                result = SMTPD_ERROR(state, "501 5.5.4 Duplicate RET parameter");
            else if (strcasecmp(arg + 4, "FULL") == 0)
                ret = DSN_RET_FULL;
            else if (strcasecmp(arg + 4, "HDRS") == 0)
                ret = DSN_RET_HDRS;
            else
                result = SMTPD_ERROR(state, "501 5.5.4 Bad RET parameter syntax");
        } else if (strncasecmp(arg, "ENVID=", 6) == 0) {
            if (smtpd_discard_mask & EHLO_DSN)
                result = SMTPD_ERROR(state, "501 5.7.1 DSN support is disabled");
            else if (envid != NULL)
                result = SMTPD_ERROR(state, "501 5.5.4 Duplicate ENVID parameter");
            else if (!smtpd_xtext_decode(tmp, arg + 6) || VSTRING_LEN(tmp) == 0 || VSTRING_LEN(tmp) > 100)
                result = SMTPD_ERROR(state, "501 5.5.4 Bad ENVID parameter syntax");
            else
                envid = mystrdup(vstring_str(tmp));
        } else if (strncasecmp(arg, "AUTH=", 5) == 0) {
            if (auth_seen)
                result = SMTPD_ERROR(state, "503 5.5.4 Error: multiple AUTH= options");
            else if (strcmp(arg + 5, "<>") != 0)
                sasl_sender = smtpd_printable(arg + 5);
            auth_seen = true;
        } else if ((strcasecmp(arg, "XVERP") == 0 || strncasecmp(arg, "XVERP=", 6) == 0) &&
                   smtpd_check_verp_ok(state) && !(smtpd_discard_mask & EHLO_XVERP)) {
            const char *delims = arg[5] == '=' ? arg + 6 : var_default_verp_delimiters;

            if (strlen(delims) != 2 || strchr(var_verp_delimiter_filter, delims[0]) == NULL ||
                strchr(var_verp_delimiter_filter, delims[1]) == NULL)
                result = SMTPD_ERROR(state, "501 5.5.4 Error: invalid XVERP delimiters");
            else
                smtpd_set(&verp, delims);
        } else {
            result = SMTPD_ERROR(state, "555 5.5.4 Unsupported option: %s", arg);
        }
    }
    vstring_free(tmp);
    if (result == 0 && verp && *vstring_str(smtpd_addr_buf) == 0)
        result = SMTPD_ERROR(state, "503 5.5.4 Error: XVERP requires non-null sender");
    if (result == 0 && (reply = smtpd_check_size(state, size)) != NULL)
        result = smtpd_reject(state, reply);
    if (result == 0) {
        state->sender = mystrdup(vstring_str(smtpd_addr_buf));
        if (!var_smtpd_delay_reject && (reply = smtpd_check_mail(state, state->sender)) != NULL) {
            result = smtpd_reject(state, reply);
            SMTPD_FREE(state->sender);
        }
    }
    if (result < 0) {
        myfree(encoding);
        myfree(envid);
        myfree(verp);
        myfree(sasl_sender);
        return -1;
    }
    VSTRING *inst = vstring_alloc(64);

    gettimeofday(&smtpd_arrival, NULL);
    state->msg_size = size;
    state->encoding = encoding;
    state->dsn_envid = envid;
    state->dsn_ret = ret;
    state->verp_delims = verp;
    state->sasl_sender = sasl_sender;
    if (smtputf8)
        state->flags |= SMTPD_FLAG_SMTPUTF8;
    if (auth_seen)
        state->flags |= SMTPD_FLAG_AUTH_USED;
    state->seqno++;
    vstring_sprintf(inst, "%x.%lx.%lx.%x", (unsigned)getpid(), (unsigned long)smtpd_arrival.tv_sec,
                    (unsigned long)smtpd_arrival.tv_usec, (unsigned)state->seqno);
    smtpd_set(&state->instance, vstring_str(inst));
    vstring_free(inst);
    smtpd_chat_reply(state, "250 2.1.0 Ok");
    return 0;
}

/* Parse NOTIFY=; -1 when malformed. */
static int smtpd_notify(const char *value)
{
    char *copy = mystrdup(value);
    char *bp = copy;
    char *word;
    int mask = 0;

    while ((word = mystrtok(&bp, ",")) != NULL) {
        if (strcasecmp(word, "NEVER") == 0)
            mask |= DSN_NOTIFY_NEVER;
        else if (strcasecmp(word, "SUCCESS") == 0)
            mask |= DSN_NOTIFY_SUCCESS;
        else if (strcasecmp(word, "FAILURE") == 0)
            mask |= DSN_NOTIFY_FAILURE;
        else if (strcasecmp(word, "DELAY") == 0)
            mask |= DSN_NOTIFY_DELAY;
        else
            mask = -1;
        if (mask < 0)
            break;
    }
    myfree(copy);
    if (mask == 0 || (mask > 0 && (mask & DSN_NOTIFY_NEVER) && (mask & DSN_NOTIFY_ANY)))
        return -1;
    return mask;
}

/* RCPT TO:<address> [NOTIFY=...] [ORCPT=...]. */
static int smtpd_rcpt(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    int flags = 0;
    int next;
    int rcpts;
    int notify = 0;
    char *orcpt = NULL;
    const char *reply;
    bool smtputf8 = (state->flags & SMTPD_FLAG_SMTPUTF8) != 0;

    state->where = SMTPD_CMD_RCPT;
    if (state->sender == NULL)
        return SMTPD_ERROR(state, "503 5.5.1 Error: need MAIL command");
    if (state->bdat_seen)
        return SMTPD_ERROR(state, "503 5.5.1 Error: RCPT after BDAT");
    if (argc < 3 || strcasecmp(argv[1].strval, "TO:") != 0)
        return SMTPD_ERROR(state, "501 5.5.4 Syntax: RCPT TO:<address>");
    if ((next = smtpd_envelope_addr(state, argc, argv, flags, smtputf8)) == SMTPD_ADDR_UNDECLARED_UTF8)
        return SMTPD_ERROR(state, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
    if (next < 0)
        return SMTPD_ERROR(state, "501 5.1.3 Bad recipient address syntax");
    if (var_smtpd_client_recipient_rate_limit > 0 && !smtpd_check_event_exempt(state) &&
        anvil_clnt_rcpt(smtpd_anvil, state->service, state->addr, &rcpts) == ANVIL_STAT_OK &&
        rcpts > var_smtpd_client_recipient_rate_limit) {
        msg_warn("Recipient address rate limit exceeded: %d from %s for service %s", rcpts, state->namaddr,
                 state->service);
        return SMTPD_ERROR(state, "450 4.7.1 Error: too many recipients from %s", state->addr);
    }
    if (state->rcpt_count >= var_smtpd_recipient_limit) {
        smtpd_chat_reply(state, "452 4.5.3 Error: too many recipients");
        if (smtpd_rcpt_overshoot++ >= var_smtpd_recipient_overshoot_limit)
            state->error_count++;
        return -1;
    }
    VSTRING *tmp = vstring_alloc(100);
    int result = 0;

    for (int i = next + 2; i < argc && result == 0; i++) {
        char *arg = argv[i].strval;

        if (strncasecmp(arg, "NOTIFY=", 7) == 0) {
            if (smtpd_discard_mask & EHLO_DSN)
                result = SMTPD_ERROR(state, "501 5.7.1 DSN support is disabled");
            else if (notify || (notify = smtpd_notify(arg + 7)) < 0)
                result = SMTPD_ERROR(state, "501 5.5.4 Error: Bad NOTIFY parameter syntax");
        } else if (strncasecmp(arg, "ORCPT=", 6) == 0) {
            const char *semi = strchr(arg + 6, ';');

            if (smtpd_discard_mask & EHLO_DSN)
                result = SMTPD_ERROR(state, "501 5.7.1 DSN support is disabled");
            else if (orcpt || semi == NULL || semi == arg + 6 || !smtpd_xtext_decode(tmp, semi + 1) ||
                     VSTRING_LEN(tmp) == 0)
                result = SMTPD_ERROR(state, "501 5.5.4 Error: Bad ORCPT parameter syntax");
            else {
                VSTRING *o = vstring_alloc(100);

                vstring_strncpy(o, arg + 6, (size_t)(semi - arg - 6));
                vstring_sprintf_append(o, ";%s", vstring_str(tmp));
                orcpt = vstring_export(o);
            }
        } else {
            result = SMTPD_ERROR(state, "555 5.5.4 Unsupported option: %s", arg);
        }
    }
    vstring_free(tmp);
    if (result < 0) {
        myfree(orcpt);
        return -1;
    }
    smtpd_set(&state->recipient, vstring_str(smtpd_addr_buf));
    /* "postmaster" without a domain is always accepted. */
    if (strcasecmp(state->recipient, "postmaster") != 0 &&
        (reply = smtpd_check_rcpt(state, state->recipient)) != NULL) {
        myfree(orcpt);
        return smtpd_reject(state, reply);
    }
    if (state->cleanup == NULL && smtpd_cleanup_open(state) < 0) {
        myfree(orcpt);
        return SMTPD_ERROR(state, "451 4.3.0 Error: queue file write error");
    }
    if (orcpt)
        rec_fputs(state->cleanup, REC_TYPE_DSN_ORCPT, orcpt);
    if (notify)
        rec_fprintf(state->cleanup, REC_TYPE_DSN_NOTIFY, "%d", notify);
    rec_fputs(state->cleanup, REC_TYPE_RCPT, state->recipient);
    myfree(orcpt);
    if (state->rcpt_count++ == 0)
        smtpd_first_rcpt = mystrdup(state->recipient);
    smtpd_chat_reply(state, "250 2.1.5 Ok");
    return 0;
}

/* Write one content record unless the message already failed. */
static void smtpd_out(SMTPD_STATE *state, int type, const char *data, size_t len)
{
    if (smtpd_too_big || state->cleanup == NULL)
        return;
    if (var_message_size_limit > 0 && state->act_size > var_message_size_limit) {
        smtpd_too_big = true;
        return;
    }
    rec_put(state->cleanup, type, data, len);
}

/* The protocol name for Received: ESMTP, ESMTPSA, UTF8SMTP, ... */
static const char *smtpd_received_proto(SMTPD_STATE *state, VSTRING *buf)
{
    const char *base = state->protocol ? state->protocol : "SMTP";

    if (state->flags & SMTPD_FLAG_SMTPUTF8)
        base = "UTF8SMTP";
    vstring_strcpy(buf, base);
    if (state->tls_protocol)
        vstring_strcat(buf, "S");
    if (state->sasl_username && (state->flags & SMTPD_FLAG_ESMTP))
        vstring_strcat(buf, "A");
    return vstring_str(buf);
}

/*
 * Finish the envelope and start the content: side effects of access
 * actions, MESG, PREPEND headers, the Received: header.
 */
static void smtpd_begin_content(SMTPD_STATE *state)
{
    VSTREAM *c = state->cleanup;
    VSTRING *date = vstring_alloc(64);
    VSTRING *proto = vstring_alloc(16);
    VSTRING *line = vstring_alloc(200);
    const char *name = XF_USED(state, name) ? state->xforward.name : state->name;
    const char *addr = XF_USED(state, addr) ? state->xforward.addr : state->rfc_addr;
    const char *helo = XF_USED(state, helo) ? state->xforward.helo : state->helo_name;
    VSTRING *xaddr = NULL;

    if (XF_USED(state, addr) && strchr(addr, ':')) {
        xaddr = vstring_alloc(64);
        vstring_sprintf(xaddr, "IPv6:%s", addr);
        addr = vstring_str(xaddr);
    }
    if (state->saved_flags) {
        int flags = input_transp_cleanup(CLEANUP_FLAG_MASK_EXTERNAL, var_receive_override_options) |
                    CLEANUP_FLAG_SMTP_REPLY | state->saved_flags;

        if (state->flags & SMTPD_FLAG_SMTPUTF8)
            flags |= CLEANUP_FLAG_SMTPUTF8;
        rec_fprintf(c, REC_TYPE_FLGS, "%d", flags);
    }
    /* A FILTER action beats the content_filter of this service (-o works). */
    const char *filter = state->saved_filter ? state->saved_filter : var_content_filter;

    if (*filter)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_FILTER, filter);
    if (state->saved_redirect)
        rec_fprintf(c, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_REDIRECT, state->saved_redirect);
    if (state->saved_bcc)
        for (size_t i = 0; i < state->saved_bcc->argc; i++) {
            rec_fprintf(c, REC_TYPE_DSN_NOTIFY, "%d", DSN_NOTIFY_NEVER);
            rec_fputs(c, REC_TYPE_RCPT, state->saved_bcc->argv[i]);
        }
    rec_put(c, REC_TYPE_MESG, "", 0);
    if (state->prepend)
        for (size_t i = 0; i < state->prepend->argc; i++)
            rec_fputs(c, REC_TYPE_NORM, state->prepend->argv[i]);
    mail_date(date, smtpd_arrival.tv_sec ? smtpd_arrival.tv_sec : time(NULL));
    if (var_smtpd_hide_client_session) {
        vstring_sprintf(line, "Received: by %s (%s) id %s", var_myhostname, var_mail_name, state->queue_id);
    } else {
        ARGV *comments = argv_alloc(4);

        rec_fprintf(c, REC_TYPE_NORM, "Received: from %s (%s [%s])", helo ? helo : name,
                    name ? name : "unknown", addr ? addr : "unknown");
        smtpd_tls_received(state, comments);
        smtpd_sasl_received(state, comments);
        for (size_t i = 0; i < comments->argc; i++)
            rec_fputs(c, REC_TYPE_NORM, comments->argv[i]);
        argv_free(comments);
        vstring_sprintf(line, "\tby %s (%s) with %s id %s", var_myhostname, var_mail_name,
                        smtpd_received_proto(state, proto), state->queue_id);
    }
    if (state->rcpt_count == 1 && smtpd_first_rcpt) {
        rec_fputs(c, REC_TYPE_NORM, vstring_str(line));
        rec_fprintf(c, REC_TYPE_NORM, "\tfor <%s>; %s", smtpd_first_rcpt, vstring_str(date));
    } else {
        vstring_strcat(line, ";");
        rec_fputs(c, REC_TYPE_NORM, vstring_str(line));
        rec_fprintf(c, REC_TYPE_NORM, "\t%s", vstring_str(date));
    }
    smtpd_msg_begun = true;
    if (xaddr)
        vstring_free(xaddr);
    vstring_free(date);
    vstring_free(proto);
    vstring_free(line);
}

/*
 * End of the content: end-of-data restrictions, then END and cleanup's
 * answer. Sends the final reply (PREFIX is "" for DATA or "N bytes " for
 * BDAT) and ends the transaction. Returns 0 when queued.
 */
static int smtpd_finish_message(SMTPD_STATE *state, const char *prefix)
{
    VSTRING *why = vstring_alloc(100);
    int status = 0;
    int result = -1;
    const char *reply;

    state->where = SMTPD_AFTER_EOM;
    smtpd_last_verb = SMTPD_AFTER_EOM;
    if (smtpd_bare_lf_content) {
        VSTRING *text = vstring_alloc(100);

        vstring_sprintf(text, "%d 5.5.2 %s Error: bare <LF> received",
                        var_smtpd_forbid_bare_newline_reject_code, var_myhostname);
        smtpd_log_event(state, "reject", vstring_str(text));
        smtpd_chat_reply(state, "%s", vstring_str(text));
        state->error_count++;
        vstring_free(text);
    } else if (smtpd_too_big) {
        smtpd_chat_reply(state, "552 5.3.4 Error: message file too big");
        state->error_count++;
    } else if ((reply = smtpd_check_eod(state)) != NULL) {
        smtpd_reject(state, reply);
    } else {
        rec_put(state->cleanup, REC_TYPE_XTRA, "", 0);
        rec_put(state->cleanup, REC_TYPE_END, "", 0);
        if (vstream_fflush(state->cleanup) != 0 ||
            attr_scan(state->cleanup, ATTR_FLAG_MISSING, RECV_ATTR_INT(MAIL_ATTR_STATUS, &status),
                      RECV_ATTR_STR(MAIL_ATTR_WHY, why), ATTR_TYPE_END) != 2) {
            msg_warn("%s: lost connection with the cleanup service", state->queue_id);
            status = CLEANUP_STAT_WRITE;
            vstring_reset(why);
        }
        if (status == 0) {
            smtpd_chat_reply(state, "250 2.0.0 Ok: %squeued as %s", prefix, state->queue_id);
            result = 0;
        } else {
            const CLEANUP_STAT_DETAIL *detail = cleanup_stat_detail((unsigned)status);
            int code = detail->smtp;

            if (VSTRING_LEN(why) && (status & (CLEANUP_STAT_CONT | CLEANUP_STAT_DEFER))) {
                const char *text = vstring_str(why);

                if (text[0] == '4' && code >= 500)
                    code -= 100;
                else if (text[0] == '5' && code < 500)
                    code += 100;
                smtpd_chat_reply(state, "%d %s", code, text);
            } else {
                smtpd_chat_reply(state, "%d %s %s", code, detail->dsn, detail->text);
            }
            state->error_count++;
        }
    }
    vstring_free(why);
    smtpd_state_reset_transaction(state);
    smtpd_xforward_reset(state);
    return result;
}

/* Checks shared by DATA and the first BDAT; -1 after an error reply. */
static int smtpd_data_checks(SMTPD_STATE *state)
{
    const char *reply;

    if (state->sender == NULL) {
        smtpd_chat_reply(state, "503 5.5.1 Error: need RCPT command");
        return -1;
    }
    if (state->rcpt_count == 0) {
        smtpd_chat_reply(state, "554 5.5.1 Error: no valid recipients");
        return -1;
    }
    state->where = SMTPD_CMD_DATA;
    if ((reply = smtpd_check_data(state)) != NULL) {
        smtpd_chat_reply(state, "%s", reply);
        return -1;
    }
    return 0;
}

/* DATA: read the content up to <CR><LF>.<CR><LF> into cleanup. */
static int smtpd_data(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    (void)argv;
    if (state->bdat_seen)
        return SMTPD_ERROR(state, "503 5.5.1 Error: DATA after BDAT");
    if (state->sender == NULL)
        return SMTPD_ERROR(state, "503 5.5.1 Error: need RCPT command");
    if (state->rcpt_count == 0)
        return SMTPD_ERROR(state, "554 5.5.1 Error: no valid recipients");
    if (argc != 1)
        return SMTPD_ERROR(state, "501 5.5.4 Syntax: DATA");
    if (smtpd_data_checks(state) < 0) {
        state->error_count++;
        return -1;
    }
    smtpd_begin_content(state);
    smtpd_chat_reply(state, "354 End data with <CR><LF>.<CR><LF>");
    smtpd_chat_flush(state);

    int mode = smtpd_chat_bare_lf_mode(state);
    size_t limit = var_line_length_limit > 0 ? (size_t)var_line_length_limit : 2048;
    VSTRING *buf = state->buffer;
    bool line_start = true;
    bool prev_bare = false;

    for (;;) {
        int st = vstream_fgets_limit(buf, state->client, limit);
        char *data = vstring_str(buf);
        size_t len = VSTRING_LEN(buf);

        if (st == VSTREAM_LINE_EOF || st == VSTREAM_LINE_PARTIAL)
            smtpd_lost_stream(state);
        if (st == VSTREAM_LINE_LIMIT) {
            /* A piece of a long line; a final CR may belong to CRLF. */
            if (len > 0 && data[len - 1] == '\r' && len > 1) {
                vstream_ungetc('\r', state->client);
                len--;
            }
            state->act_size += (off_t)len;
            if (line_start && data[0] == '.')
                data++, len--;
            smtpd_out(state, REC_TYPE_CONT, data, len);
            line_start = false;
            continue;
        }
        bool bare = !(len >= 2 && data[len - 2] == '\r');

        len -= bare ? 1 : 2;
        state->act_size += (off_t)len + 2;
        if (bare && mode != SMTPD_BARE_LF_NO) {
            state->flags |= SMTPD_FLAG_BARE_LF;
            if (mode == SMTPD_BARE_LF_REJECT)
                smtpd_bare_lf_content = true;
        }
        if (line_start && len == 1 && data[0] == '.') {
            if (mode == SMTPD_BARE_LF_NO || (!bare && !prev_bare))
                break;
            /* A fake end of data: dropped. */
            prev_bare = bare;
            continue;
        }
        if (line_start && len > 0 && data[0] == '.')
            data++, len--;
        smtpd_out(state, REC_TYPE_NORM, data, len);
        prev_bare = bare;
        line_start = true;
    }
    return smtpd_finish_message(state, "");
}

/* Emit the complete lines of smtpd_bdat_line, keeping a partial tail. */
static void smtpd_bdat_lines(SMTPD_STATE *state, bool last)
{
    size_t limit = var_line_length_limit > 0 ? (size_t)var_line_length_limit : 2048;
    char *start = vstring_str(smtpd_bdat_line);
    char *end = vstring_end(smtpd_bdat_line);
    char *cp = start;
    char *nl;

    while ((nl = memchr(cp, '\n', (size_t)(end - cp))) != NULL) {
        size_t len = (size_t)(nl - cp);

        if (len > 0 && cp[len - 1] == '\r')
            len--;
        while (len > limit) {
            smtpd_out(state, REC_TYPE_CONT, cp, limit);
            cp += limit;
            len -= limit;
        }
        smtpd_out(state, REC_TYPE_NORM, cp, len);
        cp = nl + 1;
    }
    /* The partial tail: long pieces go out now, a final CR waits. */
    while ((size_t)(end - cp) > limit) {
        smtpd_out(state, REC_TYPE_CONT, cp, limit);
        cp += limit;
    }
    if (last && cp < end) {
        smtpd_out(state, REC_TYPE_NORM, cp, (size_t)(end - cp));
        cp = end;
    }
    size_t rest = (size_t)(end - cp);

    memmove(start, cp, rest);
    vstring_truncate(smtpd_bdat_line, rest);
}

/* Read SIZE bytes of BDAT content in pieces; with KEEP, count them and
 * cut them into lines for cleanup, else drop them. */
static void smtpd_bdat_read(SMTPD_STATE *state, long long size, bool keep)
{
    char buf[8192];

    while (size > 0) {
        size_t want = size > (long long)sizeof(buf) ? sizeof(buf) : (size_t)size;
        size_t got = vstream_fread(state->client, buf, want);

        if (got == 0)
            smtpd_lost_stream(state);
        size -= (long long)got;
        if (keep) {
            state->act_size += (off_t)got;
            vstring_memcat(smtpd_bdat_line, buf, got);
            smtpd_bdat_lines(state, false);
        }
    }
}

/* BDAT size [LAST]. */
static int smtpd_bdat(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    long long size;
    bool last;

    if (smtpd_discard_mask & EHLO_CHUNKING)
        return SMTPD_ERROR(state, "521 5.5.1 Error: command not implemented");
    if (argc < 2 || argc > 3 || !alldig(argv[1].strval) || strlen(argv[1].strval) > 15 ||
        (argc == 3 && strcasecmp(argv[2].strval, "LAST") != 0))
        return SMTPD_ERROR(state, "521 5.5.4 Syntax: BDAT count [LAST]");
    size = strtoll(argv[1].strval, NULL, 10);
    last = argc == 3;
    if (!state->bdat_seen || smtpd_msg_failed) {
        if (smtpd_msg_failed || smtpd_data_checks(state) < 0) {
            if (smtpd_msg_failed)
                smtpd_chat_reply(state, "503 5.5.1 Error: BDAT transaction failed");
            smtpd_bdat_read(state, size, false);
            state->error_count++;
            if (state->sender)
                smtpd_msg_failed = !last;
            if (last)
                smtpd_state_reset_transaction(state);
            return -1;
        }
        state->bdat_seen = true;
        if (smtpd_bdat_line == NULL)
            smtpd_bdat_line = vstring_alloc(8192);
        vstring_reset(smtpd_bdat_line);
        smtpd_begin_content(state);
    }
    state->where = SMTPD_CMD_BDAT;
    smtpd_bdat_read(state, size, true);
    if (!last) {
        smtpd_chat_reply(state, "250 2.0.0 Ok: %lld bytes", size);
        return 0;
    }
    smtpd_bdat_lines(state, true);

    char prefix[48];

    snprintf(prefix, sizeof(prefix), "%lld bytes ", size); /* this chunk, as Postfix */
    return smtpd_finish_message(state, prefix);
}

/* RSET. */
static int smtpd_rset(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    (void)argv;
    if (argc != 1)
        return SMTPD_ERROR(state, "501 5.5.4 Syntax: RSET");
    smtpd_state_reset_transaction(state);
    smtpd_xforward_reset(state);
    smtpd_chat_reply(state, "250 2.0.0 Ok");
    return 0;
}

/* NOOP. */
static int smtpd_noop(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    (void)argv;
    if (argc != 1)
        return SMTPD_ERROR(state, "501 5.5.4 Syntax: NOOP");
    smtpd_chat_reply(state, "250 2.0.0 Ok");
    return 0;
}

/* VRFY address: the recipient checks as for RCPT. */
static int smtpd_vrfy(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    const char *reply;
    const char *arg;
    int flags = var_smtputf8_enable ? SMTPD_ADDR_UTF8 : 0;

    if (var_disable_vrfy_command)
        return SMTPD_ERROR(state, "502 5.5.1 VRFY command is disabled");
    if (argc < 2)
        return SMTPD_ERROR(state, "501 5.5.4 Syntax: VRFY address [SMTPUTF8]");
    if (argc > 2 && strcasecmp(argv[argc - 1].strval, "SMTPUTF8") == 0)
        argc--;
    if (smtpd_addr_extract(argv + 1, argc - 1, smtpd_addr_buf, flags) < 0)
        return SMTPD_ERROR(state, "501 5.1.3 Bad recipient address syntax");
    state->where = SMTPD_CMD_VRFY;
    smtpd_set(&state->recipient, vstring_str(smtpd_addr_buf));
    reply = smtpd_check_rcpt(state, state->recipient);
    SMTPD_FREE(state->recipient);
    if (reply)
        return smtpd_reject(state, reply);
    arg = vstring_str(smtpd_line_copy) + strcspn(vstring_str(smtpd_line_copy), " \t");
    arg += strspn(arg, " \t");
    smtpd_chat_reply(state, "252 2.0.0 %s", arg);
    return 0;
}

/* ETRN domain. */
static int smtpd_etrn(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    const char *reply;
    const char *site;

    if (state->helo_name == NULL)
        return SMTPD_ERROR(state, "503 Error: send HELO/EHLO first");
    if (state->sender)
        return SMTPD_ERROR(state, "503 Error: MAIL transaction in progress");
    if (argc != 2)
        return SMTPD_ERROR(state, "500 Syntax: ETRN domain");
    site = argv[1].strval;
    if (*site == '@' || *site == '#')
        site++;
    if (!flush_site_valid(site))
        return SMTPD_ERROR(state, "501 Error: invalid parameter syntax");
    state->where = SMTPD_CMD_ETRN;
    if ((reply = smtpd_check_etrn(state, site)) != NULL)
        return smtpd_reject(state, reply);
    switch (flush_send_site(site)) {
    case FLUSH_STAT_OK:
        smtpd_chat_reply(state, "250 Queuing started");
        return 0;
    case FLUSH_STAT_DENY:
        return SMTPD_ERROR(state, "459 <%s>: service unavailable", site);
    case FLUSH_STAT_BAD:
        return SMTPD_ERROR(state, "501 Error: invalid parameter syntax");
    default:
        return SMTPD_ERROR(state, "458 Unable to queue messages");
    }
}

/* HELP. */
static int smtpd_help(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    (void)argc;
    (void)argv;
    smtpd_chat_reply(state, "214 2.0.0 Commands: AUTH BDAT DATA EHLO ETRN HELO HELP MAIL NOOP QUIT RCPT RSET "
                            "STARTTLS VRFY XCLIENT XFORWARD");
    return 0;
}

/* QUIT. */
static int smtpd_quit(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    (void)argc;
    (void)argv;
    smtpd_chat_reply(state, "221 2.0.0 Bye");
    smtpd_chat_flush(state);
    return 0;
}

/* Printable copy of pending client input for a log line. */
static void smtpd_pending_text(SMTPD_STATE *state, VSTRING *out)
{
    const unsigned char *cp = state->client->rbuf + state->client->rpos;
    size_t len = state->client->rend - state->client->rpos;

    vstring_reset(out);
    for (size_t i = 0; i < len && i < 100; i++) {
        if (cp[i] == '\r')
            vstring_strcat(out, "\\r");
        else if (cp[i] == '\n')
            vstring_strcat(out, "\\n");
        else if (cp[i] < 0x20 || cp[i] >= 0x7f)
            vstring_addch(out, '?');
        else
            vstring_addch(out, cp[i]);
    }
}

/* Whether VERB is in smtpd_forbidden_commands or shaped like a header. */
static bool smtpd_forbidden_verb(const char *line, const char *verb)
{
    const char *strings[1] = {verb};

    if (smtpd_forbidden && match_list_match(smtpd_forbidden, strings))
        return true;
    return is_header_buf(line, strlen(line)) > 0;
}

/* The "after CMD" text of abnormal-end log lines. */
static const char *smtpd_after(SMTPD_STATE *state, VSTRING *buf)
{
    vstring_strcpy(buf, smtpd_last_verb);
    if (strcmp(smtpd_last_verb, "DATA") == 0 || strcmp(smtpd_last_verb, "BDAT") == 0)
        vstring_sprintf_append(buf, " (%lld bytes)", (long long)state->act_size);
    return vstring_str(buf);
}

/* The disconnect log line with the per-command counters. */
static void smtpd_log_disconnect(SMTPD_STATE *state)
{
    VSTRING *buf = vstring_alloc(200);
    int total = 0, ok = 0;

    vstring_sprintf(buf, "disconnect from %s", state->namaddr);
    for (size_t i = 0; i < SMTPD_NCMD; i++) {
        SMTPD_CMD *cmd = smtpd_cmd_table + i;

        if (cmd->total == 0)
            continue;
        vstring_strcat(buf, " ");
        for (const char *cp = cmd->name; *cp; cp++)
            vstring_addch(buf, tolower((unsigned char)*cp));
        if (cmd->ok == cmd->total)
            vstring_sprintf_append(buf, "=%d", cmd->total);
        else
            vstring_sprintf_append(buf, "=%d/%d", cmd->ok, cmd->total);
        total += cmd->total;
        ok += cmd->ok;
    }
    if (smtpd_unknown_total) {
        vstring_sprintf_append(buf, " unknown=0/%d", smtpd_unknown_total);
        total += smtpd_unknown_total;
    }
    if (total == 0 || ok != total)
        vstring_sprintf_append(buf, " commands=%d/%d", ok, total);
    else
        vstring_sprintf_append(buf, " commands=%d", total);
    if ((state->flags & SMTPD_FLAG_BARE_LF) && smtpd_chat_bare_lf_mode(state) == SMTPD_BARE_LF_NOTE)
        vstring_strcat(buf, " notes=bare_lf");
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
}

/* Anvil connection limits; false when the client must go. */
static bool smtpd_anvil_connect(SMTPD_STATE *state)
{
    int count = 0, rate = 0;

    smtpd_anvil_connected = false;
    if (state->addr_family == AF_UNSPEC || smtpd_check_event_exempt(state))
        return true;
    if (var_smtpd_client_connection_count_limit <= 0 && var_smtpd_client_connection_rate_limit <= 0)
        return true;
    if (anvil_clnt_connect(smtpd_anvil, state->service, state->addr, &count, &rate) != ANVIL_STAT_OK)
        return true;
    smtpd_anvil_connected = true;
    if (var_smtpd_client_connection_count_limit > 0 && count > var_smtpd_client_connection_count_limit) {
        msg_warn("Connection concurrency limit exceeded: %d from %s for service %s", count, state->namaddr,
                 state->service);
        smtpd_chat_reply(state, "421 4.7.0 %s Error: too many connections from %s", var_myhostname,
                         state->addr);
        return false;
    }
    if (var_smtpd_client_connection_rate_limit > 0 && rate > var_smtpd_client_connection_rate_limit) {
        msg_warn("Connection rate limit exceeded: %d from %s for service %s", rate, state->namaddr,
                 state->service);
        smtpd_chat_reply(state, "421 4.7.0 %s Error: too many connections from %s", var_myhostname,
                         state->addr);
        return false;
    }
    return true;
}

/* STARTTLS: not implemented for a client whose EHLO lost the keyword. */
static int smtpd_starttls(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    if ((smtpd_discard_mask & EHLO_STARTTLS) && argc == 1 && state->tls_context == NULL)
        return SMTPD_ERROR(state, "502 5.5.1 Error: command not implemented");
    return smtpd_tls_starttls(state, argc, argv);
}

/* AUTH: the auth rate limit and a discarded AUTH keyword, then smtpd_sasl.c. */
static int smtpd_auth(SMTPD_STATE *state, int argc, SMTPD_TOKEN *argv)
{
    int rate;

    if (var_smtpd_client_auth_rate_limit > 0 && !smtpd_check_xclient_ok(state) &&
        !smtpd_check_event_exempt(state) &&
        anvil_clnt_auth(smtpd_anvil, state->service, state->addr, &rate) == ANVIL_STAT_OK &&
        rate > var_smtpd_client_auth_rate_limit) {
        msg_warn("AUTH command rate limit exceeded: %d from %s for service %s", rate, state->namaddr,
                 state->service);
        return SMTPD_ERROR(state, "450 4.7.1 Error: too many AUTH commands from %s", state->addr);
    }
    if ((smtpd_discard_mask & EHLO_AUTH) && (state->helo_name || !var_smtpd_helo_required))
        return SMTPD_ERROR(state, "503 5.5.1 Error: authentication not enabled");
    return smtpd_sasl_auth(state, argc, argv);
}

/* Find a command by its verb. */
static SMTPD_CMD *smtpd_cmd_find(const char *verb)
{
    for (size_t i = 0; i < SMTPD_NCMD; i++)
        if (strcasecmp(smtpd_cmd_table[i].name, verb) == 0)
            return smtpd_cmd_table + i;
    return NULL;
}

/* The command loop. */
static void smtpd_proto(SMTPD_STATE *state)
{
    SMTPD_TOKEN *argv;
    int argc;
    VSTRING *after = vstring_alloc(50);
    VSTRING *text = vstring_alloc(100);

    for (;;) {
        if (state->flags & SMTPD_FLAG_HANGUP)
            break;
        if (state->error_count >= var_smtpd_hard_error_limit) {
            msg_info("too many errors after %s from %s", smtpd_after(state, after), state->namaddr);
            smtpd_chat_reply(state, "421 4.7.0 %s Error: too many errors", var_myhostname);
            break;
        }
        int st = smtpd_chat_query(state);

        if (st < 0) {
            smtpd_unknown_total++;
            smtpd_chat_reply(state, "500 5.5.2 %s Error: command too long", var_myhostname);
            state->error_count++;
            continue;
        }
        if (st == 1) {
            vstring_sprintf(text, "%d 5.5.2 %s Error: bare <LF> received",
                            var_smtpd_forbid_bare_newline_reject_code, var_myhostname);
            smtpd_log_event(state, "reject", vstring_str(text));
            smtpd_chat_reply(state, "%s", vstring_str(text));
            break;
        }
        vstring_strcpy(smtpd_line_copy, vstring_str(state->buffer));
        if (var_smtputf8_enable &&
            !smtpd_token_utf8_ok(vstring_str(state->buffer), VSTRING_LEN(state->buffer))) {
            smtpd_unknown_total++;
            smtpd_chat_reply(state, "500 5.5.2 Error: bad UTF-8 syntax");
            state->error_count++;
            continue;
        }
        smtpd_split_colon(state->buffer);
        if ((argc = smtpd_token(vstring_str(state->buffer), &argv)) == 0 ||
            argv[0].tokval != SMTPD_TOK_OTHER) {
            smtpd_unknown_total++;
            smtpd_last_verb = "UNKNOWN";
            smtpd_chat_reply(state, "500 5.5.2 Error: bad syntax");
            state->error_count++;
            continue;
        }
        SMTPD_CMD *cmd = smtpd_cmd_find(argv[0].strval);

        if (cmd == NULL && smtpd_forbidden_verb(vstring_str(smtpd_line_copy), argv[0].strval)) {
            msg_warn("non-SMTP command from %s: %.100s", state->namaddr, vstring_str(smtpd_line_copy));
            smtpd_unknown_total++;
            smtpd_chat_reply(state, "221 2.7.0 Error: I can break rules, too. Goodbye.");
            break;
        }
        if (cmd == NULL) {
            smtpd_unknown_total++;
            smtpd_last_verb = "UNKNOWN";
            smtpd_chat_reply(state, "500 5.5.2 Error: command not recognized");
            state->error_count++;
            continue;
        }
        cmd->total++;
        smtpd_last_verb = cmd->name;
        if (smtpd_access_denied && cmd->action != smtpd_quit) {
            smtpd_chat_reply(state, "503 5.7.0 Error: access denied for %s", state->namaddr);
            state->error_count++;
            continue;
        }
        if (!smtpd_tls_gate(state, cmd->name))
            continue;
        if ((cmd->flags & CMD_JUNK) && state->junk_cmds++ > var_smtpd_junk_command_limit)
            state->error_count++;
        /* RFC 2920: no input may wait behind these commands, nor before EHLO. */
        if (cmd->action != smtpd_bdat && cmd->action != smtpd_quit &&
            ((cmd->flags & CMD_SYNC) || !(state->flags & SMTPD_FLAG_ESMTP)) && smtpd_chat_pending(state)) {
            state->flags |= SMTPD_FLAG_ILL_PIPELINE;
            if (var_smtpd_forbid_unauth_pipelining && state->addr_family != AF_UNSPEC) {
                smtpd_pending_text(state, text);
                msg_info("improper command pipelining after %s from %s: %s", cmd->name, state->namaddr,
                         vstring_str(text));
                smtpd_chat_reply(state, "554 5.5.0 Error: SMTP protocol synchronization");
                break;
            }
        }
        if (cmd->action(state, argc, argv) == 0)
            cmd->ok++;
        if (cmd->action == smtpd_quit)
            break;
    }
    vstring_free(after);
    vstring_free(text);
}

/* One SMTP session. */
static void smtpd_service(VSTREAM *stream, char *service, char **argv)
{
    SMTPD_STATE state;
    VSTRING *after;

    (void)argv;
    vstream_set_timeout(stream, var_smtpd_timeout);
    smtpd_state_init(&state, stream, service);
    smtpd_peer_init(&state);
    msg_info("connect from %s", state.namaddr);
    smtpd_last_verb = SMTPD_AFTER_CONNECT;
    smtpd_unknown_total = 0;
    for (size_t i = 0; i < SMTPD_NCMD; i++)
        smtpd_cmd_table[i].total = smtpd_cmd_table[i].ok = 0;
    smtpd_chat_lost_hook = smtpd_lost;
    smtpd_tls_reset_hook = smtpd_state_reset_transaction;
    after = vstring_alloc(50);
    if (setjmp(smtpd_lost_jmp) == 0) {
        if (smtpd_anvil_connect(&state) && smtpd_tls_connect(&state)) {
            smtpd_sasl_connect(&state);
            smtpd_connect_checks(&state, true);
            if (!(state.flags & SMTPD_FLAG_HANGUP))
                smtpd_proto(&state);
        }
        smtpd_chat_flush(&state);
    } else {
        msg_info("%s after %s from %s", smtpd_lost_why, smtpd_after(&state, after), state.namaddr);
        if (strcmp(smtpd_lost_why, "timeout") == 0) {
            vstream_clearerr(stream);
            vstream_fprintf(stream, "421 4.4.2 %s Error: timeout exceeded\r\n", var_myhostname);
            (void)vstream_fflush(stream);
        }
    }
    smtpd_chat_lost_hook = NULL;
    smtpd_sasl_disconnect(&state);
    smtpd_tls_disconnect(&state);
    if (smtpd_anvil_connected)
        (void)anvil_clnt_disconnect(smtpd_anvil, state.service, state.addr);
    smtpd_log_disconnect(&state);
    smtpd_state_free(&state);
    vstring_free(after);
}

/* Open tables while privileged. */
static void smtpd_pre_init(char *service, char **argv)
{
    (void)service;
    (void)argv;
    smtpd_check_init();
    smtpd_tls_pre_init();
    smtpd_sasl_pre_init();
    if (var_smtpd_forbidden_commands && *var_smtpd_forbidden_commands) {
        MATCH_LIST_FN fn = match_list_string;

        smtpd_forbidden = match_list_init("smtpd_forbidden_commands", MATCH_FLAG_NONE,
                                          var_smtpd_forbidden_commands, &fn, 1);
    }
    if (var_smtpd_discard_ehlo_keyword_address_maps && *var_smtpd_discard_ehlo_keyword_address_maps)
        smtpd_discard_maps = maps_create("smtpd_discard_ehlo_keyword_address_maps",
                                         var_smtpd_discard_ehlo_keyword_address_maps, 0);
    flush_site_init();
    smtpd_anvil = anvil_clnt_create();
    smtpd_addr_buf = vstring_alloc(100);
    smtpd_line_copy = vstring_alloc(100);
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {.pre_init = smtpd_pre_init};

    single_server_main(argc, argv, smtpd_service, &opts);
}
