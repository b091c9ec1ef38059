/*
 * pipe_attr_test - pipe(8)'s master.cf attributes and argv= macro
 * expansion.
 */
#include "sys_defs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "argv.h"
#include "mail_copy.h"
#include "mymalloc.h"
#include "pipe_attr.h"
#include "stringops.h"
#include "vstring.h"

/* Split a command line as the master does: { ... } groups, braces removed. */
static ARGV *split_like_master(const char *line)
{
    char *copy = mystrdup(line);
    char *cp = copy;
    char *arg;
    ARGV *args = argv_alloc(8);

    while ((arg = mystrtokq(&cp, CHARS_SPACE, "{}")) != NULL) {
        assert_null(extpar(&arg, "{}"));
        argv_add(args, arg);
    }
    myfree(copy);
    return args;
}

/* Join an ARGV with '|'. */
static const char *joined(VSTRING *buf, char *const *argv)
{
    vstring_reset(buf);
    for (int i = 0; argv[i]; i++)
        vstring_sprintf_append(buf, "%s%s", i ? "|" : "", argv[i]);
    return vstring_str(buf);
}

/* Attribute parsing: every attribute, {} grouping, errors. */
static void test_parse(void **unused UNUSED)
{
    static const struct {
        const char *line;
        const char *err; /* NULL: success */
        int copy_flags;
        int flags;
        const char *user, *group, *null_sender, *eol, *directory, *chroot;
        long size;
        const char *command; /* words joined by '|' */
    } cases[] = {
        {"flags=DRhu user=u argv=/bin/cat ${recipient}", NULL, MAIL_COPY_DELIVERED | MAIL_COPY_RETURN_PATH,
         PIPE_FLAG_FOLD_HOST | PIPE_FLAG_FOLD_LOCAL, "u", NULL, "MAILER-DAEMON", "\n", NULL, NULL, 0,
         "/bin/cat|${recipient}"},
        {"flags=BFOX.> user=u:g argv=x", NULL,
         MAIL_COPY_BLANK | MAIL_COPY_FROM | MAIL_COPY_ORIG_RCPT | MAIL_COPY_DOT | MAIL_COPY_QUOTE,
         PIPE_FLAG_FINAL, "u", "g", "MAILER-DAEMON", "\n", NULL, NULL, 0, "x"},
        {"flags=q user=u group=mail null_sender= size=1000 eol=\\r\\n directory=/tmp chroot=/var argv=a b",
         NULL, 0, PIPE_FLAG_QUOTE, "u", "mail", "", "\r\n", "/tmp", "/var", 1000, "a|b"},
        {"user=u null_sender=bounces eol=\\101\\t argv=/bin/sh -c { cat > /tmp/o } ${recipient}", NULL, 0, 0,
         "u", NULL, "bounces", "A\t", NULL, NULL, 0, "/bin/sh|-c|cat > /tmp/o|${recipient}"},
        {"user=u argv=/bin/echo {} x", NULL, 0, 0, "u", NULL, "MAILER-DAEMON", "\n", NULL, NULL, 0,
         "/bin/echo||x"},
        {"user=u argv= /bin/echo user=x", NULL, 0, 0, "u", NULL, "MAILER-DAEMON", "\n", NULL, NULL, 0,
         "/bin/echo|user=x"},
        {"FLAGS=R USER=u ARGV=x", NULL, MAIL_COPY_RETURN_PATH, 0, "u", NULL, "MAILER-DAEMON", "\n", NULL,
         NULL, 0, "x"},
        {.line = "flags=R argv=x", .err = "missing user= attribute"},
        {.line = "user= argv=x", .err = "missing user= attribute"},
        {.line = "user=u", .err = "missing argv= attribute"},
        {.line = "user=u argv=", .err = "missing argv= attribute"},
        {.line = "user=u bogus=1 argv=x", .err = "unknown attribute name: bogus"},
        {.line = "user=u junk argv=x", .err = "unknown attribute name: junk"},
        {.line = "user=u size=12k argv=x", .err = "size= attribute has invalid value: 12k"},
        {.line = "user=u size=-1 argv=x", .err = "size= attribute has invalid value: -1"},
        {.line = "user=u eol=\\q argv=x", .err = "eol= attribute has invalid value: \\q"},
        {.line = "user=u eol=x\\ argv=x", .err = "eol= attribute has invalid value: x\\"},
    };
    VSTRING *buf = vstring_alloc(100);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ARGV *args = split_like_master(cases[i].line);
        PIPE_ATTR attr;
        const char *err = pipe_attr_parse(&attr, args->argv);

        if (cases[i].err) {
            if (err == NULL || strcmp(err, cases[i].err) != 0)
                fail_msg("case %zu \"%s\": got error \"%s\", want \"%s\"", i, cases[i].line,
                         err ? err : "(none)", cases[i].err);
        } else {
            if (err)
                fail_msg("case %zu \"%s\": unexpected error \"%s\"", i, cases[i].line, err);
            assert_int_equal(attr.copy_flags, cases[i].copy_flags);
            assert_int_equal(attr.flags, cases[i].flags);
            assert_string_equal(attr.user, cases[i].user);
            if (cases[i].group)
                assert_string_equal(attr.group, cases[i].group);
            else
                assert_null(attr.group);
            assert_string_equal(attr.null_sender, cases[i].null_sender);
            assert_string_equal(attr.eol, cases[i].eol);
            if (cases[i].directory)
                assert_string_equal(attr.directory, cases[i].directory);
            else
                assert_null(attr.directory);
            if (cases[i].chroot)
                assert_string_equal(attr.chroot, cases[i].chroot);
            else
                assert_null(attr.chroot);
            assert_int_equal(attr.size_limit, cases[i].size);
            assert_string_equal(joined(buf, attr.command->argv), cases[i].command);
        }
        pipe_attr_free(&attr);
        argv_free(args);
    }
    vstring_free(buf);
}

