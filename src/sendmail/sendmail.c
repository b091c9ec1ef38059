/*
 * sendmail - the Sendmail-compatible submission interface (sendmail(1),
 * queue.md 9.1); also mailq (the same as sendmail -bp).
 *
 * Submission: the message is read from standard input and handed, as a
 * record stream (record.h), to "$command_directory/postdrop -r", which
 * writes it into maildrop/ and wakes up pickup. sendmail is not set-id;
 * postdrop is. The stream is
 *
 *   ATTR envelope_id (-V), ATTR dsn_ret (-R), ATTR encoding (-B),
 *   ATTR verp_delimiters (-XV), FULL, FROM, ATTR trace_flags (-v, -bv),
 *   (DSN_NOTIFY? RCPT)*    command-line recipients
 *   MESG (NORM|CONT)*      the message: CRLF becomes LF, lines longer than
 *                          line_length_limit are cut into CONT pieces, a
 *                          leading "From " line is dropped
 *   XTRA (DSN_NOTIFY? RCPT)*   with -t: the recipients found in the
 *                          To/Cc/Bcc (or Resent-*) headers
 *   END
 *
 * Like Postfix 3.x, sendmail -t extracts the header recipients itself and
 * puts them in the extracted segment, so cleanup needs no extra flag and
 * "No recipient addresses found in message header" is reported at once
 * with exit status 64 (the maildrop file is never completed).
 *
 * Other modes exec the program that does the work with the same
 * configuration (MAIL_CONFIG): -bp/mailq and -q* run postqueue, -bs runs
 * "$daemon_directory/smtpd -S", -bi/-I run newaliases, -bd/-bl run
 * "postfix start".
 *
 * Errors: "sendmail: fatal: TEXT" on standard error and in the log (tag
 * postfix/sendmail); exit status from sysexits.h: 64 usage, 67 unknown
 * user, 69 a helper program missing, 75 temporary failure (postdrop
 * failed), 77 not allowed to submit.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "argv.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "maillog_client.h"
#include "msg.h"
#include "msg_stderr.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "record.h"
#include "sendmail_addr.h"
#include "string_list.h"
#include "vstream.h"
#include "vstring.h"

#define SENDMAIL_DSN_RET_FULL 1
#define SENDMAIL_DSN_RET_HDRS 2

enum sendmail_mode {
    SM_MODE_ENQUEUE,    /* -bm, default */
    SM_MODE_MAILQ,      /* -bp */
    SM_MODE_DAEMON,     /* -bd, -bl */
    SM_MODE_NEWALIAS,   /* -bi, -I */
    SM_MODE_USER,       /* -bs */
    SM_MODE_FLUSH,      /* -q */
    SM_MODE_FLUSH_SITE, /* -qRsite */
    SM_MODE_FLUSH_ID,   /* -qIid */
    SM_MODE_IGNORE,     /* -qINTERVAL */
};

typedef struct SENDMAIL_OPTS {
    enum sendmail_mode mode;
    const char *site_or_id;
    bool extract;         /* -t */
    bool dot;             /* a lone "." ends input (no -i) */
    int verbose;          /* -v count */
    bool verify;          /* -bv */
    const char *sender;   /* -f, -r */
    const char *fullname; /* -F */
    int notify;           /* -N bits, 0 = default */
    int dsn_ret;          /* -R */
    const char *envid;    /* -V */
    const char *encoding; /* -B */
    const char *verp;     /* -XV */
} SENDMAIL_OPTS;

static pid_t sendmail_postdrop_pid;

/* On a fatal error, make postdrop discard the half-written file. */
static void sendmail_cleanup(void)
{
    if (sendmail_postdrop_pid > 0) {
        (void)kill(sendmail_postdrop_pid, SIGTERM);
        sendmail_postdrop_pid = 0;
    }
}

