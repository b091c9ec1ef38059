/*
 * readlline - read one logical configuration line. See readlline.h.
 */
#include "sys_defs.h"

#include <string.h>

#include "msg.h"
#include "readlline.h"

/* Read one physical line into line; returns 0 at end of file. */
static int readlline_physical(VSTRING *line, READLLINE *rl)
{
    int ch;

    vstring_reset(line);
    if ((ch = getc(rl->fp)) == EOF)
        return 0;
    rl->lineno++;
    for (; ch != EOF && ch != '\n'; ch = getc(rl->fp))
        vstring_addch(line, ch);
    if (VSTRING_LEN(line) > 0 && vstring_end(line)[-1] == '\r')
        vstring_truncate(line, VSTRING_LEN(line) - 1);
    if (strlen(vstring_str(line)) < VSTRING_LEN(line)) {
        msg_warn("%s, line %d: text after null byte may be ignored", rl->name, rl->lineno);
        vstring_truncate(line, strlen(vstring_str(line)));
    }
    return 1;
}

/* True when the line is blank or a comment (possibly indented). */
int readlline_ignorable(const char *cp)
{
    cp += strspn(cp, " \t\r\f\v");
    return *cp == 0 || *cp == '#';
}

VSTRING *readlline(VSTRING *buf, READLLINE *rl, int *first)
{
    VSTRING *line = vstring_alloc(100);
    int ch;

    vstring_reset(buf);
    for (;;) {
        if (!readlline_physical(line, rl)) {
            vstring_free(line);
            return NULL;
        }
        if (readlline_ignorable(vstring_str(line)))
            continue;
        if (strchr(" \t", vstring_str(line)[0]) == NULL)
            break;
        msg_warn("%s: logical line must not start with whitespace: \"%s\"", rl->name, vstring_str(line));
    }
    *first = rl->lineno;
    vstring_strcpy(buf, vstring_str(line));

    /* Append continuation lines; skipped lines do not end the logical line. */
    while ((ch = getc(rl->fp)) != EOF) {
        ungetc(ch, rl->fp);
        if (ch != ' ' && ch != '\t' && ch != '#' && ch != '\n' && ch != '\r')
            break;
        readlline_physical(line, rl);
        if (!readlline_ignorable(vstring_str(line)))
            vstring_strcat(buf, vstring_str(line));
    }
    vstring_free(line);
    return buf;
}
