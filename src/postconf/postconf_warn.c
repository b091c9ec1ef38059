/*
 * postconf_warn - unused, undefined and deprecated parameter warnings.
 * See postconf.h.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "htable.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "postconf.h"
#include "stringops.h"
#include "vstring.h"

static ARGV *pc_warnings;
static HTABLE *pc_referenced;           /* $names used somewhere */

/* Per-service parameter suffixes (SERVICE_suffix for a master.cf service). */
static const char *const pc_service_suffixes[] = {
    "_delivery_slot_cost",
    "_delivery_slot_discount",
    "_delivery_slot_loan",
    "_destination_concurrency_failed_cohort_limit",
    "_destination_concurrency_limit",
    "_destination_concurrency_negative_feedback",
    "_destination_concurrency_positive_feedback",
    "_destination_rate_delay",
    "_destination_recipient_limit",
    "_extra_recipient_limit",
    "_initial_destination_concurrency",
    "_minimum_delivery_slots",
    "_recipient_limit",
    "_recipient_refill_delay",
    "_recipient_refill_limit",
    "_time_limit",
    "_transport_rate_delay",
};

/* Queue a warning; all are printed together at the end. */
void pc_warn(const char *fmt, ...)
{
    VSTRING *buf = vstring_alloc(100);
    va_list ap;

    if (pc_warnings == NULL)
        pc_warnings = argv_alloc(4);
    va_start(ap, fmt);
    vstring_vsprintf(buf, fmt, ap);
    va_end(ap);
    argv_add(pc_warnings, vstring_str(buf));
    vstring_free(buf);
}

void pc_warn_undefined(const char *name)
{
    pc_warn("%s: undefined parameter: %s", mail_conf_path, name);
}

/* Print the queued warnings sorted, each once. */
void pc_flush_warnings(void)
{
    if (pc_warnings == NULL)
        return;
    argv_sort(pc_warnings);
    argv_uniq(pc_warnings);
    for (size_t i = 0; i < pc_warnings->argc; i++)
        msg_warn("%s", pc_warnings->argv[i]);
    pc_warnings = argv_free(pc_warnings);
}

/* Record every $name, ${name...} and $(name...) in value. */
static void pc_scan_refs(const char *value)
{
    for (const char *cp = strchr(value, '$'); cp; cp = strchr(cp, '$')) {
        const char *start;

        cp++;
        if (*cp == '$') {
            cp++;
            continue;
        }
        if (*cp == '{' || *cp == '(')
            cp++;
        for (start = cp; isalnum((unsigned char) *cp) || *cp == '_'; cp++)
            /* void */;
        if (cp > start) {
            char *name = mystrndup(start, (size_t) (cp - start));

            if (htable_find(pc_referenced, name) == NULL)
                htable_enter(pc_referenced, name, (void *) "");
            myfree(name);
        }
    }
}

/* NAME is SERVICE_suffix for a service defined in master.cf. */
static bool pc_per_service(const char *name)
{
    for (size_t s = 0; s < ARRAY_LEN(pc_service_suffixes); s++) {
        size_t nlen = strlen(name), slen = strlen(pc_service_suffixes[s]);

        if (nlen <= slen || strcmp(name + nlen - slen, pc_service_suffixes[s]) != 0)
            continue;
        for (size_t i = 0; i < pc_master->count; i++) {
            const char *service = pc_master->ents[i]->field[MASTER_FIELD_SERVICE];

            if (strlen(service) == nlen - slen && strncmp(name, service, nlen - slen) == 0)
                return true;
        }
    }
    return false;
}

/* NAME is a class listed in smtpd_restriction_classes. */
static bool pc_restriction_class(const char *name)
{
    const char *classes = mail_conf_eval("smtpd_restriction_classes");
    char *copy = mystrdup(classes ? classes : "");
    char *cp = copy;
    char *item;
    bool found = false;

    while (!found && (item = mystrtok(&cp, CHARS_COMMA_SP)) != NULL)
        found = strcmp(item, name) == 0;
    myfree(copy);
    return found;
}

