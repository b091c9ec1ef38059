/*
 * readlline - read one logical line of a Postfix-style configuration file.
 *
 * readlline() implements the rules shared by main.cf, master.cf, table
 * sources and database .cf files: blank lines and lines whose first
 * non-blank character is '#' are skipped; a line that begins with
 * whitespace continues the previous logical line (skipped lines may sit in
 * between); joining drops only the newline, so the continuation's leading
 * whitespace stays; a trailing carriage return is dropped; there is no
 * length limit. A continuation with nothing to continue is skipped with a
 * warning naming the file; text after a NUL byte is dropped with a warning
 * naming file and line.
 *
 * Returns the logical line in buf (without newline), or NULL at end of
 * file. readlline_ignorable() tells whether one physical line is blank or
 * a comment, for code that must keep the file's lines (conf_edit).
 * *first is set to the number of the line where the logical line
 * starts; lineno counts physical lines read so far and must start at 0.
 */
#ifndef READLLINE_H
#define READLLINE_H

#include <stdio.h>

#include "vstring.h"

typedef struct READLLINE {
    FILE *fp;
    const char *name;                   /* file name for diagnostics */
    int lineno;                         /* physical lines consumed */
} READLLINE;

extern VSTRING *readlline(VSTRING *buf, READLLINE *rl, int *first);
extern int readlline_ignorable(const char *line);

#endif
