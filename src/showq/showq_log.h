/*
 * showq_log - a private, minimal reader of the defer log (defer/ID, format
 * in bounce_log.h) for the queue listing, until bounce_log.c is available.
 *
 * showq_log_reasons(id, table) enters recipient -> reason (mymalloc'ed)
 * for each complete entry of defer/ID; a later entry for the same
 * recipient replaces an earlier one. A missing log adds nothing; an entry
 * without recipient or status is skipped with a warning.
 */
#ifndef SHOWQ_LOG_H
#define SHOWQ_LOG_H

#include "htable.h"

extern void showq_log_reasons(const char *id, HTABLE *table);

#endif
