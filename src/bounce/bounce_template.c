/*
 * bounce_template - built-in notice templates and bounce_template_file
 * (see bounce_template.h; the format and the default texts are those
 * bounce(5) documents and `postconf -t` prints).
 *
 * Public functions: bounce_template_load(), bounce_template_get(),
 * bounce_template_expand().
 *
 * Errors: a malformed template file is fatal, naming the file and line.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bounce_template.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"
#include "vstream.h"

#define BOUNCE_TEMPLATE_HELP                                                                                 \
    "For further assistance, please send mail to postmaster.\n"                                              \
    "\n"                                                                                                     \
    "If you do so, please include this problem report. You can\n"                                            \
    "delete your own text from the attached returned message.\n"                                             \
    "\n"                                                                                                     \
    "                   The mail system"

/* The built-in texts, in BOUNCE_KIND order. */
static const struct {
    const char *name;
    const char *subject;
    const char *pm_subject;
    const char *text;
} bounce_template_defaults[] = {
    {"failure_template", "Undelivered Mail Returned to Sender", "Postmaster Copy: Undelivered Mail",
     "This is the mail system at host $myhostname.\n"
     "\n"
     "I'm sorry to have to inform you that your message could not\n"
     "be delivered to one or more recipients. It's attached below.\n"
     "\n" BOUNCE_TEMPLATE_HELP},
    {"delay_template", "Delayed Mail (still being retried)", "Postmaster Warning: Delayed Mail",
     "This is the mail system at host $myhostname.\n"
     "\n"
     "####################################################################\n"
     "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
     "####################################################################\n"
     "\n"
     "Your message could not be delivered for more than $delay_warning_time_hours hour(s).\n"
     "It will be retried until it is $maximal_queue_lifetime_days day(s) old.\n"
     "\n" BOUNCE_TEMPLATE_HELP},
    {"success_template", "Successful Mail Delivery Report", NULL,
     "This is the mail system at host $myhostname.\n"
     "\n"
     "Your message was successfully delivered to the destination(s)\n"
     "listed below. If the message was delivered to mailbox you will\n"
     "receive no further notifications. Otherwise you may still receive\n"
     "notifications of mail delivery errors from other systems.\n"
     "\n"
     "                   The mail system"},
    {"verify_template", "Mail Delivery Status Report", NULL,
     "This is the mail system at host $myhostname.\n"
     "\n"
     "Enclosed is the mail delivery report that you requested.\n"
     "\n"
     "                   The mail system"},
};

#define BOUNCE_TEMPLATE_COUNT ARRAY_LEN(bounce_template_defaults)

static BOUNCE_TEMPLATE bounce_templates[BOUNCE_TEMPLATE_COUNT];
static bool bounce_templates_ready;

/* Set template I to its built-in text. */
static void bounce_template_default(size_t i)
{
    BOUNCE_TEMPLATE *tp = bounce_templates + i;

    tp->name = bounce_template_defaults[i].name;
    tp->charset = mystrdup("us-ascii");
    tp->from = mystrdup("Mail Delivery System <MAILER-DAEMON>");
    tp->subject = mystrdup(bounce_template_defaults[i].subject);
    tp->pm_subject =
        bounce_template_defaults[i].pm_subject ? mystrdup(bounce_template_defaults[i].pm_subject) : NULL;
    tp->text = mystrdup(bounce_template_defaults[i].text);
}

/* Replace *field by a copy of VALUE. */
static void bounce_template_set(char **field, const char *value)
{
    if (*field)
        myfree(*field);
    *field = mystrdup(value);
}

