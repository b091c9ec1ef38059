/*
 * unix_fdpass - passing an open file descriptor over a UNIX-domain socket
 * (SCM_RIGHTS), for the connection cache (scache) and its clients.
 *
 *   unix_send_fd(sock, fd) sends one data byte carrying FD, or (FD < 0)
 *   the byte alone; 0 or -1 (errno). The sender keeps its own copy of FD
 *   open; close it when done.
 *   unix_recv_fd(sock, timeout) waits at most TIMEOUT seconds (0: forever)
 *   for that byte and returns the received descriptor (close-on-exec
 *   set), UNIX_FDPASS_NONE when the byte came without one, or -1 (errno;
 *   ECONNRESET at end of file).
 *
 * Callers must not have buffered data of SOCK in a VSTREAM: the byte that
 * carries the descriptor must be read with recvmsg(). The scache protocol
 * therefore passes a descriptor only after an explicit "ready" exchange.
 *
 * Errors: -1 with errno; nothing is logged.
 */
#ifndef UNIX_FDPASS_H
#define UNIX_FDPASS_H

#define UNIX_FDPASS_NONE (-2)

extern int unix_send_fd(int sock, int fd);
extern int unix_recv_fd(int sock, int timeout);

#endif
