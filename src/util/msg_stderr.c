/*
 * msg_stderr - diagnostics on standard error. See msg_stderr.h.
 */
#include "sys_defs.h"

#include <unistd.h>

#include "msg.h"
#include "msg_stderr.h"
#include "mymalloc.h"
#include "vstring.h"

static char *msg_stderr_tag;

/* Write "tag: prefix text\n" with a single write(2). */
static void msg_stderr_print(enum msg_level level, const char *text)
{
    VSTRING *line = vstring_alloc(100);

    vstring_sprintf(line, "%s: %s%s\n", msg_stderr_tag, msg_level_prefix(level), text);
    (void) !write(STDERR_FILENO, vstring_str(line), VSTRING_LEN(line));
    vstring_free(line);
}

void msg_stderr_init(const char *tag)
{
    if (msg_stderr_tag)
        myfree(msg_stderr_tag);
    msg_stderr_tag = mystrdup(tag);
    msg_output(msg_stderr_print);
}