/* Load the built-ins, then PATH when set; see bounce_template.h. */
void bounce_template_load(const char *path)
{
    VSTREAM *fp;
    VSTRING *line = vstring_alloc(100);
    VSTRING *text = vstring_alloc(100);
    BOUNCE_TEMPLATE *tp = NULL;
    bool in_header = false;
    int lineno = 0;

    if (!bounce_templates_ready) {
        for (size_t i = 0; i < BOUNCE_TEMPLATE_COUNT; i++)
            bounce_template_default(i);
        bounce_templates_ready = true;
    }
    if (path == NULL || *path == 0)
        goto out;
    if ((fp = vstream_fopen(path, O_RDONLY, 0)) == NULL)
        msg_fatal("open bounce template file %s: %m", path);
    while (vstream_fgets_nonl_limit(line, fp, VSTREAM_NO_LIMIT) != VSTREAM_LINE_EOF) {
        char *cp = vstring_str(line);

        lineno++;
        if (tp == NULL) {
            char *name, *rest;

            if (*cp == '#' || *trimblanks(cp) == 0 || (*cp == 0))
                continue;
            rest = cp;
            name = mystrtok(&rest, " \t=");
            while (rest && (*rest == ' ' || *rest == '\t' || *rest == '='))
                rest++;
            if (name == NULL || rest == NULL || strcmp(trimblanks(rest), "<<EOF") != 0)
                msg_fatal("%s, line %d: expected \"NAME = <<EOF\"", path, lineno);
            for (size_t i = 0; i < BOUNCE_TEMPLATE_COUNT && tp == NULL; i++)
                if (strcmp(name, bounce_templates[i].name) == 0)
                    tp = bounce_templates + i;
            if (tp == NULL)
                msg_fatal("%s, line %d: unknown template name \"%s\"", path, lineno, name);
            in_header = true;
            vstring_truncate(text, 0);
            continue;
        }
        if (strcmp(cp, "EOF") == 0) {
            if (VSTRING_LEN(text) > 0 && vstring_str(text)[VSTRING_LEN(text) - 1] == '\n')
                vstring_truncate(text, VSTRING_LEN(text) - 1);
            bounce_template_set(&tp->text, vstring_str(text));
            tp = NULL;
            continue;
        }
        if (in_header) {
            char *colon;

            if (*cp == 0) {
                in_header = false;
                continue;
            }
            if ((colon = strchr(cp, ':')) == NULL)
                msg_fatal("%s, line %d: malformed template header \"%s\"", path, lineno, cp);
            *colon++ = 0;
            while (*colon == ' ' || *colon == '\t')
                colon++;
            if (strcasecmp(cp, "Charset") == 0)
                bounce_template_set(&tp->charset, colon);
            else if (strcasecmp(cp, "From") == 0)
                bounce_template_set(&tp->from, colon);
            else if (strcasecmp(cp, "Subject") == 0)
                bounce_template_set(&tp->subject, colon);
            else if (strcasecmp(cp, "Postmaster-Subject") == 0)
                bounce_template_set(&tp->pm_subject, colon);
            else
                msg_fatal("%s, line %d: unknown template header \"%s\"", path, lineno, cp);
            continue;
        }
        vstring_strcat(text, cp);
        vstring_strcat(text, "\n");
    }
    if (tp != NULL)
        msg_fatal("%s: template %s has no EOF line", path, tp->name);
    vstream_fclose(fp);
out:
    vstring_free(line);
    vstring_free(text);
}

/* The template of KIND (the built-ins when none was loaded). */
const BOUNCE_TEMPLATE *bounce_template_get(BOUNCE_KIND kind)
{
    if (!bounce_templates_ready)
        bounce_template_load(NULL);
    return bounce_templates + (size_t)kind;
}

/* VALUE seconds in the unit named by SUFFIX into OUT; false for an unknown unit. */
static bool bounce_template_time(VSTRING *out, long value, const char *suffix)
{
    static const struct {
        const char *suffix;
        long seconds;
    } units[] = {{"seconds", 1}, {"minutes", 60}, {"hours", 3600}, {"days", 86400}, {"weeks", 604800}};

    for (size_t i = 0; i < ARRAY_LEN(units); i++) {
        if (strcmp(suffix, units[i].suffix) == 0) {
            if (value > 0 && value / units[i].seconds == 0)
                msg_warn("zero result in template conversion of a time parameter to %s", suffix);
            vstring_sprintf_append(out, "%ld", value / units[i].seconds);
            return true;
        }
    }
    return false;
}

/* The value of NAME appended to OUT; false when unknown. */
static bool bounce_template_value(VSTRING *out, const char *name)
{
    static const char dwt[] = "delay_warning_time_";
    static const char mql[] = "maximal_queue_lifetime_";
    const char *value;

    if (strncmp(name, dwt, sizeof(dwt) - 1) == 0)
        return bounce_template_time(out, var_delay_warning_time, name + sizeof(dwt) - 1);
    if (strncmp(name, mql, sizeof(mql) - 1) == 0)
        return bounce_template_time(out, var_maximal_queue_lifetime, name + sizeof(mql) - 1);
    if (strcmp(name, "myhostname") == 0) {
        vstring_strcat(out, var_myhostname);
        return true;
    }
    if (strcmp(name, "mydomain") == 0) {
        vstring_strcat(out, var_mydomain);
        return true;
    }
    if (mail_conf_raw(name) == NULL || (value = mail_conf_eval(name)) == NULL)
        return false;
    vstring_strcat(out, value);
    return true;
}

/* Expand $name and ${name} in TEXT into OUT. */
void bounce_template_expand(VSTRING *out, const char *text)
{
    VSTRING *name = vstring_alloc(30);
    const char *cp = text;

    vstring_truncate(out, 0);
    while (*cp) {
        const char *start = cp;
        bool brace;

        if (*cp != '$') {
            vstring_strncat(out, cp, 1);
            cp++;
            continue;
        }
        cp++;
        brace = *cp == '{';
        if (brace)
            cp++;
        vstring_truncate(name, 0);
        while (*cp && (isalnum((unsigned char)*cp) || *cp == '_'))
            vstring_strncat(name, cp++, 1);
        if (brace) {
            if (*cp != '}') {
                vstring_strncat(out, start, (size_t)(cp - start));
                continue;
            }
            cp++;
        }
        if (VSTRING_LEN(name) == 0 || !bounce_template_value(out, vstring_str(name)))
            vstring_strncat(out, start, (size_t)(cp - start));
    }
    vstring_free(name);
}
