/*
 * tls_client - the client side: the smtp context (optional client
 * certificate, trust anchors for server certificates, DANE, the
 * in-process session cache) and the handshake with the checks of each
 * security level.
 *
 * Public functions: tls_client_init(), tls_client_start().
 *
 * Checks: may and encrypt check nothing but record whether the chain
 * verified (TRUSTED: "Trusted" in the log line); fingerprint compares the
 * certificate and public-key digests with props->matchargv; verify and
 * secure need a verified chain and a name match (subjectAltName DNS
 * names, the CommonName only when there are none) against "hostname",
 * "nexthop", "dot-nexthop", ".domain" or "domain" patterns; dane and
 * dane-only hand the usable TLSA records to OpenSSL's DANE verifier
 * (TLSA base domain = props->host, nexthop as a second reference name for
 * DANE-TA). A match sets MATCHED ("Verified"); DANE also SECURED. The
 * session comes back either way: the caller enforces the level.
 *
 * Session cache: sessions (TLSv1.3 tickets arrive after the handshake)
 * are kept per props->serverid for the cache timeout; not with DANE.
 *
 * Errors: tls_client_init() warns and returns NULL when the client
 * certificate or CAs are unusable; tls_client_start() logs
 * "SSL_connect error to NAMADDR: ..." and returns NULL.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "tls_int.h"

/* Keep a new session (OpenSSL's new-session callback); 1: we own it. */
static int tls_client_new_session(SSL *ssl, SSL_SESSION *session)
{
    TLS_SESS_PRIV *priv = SSL_get_ex_data(ssl, tls_sess_ex_index());

    if (priv == NULL || priv->serverid == NULL || priv->app->cache == NULL)
        return 0;
    TLS_CACHED_SESS *ent = mymalloc(sizeof(*ent));

    SSL_SESSION_set_timeout(session, (long)priv->app->cache_timeout);
    ent->session = session;
    ent->expires = time(NULL) + priv->app->cache_timeout;
    htable_delete(priv->app->cache, priv->serverid, tls_cache_entry_free);
    htable_enter(priv->app->cache, priv->serverid, ent);
    return 1;
}

/* Build the client context; NULL (with a warning) when unusable. */
TLS_APPL_STATE *tls_client_init(const TLS_CLIENT_INIT_PROPS *props)
{
    SSL_CTX *ctx;

    if (props->log_level >= 2)
        msg_info("initializing the client-side TLS engine");
    if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
        msg_warn("cannot allocate client SSL_CTX: disabling TLS support");
        tls_print_errors();
        return NULL;
    }
    TLS_APPL_STATE *app = tls_appl_alloc(ctx, TLS_ROLE_CLIENT, props->log_level, props->mdalg,
                                         props->cache_timeout, props->verifydepth);

    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    bool want_cert = (props->cert_file && *props->cert_file) || (props->eccert_file && *props->eccert_file) ||
                     (props->chain_files && *props->chain_files);

    if (want_cert && !tls_load_credentials(ctx, props->cert_file, props->key_file, props->eccert_file,
                                           props->eckey_file, props->chain_files)) {
        msg_warn("cannot load client certificate and key data: disabling TLS support");
        tls_appl_free(app);
        return NULL;
    }
    if (!tls_load_CAs(ctx, props->CAfile, props->CApath)) {
        tls_appl_free(app);
        return NULL;
    }
    if (SSL_CTX_dane_enable(ctx) <= 0) {
        msg_warn("cannot enable DANE support in OpenSSL");
        ERR_clear_error();
    }
    SSL_CTX_set_verify_depth(ctx, app->verifydepth + 1);
    if (app->cache_timeout > 0) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, tls_client_new_session);
        app->cache = htable_create(10, 0);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    }
    return app;
}

/* Whether NAME is a host name (not an address literal), for SNI. */
static bool tls_is_hostname(const char *name)
{
    unsigned char addr[16];

    return name && *name && *name != '[' && inet_pton(AF_INET, name, addr) != 1 &&
           inet_pton(AF_INET6, name, addr) != 1;
}

/* A lower-case copy without a trailing dot. */
static char *tls_name_norm(const char *name)
{
    char *copy = mystrdup(name);
    size_t len = strlen(copy);

    if (len > 0 && copy[len - 1] == '.')
        copy[len - 1] = 0;
    for (char *cp = copy; *cp; cp++)
        if (*cp >= 'A' && *cp <= 'Z')
            *cp = (char)(*cp - 'A' + 'a');
    return copy;
}

/* Whether S ends in ".SUFFIX" with at least one character before the dot. */
static bool tls_ends_in_subdomain(const char *s, const char *suffix)
{
    size_t slen = strlen(s), xlen = strlen(suffix);

    return slen > xlen + 1 && s[slen - xlen - 1] == '.' && strcmp(s + slen - xlen, suffix) == 0;
}

