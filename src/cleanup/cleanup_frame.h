/*
 * cleanup_frame - how the frame's files (cleanup.c, cleanup_input.c,
 * cleanup_final.c) and its unit tests reach each other. The stages do not
 * need this header; cleanup.h is theirs.
 *
 *   cleanup_service()      event_server_main's service function: create
 *                          the queue file and send the queue ID
 *                          (cleanup_open()), then watch the client
 *                          (cleanup_input_start()); cleanup_input.c.
 *   cleanup_input()        feed received bytes: decode whole records,
 *                          hand each to state->action, and start the
 *                          commit once the message is complete.
 *   cleanup_input_stop()   stop reading the client and its timer.
 *   cleanup_rec_limit()    the longest record a client may send.
 *   cleanup_final()        a finished message (state->done): reject it,
 *                          discard it, or add it to the commit batch
 *                          (cleanup_final.c).
 *   cleanup_final_commit() make the batch durable and reply (normally a
 *                          zero-delay timer runs it).
 *   cleanup_final_abort()  give up on a client (disconnect, timeout,
 *                          protocol error): remove the file, optionally
 *                          reply with state->errs, drop the client.
 *   cleanup_size_patch()   rewrite the SIZE record in place.
 *   cleanup_disconnect     how a client is dropped (event_server_disconnect;
 *                          unit tests substitute their own).
 *
 * Errors: failures set CLEANUP_STAT_* bits in the state and are logged
 * with the queue ID; nothing here ends the process.
 */
#ifndef CLEANUP_FRAME_H
#define CLEANUP_FRAME_H

#include <stdbool.h>

#include "cleanup.h"
#include "vstream.h"

/* cleanup_input.c */
extern void cleanup_service(VSTREAM *client, char *service, char **argv);
extern CLEANUP_STATE *cleanup_open(VSTREAM *client);
extern void cleanup_input_start(CLEANUP_STATE *state);
extern void cleanup_input(CLEANUP_STATE *state, const char *bytes, size_t len);
extern size_t cleanup_rec_limit(void);
extern void cleanup_input_stop(CLEANUP_STATE *state);

/* cleanup_final.c */
extern void cleanup_final(CLEANUP_STATE *state);
extern void cleanup_final_commit(void);
extern void cleanup_final_abort(CLEANUP_STATE *state, bool reply);
extern int cleanup_size_patch(CLEANUP_STATE *state);
extern void (*cleanup_disconnect)(VSTREAM *client);

#endif
