/*
 * cleanup_envelope_test - the envelope stage end to end: client records
 * are fed to cleanup_envelope() and cleanup_extracted() with a temporary
 * file as the queue file, and the records written are read back
 * (acceptance checks 5-11 and 45 in unit form, queue.md 4.1-4.8).
 *
 * The content stage is simulated: after MESG the test checks that the
 * next handler is cleanup_message(), then does what that stage does at
 * XTRA (write the record, hand over to cleanup_extracted()).
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cleanup_addr.h"
#include "dict.h"
#include "htable.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec_type.h"
#include "resolve_local.h"
#include "vstream.h"

static VSTRING *logged;
static char path[] = "/tmp/cleanup_envelope_testXXXXXX";

static void capture(enum msg_level level, const char *text)
{
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
}

/*
 * Postfix's defaults at compatibility level 3.6, from the parameter
 * registry, with myhostname = mail.example.com (the acceptance checks'
 * setting), mydestination without localhost.$mydomain, loopback only, no
 * parent-domain matching and recipient_delimiter = +.
 */
static void set_params(void)
{
    mail_conf_forget();
    mail_conf_override("compatibility_level", "3.6");
    mail_conf_override("myhostname", "mail.example.com");
    mail_conf_override("mydestination", "mail.example.com, localhost");
    mail_conf_override("inet_interfaces", "127.0.0.1");
    mail_conf_override("parent_domain_matches_subdomains", "");
    mail_conf_override("recipient_delimiter", "+");
    mail_params_init();
}

static int setup(void **state UNUSED)
{
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    logged = vstring_alloc(100);
    msg_output_reset();
    msg_output(capture);
    dict_allow_surrogate = 1;
    set_params();
    resolve_local_init();
    return 0;
}

static int teardown(void **state UNUSED)
{
    unlink(path);
    vstring_free(logged);
    return 0;
}

static void free_value(void *value)
{
    myfree(value);
}

