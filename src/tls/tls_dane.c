/*
 * tls_dane - the TLSA records (RFC 6698, RFC 7672) the caller found in
 * DNSSEC-validated answers, handed to OpenSSL's DANE verifier.
 *
 * Public functions: tls_dane_alloc(), tls_dane_add(), tls_dane_usable(),
 * tls_dane_free(). Library-internal: tls_dane_apply() (tls_int.h).
 *
 * SMTP uses only DANE-TA(2) and DANE-EE(3) (RFC 7672 3.1.3); PKIX-TA(0)
 * and PKIX-EE(1) records, unknown selectors and unknown matching types
 * are kept but not usable. Errors: none; a record OpenSSL rejects (a
 * digest of the wrong length) is skipped.
 */
#include "sys_defs.h"

#include <string.h>

#include <openssl/err.h>

#include "mymalloc.h"
#include "tls_int.h"

typedef struct TLS_TLSA {
    int usage;
    int selector;
    int mtype;
    unsigned char *data;
    size_t len;
} TLS_TLSA;

struct TLS_DANE {
    TLS_TLSA *recs;
    int count;
};

/* An empty record list. */
TLS_DANE *tls_dane_alloc(void)
{
    return mycalloc(1, sizeof(TLS_DANE));
}

/* Append one TLSA record (the data is copied). */
void tls_dane_add(TLS_DANE *dane, int usage, int selector, int mtype, const unsigned char *data, size_t len)
{
    dane->recs = myrealloc(dane->recs, (size_t)(dane->count + 1) * sizeof(*dane->recs));
    TLS_TLSA *rec = &dane->recs[dane->count++];

    rec->usage = usage;
    rec->selector = selector;
    rec->mtype = mtype;
    rec->data = mymemdup(data, len ? len : 1);
    rec->len = len;
}

/* Whether OpenSSL can use a record for SMTP. */
static int tls_dane_rec_usable(const TLS_TLSA *rec)
{
    static const size_t digest_len[] = {0, 32, 64}; /* full, sha256, sha512 */

    if (rec->usage != 2 && rec->usage != 3)
        return 0;
    if (rec->selector != 0 && rec->selector != 1)
        return 0;
    if (rec->mtype < 0 || rec->mtype > 2 || rec->len == 0)
        return 0;
    return rec->mtype == 0 || rec->len == digest_len[rec->mtype];
}

/* How many records OpenSSL can use. */
int tls_dane_usable(const TLS_DANE *dane)
{
    int n = 0;

    for (int i = 0; dane && i < dane->count; i++)
        n += tls_dane_rec_usable(&dane->recs[i]);
    return n;
}

/* Hand the usable records to SSL (DANE already enabled on it); returns how
 * many OpenSSL took. */
int tls_dane_apply(const TLS_DANE *dane, SSL *ssl)
{
    int n = 0;

    for (int i = 0; dane && i < dane->count; i++) {
        const TLS_TLSA *rec = &dane->recs[i];

        if (tls_dane_rec_usable(rec) && SSL_dane_tlsa_add(ssl, (uint8_t)rec->usage, (uint8_t)rec->selector,
                                                          (uint8_t)rec->mtype, rec->data, rec->len) > 0)
            n++;
    }
    ERR_clear_error();
    return n;
}

/* Free the list (NULL is fine). */
void tls_dane_free(TLS_DANE *dane)
{
    if (dane == NULL)
        return;
    for (int i = 0; i < dane->count; i++)
        myfree(dane->recs[i].data);
    if (dane->recs)
        myfree(dane->recs);
    myfree(dane);
}
