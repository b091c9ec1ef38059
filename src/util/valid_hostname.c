/*
 * valid_hostname - syntax check for DNS host names. See valid_hostname.h.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <string.h>

#include "valid_hostname.h"

bool valid_hostname(const char *name)
{
    size_t label_len = 0;
    bool label_numeric = true;

    if (*name == 0 || strlen(name) > VALID_HOSTNAME_LEN)
        return false;
    for (const char *cp = name;; cp++) {
        int ch = (unsigned char) *cp;

        if (ch == '.' || ch == 0) {
            if (label_len == 0 || cp[-1] == '-')
                return false;
            if (ch == 0)
                return !label_numeric;
            label_len = 0;
            label_numeric = true;
        } else if (isalnum(ch) || ch == '_' || ch == '-') {
            if (ch == '-' && label_len == 0)
                return false;
            if (++label_len > VALID_LABEL_LEN)
                return false;
            if (!isdigit(ch))
                label_numeric = false;
        } else {
            return false;
        }
    }
}
