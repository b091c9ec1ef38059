/*
 * anvil_table - connection counts and rates per ident, and their peaks.
 * See anvil_table.h.
 *
 * Public functions: anvil_table_create(), anvil_table_connect(),
 * anvil_table_disconnect(), anvil_table_message(),
 * anvil_table_recipient(), anvil_table_newtls(),
 * anvil_table_newtls_report(), anvil_table_auth(),
 * anvil_table_lookup(), anvil_table_expire(),
 * anvil_table_stats(), anvil_table_size(), anvil_table_free().
 *
 * Errors: none.
 */
#include "sys_defs.h"

#include <string.h>

#include "anvil_table.h"
#include "htable.h"
#include "mymalloc.h"
#include "vstring.h"

typedef struct ANVIL_ENTRY {
    int count;     /* open connections */
    int conn_rate; /* connections in this window */
    int mail_rate; /* messages in this window */
    int rcpt_rate; /* recipients in this window */
    int tls_rate;  /* new TLS sessions in this window */
    int auth_rate; /* AUTH commands in this window */
    time_t start;  /* start of this window */
} ANVIL_ENTRY;

/* One peak value: the largest seen since the last report, where, when. */
typedef struct ANVIL_PEAK {
    int value;
    char *ident;
    time_t when;
} ANVIL_PEAK;

struct ANVIL_TABLE {
    HTABLE *entries;
    int unit;
    ANVIL_PEAK conn_rate;
    ANVIL_PEAK conn_count;
    ANVIL_PEAK mail_rate;
    ANVIL_PEAK rcpt_rate;
    ANVIL_PEAK tls_rate;
    ANVIL_PEAK auth_rate;
    ANVIL_PEAK cache_size;
};

ANVIL_TABLE *anvil_table_create(int unit)
{
    ANVIL_TABLE *table = mymalloc(sizeof(*table));

    memset(table, 0, sizeof(*table));
    table->entries = htable_create(100, 0);
    table->unit = unit > 0 ? unit : 1;
    return table;
}

/* Remember VALUE as a peak if it beats the current one. */
static void anvil_table_peak(ANVIL_PEAK *peak, int value, const char *ident, time_t now)
{
    if (value <= peak->value)
        return;
    peak->value = value;
    peak->when = now;
    if (peak->ident == NULL || strcmp(peak->ident, ident ? ident : "") != 0) {
        if (peak->ident)
            myfree(peak->ident);
        peak->ident = mystrdup(ident ? ident : "");
    }
}

/* Start a new rate window when the current one has ended. */
static void anvil_table_window(ANVIL_TABLE *table, ANVIL_ENTRY *entry, time_t now)
{
    if (now - entry->start >= table->unit || now < entry->start) {
        entry->start = now;
        entry->conn_rate = entry->mail_rate = entry->rcpt_rate = entry->tls_rate = entry->auth_rate = 0;
    }
}

/* The entry for IDENT, created on first use, its window brought up to date. */
static ANVIL_ENTRY *anvil_table_entry(ANVIL_TABLE *table, const char *ident, time_t now)
{
    ANVIL_ENTRY *entry = htable_find(table->entries, ident);

    if (entry == NULL) {
        entry = mymalloc(sizeof(*entry));
        memset(entry, 0, sizeof(*entry));
        entry->start = now;
        htable_enter(table->entries, ident, entry);
        anvil_table_peak(&table->cache_size, (int)table->entries->used, NULL, now);
    }
    anvil_table_window(table, entry, now);
    return entry;
}

void anvil_table_connect(ANVIL_TABLE *table, const char *ident, time_t now, int *count, int *rate)
{
    ANVIL_ENTRY *entry = anvil_table_entry(table, ident, now);

    entry->count++;
    entry->conn_rate++;
    anvil_table_peak(&table->conn_rate, entry->conn_rate, ident, now);
    anvil_table_peak(&table->conn_count, entry->count, ident, now);
    *count = entry->count;
    *rate = entry->conn_rate;
}

void anvil_table_disconnect(ANVIL_TABLE *table, const char *ident, time_t now)
{
    ANVIL_ENTRY *entry = htable_find(table->entries, ident);

    if (entry == NULL)
        return;
    anvil_table_window(table, entry, now);
    if (entry->count > 0)
        entry->count--;
}

/* Count one more event of a rate and keep its peak; the new rate. */
static int anvil_table_bump(int *rate, ANVIL_PEAK *peak, const char *ident, time_t now)
{
    ++*rate;
    anvil_table_peak(peak, *rate, ident, now);
    return *rate;
}

void anvil_table_message(ANVIL_TABLE *table, const char *ident, time_t now, int *rate)
{
    *rate = anvil_table_bump(&anvil_table_entry(table, ident, now)->mail_rate, &table->mail_rate, ident, now);
}

