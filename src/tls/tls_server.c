/*
 * tls_server - the server side: the smtpd context (certificates, trust
 * anchors, protocols, ciphers, client-certificate requests, session
 * resumption) and the handshake for STARTTLS or wrapper mode.
 *
 * Public functions: tls_server_init(), tls_server_start().
 *
 * Session resumption: an in-process session cache (TLSv1.2 session IDs)
 * plus RFC 5077 session tickets. Every smtpd process must decrypt the
 * tickets the others issued, so the ticket key lives in a file,
 * $data_directory/CACHE_TYPE_tls_ticket.key (80 bytes: 16 name, 32 HMAC
 * key, 32 cipher key; its mtime is the key's age), created with mode 0600
 * under a temporary name and renamed into place (atomic). A key older
 * than the cache timeout is replaced the same way by the first process to
 * notice; the previous key still decrypts (and renews) tickets for one
 * more timeout. A process that cannot read or write the file (chroot,
 * permissions) warns once and uses its own key: resumption then only
 * works with that process. tls_session_ticket_cipher names the cipher
 * (aes-256-cbc); HMAC-SHA256 authenticates. A zero cache timeout turns
 * resumption off.
 *
 * Errors: tls_server_init() warns and returns NULL when the credentials,
 * CAs, protocols or ciphers are unusable; tls_server_start() logs
 * "SSL_accept error from NAMADDR: ..." and returns NULL.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "tls_int.h"

/* Key bytes in the file and in TLS_TICKET_KEY. */
#define TLS_TICKET_FILE_SIZE 80
#define TLS_TICKET_RECHECK   60 /* seconds between looks at the key file */

/* Parse a key file image into KEY. */
static void tls_ticket_unpack(TLS_TICKET_KEY *key, const unsigned char *buf, time_t created)
{
    memcpy(key->name, buf, 16);
    memcpy(key->hmac, buf + 16, 32);
    memcpy(key->aes, buf + 48, 32);
    key->created = created;
}

/* Read the shared key file; true with KEY when it exists and is fresh. */
static bool tls_ticket_read(const char *path, int timeout, time_t now, TLS_TICKET_KEY *key)
{
    unsigned char buf[TLS_TICKET_FILE_SIZE];
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    bool ok = false;

    if (fd < 0)
        return false;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == TLS_TICKET_FILE_SIZE &&
        (st.st_mode & 077) == 0 && st.st_mtime + timeout > now &&
        read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf)) {
        tls_ticket_unpack(key, buf, st.st_mtime);
        ok = true;
    }
    close(fd);
    return ok;
}

/* Write a new key file atomically (mode 0600, then rename). */
static bool tls_ticket_write(const char *path, const unsigned char *buf)
{
    size_t len = strlen(path) + 16;
    char *tmp = mymalloc(len);
    bool ok = false;

    snprintf(tmp, len, "%s.XXXXXX", path);
    int fd = mkstemp(tmp); /* mode 0600 */

    if (fd >= 0) {
        ok = write(fd, buf, TLS_TICKET_FILE_SIZE) == TLS_TICKET_FILE_SIZE && fsync(fd) == 0;
        ok = (close(fd) == 0) && ok;
        if (ok && rename(tmp, path) != 0)
            ok = false;
        if (!ok)
            (void)unlink(tmp);
    }
    myfree(tmp);
    return ok;
}

/* Make KEY the current one; the old current becomes the previous. */
static void tls_ticket_install(TLS_APPL_STATE *app, const TLS_TICKET_KEY *key)
{
    if (app->ticket_nkeys > 0 && memcmp(app->ticket_keys[0].name, key->name, 16) == 0)
        return;
    if (app->ticket_nkeys > 0)
        app->ticket_keys[1] = app->ticket_keys[0];
    app->ticket_keys[0] = *key;
    if (app->ticket_nkeys < 2)
        app->ticket_nkeys++;
}