/*
 * Whether certificate name CERTNAME ("mx.example.com" or "*.example.com")
 * matches DOMAIN exactly (SUB false) or names a subdomain of it (SUB true).
 */
static bool tls_cert_name_match(const char *certname_in, const char *domain_in, bool sub)
{
    char *certname = tls_name_norm(certname_in), *domain = tls_name_norm(domain_in);
    bool match = false;
    bool wild = strncmp(certname, "*.", 2) == 0;
    const char *base = wild ? certname + 2 : certname;

    if (*domain == 0 || *base == 0) {
        match = false;
    } else if (!sub) {
        if (!wild) {
            match = strcmp(certname, domain) == 0;
        } else if (tls_ends_in_subdomain(domain, base)) {
            size_t prefix = strlen(domain) - strlen(base) - 1;

            match = var_tls_wildcard_matches_multiple_labels || memchr(domain, '.', prefix) == NULL;
        }
    } else {
        /* "*.example.com" names subdomains of example.com; "*.a.example.com" too. */
        match = (wild && strcmp(base, domain) == 0) || tls_ends_in_subdomain(base, domain);
    }
    myfree(certname);
    myfree(domain);
    return match;
}

/* The names to match: subjectAltName DNS names, else the CommonName. */
static ARGV *tls_cert_names(X509 *cert)
{
    ARGV *names = argv_alloc(4);
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);

    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *gen = sk_GENERAL_NAME_value(gens, i);

        if (gen->type != GEN_DNS)
            continue;
        const char *data = (const char *)ASN1_STRING_get0_data(gen->d.dNSName);
        int len = ASN1_STRING_length(gen->d.dNSName);

        if (len > 0 && (int)strlen(data) == len) /* no embedded NUL */
            argv_add(names, data);
    }
    GENERAL_NAMES_free(gens);
    if (names->argc == 0) {
        X509_NAME *subject = X509_get_subject_name(cert);
        int pos = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);

        if (pos >= 0) {
            unsigned char *utf8 = NULL;
            int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, pos)));

            if (len > 0 && (int)strlen((char *)utf8) == len)
                argv_add(names, (char *)utf8);
            OPENSSL_free(utf8);
        }
    }
    ERR_clear_error();
    return names;
}

/* Whether one of the certificate's names matches one of the patterns. */
static bool tls_client_name_check(X509 *cert, const TLS_CLIENT_START_PROPS *props)
{
    static const char *verify_default[] = {"hostname"};
    static const char *secure_default[] = {"nexthop", "dot-nexthop"};
    const char *const *patterns;
    size_t npat;
    ARGV *names = tls_cert_names(cert);
    bool match = false;

    if (props->matchargv && props->matchargv->argc > 0) {
        patterns = (const char *const *)props->matchargv->argv;
        npat = props->matchargv->argc;
    } else if (props->tls_level == TLS_LEV_SECURE) {
        patterns = secure_default;
        npat = 2;
    } else {
        patterns = verify_default;
        npat = 1;
    }
    for (size_t p = 0; !match && p < npat; p++) {
        const char *pat = patterns[p], *domain;
        bool sub = false;

        if (strcasecmp(pat, "hostname") == 0) {
            domain = props->host;
        } else if (strcasecmp(pat, "nexthop") == 0) {
            domain = props->nexthop;
        } else if (strcasecmp(pat, "dot-nexthop") == 0) {
            domain = props->nexthop;
            sub = true;
        } else if (*pat == '.') {
            domain = pat + 1;
            sub = true;
        } else {
            domain = pat;
        }
        if (domain == NULL || *domain == 0)
            continue;
        for (size_t n = 0; !match && n < names->argc; n++)
            match = tls_cert_name_match(names->argv[n], domain, sub);
    }
    argv_free(names);
    return match;
}

/* Whether a peer digest is listed in props->matchargv. */
static bool tls_client_fprint_check(const TLS_SESS_STATE *s, const TLS_CLIENT_START_PROPS *props)
{
    for (size_t i = 0; props->matchargv && i < props->matchargv->argc; i++) {
        const char *want = props->matchargv->argv[i];

        if ((*s->peer_cert_fprint && strcasecmp(want, s->peer_cert_fprint) == 0) ||
            (*s->peer_pkey_fprint && strcasecmp(want, s->peer_pkey_fprint) == 0))
            return true;
    }
    return false;
}

/* A cached session for SERVERID that is still good, or NULL. */
static SSL_SESSION *tls_client_cached(TLS_APPL_STATE *app, const char *serverid)
{
    TLS_CACHED_SESS *ent = htable_find(app->cache, serverid);

    if (ent == NULL)
        return NULL;
    if (ent->expires <= time(NULL) || !SSL_SESSION_is_resumable(ent->session)) {
        htable_delete(app->cache, serverid, tls_cache_entry_free);
        return NULL;
    }
    return ent->session;
}

/* Handshake as client; the session comes back even when the peer did not
 * match (the caller enforces the level); NULL (logged) on failure. */
