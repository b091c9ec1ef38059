/*
 * pipe_command_test - unit tests for pipe_command: the status and text for
 * exit 0 with and without output, every sysexits code, an enhanced status
 * in the output, signals, other exit codes, the time limit, a command that
 * does not read a large message, a command that leaves a background child
 * behind, the exact bytes on the command's input, shell metacharacters,
 * the environment, the working directory, commands that cannot start,
 * corrupt queue files, root, and the output cap.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "dsn.h"
#include "mail_copy.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "pipe_command.h"
#include "rec_type.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

static char test_dir[] = "/tmp/pipe_command_test.XXXXXX";
static VSTRING *queue_path;

/* Ignore warnings (command start failures are logged). */
static void test_msg(enum msg_level level UNUSED, const char *text UNUSED)
{
}

/* A queue file with MESG, lines N records of text (or "Subject: t", "", "body"), XTRA unless corrupt. */
static VSTREAM *queue_file(int lines, bool corrupt, off_t *mesg)
{
    VSTREAM *fp = vstream_fopen(vstring_str(queue_path), O_RDWR | O_CREAT | O_TRUNC, 0600);

    assert_non_null(fp);
    assert_int_equal(rec_fputs(fp, REC_TYPE_FROM, "s@example.com"), REC_TYPE_FROM);
    *mesg = vstream_ftell(fp);
    assert_int_equal(rec_fputs(fp, REC_TYPE_MESG, ""), REC_TYPE_MESG);
    if (lines == 0) {
        rec_fputs(fp, REC_TYPE_NORM, "Subject: t");
        rec_fputs(fp, REC_TYPE_NORM, "");
        rec_fputs(fp, REC_TYPE_NORM, ".body");
    }
    for (int i = 0; i < lines; i++)
        rec_fputs(
            fp, REC_TYPE_NORM,
            "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890");
    if (!corrupt)
        rec_fputs(fp, REC_TYPE_XTRA, "");
    rec_fputs(fp, REC_TYPE_END, "");
    assert_int_equal(vstream_fflush(fp), 0);
    return fp;
}

/* Write an executable shell script into the scratch directory; returns its path (static). */
static const char *script(const char *name, const char *body)
{
    static VSTRING *path;

    if (path == NULL)
        path = vstring_alloc(100);
    vstring_sprintf(path, "%s/%s", test_dir, name);
    VSTREAM *fp = vstream_fopen(vstring_str(path), O_WRONLY | O_CREAT | O_TRUNC, 0755);

    assert_non_null(fp);
    vstream_fprintf(fp, "#!/bin/sh\n%s\n", body);
    assert_int_equal(vstream_fclose(fp), 0);
    return vstring_str(path);
}

static const struct result_case {
    const char *name;
    const char *body; /* the script; run as "SCRIPT" with argv */
    int lines;        /* message size (0: three short lines) */
    int time_limit;
    int status;
    const char *dsn;
    const char *reason; /* "%s" is replaced by the command */
} result_cases[] = {
    {"exit 0 silent", "cat >/dev/null; exit 0", 0, 10, PIPE_STAT_OK, "2.0.0", ""},
    {"exit 0 with output", "cat >/dev/null; printf 'line one\\n\\tline\\002two\\n\\n'", 0, 10, PIPE_STAT_OK,
     "2.0.0", "line one  line_two"},
    {"tempfail with output", "echo spool full; exit 75", 0, 10, PIPE_STAT_DEFER, "4.3.0",
     "temporary failure. Command output: spool full"},
    {"nouser without output", "exit 67", 0, 10, PIPE_STAT_BOUNCE, "5.1.1", "user unknown"},
    {"enhanced status bounce", "echo '5.1.1 no such user'; exit 1", 0, 10, PIPE_STAT_BOUNCE, "5.1.1",
     "no such user"},
    {"enhanced status defer", "echo '4.2.2 mailbox full' >&2; exit 75", 0, 10, PIPE_STAT_DEFER, "4.2.2",
     "mailbox full"},
    {"enhanced status ignored on success", "echo '5.1.1 no such user'", 0, 10, PIPE_STAT_OK, "2.0.0",
     "5.1.1 no such user"},
    {"no status class 2", "echo '2.0.0 fine'; exit 1", 0, 10, PIPE_STAT_BOUNCE, "5.3.0",
     "Command died with status 1: \"%s\". Command output: 2.0.0 fine"},
    {"other status", "exit 3", 0, 10, PIPE_STAT_BOUNCE, "5.3.0", "Command died with status 3: \"%s\""},
    {"signal", "kill -TERM $$", 0, 10, PIPE_STAT_DEFER, "4.3.0", "Command died with signal 15: \"%s\""},
    {"time limit", "sleep 30", 0, 1, PIPE_STAT_BOUNCE, "5.3.0", "Command time limit exceeded: \"%s\""},
    {"time limit while writing", "sleep 30", 20000, 1, PIPE_STAT_BOUNCE, "5.3.0",
     "Command time limit exceeded: \"%s\""},
    {"does not read a large message", "exit 0", 20000, 20, PIPE_STAT_OK, "2.0.0", ""},
    {"does not read, tempfail", "exit 75", 20000, 20, PIPE_STAT_DEFER, "4.3.0", "temporary failure"},
    {"reads a large message", "wc -l", 20000, 20, PIPE_STAT_OK, "2.0.0", "20002"},
    {"background child keeps output open", "sleep 8 & echo started", 0, 3, PIPE_STAT_OK, "2.0.0", "started"},
    {"output before reading",
     "i=0; while [ $i -lt 3000 ]; do echo 0123456789012345678901234; i=$((i+1)); done; "
     "cat >/dev/null; exit 75",
     20000, 20, PIPE_STAT_DEFER, "4.3.0", NULL},
};