/* -N: "never" or a list of success, delay, failure; 0 after a warning. */
static int sendmail_notify(const char *value)
{
    static const struct {
        const char *name;
        int bit;
    } names[] = {
        {"never", DSN_NOTIFY_NEVER},
        {"success", DSN_NOTIFY_SUCCESS},
        {"failure", DSN_NOTIFY_FAILURE},
        {"delay", DSN_NOTIFY_DELAY},
    };
    ARGV *words = argv_split(value, ", \t");
    int mask = 0;

    for (size_t i = 0; i < words->argc; i++) {
        size_t j;

        for (j = 0; j < ARRAY_LEN(names); j++)
            if (strcasecmp(words->argv[i], names[j].name) == 0)
                break;
        if (j == ARRAY_LEN(names)) {
            msg_warn("unknown DSN NOTIFY command value \"%s\" in \"%s\"", words->argv[i], value);
            mask = -1;
            break;
        }
        mask |= names[j].bit;
    }
    argv_free(words);
    if (mask == 0 || mask < 0 || ((mask & DSN_NOTIFY_NEVER) && mask != DSN_NOTIFY_NEVER)) {
        msg_warn("bad -N option value -- ignored");
        return 0;
    }
    return mask;
}

/* The login name of the invoking user. */
static const char *sendmail_login(void)
{
    struct passwd *pw = getpwuid(getuid());

    if (pw == NULL)
        msg_fatal_status(EX_NOUSER, "no login name found for user ID %lu", (unsigned long)getuid());
    return pw->pw_name;
}

/* The sender's full name: -F, else $NAME, else the GECOS name. */
static char *sendmail_fullname(const char *login)
{
    struct passwd *pw;
    const char *env = getenv("NAME");
    VSTRING *buf;
    const char *cp;

    if (env != NULL)
        return mystrdup(env);
    if ((pw = getpwuid(getuid())) == NULL || pw->pw_gecos == NULL)
        return mystrdup("");
    buf = vstring_alloc(50);
    for (cp = pw->pw_gecos; *cp && *cp != ','; cp++) {
        if (*cp == '&') {
            /* "&" stands for the login name, capitalised. */
            vstring_sprintf_append(buf, "%c%s", toupper((unsigned char)*login), login + 1);
        } else {
            vstring_memcat(buf, cp, 1);
        }
    }
    return vstring_export(buf);
}

/* -f/-r: the envelope sender in internal form ("" for <>). */
static char *sendmail_sender(const char *value)
{
    ARGV *addrs = argv_alloc(1);
    char *result;

    if (*value == 0 || strcmp(value, "<>") == 0) {
        result = mystrdup("");
    } else if (sendmail_addr_extract(addrs, value) == 1) {
        result = mystrdup(addrs->argv[0]);
    } else {
        msg_warn("-f option specified malformed sender: %s", value);
        result = mystrdup(value);
    }
    argv_free(addrs);
    return result;
}

/* Run another Postern program with our configuration; never returns. */
static NORETURN sendmail_exec(const char *dir, const char *prog, ARGV *args)
{
    VSTRING *path = vstring_alloc(100);
    ARGV *argv = argv_alloc(5);

    vstring_sprintf(path, "%s/%s", dir, prog);
    argv_add(argv, prog);
    for (size_t i = 0; args && i < args->argc; i++)
        argv_add(argv, args->argv[i]);
    if (msg_verbose)
        argv_insert(argv, 1, "-v");
    mail_conf_select(mail_conf_dir);
    execv(vstring_str(path), argv->argv);
    msg_fatal_status(errno == ENOENT ? EX_UNAVAILABLE : EX_OSERR, "execv %s: %m", vstring_str(path));
}

