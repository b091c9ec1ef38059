/*
 * bounce_template - the four notice templates (failure, delay, success,
 * verify): the built-in texts, or those of bounce_template_file in the
 * format of bounce(5):
 *
 *   failure_template = <<EOF
 *   Charset: us-ascii
 *   From: Mail Delivery System <MAILER-DAEMON>
 *   Subject: Undelivered Mail Returned to Sender
 *   Postmaster-Subject: Postmaster Copy: Undelivered Mail
 *
 *   This is the mail system at host $myhostname.
 *   ...
 *   EOF
 *
 * bounce_template_load(path) reads the file (NULL or "": built-ins only);
 * a template the file does not name keeps its built-in text. Header names
 * are case-insensitive; unknown headers, an unknown template name or a
 * missing EOF are fatal (a configuration error). bounce_template_get(kind)
 * returns the template in use. bounce_template_expand(out, text) expands
 * $name and ${name} in the text: main.cf parameters, plus
 * delay_warning_time_UNIT and maximal_queue_lifetime_UNIT (UNIT seconds,
 * minutes, hours, days or weeks); an unknown name stays as written.
 */
#ifndef BOUNCE_TEMPLATE_H
#define BOUNCE_TEMPLATE_H

#include "bounce_notice.h"
#include "vstring.h"

typedef struct BOUNCE_TEMPLATE {
    const char *name; /* failure_template, ... */
    char *charset;    /* Charset: */
    char *from;       /* From: */
    char *subject;    /* Subject: */
    char *pm_subject; /* Postmaster-Subject: (NULL: none) */
    char *text;       /* message text, lines separated by '\n', unexpanded */
} BOUNCE_TEMPLATE;

extern void bounce_template_load(const char *path);
extern const BOUNCE_TEMPLATE *bounce_template_get(BOUNCE_KIND kind);
extern void bounce_template_expand(VSTRING *out, const char *text);

#endif
