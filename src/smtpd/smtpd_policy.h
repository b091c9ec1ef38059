/*
 * smtpd_policy - the policy delegation client behind check_policy_service
 * (spec/smtpd.md §10).
 *
 *   smtpd_policy_init(spec)
 *       at startup (smtpd_check_init), for each check_policy_service
 *       argument: "inet:host:port", "unix:/path", "unix:private/name"
 *       (relative to the queue directory), "private/name", or
 *       "{ endpoint, name = value, ... }" with per-client timeout,
 *       max_idle, max_ttl, request_limit, try_limit, retry_delay,
 *       default_action, policy_context. Returns a handle; the same spec
 *       twice gives the same handle. A malformed spec is fatal.
 *   smtpd_policy_query(state, handle, action)
 *       send one request built from state (every attribute of §10, with
 *       protocol_state = state->where, BDAT as DATA) and read the reply.
 *       Returns true with action = the text after "action=" on success;
 *       on failure (connect, timeout, malformed reply, after try_limit
 *       tries retry_delay apart) logs a warning and returns false with
 *       action = the default_action. The caller applies action as an
 *       access-map result.
 *   smtpd_policy_reset()
 *       close connections that passed max_idle or max_ttl (called between
 *       sessions).
 *
 * Connections are kept open across requests and sessions (request_limit
 * and max_ttl close them; max_idle closes an idle one).
 */
#ifndef SMTPD_POLICY_H
#define SMTPD_POLICY_H

#include <stdbool.h>

#include "smtpd.h"
#include "vstring.h"

typedef struct SMTPD_POLICY SMTPD_POLICY;

extern SMTPD_POLICY *smtpd_policy_init(const char *spec);
extern bool smtpd_policy_query(SMTPD_STATE *state, SMTPD_POLICY *policy, VSTRING *action);
extern void smtpd_policy_reset(void);

#endif
