/*
 * qs_table - the domain by age table that qshape prints. See qs_table.h.
 *
 * Public functions: qs_table_create(), qs_table_bucket(), qs_table_add(),
 * qs_table_print(), qs_table_free().
 *
 * Each row holds BUCKETS + 1 counters: [0] is the row total, [1..] the
 * age columns. Column widths follow the TOTAL row and the headings: one
 * space more than the wider of the two, at least 3; the domain column
 * gets what is left of WIDTH but at least 18 characters, and longer
 * names keep their last characters after a "+" (".+" for parent rows).
 */
#include "sys_defs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htable.h"
#include "mymalloc.h"
#include "qs_table.h"
#include "vstream.h"
#include "vstring.h"

#define QS_TOTAL        "TOTAL"
#define QS_DOMAIN_WIDTH 18 /* narrowest domain column */

/* One row: a domain (or TOTAL) and its counters. */
typedef struct QS_ROW {
    const char *name;
    long *count;
    int subdomains; /* parent rows: distinct direct subdomains seen */
} QS_ROW;

struct QS_TABLE {
    int buckets;
    int minutes;
    bool linear;
    HTABLE *rows;
    QS_ROW *total;
};

/* A new row called NAME. */
static QS_ROW *qs_row_create(QS_TABLE *table, const char *name)
{
    QS_ROW *row = mymalloc(sizeof(*row));

    row->count = mymalloc(sizeof(long) * (size_t)(table->buckets + 1));
    memset(row->count, 0, sizeof(long) * (size_t)(table->buckets + 1));
    row->subdomains = 0;
    row->name = htable_enter(table->rows, name, row)->key;
    return row;
}

/* Free one row (htable callback). */
static void qs_row_free(void *ptr)
{
    QS_ROW *row = ptr;

    myfree(row->count);
    myfree(row);
}

/* Create an empty table; see qs_table.h. */
QS_TABLE *qs_table_create(int buckets, int minutes, bool linear)
{
    QS_TABLE *table = mymalloc(sizeof(*table));

    table->buckets = buckets;
    table->minutes = minutes;
    table->linear = linear;
    table->rows = htable_create(100, 0);
    table->total = qs_row_create(table, QS_TOTAL);
    return table;
}

/* The age column of AGE seconds: 1 below the first limit, then by doubling or linearly. */
int qs_table_bucket(const QS_TABLE *table, double age)
{
    double units = age / (60.0 * table->minutes);
    int bucket;

    if (units < 1)
        return 1;
    if (table->linear) {
        bucket = units + 1 >= table->buckets ? table->buckets : (int)(units + 1);
    } else {
        /* 2 + floor(log2(units)), without floating-point logarithms. */
        for (bucket = 2; units >= 2 && bucket < table->buckets; units /= 2)
            bucket++;
    }
    return bucket < table->buckets ? bucket : table->buckets;
}

/* The domain of ADDRESS as qshape shows it, in BUF. */
static const char *qs_domain(VSTRING *buf, const char *address)
{
    const char *at = strrchr(address, '@');
    const char *cp;
    char *start;
    size_t len;

    if (*address == 0)
        return vstring_str(vstring_strcpy(buf, "MAILER-DAEMON"));
    vstring_reset(buf);
    /* Lower case, and ".." becomes "." (pairwise, left to right). */
    for (cp = at ? at + 1 : address; *cp; cp++) {
        if (cp[0] == '.' && cp[1] == '.')
            cp++;
        vstring_addch(buf, (char)tolower((unsigned char)*cp));
    }
    /* One leading and one trailing dot go, unless that leaves nothing. */
    start = vstring_str(buf);
    len = VSTRING_LEN(buf);
    if (len > 1 && start[0] == '.') {
        start++;
        len--;
    }
    if (len > 1 && start[len - 1] == '.')
        len--;
    memmove(vstring_str(buf), start, len);
    vstring_truncate(buf, len);
    return vstring_str(buf);
}

/* Count one address; see qs_table.h. */
void qs_table_add(QS_TABLE *table, const char *address, int bucket, bool parents)
{
    VSTRING *name = vstring_alloc(100);
    VSTRING *parent = vstring_alloc(100);
    bool child_new = false;

    table->total->count[0]++;
    table->total->count[bucket]++;
    qs_domain(name, address);
    for (;;) {
        QS_ROW *row = htable_find(table->rows, vstring_str(name));
        const char *rest;
        const char *dot;

        bool row_new;

        if (row == NULL)
            row = qs_row_create(table, vstring_str(name));
        row_new = row->count[0]++ == 0;

        row->count[bucket]++;
        if (child_new)
            row->subdomains++;
        child_new = row_new;
        if (!parents)
            break;
        /* The parent: drop the first label; top-level domains get no row. */
        rest = vstring_str(name);
        if (*rest == '.')
            rest++;
        if ((dot = strchr(rest, '.')) == NULL || dot == rest || strchr(dot + 1, '.') == NULL || dot[1] == '.')
            break;
        vstring_sprintf(parent, ".%s", dot + 1);
        vstring_strcpy(name, vstring_str(parent));
    }
    vstring_free(name);
    vstring_free(parent);
}

