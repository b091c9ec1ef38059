/*
 * dict_registry - one shared open table per "type:name" and flags.
 *
 * Several parameters often name the same table (one hash: file in three
 * access restrictions, $virtual_alias_maps again in proxy_read_maps). The
 * registry opens each table once per process and hands the same DICT to
 * every user, counting references.
 *
 * Public functions:
 *   dict_registry_open(spec, open_flags, dict_flags)
 *       the shared DICT for spec ("type:name"). The first call opens it
 *       with dict_open(); later calls with the same spec, open_flags and
 *       dict_flags return the same DICT with one more reference. Different
 *       flags give a different DICT (the flags change how a table is
 *       built: key folding, duplicates, locking).
 *   dict_registry_close(dict)
 *       drop one reference; the last one closes the table.
 *   dict_registry_changed()
 *       the spec of the first registered table, in opening order, whose
 *       file was modified or replaced since it was opened (dict_changed()),
 *       or NULL. Daemons call it before each new request and, when it
 *       answers, log "table SPEC has changed -- restarting" and exit after
 *       the request (tables.md section 10). The text is owned by the
 *       registry and valid while the table stays open.
 *   dict_registry_spec(dict)
 *       the spec a shared DICT was opened under, or NULL when the registry
 *       did not hand out this DICT.
 *
 * A DICT is shared, so a lookup result is only valid until the next lookup
 * in that table by anyone: copy it before asking again.
 *
 * Errors: a table that cannot be opened is registered like any other (it is
 * the surrogate of dict.h, or dict_open() ends the program when
 * dict_allow_surrogate is 0). dict_registry_close() of a DICT the registry
 * did not hand out is a bug: msg_panic().
 */
#ifndef DICT_REGISTRY_H
#define DICT_REGISTRY_H

#include "dict.h"

extern DICT *dict_registry_open(const char *spec, int open_flags, int dict_flags);
extern void dict_registry_close(DICT *dict);
extern const char *dict_registry_changed(void);
extern const char *dict_registry_spec(const DICT *dict);

#endif
