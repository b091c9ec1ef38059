/*
 * resolve_local_test - unit tests for resolve_local: $mydestination,
 * address literals of $inet_interfaces / $proxy_interfaces, trailing dots
 * and lookup failures (tables.md T35, 7.2 [E4]). Expected results were
 * checked against Postfix 3.7 trivial-rewrite (local vs smtp transport).
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "dict.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_local.h"
#include "sockets.h"
#include "vstring.h"

static char test_dir[] = "/tmp/resolve_local_test.XXXXXX";

/* Drop diagnostics: the cases check results. */
static void test_quiet(enum msg_level level UNUSED, const char *text UNUSED)
{
}

static int test_setup(void **state UNUSED)
{
    VSTRING *path = vstring_alloc(100);
    FILE *fp;

    if (mkdtemp(test_dir) == 0)
        return -1;
    vstring_sprintf(path, "%s/M", test_dir);
    if ((fp = fopen(vstring_str(path), "w")) == 0 || fputs("example.com x\n", fp) == EOF || fclose(fp) != 0)
        return -1;
    vstring_free(path);
    msg_output(test_quiet);
    dict_allow_surrogate = 1;
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

/* Set the three parameters ("@D" is the test directory) and rebuild. */
static void test_config(const char *mydestination, const char *inet_interfaces, const char *proxy_interfaces)
{
    static VSTRING *dest;

    if (dest == 0)
        dest = vstring_alloc(100);
    vstring_reset(dest);
    for (const char *cp = mydestination; *cp; cp++) {
        if (cp[0] == '@' && cp[1] == 'D') {
            vstring_strcat(dest, test_dir);
            cp++;
        } else {
            vstring_addch(dest, *cp);
        }
    }
    var_mydestination = vstring_str(dest);
    var_inet_interfaces = (char *)inet_interfaces;
    var_proxy_interfaces = (char *)proxy_interfaces;
    var_parent_domain_matches_subdomains = 0;
    resolve_local_init();
}

static const struct {
    const char *mydestination;
    const char *inet_interfaces;
    const char *proxy_interfaces;
    const char *domain;
    int want;
} cases[] = {
    /* $mydestination: exact names, case-insensitive, one trailing dot ignored. */
    {"example.com", "127.0.0.1", "", "example.com", 1},
    {"example.com", "127.0.0.1", "", "EXAMPLE.Com", 1},
    {"example.com", "127.0.0.1", "", "example.com.", 1},
    {"example.com", "127.0.0.1", "", "example.com..", 0},
    {"example.com", "127.0.0.1", "", "sub.example.com", 0},
    {"example.com", "127.0.0.1", "", "example.net", 0},
    {"example.com", "127.0.0.1", "", "", 0},
    {"example.com", "127.0.0.1", "", ".", 0},
    {".example.com", "127.0.0.1", "", "sub.example.com", 1},
    {".example.com", "127.0.0.1", "", "example.com", 0},
    {"!a.example.com, .example.com", "127.0.0.1", "", "a.example.com", 0},
    {"!a.example.com, .example.com", "127.0.0.1", "", "b.example.com", 1},
    {"", "127.0.0.1", "", "example.com", 0},
    /* T35: a table in mydestination is not searched for parent domains. */
    {"texthash:@D/M", "127.0.0.1", "", "example.com", 1},
    {"texthash:@D/M", "127.0.0.1", "", "sub.example.com", 0},
    /* Address literals of this host's interfaces. */
    {"example.com", "127.0.0.1", "", "[127.0.0.1]", 1},
    {"example.com", "127.0.0.1", "", "[127.0.0.1].", 1},
    {"example.com", "127.0.0.1", "", "[127.0.0.2]", 0},
    {"example.com", "127.0.0.1", "", "127.0.0.1", 0},
    {"example.com", "127.0.0.1", "", "[IPv6:::1]", 0},
    {"example.com", "[::1]", "", "[IPv6:::1]", 1},
    {"example.com", "127.0.0.1, [::1]", "", "[ipv6:0:0::1]", 1},
    {"example.com", "127.0.0.1, [::1]", "", "[::1]", 0},
    {"example.com", "loopback-only", "", "[127.0.0.1]", 1},
    {"example.com", "loopback-only", "", "[IPv6:::1]", 1},
    {"example.com", "loopback-only", "", "[192.0.2.2]", 0},
    {"example.com", "loopback-only", "192.0.2.77, [fd00::5]", "[192.0.2.77]", 1},
    {"example.com", "loopback-only", "192.0.2.77, [fd00::5]", "[IPv6:fd00::5]", 1},
    {"example.com", "loopback-only", "192.0.2.77, [fd00::5]", "[IPv6:FD00:0::5]", 1},
    {"example.com", "loopback-only", "192.0.2.77, [fd00::5]", "[192.0.2.78]", 0},
    /* An interface name is resolved to addresses; the name itself is not local. */
    {"example.com", "localhost", "", "[127.0.0.1]", 1},
    {"example.com", "localhost", "", "localhost", 0},
    {"localhost", "127.0.0.1", "", "localhost", 1},
    {"[192.0.2.9]", "127.0.0.1", "", "[192.0.2.9]", 1},
    /* Lookup failures in mydestination: -1, checked before address literals. */
    {"fail:x", "127.0.0.1", "", "example.com", -1},
    {"fail:x", "127.0.0.1", "", "[127.0.0.1]", -1},
    {"example.com, fail:x", "127.0.0.1", "", "example.com", 1},
    {"example.com, fail:x", "127.0.0.1", "", "example.net", -1},
    {"hash:/nonexistent/M", "127.0.0.1", "", "example.com", -1},
    {"/nonexistent/file", "127.0.0.1", "", "example.com", -1},
};

/* Every case of the table. */
static void test_cases(void **state UNUSED)
{
    int failed = 0;

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int got;

        test_config(cases[i].mydestination, cases[i].inet_interfaces, cases[i].proxy_interfaces);
        if ((got = resolve_local(cases[i].domain)) != cases[i].want) {
            print_error(
                "case %zu: mydestination=%s inet_interfaces=%s proxy_interfaces=%s %s: got %d want %d\n", i,
                cases[i].mydestination, cases[i].inet_interfaces, cases[i].proxy_interfaces, cases[i].domain,
                got, cases[i].want);
            failed++;
        }
    }
    if (failed)
        fail_msg("%d of %zu cases failed", failed, ARRAY_LEN(cases));
}

