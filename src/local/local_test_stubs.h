/*
 * local_test_stubs - link stand-ins for the unit tests of src/local: the
 * functions of local.c (not linked into tests, it holds main()) and weak
 * stand-ins for the other delivery modules, which the real modules
 * replace when they are present. Include from exactly one place per test
 * program. Every stand-in appends "NAME ARG" to stub_log.
 */
#ifndef LOCAL_TEST_STUBS_H
#define LOCAL_TEST_STUBS_H

#include <stdarg.h>

#include "local.h"
#include "mymalloc.h"
#include "vstring.h"

#define STUB_WEAK __attribute__((weak))

static VSTRING *stub_log;

/* Append one line to stub_log. */
static void stub_note(const char *fmt, ...) PRINTFLIKE(1, 2);
static void stub_note(const char *fmt, ...)
{
    va_list ap;

    if (stub_log == NULL)
        stub_log = vstring_alloc(100);
    va_start(ap, fmt);
    vstring_vsprintf_append(stub_log, fmt, ap);
    va_end(ap);
    vstring_addch(stub_log, '\n');
}

STUB_WEAK int local_sent(LOCAL_STATE *state UNUSED, const char *fmt, ...)
{
    stub_note("sent %s", fmt);
    return 0;
}

STUB_WEAK int local_bounce(LOCAL_STATE *state UNUSED, const char *status, const char *fmt, ...)
{
    stub_note("bounce %s %s", status, fmt);
    return 0;
}

STUB_WEAK int local_defer(LOCAL_STATE *state UNUSED, const char *status, const char *fmt, ...)
{
    stub_note("defer %s %s", status, fmt);
    return -1;
}

STUB_WEAK int local_result(LOCAL_STATE *state UNUSED, const DSN_BUF *why, bool defer)
{
    stub_note("result %s %s", vstring_str(why->status), defer ? "defer" : "final");
    return defer ? -1 : 0;
}

STUB_WEAK bool local_dup_seen(LOCAL_STATE *state UNUSED, const char *destination UNUSED)
{
    return false;
}

STUB_WEAK LOCAL_USER *local_user_by_name(const char *name UNUSED)
{
    return NULL;
}

STUB_WEAK LOCAL_USER *local_user_by_uid(uid_t uid UNUSED)
{
    return NULL;
}

STUB_WEAK void local_user_free(LOCAL_USER *user)
{
    myfree(user);
}

STUB_WEAK LOCAL_PRIVS local_default_privs(void)
{
    LOCAL_PRIVS privs = {65534, 65534};

    return privs;
}

STUB_WEAK int deliver_recipient(LOCAL_STATE *state)
{
    stub_note("recipient %s", state->rcpt.address);
    return 0;
}

STUB_WEAK int deliver_mailbox(LOCAL_STATE *state)
{
    stub_note("mailbox %s", state->rcpt.address);
    return 0;
}

STUB_WEAK int deliver_file(LOCAL_STATE *state UNUSED, const char *path)
{
    stub_note("file %s", path);
    return 0;
}

STUB_WEAK int deliver_command(LOCAL_STATE *state UNUSED, const char *command)
{
    stub_note("command %s", command);
    return 0;
}

STUB_WEAK int deliver_unknown(LOCAL_STATE *state)
{
    stub_note("unknown %s", state->rcpt.address);
    return 0;
}

STUB_WEAK int deliver_pass(LOCAL_STATE *state UNUSED, const char *transport, const char *nexthop)
{
    stub_note("pass %s %s", transport, nexthop);
    return 0;
}

#endif
