/*
 * match_list_test - unit tests for match_list: item syntax, negation,
 * /file lists, tables, parent-domain modes, addresses and networks, and
 * lookup failures (tables.md 7.3 and 9, config.md 2.4 and C28). The
 * expected results were checked against Postfix 3.7 (trivial-rewrite with
 * relay_domains / mydestination, smtpd with mynetworks).
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "dict.h"
#include "match_list.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

#define ERR (-1) /* expected: no match, list->error set */

static char test_dir[] = "/tmp/match_list_test.XXXXXX";
static VSTRING *test_log;

/* Collect diagnostics so that tests can check them. */
static void test_log_output(enum msg_level level, const char *text)
{
    vstring_sprintf_append(test_log, "%s%s\n", msg_level_prefix(level), text);
}

/* Write a file under the test directory. */
static void test_write(const char *base, const char *content)
{
    VSTRING *path = vstring_alloc(100);
    FILE *fp;

    vstring_sprintf(path, "%s/%s", test_dir, base);
    if ((fp = fopen(vstring_str(path), "w")) == 0 || fputs(content, fp) == EOF || fclose(fp) != 0)
        fail_msg("write %s", vstring_str(path));
    vstring_free(path);
}

/* Replace each "@D" in text by the test directory. */
static char *test_subst(const char *text)
{
    VSTRING *out = vstring_alloc(100);

    for (const char *cp = text; *cp; cp++) {
        if (cp[0] == '@' && cp[1] == 'D') {
            vstring_strcat(out, test_dir);
            cp++;
        } else {
            vstring_addch(out, *cp);
        }
    }
    return vstring_export(out);
}

static int test_setup(void **state UNUSED)
{
    if (mkdtemp(test_dir) == 0)
        return -1;
    test_write("dests", "a.example\n# c\nb.example, c.example\n");
    test_write("one", "a.example.com\n");
    test_write("neg", "!a.example.com\n");
    test_write("comment", "a.example #b.example c.example\nd.example\n");
    test_write("hosts", "example.com x\n");
    test_write("nets", "127.0.0.0/8\n[::1]/128 [2001:db8::]/32\n!192.168.0.1, 192.168.0.0/28\n");
    test_write("nets.cidr", "10.0.0.0/8 x\n2001:db8::/32 y\n");
    test_write("addrs", "10.1.2.3 x\n2001:db8::5 x\n10.2 x\nexample.com x\n");
    /* Files that name other files. */
    {
        char *text = test_subst("# list of lists\nx.example\n  y.example z.example\n\nw.example, @D/one\n");

        test_write("nested", text);
        myfree(text);
        text = test_subst("a.example @D/self\n");
        test_write("self", text);
        myfree(text);
    }
    test_log = vstring_alloc(100);
    msg_output(test_log_output);
    dict_allow_surrogate = 1;
    return 0;
}

static int test_teardown(void **state UNUSED)
{
    VSTRING *cmd = vstring_alloc(100);

    vstring_sprintf(cmd, "rm -rf '%s'", test_dir);
    if (system(vstring_str(cmd)) != 0)
        return -1;
    vstring_free(cmd);
    vstring_free(test_log);
    msg_output_reset();
    return 0;
}

enum test_kind { KIND_STRING, KIND_HOST, KIND_ADDR, KIND_NAMADR };

typedef struct TEST_CASE {
    enum test_kind kind;
    int flags;
    const char *list; /* "@D" is the test directory */
    const char *name; /* string / host name (NULL: none) */
    const char *addr; /* address for ADDR and NAMADR */
    int want;         /* 1, 0 or ERR */
    const char *log;  /* expected in the log, or NULL */
} TEST_CASE;

#define P MATCH_FLAG_PARENT
#define N MATCH_FLAG_NONE