TLS_SESS_STATE *tls_client_start(TLS_APPL_STATE *app, const TLS_CLIENT_START_PROPS *props)
{
    const char *namaddr = props->namaddr ? props->namaddr : "unknown";
    const char *mdalg = props->mdalg && *props->mdalg ? props->mdalg : app->mdalg;
    VSTRING *why = vstring_alloc(100);
    bool dane_active = false;
    SSL *ssl;

    if (app->log_level >= 2)
        msg_info("setting up TLS connection to %s", namaddr);
    if ((ssl = SSL_new(app->ctx)) == NULL) {
        msg_warn("cannot allocate an SSL object for %s", namaddr);
        tls_print_errors();
        vstring_free(why);
        return NULL;
    }
    if ((props->protocols && !tls_set_protocols(NULL, ssl, props->protocols, why)) ||
        (props->cipher_grade && *props->cipher_grade &&
         !tls_set_ciphers(NULL, ssl, props->cipher_grade, props->exclude_ciphers, why))) {
        msg_warn("%s: cannot start TLS to %s", vstring_str(why), namaddr);
        SSL_free(ssl);
        vstring_free(why);
        return NULL;
    }
    vstring_free(why);
    SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL); /* the result is in SSL_get_verify_result() */
    if (tls_is_hostname(props->host) && !SSL_set_tlsext_host_name(ssl, props->host))
        ERR_clear_error();
    if (TLS_DANE_BASED(props->tls_level) && props->dane && tls_dane_usable(props->dane) > 0 &&
        tls_is_hostname(props->host) && SSL_dane_enable(ssl, props->host) > 0) {
        if (props->nexthop && *props->nexthop && strcasecmp(props->nexthop, props->host) != 0 &&
            tls_is_hostname(props->nexthop))
            (void)SSL_add1_host(ssl, props->nexthop);
        dane_active = tls_dane_apply(props->dane, ssl) > 0;
    }
    ERR_clear_error();
    bool use_cache = app->cache && props->serverid && *props->serverid && !dane_active;
    SSL_SESSION *cached = use_cache ? tls_client_cached(app, props->serverid) : NULL;

    if (cached && !SSL_set_session(ssl, cached))
        ERR_clear_error();

    /* Plaintext the server sent ahead of the handshake must not count. */
    (void)vstream_set_io(props->stream, NULL, NULL, NULL);
    if (!SSL_set_fd(ssl, vstream_fileno(props->stream))) {
        tls_print_errors();
        SSL_free(ssl);
        return NULL;
    }
    TLS_SESS_PRIV *priv = tls_sess_alloc(app, ssl, props->stream, namaddr, props->tls_level);

    if (use_cache)
        priv->serverid = mystrdup(props->serverid);
    if (tls_stream_handshake(priv, false, props->timeout > 0 ? props->timeout * 1000 : -1) <= 0) {
        if (use_cache)
            htable_delete(app->cache, props->serverid, tls_cache_entry_free);
        tls_sess_free(priv);
        return NULL;
    }
    tls_sess_describe(priv, TLS_ROLE_CLIENT, mdalg);

    TLS_SESS_STATE *s = &priv->pub;
    X509 *peer = SSL_get0_peer_certificate(ssl);

    if (dane_active) {
        s->peer_status &= ~TLS_CERT_FLAG_TRUSTED;
        if (peer && SSL_get_verify_result(ssl) == X509_V_OK && SSL_get0_dane_authority(ssl, NULL, NULL) >= 0)
            s->peer_status |= TLS_CERT_FLAG_TRUSTED | TLS_CERT_FLAG_MATCHED | TLS_CERT_FLAG_SECURED;
    } else if (peer && props->tls_level == TLS_LEV_FPRINT) {
        if (tls_client_fprint_check(s, props))
            s->peer_status |= TLS_CERT_FLAG_TRUSTED | TLS_CERT_FLAG_MATCHED;
    } else if (peer && (props->tls_level == TLS_LEV_VERIFY || props->tls_level == TLS_LEV_SECURE)) {
        if (TLS_CERT_IS_TRUSTED(s) && tls_client_name_check(peer, props))
            s->peer_status |= TLS_CERT_FLAG_MATCHED;
    }
    if (peer && TLS_MUST_MATCH(props->tls_level) && !TLS_CERT_IS_MATCHED(s) && app->log_level >= 1) {
        long res = SSL_get_verify_result(ssl);

        if (res != X509_V_OK)
            msg_info("server certificate verification failed for %s: num=%ld:%s", namaddr, res,
                     X509_verify_cert_error_string(res));
        else
            msg_info("server certificate verification failed for %s: no name or fingerprint matched",
                     namaddr);
    }
    ERR_clear_error();
    tls_stream_attach(priv, props->stream);
    if (app->log_level >= 1)
        tls_log_summary("to", s);
    return s;
}
