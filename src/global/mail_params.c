/*
 * mail_params - the parameter registry and the typed parameter globals.
 * See mail_params.h and mail_params_init.h.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "htable.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "mail_version.h"
#include "msg.h"
#include "mymalloc.h"
#include "mynetworks.h"
#include "stringops.h"
#include "valid_hostname.h"
#include "vstring.h"

/* One global per parameter, typed by the registry. */
#define PARAM(name, type, def, min, max, flags) PARAM_CTYPE_##type var_##name;
#include "mail_params.def"
#undef PARAM

const PARAM_INFO mail_params_table[] = {
#define PARAM(name, type, def, min, max, flags) {#name, type, def, min, max, flags, &var_##name},
#include "mail_params.def"
#undef PARAM
};
const size_t mail_params_count = ARRAY_LEN(mail_params_table);

const char *mail_process_name;

static HTABLE *mail_params_index;

/* Look up a built-in parameter by name; NULL if Postern does not know it. */
const PARAM_INFO *mail_params_find(const char *name)
{
    if (mail_params_index == NULL) {
        mail_params_index = htable_create(2 * mail_params_count, 0);
        for (size_t i = 0; i < mail_params_count; i++)
            htable_enter(mail_params_index, mail_params_table[i].name, (void *)&mail_params_table[i]);
    }
    return htable_find(mail_params_index, name);
}

/* The host name without DNS: gethostname(), qualified per Postfix's rules. */
static char *mail_params_myhostname(void)
{
    char host[256];
    const MAIL_CONF_ENTRY *domain;
    VSTRING *buf;

    if (gethostname(host, sizeof(host)) < 0)
        msg_fatal("gethostname: %m");
    host[sizeof(host) - 1] = 0;
    if (strchr(host, '.'))
        return mystrdup(host);
    buf = vstring_alloc(100);
    if ((domain = mail_conf_entry("mydomain")) != NULL)
        vstring_sprintf(buf, "%s.%s", host, mail_conf_eval("mydomain"));
    else
        vstring_sprintf(buf, "%s.localdomain", host);
    return vstring_export(buf);
}

/* myhostname minus its first label, or localdomain. */
static char *mail_params_mydomain(void)
{
    const char *host = mail_conf_eval("myhostname");
    const char *dot = strchr(host, '.');

    return mystrdup(dot && dot[1] ? dot + 1 : "localdomain");
}

/*
 * The default of a parameter: its expression, or for PF_DYNAMIC ones the
 * value computed once for this process.
 */
const char *mail_params_default(const PARAM_INFO *param)
{
    static HTABLE *computed;
    char *value;

    if ((param->flags & PF_DYNAMIC) == 0)
        return param->def;
    if (computed == NULL)
        computed = htable_create(10, 0);
    if ((value = htable_find(computed, param->name)) != NULL)
        return value;
    if (strcmp(param->name, "myhostname") == 0)
        value = mail_params_myhostname();
    else if (strcmp(param->name, "mydomain") == 0)
        value = mail_params_mydomain();
    else if (strcmp(param->name, "mynetworks") == 0)
        value = mynetworks_compute(mail_conf_eval("mynetworks_style"));
    else if (strcmp(param->name, "mail_version") == 0)
        value = mystrdup(MAIL_VERSION_NUMBER);
    else if (strcmp(param->name, "process_id") == 0)
        value = vstring_export(vstring_sprintf(vstring_alloc(20), "%ld", (long)getpid()));
    else if (strcmp(param->name, "process_name") == 0)
        value = mystrdup(mail_process_name ? mail_process_name : "");
    else
        value = mystrdup(param->def);
    return htable_enter(computed, param->name, value)->value;
}

/* Replacements named in "will be removed" warnings. */
const char *mail_params_replacement(const char *name)
{
    static const char *const table[][2] = {
        {"disable_dns_lookups", "specify \"smtp_dns_support_level\""},
        {"smtp_enforce_tls", "specify \"smtp_tls_security_level\""},
        {"smtp_use_tls", "specify \"smtp_tls_security_level\""},
        {"smtpd_enforce_tls", "specify \"smtpd_tls_security_level\""},
        {"smtpd_use_tls", "specify \"smtpd_tls_security_level\""},
        {"fallback_relay", "specify \"smtp_fallback_relay\""},
        {"smtpd_client_connection_limit_exceptions", "specify \"smtpd_client_event_limit_exceptions\""},
        {"tlsproxy_client_policy", "specify \"tlsproxy_client_policy_maps\""},
        {"virtual_maps", "specify \"virtual_alias_maps\""},
        {"authorized_verp_clients", "specify \"smtpd_authorized_verp_clients\""},
        {"smtp_tls_enforce_peername", "specify \"smtp_tls_security_level\""},
    };

    for (size_t i = 0; i < ARRAY_LEN(table); i++)
        if (strcmp(name, table[i][0]) == 0)
            return table[i][1];
    return "see the RELEASE_NOTES";
}

/* The time unit a bare number means for this parameter. */
int mail_params_unit(const PARAM_INFO *param)
{
    if (param->flags & PF_UNIT_W)
        return 'w';
    if (param->flags & PF_UNIT_D)
        return 'd';
    if (param->flags & PF_UNIT_H)
        return 'h';
    if (param->flags & PF_UNIT_M)
        return 'm';
    return 's';
}

/* Report a bad value, naming the main.cf line that set it when there is one. */
static NORETURN mail_params_bad(const char *name, const char *fmt, ...) PRINTFLIKE(2, 3);

