/*
 * qs_table - the domain by age table that qshape prints (queue.md 9.6).
 *
 * qs_table_create(BUCKETS, MINUTES, LINEAR) makes an empty table with
 * BUCKETS age columns: the first covers MINUTES, each next one twice the
 * previous age limit (LINEAR: MINUTES more), the last has no limit.
 * qs_table_bucket(T, AGE) is the column (1..BUCKETS) of an AGE in seconds.
 * qs_table_add(T, ADDRESS, BUCKET, PARENTS) counts one address: its domain
 * (lower case, after the last "@", "MAILER-DAEMON" for the null address)
 * and the TOTAL row; PARENTS also counts ".parent.domain" rows.
 * qs_table_print(T, FP, WIDTH, TOP, MINSUB) prints the heading, TOTAL and
 * the domains by count (then shorter names first), right-aligned so the
 * last column ends at WIDTH; parent rows with fewer than MINSUB direct
 * subdomains are left out; TOP > 0 limits the number of rows.
 * qs_table_free() releases the table. No errors.
 */
#ifndef QS_TABLE_H
#define QS_TABLE_H

#include <stdbool.h>
#include <time.h>

#include "vstream.h"

typedef struct QS_TABLE QS_TABLE;

extern QS_TABLE *qs_table_create(int buckets, int minutes, bool linear);
extern int qs_table_bucket(const QS_TABLE *table, double age);
extern void qs_table_add(QS_TABLE *table, const char *address, int bucket, bool parents);
extern void qs_table_print(const QS_TABLE *table, VSTREAM *fp, int width, int top, int minsub);
extern QS_TABLE *qs_table_free(QS_TABLE *table);

#endif