/*
 * NAME is a legacy database parameter "SOURCE_param" for a table
 * "type:SOURCE" (no slash) named in some value (tables.md 8.5).
 */
static bool pc_legacy_db_param(const char *name, ARGV *sources)
{
    for (size_t i = 0; i < sources->argc; i++) {
        size_t len = strlen(sources->argv[i]);

        if (strncmp(name, sources->argv[i], len) == 0 && name[len] == '_')
            return true;
    }
    return false;
}

/* Collect "SOURCE" of every "type:SOURCE" item without a slash. */
static void pc_scan_sources(const char *value, ARGV *sources)
{
    char *copy = mystrdup(value);
    char *cp = copy;
    char *item;

    while ((item = mystrtokq(&cp, CHARS_COMMA_SP, "{}")) != NULL) {
        char *colon = strchr(item, ':');

        if (colon && colon > item && colon[1] && strchr(colon + 1, '/') == NULL && strchr(colon + 1, ':') == NULL)
            argv_add(sources, colon + 1);
    }
    myfree(copy);
}

static ARGV *pc_sources;

bool pc_known_name(const char *name)
{
    return mail_params_find(name) != NULL || pc_per_service(name) ||
           (pc_referenced && htable_find(pc_referenced, name) != NULL) || pc_restriction_class(name) ||
           (pc_sources && pc_legacy_db_param(name, pc_sources));
}

/* Scan every value once so pc_known_name() can answer. */
static void pc_scan_values(void)
{
    HTABLE_INFO **list;

    if (pc_referenced)
        return;
    pc_referenced = htable_create(100, 0);
    pc_sources = argv_alloc(4);
    list = htable_list(mail_conf_table);
    for (HTABLE_INFO **ht = list; *ht; ht++) {
        const PARAM_INFO *param = mail_params_find((*ht)->key);
        const MAIL_CONF_ENTRY *entry = (*ht)->value;

        if (param == NULL || param->type != PT_RAW)
            pc_scan_refs(entry->value);
        pc_scan_sources(entry->value, pc_sources);
    }
    myfree(list);
    for (size_t i = 0; i < pc_master->count; i++) {
        const MASTER_ENT *ent = pc_master->ents[i];

        for (size_t n = 0; n < ent->override_values->argc; n++) {
            pc_scan_refs(ent->override_values->argv[n]);
            pc_scan_sources(ent->override_values->argv[n], pc_sources);
        }
    }
}

void pc_scan_unused(void)
{
    HTABLE_INFO **list;
    VSTRING *buf = vstring_alloc(100);

    pc_scan_values();
    list = htable_list(mail_conf_table);
    for (HTABLE_INFO **ht = list; *ht; ht++) {
        const char *name = (*ht)->key;
        const MAIL_CONF_ENTRY *entry = (*ht)->value;
        const PARAM_INFO *param = mail_params_find(name);

        if (!pc_known_name(name))
            pc_warn("%s: unused parameter: %s=%s", mail_conf_path, name, entry->value);
        if (param && (param->flags & PF_DEPRECATED))
            pc_warn("support for parameter \"%s\" will be removed; instead, %s", name,
                    mail_params_replacement(name));
    }
    myfree(list);
    for (size_t i = 0; i < pc_master->count; i++) {
        const MASTER_ENT *ent = pc_master->ents[i];

        for (size_t n = 0; n < ent->override_names->argc; n++)
            if (!pc_known_name(ent->override_names->argv[n]))
                pc_warn("%s: unused parameter: %s=%s", pc_master_path, ent->override_names->argv[n],
                        ent->override_values->argv[n]);
    }
    /* A reference to a name defined nowhere expands to nothing. */
    list = htable_list(pc_referenced);
    for (HTABLE_INFO **ht = list; *ht; ht++)
        if (mail_conf_raw((*ht)->key) == NULL)
            pc_warn_undefined((*ht)->key);
    myfree(list);
    vstring_free(buf);
}
