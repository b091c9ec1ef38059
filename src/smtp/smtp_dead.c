/*
 * smtp_dead - a per-process memory of addresses that did not answer
 * (spec/delivery.md 6.3; issue 8: "dead MX hosts are not waited for on
 * every message").
 *
 * An smtp(8) process lives for many deliveries (max_use). When a connect
 * to ADDR:PORT fails (refused, timed out, unreachable) the address is
 * remembered for SMTP_DEAD_TTL seconds. While it is remembered,
 * smtp_dead_reorder() moves it behind every other address of the same
 * destination, keeping the relative order of both groups: live hosts are
 * tried first, and a dead host is only tried again when every other
 * address failed too (so mail is never held back because of this memory)
 * or after the time has passed. A successful connect forgets the address.
 * The memory is per process: every process learns on its own, so a dead
 * host costs at most one connect timeout per process and SMTP_DEAD_TTL.
 *
 *   smtp_dead_mark(addr, port, now)     remember a failed connect.
 *   smtp_dead_clear(addr, port)         forget it (the connect worked).
 *   smtp_dead_check(addr, port, now)    is it remembered and fresh?
 *   smtp_dead_reorder(list, port, now)  move remembered addresses to the
 *                                       end; returns how many moved.
 *
 * Errors: none; the table is bounded (SMTP_DEAD_MAX entries, the oldest
 * is replaced).
 */
#include "sys_defs.h"

#include <stdio.h>
#include <string.h>

#include "mymalloc.h"
#include "smtp.h"

#define SMTP_DEAD_MAX 256

typedef struct SMTP_DEAD {
    char key[80]; /* "addr port" */
    time_t when;  /* 0: unused slot */
} SMTP_DEAD;

static SMTP_DEAD smtp_dead_table[SMTP_DEAD_MAX];

/* The table key of ADDR and PORT. */
static void smtp_dead_key(char *buf, size_t len, const char *addr, unsigned port)
{
    snprintf(buf, len, "%s %u", addr, port);
}

/* The slot of a key, or NULL. */
static SMTP_DEAD *smtp_dead_find(const char *key)
{
    for (int i = 0; i < SMTP_DEAD_MAX; i++)
        if (smtp_dead_table[i].when != 0 && strcmp(smtp_dead_table[i].key, key) == 0)
            return smtp_dead_table + i;
    return NULL;
}

/* Remember that a connect to ADDR:PORT failed at NOW. */
void smtp_dead_mark(const char *addr, unsigned port, time_t now)
{
    char key[sizeof(smtp_dead_table[0].key)];
    SMTP_DEAD *slot;

    smtp_dead_key(key, sizeof(key), addr, port);
    if ((slot = smtp_dead_find(key)) == NULL) {
        slot = smtp_dead_table;
        for (int i = 0; i < SMTP_DEAD_MAX; i++) {
            if (smtp_dead_table[i].when == 0) {
                slot = smtp_dead_table + i;
                break;
            }
            if (smtp_dead_table[i].when < slot->when)
                slot = smtp_dead_table + i;
        }
        snprintf(slot->key, sizeof(slot->key), "%s", key);
    }
    slot->when = now > 0 ? now : 1;
}

/* Forget ADDR:PORT (a connect to it worked). */
void smtp_dead_clear(const char *addr, unsigned port)
{
    char key[sizeof(smtp_dead_table[0].key)];
    SMTP_DEAD *slot;

    smtp_dead_key(key, sizeof(key), addr, port);
    if ((slot = smtp_dead_find(key)) != NULL)
        slot->when = 0;
}

/* Did a connect to ADDR:PORT fail less than SMTP_DEAD_TTL seconds ago? */
bool smtp_dead_check(const char *addr, unsigned port, time_t now)
{
    char key[sizeof(smtp_dead_table[0].key)];
    SMTP_DEAD *slot;

    smtp_dead_key(key, sizeof(key), addr, port);
    if ((slot = smtp_dead_find(key)) == NULL)
        return false;
    if (now - slot->when >= SMTP_DEAD_TTL || now < slot->when) {
        slot->when = 0;
        return false;
    }
    return true;
}

/* Move remembered addresses behind the others (stable); how many moved. */
int smtp_dead_reorder(SMTP_ADDR_LIST *list, unsigned port, time_t now)
{
    SMTP_ADDR *dead;
    int ndead = 0;
    int keep = 0;

    if (list->len < 2)
        return 0;
    dead = mymalloc(sizeof(*dead) * list->len);
    for (int i = 0; i < list->len; i++) {
        if (smtp_dead_check(list->info[i].addr, port, now))
            dead[ndead++] = list->info[i];
        else
            list->info[keep++] = list->info[i];
    }
    if (ndead > 0 && keep > 0)
        memcpy(list->info + keep, dead, sizeof(*dead) * ndead);
    else if (ndead > 0)
        memcpy(list->info, dead, sizeof(*dead) * ndead);
    myfree(dead);
    return keep > 0 ? ndead : 0;
}