/* The table: each result mapping, with the exact reason. */
static void test_results(void **state UNUSED)
{
    DSN_BUF *why = dsb_create();
    VSTRING *expect = vstring_alloc(100);
    VSTRING *out = vstring_alloc(100);
    off_t mesg;

    for (size_t i = 0; i < ARRAY_LEN(result_cases); i++) {
        const struct result_case *c = &result_cases[i];
        const char *path = script("cmd", c->body);
        char *const argv[] = {(char *)path, NULL};
        PIPE_COMMAND_ATTR attr = PIPE_COMMAND_ATTR_INIT;
        VSTREAM *src = queue_file(c->lines, false, &mesg);

        attr.argv = argv;
        attr.time_limit = c->time_limit;
        attr.sender = "s@example.com";
        attr.copy_flags = MAIL_COPY_FROM | MAIL_COPY_RETURN_PATH;
        attr.out = out;
        int status = pipe_command(src, mesg, why, &attr);

        vstream_fclose(src);
        if (status != c->status)
            fail_msg("case %s: status %d, expected %d (%s %s)", c->name, status, c->status,
                     vstring_str(why->status), vstring_str(why->reason));
        assert_string_equal(vstring_str(why->status), c->dsn);
        if (c->reason) {
            const char *hole = strstr(c->reason, "%s");

            vstring_strcpy(expect, c->reason);
            if (hole) {
                vstring_truncate(expect, (size_t)(hole - c->reason));
                vstring_sprintf_append(expect, "%s%s", path, hole + 2);
            }
            if (strcmp(vstring_str(why->reason), vstring_str(expect)) != 0)
                fail_msg("case %s: reason \"%s\", expected \"%s\"", c->name, vstring_str(why->reason),
                         vstring_str(expect));
        } else {
            /* Output capped at 2000 bytes, then the text. */
            assert_int_equal(VSTRING_LEN(out), 2000);
            assert_non_null(
                strstr(vstring_str(why->reason), "temporary failure. Command output: 0123456789"));
        }
        if (status != PIPE_STAT_OK)
            assert_string_equal(vstring_str(why->dtype), "x-unix");
    }
    vstring_free(out);
    vstring_free(expect);
    dsb_free(why);
}

/* Every sysexits code: its status, text, and defer only for 71 and 75. */
static void test_sysexits(void **state UNUSED)
{
    static const struct {
        int code;
        const char *dsn;
        const char *text;
    } rows[] = {
        {64, "5.3.0", "command line usage error"},  {65, "5.6.0", "data format error"},
        {66, "5.3.0", "cannot open input"},         {67, "5.1.1", "user unknown"},
        {68, "5.1.2", "host name unknown"},         {69, "5.3.0", "service unavailable"},
        {70, "5.3.0", "internal software error"},   {71, "4.3.0", "system resource problem"},
        {72, "5.3.0", "critical OS file missing"},  {73, "5.2.0", "can't create user output file"},
        {74, "5.3.0", "input/output error"},        {75, "4.3.0", "temporary failure"},
        {76, "5.5.0", "remote error in protocol"},  {77, "5.7.0", "permission denied"},
        {78, "5.3.5", "local configuration error"},
    };
    DSN_BUF *why = dsb_create();
    const char *path = script("exit", "cat >/dev/null; exit $1");
    VSTRING *arg = vstring_alloc(10);
    off_t mesg;

    assert_null(sys_exits_detail(63));
    assert_null(sys_exits_detail(79));
    assert_null(sys_exits_detail(0));
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        const SYS_EXITS_DETAIL *dp = sys_exits_detail(rows[i].code);

        assert_non_null(dp);
        assert_int_equal(dp->code, rows[i].code);
        assert_string_equal(dp->dsn, rows[i].dsn);
        assert_string_equal(dp->text, rows[i].text);

        vstring_sprintf(arg, "%d", rows[i].code);
        char *const argv[] = {(char *)path, vstring_str(arg), NULL};
        PIPE_COMMAND_ATTR attr = PIPE_COMMAND_ATTR_INIT;
        VSTREAM *src = queue_file(0, false, &mesg);

        attr.argv = argv;
        attr.time_limit = 10;
        assert_int_equal(pipe_command(src, mesg, why, &attr),
                         rows[i].dsn[0] == '4' ? PIPE_STAT_DEFER : PIPE_STAT_BOUNCE);
        assert_string_equal(vstring_str(why->status), rows[i].dsn);
        assert_string_equal(vstring_str(why->reason), rows[i].text);
        vstream_fclose(src);
    }
    vstring_free(arg);
    dsb_free(why);
}

