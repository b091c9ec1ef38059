/*
 * domain_list_test - unit tests for domain_list: parent-domain mode chosen
 * by parameter name (tables.md 7.3, T35), /file lists (config.md C28), the
 * default mydestination, negation order and lookup failures.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dict.h"
#include "domain_list.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

#define ERR (-1) /* expected: no match, list->error set */

static char test_dir[] = "/tmp/domain_list_test.XXXXXX";

/* Write DIR/base. */
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

/* Drop diagnostics: the cases check results, match_list_test checks texts. */
static void test_quiet(enum msg_level level UNUSED, const char *text UNUSED)
{
}

static int test_setup(void **state UNUSED)
{
    if (mkdtemp(test_dir) == 0)
        return -1;
    test_write("M", "example.com x\n");
    test_write("dests", "a.example\n# c\nb.example, c.example\n");
    test_write("main.cf", "myhostname = host.example.org\nmydomain = example.org\n");
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

#define DEFAULT_PARENT 0 /* parent_domain_matches_subdomains unset: built-in default */

static const struct {
    const char *parent; /* parent_domain_matches_subdomains, or DEFAULT_PARENT */
    const char *param;
    const char *list; /* "@D" is the test directory */
    const char *name;
    int want;
} cases[] = {
    /* T35: a table in mydestination (exact) and relay_domains (parent mode). */
    {DEFAULT_PARENT, "mydestination", "texthash:@D/M", "example.com", 1},
    {DEFAULT_PARENT, "mydestination", "texthash:@D/M", "sub.example.com", 0},
    {DEFAULT_PARENT, "relay_domains", "texthash:@D/M", "sub.example.com", 1},
    {DEFAULT_PARENT, "relay_domains", "texthash:@D/M", "example.com", 1},
    {DEFAULT_PARENT, "relay_domains", "texthash:@D/M", "example.net", 0},
    {DEFAULT_PARENT, "virtual_alias_domains", "texthash:@D/M", "sub.example.com", 0},
    {DEFAULT_PARENT, "fast_flush_domains", "texthash:@D/M", "sub.example.com", 1},
    {DEFAULT_PARENT, "debug_peer_list", "inline:{example.com=x}", "a.b.example.com", 1},

    /* Plain items in both modes. */
    {DEFAULT_PARENT, "mydestination", "example.com", "example.com", 1},
    {DEFAULT_PARENT, "mydestination", "example.com", "sub.example.com", 0},
    {DEFAULT_PARENT, "mydestination", ".example.com", "sub.example.com", 1},
    {DEFAULT_PARENT, "mydestination", ".example.com", "example.com", 0},
    {DEFAULT_PARENT, "relay_domains", "example.com", "sub.example.com", 1},
    {DEFAULT_PARENT, "relay_domains", ".example.com", "sub.example.com", 0},
    {DEFAULT_PARENT, "relay_domains", "example.com", "EXAMPLE.COM", 1},

    /* The parameter decides, by name. */
    {"", "relay_domains", "example.com", "sub.example.com", 0},
    {"", "relay_domains", ".example.com", "sub.example.com", 1},
    {"mydestination", "mydestination", "example.com", "sub.example.com", 1},
    {"debug_peer_list, mydestination", "mydestination", "texthash:@D/M", "sub.example.com", 1},
    {"mydestination", "relay_domains", "example.com", "sub.example.com", 0},

    /* Negation: first match wins. */
    {DEFAULT_PARENT, "relay_domains", "!a.example.com, example.com", "a.example.com", 0},
    {DEFAULT_PARENT, "relay_domains", "!a.example.com, example.com", "b.a.example.com", 0},
    {DEFAULT_PARENT, "relay_domains", "!a.example.com, example.com", "b.example.com", 1},
    {DEFAULT_PARENT, "mydestination", "!a.example.com, example.com", "a.example.com", 0},
    {DEFAULT_PARENT, "mydestination", "!a.example.com, example.com", "example.com", 1},

    /* C28: /file lists. */
    {DEFAULT_PARENT, "mydestination", "@D/dests", "c.example", 1},
    {DEFAULT_PARENT, "mydestination", "@D/dests", "a.example", 1},
    {DEFAULT_PARENT, "mydestination", "@D/dests", "d.example", 0},
    {DEFAULT_PARENT, "mydestination", "!b.example, @D/dests", "b.example", 0},
    {DEFAULT_PARENT, "mydestination", "!b.example, @D/dests", "c.example", 1},
    {DEFAULT_PARENT, "mydestination", "@D/missing", "c.example", ERR},

    /* Lookup failures are errors, not "no match". */
    {DEFAULT_PARENT, "mydestination", "fail:x", "example.com", ERR},
    {DEFAULT_PARENT, "mydestination", "example.com, fail:x", "example.com", 1},
    {DEFAULT_PARENT, "mydestination", "example.com, fail:x", "example.net", ERR},
    {DEFAULT_PARENT, "relay_domains", "hash:@D/missing", "example.net", ERR},
};

/* Every case of the table. */
static void test_cases(void **state UNUSED)
{
    int failed = 0;

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *text = test_subst(cases[i].list);
        DOMAIN_LIST *list;
        int got;

        var_parent_domain_matches_subdomains = (char *)cases[i].parent;
        list = domain_list_init(cases[i].param, text);
        got = domain_list_match(list, cases[i].name);
        if (got == 0 && list->error != DICT_ERR_NONE)
            got = ERR;
        if (got != cases[i].want) {
            print_error("case %zu: %s = %s, name %s: got %d want %d\n", i, cases[i].param, cases[i].list,
                        cases[i].name, got, cases[i].want);
            failed++;
        }
        domain_list_free(list);
        myfree(text);
    }
    var_parent_domain_matches_subdomains = 0;
    if (failed)
        fail_msg("%d of %zu cases failed", failed, ARRAY_LEN(cases));
}

