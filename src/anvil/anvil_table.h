/*
 * anvil_table - the counters behind the anvil service: per ident
 * ("service:addr") the open connections and the connections, messages,
 * recipients, new TLS sessions and AUTH commands in the current rate
 * time unit, plus the peak values
 * for the statistics log lines. No I/O and no clock of its own: every
 * call gets "now", so the logic is testable.
 *
 *   table = anvil_table_create(unit)      unit: anvil_rate_time_unit (s)
 *   anvil_table_connect(table, ident, now, &count, &rate)
 *   anvil_table_disconnect(table, ident, now)
 *   anvil_table_message(table, ident, now, &rate)
 *   anvil_table_recipient(table, ident, now, &rate)
 *   anvil_table_newtls(table, ident, now, &rate)
 *   anvil_table_newtls_report(table, ident, now, &rate)  no change
 *   anvil_table_auth(table, ident, now, &rate)
 *   anvil_table_lookup(table, ident, now, &count, &rate)  no change
 *   anvil_table_expire(table, now)  forget idle entries; returns how many
 *   anvil_table_stats(table, lines) append the "statistics: ..." texts for
 *       the peaks since the last call (nothing for a peak of zero), then
 *       start over
 *   anvil_table_size(table), anvil_table_free(table)
 *
 * Rates count events in fixed windows of `unit` seconds starting at the
 * first event after the previous window ended. An entry is forgotten
 * when it has no open connection and its window has ended.
 *
 * Errors: none; a disconnect for an unknown ident is ignored.
 */
#ifndef ANVIL_TABLE_H
#define ANVIL_TABLE_H

#include <stddef.h>
#include <time.h>

#include "argv.h"

typedef struct ANVIL_TABLE ANVIL_TABLE;

extern ANVIL_TABLE *anvil_table_create(int unit);
extern void anvil_table_connect(ANVIL_TABLE *table, const char *ident, time_t now, int *count, int *rate);
extern void anvil_table_disconnect(ANVIL_TABLE *table, const char *ident, time_t now);
extern void anvil_table_message(ANVIL_TABLE *table, const char *ident, time_t now, int *rate);
extern void anvil_table_recipient(ANVIL_TABLE *table, const char *ident, time_t now, int *rate);
extern void anvil_table_newtls(ANVIL_TABLE *table, const char *ident, time_t now, int *rate);
extern void anvil_table_newtls_report(ANVIL_TABLE *table, const char *ident, time_t now, int *rate);
extern void anvil_table_auth(ANVIL_TABLE *table, const char *ident, time_t now, int *rate);
extern void anvil_table_lookup(ANVIL_TABLE *table, const char *ident, time_t now, int *count, int *rate);
extern int anvil_table_expire(ANVIL_TABLE *table, time_t now);
extern void anvil_table_stats(ANVIL_TABLE *table, ARGV *lines);
extern size_t anvil_table_size(const ANVIL_TABLE *table);
extern ANVIL_TABLE *anvil_table_free(ANVIL_TABLE *table);

#endif