/* The command's input: envelope lines and content per copy_flags and eol. */
static void test_input(void **state UNUSED)
{
    static const struct {
        int flags;
        const char *eol;
        const char *expect;
    } cases[] = {
        {0, "\n", "Subject: t\n\n.body\n"},
        {MAIL_COPY_RETURN_PATH | MAIL_COPY_ORIG_RCPT | MAIL_COPY_DELIVERED | MAIL_COPY_DOT | MAIL_COPY_BLANK,
         "\r\n",
         "Return-Path: <>\r\nX-Original-To: Orig@x\r\nDelivered-To: rcpt@x\r\nSubject: "
         "t\r\n\r\n..body\r\n\r\n"},
        /* TOFILE makes no sense on a pipe and is ignored. */
        {MAIL_COPY_TOFILE | MAIL_COPY_DELIVERED, "\n", "Delivered-To: rcpt@x\nSubject: t\n\n.body\n"},
    };
    DSN_BUF *why = dsb_create();
    VSTRING *saved = vstring_sprintf(vstring_alloc(100), "%s/input", test_dir);
    VSTRING *body = vstring_sprintf(vstring_alloc(100), "cat > '%s'", vstring_str(saved));
    const char *path = script("save", vstring_str(body));
    off_t mesg;

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *const argv[] = {(char *)path, NULL};
        PIPE_COMMAND_ATTR attr = PIPE_COMMAND_ATTR_INIT;
        VSTREAM *src = queue_file(0, false, &mesg);

        attr.argv = argv;
        attr.time_limit = 10;
        attr.sender = "";
        attr.orig_rcpt = "Orig@x";
        attr.delivered = "RCPT@x";
        attr.copy_flags = cases[i].flags;
        attr.eol = cases[i].eol;
        assert_int_equal(pipe_command(src, mesg, why, &attr), PIPE_STAT_OK);
        vstream_fclose(src);

        VSTREAM *fp = vstream_fopen(vstring_str(saved), O_RDONLY, 0);
        char buf[1000];
        size_t n = vstream_fread(fp, buf, sizeof(buf) - 1);

        buf[n] = 0;
        vstream_fclose(fp);
        assert_string_equal(buf, cases[i].expect);
    }
    vstring_free(body);
    vstring_free(saved);
    dsb_free(why);
}

