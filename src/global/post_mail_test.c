/*
 * post_mail_test - unit tests for post_mail against a fake cleanup
 * service (a child process on $queue_directory/public/cleanup): the
 * queue ID handed back, the exact record stream (flags, envelope,
 * recipients added before the content, MESG written lazily, long lines
 * split into CONT records, XTRA, END), cleanup's status returned, and a
 * cleanup that closes without an answer.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "attr.h"
#include "cleanup_user.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "msg.h"
#include "mymalloc.h"
#include "post_mail.h"
#include "rec_type.h"
#include "record.h"
#include "vstream.h"
#include "vstring.h"

static char test_dir[] = "/tmp/post_mail_test.XXXXXX";
static char test_records[4096]; /* "T:data\n" per record the fake cleanup got */

/* Drop diagnostics. */
static void test_quiet(enum msg_level level UNUSED, const char *text UNUSED)
{
}

/*
 * Fake cleanup: accept one client, send the queue ID, collect records up
 * to END into a file, answer STATUS (or close without answer when
 * STATUS < 0). Runs in a child; returns the child's pid.
 */
static pid_t fake_cleanup(int status)
{
    struct sockaddr_un sun;
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    pid_t pid;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/public/cleanup", test_dir);
    unlink(sun.sun_path);
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    assert_int_equal(listen(lfd, 1), 0);
    if ((pid = fork()) != 0) {
        close(lfd);
        return pid;
    }
    int fd = accept(lfd, NULL, NULL);
    VSTREAM *client = vstream_fdopen(fd, O_RDWR);
    VSTRING *buf = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    VSTREAM *out;
    int type;

    vstring_sprintf(path, "%s/records", test_dir);
    out = vstream_fopen(vstring_str(path), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    attr_print(client, ATTR_FLAG_NONE, SEND_ATTR_STR(MAIL_ATTR_QUEUEID, "QID123"), ATTR_TYPE_END);
    while ((type = rec_get(client, buf, 0)) >= 0) {
        vstream_fprintf(out, "%c:%s\n", type, vstring_str(buf));
        if (type == REC_TYPE_END)
            break;
    }
    vstream_fclose(out);
    if (status >= 0)
        attr_print(client, ATTR_FLAG_NONE, SEND_ATTR_INT(MAIL_ATTR_STATUS, status),
                   SEND_ATTR_STR(MAIL_ATTR_WHY, status ? "5.7.1 no" : ""), ATTR_TYPE_END);
    vstream_fclose(client);
    _exit(0);
}

/* The records the fake cleanup collected, minus the TIME record's value. */
static const char *collected(void)
{
    VSTRING *path = vstring_alloc(100);
    FILE *fp;
    size_t n;
    char *cp;

    vstring_sprintf(path, "%s/records", test_dir);
    fp = fopen(vstring_str(path), "r");
    assert_non_null(fp);
    n = fread(test_records, 1, sizeof(test_records) - 1, fp);
    test_records[n] = 0;
    fclose(fp);
    vstring_free(path);
    /* The arrival time varies: keep only "T:". */
    if ((cp = strstr(test_records, "\nT:")) != NULL) {
        char *end = strchr(cp + 3, '\n');

        memmove(cp + 3, end, strlen(end) + 1);
    }
    return test_records;
}

static void test_stream(void **state UNUSED)
{
    VSTRING *qid = vstring_alloc(10);
    char longline[700];
    VSTREAM *fp;
    pid_t pid = fake_cleanup(0);
    int wstatus;

    memset(longline, 'x', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = 0;
    fp = post_mail_open("", "alice@example.com", CLEANUP_FLAG_NONE, 0, "env1", qid);
    assert_string_equal(vstring_str(qid), "QID123");
    assert_int_equal(post_mail_rcpt(fp, "pm@example.com", "postmaster", 4), 0);
    assert_int_equal(post_mail_fputs(fp, "Subject: hi"), 0);
    assert_int_equal(post_mail_fprintf(fp, "X-N: %d", 42), 0);
    assert_int_equal(post_mail_buffer(fp, "", 0), 0);
    assert_int_equal(post_mail_fputs(fp, longline), 0);
    assert_int_equal(post_mail_close(fp), 0);
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);

    VSTRING *expect = vstring_alloc(2000);

    vstring_sprintf(
        expect,
        "f:%d\nT:\nA:rewrite_context=local\nA:log_message_origin=local\nA:trace_flags=0\nS:\n"
        "A:envelope_id=env1\nO:alice@example.com\no:rfc822;alice@example.com\nR:alice@example.com\n"
        "O:postmaster\no:rfc822;postmaster\nn:4\nR:pm@example.com\n"
        "M:\nN:Subject: hi\nN:X-N: 42\nN:\nL:%.512s\nN:%s\nX:\nE:\n",
        CLEANUP_FLAG_MASK_INTERNAL, longline, longline + 512);
    assert_string_equal(collected(), vstring_str(expect));
    vstring_free(expect);
    vstring_free(qid);
}

static void test_status(void **state UNUSED)
{
    static const struct {
        int answer; /* -1: close without an answer */
        int expect;
    } cases[] = {
        {0, 0},
        {CLEANUP_STAT_CONT, CLEANUP_STAT_CONT},
        {-1, CLEANUP_STAT_WRITE},
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        pid_t pid = fake_cleanup(cases[i].answer);
        VSTREAM *fp = post_mail_open("a@b", "c@d", CLEANUP_FLAG_NONE, 0, NULL, NULL);
        int wstatus;

        assert_int_equal(post_mail_fputs(fp, "Subject: x"), 0);
        assert_int_equal(post_mail_close(fp), cases[i].expect);
        assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    }
}

static int test_setup(void **state UNUSED)
{
    VSTRING *sub = vstring_alloc(100);

    if (mkdtemp(test_dir) == NULL)
        return -1;
    vstring_sprintf(sub, "%s/public", test_dir);
    if (mkdir(vstring_str(sub), 0700) < 0)
        return -1;
    vstring_free(sub);
    var_queue_directory = test_dir;
    var_line_length_limit = 512;
    var_ipc_timeout = 30;
    signal(SIGPIPE, SIG_IGN);
    msg_output(test_quiet);
    return 0;
}

static int test_teardown(void **state UNUSED)
{
    VSTRING *cmd = vstring_alloc(100);
    int rc;

    vstring_sprintf(cmd, "rm -rf '%s'", test_dir);
    rc = system(vstring_str(cmd));
    vstring_free(cmd);
    msg_output_reset();
    return rc == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_status),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
