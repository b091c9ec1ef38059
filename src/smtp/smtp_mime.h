/*
 * smtp_mime.h - 8-bit to 7-bit MIME conversion of outgoing mail for
 * servers that do not announce 8BITMIME (spec/delivery.md 6.3; see
 * smtp_mime.c).
 */
#ifndef SMTP_MIME_H
#define SMTP_MIME_H

#include <stddef.h>

/* Receives the converted content, one record (REC_TYPE_NORM: a line;
 * REC_TYPE_CONT: a piece of a longer line) at a time. */
typedef void (*SMTP_MIME_OUT)(void *context, int rec_type, const char *buf, size_t len);

typedef struct SMTP_MIME SMTP_MIME;

extern SMTP_MIME *smtp_mime_alloc(SMTP_MIME_OUT out, void *context);
extern void smtp_mime_update(SMTP_MIME *conv, int rec_type, const char *buf, size_t len);
extern SMTP_MIME *smtp_mime_free(SMTP_MIME *conv);

#endif
