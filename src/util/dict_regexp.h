/*
 * dict_regexp - the "regexp" table type: POSIX regular expressions.
 *
 * dict_regexp_open(name, open_flags, dict_flags) reads the rule file name
 * (or the inline form "{ {rule}, ... }") once and compiles every rule:
 *
 *   /pattern/flags result      result when the key matches
 *   !/pattern/flags result     result when it does not match
 *   if /pattern/flags ... endif  (also "if !/pattern/"; blocks nest)
 *
 * Any non-alphanumeric character may delimit the pattern. The flags
 * toggle i (ignore case, on), x (extended syntax, on; off means basic
 * regular expressions) and m (multi-line: "^", "$" at embedded newlines
 * and "." not matching newline, off). Results may use $1..$9, ${n},
 * $(n) and $$ unless DICT_FLAG_NO_REGSUB is given.
 *
 * Errors: an unreadable file or write access gives a surrogate; bad
 * rules are skipped with "regexp map FILE, line N: ..." warnings (see
 * dict_pattern.h); a matching failure fails the lookup with
 * DICT_ERR_RETRY.
 */
#ifndef DICT_REGEXP_H
#define DICT_REGEXP_H

#include "dict.h"

extern DICT *dict_regexp_open(const char *name, int open_flags, int dict_flags);

#endif
