/*
 * mac_expand - expand $name references in configuration values.
 *
 * mac_expand() appends the expansion of pattern to result. Forms:
 *   $name ${name} $(name)     the named value, itself expanded
 *   $$                        a literal $
 *   ${name?value}             value when $name is defined and non-empty
 *   ${name:value}             value when $name is undefined or empty
 *   ${name?{v1}:{v2}}         v1 when non-empty, else v2
 *   ${{a} OP {b} ? {v1} : {v2}}  OP one of == != < <= > >= (numeric when
 *                             both sides are digits, else byte order) or
 *                             <level <=level >level >=level (compatibility
 *                             levels: "3.10" > "3.9")
 * Braces protect commas and spaces; the chosen value and the operands are
 * expanded. The lookup function returns a name's raw value or NULL when
 * undefined (an undefined name expands to nothing). Values are expanded
 * recursively unless MAC_EXP_FLAG_NONE is given; more than
 * MAC_EXP_MAX_NESTING levels is an error, never a hang.
 *
 * Errors (empty macro name, truncated macro reference, syntax errors,
 * unreasonable nesting) are reported with msg_warn() and make the result
 * include MAC_EXP_ERROR; the caller decides how fatal that is.
 */
#ifndef MAC_EXPAND_H
#define MAC_EXPAND_H

#include "vstring.h"

#define MAC_EXP_MAX_NESTING 100

#define MAC_EXP_OK 0
#define MAC_EXP_UNDEF (1 << 0)          /* an undefined name was used */
#define MAC_EXP_ERROR (1 << 1)          /* syntax or nesting error */

#define MAC_EXP_FLAG_NONE 0
#define MAC_EXP_FLAG_NORECURSE (1 << 0) /* insert values as they are */

typedef const char *(*MAC_EXP_LOOKUP_FN)(const char *name, void *context);

extern int mac_expand(VSTRING *result, const char *pattern, int flags, MAC_EXP_LOOKUP_FN lookup,
                      void *context);
extern int mac_expand_level_cmp(const char *a, const char *b);

#endif