/* Start "postdrop -r" with a pipe to its standard input. */
static VSTREAM *sendmail_postdrop(const char *sender, long uid)
{
    VSTRING *path = vstring_alloc(100);
    int fds[2];

    vstring_sprintf(path, "%s/postdrop", var_command_directory);
    if (pipe(fds) < 0)
        msg_fatal_status(EX_OSERR, "pipe: %m");
    mail_conf_select(mail_conf_dir);
    fflush(NULL);
    switch (sendmail_postdrop_pid = fork()) {
    case -1:
        msg_fatal_status(EX_OSERR, "fork: %m");
    case 0:
        sendmail_postdrop_pid = 0;
        if (dup2(fds[0], 0) < 0)
            _exit(EX_OSERR);
        close(fds[0]);
        close(fds[1]);
        if (msg_verbose)
            execl(vstring_str(path), "postdrop", "-r", "-v", (char *)NULL);
        else
            execl(vstring_str(path), "postdrop", "-r", (char *)NULL);
        msg_fatal_status(EX_UNAVAILABLE, "%s(%ld): unable to execute %s: %m", sender, uid, vstring_str(path));
    default:
        close(fds[0]);
        vstring_free(path);
        return vstream_fdopen(fds[1], O_WRONLY);
    }
}

/* Write one record to postdrop; a failure means postdrop went away. */
static void sendmail_put(VSTREAM *dst, int type, const char *data, size_t len, const char *sender, long uid)
{
    if (rec_put(dst, type, data, len) == REC_TYPE_ERROR)
        msg_fatal_status(EX_TEMPFAIL, "%s(%ld): error writing queue file: %s", sender, uid,
                         strerror(vstream_errno(dst) ? vstream_errno(dst) : EPIPE));
}

/* Recipients, each with its DSN NOTIFY record when -N was given. */
static void sendmail_put_rcpts(VSTREAM *dst, const ARGV *rcpt, const SENDMAIL_OPTS *opts, const char *sender,
                               long uid)
{
    char num[20];

    for (size_t i = 0; i < rcpt->argc; i++) {
        if (opts->notify) {
            snprintf(num, sizeof(num), "%d", opts->notify);
            sendmail_put(dst, REC_TYPE_DSN_NOTIFY, num, strlen(num), sender, uid);
        }
        sendmail_put(dst, REC_TYPE_RCPT, rcpt->argv[i], strlen(rcpt->argv[i]), sender, uid);
    }
}

/* Copy standard input as content records; returns the header recipients. */
static void sendmail_copy(VSTREAM *dst, SENDMAIL_HDR *hdr, const SENDMAIL_OPTS *opts, const char *sender,
                          long uid)
{
    VSTRING *buf = vstring_alloc(var_line_length_limit + 2);
    bool at_start = true;
    bool first = true;
    bool skipping = false;
    int status;

    while ((status = vstream_fgets_limit(buf, vstream_in, (size_t)var_line_length_limit)) !=
           VSTREAM_LINE_EOF) {
        char *line = vstring_str(buf);
        size_t len = VSTRING_LEN(buf);
        bool complete = status == VSTREAM_LINE_OK || status == VSTREAM_LINE_PARTIAL;

        if (status == VSTREAM_LINE_OK)
            len--; /* the newline */
        if (status == VSTREAM_LINE_LIMIT && len > 0 && line[len - 1] == '\r') {
            int ch = vstream_getc(vstream_in);

            /* A CR cut off from its LF by the limit still ends the line. */
            if (ch == '\n')
                complete = true;
            else if (ch != VSTREAM_EOF)
                vstream_ungetc(ch, vstream_in);
        }
        if (complete && len > 0 && line[len - 1] == '\r')
            len--;
        if (at_start && first && len >= 5 && strncmp(line, "From ", 5) == 0)
            skipping = true; /* a UNIX mailbox From_ line is not content */
        first = false;
        if (skipping) {
            skipping = !complete;
            at_start = complete;
            continue;
        }
        if (at_start && complete && opts->dot && len == 1 && line[0] == '.')
            break;
        if (hdr)
            sendmail_hdr_line(hdr, line, len, complete);
        sendmail_put(dst, complete ? REC_TYPE_NORM : REC_TYPE_CONT, line, len, sender, uid);
        at_start = complete;
    }
    if (vstream_ferror(vstream_in))
        msg_fatal_status(EX_TEMPFAIL, "%s(%ld): error reading input: %s", sender, uid,
                         strerror(vstream_errno(vstream_in)));
    vstring_free(buf);
}

