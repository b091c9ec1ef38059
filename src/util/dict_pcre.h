/*
 * dict_pcre - the "pcre" table type: Perl-compatible regular expressions
 * through PCRE2.
 *
 * dict_pcre_open(name, open_flags, dict_flags) reads the rule file name
 * (or the inline form "{ {rule}, ... }") once and compiles every rule;
 * the syntax is that of regexp tables (dict_regexp.h). The flags toggle
 * i (caseless, on), m (multi-line, off), s (dot matches newline, on),
 * x (extended, off), A (anchored, off), E (dollar matches only at the
 * end, off) and U (ungreedy, off). Results may use $1.., ${n}, $(n) and
 * $$ unless DICT_FLAG_NO_REGSUB is given.
 *
 * Without PCRE2 (HAS_PCRE2 undefined) the type opens as a surrogate
 * saying so.
 *
 * Errors: an unreadable file or write access gives a surrogate; bad
 * rules are skipped with "pcre map FILE, line N: ..." warnings; a match
 * error (for example "match limit exceeded") is logged and fails the
 * lookup with DICT_ERR_RETRY.
 */
#ifndef DICT_PCRE_H
#define DICT_PCRE_H

#include "dict.h"

extern DICT *dict_pcre_open(const char *name, int open_flags, int dict_flags);

#endif
