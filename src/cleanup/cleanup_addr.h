/*
 * cleanup_addr - what the envelope stage's files share (private to
 * cleanup; the stage's public functions are in cleanup.h).
 *
 * Tables and lists (cleanup_addr.c, opened by cleanup_addr_init()): the
 * address maps (NULL when the parameter is empty), the class bits of
 * canonical_classes & co, masquerade_domains as a list and
 * masquerade_exceptions as a string list.
 *
 * Address pipeline (all addresses in internal form, as in queue files):
 *   cleanup_addr_sender(state, addr)     standard form, canonical,
 *                                        masquerading, FROM record,
 *                                        sender_bcc_maps
 *   cleanup_addr_recipient(state, addr)  standard form, canonical,
 *                                        masquerading, then
 *                                        cleanup_out_recipient() with the
 *                                        pending ORCP/DSN records, then
 *                                        recipient_bcc_maps
 *   cleanup_addr_bcc(state, addr, notify) a BCC recipient: like a
 *                                        recipient, original recipient =
 *                                        itself, no further BCC
 *   cleanup_out_recipient(state, dsn_orcpt, dsn_notify, orcpt, recip)
 *                                        virtual aliasing, duplicate
 *                                        filter, ORCP DSN_* RCPT records
 *   cleanup_rewrite_internal(context, out, addr)   standard form
 *   cleanup_map11_internal(state, addr, maps, propagate)   canonical
 *   cleanup_map1n_internal(state, addr, maps, propagate)   virtual
 *   cleanup_masquerade_internal(state, addr)       masquerading
 *   cleanup_map_lookup(state, maps, addr, propagate, &error)
 *       the results of one address-style lookup as internal-form
 *       addresses in standard form, NULL when not found or on error.
 *   cleanup_masquerade(addr, domains, exceptions)
 *       the masquerade decision on a VSTRING: 1 changed, 0 not, -1 when
 *       the exception list failed.
 *   cleanup_addr_error(state, maps_title, addr)
 *       log the "map lookup problem" warning and defer the message.
 *
 * Errors: lookup failures and runaway mappings set CLEANUP_STAT_DEFER
 * with a warning naming the queue ID, table and address.
 */
#ifndef CLEANUP_ADDR_H
#define CLEANUP_ADDR_H

#include <stdbool.h>

#include "argv.h"
#include "cleanup.h"
#include "cleanup_user.h"
#include "maps.h"
#include "string_list.h"
#include "vstring.h"

/* Address classes of canonical_classes, masquerade_classes, ... */
#define CLEANUP_ADDR_ENV_FROM (1 << 0) /* envelope_sender */
#define CLEANUP_ADDR_ENV_RCPT (1 << 1) /* envelope_recipient */
#define CLEANUP_ADDR_HDR_FROM (1 << 2) /* header_sender */
#define CLEANUP_ADDR_HDR_RCPT (1 << 3) /* header_recipient */

/* The reason clients get for a lookup problem (Postfix's SMTP reply). */
#define CLEANUP_ADDR_DEFER_TEXT "4.3.0 Error: queue file write error"

/* Marks a state->extracted entry that came from a Resent- header. */
#define CLEANUP_EXTRACT_RESENT '\001'

extern MAPS *cleanup_comm_canon_maps;
extern MAPS *cleanup_send_canon_maps;
extern MAPS *cleanup_rcpt_canon_maps;
extern MAPS *cleanup_virt_alias_maps;
extern MAPS *cleanup_send_bcc_maps;
extern MAPS *cleanup_rcpt_bcc_maps;
extern int cleanup_comm_canon_flags;
extern int cleanup_send_canon_flags;
extern int cleanup_rcpt_canon_flags;
extern int cleanup_masq_flags;
extern ARGV *cleanup_masq_domains;
extern STRING_LIST *cleanup_masq_exceptions;
extern bool cleanup_ext_prop_canon;
extern bool cleanup_ext_prop_virtual;

extern int cleanup_addr_classes(const char *param_name, const char *value);
extern void cleanup_addr_sender(CLEANUP_STATE *state, const char *addr);
extern void cleanup_addr_recipient(CLEANUP_STATE *state, const char *addr);
extern void cleanup_addr_bcc(CLEANUP_STATE *state, const char *addr, int dsn_notify);
extern void cleanup_addr_error(CLEANUP_STATE *state, const char *title, const char *addr);
extern void cleanup_out_recipient(CLEANUP_STATE *state, const char *dsn_orcpt, int dsn_notify,
                                  const char *orcpt, const char *recip);
extern const char *cleanup_rewrite_internal(const char *context, VSTRING *out, const char *addr);
extern ARGV *cleanup_map_lookup(CLEANUP_STATE *state, MAPS *maps, const char *addr, bool propagate,
                                bool *error);
extern bool cleanup_map11_internal(CLEANUP_STATE *state, VSTRING *addr, MAPS *maps, bool propagate);
extern ARGV *cleanup_map1n_internal(CLEANUP_STATE *state, const char *addr, MAPS *maps, bool propagate);
extern int cleanup_masquerade(VSTRING *addr, const ARGV *domains, STRING_LIST *exceptions);
extern bool cleanup_masquerade_internal(CLEANUP_STATE *state, VSTRING *addr);

#endif