void anvil_table_recipient(ANVIL_TABLE *table, const char *ident, time_t now, int *rate)
{
    *rate = anvil_table_bump(&anvil_table_entry(table, ident, now)->rcpt_rate, &table->rcpt_rate, ident, now);
}

void anvil_table_newtls(ANVIL_TABLE *table, const char *ident, time_t now, int *rate)
{
    *rate = anvil_table_bump(&anvil_table_entry(table, ident, now)->tls_rate, &table->tls_rate, ident, now);
}

void anvil_table_newtls_report(ANVIL_TABLE *table, const char *ident, time_t now, int *rate)
{
    ANVIL_ENTRY *entry = htable_find(table->entries, ident);

    *rate = 0;
    if (entry == NULL)
        return;
    anvil_table_window(table, entry, now);
    *rate = entry->tls_rate;
}

void anvil_table_auth(ANVIL_TABLE *table, const char *ident, time_t now, int *rate)
{
    *rate = anvil_table_bump(&anvil_table_entry(table, ident, now)->auth_rate, &table->auth_rate, ident, now);
}

void anvil_table_lookup(ANVIL_TABLE *table, const char *ident, time_t now, int *count, int *rate)
{
    ANVIL_ENTRY *entry = htable_find(table->entries, ident);

    *count = *rate = 0;
    if (entry == NULL)
        return;
    anvil_table_window(table, entry, now);
    *count = entry->count;
    *rate = entry->conn_rate;
}

/* Release one entry. */
static void anvil_table_entry_free(void *ptr)
{
    myfree(ptr);
}

int anvil_table_expire(ANVIL_TABLE *table, time_t now)
{
    HTABLE_INFO **list = htable_list(table->entries);
    int gone = 0;

    for (HTABLE_INFO **ht = list; *ht; ht++) {
        ANVIL_ENTRY *entry = (*ht)->value;

        if (entry->count == 0 && (now - entry->start >= table->unit || now < entry->start)) {
            htable_delete(table->entries, (*ht)->key, anvil_table_entry_free);
            gone++;
        }
    }
    myfree(list);
    return gone;
}

/* "Nov 21 10:00:00" (local time, day padded with a space as in syslog). */
static const char *anvil_table_time(time_t when, char *buf, size_t len)
{
    struct tm tm;

    localtime_r(&when, &tm);
    strftime(buf, len, "%b %e %H:%M:%S", &tm);
    return buf;
}

/* Append one rate or count peak line and forget the peak. */
static void anvil_table_report(ARGV *lines, ANVIL_PEAK *peak, const char *what, int unit)
{
    VSTRING *buf;
    char when[32];

    if (peak->value > 0) {
        buf = vstring_alloc(100);
        if (unit > 0)
            vstring_sprintf(buf, "statistics: max %s %d/%ds for (%s) at %s", what, peak->value, unit,
                            peak->ident, anvil_table_time(peak->when, when, sizeof(when)));
        else if (peak->ident && *peak->ident)
            vstring_sprintf(buf, "statistics: max %s %d for (%s) at %s", what, peak->value, peak->ident,
                            anvil_table_time(peak->when, when, sizeof(when)));
        else
            vstring_sprintf(buf, "statistics: max %s %d at %s", what, peak->value,
                            anvil_table_time(peak->when, when, sizeof(when)));
        argv_add(lines, vstring_str(buf));
        vstring_free(buf);
    }
    peak->value = 0;
    if (peak->ident)
        myfree(peak->ident);
    peak->ident = NULL;
}

void anvil_table_stats(ANVIL_TABLE *table, ARGV *lines)
{
    anvil_table_report(lines, &table->conn_rate, "connection rate", table->unit);
    anvil_table_report(lines, &table->conn_count, "connection count", 0);
    anvil_table_report(lines, &table->mail_rate, "message rate", table->unit);
    anvil_table_report(lines, &table->rcpt_rate, "recipient rate", table->unit);
    anvil_table_report(lines, &table->tls_rate, "newtls rate", table->unit);
    anvil_table_report(lines, &table->auth_rate, "auth rate", table->unit);
    anvil_table_report(lines, &table->cache_size, "cache size", 0);
}

size_t anvil_table_size(const ANVIL_TABLE *table)
{
    return table->entries->used;
}

ANVIL_TABLE *anvil_table_free(ANVIL_TABLE *table)
{
    ANVIL_PEAK *peaks[] = {&table->conn_rate, &table->conn_count, &table->mail_rate, &table->rcpt_rate,
                           &table->tls_rate,  &table->auth_rate,  &table->cache_size};

    for (size_t i = 0; i < sizeof(peaks) / sizeof(peaks[0]); i++)
        if (peaks[i]->ident)
            myfree(peaks[i]->ident);
    htable_free(table->entries, anvil_table_entry_free);
    myfree(table);
    return NULL;
}