/* inet_interfaces = all: every interface address is local as a literal. */
static void test_all_interfaces(void **state UNUSED)
{
    INET_ADDR_LIST *list = inet_addr_local(INET_ADDR_IPV4 | INET_ADDR_IPV6);
    VSTRING *literal = vstring_alloc(100);

    test_config("example.com", "all", "");
    assert_true(list->used > 0);
    for (size_t i = 0; i < list->used; i++) {
        const struct sockaddr *sa = (const struct sockaddr *)&list->info[i].addr;
        char text[INET6_ADDRSTRLEN];

        if (sa->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, text, sizeof(text));
            vstring_sprintf(literal, "[%s]", text);
        } else {
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, text, sizeof(text));
            vstring_sprintf(literal, "[IPv6:%s]", text);
        }
        if (resolve_local(vstring_str(literal)) != 1)
            fail_msg("%s is not local", vstring_str(literal));
    }
    assert_int_equal(resolve_local("[IPv6:2001:db8:ffff::9]"), 0);
    inet_addr_list_free(list);
    vstring_free(literal);
}

/* An interface name that does not resolve is fatal, as in Postfix. */
static void test_unknown_interface(void **state UNUSED)
{
    static const struct {
        const char *inet;
        const char *proxy;
        const char *err;
    } fatal_cases[] = {
        {"nonexistent.invalid", "",
         "fatal: config variable inet_interfaces: host not found: nonexistent.invalid\n"},
        {"127.0.0.1", "nonexistent.invalid",
         "fatal: config variable proxy_interfaces: host not found: nonexistent.invalid\n"},
    };

    for (size_t i = 0; i < ARRAY_LEN(fatal_cases); i++) {
        int fds[2];
        pid_t pid;
        int status;
        char buf[512];
        ssize_t n;
        VSTRING *err = vstring_alloc(100);

        assert_int_equal(pipe(fds), 0);
        if ((pid = fork()) == 0) {
            dup2(fds[1], 2);
            close(fds[0]);
            msg_output_reset();
            test_config("example.com", fatal_cases[i].inet, fatal_cases[i].proxy);
            _exit(0);
        }
        close(fds[1]);
        while ((n = read(fds[0], buf, sizeof(buf))) > 0)
            vstring_memcat(err, buf, (size_t)n);
        close(fds[0]);
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 ||
            strcmp(vstring_str(err), fatal_cases[i].err) != 0)
            fail_msg("%s / %s: status %d, stderr \"%s\"", fatal_cases[i].inet, fatal_cases[i].proxy, status,
                     vstring_str(err));
        vstring_free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_all_interfaces),
        cmocka_unit_test(test_unknown_interface),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
