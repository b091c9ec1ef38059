/*
 * xsasl_secopt - parse a SASL security option list
 * (smtpd_sasl_security_options, smtp_sasl_security_options and their TLS
 * twins): words separated by commas or white space, any case.
 *
 * xsasl_security_options(param, text) returns the XSASL_SEC_* bits, or -1
 * after a warning naming PARAM when a word is unknown.
 */
#include "sys_defs.h"

#include <string.h>
#include <strings.h>

#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"
#include "xsasl.h"

static const struct {
    const char *name;
    int flag;
} xsasl_secopt_table[] = {
    {"noplaintext", XSASL_SEC_NOPLAINTEXT},   {"noactive", XSASL_SEC_NOACTIVE},
    {"nodictionary", XSASL_SEC_NODICTIONARY}, {"noanonymous", XSASL_SEC_NOANONYMOUS},
    {"mutual_auth", XSASL_SEC_MUTUAL_AUTH},   {"forward_secrecy", XSASL_SEC_FORWARD_SECRECY},
};

/* Parse TEXT into XSASL_SEC_* bits; -1 on an unknown word. */
int xsasl_security_options(const char *param, const char *text)
{
    char *copy = mystrdup(text ? text : "");
    char *cp = copy;
    char *word;
    int flags = 0;

    while ((word = mystrtok(&cp, ", \t\r\n")) != NULL) {
        size_t i;

        for (i = 0; i < sizeof(xsasl_secopt_table) / sizeof(xsasl_secopt_table[0]); i++)
            if (strcasecmp(word, xsasl_secopt_table[i].name) == 0)
                break;
        if (i == sizeof(xsasl_secopt_table) / sizeof(xsasl_secopt_table[0])) {
            msg_warn("unknown %s value \"%s\"", param, word);
            myfree(copy);
            return -1;
        }
        flags |= xsasl_secopt_table[i].flag;
    }
    myfree(copy);
    return flags;
}
