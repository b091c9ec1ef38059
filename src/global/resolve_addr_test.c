/*
 * resolve_addr_test - unit tests for resolve_addr: the address classes,
 * routed addresses, transport_maps (acceptance 39), relayhost (40),
 * relocated_maps (41), the BOTH warning (42), sender-dependent relay
 * hosts and transports, syntax errors and table failures. Tables are
 * texthash files in a temporary directory ("@D" in the settings).
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dict.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_addr.h"
#include "resolve_clnt.h"
#include "vstring.h"

static char test_dir[] = "/tmp/resolve_addr_test.XXXXXX";
static VSTRING *logged;

static const struct {
    const char *name;
    const char *text;
} test_files[] = {
    {"transport", "example.net relay:[10.0.0.5]:2525\n.example.net smtp:\n* error:go away\n"},
    {"transport2", "gw.test :[gw.example]\nkeep.test :\nbob@ext.test slow:\next.test fast:\n"
                   "mailer-daemon@mail.example.com devnull:\nsub.parent.test p1:\n.parent.test p2:\n"},
    {"relocated", "old@example.com new@example.org\n@gone.test somewhere@else.test\n"},
    {"sdrh", "a@s.test [relay-a]:25\n@s.test [relay-s]\n<> [relay-null]\n"},
    {"sddt", "x@t.test uucp:uuhost\ny@t.test lmtp\n"},
};

static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
    if (level >= MSG_FATAL)
        fprintf(stderr, "%s%s\n", msg_level_prefix(level), text);
}

static int setup(void **state UNUSED)
{
    VSTRING *path = vstring_alloc(100);
    FILE *fp;

    if (mkdtemp(test_dir) == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(test_files) / sizeof(test_files[0]); i++) {
        vstring_sprintf(path, "%s/%s", test_dir, test_files[i].name);
        if ((fp = fopen(vstring_str(path), "w")) == NULL || fputs(test_files[i].text, fp) == EOF ||
            fclose(fp) != 0)
            return -1;
    }
    vstring_free(path);
    logged = vstring_alloc(100);
    msg_output_reset();
    msg_output(capture);
    dict_allow_surrogate = 1;
    return 0;
}

static int teardown(void **state UNUSED)
{
    VSTRING *cmd = vstring_alloc(100);
    int rc;

    vstring_sprintf(cmd, "rm -rf '%s'", test_dir);
    rc = system(vstring_str(cmd));
    vstring_free(cmd);
    vstring_free(logged);
    msg_output_reset();
    return rc == 0 ? 0 : -1;
}

/*
 * Postfix's defaults at compatibility level 3.6 with myhostname =
 * mail.example.com, loopback only, plus "name=value;..." settings in
 * which "@D" is the table directory.
 */
static void configure(const char *settings)
{
    VSTRING *buf = vstring_alloc(100);
    char *copy;
    char *bp;
    char *item;

    for (const char *cp = settings; *cp; cp++) {
        if (cp[0] == '@' && cp[1] == 'D') {
            vstring_strcat(buf, test_dir);
            cp++;
        } else {
            vstring_strncat(buf, cp, 1);
        }
    }
    mail_conf_forget();
    mail_conf_override("compatibility_level", "3.6");
    mail_conf_override("myhostname", "mail.example.com");
    mail_conf_override("mydestination", "mail.example.com, localhost");
    mail_conf_override("inet_interfaces", "127.0.0.1");
    mail_conf_override("recipient_delimiter", "+");
    copy = mystrdup(vstring_str(buf));
    bp = copy;
    while ((item = strsep(&bp, ";")) != NULL) {
        char *eq = strchr(item, '=');

        if (eq == NULL)
            continue;
        *eq = 0;
        mail_conf_override(item, eq + 1);
    }
    myfree(copy);
    vstring_free(buf);
    mail_params_init();
    vstring_reset(logged);
    resolve_addr_init();
}

#define T39 "transport_maps=texthash:@D/transport"
#define T2  "transport_maps=texthash:@D/transport2"

