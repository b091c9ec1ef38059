/*
 * mynetworks - the default value of the mynetworks parameter.
 *
 * mynetworks_compute(STYLE) lists the networks of this host's interfaces
 * as Postfix does: "host" gives each address (a.b.c.d/32, [addr]/128),
 * "subnet" each interface's network, "class" the whole class A/B/C
 * network of each IPv4 address (IPv6 as subnet). IPv4 entries come first,
 * duplicates are dropped. An unknown style is fatal. Returns a new string.
 */
#ifndef MYNETWORKS_H
#define MYNETWORKS_H

extern char *mynetworks_compute(const char *style);

#endif