/* The default mydestination, "$myhostname, localhost.$mydomain, localhost". */
static void test_default_mydestination(void **state UNUSED)
{
    static const struct {
        const char *name;
        int want;
    } names[] = {
        {"host.example.org", 1}, {"HOST.Example.ORG", 1},  {"localhost.example.org", 1},
        {"localhost", 1},        {"example.org", 0},       {"sub.host.example.org", 0},
        {"localhost.", 0},       {"other.example.org", 0},
    };
    DOMAIN_LIST *list;

    mail_conf_read_dir(test_dir);
    assert_string_equal(mail_conf_eval("mydestination"),
                        "host.example.org, localhost.example.org, localhost");
    list = domain_list_init("mydestination", mail_conf_eval("mydestination"));
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (domain_list_match(list, names[i].name) != names[i].want || list->error != DICT_ERR_NONE)
            fail_msg("%s: want %d", names[i].name, names[i].want);
    assert_null(domain_list_free(list));
}

/* parent_domain_matches_subdomains names features, compared as whole words. */
static void test_parent_style(void **state UNUSED)
{
    var_parent_domain_matches_subdomains = (char *)"debug_peer_list,relay_domains  smtpd_access_maps";
    assert_true(domain_list_parent_style("relay_domains"));
    assert_true(domain_list_parent_style("smtpd_access_maps"));
    assert_false(domain_list_parent_style("relay"));
    assert_false(domain_list_parent_style("mynetworks"));
    var_parent_domain_matches_subdomains = 0;
    assert_true(domain_list_parent_style("mynetworks"));
    assert_true(domain_list_parent_style("permit_mx_backup_networks"));
    assert_true(domain_list_parent_style("qmqpd_authorized_clients"));
    assert_false(domain_list_parent_style("mydestination"));
    assert_false(domain_list_parent_style("virtual_mailbox_domains"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_default_mydestination),
        cmocka_unit_test(test_parent_style),
    };

    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
