/*
 * mynetworks - compute the default mynetworks value. See mynetworks.h.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "msg.h"
#include "mymalloc.h"
#include "mynetworks.h"
#include "sockets.h"
#include "vstring.h"

enum mynetworks_style { STYLE_HOST, STYLE_SUBNET, STYLE_CLASS };

/* Clear the bits after the first prefix bits. */
static void mynetworks_mask(unsigned char *addr, size_t len, int prefix)
{
    for (size_t i = 0; i < len; i++) {
        int keep = prefix - (int) (8 * i);

        if (keep <= 0)
            addr[i] = 0;
        else if (keep < 8)
            addr[i] &= (unsigned char) (0xff << (8 - keep));
    }
}

/* Add "net/prefix" (bracketed for IPv6) unless it is already listed. */
static void mynetworks_add(ARGV *list, int family, unsigned char *addr, int prefix)
{
    char text[INET6_ADDRSTRLEN];
    char entry[INET6_ADDRSTRLEN + 8];

    inet_ntop(family, addr, text, sizeof(text));
    snprintf(entry, sizeof(entry), family == AF_INET6 ? "[%s]/%d" : "%s/%d", text, prefix);
    for (size_t i = 0; i < list->argc; i++)
        if (strcmp(list->argv[i], entry) == 0)
            return;
    argv_add(list, entry);
}

char *mynetworks_compute(const char *style_name)
{
    enum mynetworks_style style;
    INET_ADDR_LIST *list;
    ARGV *v4 = argv_alloc(4);
    ARGV *v6 = argv_alloc(4);
    VSTRING *result = vstring_alloc(100);

    if (strcasecmp(style_name, "host") == 0)
        style = STYLE_HOST;
    else if (strcasecmp(style_name, "subnet") == 0)
        style = STYLE_SUBNET;
    else if (strcasecmp(style_name, "class") == 0)
        style = STYLE_CLASS;
    else
        msg_fatal("unknown mynetworks_style parameter value: %s", style_name);

    list = inet_addr_local(INET_ADDR_IPV4 | INET_ADDR_IPV6);
    for (size_t n = 0; n < list->used; n++) {
        const INET_ADDR_INFO *info = list->info + n;

        if (info->addr.ss_family == AF_INET) {
            unsigned char addr[4];
            int prefix = info->prefix_len;

            memcpy(addr, &((const struct sockaddr_in *) &info->addr)->sin_addr, 4);
            if (style == STYLE_HOST)
                prefix = 32;
            else if (style == STYLE_CLASS)
                prefix = addr[0] < 128 ? 8 : addr[0] < 192 ? 16 : addr[0] < 224 ? 24 : 32;
            mynetworks_mask(addr, 4, prefix);
            mynetworks_add(v4, AF_INET, addr, prefix);
        } else if (info->addr.ss_family == AF_INET6) {
            unsigned char addr[16];
            int prefix = style == STYLE_HOST ? 128 : info->prefix_len;

            memcpy(addr, &((const struct sockaddr_in6 *) &info->addr)->sin6_addr, 16);
            mynetworks_mask(addr, 16, prefix);
            mynetworks_add(v6, AF_INET6, addr, prefix);
        }
    }
    inet_addr_list_free(list);
    for (size_t i = 0; i < v6->argc; i++)
        argv_add(v4, v6->argv[i]);
    for (size_t i = 0; i < v4->argc; i++)
        vstring_sprintf_append(result, "%s%s", i ? " " : "", v4->argv[i]);
    argv_free(v4);
    argv_free(v6);
    return vstring_export(result);
}
