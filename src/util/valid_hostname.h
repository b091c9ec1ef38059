/*
 * valid_hostname - syntax check for DNS host names.
 *
 * valid_hostname(NAME) accepts dot-separated labels of letters, digits,
 * '-' and '_' (no label starting or ending with '-', none empty, at most
 * 63 bytes each, 255 in all) whose last label is not all-numeric.
 */
#ifndef VALID_HOSTNAME_H
#define VALID_HOSTNAME_H

#include <stdbool.h>

#define VALID_HOSTNAME_LEN 255
#define VALID_LABEL_LEN 63

extern bool valid_hostname(const char *name);

#endif