static const struct {
    const char *settings;
    const char *sender;
    const char *address;
    int flags;
    const char *transport;
    const char *nexthop;
    const char *recipient;
} cases[] = {
    /* Classes with their default transports and next hops. */
    {"", "", "alice@mail.example.com", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL, "local", "mail.example.com",
     "alice@mail.example.com"},
    {"", "", "alice@LOCALHOST.", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL, "local", "mail.example.com",
     "alice@LOCALHOST"},
    {"", "", "alice@[127.0.0.1]", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL, "local", "mail.example.com",
     "alice@[127.0.0.1]"},
    {"", "", "alice", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL, "local", "mail.example.com",
     "alice@mail.example.com"},
    {"", "", "", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL, "local", "mail.example.com",
     "MAILER-DAEMON@mail.example.com"},
    {"local_transport=local", "", "alice@localhost", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL, "local",
     "localhost", "alice@localhost"},
    {"virtual_alias_domains=va.test", "", "u@va.test", RESOLVE_CLASS_ALIAS | RESOLVE_FLAG_FINAL, "error",
     "5.1.1 User unknown in virtual alias table", "u@va.test"},
    {"virtual_alias_domains=va.test;show_user_unknown_table_name=no", "", "u@va.test",
     RESOLVE_CLASS_ALIAS | RESOLVE_FLAG_FINAL, "error", "5.1.1 User unknown", "u@va.test"},
    {"virtual_mailbox_domains=vm.test", "", "u@VM.test", RESOLVE_CLASS_VIRTUAL | RESOLVE_FLAG_FINAL,
     "virtual", "vm.test", "u@VM.test"},
    {"virtual_mailbox_domains=vm.test;virtual_transport=lmtp:unix:private/dovecot", "", "u@vm.test",
     RESOLVE_CLASS_VIRTUAL | RESOLVE_FLAG_FINAL, "lmtp", "unix:private/dovecot", "u@vm.test"},
    {"relay_domains=rel.test", "", "u@rel.test", RESOLVE_CLASS_RELAY, "relay", "rel.test", "u@rel.test"},
    {"relay_domains=rel.test;parent_domain_matches_subdomains=", "", "u@sub.rel.test", RESOLVE_CLASS_DEFAULT,
     "smtp", "sub.rel.test", "u@sub.rel.test"},
    {"relay_domains=rel.test", "", "u@sub.rel.test", RESOLVE_CLASS_RELAY, "relay", "sub.rel.test",
     "u@sub.rel.test"},
    {"", "", "u@example.org", RESOLVE_CLASS_DEFAULT, "smtp", "example.org", "u@example.org"},
    {"default_transport=smtp:[outbound]:587", "", "u@example.org", RESOLVE_CLASS_DEFAULT, "smtp",
     "[outbound]:587", "u@example.org"},
    {"", "", "u@[192.0.2.1]", RESOLVE_CLASS_DEFAULT, "smtp", "[192.0.2.1]", "u@[192.0.2.1]"},
    /* Acceptance 40: relayhost for remote mail only. */
    {"relayhost=[10.0.0.9]:2525", "", "u@example.org", RESOLVE_CLASS_DEFAULT, "smtp", "[10.0.0.9]:2525",
     "u@example.org"},
    {"relayhost=[10.0.0.9]:2525;relay_domains=rel.test", "", "u@rel.test", RESOLVE_CLASS_RELAY, "relay",
     "[10.0.0.9]:2525", "u@rel.test"},
    {"relayhost=[10.0.0.9]:2525", "", "alice@mail.example.com", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL,
     "local", "mail.example.com", "alice@mail.example.com"},
    {"relayhost=[10.0.0.9]:2525;relay_transport=relay:[direct]", "relay_domains=x", "u@example.org",
     RESOLVE_CLASS_DEFAULT, "smtp", "[10.0.0.9]:2525", "u@example.org"},
    /* Sender-dependent relay hosts and default transports. */
    {"relayhost=[rh];sender_dependent_relayhost_maps=texthash:@D/sdrh", "a@s.test", "u@example.org",
     RESOLVE_CLASS_DEFAULT, "smtp", "[relay-a]:25", "u@example.org"},
    {"relayhost=[rh];sender_dependent_relayhost_maps=texthash:@D/sdrh", "b@s.test", "u@example.org",
     RESOLVE_CLASS_DEFAULT, "smtp", "[relay-s]", "u@example.org"},
    {"relayhost=[rh];sender_dependent_relayhost_maps=texthash:@D/sdrh", "", "u@example.org",
     RESOLVE_CLASS_DEFAULT, "smtp", "[relay-null]", "u@example.org"},
    {"relayhost=[rh];sender_dependent_relayhost_maps=texthash:@D/sdrh", "c@other.test", "u@example.org",
     RESOLVE_CLASS_DEFAULT, "smtp", "[rh]", "u@example.org"},
    {"relayhost=[rh];sender_dependent_default_transport_maps=texthash:@D/sddt", "x@t.test", "u@example.org",
     RESOLVE_CLASS_DEFAULT, "uucp", "uuhost", "u@example.org"},
    {"relayhost=[rh];sender_dependent_default_transport_maps=texthash:@D/sddt", "y@t.test", "u@example.org",
     RESOLVE_CLASS_DEFAULT, "lmtp", "[rh]", "u@example.org"},
    {"sender_dependent_default_transport_maps=texthash:@D/sddt;relay_domains=rel.test", "x@t.test",
     "u@rel.test", RESOLVE_CLASS_RELAY, "relay", "rel.test", "u@rel.test"},
    /* Acceptance 39: transport_maps. */
    {T39, "", "a@example.net", RESOLVE_CLASS_DEFAULT, "relay", "[10.0.0.5]:2525", "a@example.net"},
    {T39, "", "a@sub.example.net", RESOLVE_CLASS_DEFAULT, "smtp", "sub.example.net", "a@sub.example.net"},
    {T39, "", "a@other.test", RESOLVE_CLASS_DEFAULT, "error", "go away", "a@other.test"},
    {T39, "", "alice@mail.example.com", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL, "error", "go away",
     "alice@mail.example.com"},
    {T39 ";relayhost=[10.0.0.9]", "", "a@sub.example.net", RESOLVE_CLASS_DEFAULT, "smtp", "sub.example.net",
     "a@sub.example.net"},
    {T39 ";virtual_alias_domains=va.test", "", "u@va.test", RESOLVE_CLASS_ALIAS | RESOLVE_FLAG_FINAL, "error",
     "5.1.1 User unknown in virtual alias table", "u@va.test"},
    {T2, "", "u@gw.test", RESOLVE_CLASS_DEFAULT, "smtp", "[gw.example]", "u@gw.test"},
    {T2 ";relay_domains=gw.test", "", "u@gw.test", RESOLVE_CLASS_RELAY, "relay", "[gw.example]", "u@gw.test"},
    {T2 ";relayhost=[rh]", "", "u@keep.test", RESOLVE_CLASS_DEFAULT, "smtp", "[rh]", "u@keep.test"},
    {T2, "", "bob+x@ext.test", RESOLVE_CLASS_DEFAULT, "slow", "ext.test", "bob+x@ext.test"},
    {T2, "", "BOB@Ext.Test", RESOLVE_CLASS_DEFAULT, "slow", "ext.test", "BOB@Ext.Test"},
    {T2, "", "alice@ext.test", RESOLVE_CLASS_DEFAULT, "fast", "ext.test", "alice@ext.test"},
    {T2, "", "u@a.sub.ext.test", RESOLVE_CLASS_DEFAULT, "smtp", "a.sub.ext.test", "u@a.sub.ext.test"},
    {T2, "", "", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL, "devnull", "mail.example.com",
     "MAILER-DAEMON@mail.example.com"},
    {T2, "", "u@sub.parent.test", RESOLVE_CLASS_DEFAULT, "p1", "sub.parent.test", "u@sub.parent.test"},
    {T2, "", "u@x.sub.parent.test", RESOLVE_CLASS_DEFAULT, "p2", "x.sub.parent.test", "u@x.sub.parent.test"},
    {T2 ";parent_domain_matches_subdomains=transport_maps", "", "u@x.sub.parent.test", RESOLVE_CLASS_DEFAULT,
     "p1", "x.sub.parent.test", "u@x.sub.parent.test"},
    {"transport_maps=inline:{{/^a@/ = x:y}}", "", "a@b.test", RESOLVE_CLASS_DEFAULT, "smtp", "b.test",
     "a@b.test"},
    {"transport_maps=regexp:{{/^a@/ x:y}}", "", "a@b.test", RESOLVE_CLASS_DEFAULT, "x", "y", "a@b.test"},
    {"transport_maps=regexp:{{/^b\\.test/ x:y}}", "", "a@b.test", RESOLVE_CLASS_DEFAULT, "smtp", "b.test",
     "a@b.test"},
    /* Acceptance 41: relocated_maps, every class, extension ignored. */
    {"relocated_maps=texthash:@D/relocated", "", "old@example.com", RESOLVE_CLASS_DEFAULT, "error",
     "5.1.6 User has moved to new@example.org", "old@example.com"},
    {"relocated_maps=texthash:@D/relocated", "", "old+ext@example.com", RESOLVE_CLASS_DEFAULT, "error",
     "5.1.6 User has moved to new@example.org", "old+ext@example.com"},
    {"relocated_maps=texthash:@D/relocated;mydestination=example.com", "", "old@example.com",
     RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL, "error", "5.1.6 User has moved to new@example.org",
     "old@example.com"},
    {"relocated_maps=texthash:@D/relocated", "", "anyone@gone.test", RESOLVE_CLASS_DEFAULT, "error",
     "5.1.6 User has moved to somewhere@else.test", "anyone@gone.test"},
    {"relocated_maps=texthash:@D/relocated;" T39, "", "old@example.com", RESOLVE_CLASS_DEFAULT, "error",
     "5.1.6 User has moved to new@example.org", "old@example.com"},
    {"relocated_maps=texthash:@D/relocated", "", "young@example.com", RESOLVE_CLASS_DEFAULT, "smtp",
     "example.com", "young@example.com"},
    /* Routed addresses: local domains are stripped, others flagged. */
    {"", "", "u@b.test@mail.example.com", RESOLVE_CLASS_DEFAULT, "smtp", "b.test", "u@b.test"},
    {"", "", "u%b.test@mail.example.com", RESOLVE_CLASS_DEFAULT, "smtp", "b.test", "u@b.test"},
    {"", "", "b.test!u@mail.example.com", RESOLVE_CLASS_DEFAULT, "smtp", "b.test", "u@b.test"},
    {"", "", "u%localhost@mail.example.com", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL, "local",
     "mail.example.com", "u@localhost"},
    {"", "", "u%b.test%localhost@mail.example.com", RESOLVE_CLASS_DEFAULT, "smtp", "b.test", "u@b.test"},
    {"", "", "u%b.test@c.test", RESOLVE_CLASS_DEFAULT | RESOLVE_FLAG_ROUTED, "smtp", "c.test",
     "u%b.test@c.test"},
    {"", "", "b.test!u@c.test", RESOLVE_CLASS_DEFAULT | RESOLVE_FLAG_ROUTED, "smtp", "c.test",
     "b.test!u@c.test"},
    {"", "", "u@b.test@c.test", RESOLVE_CLASS_DEFAULT | RESOLVE_FLAG_ROUTED, "smtp", "c.test",
     "u@b.test@c.test"},
    {"allow_percent_hack=no", "", "u%b.test@mail.example.com", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL,
     "local", "mail.example.com", "u%b.test@mail.example.com"},
    {"swap_bangpath=no", "", "b.test!u@mail.example.com", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL, "local",
     "mail.example.com", "b.test!u@mail.example.com"},
    /* Syntax errors. */
    {"", "", "u@", RESOLVE_CLASS_DEFAULT | RESOLVE_FLAG_ERROR, "error", "5.1.3 bad address syntax", "u@"},
    {"resolve_null_domain=yes", "", "u@", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL, "local",
     "mail.example.com", "u@mail.example.com"},
    {"", "", "u@1.2.3.4", RESOLVE_CLASS_DEFAULT | RESOLVE_FLAG_ERROR, "error", "5.1.3 bad address syntax",
     "u@1.2.3.4"},
    {"resolve_numeric_domain=yes", "", "u@127.0.0.1", RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL, "local",
     "mail.example.com", "u@[127.0.0.1]"},
    {"", "", "u@bad..domain", RESOLVE_CLASS_DEFAULT | RESOLVE_FLAG_ERROR, "error", "5.1.3 bad address syntax",
     "u@bad..domain"},
    /* Table failures defer, never a wrong answer. */
    {"transport_maps=fail:x", "", "u@example.org", RESOLVE_FLAG_FAIL, "retry",
     "4.3.0 address resolver failure", "u@example.org"},
    {"relocated_maps=fail:x", "", "u@example.org", RESOLVE_FLAG_FAIL, "retry",
     "4.3.0 address resolver failure", "u@example.org"},
    {"relay_domains=fail:x", "", "u@example.org", RESOLVE_FLAG_FAIL, "retry",
     "4.3.0 address resolver failure", "u@example.org"},
    {"sender_dependent_relayhost_maps=fail:x", "s@x.test", "u@example.org", RESOLVE_FLAG_FAIL, "retry",
     "4.3.0 address resolver failure", "u@example.org"},
    {"mydestination=fail:x", "", "u@example.org", RESOLVE_FLAG_FAIL, "retry",
     "4.3.0 address resolver failure", "u@example.org"},
};