/* The probe message of sendmail -bv (standard input is not read). */
static void sendmail_probe(VSTREAM *dst, const ARGV *rcpt, const char *sender, long uid)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "From: %s", sender);
    sendmail_put(dst, REC_TYPE_NORM, vstring_str(buf), VSTRING_LEN(buf), sender, uid);
    sendmail_put(dst, REC_TYPE_NORM, "Subject: probe", 14, sender, uid);
    sendmail_put(dst, REC_TYPE_CONT, "To:", 3, sender, uid);
    for (size_t i = 0; i < rcpt->argc; i++) {
        vstring_sprintf(buf, "\t%s%s", rcpt->argv[i], i + 1 < rcpt->argc ? "," : "");
        sendmail_put(dst, REC_TYPE_NORM, vstring_str(buf), VSTRING_LEN(buf), sender, uid);
    }
    vstring_free(buf);
}

/* Submit one message through postdrop; returns the exit status. */
static int sendmail_enqueue(const SENDMAIL_OPTS *opts, const char *sender, const char *fullname, ARGV *rcpt)
{
    long uid = (long)getuid();
    SENDMAIL_HDR *hdr = opts->extract ? sendmail_hdr_alloc() : NULL;
    VSTREAM *dst;
    VSTRING *buf = vstring_alloc(100);
    int status;
    int trace = (opts->verify ? DEL_REQ_FLAG_MTA_VRFY : 0) | (opts->verbose ? DEL_REQ_FLAG_RECORD : 0);

    dst = sendmail_postdrop(sender, uid);
    if (opts->envid) {
        vstring_sprintf(buf, "%s=%s", MAIL_ATTR_DSN_ENVID, opts->envid);
        sendmail_put(dst, REC_TYPE_ATTR, vstring_str(buf), VSTRING_LEN(buf), sender, uid);
    }
    if (opts->dsn_ret) {
        vstring_sprintf(buf, "%s=%d", MAIL_ATTR_DSN_RET, opts->dsn_ret);
        sendmail_put(dst, REC_TYPE_ATTR, vstring_str(buf), VSTRING_LEN(buf), sender, uid);
    }
    if (opts->encoding) {
        vstring_sprintf(buf, "%s=%s", MAIL_ATTR_ENCODING, opts->encoding);
        sendmail_put(dst, REC_TYPE_ATTR, vstring_str(buf), VSTRING_LEN(buf), sender, uid);
    }
    if (opts->verp) {
        vstring_sprintf(buf, "verp_delimiters=%s", opts->verp);
        sendmail_put(dst, REC_TYPE_ATTR, vstring_str(buf), VSTRING_LEN(buf), sender, uid);
    }
    sendmail_put(dst, REC_TYPE_FULL, fullname, strlen(fullname), sender, uid);
    sendmail_put(dst, REC_TYPE_FROM, sender, strlen(sender), sender, uid);
    if (trace) {
        vstring_sprintf(buf, "%s=%d", MAIL_ATTR_TRACE_FLAGS, trace);
        sendmail_put(dst, REC_TYPE_ATTR, vstring_str(buf), VSTRING_LEN(buf), sender, uid);
    }
    sendmail_put_rcpts(dst, rcpt, opts, sender, uid);
    sendmail_put(dst, REC_TYPE_MESG, "", 0, sender, uid);
    if (opts->verify)
        sendmail_probe(dst, rcpt, sender, uid);
    else
        sendmail_copy(dst, hdr, opts, sender, uid);
    sendmail_put(dst, REC_TYPE_XTRA, "", 0, sender, uid);
    if (hdr) {
        sendmail_hdr_done(hdr);
        if (rcpt->argc + hdr->rcpt->argc == 0)
            msg_fatal_status(EX_USAGE, "%s(%ld): No recipient addresses found in message header", sender,
                             uid);
        sendmail_put_rcpts(dst, hdr->rcpt, opts, sender, uid);
        sendmail_hdr_free(hdr);
    }
    sendmail_put(dst, REC_TYPE_END, "", 0, sender, uid);
    if (vstream_fclose(dst) != 0)
        msg_fatal_status(EX_TEMPFAIL, "%s(%ld): error writing queue file: %m", sender, uid);

    /* postdrop exits 0 only after the file is on stable storage. */
    while (waitpid(sendmail_postdrop_pid, &status, 0) < 0)
        if (errno != EINTR)
            msg_fatal_status(EX_OSERR, "waitpid: %m");
    sendmail_postdrop_pid = 0;
    vstring_free(buf);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (trace)
            vstream_fprintf(vstream_out, "Mail Delivery Status Report will be mailed to <%s>.\n", sender);
        return 0;
    }
    if (WIFSIGNALED(status))
        msg_fatal_status(EX_TEMPFAIL, "%s(%ld): error writing queue file: postdrop killed by signal %d",
                         sender, uid, WTERMSIG(status));
    msg_fatal_status(EX_TEMPFAIL, "%s(%ld): error writing queue file: postdrop exit status %d", sender, uid,
                     WEXITSTATUS(status));
}

