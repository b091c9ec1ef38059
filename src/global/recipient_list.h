/*
 * recipient_list - the recipients of one delivery request, as the queue
 * manager hands them to a delivery agent.
 *
 * A RECIPIENT is one RCPT record of a queue file with the records that
 * preceded it: the file offset of the RCPT record (the agent overwrites
 * its type byte with DONE when the recipient is finished, see
 * deliver_completed() in deliver_request.h), the original recipient (O
 * record, "" when none), the DSN ORCPT ("rfc822;addr", "" when none), the
 * DSN NOTIFY bits (0 when not given) and the address, in internal form.
 *
 * recipient_list_init() empties a list; recipient_list_add() appends a
 * copy of the strings; recipient_list_free() frees the strings (the list
 * can be reused after recipient_list_init()).
 *
 * Errors: none.
 */
#ifndef RECIPIENT_LIST_H
#define RECIPIENT_LIST_H

typedef struct RECIPIENT {
    long offset;           /* file offset of the RCPT record; 0: none */
    const char *dsn_orcpt; /* DSN ORCPT "rfc822;addr" or "" */
    int dsn_notify;        /* DSN_NOTIFY_* bits, 0: not specified */
    const char *orig_addr; /* original recipient or "" */
    const char *address;   /* the recipient */
} RECIPIENT;

typedef struct RECIPIENT_LIST {
    RECIPIENT *info;
    int len;
    int avail;
} RECIPIENT_LIST;

extern void recipient_list_init(RECIPIENT_LIST *list);
extern void recipient_list_add(RECIPIENT_LIST *list, long offset, const char *dsn_orcpt, int dsn_notify,
                               const char *orig_addr, const char *address);
extern void recipient_list_free(RECIPIENT_LIST *list);

#endif
