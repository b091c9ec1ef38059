/*
 * sockets - TCP, UNIX-domain and FIFO endpoints and address helpers. See
 * sockets.h.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "iostuff.h"
#include "msg.h"
#include "mymalloc.h"
#include "sockets.h"

/* Close fd without disturbing errno; returns -1 for use in return statements. */
static int sockets_abort(int fd)
{
    int saved_errno = errno;

    if (fd >= 0)
        (void)close(fd);
    errno = saved_errno;
    return -1;
}

/* Check a port: a number up to 65535 or a service name. */
static bool sockets_valid_port(const char *port)
{
    bool digits = true;

    if (*port == 0 || strlen(port) > 32)
        return false;
    for (const char *cp = port; *cp; cp++) {
        if (!isalnum((unsigned char)*cp) && *cp != '-' && *cp != '_')
            return false;
        if (!isdigit((unsigned char)*cp))
            digits = false;
    }
    return !digits || strtol(port, NULL, 10) <= 65535;
}

/*
 * Split buf, in place, into host and port: "host:port", "[host]:port",
 * "[host]", "host", ":port"; the last colon starts the port. Missing parts
 * take the defaults (NULL: required). Returns NULL or an error text.
 */
const char *host_port(char *buf, const char **host, const char *def_host, const char **port,
                      const char *def_port)
{
    char *h = NULL;
    char *p = NULL;
    char *cp;

    if (*buf == '[') {
        if ((cp = strchr(buf, ']')) == NULL)
            return "missing \"]\"";
        *cp++ = 0;
        h = buf + 1;
        if (*h == 0)
            return "empty host name in \"[]\"";
        if (*cp == ':')
            p = cp + 1;
        else if (*cp != 0)
            return "text after \"]\" is not \":port\"";
    } else if ((cp = strrchr(buf, ':')) != NULL) {
        *cp = 0;
        h = buf;
        p = cp + 1;
    } else {
        h = buf;
    }
    *host = h && *h ? h : def_host;
    *port = p && *p ? p : def_port;
    if (*host == NULL)
        return "missing host name";
    if (*port == NULL)
        return "missing port";
    for (const char *hp = *host; *hp; hp++)
        if (isspace((unsigned char)*hp) || *hp == '[' || *hp == ']')
            return "bad host name syntax";
    if (!sockets_valid_port(*port))
        return "bad port syntax";
    return NULL;
}

/* Resolve host and port for a stream socket; logs and sets errno on failure. */
static struct addrinfo *sockets_resolve(const char *addr, const char *host, const char *port, bool passive)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;

    if (passive)
        hints.ai_flags |= AI_PASSIVE;
    int rc = getaddrinfo(host, port, &hints, &res);

    if (rc == 0)
        return res;
    int err = rc == EAI_AGAIN    ? EAGAIN
              : rc == EAI_MEMORY ? ENOMEM
              : rc == EAI_SYSTEM ? errno
              : passive          ? EADDRNOTAVAIL
                                 : EHOSTUNREACH;

    msg_warn("%s: \"%s\": cannot resolve host \"%s\" port \"%s\": %s",
             passive ? "inet_listen" : "inet_connect", addr, host, port,
             rc == EAI_SYSTEM ? strerror(err) : gai_strerror(rc));
    errno = err;
    return NULL;
}

/* Put fd in the caller's blocking mode, or close it. */
static int sockets_finish(int fd, int block_mode)
{
    if (non_blocking(fd, block_mode == NON_BLOCKING) < 0)
        return sockets_abort(fd);
    return fd;
}

/* Listen on a TCP address; returns the socket or -1. */
int inet_listen(const char *addr, int backlog, int block_mode)
{
    char *buf = mystrdup(addr);
    const char *host;
    const char *port;
    const char *err;
    int fd = -1;

    if (*buf != '[' && strchr(buf, ':') == NULL) {
        host = "0.0.0.0";
        port = buf;
        err = sockets_valid_port(port) ? NULL : "bad port syntax";
    } else {
        err = host_port(buf, &host, "0.0.0.0", &port, NULL);
    }
    if (err) {
        msg_warn("inet_listen: \"%s\": %s", addr, err);
        myfree(buf);
        errno = EINVAL;
        return -1;
    }
    struct addrinfo *res = sockets_resolve(addr, host, port, true);

    myfree(buf);
    if (res == NULL)
        return -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        static const int on = 1;

        if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol)) < 0)
            continue;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
            (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) ||
            bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
            fd = sockets_abort(fd);
            continue;
        }
        break;
    }
    int saved_errno = errno;

    freeaddrinfo(res);
    errno = saved_errno;
    return fd < 0 ? -1 : sockets_finish(fd, block_mode);
}

