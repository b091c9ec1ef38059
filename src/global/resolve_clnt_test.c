/*
 * resolve_clnt_test - unit tests for the resolve/rewrite client against
 * a scripted stand-in for trivial-rewrite (a child process on
 * $queue_directory/private/rewrite): the cache and its key, the cache
 * lifetime, reconnecting once when the service drops the connection
 * (which empties the cache), rewrite requests, and an unreachable
 * service (RESOLVE_FLAG_FAIL; rewrite computed in process).
 *
 * The stand-in answers resolve requests with transport "smtp", next hop
 * "nN:SENDER" (N counts the resolve requests it answered, so a cached
 * answer is recognisable) and rewrite requests with "std:RULE:ADDRESS:N"
 * (N counts rewrite requests).
 * It closes the connection without answering the first request for
 * "drop-once@x".
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
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "attr.h"
#include "htable.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_clnt.h"
#include "sockets.h"
#include "vstream.h"
#include "vstring.h"

static char test_dir[] = "/tmp/resolve_clnt_test.XXXXXX";
static pid_t server_pid;

static void quiet(enum msg_level level, const char *text)
{
    if (level >= MSG_FATAL)
        fprintf(stderr, "%s%s\n", msg_level_prefix(level), text);
}

static void server_free(void *ptr)
{
    myfree(ptr);
}

/* The scripted service (child process; never returns). */
static NORETURN server_run(int listen_fd)
{
    int count = 0;
    int rewrites = 0;
    bool dropped = false;

    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        VSTREAM *stream;

        if (fd < 0)
            _exit(0);
        stream = vstream_fdopen(fd, O_RDWR);
        for (;;) {
            HTABLE *attrs = htable_create(5, 0);
            const char *req;
            const char *addr;
            const char *sender;
            VSTRING *buf = vstring_alloc(100);
            int rc = -1;

            if (attr_scan(stream, ATTR_FLAG_NONE, RECV_ATTR_HASH(attrs), ATTR_TYPE_END) > 0) {
                req = htable_find(attrs, "request");
                addr = htable_find(attrs, "address");
                sender = htable_find(attrs, "sender");
                if (req && addr && strcmp(addr, "drop-once@x") == 0 && !dropped) {
                    dropped = true;
                } else if (req && addr && sender && strcmp(req, "resolve") == 0) {
                    vstring_sprintf(buf, "n%d:%s", ++count, sender);
                    rc = attr_print(stream, ATTR_FLAG_NONE, SEND_ATTR_INT("flags", RESOLVE_CLASS_DEFAULT),
                                    SEND_ATTR_STR("transport", "smtp"),
                                    SEND_ATTR_STR("nexthop", vstring_str(buf)),
                                    SEND_ATTR_STR("recipient", addr), ATTR_TYPE_END);
                } else if (req && addr && strcmp(req, "rewrite") == 0) {
                    vstring_sprintf(buf, "std:%s:%s:%d", (char *)htable_find(attrs, "rule"), addr, ++rewrites);
                    rc = attr_print(stream, ATTR_FLAG_NONE, SEND_ATTR_INT("flags", 0),
                                    SEND_ATTR_STR("address", vstring_str(buf)), ATTR_TYPE_END);
                }
            }
            htable_free(attrs, server_free);
            vstring_free(buf);
            if (rc != 0)
                break;
        }
        vstream_fclose(stream);
    }
}

static int setup(void **state UNUSED)
{
    VSTRING *path = vstring_alloc(100);
    int listen_fd;

    if (mkdtemp(test_dir) == NULL)
        return -1;
    msg_output_reset();
    msg_output(quiet);
    mail_conf_forget();
    mail_conf_override("queue_directory", test_dir);
    mail_conf_override("myhostname", "mail.example.com");
    mail_conf_override("myorigin", "o.test");
    mail_conf_override("ipc_timeout", "1s");
    mail_params_init();
    vstring_sprintf(path, "%s/private", test_dir);
    if (mkdir(vstring_str(path), 0700) < 0)
        return -1;
    vstring_strcat(path, "/rewrite");
    if ((listen_fd = unix_listen(vstring_str(path), 10, BLOCKING)) < 0)
        return -1;
    vstring_free(path);
    if ((server_pid = fork()) < 0)
        return -1;
    if (server_pid == 0)
        server_run(listen_fd);
    close(listen_fd);
    return 0;
}

