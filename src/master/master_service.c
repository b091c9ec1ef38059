/*
 * master_service - the services of master.cf as the master runs them:
 * which entries become services, their program and arguments, their
 * listening descriptors, and what a reload keeps, replaces or removes.
 *
 * master_services_config(table, starting) makes the service list match
 * TABLE. A service whose name, type and listening endpoint stay the same
 * keeps its listeners; its running processes are told to finish (their
 * status channel closes) and new ones start with the new settings.
 * Services no longer in TABLE lose their listeners and their processes
 * get SIGTERM. master_services_stop() closes everything.
 *
 * Program: an absolute command path is used as is (a Postern extension,
 * handy for tests); otherwise $daemon_directory/COMMAND.
 *
 * Errors: a missing program, a disabled service (master_service_disable)
 * and a "pass" service are reported and the service stays closed. A
 * listener that cannot be opened is fatal at startup (as in Postfix) and
 * a warning on reload (the old master keeps running).
 */
#include "sys_defs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "events.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "master.h"
#include "msg.h"
#include "mymalloc.h"
#include "sockets.h"
#include "stringops.h"
#include "vstring.h"

#define MASTER_LISTEN_BACKLOG 100

MASTER_SERV *master_head;

/* master_service_disable: first matching "type" or "name/type", "!" negates. */
static bool master_service_disabled(const char *name, const char *type)
{
    char *copy = mystrdup(var_master_service_disable);
    char *cp = copy;
    char *tok;
    bool disabled = false;
    VSTRING *key = vstring_alloc(50);

    vstring_sprintf(key, "%s/%s", name, type);
    while ((tok = mystrtok(&cp, CHARS_COMMA_SP)) != NULL) {
        bool neg = *tok == '!';

        if (neg)
            tok++;
        if (strcmp(tok, type) == 0 || strcmp(tok, vstring_str(key)) == 0) {
            disabled = !neg;
            break;
        }
    }
    vstring_free(key);
    myfree(copy);
    return disabled;
}

/* The addresses an inet service listens on, one "host:port" each. */
static ARGV *master_inet_addrs(const char *name)
{
    ARGV *addrs = argv_alloc(2);
    const char *protocols = mail_conf_raw("inet_protocols");
    bool want6;
    char *copy;
    char *cp;
    char *tok;
    VSTRING *buf;

    if (strchr(name, ':') != NULL) {
        argv_add(addrs, name);
        return addrs;
    }
    protocols = protocols ? mail_conf_eval("inet_protocols") : "ipv4";
    want6 = strstr(protocols, "ipv6") != NULL || strstr(protocols, "all") != NULL;
    buf = vstring_alloc(50);
    cp = copy = mystrdup(var_inet_interfaces);
    while ((tok = mystrtok(&cp, CHARS_COMMA_SP)) != NULL) {
        if (strcasecmp(tok, "all") == 0) {
            argv_add(addrs, vstring_str(vstring_sprintf(buf, "0.0.0.0:%s", name)));
            if (want6)
                argv_add(addrs, vstring_str(vstring_sprintf(buf, "[::]:%s", name)));
        } else if (strcasecmp(tok, "loopback-only") == 0) {
            argv_add(addrs, vstring_str(vstring_sprintf(buf, "127.0.0.1:%s", name)));
            if (want6)
                argv_add(addrs, vstring_str(vstring_sprintf(buf, "[::1]:%s", name)));
        } else if (strchr(tok, ':') != NULL && *tok != '[') {
            argv_add(addrs, vstring_str(vstring_sprintf(buf, "[%s]:%s", tok, name)));
        } else {
            argv_add(addrs, vstring_str(vstring_sprintf(buf, "%s:%s", tok, name)));
        }
    }
    myfree(copy);
    vstring_free(buf);
    return addrs;
}