static const TEST_CASE cases[] = {
    /* Plain strings: case-insensitive, whole string only. */
    {KIND_STRING, N, "alice, Bob", "bob", 0, 1, 0},
    {KIND_STRING, N, "alice, Bob", "BOB", 0, 1, 0},
    {KIND_STRING, N, "alice Bob", "bob.x", 0, 0, 0},
    {KIND_STRING, N, "!bob, static:all", "bob", 0, 0, 0},
    {KIND_STRING, N, "!bob, static:all", "carol", 0, 1, 0},
    {KIND_STRING, N, "inline:{alice=1}", "ALICE", 0, 1, 0},
    {KIND_STRING, N, "", "alice", 0, 0, 0},

    /* Host names without parent mode (mydestination): .example.com for subdomains. */
    {KIND_HOST, N, "example.com", "example.com", 0, 1, 0},
    {KIND_HOST, N, "example.com", "EXAMPLE.Com", 0, 1, 0},
    {KIND_HOST, N, "Example.COM", "example.com", 0, 1, 0},
    {KIND_HOST, N, "example.com", "sub.example.com", 0, 0, 0},
    {KIND_HOST, N, ".example.com", "example.com", 0, 0, 0},
    {KIND_HOST, N, ".example.com", "sub.example.com", 0, 1, 0},
    {KIND_HOST, N, ".example.com", "a.sub.example.com", 0, 1, 0},
    {KIND_HOST, N, ".example.com", "notexample.com", 0, 0, 0},
    /* Trailing dots are not stripped here (resolve_local does that). */
    {KIND_HOST, N, "example.com.", "example.com", 0, 0, 0},
    {KIND_HOST, N, "example.com", "example.com.", 0, 0, 0},
    /* Braces are kept in plain items, as in Postfix. */
    {KIND_HOST, N, "{a.example}", "a.example", 0, 0, 0},

    /* Parent mode (relay_domains): example.com covers subdomains, .example.com nothing. */
    {KIND_HOST, P, "example.com", "example.com", 0, 1, 0},
    {KIND_HOST, P, "example.com", "sub.example.com", 0, 1, 0},
    {KIND_HOST, P, "example.com", "a.b.example.com", 0, 1, 0},
    {KIND_HOST, P, "example.com", "notexample.com", 0, 0, 0},
    {KIND_HOST, P, ".example.com", "sub.example.com", 0, 0, 0},
    {KIND_HOST, P, ".example.com", "example.com", 0, 0, 0},

    /* Negation: the first matching item decides. */
    {KIND_HOST, P, "!a.example.com, example.com", "a.example.com", 0, 0, 0},
    {KIND_HOST, P, "!a.example.com, example.com", "x.a.example.com", 0, 0, 0},
    {KIND_HOST, P, "!a.example.com, example.com", "b.example.com", 0, 1, 0},
    {KIND_HOST, P, "example.com, !a.example.com", "a.example.com", 0, 1, 0},
    {KIND_HOST, N, "!!a.example.com", "a.example.com", 0, 1, 0},

    /* Tables (T35): key tried as is, then parents per mode. */
    {KIND_HOST, N, "texthash:@D/hosts", "example.com", 0, 1, 0},
    {KIND_HOST, N, "texthash:@D/hosts", "sub.example.com", 0, 0, 0},
    {KIND_HOST, P, "texthash:@D/hosts", "sub.example.com", 0, 1, 0},
    {KIND_HOST, P, "texthash:@D/hosts", "a.b.example.com", 0, 1, 0},
    {KIND_HOST, N, "inline:{.example.com=x}", "sub.example.com", 0, 1, 0},
    {KIND_HOST, N, "inline:{.example.com=x}", "example.com", 0, 0, 0},
    {KIND_HOST, P, "inline:{.example.com=x}", "sub.example.com", 0, 0, 0},
    {KIND_HOST, P, "inline:{com=x}", "example.com", 0, 1, 0},
    {KIND_HOST, N, "inline:{com=x}", "example.com", 0, 0, 0},
    {KIND_HOST, N, "inline:{.com=x}", "a.example.com", 0, 1, 0},
    {KIND_HOST, N, "inline:{a.example.com=x, b.example.com=y}", "B.Example.com", 0, 1, 0},
    {KIND_HOST, P, "!inline:{example.com=x}, com", "a.example.com", 0, 0, 0},
    {KIND_HOST, P, "!inline:{example.com=x}, com", "a.com", 0, 1, 0},

    /* Lookup failures are errors, never "no match". */
    {KIND_HOST, N, "fail:x", "example.com", 0, ERR, "warning: t: fail:x: table lookup problem\n"},
    {KIND_HOST, N, "!fail:x", "example.com", 0, ERR, 0},
    {KIND_HOST, N, "example.com, fail:x", "example.com", 0, 1, 0},
    {KIND_HOST, N, "example.com, fail:x, other.com", "other.com", 0, ERR, 0},
    {KIND_HOST, N, "nosuchtype:x", "example.com", 0, ERR, "nosuchtype:x: table lookup problem"},

    /* /file lists (config.md C28): logical lines, comments, nesting, negation. */
    {KIND_HOST, N, "@D/dests", "c.example", 0, 1, 0},
    {KIND_HOST, N, "@D/dests", "a.example", 0, 1, 0},
    {KIND_HOST, N, "@D/dests", "d.example", 0, 0, 0},
    {KIND_HOST, N, "@D/dests", "#", 0, 0, 0},
    {KIND_HOST, N, "!b.example, @D/dests", "b.example", 0, 0, 0},
    {KIND_HOST, N, "!b.example, @D/dests", "c.example", 0, 1, 0},
    {KIND_HOST, P, "!@D/one, example.com", "a.example.com", 0, 0, 0},
    {KIND_HOST, P, "!@D/one, example.com", "b.example.com", 0, 1, 0},
    {KIND_HOST, P, "@D/neg, example.com", "a.example.com", 0, 0, 0},
    {KIND_HOST, P, "!@D/neg", "a.example.com", 0, 1, 0},
    {KIND_HOST, N, "@D/nested", "z.example", 0, 1, 0},
    {KIND_HOST, N, "@D/nested", "a.example.com", 0, 1, 0},
    {KIND_HOST, N, "@D/nested", "list", 0, 0, 0},
    {KIND_HOST, N, "@D/missing", "a.example", 0, ERR,
     "error: open file @D/missing: No such file or directory\n"
     "warning: non-existent:@D/missing is unavailable. open file @D/missing: No such file or directory\n"
     "warning: t: non-existent:@D/missing: table lookup problem\n"},
    {KIND_HOST, N, "a.example, @D/missing", "a.example", 0, 1, 0},
    {KIND_HOST, N, "@D/self", "a.example", 0, 1, 0},
    {KIND_HOST, N, "@D/self", "b.example", 0, ERR, "too many nested /file/name lists"},

    /* Comments inside a list end the text (or the file line), with a warning. */
    {KIND_HOST, N, "a.example # b.example, c.example", "a.example", 0, 1,
     "warning: t: comment at end of line is not supported: # b.example, c.example\n"},
    {KIND_HOST, N, "a.example # b.example, c.example", "c.example", 0, 0, 0},
    {KIND_HOST, N, "@D/comment", "d.example", 0, 1,
     "warning: t: comment at end of line is not supported: #b.example c.example\n"},
    {KIND_HOST, N, "@D/comment", "c.example", 0, 0, 0},

    /* Addresses and networks (mynetworks syntax). */
    {KIND_ADDR, N, "127.0.0.0/8", 0, "127.0.0.1", 1, 0},
    {KIND_ADDR, N, "127.0.0.0/8", 0, "128.0.0.1", 0, 0},
    {KIND_ADDR, N, "127.0.0.0/8", 0, "::1", 0, 0},
    {KIND_ADDR, N, "[::1]/128", 0, "::1", 1, 0},
    {KIND_ADDR, N, "[::1]/128", 0, "::2", 0, 0},
    {KIND_ADDR, N, "[::1]/128", 0, "127.0.0.1", 0, 0},
    {KIND_ADDR, N, "[2001:db8::]/32", 0, "2001:db8:1::5", 1, 0},
    {KIND_ADDR, N, "[2001:db8::]/32", 0, "2001:DB8::1", 1, 0},
    {KIND_ADDR, N, "[2001:db8::]/32", 0, "2001:db9::1", 0, 0},
    {KIND_ADDR, N, "[2001:DB8::]/32", 0, "2001:db8::1", 1, 0},
    {KIND_ADDR, N, "[10.1.2.3]", 0, "10.1.2.3", 1, 0},
    {KIND_ADDR, N, "10.1.2.3", 0, "10.1.2.3", 1, 0},
    {KIND_ADDR, N, "10.1.2.3", 0, "10.1.2.4", 0, 0},
    {KIND_ADDR, N, "[10.0.0.0]/8", 0, "10.1.2.3", 1, 0},
    {KIND_ADDR, N, "[10.0.0.0/8]", 0, "10.1.2.3", 1, 0},
    {KIND_ADDR, N, "10.0.0.0/08", 0, "10.1.2.3", 1, 0},
    {KIND_ADDR, N, "192.168.0.0/28", 0, "192.168.0.15", 1, 0},
    {KIND_ADDR, N, "192.168.0.0/28", 0, "192.168.0.16", 0, 0},
    {KIND_ADDR, N, "[2001:db8:0::5]", 0, "2001:db8::5", 1, 0},
    {KIND_ADDR, N, "0.0.0.0/0", 0, "10.1.2.3", 1, 0},
    {KIND_ADDR, N, "0.0.0.0/0", 0, "2001:db8::5", 0, 0},
    {KIND_ADDR, N, "[::]/0", 0, "2001:db8::5", 1, 0},
    {KIND_ADDR, N, "[::ffff:10.1.2.3]/128", 0, "10.1.2.3", 0, 0},
    {KIND_ADDR, N, "010.001.002.003", 0, "10.1.2.3", 0, 0},
    {KIND_ADDR, N, "10.1.2", 0, "10.1.2.3", 0, 0},
    {KIND_ADDR, N, "x/8", 0, "10.1.2.3", 0, 0},
    {KIND_ADDR, N, "10.0.0.0/x", 0, "10.1.2.3", 0, 0},
    {KIND_ADDR, N, "10.0.0.0/8", 0, "unknown", 0, 0},
    {KIND_ADDR, N, "!192.168.0.1, 192.168.0.0/28", 0, "192.168.0.1", 0, 0},
    {KIND_ADDR, N, "!192.168.0.1, 192.168.0.0/28", 0, "192.168.0.2", 1, 0},
    {KIND_ADDR, N, "@D/nets", 0, "2001:db8::7", 1, 0},
    {KIND_ADDR, N, "@D/nets", 0, "192.168.0.1", 0, 0},
    {KIND_ADDR, N, "@D/nets", 0, "192.168.0.3", 1, 0},
    {KIND_ADDR, N, "@D/nets", 0, "127.1.1.1", 1, 0},
    /* Malformed networks fail the lookup, like Postfix. */
    {KIND_ADDR, N, "10.1.2.3/8", 0, "10.1.2.3", ERR,
     "warning: t: non-null host address bits in \"10.1.2.3/8\", perhaps you should use \"10.0.0.0/8\" "
     "instead\n"},
    {KIND_ADDR, N, "[2001:db8::5]/32", 0, "2001:db8::5", ERR,
     "perhaps you should use \"2001:db8::/32\" instead"},
    {KIND_ADDR, N, "10.0.0.0/33", 0, "10.1.2.3", ERR, "warning: t: bad mask length in \"10.0.0.0/33\"\n"},
    {KIND_ADDR, N, "[2001:db8::]/129", 0, "2001:db8::1", ERR,
     "warning: t: bad mask length in \"2001:db8::/129\"\n"},
    {KIND_ADDR, N, "10.1.2.3/", 0, "10.1.2.3", ERR, "warning: t: bad mask value in \"10.1.2.3/\"\n"},
    {KIND_ADDR, N, "10.0.0.0/8/8", 0, "10.1.2.3", ERR, "bad mask value in \"10.0.0.0/8/8\""},
    {KIND_ADDR, N, "A.F/8", 0, "10.1.2.3", ERR, "warning: t: bad network value in \"a.f/8\"\n"},
    {KIND_ADDR, N, "A.F/8", 0, "2001:db8::1", 0, 0},
    /* Tables get the address itself; bare IPv6 is a (bad) type:name. */
    {KIND_ADDR, N, "texthash:@D/addrs", 0, "10.1.2.3", 1, 0},
    {KIND_ADDR, N, "texthash:@D/addrs", 0, "2001:DB8::5", 1, 0},
    {KIND_ADDR, N, "texthash:@D/addrs", 0, "10.2.3.4", 0, 0},
    {KIND_ADDR, N, "2001:db8::5", 0, "2001:db8::5", ERR, "warning: t: 2001:db8::5: table lookup problem"},
    {KIND_ADDR, N, "fail:x", 0, "10.1.2.3", ERR, 0},
    {KIND_ADDR, N, "cidr:@D/nets.cidr", 0, "10.1.2.3", 1, 0},
    {KIND_ADDR, N, "cidr:@D/nets.cidr", 0, "11.1.2.3", 0, 0},
    {KIND_ADDR, N, "cidr:@D/nets.cidr", 0, "2001:db8::1", 1, 0},
    {KIND_ADDR, N, "!cidr:@D/nets.cidr, 0.0.0.0/0", 0, "10.1.2.3", 0, 0},

    /* Name and address (namadr): each item is tried on the name, then the address. */
    {KIND_NAMADR, P, "example.com", "foo.example.com", "11.1.2.3", 1, 0},
    {KIND_NAMADR, P, "FOO.Example.COM", "foo.example.com", "11.1.2.3", 1, 0},
    {KIND_NAMADR, P, ".example.com", "foo.example.com", "11.1.2.3", 0, 0},
    {KIND_NAMADR, P, "10.0.0.0/8", "foo.example.com", "10.1.2.3", 1, 0},
    {KIND_NAMADR, P, "!example.com, 10.0.0.0/8", "foo.example.com", "10.1.2.3", 0, 0},
    {KIND_NAMADR, P, "!10.1.2.3, example.com", "foo.example.com", "10.1.2.3", 0, 0},
    {KIND_NAMADR, P, "!10.1.2.3, example.com", "foo.example.com", "10.1.2.4", 1, 0},
    {KIND_NAMADR, P, "texthash:@D/addrs", "x.y", "10.1.2.3", 1, 0},
    {KIND_NAMADR, P, "texthash:@D/addrs", "foo.example.com", "11.1.2.3", 1, 0},
    {KIND_NAMADR, P, "texthash:@D/addrs", "x.y", "2001:db8::5", 1, 0},
    {KIND_NAMADR, P, "texthash:@D/addrs", "x.y", "10.2.3.4", 0, 0},
    {KIND_NAMADR, P, "cidr:@D/nets.cidr", "foo.example.com", "10.1.2.3", 1, 0},
    {KIND_NAMADR, P, "cidr:@D/nets.cidr", "foo.example.com", "192.0.2.1", 0, 0},
    {KIND_HOST, P, "cidr:@D/nets.cidr", "a.b.example.com", 0, 0, 0},
    {KIND_NAMADR, P, "unknown", "unknown", "10.1.2.3", 1, 0},
    {KIND_NAMADR, P, "fail:x, 10.0.0.0/8", "x.y", "10.1.2.3", ERR, 0},
    {KIND_NAMADR, P, "10.0.0.0/8", 0, "10.1.2.3", 1, 0},
};

