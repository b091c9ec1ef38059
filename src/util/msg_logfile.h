/*
 * msg_logfile - the diagnostics channel to a log file or standard output.
 *
 * msg_logfile_init(PATH, TAG, HOST) appends every diagnostic to PATH as one
 * line "Mmm DD HH:MM:SS HOST TAG[PID]: text" (the maillog_file format; day
 * zero-padded). "/dev/stdout" writes to file descriptor 1. The file is
 * opened with O_APPEND and each record is written with one write(2), so
 * concurrent processes never interleave within a line. Records are cut at
 * MSG_RECORD_LIMIT bytes. Returns -1 (errno set) when PATH cannot be
 * opened. msg_logfile_reopen() reopens the file (after logrotate).
 */
#ifndef MSG_LOGFILE_H
#define MSG_LOGFILE_H

extern int msg_logfile_init(const char *path, const char *tag, const char *host);
extern int msg_logfile_reopen(void);
extern void msg_logfile_format(char *buf, size_t len, time_t when);

#endif