/* Connect with a time limit in seconds (<= 0: none); the socket is left non-blocking. */
static int sockets_connect(int fd, const struct sockaddr *sa, socklen_t len, int timeout)
{
    int64_t deadline = timeout > 0 ? iostuff_clock_ms() + (int64_t)timeout * 1000 : 0;
    int left = -1;

    if (non_blocking(fd, true) < 0)
        return -1;
    for (;;) {
        if (connect(fd, sa, len) == 0)
            return 0;
        if (timeout > 0) {
            int64_t ms = deadline - iostuff_clock_ms();

            left = ms > 0 ? (int)ms : 0;
        }
        if (errno == EINPROGRESS || errno == EINTR)
            break;
        /* A UNIX-domain listener with a full backlog: try again until the time is up. */
        if (errno == EAGAIN && sa->sa_family == AF_UNIX) {
            if (left == 0) {
                errno = ETIMEDOUT;
                return -1;
            }
            (void)poll(NULL, 0, left < 0 || left > 10 ? 10 : left);
            continue;
        }
        return -1;
    }
    if (write_wait(fd, left) < 0)
        return -1;
    int err = 0;
    socklen_t err_len = sizeof(err);

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0)
        return -1;
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

/* Connect to a TCP "host:port", trying each address with the time limit. */
int inet_connect(const char *addr, int block_mode, int timeout)
{
    char *buf = mystrdup(addr);
    const char *host;
    const char *port;
    const char *err = host_port(buf, &host, NULL, &port, NULL);
    int fd = -1;

    if (err) {
        msg_warn("inet_connect: \"%s\": %s", addr, err);
        myfree(buf);
        errno = EINVAL;
        return -1;
    }
    struct addrinfo *res = sockets_resolve(addr, host, port, false);

    myfree(buf);
    if (res == NULL)
        return -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol)) < 0)
            continue;
        if (sockets_connect(fd, ai->ai_addr, ai->ai_addrlen, timeout) == 0)
            break;
        fd = sockets_abort(fd);
    }
    int saved_errno = errno;

    freeaddrinfo(res);
    errno = saved_errno;
    return fd < 0 ? -1 : sockets_finish(fd, block_mode);
}

/* Fill in a UNIX-domain address; ENAMETOOLONG if path does not fit. */
static int sockets_unix_addr(struct sockaddr_un *sun, const char *path)
{
    size_t len = strlen(path);

    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (len >= sizeof(sun->sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sun->sun_path, path, len + 1);
    return 0;
}

/*
 * Remove a leftover endpoint of the expected file type; anything else at
 * path is not ours to remove (EEXIST).
 */
static int sockets_remove_stale(const char *path, mode_t type)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if ((st.st_mode & S_IFMT) != type) {
        errno = EEXIST;
        return -1;
    }
    if (unlink(path) < 0 && errno != ENOENT)
        return -1;
    return 0;
}

/*
 * Listen on a UNIX-domain stream socket, replacing a stale socket. The
 * socket is mode 0666: access is controlled by the enclosing directory.
 */
int unix_listen(const char *path, int backlog, int block_mode)
{
    struct sockaddr_un sun;
    int fd;

    if (sockets_unix_addr(&sun, path) < 0 || sockets_remove_stale(path, S_IFSOCK) < 0)
        return -1;
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
        return sockets_abort(fd);
    if (chmod(path, 0666) < 0 || listen(fd, backlog) < 0) {
        sockets_abort(fd);
        int saved_errno = errno;

        (void)unlink(path);
        errno = saved_errno;
        return -1;
    }
    return sockets_finish(fd, block_mode);
}

/* Connect to a UNIX-domain stream socket with a time limit in seconds. */
int unix_connect(const char *path, int block_mode, int timeout)
{
    struct sockaddr_un sun;
    int fd;

    if (sockets_unix_addr(&sun, path) < 0)
        return -1;
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    if (sockets_connect(fd, (struct sockaddr *)&sun, sizeof(sun), timeout) < 0)
        return sockets_abort(fd);
    return sockets_finish(fd, block_mode);
}

/* Connect to a UNIX-domain listener without waiting for room in its backlog. */
int unix_connect_nowait(const char *path, int block_mode)
{
    struct sockaddr_un sun;
    int fd;

    if (sockets_unix_addr(&sun, path) < 0)
        return -1;
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
        return sockets_abort(fd);
    return sockets_finish(fd, block_mode);
}

/*
 * Create a FIFO with exactly the given mode (replacing a stale FIFO) and
 * open it for reading. It is opened read-write, so it never reports end of
 * file when the last writer goes away.
 */
