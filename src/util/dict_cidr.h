/*
 * dict_cidr - the "cidr" table type: IPv4 and IPv6 network patterns.
 *
 * dict_cidr_open(name, open_flags, dict_flags) reads the rule file name
 * (or the inline form "{ {rule}, ... }") once:
 *
 *   ADDR result             ADDR/LEN result     [ADDR] and [ADDR]/LEN too
 *   !ADDR/LEN result        result when the key is outside the network
 *   if ADDR/LEN ... endif   (also "if !ADDR/LEN"; blocks nest)
 *
 * Addresses compare in binary form; an IPv4 key never matches an IPv6
 * pattern and the other way around (no IPv4-mapped conversion). A key
 * that is not an IP address is not found. Results are literal.
 *
 * Errors: an unreadable file or write access gives a surrogate; bad
 * rules are skipped with "cidr map FILE, line N: ...: skipping this
 * rule" warnings.
 */
#ifndef DICT_CIDR_H
#define DICT_CIDR_H

#include "dict.h"

extern DICT *dict_cidr_open(const char *name, int open_flags, int dict_flags);

#endif
