/*
 * recipient_list - the recipients of one delivery request. See
 * recipient_list.h.
 */
#include "sys_defs.h"

#include "mymalloc.h"
#include "recipient_list.h"

/* Start an empty list. */
void recipient_list_init(RECIPIENT_LIST *list)
{
    list->info = NULL;
    list->len = 0;
    list->avail = 0;
}

/* Append a recipient; the strings are copied. */
void recipient_list_add(RECIPIENT_LIST *list, long offset, const char *dsn_orcpt, int dsn_notify,
                        const char *orig_addr, const char *address)
{
    RECIPIENT *rcpt;

    if (list->len >= list->avail) {
        list->avail = list->avail ? 2 * list->avail : 1;
        list->info = (RECIPIENT *)myrealloc(list->info, (size_t)list->avail * sizeof(*list->info));
    }
    rcpt = list->info + list->len++;
    rcpt->offset = offset;
    rcpt->dsn_orcpt = mystrdup(dsn_orcpt ? dsn_orcpt : "");
    rcpt->dsn_notify = dsn_notify;
    rcpt->orig_addr = mystrdup(orig_addr ? orig_addr : "");
    rcpt->address = mystrdup(address);
}

/* Free the strings and the array. */
void recipient_list_free(RECIPIENT_LIST *list)
{
    for (int i = 0; i < list->len; i++) {
        myfree((void *)list->info[i].dsn_orcpt);
        myfree((void *)list->info[i].orig_addr);
        myfree((void *)list->info[i].address);
    }
    myfree(list->info);
    recipient_list_init(list);
}