/* -q: flush, -qRsite, -qIid, -qINTERVAL (ignored). */
static void sendmail_queue_opt(SENDMAIL_OPTS *opts, const char *arg)
{
    if (arg == NULL || *arg == 0) {
        opts->mode = SM_MODE_FLUSH;
    } else if (isdigit((unsigned char)*arg)) {
        opts->mode = SM_MODE_IGNORE;
    } else if (*arg == 'R') {
        if (arg[1] == 0)
            msg_fatal_status(EX_USAGE, "specify: -qRsitename");
        opts->mode = SM_MODE_FLUSH_SITE;
        opts->site_or_id = arg + 1;
    } else if (*arg == 'I') {
        if (arg[1] == 0)
            msg_fatal_status(EX_USAGE, "specify: -qIqueueid");
        opts->mode = SM_MODE_FLUSH_ID;
        opts->site_or_id = arg + 1;
    } else {
        msg_fatal_status(EX_USAGE, "-q%c is not implemented", *arg);
    }
}

/* -b MODE. */
static void sendmail_b_opt(SENDMAIL_OPTS *opts, const char *arg)
{
    switch (*arg) {
    case 'm':
        opts->mode = SM_MODE_ENQUEUE;
        break;
    case 'v':
        opts->mode = SM_MODE_ENQUEUE;
        opts->verify = true;
        break;
    case 'p':
        opts->mode = SM_MODE_MAILQ;
        break;
    case 'd':
    case 'l':
        opts->mode = SM_MODE_DAEMON;
        break;
    case 'i':
        opts->mode = SM_MODE_NEWALIAS;
        break;
    case 's':
        opts->mode = SM_MODE_USER;
        break;
    case 'h':
    case 'H':
        break; /* host status: ignored */
    default:
        msg_fatal_status(EX_USAGE, "unsupported: -b%c", *arg ? *arg : ' ');
    }
}

