/*
 * stringops - small string helpers used by the configuration code and the
 * programs above it.
 *
 * mystrtok() and mystrtokq() cut the next token out of a writable string
 * (skipping empty fields; mystrtokq() keeps {...} groups together);
 * extpar() strips one level of { } from a token; trimblanks() removes
 * leading and trailing whitespace in place; lowercase() folds ASCII in
 * place; alldig() tests for a non-empty digit string; split_nameval()
 * parses "name = value" and returns an error text or NULL.
 */
#ifndef STRINGOPS_H
#define STRINGOPS_H

#include <stdbool.h>

#define CHARS_SPACE " \t\r\n"
#define CHARS_COMMA_SP ", \t\r\n"

extern char *mystrtok(char **bufp, const char *delim);
extern char *mystrtokq(char **bufp, const char *delim, const char *parens);
extern const char *extpar(char **bp, const char *parens);
extern char *trimblanks(char *str);
extern char *lowercase(char *str);
extern bool alldig(const char *str);
extern const char *split_nameval(char *buf, char **name, char **value);

#endif