/* Make sure the current ticket key is fresh (shared file or our own). */
static void tls_ticket_refresh(TLS_APPL_STATE *app, time_t now)
{
    TLS_TICKET_KEY key;
    unsigned char buf[TLS_TICKET_FILE_SIZE];

    if (app->ticket_nkeys > 0 && app->ticket_keys[0].created + app->cache_timeout > now &&
        (app->ticket_path == NULL || now - app->ticket_checked < TLS_TICKET_RECHECK))
        return;
    app->ticket_checked = now;
    if (app->ticket_path && tls_ticket_read(app->ticket_path, app->cache_timeout, now, &key)) {
        tls_ticket_install(app, &key);
        return;
    }
    if (app->ticket_nkeys > 0 && app->ticket_keys[0].created + app->cache_timeout > now &&
        app->ticket_path == NULL)
        return;
    if (RAND_bytes(buf, sizeof(buf)) != 1) {
        ERR_clear_error();
        return;
    }
    if (app->ticket_path) {
        if (tls_ticket_write(app->ticket_path, buf) &&
            tls_ticket_read(app->ticket_path, app->cache_timeout, now, &key)) {
            tls_ticket_install(app, &key); /* another process may have won the race: use its key */
            return;
        }
        msg_warn("cannot update TLS session ticket key file %s: %m; using a key of this process only",
                 app->ticket_path);
        myfree(app->ticket_path);
        app->ticket_path = NULL;
    }
    tls_ticket_unpack(&key, buf, now);
    tls_ticket_install(app, &key);
}

/* The ticket cipher (tls_session_ticket_cipher, else AES-256-CBC). */
static EVP_CIPHER *tls_ticket_cipher(void)
{
    EVP_CIPHER *cipher = NULL;

    if (var_tls_session_ticket_cipher && *var_tls_session_ticket_cipher)
        cipher = EVP_CIPHER_fetch(NULL, var_tls_session_ticket_cipher, NULL);
    if (cipher &&
        (EVP_CIPHER_get_key_length(cipher) > 32 || EVP_CIPHER_get_iv_length(cipher) > EVP_MAX_IV_LENGTH)) {
        EVP_CIPHER_free(cipher);
        cipher = NULL;
    }
    if (cipher == NULL)
        cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    ERR_clear_error();
    return cipher;
}

/* OpenSSL's ticket callback: encrypt with the current key, decrypt with
 * either (the previous one asks for a renewed ticket). */
static int tls_ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
                         EVP_MAC_CTX *hctx, int enc)
{
    TLS_APPL_STATE *app = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    time_t now = time(NULL);
    TLS_TICKET_KEY *key = NULL;
    int result = 1;
    EVP_CIPHER *cipher;

    tls_ticket_refresh(app, now);
    if (app->ticket_nkeys == 0)
        return enc ? -1 : 0;
    if (enc) {
        key = &app->ticket_keys[0];
    } else {
        for (int i = 0; i < app->ticket_nkeys; i++)
            if (memcmp(name, app->ticket_keys[i].name, 16) == 0 &&
                app->ticket_keys[i].created + 2 * (time_t)app->cache_timeout > now) {
                key = &app->ticket_keys[i];
                /* A TLSv1.3 client uses each ticket once: always send a fresh one. */
                result = i == 0 && SSL_version(ssl) < TLS1_3_VERSION ? 1 : 2;
            }
        if (key == NULL)
            return 0; /* unknown or expired key: full handshake */
    }
    if ((cipher = tls_ticket_cipher()) == NULL)
        return -1;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key->hmac, sizeof(key->hmac)),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    int ok;

    if (enc) {
        int ivlen = EVP_CIPHER_get_iv_length(cipher);

        memcpy(name, key->name, 16);
        ok = (ivlen <= 0 || RAND_bytes(iv, ivlen) == 1) &&
             EVP_EncryptInit_ex(cctx, cipher, NULL, key->aes, iv) && EVP_MAC_CTX_set_params(hctx, params);
    } else {
        ok = EVP_DecryptInit_ex(cctx, cipher, NULL, key->aes, iv) && EVP_MAC_CTX_set_params(hctx, params);
    }
    EVP_CIPHER_free(cipher);
    if (!ok) {
        ERR_clear_error();
        return -1;
    }
    return result;
}

/* Set up resumption: in-process cache plus shared-key tickets. */
static void tls_server_resumption(TLS_APPL_STATE *app, const char *cache_type)
{
    SSL_CTX *ctx = app->ctx;
    const char *sid = cache_type && *cache_type ? cache_type : "smtpd";

    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)sid, (unsigned)strlen(sid));
    if (app->cache_timeout <= 0) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, 0);
        return;
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_timeout(ctx, (long)app->cache_timeout);
    if (var_data_directory && *var_data_directory) {
        size_t len = strlen(var_data_directory) + strlen(sid) + 32;

        app->ticket_path = mymalloc(len);
        snprintf(app->ticket_path, len, "%s/%s_tls_ticket.key", var_data_directory, sid);
    }
    tls_ticket_refresh(app, time(NULL));
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_ticket_cb);
}

