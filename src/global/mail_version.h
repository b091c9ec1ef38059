/*
 * mail_version - Postern's release number (the mail_version parameter).
 */
#ifndef MAIL_VERSION_H
#define MAIL_VERSION_H

#define MAIL_VERSION_NUMBER "0.1.0"

#endif
