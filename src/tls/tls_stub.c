/*
 * tls_stub - link stand-in for the TLS library while it is being written:
 * every context is unusable, so smtpd offers no STARTTLS and the smtp
 * client never starts TLS. Deleted when tls_misc.c, tls_server.c,
 * tls_client.c, tls_dane.c and tls_stream.c land.
 */
#include "sys_defs.h"

#include <strings.h>

#include "msg.h"
#include "tls.h"

int tls_level_lookup(const char *name)
{
    static const char *names[] = {"none", "may",       "encrypt", "fingerprint", "",
                                  "dane", "dane-only", "verify",  "secure"};

    for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
        if (*names[i] && strcasecmp(name, names[i]) == 0)
            return i;
    return TLS_LEV_INVALID;
}

const char *tls_level_name(int level)
{
    static const char *names[] = {"none", "may",       "encrypt", "fingerprint", "dane",
                                  "dane", "dane-only", "verify",  "secure"};

    return level >= 0 && level <= TLS_LEV_SECURE ? names[level] : "invalid";
}

TLS_APPL_STATE *tls_server_init(const TLS_SERVER_INIT_PROPS *props)
{
    (void)props;
    msg_warn("TLS support is not built yet");
    return NULL;
}

TLS_SESS_STATE *tls_server_start(TLS_APPL_STATE *app, const TLS_SERVER_START_PROPS *props)
{
    (void)app;
    (void)props;
    return NULL;
}

TLS_APPL_STATE *tls_client_init(const TLS_CLIENT_INIT_PROPS *props)
{
    (void)props;
    msg_warn("TLS support is not built yet");
    return NULL;
}

TLS_DANE *tls_dane_alloc(void)
{
    return NULL;
}

void tls_dane_add(TLS_DANE *dane, int usage, int selector, int mtype, const unsigned char *data, size_t len)
{
    (void)dane, (void)usage, (void)selector, (void)mtype, (void)data, (void)len;
}

int tls_dane_usable(const TLS_DANE *dane)
{
    (void)dane;
    return 0;
}

void tls_dane_free(TLS_DANE *dane)
{
    (void)dane;
}

TLS_SESS_STATE *tls_client_start(TLS_APPL_STATE *app, const TLS_CLIENT_START_PROPS *props)
{
    (void)app;
    (void)props;
    return NULL;
}

void tls_session_stop(TLS_APPL_STATE *app, VSTREAM *stream, int timeout, bool failure, TLS_SESS_STATE *sess)
{
    (void)app, (void)stream, (void)timeout, (void)failure, (void)sess;
}

void tls_log_summary(const char *role, const TLS_SESS_STATE *sess)
{
    (void)role, (void)sess;
}

const char *tls_received_text(VSTRING *buf, const TLS_SESS_STATE *sess)
{
    (void)sess;
    return vstring_str(vstring_reset(buf));
}

const char *tls_fingerprint(VSTRING *buf, const char *mdalg, const unsigned char *der, size_t len)
{
    (void)buf, (void)mdalg, (void)der, (void)len;
    return NULL;
}

bool tls_protocols_valid(const char *protocols, VSTRING *why)
{
    (void)protocols, (void)why;
    return true;
}

bool tls_cipher_grade_valid(const char *grade, VSTRING *why)
{
    (void)grade, (void)why;
    return true;
}
