/*
 * master - the master's internal interface: services, processes, timers.
 *
 * master_service.c  MASTER_SERV from master.cf entries; listeners; reload
 * master_spawn.c    starting service processes, reaping them, the status
 *                   channel, process limits and throttling
 * master_wakeup.c   wakeup timers
 * master.c          main(): lock, configuration, signals, the event loop
 */
#ifndef MASTER_H
#define MASTER_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "argv.h"
#include "master_ent.h"
#include "master_proto.h"

typedef struct MASTER_SERV {
    char *name;        /* service column as written */
    char *type;        /* transport type */
    char *key;         /* "name/type" */
    char *endpoint;    /* as in log lines: "127.0.0.1:2525", "private/cleanup" */
    char *listen_spec; /* what is listened on, to compare across reloads */
    char *sock_path;   /* unix, unix-dgram, fifo: absolute path */
    char *path;        /* program */
    ARGV *args;        /* argv for exec */
    bool chroot;
    int wakeup;          /* seconds, 0: none */
    bool wakeup_if_used; /* "N?" and not used yet */
    int max_proc;        /* 0: unlimited */
    int *listen_fds;
    int listen_count;
    int status_fd[2]; /* [0]: ours, [1]: the children's */
    unsigned char status_buf[sizeof(MASTER_STATUS) * 64]; /* several records per read */
    size_t status_len;
    unsigned generation;
    int total_proc;
    int avail_proc;
    bool throttled;
    void (*listen_fn)(int, void *); /* the callback while listening, else NULL */
    time_t busy_warn_time;
    struct MASTER_SERV *next;
} MASTER_SERV;

typedef struct MASTER_PROC {
    pid_t pid;
    MASTER_SERV *serv; /* NULL once the service was reloaded or removed */
    char *path;
    unsigned generation;
    bool avail;
    int use_count;
    bool killed; /* terminated on purpose: no exit warning */
} MASTER_PROC;

extern MASTER_SERV *master_head;
extern unsigned master_generation;
extern bool master_system_mode;

/* master_service.c */
extern void master_services_config(const MASTER_TABLE *table, bool starting);
extern void master_services_stop(void);

/* master_spawn.c */
extern void master_spawn_init(void);
extern void master_avail_listen(MASTER_SERV *serv);
extern void master_listen_off(MASTER_SERV *serv);
extern void master_status_open(MASTER_SERV *serv);
extern void master_status_close(MASTER_SERV *serv);
extern void master_retire_procs(MASTER_SERV *serv, bool terminate);
extern void master_reap(void);
extern void master_kill_all(int sig);
extern void master_unthrottle_cancel(MASTER_SERV *serv);

/* master_wakeup.c */
extern void master_wakeup_init(MASTER_SERV *serv);
extern void master_wakeup_used(MASTER_SERV *serv);
extern void master_wakeup_cleanup(MASTER_SERV *serv);

#endif