/* Stop the stand-in and remove its socket: the service is gone. */
static void server_stop(void)
{
    VSTRING *path = vstring_alloc(100);

    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
    vstring_sprintf(path, "%s/private/rewrite", test_dir);
    unlink(vstring_str(path));
    vstring_free(path);
}

static int teardown(void **state UNUSED)
{
    VSTRING *cmd = vstring_alloc(100);
    int rc;

    server_stop();
    vstring_sprintf(cmd, "rm -rf '%s'", test_dir);
    rc = system(vstring_str(cmd));
    vstring_free(cmd);
    msg_output_reset();
    return rc == 0 ? 0 : -1;
}

/* The cache, its key, its lifetime and the reconnect, step by step. */
static void test_query_cache(void **state UNUSED)
{
    static const struct {
        const char *sd_maps; /* sender_dependent_relayhost_maps */
        int ttl;
        const char *sender;
        const char *address;
        const char *nexthop;
    } steps[] = {
        {"", 10, "", "a@x", "n1:"},
        {"", 10, "", "a@x", "n1:"}, /* cached */
        {"", 10, "", "b@x", "n2:"},
        {"", 10, "s1", "a@x", "n1:"}, /* the sender is not in the key */
        {"hash:/nonexistent", 10, "s1", "a@x", "n3:s1"},
        {"hash:/nonexistent", 10, "s2", "a@x", "n4:s2"},
        {"hash:/nonexistent", 10, "s1", "a@x", "n3:s1"},
        {"", 0, "", "c@x", "n5:"}, /* expired at once */
        {"", 0, "", "c@x", "n6:"},
        {"", 10, "", "drop-once@x", "n7:"}, /* dropped, then asked again */
        {"", 10, "", "b@x", "n8:"},         /* the reconnect emptied the cache */
    };
    RESOLVE_REPLY reply;

    resolve_clnt_init(&reply);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        var_sender_dependent_relayhost_maps = (char *)steps[i].sd_maps;
        resolve_clnt_cache_ttl = steps[i].ttl;
        resolve_clnt_query(steps[i].sender, steps[i].address, &reply);
        if (reply.flags != RESOLVE_CLASS_DEFAULT || strcmp(vstring_str(reply.transport), "smtp") != 0 ||
            strcmp(vstring_str(reply.nexthop), steps[i].nexthop) != 0 ||
            strcmp(vstring_str(reply.recipient), steps[i].address) != 0)
            fail_msg("step %zu: got 0x%x %s %s %s, want nexthop %s", i, reply.flags,
                     vstring_str(reply.transport), vstring_str(reply.nexthop), vstring_str(reply.recipient),
                     steps[i].nexthop);
    }
    var_sender_dependent_relayhost_maps = "";
    resolve_clnt_cache_ttl = 10;
    resolve_clnt_free(&reply);
}

/* Rewrite requests share the connection and are cached per rule and address. */
static void test_rewrite(void **state UNUSED)
{
    VSTRING *out = vstring_alloc(100);

    assert_string_equal(rewrite_clnt_query("local", "u", out), "std:local:u:1");
    assert_string_equal(rewrite_clnt_query("remote", "u", out), "std:remote:u:2");
    assert_string_equal(rewrite_clnt_query("local", "u", out), "std:local:u:1"); /* cached */
    assert_string_equal(rewrite_clnt_query("local", "v", out), "std:local:v:3");
    resolve_clnt_cache_ttl = 0; /* expired at once */
    assert_string_equal(rewrite_clnt_query("local", "u", out), "std:local:u:4");
    resolve_clnt_cache_ttl = 10;
    vstring_free(out);
}

/* An unreachable service: resolve fails (defer), rewrite is done here. */
static void test_unreachable(void **state UNUSED)
{
    RESOLVE_REPLY reply;
    VSTRING *out = vstring_alloc(100);

    server_stop();
    resolve_clnt_init(&reply);
    resolve_clnt_query("", "new@x", &reply);
    assert_int_equal(reply.flags, RESOLVE_FLAG_FAIL);
    assert_string_equal(vstring_str(reply.transport), "retry");
    assert_string_equal(vstring_str(reply.nexthop), "4.3.0 address resolver failure");
    assert_string_equal(rewrite_clnt_query("local", "u", out), "u@o.test");
    resolve_clnt_free(&reply);
    vstring_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_cache),
        cmocka_unit_test(test_rewrite),
        cmocka_unit_test(test_unreachable),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, setup, teardown);
}
