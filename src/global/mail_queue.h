/*
 * mail_queue - the queue directory layout.
 *
 * mail_queue_dirs[] lists the subdirectories of queue_directory with the
 * mode each gets in rootless mode (postfix check creates the missing
 * ones). mail_queue_pid_path() is $queue_directory/pid/master.pid.
 */
#ifndef MAIL_QUEUE_H
#define MAIL_QUEUE_H

#include <sys/types.h>

typedef struct MAIL_QUEUE_DIR {
    const char *name;
    mode_t mode;
} MAIL_QUEUE_DIR;

extern const MAIL_QUEUE_DIR mail_queue_dirs[];

extern char *mail_queue_pid_path(void);

#endif
