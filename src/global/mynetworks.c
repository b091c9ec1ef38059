/*
 * mynetworks - compute the default mynetworks value. See mynetworks.h.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "msg.h"
#include "mymalloc.h"
#include "mynetworks.h"
#include "vstring.h"

enum mynetworks_style { STYLE_HOST, STYLE_SUBNET, STYLE_CLASS };

/* Count the leading one bits of a netmask. */
static int mynetworks_prefix(const unsigned char *mask, size_t len)
{
    int bits = 0;

    for (size_t i = 0; i < len; i++)
        for (int b = 7; b >= 0 && (mask[i] >> b & 1); b--)
            bits++;
    return bits;
}

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
    struct ifaddrs *ifap;
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

    if (getifaddrs(&ifap) < 0)
        msg_fatal("getifaddrs: %m");
    for (struct ifaddrs *ifa = ifap; ifa; ifa = ifa->ifa_next) {
        if (ifa->ifa_addr == NULL || ifa->ifa_netmask == NULL)
            continue;
        if (ifa->ifa_addr->sa_family == AF_INET) {
            unsigned char addr[4];
            unsigned char *mask = (unsigned char *) &((struct sockaddr_in *) ifa->ifa_netmask)->sin_addr;
            int prefix = mynetworks_prefix(mask, 4);

            memcpy(addr, &((struct sockaddr_in *) ifa->ifa_addr)->sin_addr, 4);
            if (style == STYLE_HOST)
                prefix = 32;
            else if (style == STYLE_CLASS)
                prefix = addr[0] < 128 ? 8 : addr[0] < 192 ? 16 : addr[0] < 224 ? 24 : 32;
            mynetworks_mask(addr, 4, prefix);
            mynetworks_add(v4, AF_INET, addr, prefix);
        } else if (ifa->ifa_addr->sa_family == AF_INET6) {
            unsigned char addr[16];
            unsigned char *mask = (unsigned char *) &((struct sockaddr_in6 *) ifa->ifa_netmask)->sin6_addr;
            int prefix = style == STYLE_HOST ? 128 : mynetworks_prefix(mask, 16);

            memcpy(addr, &((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr, 16);
            mynetworks_mask(addr, 16, prefix);
            mynetworks_add(v6, AF_INET6, addr, prefix);
        }
    }
    freeifaddrs(ifap);
    for (size_t i = 0; i < v6->argc; i++)
        argv_add(v4, v6->argv[i]);
    for (size_t i = 0; i < v4->argc; i++)
        vstring_sprintf_append(result, "%s%s", i ? " " : "", v4->argv[i]);
    argv_free(v4);
    argv_free(v6);
    return vstring_export(result);
}