/* Command lines: direct, through /bin/sh -c, through local_command_shell; argv joined for messages. */
static void test_command_line(void **state UNUSED)
{
    static const struct {
        const char *command;
        const char *shell;
        int status;
        const char *reason;
    } cases[] = {
        {"/bin/echo  plain   words", NULL, PIPE_STAT_OK, "plain words"},
        {"/bin/echo abc | /usr/bin/tr a-c A-C", NULL, PIPE_STAT_OK, "ABC"},
        {"echo $((1+2)); exit 0", "", PIPE_STAT_OK, "3"},
        {"echo via shell", "/bin/sh", PIPE_STAT_OK, "via shell"},
        {"echo \"$0\"", "/bin/sh -c", PIPE_STAT_OK, "/bin/sh"},
        {"/bin/false x", NULL, PIPE_STAT_BOUNCE, "Command died with status 1: \"/bin/false x\""},
        {"exit 9", NULL, PIPE_STAT_BOUNCE, "Command died with status 9: \"exit 9\""},
        {"/nonexistent/cmd", NULL, PIPE_STAT_DEFER,
         "cannot execute \"/nonexistent/cmd\": No such file or directory"},
        {"", NULL, PIPE_STAT_BOUNCE, "empty command"},
    };
    DSN_BUF *why = dsb_create();
    off_t mesg;

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        PIPE_COMMAND_ATTR attr = PIPE_COMMAND_ATTR_INIT;
        VSTREAM *src = queue_file(0, false, &mesg);

        attr.command = cases[i].command;
        attr.shell = cases[i].shell;
        attr.time_limit = 10;
        int status = pipe_command(src, mesg, why, &attr);

        vstream_fclose(src);
        if (status != cases[i].status || strcmp(vstring_str(why->reason), cases[i].reason) != 0)
            fail_msg("case \"%s\": status %d reason \"%s\"", cases[i].command, status,
                     vstring_str(why->reason));
    }

    /* argv: the message names the words joined by spaces. */
    char *const argv[] = {"/bin/sh", "-c", "exit 3", NULL};
    PIPE_COMMAND_ATTR attr = PIPE_COMMAND_ATTR_INIT;
    VSTREAM *src = queue_file(0, false, &mesg);

    attr.argv = argv;
    assert_int_equal(pipe_command(src, mesg, why, &attr), PIPE_STAT_BOUNCE);
    assert_string_equal(vstring_str(why->reason), "Command died with status 3: \"/bin/sh -c exit 3\"");
    vstream_fclose(src);
    dsb_free(why);
}

/* Environment: only PATH, the export_environment names, and attr->env; working directory. */
static void test_env_cwd(void **state UNUSED)
{
    DSN_BUF *why = dsb_create();
    VSTRING *out = vstring_alloc(100);
    VSTRING *expect = vstring_alloc(100);
    VSTRING *qdir = vstring_sprintf(vstring_alloc(100), "%s/queue", test_dir);
    off_t mesg;

    setenv("TZ", "UTC", 1);
    setenv("MAIL_CONFIG", "/etc/x", 1);
    unsetenv("LANG");
    setenv("SECRET", "leak", 1);
    var_export_environment = "TZ MAIL_CONFIG, LANG";
    const char *const env[] = {"RECIPIENT=r@x", "HOME=/h", NULL};
    char *const env_argv[] = {"/usr/bin/env", NULL};
    PIPE_COMMAND_ATTR attr = PIPE_COMMAND_ATTR_INIT;
    VSTREAM *src = queue_file(0, false, &mesg);

    attr.argv = env_argv;
    attr.env = env;
    attr.out = out;
    assert_int_equal(pipe_command(src, mesg, why, &attr), PIPE_STAT_OK);
    vstream_fclose(src);
    assert_string_equal(vstring_str(out),
                        "TZ=UTC MAIL_CONFIG=/etc/x PATH=" _PATH_DEFPATH " RECIPIENT=r@x HOME=/h");
    assert_string_equal(vstring_str(why->reason), vstring_str(out));

    /* cwd: given, else the queue directory. */
    assert_int_equal(mkdir(vstring_str(qdir), 0700), 0);
    var_queue_directory = vstring_str(qdir);
    char *const pwd_argv[] = {"/bin/pwd", NULL};

    for (int i = 0; i < 3; i++) {
        attr = (PIPE_COMMAND_ATTR)PIPE_COMMAND_ATTR_INIT;
        attr.argv = pwd_argv;
        attr.out = out;
        attr.cwd = i == 0 ? test_dir : i == 1 ? NULL : "/nonexistent";
        src = queue_file(0, false, &mesg);
        int status = pipe_command(src, mesg, why, &attr);

        vstream_fclose(src);
        if (i < 2) {
            assert_int_equal(status, PIPE_STAT_OK);
            assert_string_equal(vstring_str(out), i == 0 ? test_dir : vstring_str(qdir));
        } else {
            assert_int_equal(status, PIPE_STAT_DEFER);
            assert_string_equal(vstring_str(why->status), "4.3.0");
            assert_string_equal(vstring_str(why->reason),
                                "cannot change directory to \"/nonexistent\": No such file or directory");
        }
    }
    var_queue_directory = test_dir;
    vstring_free(qdir);
    vstring_free(expect);
    vstring_free(out);
    dsb_free(why);
}

/* A corrupt queue file: PIPE_STAT_CORRUPT, even when the command would succeed; root refused; uid/gid used.
 */