/* A UNIX-domain datagram socket at PATH (replacing a stale one). */
static int master_dgram_listen(const char *path)
{
    struct sockaddr_un sun;
    int fd;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    if ((unlink(path) < 0 && errno != ENOENT) || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
        chmod(path, 0666) < 0) {
        int saved = errno;

        (void)close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Close the listening descriptors of a service. */
static void master_service_close_listeners(MASTER_SERV *serv)
{
    master_listen_off(serv);
    for (int i = 0; i < serv->listen_count; i++)
        (void)close(serv->listen_fds[i]);
    if (serv->listen_fds)
        myfree(serv->listen_fds);
    serv->listen_fds = NULL;
    serv->listen_count = 0;
}

/* Open the listeners; false (after a diagnostic) when one fails. */
static bool master_service_open(MASTER_SERV *serv, bool starting)
{
    ARGV *addrs = strcmp(serv->type, "inet") == 0 ? master_inet_addrs(serv->name) : NULL;
    size_t count = addrs ? addrs->argc : 1;

    serv->listen_fds = mymalloc(sizeof(int) * (count ? count : 1));
    serv->listen_count = 0;
    for (size_t i = 0; i < count; i++) {
        const char *what = addrs ? addrs->argv[i] : serv->sock_path;
        int fd;

        if (addrs)
            fd = inet_listen(what, MASTER_LISTEN_BACKLOG, NON_BLOCKING);
        else if (strcmp(serv->type, "unix") == 0)
            fd = unix_listen(what, MASTER_LISTEN_BACKLOG, NON_BLOCKING);
        else if (strcmp(serv->type, "fifo") == 0)
            fd = fifo_listen(what, 0622, NON_BLOCKING);
        else
            fd = master_dgram_listen(what);
        if (fd < 0) {
            if (starting)
                msg_fatal("service \"%s/%s\": listen on %s: %m", serv->name, serv->type, what);
            msg_warn("service \"%s/%s\": listen on %s: %m; service not started", serv->name, serv->type,
                     what);
            master_service_close_listeners(serv);
            if (addrs)
                argv_free(addrs);
            return false;
        }
        serv->listen_fds[serv->listen_count++] = fd;
    }
    if (addrs)
        argv_free(addrs);
    return true;
}

/* Release a service that has no descriptors or processes left. */
static void master_service_free(MASTER_SERV *serv)
{
    myfree(serv->name);
    myfree(serv->type);
    myfree(serv->key);
    myfree(serv->endpoint);
    myfree(serv->listen_spec);
    if (serv->sock_path)
        myfree(serv->sock_path);
    myfree(serv->path);
    argv_free(serv->args);
    myfree(serv);
}

/* A service from a master.cf entry, or NULL when it cannot run. */
static MASTER_SERV *master_service_build(const MASTER_ENT *ent)
{
    const char *name = ent->field[MASTER_FIELD_SERVICE];
    const char *type = ent->field[MASTER_FIELD_TYPE];
    const char *command = ent->args->argv[0];
    MASTER_SERV *serv;
    VSTRING *buf;

    if (master_service_disabled(name, type)) {
        if (msg_verbose)
            msg_info("service \"%s/%s\" is disabled by master_service_disable", name, type);
        return NULL;
    }
    if (strcmp(type, "pass") == 0) {
        msg_warn("service \"%s/%s\": the pass type is not supported; service not started", name, type);
        return NULL;
    }
    buf = vstring_alloc(100);
    if (*command == '/')
        vstring_strcpy(buf, command);
    else
        vstring_sprintf(buf, "%s/%s", var_daemon_directory, command);
    if (access(vstring_str(buf), X_OK) < 0) {
        msg_warn("service \"%s/%s\": %s: %m; service not started", name, type, vstring_str(buf));
        vstring_free(buf);
        return NULL;
    }
    serv = mycalloc(1, sizeof(*serv));
    serv->path = mystrdup(vstring_str(buf));
    serv->name = mystrdup(name);
    serv->type = mystrdup(type);
    serv->key = mystrdup(vstring_str(vstring_sprintf(buf, "%s/%s", name, type)));
    if (strcmp(type, "inet") == 0) {
        ARGV *addrs = master_inet_addrs(name);

        serv->endpoint = mystrdup(name);
        vstring_strcpy(buf, "inet");
        for (size_t i = 0; i < addrs->argc; i++)
            vstring_sprintf_append(buf, " %s", addrs->argv[i]);
        serv->listen_spec = mystrdup(vstring_str(buf));
        argv_free(addrs);
    } else {
        serv->endpoint =
            mystrdup(vstring_str(vstring_sprintf(buf, "%s/%s", ent->private_ ? "private" : "public", name)));
        serv->sock_path =
            mystrdup(vstring_str(vstring_sprintf(buf, "%s/%s", var_queue_directory, serv->endpoint)));
        serv->listen_spec = mystrdup(vstring_str(vstring_sprintf(buf, "%s %s", type, serv->sock_path)));
    }
    serv->chroot = ent->chroot;
    serv->wakeup = ent->wakeup;
    serv->wakeup_if_used = ent->wakeup > 0 && ent->wakeup_if_used;
    serv->max_proc = ent->maxproc < 0 ? var_default_process_limit : ent->maxproc;
    serv->status_fd[0] = serv->status_fd[1] = -1;

    /* PROGRAM -n SERVICE -t TYPE [-s COUNT] [-u] [-z] [the master.cf arguments] */
    serv->args = argv_alloc(10);
    argv_add(serv->args, command);
    argv_add(serv->args, "-n");
    argv_add(serv->args, name);
    argv_add(serv->args, "-t");
    argv_add(serv->args, type);
    if (strcmp(type, "inet") == 0) {
        ARGV *addrs = master_inet_addrs(name);

        if (addrs->argc > 1)
            argv_add(serv->args, "-s"),
                argv_add(serv->args, vstring_str(vstring_sprintf(buf, "%zu", addrs->argc)));
        argv_free(addrs);
    }
    if (ent->unpriv)
        argv_add(serv->args, "-u");
    if (ent->chroot && master_system_mode)
        argv_add(serv->args, "-z");
    if (ent->chroot && !master_system_mode)
        msg_info("service \"%s/%s\": chroot is not used in rootless mode", name, type);
    for (size_t i = 1; i < ent->args->argc; i++)
        argv_add(serv->args, ent->args->argv[i]);
    vstring_free(buf);
    return serv;
}

/* Stop a service that is replaced or removed; TERMINATE its processes. */
static void master_service_retire(MASTER_SERV *serv, bool terminate)
{
    master_service_close_listeners(serv);
    master_status_close(serv);
    master_wakeup_cleanup(serv);
    master_unthrottle_cancel(serv);
    master_retire_procs(serv, terminate);
    master_service_free(serv);
}

void master_services_config(const MASTER_TABLE *table, bool starting)
{
    MASTER_SERV *old = master_head;
    MASTER_SERV **tail = &master_head;
    MASTER_SERV *next;

    master_generation++;
    master_head = NULL;
    for (size_t i = 0; i < table->count; i++) {
        MASTER_SERV *serv = master_service_build(table->ents[i]);
        MASTER_SERV *prev;

        if (serv == NULL)
            continue;
        for (prev = old; prev; prev = prev->next)
            if (strcmp(prev->key, serv->key) == 0)
                break;
        if (prev && prev->listen_count > 0 && strcmp(prev->listen_spec, serv->listen_spec) == 0) {
            /* Same endpoint: hand the open listeners over. */
            master_listen_off(prev);
            serv->listen_fds = prev->listen_fds;
            serv->listen_count = prev->listen_count;
            prev->listen_fds = NULL;
            prev->listen_count = 0;
        } else if (!master_service_open(serv, starting)) {
            master_service_free(serv);
            continue;
        }
        master_status_open(serv);
        *tail = serv;
        tail = &serv->next;
        master_wakeup_init(serv);
        master_avail_listen(serv);
    }
    for (; old; old = next) {
        bool kept = false;

        next = old->next;
        for (MASTER_SERV *serv = master_head; serv; serv = serv->next)
            if (strcmp(serv->key, old->key) == 0)
                kept = true;
        master_service_retire(old, !kept);
    }
}

void master_services_stop(void)
{
    MASTER_SERV *next;

    for (MASTER_SERV *serv = master_head; serv; serv = next) {
        next = serv->next;
        master_service_retire(serv, false);
    }
    master_head = NULL;
}
