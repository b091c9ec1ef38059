/*
 * alias_src - one entry of an aliases(5) file.
 *
 * alias_src_split(line, file, lineno, name, value) parses one logical line
 * "name: address, address, ..." (readlline joins continuation lines). The
 * name may be quoted ("a b": x) and is returned unquoted; the value is the
 * address list in normalised external form (tok822_externalize_list():
 * "kdent,kdent@oreilly.com" -> "kdent, kdent@oreilly.com"; "|command",
 * /file and :include:/file targets pass through).
 *
 * Returns 1 with name and value set, or 0 for a line that is skipped after
 * a warning naming FILE and line: "need name:value pair" (no colon, no
 * name or no value) or "name must be local" (a name with an @ or % domain).
 */
#ifndef ALIAS_SRC_H
#define ALIAS_SRC_H

#include "vstring.h"

extern int alias_src_split(const char *line, const char *file, int lineno, VSTRING *name, VSTRING *value);

#endif