static NORETURN mail_params_bad(const char *name, const char *fmt, ...)
{
    VSTRING *where = vstring_alloc(100);
    VSTRING *text = vstring_alloc(100);
    va_list ap;

    mail_conf_where(where, name);
    va_start(ap, fmt);
    vstring_vsprintf(text, fmt, ap);
    va_end(ap);
    msg_fatal("%s%s", vstring_str(where), vstring_str(text));
}

/* Check a number against the parameter's bounds. */
static void mail_params_range(const PARAM_INFO *param, long long value)
{
    if (value < param->min)
        mail_params_bad(param->name, "invalid %s parameter value %lld < %lld", param->name, value,
                        param->min);
    if (param->max != 0 && value > param->max)
        mail_params_bad(param->name, "invalid %s parameter value %lld > %lld", param->name, value,
                        param->max);
}

/* Parse a decimal number (a leading minus only where negatives are allowed). */
static int mail_params_number(const PARAM_INFO *param, const char *value, long long *result)
{
    const char *digits = (param->min < 0 && *value == '-') ? value + 1 : value;
    char *end;

    if (!alldig(digits))
        return 0;
    errno = 0;
    *result = strtoll(value, &end, 10);
    return errno == 0;
}

/*
 * Convert a time value: digits, then an optional unit of which only the
 * first character counts (a Postfix quirk: "10sx" is 10 seconds).
 */
int mail_params_time(const char *value, int def_unit, long long *seconds)
{
    long long n = 0;
    const char *cp;
    int unit;

    for (cp = value; isdigit((unsigned char)*cp); cp++) {
        if (n > LLONG_MAX / 10)
            return 0;
        n = n * 10 + (*cp - '0');
    }
    if (cp == value)
        return 0;
    switch (unit = *cp ? *cp : def_unit) {
    case 'w':
        n *= 7;
        /* FALLTHROUGH */
    case 'd':
        n *= 24;
        /* FALLTHROUGH */
    case 'h':
        n *= 60;
        /* FALLTHROUGH */
    case 'm':
        n *= 60;
        /* FALLTHROUGH */
    case 's':
        break;
    default:
        return 0;
    }
    if (n > INT_MAX)
        return 0;
    *seconds = n;
    return 1;
}

/*
 * The strings mail_params_init() allocated, by table index, so that the
 * next call (a reload, a test case) frees them instead of leaking them.
 * A value a program assigned to var_NAME itself is never freed here.
 */
static char **mail_params_strings;

/* Set a string parameter's global to a copy of VALUE. */
static void mail_params_set_string(const PARAM_INFO *param, const char *value)
{
    size_t i = (size_t)(param - mail_params_table);

    if (mail_params_strings == NULL)
        mail_params_strings = mycalloc(mail_params_count, sizeof(*mail_params_strings));
    if (mail_params_strings[i] != NULL)
        myfree(mail_params_strings[i]);
    *(char **)param->var = mail_params_strings[i] = mystrdup(value);
}

/* Evaluate one parameter into its global, or die with Postfix's message. */
static void mail_params_init_one(const PARAM_INFO *param)
{
    const char *value;
    long long n;

    if (param->type == PT_RAW) {
        mail_params_set_string(param, mail_conf_raw(param->name));
        return;
    }
    value = mail_conf_eval(param->name);
    switch (param->type) {
    case PT_STR:
    case PT_LIST:
    case PT_RAW:
        mail_params_set_string(param, value);
        break;
    case PT_BOOL:
        if (strcasecmp(value, "yes") == 0)
            *(bool *)param->var = true;
        else if (strcasecmp(value, "no") == 0)
            *(bool *)param->var = false;
        else
            mail_params_bad(param->name, "bad boolean configuration: %s = %s", param->name, value);
        break;
    case PT_INT:
    case PT_LONG:
        if (!mail_params_number(param, value, &n) || (param->type == PT_INT && (n > INT_MAX || n < INT_MIN)))
            mail_params_bad(param->name, "bad numerical configuration: %s = %s", param->name, value);
        mail_params_range(param, n);
        if (param->type == PT_INT)
            *(int *)param->var = (int)n;
        else
            *(long long *)param->var = n;
        break;
    case PT_TIME:
        if (!mail_params_time(value, mail_params_unit(param), &n))
            mail_params_bad(param->name, "parameter %s: bad time value or unit: %s", param->name, value);
        mail_params_range(param, n);
        *(int *)param->var = (int)n;
        break;
    }
}

/* Fill every parameter global from main.cf, -o overrides and defaults. */
void mail_params_init(void)
{
    for (size_t i = 0; i < mail_params_count; i++)
        mail_params_init_one(&mail_params_table[i]);
    mail_params_check();
}

/* "file DIR/main.cf: parameter NAME: bad parameter value: V" */
static NORETURN mail_params_bad_value(const char *name, const char *value)
{
    msg_fatal("file %s: parameter %s: bad parameter value: %s", mail_conf_path, name, value);
}

/* The start-up sanity checks every Postern program makes (config.md 7). */
void mail_params_check(void)
{
    if (!valid_hostname(var_myhostname))
        mail_params_bad_value("myhostname", var_myhostname);
    if (!valid_hostname(var_mydomain))
        mail_params_bad_value("mydomain", var_mydomain);
    if (var_myorigin[strcspn(var_myorigin, CHARS_COMMA_SP)] != 0)
        msg_fatal("myorigin parameter setting must not contain multiple values: %s", var_myorigin);
    if (strcasecmp(var_myhostname, var_relayhost) == 0)
        msg_fatal("myhostname and relayhost parameter settings must not be identical: %s", var_myhostname);
}