/* A state as the frame makes it, writing to the temporary file. */
static CLEANUP_STATE *state_new(void)
{
    CLEANUP_STATE *state = mycalloc(1, sizeof(*state));

    state->dst = vstream_fopen(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_non_null(state->dst);
    state->queue_id = mystrdup("QID");
    state->reason = vstring_alloc(100);
    state->temp1 = vstring_alloc(100);
    state->temp2 = vstring_alloc(100);
    state->attr = htable_create(10, 0);
    state->dups = htable_create(10, 0);
    state->create_time.tv_sec = 1000;
    state->create_time.tv_usec = 5;
    state->action = cleanup_envelope;
    return state;
}

static void state_free(CLEANUP_STATE *state)
{
    vstream_fclose(state->dst);
    myfree(state->queue_id);
    vstring_free(state->reason);
    vstring_free(state->temp1);
    vstring_free(state->temp2);
    htable_free(state->attr, free_value);
    htable_free(state->dups, NULL);
    if (state->extracted)
        argv_free(state->extracted);
    if (state->header_bcc)
        argv_free(state->header_bcc);
    myfree(state->fullname);
    myfree(state->sender);
    myfree(state->orig_sender);
    myfree(state->orig_rcpt);
    myfree(state->dsn_orcpt);
    myfree(state->first_rcpt);
    myfree(state->redirect);
    myfree(state->filter);
    myfree(state);
}

/* The records of the file as "Tdata|Tdata|..." (record.h encoding). */
static void read_records(VSTRING *out, off_t data_offset)
{
    FILE *fp = fopen(path, "r");
    int type;

    assert_non_null(fp);
    vstring_reset(out);
    while ((type = getc(fp)) != EOF) {
        size_t len = 0;
        int shift = 0;
        int ch;

        if (ftell(fp) - 1 == data_offset)
            assert_int_equal(type, REC_TYPE_MESG);
        do {
            ch = getc(fp);
            assert_true(ch != EOF);
            len |= (size_t)(ch & 0x7f) << shift;
            shift += 7;
        } while (ch & 0x80);
        if (VSTRING_LEN(out))
            vstring_addch(out, '|');
        vstring_addch(out, type);
        while (len-- > 0) {
            ch = getc(fp);
            assert_true(ch != EOF);
            vstring_addch(out, ch);
        }
    }
    fclose(fp);
}

/*
 * Feed "Tdata" records to the state. Pseudo records do the content
 * stage's part: 'X' (XTRA and hand-over), '1' cleanup_extract_header(),
 * '2' a BCC action, '3' a REDIRECT action, '4' a FILTER action, '5' the
 * message has Resent- headers.
 */
static void feed(CLEANUP_STATE *state, const char *const *records)
{
    for (; *records; records++) {
        const char *data = *records + 1;

        switch (**records) {
        case 'X':
            assert_true(state->action == cleanup_message);
            state->xtra_offset = vstream_ftell(state->dst);
            cleanup_out(state, REC_TYPE_XTRA, "", 0);
            state->action = cleanup_extracted;
            break;
        case '1':
            cleanup_extract_header(state, data);
            break;
        case '2':
            if (state->header_bcc == NULL)
                state->header_bcc = argv_alloc(1);
            argv_add(state->header_bcc, data);
            break;
        case '3':
            state->redirect = mystrdup(data);
            break;
        case '4':
            state->filter = mystrdup(data);
            break;
        case '5':
            state->headers_seen |= CLEANUP_HDR_RESENT;
            break;
        default:
            state->action(state, **records, data, strlen(data));
            break;
        }
    }
}

#define MAP_BCC     "48" /* CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_BCC_OK */
#define MAX_RECORDS 12

typedef struct {
    const char *label;
    const char *params; /* "name=value;..." (maps and lists) */
    const char *records[MAX_RECORDS];
    const char *want; /* records written */
    unsigned errs;
    int rcpt_count;
    const char *log; /* substring, or NULL for no log */
} ENV_CASE;

/* Apply "name=value;name=value" to the parameters the cases change. */
static void apply_params(const char *params)
{
    static const struct {
        const char *name;
        char **var;
    } vars[] = {
        {"canonical_maps", &var_canonical_maps},
        {"sender_canonical_maps", &var_sender_canonical_maps},
        {"recipient_canonical_maps", &var_recipient_canonical_maps},
        {"virtual_alias_maps", &var_virtual_alias_maps},
        {"sender_bcc_maps", &var_sender_bcc_maps},
        {"recipient_bcc_maps", &var_recipient_bcc_maps},
        {"masquerade_domains", &var_masquerade_domains},
        {"masquerade_exceptions", &var_masquerade_exceptions},
        {"masquerade_classes", &var_masquerade_classes},
        {"always_bcc", &var_always_bcc},
    };
    static char *copy;
    char *cp;
    char *item;

    set_params();
    if (copy)
        myfree(copy);
    cp = copy = mystrdup(params);
    while ((item = strsep(&cp, ";")) != NULL) {
        char *eq = strchr(item, '=');
        size_t i;

        if (*item == 0)
            continue;
        assert_non_null(eq);
        *eq = 0;
        if (strcmp(item, "delay_warning_time") == 0) {
            var_delay_warning_time = atoi(eq + 1);
            continue;
        }
        if (strcmp(item, "enable_original_recipient") == 0) {
            var_enable_original_recipient = strcmp(eq + 1, "yes") == 0;
            continue;
        }
        for (i = 0; i < ARRAY_LEN(vars); i++)
            if (strcmp(vars[i].name, item) == 0)
                break;
        assert_true(i < ARRAY_LEN(vars));
        *vars[i].var = eq + 1;
    }
    cleanup_addr_init();
}

static void run_cases(const ENV_CASE *cases, size_t count)
{
    VSTRING *got = vstring_alloc(100);

    for (size_t i = 0; i < count; i++) {
        CLEANUP_STATE *state;

        apply_params(cases[i].params);
        state = state_new();
        vstring_reset(logged);
        feed(state, cases[i].records);
        vstream_fflush(state->dst);
        read_records(got, state->data_offset);
        if (strcmp(vstring_str(got), cases[i].want) != 0)
            fail_msg("%s:\n got  %s\n want %s", cases[i].label, vstring_str(got), cases[i].want);
        if (state->errs != cases[i].errs)
            fail_msg("%s: errs %u, want %u (%s)", cases[i].label, state->errs, cases[i].errs,
                     vstring_str(state->reason));
        if (state->rcpt_count != cases[i].rcpt_count)
            fail_msg("%s: rcpt_count %d, want %d", cases[i].label, state->rcpt_count, cases[i].rcpt_count);
        if (cases[i].log ? strstr(vstring_str(logged), cases[i].log) == NULL : VSTRING_LEN(logged) > 0)
            fail_msg("%s: log '%s'", cases[i].label, vstring_str(logged));
        if (!state->done)
            fail_msg("%s: not done", cases[i].label);
        state_free(state);
    }
    vstring_free(got);
}

/* Normal messages: record order, standard form, checks 5, 6, 8-11, 45. */
static void test_envelope(void **state UNUSED)
{
    static const ENV_CASE cases[] = {
        {"basic (check 5)",
         "",
         {"f" MAP_BCC, "Salice", "Rbob", "M", "X", "E", NULL},
         "T1000 5|Salice@mail.example.com|Obob|Rbob@mail.example.com|M|X|E",
         0,
         1,
         NULL},
        {"client time, full name, attributes",
         "",
         {"f" MAP_BCC, "T2000 7", "FAlice Q", "Salice@x", "Alog_client_name=h.example", "Rbob@host", "M", "X",
          "Acontent_len=5", "E", NULL},
         "T2000 7|FAlice Q|Salice@x|Alog_client_name=h.example|Obob@host|Rbob@host|M|X|Acontent_len=5|E",
         0,
         1,
         NULL},
        {"null sender and MAILER-DAEMON",
         "",
         {"f" MAP_BCC, "SMAILER-DAEMON", "R", "M", "X", "E", NULL},
         "T1000 5|S|O|RMAILER-DAEMON@mail.example.com|M|X|E",
         0,
         1,
         NULL},
        {"MAILER-DAEMON@myorigin",
         "",
         {"f" MAP_BCC, "Smailer-daemon@MAIL.example.com", "Rb@x", "M", "X", "E", NULL},
         "T1000 5|S|Ob@x|Rb@x|M|X|E",
         0,
         1,
         NULL},
        {"MAILER-DAEMON elsewhere",
         "",
         {"f" MAP_BCC, "SMAILER-DAEMON@other.example", "Rb@x", "M", "X", "E", NULL},
         "T1000 5|SMAILER-DAEMON@other.example|Ob@x|Rb@x|M|X|E",
         0,
         1,
         NULL},
        {"canonical (check 6)",
         "sender_canonical_maps=inline:{alice=alice.smith@example.com};"
         "canonical_maps=inline:{alice.smith@example.com=a.smith@example.com}",
         {"f" MAP_BCC, "Salice", "Ralice", "M", "X", "E", NULL},
         "T1000 5|Sa.smith@example.com|Oalice|Ralice@mail.example.com|M|X|E",
         0,
         1,
         NULL},
        {"canonical off without MAP_OK",
         "canonical_maps=inline:{alice=x@y}",
         {"f16", "Salice", "Ralice", "M", "X", "E", NULL},
         "T1000 5|Salice@mail.example.com|Oalice|Ralice@mail.example.com|M|X|E",
         0,
         1,
         NULL},
        {"canonical nesting (check 7)",
         "canonical_maps=inline:{a0@x=a1@x, a1@x=a2@x, a2@x=a3@x, a3@x=a4@x, a4@x=a5@x, a5@x=a6@x, "
         "a6@x=a7@x, a7@x=a8@x, a8@x=a9@x, a9@x=a10@x, a10@x=a11@x, a11@x=a12@x}",
         {"f" MAP_BCC, "Sa0@x", "Rb@x", "M", "X", "E", NULL},
         "T1000 5",
         CLEANUP_STAT_DEFER,
         0,
         "warning: QID: unreasonable canonical_maps map nesting for a10@x -- message not accepted, try again "
         "later"},
        {"masquerading (check 8)",
         "masquerade_domains=!it.example.com, example.com;masquerade_exceptions=root",
         {"f" MAP_BCC, "Su@a.b.example.com", "Ru@a.example.com", "Rv@x.it.example.com", "M", "X", "E", NULL},
         "T1000 "
         "5|Su@example.com|Ou@a.example.com|Ru@a.example.com|Ov@x.it.example.com|Rv@x.it.example.com|M|X|"
         "E",
         0,
         2,
         NULL},
        {"masquerading envelope recipients",
         "masquerade_domains=example.com;masquerade_classes=envelope_recipient",
         {"f" MAP_BCC, "Su@a.example.com", "Rv@a.example.com", "M", "X", "E", NULL},
         "T1000 5|Su@a.example.com|Ov@a.example.com|Rv@example.com|M|X|E",
         0,
         1,
         NULL},
        {"virtual aliases (check 9)",
         "virtual_alias_maps=inline:{{info@v.test=a@x.test, b@x.test}}",
         {"f" MAP_BCC, "Ss@x", "Rinfo@v.test", "Rnobody@v.test", "M", "X", "E", NULL},
         "T1000 5|Ss@x|Oinfo@v.test|Ra@x.test|Oinfo@v.test|Rb@x.test|Onobody@v.test|Rnobody@v.test|M|X|E",
         0,
         3,
         NULL},
        {"virtual lookup failure",
         "virtual_alias_maps=fail:v",
         {"f" MAP_BCC, "Ss@x", "Rinfo@v.test", "M", "X", "E", NULL},
         "T1000 5|Ss@x",
         CLEANUP_STAT_DEFER,
         0,
         "warning: QID: virtual_alias_maps map lookup problem for info@v.test -- message not accepted, try "
         "again later"},
        {"always_bcc (check 10)",
         "always_bcc=arch@example.com",
         {"f" MAP_BCC, "Ss@x", "Rb@x", "M", "X", "E", NULL},
         "T1000 5|Ss@x|Ob@x|Rb@x|M|X|Oarch@example.com|n1|Rarch@example.com|E",
         0,
         2,
         NULL},
        {"no always_bcc for notices",
         "always_bcc=arch@example.com",
         {"f32", "S", "Rb@x", "M", "X", "E", NULL},
         "T1000 5|S|Ob@x|Rb@x|M|X|E",
         0,
         1,
         NULL},
        {"duplicates (check 11)",
         "",
         {"f" MAP_BCC, "Ss@x", "Rb@x", "RB@X", "Ob@x", "Rb@x", "Oother", "Rb@x", "M", "X", "E", NULL},
         "T1000 5|Ss@x|Ob@x|Rb@x|Oother|Rb@x|M|X|E",
         0,
         2,
         NULL},
        {"duplicates through aliases",
         "virtual_alias_maps=inline:{{l@x=b@x, c@x}}",
         {"f" MAP_BCC, "Ss@x", "Ol@x", "Rb@x", "Rl@x", "M", "X", "E", NULL},
         "T1000 5|Ss@x|Ol@x|Rb@x|Ol@x|Rc@x|M|X|E",
         0,
         2,
         NULL},
        {"DSN records",
         "",
         {"f" MAP_BCC, "Ss@x", "orfc822;b@x", "n6", "Rb@x", "n2", "Rc@x", "Rd@x", "M", "X", "E", NULL},
         "T1000 5|Ss@x|Ob@x|orfc822;b@x|n6|Rb@x|Oc@x|n2|Rc@x|Od@x|Rd@x|M|X|E",
         0,
         3,
         NULL},
        {"bad DSN notify",
         "",
         {"f" MAP_BCC, "Ss@x", "n3", "Rb@x", "M", "X", "E", NULL},
         "T1000 5|Ss@x|Ob@x|Rb@x|M|X|E",
         0,
         1,
         "warning: QID: ignoring malformed DSN notify record <3>"},
        {"sender_bcc_maps",
         "sender_bcc_maps=inline:{s@x=sb}",
         {"f" MAP_BCC, "Ss@x", "Rb@x", "M", "X", "E", NULL},
         "T1000 5|Ss@x|Osb@mail.example.com|n1|Rsb@mail.example.com|Ob@x|Rb@x|M|X|E",
         0,
         2,
         NULL},
        {"recipient_bcc_maps",
         "recipient_bcc_maps=inline:{@x=rb@y}",
         {"f" MAP_BCC, "Ss@z", "Rb@x", "Rc@z", "M", "X", "E", NULL},
         "T1000 5|Ss@z|Ob@x|Rb@x|Orb@y|n1|Rrb@y|Oc@z|Rc@z|M|X|E",
         0,
         3,
         NULL},
        {"bcc maps failure",
         "sender_bcc_maps=fail:b",
         {"f" MAP_BCC, "Ss@x", "Rb@x", "M", "X", "E", NULL},
         "T1000 5|Ss@x",
         CLEANUP_STAT_DEFER,
         0,
         "warning: QID: sender_bcc_maps map lookup problem for s@x -- message not accepted, try again later"},
        {"no original recipient",
         "enable_original_recipient=no",
         {"f" MAP_BCC, "Ss@x", "Rb", "M", "X", "E", NULL},
         "T1000 5|Ss@x|Rb@mail.example.com|M|X|E",
         0,
         1,
         NULL},
        {"delay warning time",
         "delay_warning_time=3600",
         {"f" MAP_BCC, "Ss@x", "Rb@x", "M", "X", "E", NULL},
         "T1000 5|Ss@x|Ob@x|Rb@x|W           4600|M|X|E",
         0,
         1,
         NULL},
    };

    run_cases(cases, ARRAY_LEN(cases));
}

/* The extracted segment: sendmail -t, Resent-, BCC, REDIRECT, FILTER. */
static void test_extracted(void **state UNUSED)
{
    static const ENV_CASE cases[] = {
        {"sendmail -t (check 45)",
         "",
         {"f112", "Ss@x", "Rb@x.test", "M", "1a@x.test", "X", "E", NULL},
         "T1000 5|Ss@x|Ob@x.test|Rb@x.test|M|X|Oa@x.test|Ra@x.test|E",
         0,
         2,
         NULL},
        {"no recipients (check 45)",
         "",
         {"f112", "Ss@x", "M", "1undisclosed-recipients:;", "X", "E", NULL},
         "T1000 5|Ss@x|M|X",
         CLEANUP_STAT_RCPT,
         0,
         NULL},
        {"Resent- headers",
         "",
         {"f112", "Ss@x", "M", "5", "1To: a@x", "1Resent-To: b@x", "1Cc: c@x", "X", "E", NULL},
         "T1000 5|Ss@x|M|X|Ob@x|Rb@x|E",
         0,
         1,
         NULL},
        {"Resent- seen, values without names",
         "",
         {"f112", "Ss@x", "M", "5", "1a@x", "X", "E", NULL},
         "T1000 5|Ss@x|M|X|Oa@x|Ra@x|E",
         0,
         1,
         NULL},
        {"BCC action, REDIRECT overrides FILTER",
         "",
         {"f" MAP_BCC, "Ss@x", "Rb@x", "M", "2hb", "3r@y", "4smtp:[10.0.0.1]", "X", "E", NULL},
         "T1000 5|Ss@x|Ob@x|Rb@x|M|X|Ohb@mail.example.com|Rhb@mail.example.com|Aredirect=r@y|E",
         0,
         2,
         NULL},
        {"FILTER",
         "",
         {"f" MAP_BCC, "Ss@x", "Rb@x", "M", "4smtp:[10.0.0.1]", "X", "E", NULL},
         "T1000 5|Ss@x|Ob@x|Rb@x|M|X|Acontent_filter=smtp:[10.0.0.1]|E",
         0,
         1,
         NULL},
        {"client records in the extracted segment",
         "",
         {"f" MAP_BCC, "Ss@x", "M", "X", "Ax=y", "Oorig", "Rc", "E", NULL},
         "T1000 5|Ss@x|M|X|Ax=y|Oorig|Rc@mail.example.com|E",
         0,
         1,
         NULL},
        {"unexpected record in extracted segment",
         "",
         {"f" MAP_BCC, "Ss@x", "Rb@x", "M", "X", "Nbody", "E", NULL},
         "T1000 5|Ss@x|Ob@x|Rb@x|M|X",
         CLEANUP_STAT_BAD,
         1,
         "warning: QID: message rejected: unexpected record type 78 in extracted segment"},
    };

    run_cases(cases, ARRAY_LEN(cases));
}

/* Protocol violations: BAD with a warning; records dropped after that. */
static void test_protocol(void **state UNUSED)
{
    static const ENV_CASE cases[] = {
        {"recipient before sender",
         "",
         {"f" MAP_BCC, "Rb@x", "Ss@x", "M", "X", "E", NULL},
         "T1000 5",
         CLEANUP_STAT_BAD,
         0,
         "warning: QID: message rejected: envelope recipient precedes sender"},
        {"two senders",
         "",
         {"f" MAP_BCC, "Ss@x", "St@x", "Rb@x", "M", "X", "E", NULL},
         "T1000 5|Ss@x",
         CLEANUP_STAT_BAD,
         0,
         "warning: QID: message rejected: multiple envelope sender records"},
        {"no sender",
         "",
         {"f" MAP_BCC, "Ax=y", "M", "X", "E", NULL},
         "T1000 5|Ax=y",
         CLEANUP_STAT_BAD,
         0,
         "warning: QID: message rejected: missing sender envelope record"},
        {"malformed attribute",
         "",
         {"f" MAP_BCC, "Ss@x", "Anovalue", "M", "X", "E", NULL},
         "T1000 5|Ss@x",
         CLEANUP_STAT_BAD,
         0,
         "warning: QID: message rejected: malformed attribute: novalue"},
        {"bad rewrite context",
         "",
         {"f" MAP_BCC, "Ss@x", "Arewrite_context=elsewhere", "M", "X", "E", NULL},
         "T1000 5|Ss@x",
         CLEANUP_STAT_BAD,
         0,
         "message rejected: bad rewriting context: elsewhere"},
        {"unknown record type",
         "",
         {"f" MAP_BCC, "Ss@x", "Qwhat", "M", "X", "E", NULL},
         "T1000 5|Ss@x",
         CLEANUP_STAT_BAD,
         0,
         "warning: QID: message rejected: unexpected record type 81"},
        {"malformed time",
         "",
         {"f" MAP_BCC, "Tsoon", "Ss@x", "Rb@x", "M", "X", "E", NULL},
         "T1000 5|Ss@x|Ob@x|Rb@x|M|X|E",
         0,
         1,
         "warning: QID: ignoring malformed time record: soon"},
    };

    run_cases(cases, ARRAY_LEN(cases));
}

/* Attributes: kept in state->attr, pointers for logging and context. */
static void test_attributes(void **unused UNUSED)
{
    static const char *const records[] = {
        "f48",
        "Ss@x",
        "Arewrite_context=remote",
        "Alog_client_name=h.example",
        "Alog_client_address=10.0.0.1",
        "Alog_protocol_name=ESMTP",
        "Alog_helo_name=helo.example",
        "Alog_client_name=h2.example",
        "FFull",
        NULL,
    };
    CLEANUP_STATE *state;

    apply_params("");
    state = state_new();
    feed(state, records);
    assert_int_equal(state->errs, 0);
    assert_string_equal(state->rewrite_context, "remote");
    assert_string_equal(state->client_name, "h2.example");
    assert_string_equal(state->client_addr, "10.0.0.1");
    assert_string_equal(state->protocol, "ESMTP");
    assert_string_equal(state->helo, "helo.example");
    assert_string_equal(state->fullname, "Full");
    assert_string_equal(state->sender, "s@x");
    assert_string_equal(state->orig_sender, "s@x");
    assert_int_equal(state->flags, 48);
    state_free(state);

    /* Without the attribute the context is local. */
    state = state_new();
    feed(state, (const char *const[]){"f48", "Ss@x", NULL});
    assert_string_equal(state->rewrite_context, "local");
    assert_int_equal(state->arrival_time.tv_sec, 1000);
    state_free(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_extracted),
        cmocka_unit_test(test_protocol),
        cmocka_unit_test(test_attributes),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