/* Verify callback for asked-for certificates: accept, the result is in
 * SSL_get_verify_result(). */
static int tls_server_accept_any(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    (void)store;
    return 1;
}

/* Build the server context; NULL (with a warning) when unusable. */
TLS_APPL_STATE *tls_server_init(const TLS_SERVER_INIT_PROPS *props)
{
    SSL_CTX *ctx;
    VSTRING *why = vstring_alloc(100);

    if (props->log_level >= 2)
        msg_info("initializing the server-side TLS engine");
    if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
        msg_warn("cannot allocate server SSL_CTX: disabling TLS support");
        tls_print_errors();
        vstring_free(why);
        return NULL;
    }
    TLS_APPL_STATE *app = tls_appl_alloc(ctx, TLS_ROLE_SERVER, props->log_level, props->mdalg,
                                         props->cache_timeout, props->verifydepth);

    app->ask_ccert = props->ask_ccert;
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (var_tls_preempt_cipherlist)
        SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (!tls_set_protocols(ctx, NULL, props->protocols, why) ||
        !tls_set_ciphers(ctx, NULL, props->cipher_grade, props->exclude_ciphers, why)) {
        msg_warn("%s: disabling TLS support", vstring_str(why));
        goto fail;
    }
    if (!tls_load_credentials(ctx, props->cert_file, props->key_file, props->eccert_file, props->eckey_file,
                              props->chain_files)) {
        msg_warn("cannot load certificate and key data: disabling TLS support");
        goto fail;
    }
    if (!tls_load_CAs(ctx, props->CAfile, props->CApath))
        goto fail;
    /* The CA names a client sees when asked for a certificate. */
    if (props->ask_ccert) {
        STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();

        if (props->CAfile && *props->CAfile)
            SSL_add_file_cert_subjects_to_stack(names, props->CAfile);
        if (props->CApath && *props->CApath)
            SSL_add_dir_cert_subjects_to_stack(names, props->CApath);
        ERR_clear_error();
        SSL_CTX_set_client_CA_list(ctx, names);
    }
    SSL_CTX_set_verify_depth(ctx, app->verifydepth + 1);
    tls_server_resumption(app, props->cache_type);
    vstring_free(why);
    return app;

fail:
    vstring_free(why);
    tls_appl_free(app);
    return NULL;
}

/* Handshake as server; the stream speaks TLS on success, NULL (logged) on failure. */
TLS_SESS_STATE *tls_server_start(TLS_APPL_STATE *app, const TLS_SERVER_START_PROPS *props)
{
    const char *namaddr = props->namaddr ? props->namaddr : "unknown";
    SSL *ssl;

    if (app->log_level >= 2)
        msg_info("setting up TLS connection from %s", namaddr);
    if ((ssl = SSL_new(app->ctx)) == NULL) {
        msg_warn("cannot allocate an SSL object for %s", namaddr);
        tls_print_errors();
        return NULL;
    }
    if (props->requirecert)
        SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    else if (app->ask_ccert)
        SSL_set_verify(ssl, SSL_VERIFY_PEER, tls_server_accept_any);
    else
        SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);

    /* Drop plaintext the client pipelined after STARTTLS; TLS reads the raw socket. */
    (void)vstream_set_io(props->stream, NULL, NULL, NULL);
    if (!SSL_set_fd(ssl, vstream_fileno(props->stream))) {
        tls_print_errors();
        SSL_free(ssl);
        return NULL;
    }
    TLS_SESS_PRIV *priv = tls_sess_alloc(app, ssl, props->stream, namaddr, TLS_LEV_NONE);

    if (tls_stream_handshake(priv, true, props->timeout > 0 ? props->timeout * 1000 : -1) <= 0) {
        SSL_CTX_remove_session(app->ctx, SSL_get_session(ssl));
        tls_sess_free(priv);
        return NULL;
    }
    tls_sess_describe(priv, TLS_ROLE_SERVER, props->mdalg && *props->mdalg ? props->mdalg : app->mdalg);
    if (props->requirecert && !TLS_CERT_IS_TRUSTED(&priv->pub)) {
        /* A resumed session whose certificate did not verify. */
        msg_info("SSL_accept error from %s: client certificate not verified", namaddr);
        SSL_CTX_remove_session(app->ctx, SSL_get_session(ssl));
        tls_sess_free(priv);
        return NULL;
    }
    tls_stream_attach(priv, props->stream);
    if (app->log_level >= 1)
        tls_log_summary("from", &priv->pub);
    return &priv->pub;
}