/* Rows by total (descending), then name length, then name. */
static int qs_row_compare(const void *a, const void *b)
{
    const QS_ROW *ra = (*(HTABLE_INFO *const *)a)->value;
    const QS_ROW *rb = (*(HTABLE_INFO *const *)b)->value;
    size_t la = strlen(ra->name);
    size_t lb = strlen(rb->name);

    if (ra->count[0] != rb->count[0])
        return ra->count[0] > rb->count[0] ? -1 : 1;
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(ra->name, rb->name);
}

/* One line: NAME in a DW-wide column, then the cells right-aligned in WIDTHS. */
static void qs_line(VSTREAM *fp, const char *name, int dw, char **cells, const int *widths, int ncells)
{
    int len = (int)strlen(name);

    if (len > dw) {
        if (*name == '.')
            vstream_fprintf(fp, ".+%s", name + len - (dw - 2));
        else
            vstream_fprintf(fp, "+%s", name + len - (dw - 1));
    } else {
        vstream_fprintf(fp, "%*s", dw, name);
    }
    for (int i = 0; i < ncells; i++)
        vstream_fprintf(fp, "%*s", widths[i], cells[i]);
    vstream_fputs("\n", fp);
}

/* Print the table; see qs_table.h. */
void qs_table_print(const QS_TABLE *table, VSTREAM *fp, int width, int top, int minsub)
{
    int ncells = table->buckets + 1;
    int *widths = mymalloc(sizeof(int) * (size_t)ncells);
    char **cells = mymalloc(sizeof(char *) * (size_t)ncells);
    char **heads = mymalloc(sizeof(char *) * (size_t)ncells);
    HTABLE_INFO **list = htable_list(table->rows);
    size_t nrows = 0;
    long limit = 0;
    int dw = width;
    int shown = 0;

    /* Headings: T, then the age limits; the last one is "N+". */
    for (int i = 0; i < ncells; i++) {
        char total[32];
        int len;

        if (i == 0)
            heads[i] = mystrdup("T");
        else if (i < table->buckets)
            heads[i] = vstring_export(vstring_sprintf(vstring_alloc(10), "%ld", limit));
        else
            heads[i] = vstring_export(vstring_sprintf(vstring_alloc(10), "%ld+", limit));
        if (i >= 1 && i + 1 < table->buckets)
            limit += (limit && !table->linear) ? limit : table->minutes;
        if (i == 0 && table->buckets > 1)
            limit = table->minutes;
        snprintf(total, sizeof(total), "%ld", table->total->count[i]);
        len = (int)strlen(total);
        if ((int)strlen(heads[i]) >= len)
            len = (int)strlen(heads[i]);
        widths[i] = len > 2 ? len + 1 : 3;
        dw -= widths[i];
        cells[i] = mymalloc(32);
    }
    if (dw < QS_DOMAIN_WIDTH)
        dw = QS_DOMAIN_WIDTH;
    qs_line(fp, "", dw, heads, widths, ncells);

    while (list[nrows])
        nrows++;
    qsort(list, nrows, sizeof(*list), qs_row_compare);
    /* TOTAL first, whatever the sort says about a short busy domain. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t r = 0; r < nrows; r++) {
            const QS_ROW *row = list[r]->value;

            if ((pass == 0) != (row == table->total))
                continue;
            if (row->name[0] == '.' && row->subdomains < minsub)
                continue;
            if (top > 0 && ++shown > top)
                break;
            for (int i = 0; i < ncells; i++)
                snprintf(cells[i], 32, "%ld", row->count[i]);
            qs_line(fp, row->name, dw, cells, widths, ncells);
        }
    }
    for (int i = 0; i < ncells; i++) {
        myfree(heads[i]);
        myfree(cells[i]);
    }
    myfree(heads);
    myfree(cells);
    myfree(widths);
    myfree(list);
}

/* Release the table. */
QS_TABLE *qs_table_free(QS_TABLE *table)
{
    htable_free(table->rows, qs_row_free);
    myfree(table);
    return NULL;
}