/* Run one case; returns a complaint or NULL. */
static const char *test_run(const TEST_CASE *tc, VSTRING *why)
{
    static const MATCH_LIST_FN string_fn[] = {match_list_string};
    static const MATCH_LIST_FN host_fn[] = {match_list_hostname};
    static const MATCH_LIST_FN addr_fn[] = {match_list_hostaddr};
    static const MATCH_LIST_FN namadr_fn[] = {match_list_hostname, match_list_hostaddr};
    char *text = test_subst(tc->list);
    char *log = tc->log ? test_subst(tc->log) : 0;
    MATCH_LIST *list;
    const char *strings[2];
    int got;

    vstring_reset(test_log);
    switch (tc->kind) {
    case KIND_STRING:
        list = match_list_init("t", tc->flags, text, string_fn, 1);
        strings[0] = tc->name;
        break;
    case KIND_HOST:
        list = match_list_init("t", tc->flags, text, host_fn, 1);
        strings[0] = tc->name;
        break;
    case KIND_ADDR:
        list = match_list_init("t", tc->flags, text, addr_fn, 1);
        strings[0] = tc->addr;
        break;
    default:
        list = match_list_init("t", tc->flags, text, namadr_fn, 2);
        strings[0] = tc->name;
        strings[1] = tc->addr;
        break;
    }
    got = match_list_match(list, strings);
    if (got != 0 && list->error != DICT_ERR_NONE)
        vstring_sprintf(why, "match with error set");
    else if (got == 0 && list->error != DICT_ERR_NONE)
        got = ERR;
    if (got != tc->want)
        vstring_sprintf(why, "got %d", got);
    else if (log && strstr(vstring_str(test_log), log) == 0)
        vstring_sprintf(why, "log lacks \"%s\"", log);
    else if (!log && tc->want != ERR && strstr(vstring_str(test_log), "warning: ") != 0 &&
             strstr(vstring_str(test_log), "comment at end") == 0)
        vstring_sprintf(why, "unexpected log");
    list = match_list_free(list);
    myfree(text);
    if (log)
        myfree(log);
    return VSTRING_LEN(why) ? vstring_str(why) : 0;
}

