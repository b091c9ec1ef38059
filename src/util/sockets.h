/*
 * sockets - listening and connecting endpoints: TCP, UNIX-domain and FIFO,
 * plus address helpers.
 *
 * Public functions (the names keep the traditional per-endpoint prefixes):
 *   inet_listen(addr, backlog, block_mode)     TCP listener
 *   inet_connect(addr, block_mode, timeout)    TCP client
 *   unix_listen(path, backlog, block_mode)     UNIX-domain stream listener
 *   unix_connect(path, block_mode, timeout)    UNIX-domain stream client
 *   unix_connect_nowait(path, block_mode)      the same, but -1 with EAGAIN
 *                                              at once when the listener's
 *                                              backlog is full
 *   fifo_listen(path, mode, block_mode)        FIFO reader
 *   fifo_trigger(path, buf, len, timeout)      write a wakeup request to a FIFO
 *   host_port(buf, &host, def_host, &port, def_port)   split "host:port"
 *   sockaddr_to_string(sa, &buf)               numeric address and port
 *   inet_addr_local(families), inet_addr_list_free()  local interface addresses
 *
 * Addresses for inet_listen() are "port", ":port", "host:port",
 * "[host]:port" or "ipv6addr:port" (the last colon starts the port, so
 * "::1:25" is ::1 port 25); a port is a number or a service name. A missing
 * host means 0.0.0.0; listen on "[::]:port" for IPv6. Host names are
 * resolved with getaddrinfo(); the first address that can be bound or
 * connected to is used. Every descriptor is close-on-exec; block_mode is
 * BLOCKING or NON_BLOCKING (iostuff.h) and applies to the result. Timeouts
 * are in seconds; zero or less means no limit. IPv6 listeners are
 * IPv6-only, TCP listeners set SO_REUSEADDR.
 *
 * Errors: -1 with errno set. Address syntax errors (errno EINVAL) and name
 * lookup failures (errno EADDRNOTAVAIL for listeners, EHOSTUNREACH for
 * clients, EAGAIN for a temporary resolver failure) cannot be described by
 * errno alone and are also logged with msg_warn(). host_port() returns an
 * error text instead.
 */
#ifndef SOCKETS_H
#define SOCKETS_H

#include <netinet/in.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "iostuff.h"
#include "sys_defs.h"

extern int inet_listen(const char *addr, int backlog, int block_mode);
extern int inet_connect(const char *addr, int block_mode, int timeout);
extern int unix_listen(const char *path, int backlog, int block_mode);
extern int unix_connect(const char *path, int block_mode, int timeout);
extern int unix_connect_nowait(const char *path, int block_mode);
extern int fifo_listen(const char *path, mode_t mode, int block_mode);
extern int fifo_trigger(const char *path, const void *buf, size_t len, int timeout);
extern const char *host_port(char *buf, const char **host, const char *def_host, const char **port,
                             const char *def_port);

/* Printable forms of a socket address. */
typedef struct SOCKADDR_STRING {
    char addr[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];  /* "192.0.2.1", "::1", "fe80::1%eth0" */
    char port[8];                                   /* "25" */
    char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 12]; /* "192.0.2.1:25", "[::1]:25" */
} SOCKADDR_STRING;

extern int sockaddr_to_string(const struct sockaddr *sa, SOCKADDR_STRING *buf);

/* One local interface address. */
typedef struct INET_ADDR_INFO {
    struct sockaddr_storage addr;
    struct sockaddr_storage mask;
    int prefix_len; /* leading one bits of mask */
    char ifname[IF_NAMESIZE];
} INET_ADDR_INFO;

typedef struct INET_ADDR_LIST {
    INET_ADDR_INFO *info;
    size_t used;
    size_t size;
} INET_ADDR_LIST;

#define INET_ADDR_IPV4 (1 << 0)
#define INET_ADDR_IPV6 (1 << 1)

extern INET_ADDR_LIST *inet_addr_local(int families);
extern INET_ADDR_LIST *inet_addr_list_free(INET_ADDR_LIST *list);

#endif
