/*
 * mail_queue - the queue directory: its subdirectories, queue IDs, and
 * the paths and files of queued messages.
 *
 * mail_queue_dirs[] lists the subdirectories of queue_directory with the
 * mode each gets in rootless mode (postfix check creates the missing
 * ones). mail_queue_pid_path() is $queue_directory/pid/master.pid.
 *
 * Queue IDs (queue.md section 3): short IDs are the file's creation
 * microseconds as 5 upper-case hex digits followed by its inode number in
 * upper-case hex; long IDs (enable_long_queue_ids) are the seconds in
 * base 52, the microseconds in 4 base-52 digits, "z", and the inode in
 * base 51. mail_queue_id_make() builds one; mail_queue_id_ok() accepts
 * only [A-Za-z0-9_]+ (tools print "warning: invalid mail queue id: X"
 * themselves).
 *
 * Paths: queues named in hash_queue_names get hash_queue_depth levels of
 * one-character subdirectories taken from the start of the ID
 * (deferred/D/DBA3F1A9). mail_queue_dir() and mail_queue_path() return
 * the directory and the file path of an ID in a queue (relative to
 * queue_directory when RELATIVE is true, else absolute) in BUF.
 *
 * Files: mail_queue_enter(queue, mode, &tv, id) creates a new file in
 * QUEUE, named after its ID (a temporary name first, renamed once the
 * inode is known), with MODE (0600 while being written), and returns it
 * open for reading and writing; TV receives the creation time and ID the
 * queue ID. mail_queue_open() opens an existing file. mail_queue_rename()
 * moves a message between queues (creating hashed subdirectories as
 * needed), mail_queue_remove() deletes it. mail_queue_sync_dir() fsyncs
 * the directory that holds QUEUE/ID's entry.
 *
 * Recycling (mail_queue_spare.c): mail_queue_retire() moves the file of a
 * finished message into spare/ (or removes it), and mail_queue_enter()
 * for incoming/ (mode 0600) reuses a spare file instead of creating one
 * (mail_queue_spare_take(): the spare is renamed straight to its ID):
 * no inode is allocated or released per message. The queue manager also
 * creates empty spares while it is idle (mail_queue_spare_fill(), up to
 * queue_spare_files), so that a burst that grows the queue finds files
 * ready. mail_queue_name_new() gives a file its ID name (both ways).
 *
 * A complete message file has the owner execute bit set
 * (MAIL_QUEUE_STAT_READY); readers skip files without it. Two more mode
 * bits are requests to the queue manager, which clears them when it takes
 * the file: MAIL_QUEUE_STAT_EXPIRE (postsuper -e/-f: return the message
 * to the sender at the next attempt, mailq marks it '#') and
 * MAIL_QUEUE_STAT_FLUSH (flush service, postqueue -i: deliver now,
 * defer_transports included).
 *
 * Errors: NULL or -1 with errno set; nothing is logged except by
 * mail_queue_enter(), which logs and retries a name collision.
 */
#ifndef MAIL_QUEUE_H
#define MAIL_QUEUE_H

#include <stdbool.h>
#include <sys/time.h>
#include <sys/types.h>

#include "vstream.h"
#include "vstring.h"

typedef struct MAIL_QUEUE_DIR {
    const char *name;
    mode_t mode;
} MAIL_QUEUE_DIR;

extern const MAIL_QUEUE_DIR mail_queue_dirs[];

#define MAIL_QUEUE_MAILDROP "maildrop"
#define MAIL_QUEUE_INCOMING "incoming"
#define MAIL_QUEUE_ACTIVE   "active"
#define MAIL_QUEUE_DEFERRED "deferred"
#define MAIL_QUEUE_HOLD     "hold"
#define MAIL_QUEUE_CORRUPT  "corrupt"
#define MAIL_QUEUE_SAVED    "saved"
#define MAIL_QUEUE_BOUNCE   "bounce"
#define MAIL_QUEUE_DEFER    "defer"
#define MAIL_QUEUE_TRACE    "trace"
#define MAIL_QUEUE_FLUSH    "flush"
#define MAIL_QUEUE_SPARE    "spare"

/* Recycled queue files (mail_queue_spare.c). */
#define MAIL_QUEUE_SPARE_SIZE    65536 /* larger messages' files are removed */
#define MAIL_QUEUE_SPARE_RECOUNT 100   /* count spare/ again after this many */
#define MAIL_QUEUE_SPARE_BATCH   64    /* names read from spare/ at a time */
#define MAIL_QUEUE_SPARE_DIRBUF  4096  /* bytes of names read: >= 2 batches */

#define MAIL_QUEUE_STAT_READY  (S_IRUSR | S_IWUSR | S_IXUSR)
#define MAIL_QUEUE_STAT_WRITE  (S_IRUSR | S_IWUSR)
#define MAIL_QUEUE_STAT_EXPIRE S_IXGRP
#define MAIL_QUEUE_STAT_FLUSH  S_IXOTH

#define MAIL_QUEUE_ID_LEN_MAX 64

extern char *mail_queue_pid_path(void);
extern int mail_queue_retire(const char *queue, const char *id, long size);
extern int mail_queue_spare_take(const char *queue, struct timeval *tv, VSTRING *id);
extern int mail_queue_name_new(const char *from, const char *queue, ino_t ino, struct timeval *tv, VSTRING *id);
extern int mail_queue_spare_fill(int batch);
extern void mail_queue_spare_used(void);

extern void mail_queue_id_make(VSTRING *buf, ino_t inode, const struct timeval *tv);
extern bool mail_queue_id_ok(const char *id);
extern const char *mail_queue_dir(VSTRING *buf, const char *queue, const char *id, bool relative);
extern const char *mail_queue_path(VSTRING *buf, const char *queue, const char *id, bool relative);
extern VSTREAM *mail_queue_enter(const char *queue, mode_t mode, struct timeval *tv, VSTRING *id);
extern VSTREAM *mail_queue_open(const char *queue, const char *id, int flags, mode_t mode);
extern int mail_queue_rename(const char *id, const char *old_queue, const char *new_queue);
extern int mail_queue_remove(const char *queue, const char *id);
extern int mail_queue_sync_dir(const char *queue, const char *id);

#endif