static void test_resolve(void **state UNUSED)
{
    RESOLVE_REPLY reply;

    resolve_clnt_init(&reply);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        configure(cases[i].settings);
        resolve_addr(cases[i].sender, cases[i].address, &reply);
        if (reply.flags != cases[i].flags || strcmp(vstring_str(reply.transport), cases[i].transport) != 0 ||
            strcmp(vstring_str(reply.nexthop), cases[i].nexthop) != 0 ||
            strcmp(vstring_str(reply.recipient), cases[i].recipient) != 0)
            fail_msg("case %zu (%s | %s | %s): got 0x%x %s / %s / %s, want 0x%x %s / %s / %s", i,
                     cases[i].settings, cases[i].sender, cases[i].address, reply.flags,
                     vstring_str(reply.transport), vstring_str(reply.nexthop), vstring_str(reply.recipient),
                     cases[i].flags, cases[i].transport, cases[i].nexthop, cases[i].recipient);
    }
    resolve_clnt_free(&reply);
}

/* Acceptance 42 and the other pairs: one warning per domain and pair. */
static void test_warn_both(void **state UNUSED)
{
    static const struct {
        const char *settings;
        const char *want;
    } warn_cases[] = {
        {"mydestination=mail.example.com, localhost, d.test;virtual_mailbox_domains=d.test",
         "warning: do not list domain d.test in BOTH mydestination and virtual_mailbox_domains\n"},
        {"mydestination=mail.example.com, localhost, D.test;virtual_alias_domains=d.test, e.test",
         "warning: do not list domain d.test in BOTH mydestination and virtual_alias_domains\n"},
        {"virtual_alias_domains=a.test, b.test;virtual_mailbox_domains=b.test, c.test",
         "warning: do not list domain b.test in BOTH virtual_alias_domains and virtual_mailbox_domains\n"},
        {"mydestination=mail.example.com;virtual_mailbox_domains=inline:{{mail.example.com=x}}",
         "warning: do not list domain mail.example.com in BOTH mydestination and virtual_mailbox_domains\n"},
        {"relay_domains=mail.example.com;virtual_mailbox_domains=v.test", ""},
        {"virtual_mailbox_domains=.example.com",
         "warning: do not list domain mail.example.com in BOTH mydestination and virtual_mailbox_domains\n"},
        {"virtual_mailbox_domains=.other.test", ""},
    };

    for (size_t i = 0; i < sizeof(warn_cases) / sizeof(warn_cases[0]); i++) {
        configure(warn_cases[i].settings);
        assert_string_equal(vstring_str(logged), warn_cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_warn_both),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