/* Every case of the table. */
static void test_cases(void **state UNUSED)
{
    VSTRING *why = vstring_alloc(100);
    int failed = 0;

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const TEST_CASE *tc = cases + i;

        vstring_reset(why);
        if (test_run(tc, why)) {
            print_error("case %zu: list \"%s\" name \"%s\" addr \"%s\" flags %d want %d: %s\nlog: %s", i,
                        tc->list, tc->name ? tc->name : "(null)", tc->addr ? tc->addr : "(null)", tc->flags,
                        tc->want, vstring_str(why), vstring_str(test_log));
            failed++;
        }
    }
    vstring_free(why);
    if (failed)
        fail_msg("%d of %zu cases failed", failed, ARRAY_LEN(cases));
}

/* A list is reusable: the error state of one match does not leak into the next. */
static void test_error_reset(void **state UNUSED)
{
    static const MATCH_LIST_FN host_fn[] = {match_list_hostname};
    MATCH_LIST *list = match_list_init("t", N, "a.example, fail:x", host_fn, 1);
    const char *fails[] = {"b.example"};
    const char *hits[] = {"a.example"};

    assert_int_equal(match_list_match(list, fails), 0);
    assert_int_equal(list->error, DICT_ERR_RETRY);
    assert_int_equal(match_list_match(list, hits), 1);
    assert_int_equal(list->error, DICT_ERR_NONE);
    assert_null(match_list_free(list));
}