/* Parse the command line into OPTS; returns the index of the first recipient. */
static int sendmail_options(int argc, char **argv, SENDMAIL_OPTS *opts, const char **config)
{
    int ch;

    opterr = 0;
    while ((ch = getopt(argc, argv, ":A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:q::r:tvx")) != -1) {
        switch (ch) {
        case 'B':
            if (strcmp(optarg, "8BITMIME") == 0)
                opts->encoding = "8bitmime";
            else if (strcmp(optarg, "7BIT") == 0)
                opts->encoding = "7bit";
            else
                msg_fatal_status(EX_USAGE, "-B option needs 8BITMIME or 7BIT");
            break;
        case 'C':
            *config = optarg;
            break;
        case 'F':
            opts->fullname = optarg;
            break;
        case 'I':
            opts->mode = SM_MODE_NEWALIAS;
            break;
        case 'N':
            opts->notify = sendmail_notify(optarg);
            break;
        case 'R':
            if (strcasecmp(optarg, "full") == 0)
                opts->dsn_ret = SENDMAIL_DSN_RET_FULL;
            else if (strcasecmp(optarg, "hdrs") == 0)
                opts->dsn_ret = SENDMAIL_DSN_RET_HDRS;
            else
                msg_fatal_status(EX_USAGE, "invalid -R option value: %s", optarg);
            break;
        case 'V':
            for (const char *cp = optarg; *cp; cp++)
                if (!isprint((unsigned char)*cp) || *cp == '+' || *cp == '=')
                    msg_fatal_status(EX_USAGE, "invalid -V option value: %s", optarg);
            if (*optarg == 0 || strlen(optarg) > 100)
                msg_fatal_status(EX_USAGE, "invalid -V option value: %s", optarg);
            opts->envid = optarg;
            break;
        case 'X':
            if (*optarg != 'V')
                msg_fatal_status(EX_USAGE, "unsupported: -X%c", *optarg);
            opts->verp = optarg[1] ? optarg + 1 : var_default_verp_delimiters;
            if (strlen(opts->verp) != 2)
                msg_fatal_status(EX_USAGE, "-V requires two characters from %s", var_verp_delimiter_filter);
            break;
        case 'b':
            sendmail_b_opt(opts, optarg);
            break;
        case 'f':
        case 'r':
            opts->sender = optarg;
            break;
        case 'i':
            opts->dot = false;
            break;
        case 'o':
            if (*optarg == 'i')
                opts->dot = false; /* -oi; -o7 -o8 -om -ox... are ignored */
            break;
        case 'q':
            sendmail_queue_opt(opts, optarg);
            break;
        case 't':
            opts->extract = true;
            break;
        case 'v':
            if (opts->verbose++ > 0)
                msg_verbose++;
            break;
        case ':':
            msg_fatal_status(EX_USAGE, "option requires an argument -- '%c'", optopt);
        case '?':
            msg_fatal_status(EX_USAGE, "usage: sendmail [options]");
        default:
            /* -A -G -L -O -U -c -e -h -m -n -p -x: accepted and ignored. */
            break;
        }
    }
    return optind;
}

