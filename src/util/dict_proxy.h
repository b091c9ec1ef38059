/*
 * dict_proxy - "proxy:type:name". Until the proxymap service exists this
 * is a pass-through: it opens type:name in the calling process and
 * forwards lookups, so configurations written for Postfix work. Building
 * or changing a table through it is refused like Postfix does ("can't
 * create maps via the proxy service"). A proxymap client registered with
 * dict_open_register() will replace it.
 */
#ifndef DICT_PROXY_H
#define DICT_PROXY_H

#include "dict.h"

extern DICT *dict_proxy_open(const char *name, int open_flags, int dict_flags);

#endif