/* Run match_list_init() in a child; return its exit status and stderr. */
static int test_child(const char *text, int allow_surrogate, VSTRING *err)
{
    static const MATCH_LIST_FN host_fn[] = {match_list_hostname};
    int fds[2];
    pid_t pid;
    int status;
    char buf[512];
    ssize_t n;

    assert_int_equal(pipe(fds), 0);
    if ((pid = fork()) == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        msg_output_reset();
        dict_allow_surrogate = allow_surrogate;
        match_list_free(match_list_init("mydestination", N, text, host_fn, 1));
        _exit(0);
    }
    close(fds[1]);
    vstring_reset(err);
    while ((n = read(fds[0], buf, sizeof(buf))) > 0)
        vstring_memcat(err, buf, (size_t)n);
    close(fds[0]);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Configuration errors that end the program, as in Postfix. */
static void test_fatal(void **state UNUSED)
{
    static const struct {
        const char *text;
        int allow_surrogate;
        int status;
        const char *err;
    } fatal_cases[] = {
        {"! a.example", 1, 1, "fatal: mydestination: no pattern after '!'\n"},
        {"a.example, !", 1, 1, "fatal: mydestination: no pattern after '!'\n"},
        {"@D/missing", 0, 1, "fatal: open file @D/missing: No such file or directory\n"},
        {"@D/missing", 1, 0, "error: open file @D/missing: No such file or directory\n"},
    };
    VSTRING *err = vstring_alloc(100);

    for (size_t i = 0; i < ARRAY_LEN(fatal_cases); i++) {
        char *text = test_subst(fatal_cases[i].text);
        char *want = test_subst(fatal_cases[i].err);
        int status = test_child(text, fatal_cases[i].allow_surrogate, err);

        if (status != fatal_cases[i].status || strcmp(vstring_str(err), want) != 0)
            fail_msg("\"%s\": status %d, stderr \"%s\"", text, status, vstring_str(err));
        myfree(text);
        myfree(want);
    }
    vstring_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_error_reset),
        cmocka_unit_test(test_fatal),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