int main(int argc, char **argv)
{
    SENDMAIL_OPTS opts = {.mode = SM_MODE_ENQUEUE, .dot = true};
    const char *config = NULL;
    const char *progname = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    const char *login;
    char *sender;
    char *fullname;
    ARGV *rcpt;
    ARGV *args;
    STRING_LIST *submit;
    bool allowed;
    int lookup_error;
    int first;
    int status;

    mail_process_name = "sendmail";
    msg_stderr_init("sendmail");
    if (strcmp(progname, "mailq") == 0)
        opts.mode = SM_MODE_MAILQ;
    else if (strcmp(progname, "newaliases") == 0)
        opts.mode = SM_MODE_NEWALIAS;

    /* Options refer to parameters (-XV): read main.cf first. */
    for (int i = 1; i + 1 < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-C") == 0)
            config = argv[i + 1];
        else if (strncmp(argv[i], "-C", 2) == 0)
            config = argv[i] + 2;
    }
    if (config)
        mail_conf_select(config);
    mail_conf_read();
    mail_params_init();
    maillog_client_init("sendmail", MAILLOG_CLIENT_FLAG_NONE);
    msg_stderr_init("sendmail");
    msg_cleanup(sendmail_cleanup);
    signal(SIGPIPE, SIG_IGN);
    if (getenv("MAIL_VERBOSE"))
        msg_verbose++;

    first = sendmail_options(argc, argv, &opts, &config);
    args = argv_alloc(3);
    switch (opts.mode) {
    case SM_MODE_IGNORE:
        argv_free(args);
        return 0;
    case SM_MODE_MAILQ:
        if (first < argc)
            msg_fatal_status(EX_USAGE, "display queue mode requires no recipient");
        argv_add(args, "-p");
        sendmail_exec(var_command_directory, "postqueue", args);
    case SM_MODE_FLUSH:
        if (first < argc)
            msg_fatal_status(EX_USAGE, "flush queue mode requires no recipient");
        argv_add(args, "-f");
        sendmail_exec(var_command_directory, "postqueue", args);
    case SM_MODE_FLUSH_SITE:
        if (first < argc)
            msg_fatal_status(EX_USAGE, "flush site requires no recipient");
        argv_add(args, "-s");
        argv_add(args, opts.site_or_id);
        sendmail_exec(var_command_directory, "postqueue", args);
    case SM_MODE_FLUSH_ID:
        if (first < argc)
            msg_fatal_status(EX_USAGE, "flush queue_id requires no recipient");
        argv_add(args, "-i");
        argv_add(args, opts.site_or_id);
        sendmail_exec(var_command_directory, "postqueue", args);
    case SM_MODE_DAEMON:
        argv_add(args, "start");
        sendmail_exec(var_command_directory, "postfix", args);
    case SM_MODE_NEWALIAS:
        sendmail_exec(var_command_directory, "newaliases", args);
    case SM_MODE_USER:
        argv_add(args, "-S");
        sendmail_exec(var_daemon_directory, "smtpd", args);
    case SM_MODE_ENQUEUE:
        break;
    }

    login = sendmail_login();
    sender = opts.sender ? sendmail_sender(opts.sender) : mystrdup(login);
    fullname = opts.fullname ? mystrdup(opts.fullname) : sendmail_fullname(login);
    if (opts.verify) {
        if (opts.extract)
            msg_fatal_status(EX_USAGE, "-t option cannot be used with -bv");
        if (opts.notify)
            msg_fatal_status(EX_USAGE, "-N option cannot be used with -bv");
        if (opts.dsn_ret)
            msg_fatal_status(EX_USAGE, "-R option cannot be used with -bv");
        if (opts.verbose)
            msg_fatal_status(EX_USAGE, "-v option cannot be used with -bv");
    }
    if (opts.verp && *sender == 0)
        msg_fatal_status(EX_USAGE, "%s(%ld): -V option requires non-null sender address", sender,
                         (long)getuid());

    submit = string_list_init("authorized_submit_users", var_authorized_submit_users);
    allowed = string_list_match(submit, login);
    lookup_error = submit->error;
    string_list_free(submit);
    if (!allowed) {
        if (lookup_error)
            msg_fatal_status(EX_TEMPFAIL, "%s(%ld): authorized_submit_users lookup error", sender,
                             (long)getuid());
        msg_fatal_status(EX_NOPERM, "User %s(%ld) is not allowed to submit mail", login, (long)getuid());
    }

    rcpt = argv_alloc(argc - first + 1);
    for (int i = first; i < argc; i++)
        if (sendmail_addr_extract(rcpt, argv[i]) == 0 && *argv[i] == 0)
            argv_add(rcpt, "");
    if (rcpt->argc == 0 && !opts.extract)
        msg_fatal_status(
            EX_USAGE,
            "%s(%ld): Recipient addresses must be specified on the command line or via the -t option", sender,
            (long)getuid());
    status = sendmail_enqueue(&opts, sender, fullname, rcpt);
    argv_free(rcpt);
    argv_free(args);
    myfree(sender);
    myfree(fullname);
    return status;
}