static void test_corrupt_root(void **state UNUSED)
{
    DSN_BUF *why = dsb_create();
    VSTRING *marker = vstring_sprintf(vstring_alloc(100), "%s/ran", test_dir);
    char *const argv[] = {"/bin/sh", "-c", "cat >/dev/null; exit 0", NULL};
    PIPE_COMMAND_ATTR attr = PIPE_COMMAND_ATTR_INIT;
    off_t mesg;
    VSTREAM *src = queue_file(3, true, &mesg);

    attr.argv = argv;
    int status = pipe_command(src, mesg, why, &attr);

    if (status != PIPE_STAT_CORRUPT)
        fail_msg("status %d: %s %s", status, vstring_str(why->status), vstring_str(why->reason));
    assert_string_equal(vstring_str(why->status), "5.3.0");
    assert_string_equal(vstring_str(why->reason), "queue file is corrupt");
    vstream_fclose(src);

    src = queue_file(0, false, &mesg);
    attr.uid = 0;
    attr.gid = 0;
    assert_int_equal(pipe_command(src, mesg, why, &attr), PIPE_STAT_DEFER);
    assert_string_equal(vstring_str(why->status), "4.3.0");
    vstream_fclose(src);

    /* As root, the command runs with the given user and group. */
    if (geteuid() == 0) {
        char *const id_argv[] = {"/bin/sh", "-c", "echo $(id -u) $(id -g) $(id -G)", NULL};
        VSTRING *out = vstring_alloc(100);

        src = queue_file(0, false, &mesg);
        attr = (PIPE_COMMAND_ATTR)PIPE_COMMAND_ATTR_INIT;
        attr.argv = id_argv;
        attr.uid = 65534;
        attr.gid = 65534;
        attr.out = out;
        attr.cwd = "/";
        assert_int_equal(pipe_command(src, mesg, why, &attr), PIPE_STAT_OK);
        assert_string_equal(vstring_str(out), "65534 65534 65534");
        vstream_fclose(src);
        vstring_free(out);
    }
    vstring_free(marker);
    dsb_free(why);
}

/* Is the process gone (or a zombie waiting for its parent)? */
static bool process_gone(long pid)
{
    char path[64];
    char buf[512];
    FILE *fp;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if ((fp = fopen(path, "r")) == NULL)
        return true;
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);

    fclose(fp);
    buf[n] = 0;
    const char *cp = strrchr(buf, ')');

    return cp != NULL && (cp[2] == 'Z' || cp[2] == 'X');
}

/* At the time limit the whole process group dies, not only the command. */
static void test_time_limit_group(void **state UNUSED)
{
    DSN_BUF *why = dsb_create();
    VSTRING *pidfile = vstring_sprintf(vstring_alloc(100), "%s/bgpid", test_dir);
    VSTRING *body =
        vstring_sprintf(vstring_alloc(100), "sleep 30 & echo $! > '%s'; wait", vstring_str(pidfile));
    const char *path = script("group", vstring_str(body));
    char *const argv[] = {(char *)path, NULL};
    PIPE_COMMAND_ATTR attr = PIPE_COMMAND_ATTR_INIT;
    off_t mesg;
    VSTREAM *src = queue_file(0, false, &mesg);

    attr.argv = argv;
    attr.time_limit = 1;
    assert_int_equal(pipe_command(src, mesg, why, &attr), PIPE_STAT_BOUNCE);
    vstream_fclose(src);
    FILE *fp = fopen(vstring_str(pidfile), "r");
    long pid = 0;

    assert_non_null(fp);
    assert_int_equal(fscanf(fp, "%ld", &pid), 1);
    fclose(fp);
    /* SIGKILL is asynchronous; give the kernel a moment, then insist. */
    for (int i = 0; i < 100 && !process_gone(pid); i++)
        usleep(10000);
    assert_true(process_gone(pid));
    vstring_free(body);
    vstring_free(pidfile);
    dsb_free(why);
}

/* Remove the scratch directory and what the tests left in it. */
static void cleanup_dir(void)
{
    VSTRING *cmd = vstring_sprintf(vstring_alloc(100), "rm -rf '%s'", test_dir);

    (void)!system(vstring_str(cmd));
    vstring_free(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results),
        cmocka_unit_test(test_sysexits),
        cmocka_unit_test(test_input),
        cmocka_unit_test(test_command_line),
        cmocka_unit_test(test_env_cwd),
        cmocka_unit_test(test_corrupt_root),
        cmocka_unit_test(test_time_limit_group),
    };

    if (mkdtemp(test_dir) == NULL)
        msg_fatal("mkdtemp: %m");
    queue_path = vstring_sprintf(vstring_alloc(100), "%s/queuefile", test_dir);
    var_queue_directory = test_dir;
    var_export_environment = "TZ MAIL_CONFIG LANG";
    msg_output(test_msg);
    int status = cmocka_run_group_tests(tests, NULL, NULL);

    cleanup_dir();
    return status;
}
