/*
 * mail_queue - the queue directory layout. See mail_queue.h.
 */
#include "sys_defs.h"

#include "mail_params.h"
#include "mail_queue.h"
#include "vstring.h"

/* Modes as Postfix uses them; the owners differ only in system mode. */
const MAIL_QUEUE_DIR mail_queue_dirs[] = {
    {"active", 0700},  {"bounce", 0700},  {"corrupt", 0700},   {"defer", 0700},
    {"deferred", 0700}, {"flush", 0700},  {"hold", 0700},      {"incoming", 0700},
    {"maildrop", 0730}, {"pid", 0755},    {"private", 0700},   {"public", 0710},
    {"saved", 0700},    {"trace", 0700},  {NULL, 0},
};

char *mail_queue_pid_path(void)
{
    return vstring_export(vstring_sprintf(vstring_alloc(100), "%s/pid/master.pid", var_queue_directory));
}