/* user= lookups: unknown names and root are refused. */
static void test_user(void **unused UNUSED)
{
    static const struct {
        const char *line;
        const char *err;
    } cases[] = {
        {"user=nobody argv=x", NULL},
        {.line = "user=nobody:root argv=x", .err = "group= attribute specifies root group privileges"},
        {.line = "user=root argv=x", .err = "user= attribute specifies root privileges"},
        {.line = "user=no-such-user-xyz argv=x", .err = "unknown user name: no-such-user-xyz"},
        {.line = "user=nobody:no-such-group-xyz argv=x", .err = "unknown group name: no-such-group-xyz"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ARGV *args = split_like_master(cases[i].line);
        PIPE_ATTR attr;
        const char *err;

        assert_null(pipe_attr_parse(&attr, args->argv));
        err = pipe_attr_user(&attr);
        if (cases[i].err == NULL) {
            if (err)
                fail_msg("\"%s\": unexpected error \"%s\"", cases[i].line, err);
            assert_true(attr.uid != 0 && attr.uid != (uid_t)-1);
        } else if (err == NULL || strcmp(err, cases[i].err) != 0) {
            fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].line, err ? err : "(none)", cases[i].err);
        }
        pipe_attr_free(&attr);
        argv_free(args);
    }
}

/* Macro expansion: values, h/q/u, per-recipient repetition, null_sender. */
static void test_expand(void **unused UNUSED)
{
    static const RECIPIENT three[] = {
        {.orig_addr = "Orig@Example.COM", .address = "Bob+Ext@Example.NET"},
        {.orig_addr = "", .address = "carol@example.net"},
        {.orig_addr = "x@y", .address = "joe smith@Z.example"},
    };
    static const struct {
        const char *attrs;  /* master.cf attributes */
        const char *sender; /* envelope sender */
        int nrcpt;          /* the first N of three[] */
        const char *delim;  /* recipient_delimiter */
        const char *want;   /* expanded words joined by '|' */
    } cases[] = {
        /* Acceptance 22: one run, 4 arguments for 3 recipients. */
        {"user=u argv=/bin/echo ${sender} ${recipient}", "s@a", 3, "",
         "/bin/echo|s@a|Bob+Ext@Example.NET|carol@example.net|joe smith@Z.example"},
        {"user=u argv=/bin/echo ${sender} ${recipient}", "", 1, "",
         "/bin/echo|MAILER-DAEMON|Bob+Ext@Example.NET"},
        {"user=u null_sender= argv=/bin/echo -f $sender -- $recipient", "", 1, "",
         "/bin/echo|-f||--|Bob+Ext@Example.NET"},
        {"flags=q user=u {null_sender=a b} argv=x $sender", "", 1, "", "x|\"a b\""},
        {"flags=q user=u null_sender= argv=x $sender", "", 1, "", "x|"},
        /* h, u, q on addresses. */
        {"flags=h user=u argv=x ${recipient} ${original_recipient}", "s", 1, "",
         "x|Bob+Ext@example.net|Orig@example.com"},
        {"flags=u user=u argv=x ${recipient} ${original_recipient}", "s", 1, "",
         "x|bob+ext@Example.NET|orig@Example.COM"},
        {"flags=hu user=u argv=x ${recipient}", "s", 1, "", "x|bob+ext@example.net"},
        {"flags=q user=u argv=x ${recipient} ${sender}", "a b@c", 3, "",
         "x|Bob+Ext@Example.NET|carol@example.net|\"joe smith\"@Z.example|\"a b\"@c"},
        {"user=u argv=x ${recipient}", "s", 3, "",
         "x|Bob+Ext@Example.NET|carol@example.net|joe smith@Z.example"},
        /* The original recipient falls back to the recipient. */
        {"user=u argv=x $original_recipient", "s", 2, "", "x|Orig@Example.COM|carol@example.net"},
        /* user, extension, mailbox, domain with recipient_delimiter. */
        {"user=u argv=x ${user} ${extension} ${mailbox} ${domain}", "s", 2, "+",
         "x|Bob|carol|Ext||Bob+Ext|carol|Example.NET|example.net"},
        {"flags=hu user=u argv=x ${user}/${extension}/${mailbox}@${domain}", "s", 1, "+-",
         "x|bob/ext/bob+ext@example.net"},
        {"user=u argv=x ${user}:${extension}", "s", 1, "", "x|Bob+Ext:"},
        /* One argument with two per-recipient names repeats once. */
        {"user=u argv=x {${recipient}=${original_recipient}}", "s", 2, "",
         "x|Bob+Ext@Example.NET=Orig@Example.COM|carol@example.net=carol@example.net"},
        /* Request values, $$ and unknown names. */
        {"flags=h user=u argv=x ${nexthop} $queue_id ${size} $(envid) $$HOME ${client_address} "
         "${sasl_username}/",
         "s", 1, "", "x|next.example|QID1|1234|ENV|$HOME|192.0.2.1|alice@example.org/"},
        /* The smtpd AUTH login carried by the request. */
        {"user=u argv=x ${sasl_method} ${sasl_username} ${sasl_sender} ${sasl_sender?y}", "s", 1, "",
         "x|PLAIN|alice@example.org|owner@example.org|y"},
        {"user=u argv=x ${client_hostname} ${client_helo} ${client_port} ${client_protocol} ${nosuch}x", "s",
         1, "", "x|host.example|helo.example|2525|ESMTP|x"},
        /* Conditional forms work. */
        {"user=u argv=x ${extension?+${extension}} ${extension:none}", "s", 2, "+", "x|+Ext|||none"},
    };
    static const RECIPIENT dollar = {.orig_addr = "", .address = "$HOME@x"};
    VSTRING *buf = vstring_alloc(100);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ARGV *args = split_like_master(cases[i].attrs);
        PIPE_ATTR attr;
        PIPE_EXPAND_CTX ctx = {
            .sender = cases[i].sender,
            .nexthop = "Next.Example",
            .queue_id = "QID1",
            .envid = "ENV",
            .size = 1234,
            .client_address = "192.0.2.1",
            .client_hostname = "host.example",
            .client_helo = "helo.example",
            .client_port = "2525",
            .client_protocol = "ESMTP",
            .sasl_method = "PLAIN",
            .sasl_username = "alice@example.org",
            .sasl_sender = "owner@example.org",
            .rcpt_delim = cases[i].delim,
            .rcpt = three,
            .rcpt_count = cases[i].nrcpt,
            .service = "test",
        };
        ARGV *got;

        assert_null(pipe_attr_parse(&attr, args->argv));
        got = pipe_expand_argv(&attr, &ctx);
        if (strcmp(joined(buf, got->argv), cases[i].want) != 0)
            fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, cases[i].attrs, vstring_str(buf),
                     cases[i].want);
        argv_free(got);
        pipe_attr_free(&attr);
        argv_free(args);
    }

    /* Values are not expanded again. */
    {
        ARGV *args = split_like_master("user=u argv=x ${recipient}");
        PIPE_ATTR attr;
        PIPE_EXPAND_CTX ctx = {.sender = "", .rcpt = &dollar, .rcpt_count = 1, .rcpt_delim = ""};
        ARGV *got;

        assert_null(pipe_attr_parse(&attr, args->argv));
        got = pipe_expand_argv(&attr, &ctx);
        assert_string_equal(joined(buf, got->argv), "x|$HOME@x");
        argv_free(got);
        pipe_attr_free(&attr);
        argv_free(args);
    }

    /* Without an AUTH login (no sasl_* in the request) the macros are empty. */
    {
        ARGV *args = split_like_master("user=u argv=x <${sasl_method}|${sasl_username}|${sasl_sender}>");
        PIPE_ATTR attr;
        PIPE_EXPAND_CTX ctx = {
            .sender = "", .rcpt = &dollar, .rcpt_count = 1, .rcpt_delim = "", .sasl_method = ""};
        ARGV *got;

        assert_null(pipe_attr_parse(&attr, args->argv));
        got = pipe_expand_argv(&attr, &ctx);
        assert_string_equal(joined(buf, got->argv), "x|<||>");
        argv_free(got);
        pipe_attr_free(&attr);
        argv_free(args);
    }
    vstring_free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_user),
        cmocka_unit_test(test_expand),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