int fifo_listen(const char *path, mode_t mode, int block_mode)
{
    struct stat st;
    int fd;

    if (sockets_remove_stale(path, S_IFIFO) < 0)
        return -1;
    if (mkfifo(path, mode) < 0)
        return -1;
    if ((fd = open(path, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return -1;
    if (fstat(fd, &st) < 0)
        return sockets_abort(fd);
    if (!S_ISFIFO(st.st_mode)) {
        errno = EEXIST;
        return sockets_abort(fd);
    }
    if (fchmod(fd, mode) < 0)
        return sockets_abort(fd);
    return sockets_finish(fd, block_mode);
}

/*
 * Write a request to a FIFO without blocking on open: ENXIO when nobody is
 * listening, EINVAL when path is not a FIFO. The time limit (seconds)
 * applies when the FIFO is full.
 */
int fifo_trigger(const char *path, const void *buf, size_t len, int timeout)
{
    struct stat st;
    int fd;

    if ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
        return -1;
    if (fstat(fd, &st) < 0)
        return sockets_abort(fd);
    if (!S_ISFIFO(st.st_mode)) {
        errno = EINVAL;
        return sockets_abort(fd);
    }
    if (write_buf(fd, buf, len, timeout > 0 ? timeout * 1000 : -1) < 0)
        return sockets_abort(fd);
    return close(fd);
}

/*
 * Convert an IPv4 or IPv6 socket address to numeric text. IPv4-mapped IPv6
 * addresses come out as plain IPv4. EAFNOSUPPORT for other families.
 */
int sockaddr_to_string(const struct sockaddr *sa, SOCKADDR_STRING *buf)
{
    struct sockaddr_in sin;
    socklen_t len;

    switch (sa->sa_family) {
    case AF_INET:
        len = sizeof(struct sockaddr_in);
        break;
    case AF_INET6: {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

        len = sizeof(struct sockaddr_in6);
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            memset(&sin, 0, sizeof(sin));
            sin.sin_family = AF_INET;
            sin.sin_port = sin6->sin6_port;
            memcpy(&sin.sin_addr, sin6->sin6_addr.s6_addr + 12, 4);
            sa = (const struct sockaddr *)&sin;
            len = sizeof(sin);
        }
        break;
    }
    default:
        errno = EAFNOSUPPORT;
        return -1;
    }
    int rc = getnameinfo(sa, len, buf->addr, sizeof(buf->addr), buf->port, sizeof(buf->port),
                         NI_NUMERICHOST | NI_NUMERICSERV);

    if (rc != 0) {
        if (rc != EAI_SYSTEM)
            errno = EINVAL;
        return -1;
    }
    snprintf(buf->text, sizeof(buf->text), sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", buf->addr,
             buf->port);
    return 0;
}

/* Count the leading one bits of a netmask. */
static int sockets_prefix_len(const unsigned char *mask, size_t len)
{
    int bits = 0;

    for (size_t i = 0; i < len; i++) {
        for (int b = 7; b >= 0; b--) {
            if ((mask[i] >> b & 1) == 0)
                return bits;
            bits++;
        }
    }
    return bits;
}

/*
 * List the addresses and netmasks of the local interfaces, of the families
 * selected with INET_ADDR_IPV4 and INET_ADDR_IPV6, in interface order
 * without duplicates. NULL with errno if getifaddrs() fails.
 */
INET_ADDR_LIST *inet_addr_local(int families)
{
    struct ifaddrs *ifap;

    if (getifaddrs(&ifap) < 0)
        return NULL;
    INET_ADDR_LIST *list = mymalloc(sizeof(*list));

    list->used = 0;
    list->size = 8;
    list->info = mymalloc(list->size * sizeof(*list->info));
    for (struct ifaddrs *ifa = ifap; ifa; ifa = ifa->ifa_next) {
        size_t sa_len;
        size_t addr_off;
        size_t addr_len;

        if (ifa->ifa_addr == NULL || ifa->ifa_netmask == NULL)
            continue;
        if (ifa->ifa_addr->sa_family == AF_INET && (families & INET_ADDR_IPV4)) {
            sa_len = sizeof(struct sockaddr_in);
            addr_off = offsetof(struct sockaddr_in, sin_addr);
            addr_len = sizeof(struct in_addr);
        } else if (ifa->ifa_addr->sa_family == AF_INET6 && (families & INET_ADDR_IPV6)) {
            sa_len = sizeof(struct sockaddr_in6);
            addr_off = offsetof(struct sockaddr_in6, sin6_addr);
            addr_len = sizeof(struct in6_addr);
        } else {
            continue;
        }
        INET_ADDR_INFO info;

        memset(&info, 0, sizeof(info));
        memcpy(&info.addr, ifa->ifa_addr, sa_len);
        memcpy(&info.mask, ifa->ifa_netmask, sa_len);
        info.mask.ss_family = ifa->ifa_addr->sa_family;
        info.prefix_len = sockets_prefix_len((unsigned char *)&info.mask + addr_off, addr_len);
        snprintf(info.ifname, sizeof(info.ifname), "%s", ifa->ifa_name);

        bool seen = false;

        for (size_t i = 0; i < list->used && !seen; i++)
            seen = memcmp(&list->info[i].addr, &info.addr, sizeof(info.addr)) == 0 &&
                   list->info[i].prefix_len == info.prefix_len;
        if (seen)
            continue;
        if (list->used == list->size) {
            list->size *= 2;
            list->info = myrealloc(list->info, list->size * sizeof(*list->info));
        }
        list->info[list->used++] = info;
    }
    freeifaddrs(ifap);
    return list;
}

/* Release a list from inet_addr_local(); returns NULL. */
INET_ADDR_LIST *inet_addr_list_free(INET_ADDR_LIST *list)
{
    if (list) {
        myfree(list->info);
        myfree(list);
    }
    return NULL;
}
