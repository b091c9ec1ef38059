/*
 * tls_misc - what the TLS server and client share: security level names,
 * protocol lists and cipher grades (applied to an SSL_CTX or SSL),
 * fingerprints, certificate and key loading, the description of a
 * finished handshake (protocol, cipher, key exchange, peer certificate),
 * the "... TLS connection established ..." log line, the Received: text
 * and tls_session_stop().
 *
 * Public functions: tls_level_lookup(), tls_level_name(),
 * tls_protocols_valid(), tls_cipher_grade_valid(), tls_fingerprint(),
 * tls_log_summary(), tls_received_text(), tls_session_stop().
 * Library-internal (tls_int.h): tls_set_protocols(), tls_set_ciphers(),
 * tls_load_credentials(), tls_load_CAs(), tls_appl_alloc(),
 * tls_sess_alloc(), tls_sess_free(), tls_sess_describe(),
 * tls_print_errors(), tls_sess_ex_index(), tls_appl_free(),
 * tls_cache_entry_free().
 *
 * Errors: invalid protocol lists and grades give false with the reason;
 * unusable credentials give false after a warning naming the file and the
 * OpenSSL errors ("warning: TLS library problem: ...").
 */
#include "sys_defs.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "iostuff.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"
#include "tls_int.h"

/* Level names by TLS_LEV_* value ("" for the internal half-dane level). */
static const char *tls_level_names[] = {"none", "may",       "encrypt", "fingerprint", "dane",
                                        "dane", "dane-only", "verify",  "secure"};

/* Level by name (case-insensitive); TLS_LEV_INVALID if unknown. */
int tls_level_lookup(const char *name)
{
    for (int i = 0; i < (int)(sizeof(tls_level_names) / sizeof(tls_level_names[0])); i++)
        if (i != TLS_LEV_HALF_DANE && strcasecmp(name, tls_level_names[i]) == 0)
            return i;
    return TLS_LEV_INVALID;
}

/* Name of a level. */
const char *tls_level_name(int level)
{
    return level >= 0 && level <= TLS_LEV_SECURE ? tls_level_names[level] : "invalid";
}

/* Protocol names in version order, with their OpenSSL versions. */
static const struct {
    const char *name;
    int version;
    unsigned long no_op; /* SSL_OP_NO_* */
} tls_protos[] = {
    {"SSLv2", 0x0200, 0},
    {"SSLv3", SSL3_VERSION, SSL_OP_NO_SSLv3},
    {"TLSv1", TLS1_VERSION, SSL_OP_NO_TLSv1},
    {"TLSv1.1", TLS1_1_VERSION, SSL_OP_NO_TLSv1_1},
    {"TLSv1.2", TLS1_2_VERSION, SSL_OP_NO_TLSv1_2},
    {"TLSv1.3", TLS1_3_VERSION, SSL_OP_NO_TLSv1_3},
};

#define TLS_NPROTOS ((int)(sizeof(tls_protos) / sizeof(tls_protos[0])))

/* Index of a protocol name (case-insensitive), or -1. */
static int tls_proto_index(const char *name)
{
    for (int i = 0; i < TLS_NPROTOS; i++)
        if (strcasecmp(name, tls_protos[i].name) == 0)
            return i;
    return -1;
}

/*
 * Parse a protocol list into the set of enabled protocols (bit i for
 * tls_protos[i]). Postfix's forms: "NAME" (only the listed ones), "!NAME"
 * (all but), ">=NAME" and "<=NAME" (bounds); separated by white space,
 * commas or colons. Empty: everything.
 */
static bool tls_proto_parse(const char *protocols, unsigned *enabled, VSTRING *why)
{
    unsigned include = 0, exclude = 0, all = (1u << TLS_NPROTOS) - 1;
    int min = 0, max = TLS_NPROTOS - 1;
    char *saved = mystrdup(protocols ? protocols : "");
    char *bp = saved, *tok;
    bool ok = true;

    while (ok && (tok = mystrtok(&bp, " \t\r\n,:")) != NULL) {
        int i;

        if (tok[0] == '!') {
            if ((i = tls_proto_index(tok + 1)) < 0)
                ok = false;
            else
                exclude |= 1u << i;
        } else if (strncmp(tok, ">=", 2) == 0) {
            if ((i = tls_proto_index(tok + 2)) < 0)
                ok = false;
            else if (i > min)
                min = i;
        } else if (strncmp(tok, "<=", 2) == 0) {
            if ((i = tls_proto_index(tok + 2)) < 0)
                ok = false;
            else if (i < max)
                max = i;
        } else if ((i = tls_proto_index(tok)) >= 0) {
            include |= 1u << i;
        } else {
            ok = false;
        }
        if (!ok && why)
            vstring_sprintf(why, "invalid TLS protocol list \"%s\": unknown protocol \"%s\"", protocols, tok);
    }
    myfree(saved);
    if (!ok)
        return false;
    unsigned set = (include ? include : all) & ~exclude;

    for (int i = 0; i < TLS_NPROTOS; i++)
        if (i < min || i > max)
            set &= ~(1u << i);
    /* SSLv2 does not exist in OpenSSL 3: a list must leave a real protocol. */
    if ((set & ~1u) == 0) {
        if (why)
            vstring_sprintf(why, "invalid TLS protocol list \"%s\": no protocol left", protocols);
        return false;
    }
    *enabled = set;
    return true;
}

/* Whether PROTOCOLS is a valid protocol list; the reason into WHY if not. */
bool tls_protocols_valid(const char *protocols, VSTRING *why)
{
    unsigned set;

    return tls_proto_parse(protocols, &set, why);
}

/* Apply a protocol list to CTX or (if non-null) SSL: min/max versions plus
 * SSL_OP_NO_* for the holes in between. */
bool tls_set_protocols(SSL_CTX *ctx, SSL *ssl, const char *protocols, VSTRING *why)
{
    unsigned set;
    int lo = -1, hi = -1;
    unsigned long no_ops = 0;

    if (!tls_proto_parse(protocols, &set, why))
        return false;
    for (int i = 1; i < TLS_NPROTOS; i++) {
        if (set & (1u << i)) {
            if (lo < 0)
                lo = i;
            hi = i;
        }
    }
    for (int i = lo; i <= hi; i++)
        if ((set & (1u << i)) == 0)
            no_ops |= tls_protos[i].no_op;
    if (ssl) {
        SSL_set_min_proto_version(ssl, tls_protos[lo].version);
        SSL_set_max_proto_version(ssl, tls_protos[hi].version);
        SSL_clear_options(ssl, SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_TLSv1_2 |
                                   SSL_OP_NO_TLSv1_3);
        SSL_set_options(ssl, no_ops);
    } else {
        SSL_CTX_set_min_proto_version(ctx, tls_protos[lo].version);
        SSL_CTX_set_max_proto_version(ctx, tls_protos[hi].version);
        SSL_CTX_set_options(ctx, no_ops);
    }
    return true;
}

/* The cipher list (tls_*_cipherlist) of a grade, or NULL. */
static const char *tls_grade_list(const char *grade)
{
    static const struct {
        const char *name;
        char **list;
    } grades[] = {
        {"high", &var_tls_high_cipherlist}, {"medium", &var_tls_medium_cipherlist},
        {"low", &var_tls_low_cipherlist},   {"export", &var_tls_export_cipherlist},
        {"null", &var_tls_null_cipherlist},
    };

    for (size_t i = 0; i < sizeof(grades) / sizeof(grades[0]); i++)
        if (grade && strcasecmp(grade, grades[i].name) == 0)
            return *grades[i].list ? *grades[i].list : "";
    return NULL;
}

/* Whether GRADE names a cipher grade; the reason into WHY if not. */
bool tls_cipher_grade_valid(const char *grade, VSTRING *why)
{
    if (tls_grade_list(grade) != NULL)
        return true;
    if (why)
        vstring_sprintf(why, "invalid TLS cipher grade \"%s\"", grade ? grade : "");
    return false;
}

/* Apply a cipher grade plus exclusions ("!NAME" each) to CTX or SSL. */
bool tls_set_ciphers(SSL_CTX *ctx, SSL *ssl, const char *grade, const char *exclude, VSTRING *why)
{
    const char *list = tls_grade_list(grade);

    if (list == NULL) {
        (void)tls_cipher_grade_valid(grade, why);
        return false;
    }
    VSTRING *buf = vstring_alloc(100);
    char *saved = mystrdup(exclude ? exclude : "");
    char *bp = saved, *tok;

    vstring_strcpy(buf, list);
    while ((tok = mystrtok(&bp, " \t\r\n,:")) != NULL)
        vstring_sprintf_append(buf, ":!%s", tok);
    myfree(saved);
    int ok =
        ssl ? SSL_set_cipher_list(ssl, vstring_str(buf)) : SSL_CTX_set_cipher_list(ctx, vstring_str(buf));

    if (!ok && why)
        vstring_sprintf(why, "invalid TLS cipher list \"%s\"", vstring_str(buf));
    ERR_clear_error();
    vstring_free(buf);
    return ok != 0;
}

/* "AA:BB:..." digest of DER bytes into BUF; NULL if MDALG is unknown. */
const char *tls_fingerprint(VSTRING *buf, const char *mdalg, const unsigned char *der, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD *alg = EVP_MD_fetch(NULL, mdalg, NULL);

    if (alg == NULL) {
        ERR_clear_error();
        return NULL;
    }
    int ok = EVP_Digest(der, len, md, &mdlen, alg, NULL);

    EVP_MD_free(alg);
    if (!ok) {
        ERR_clear_error();
        return NULL;
    }
    vstring_truncate(buf, 0);
    for (unsigned i = 0; i < mdlen; i++)
        vstring_sprintf_append(buf, "%s%02X", i ? ":" : "", md[i]);
    return vstring_str(buf);
}

/* Log every queued OpenSSL error as Postfix does ("TLS library problem"). */
void tls_print_errors(void)
{
    unsigned long err;
    const char *file, *data;
    int line, flags;
    char text[256];

    while ((err = ERR_get_error_all(&file, &line, NULL, &data, &flags)) != 0) {
        ERR_error_string_n(err, text, sizeof(text));
        msg_warn("TLS library problem: %s:%s:%d:%s", text, file, line, (flags & ERR_TXT_STRING) ? data : "");
    }
}

/* One ex_data slot on SSL objects pointing at the TLS_SESS_PRIV. */
int tls_sess_ex_index(void)
{
    static int idx = -1;

    if (idx < 0)
        idx = SSL_get_ex_new_index(0, "postern session", NULL, NULL, NULL);
    return idx;
}

/* Free one client cache entry. */
void tls_cache_entry_free(void *ptr)
{
    TLS_CACHED_SESS *ent = ptr;

    SSL_SESSION_free(ent->session);
    myfree(ent);
}

/* A new application context around CTX. */
TLS_APPL_STATE *tls_appl_alloc(SSL_CTX *ctx, int role, int log_level, const char *mdalg, int cache_timeout,
                               int verifydepth)
{
    TLS_APPL_STATE *app = mycalloc(1, sizeof(*app));

    app->ctx = ctx;
    app->role = role;
    app->log_level = log_level;
    app->mdalg = mystrdup(mdalg && *mdalg ? mdalg : "sha256");
    app->cache_timeout = cache_timeout > 0 ? cache_timeout : 0;
    app->verifydepth = verifydepth > 0 ? verifydepth : 9;
    SSL_CTX_set_app_data(ctx, app);
    return app;
}

/* Free a context made by tls_appl_alloc(), with its SSL_CTX. */
void tls_appl_free(TLS_APPL_STATE *app)
{
    SSL_CTX_free(app->ctx);
    myfree(app->mdalg);
    if (app->ticket_path)
        myfree(app->ticket_path);
    if (app->cache)
        htable_free(app->cache, tls_cache_entry_free);
    myfree(app);
}

/* PEM objects of one file: keys and certificates in file order. */
typedef struct TLS_PEM_OBJ {
    EVP_PKEY *key; /* one of key, cert */
    X509 *cert;
} TLS_PEM_OBJ;

/* Read every key and certificate of PATH; false (warned) when unreadable. */
static bool tls_read_pem(const char *path, TLS_PEM_OBJ **objs, int *count)
{
    BIO *bio = BIO_new_file(path, "r");
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long len = 0;

    if (bio == NULL) {
        msg_warn("cannot open file \"%s\": %m", path);
        ERR_clear_error();
        return false;
    }
    while (PEM_read_bio(bio, &name, &header, &data, &len)) {
        const unsigned char *p = data;
        TLS_PEM_OBJ obj = {NULL, NULL};

        if (strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "TRUSTED CERTIFICATE") == 0) {
            obj.cert =
                strcmp(name, "CERTIFICATE") == 0 ? d2i_X509(NULL, &p, len) : d2i_X509_AUX(NULL, &p, len);
        } else if (strcmp(name, "PRIVATE KEY") == 0 || strcmp(name, "RSA PRIVATE KEY") == 0 ||
                   strcmp(name, "EC PRIVATE KEY") == 0) {
            obj.key = d2i_AutoPrivateKey(NULL, &p, len);
        }
        if (obj.cert || obj.key) {
            *objs = myrealloc(*objs, (size_t)(*count + 1) * sizeof(**objs));
            (*objs)[(*count)++] = obj;
        } else if (strstr(name, "PRIVATE KEY") || strstr(name, "CERTIFICATE")) {
            msg_warn("cannot decode %s in file \"%s\"", name, path);
            tls_print_errors();
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
    }
    ERR_clear_error(); /* the end of the file reads as "no start line" */
    BIO_free(bio);
    return true;
}

/* Install one key with its leaf certificate and chain; false (warned) on mismatch. */
static bool tls_use_pair(SSL_CTX *ctx, EVP_PKEY *key, X509 *leaf, STACK_OF(X509) * chain, const char *keypath,
                         const char *certpath)
{
    if (!X509_check_private_key(leaf, key)) {
        ERR_clear_error();
        msg_warn("private key in file \"%s\" does not match the public key of the certificate in file \"%s\"",
                 keypath, certpath);
        return false;
    }
    if (!SSL_CTX_use_cert_and_key(ctx, leaf, key, chain, 1)) {
        msg_warn("cannot use the certificate and key data from file \"%s\"", certpath);
        tls_print_errors();
        return false;
    }
    return true;
}

/* Free what tls_read_pem() read. */
static void tls_free_pem(TLS_PEM_OBJ *objs, int count)
{
    for (int i = 0; i < count; i++) {
        EVP_PKEY_free(objs[i].key);
        X509_free(objs[i].cert);
    }
    myfree(objs);
}

/* Load one cert_file/key_file pair (either may hold both). */
static bool tls_load_pair(SSL_CTX *ctx, const char *cert_file, const char *key_file)
{
    TLS_PEM_OBJ *objs = NULL;
    int count = 0;
    EVP_PKEY *key = NULL;
    X509 *leaf = NULL;
    STACK_OF(X509) *chain = sk_X509_new_null();
    bool ok = false;

    if (!key_file || !*key_file)
        key_file = cert_file;
    if (tls_read_pem(cert_file, &objs, &count)) {
        for (int i = 0; i < count; i++) {
            if (objs[i].cert && leaf == NULL)
                leaf = objs[i].cert;
            else if (objs[i].cert)
                sk_X509_push(chain, objs[i].cert);
            else if (objs[i].key && key == NULL && strcmp(cert_file, key_file) == 0)
                key = objs[i].key;
        }
        if (leaf == NULL)
            msg_warn("cannot get certificate from file \"%s\"", cert_file);
        else if (key == NULL && strcmp(cert_file, key_file) == 0)
            msg_warn("cannot get private key from file \"%s\"", key_file);
        else
            ok = true;
    }
    if (ok && key == NULL) {
        TLS_PEM_OBJ *kobjs = NULL;
        int kcount = 0;

        ok = false;
        if (tls_read_pem(key_file, &kobjs, &kcount)) {
            for (int i = 0; i < kcount && key == NULL; i++)
                if (kobjs[i].key) {
                    key = kobjs[i].key;
                    kobjs[i].key = NULL;
                }
            tls_free_pem(kobjs, kcount);
            if (key == NULL)
                msg_warn("cannot get private key from file \"%s\"", key_file);
            else {
                ok = tls_use_pair(ctx, key, leaf, chain, key_file, cert_file);
                EVP_PKEY_free(key);
            }
        }
    } else if (ok) {
        ok = tls_use_pair(ctx, key, leaf, chain, key_file, cert_file);
    }
    sk_X509_free(chain);
    if (objs)
        tls_free_pem(objs, count);
    return ok;
}

/* Load one chain file: each key followed by its certificate and chain. */
static bool tls_load_chain_file(SSL_CTX *ctx, const char *path)
{
    TLS_PEM_OBJ *objs = NULL;
    int count = 0, pairs = 0;
    bool ok = true;

    if (!tls_read_pem(path, &objs, &count))
        return false;
    for (int i = 0; ok && i < count;) {
        EVP_PKEY *key = NULL;
        X509 *leaf = NULL;
        STACK_OF(X509) *chain = sk_X509_new_null();

        /* A key then its certificates, or certificates then their key. */
        bool key_first = objs[i].key != NULL;

        if (key_first)
            key = objs[i++].key;
        for (; i < count && objs[i].cert; i++) {
            if (leaf == NULL)
                leaf = objs[i].cert;
            else
                sk_X509_push(chain, objs[i].cert);
        }
        if (!key_first && i < count)
            key = objs[i++].key;
        if (key == NULL || leaf == NULL) {
            msg_warn("file \"%s\": %s without %s", path, key ? "private key" : "certificate",
                     key ? "certificate" : "private key");
            ok = false;
        } else {
            ok = tls_use_pair(ctx, key, leaf, chain, path, path);
            pairs++;
        }
        sk_X509_free(chain);
    }
    if (count == 0) {
        msg_warn("no certificate or private key in file \"%s\"", path);
        ok = false;
    }
    tls_free_pem(objs, count);
    return ok;
}

/* Load the credentials: chain_files when set, else the RSA and EC pairs. */
bool tls_load_credentials(SSL_CTX *ctx, const char *cert_file, const char *key_file, const char *eccert_file,
                          const char *eckey_file, const char *chain_files)
{
    bool any = false;

    if (chain_files && *chain_files) {
        char *saved = mystrdup(chain_files);
        char *bp = saved, *path;
        bool ok = true;

        while (ok && (path = mystrtok(&bp, " \t\r\n,")) != NULL) {
            ok = tls_load_chain_file(ctx, path);
            any = true;
        }
        myfree(saved);
        return ok && any;
    }
    if (cert_file && *cert_file) {
        if (!tls_load_pair(ctx, cert_file, key_file))
            return false;
        any = true;
    }
    if (eccert_file && *eccert_file) {
        if (!tls_load_pair(ctx, eccert_file, eckey_file))
            return false;
        any = true;
    }
    return any;
}

/* Install CAfile/CApath as trust anchors (plus system CAs if configured). */
bool tls_load_CAs(SSL_CTX *ctx, const char *CAfile, const char *CApath)
{
    const char *file = CAfile && *CAfile ? CAfile : NULL;
    const char *path = CApath && *CApath ? CApath : NULL;

    if ((file || path) && !SSL_CTX_load_verify_locations(ctx, file, path)) {
        msg_warn(
            "cannot load Certification Authority data, CAfile=\"%s\", CApath=\"%s\": disabling TLS support",
            file ? file : "", path ? path : "");
        tls_print_errors();
        return false;
    }
    if (var_tls_append_default_CA && !SSL_CTX_set_default_verify_paths(ctx))
        ERR_clear_error();
    return true;
}

/* A new session on SSL for STREAM; the descriptor's blocking mode is kept
 * for tls_sess_free(). */
TLS_SESS_PRIV *tls_sess_alloc(TLS_APPL_STATE *app, SSL *ssl, VSTREAM *stream, const char *namaddr, int level)
{
    TLS_SESS_PRIV *priv = mycalloc(1, sizeof(*priv));

    priv->app = app;
    priv->pub.ssl = ssl;
    priv->pub.namaddr = mystrdup(namaddr ? namaddr : "unknown");
    priv->pub.level = level;
    priv->pub.peer_CN = mystrdup("");
    priv->pub.issuer_CN = mystrdup("");
    priv->pub.peer_cert_fprint = mystrdup("");
    priv->pub.peer_pkey_fprint = mystrdup("");
    priv->fd = vstream_fileno(stream);
    priv->saved_nonblock = -1;
    SSL_set_ex_data(ssl, tls_sess_ex_index(), priv);
    return priv;
}

/* Free a session and its SSL object; restores the blocking mode. */
void tls_sess_free(TLS_SESS_PRIV *priv)
{
    TLS_SESS_STATE *s = &priv->pub;

    if (priv->saved_nonblock == 0)
        (void)non_blocking(priv->fd, false);
    if (s->ssl) {
        SSL_set_ex_data(s->ssl, tls_sess_ex_index(), NULL);
        SSL_free(s->ssl);
    }
    char **strs[] = {&s->namaddr,       &s->protocol,         &s->cipher_name,      &s->kex_name,
                     &s->kex_curve,     &s->srvr_sig_name,    &s->srvr_sig_curve,   &s->srvr_sig_dgst,
                     &s->clnt_sig_name, &s->clnt_sig_curve,   &s->clnt_sig_dgst,    &s->peer_CN,
                     &s->issuer_CN,     &s->peer_cert_fprint, &s->peer_pkey_fprint, &priv->serverid};

    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (*strs[i])
            myfree(*strs[i]);
    myfree(priv);
}

/* Replace *DST with a copy of SRC (NULL stays NULL). */
static void tls_set_str(char **dst, const char *src)
{
    if (*dst)
        myfree(*dst);
    *dst = src ? mystrdup(src) : NULL;
}

/* One name entry (by NID) as printable UTF-8, or NULL. */
static char *tls_name_text(X509_NAME *name, int nid)
{
    int pos = name ? X509_NAME_get_index_by_NID(name, nid, -1) : -1;
    unsigned char *utf8 = NULL;
    char *result = NULL;

    if (pos < 0)
        return NULL;
    ASN1_STRING *str = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, pos));
    int len = ASN1_STRING_to_UTF8(&utf8, str);

    if (len < 0) {
        ERR_clear_error();
        return NULL;
    }
    /* An embedded NUL or control character is a forgery attempt or junk: drop it. */
    if ((int)strlen((char *)utf8) == len) {
        result = mystrdup((char *)utf8);
        for (char *cp = result; *cp; cp++)
            if (iscntrl((unsigned char)*cp))
                *cp = '?';
    }
    OPENSSL_free(utf8);
    return result;
}

/* Signature algorithm name of a key type NID ("RSA-PSS", "ECDSA", ...). */
static const char *tls_sig_type_name(int nid)
{
    switch (nid) {
    case EVP_PKEY_RSA:
        return "RSA";
    case EVP_PKEY_RSA_PSS:
        return "RSA-PSS";
    case EVP_PKEY_EC:
        return "ECDSA";
    case EVP_PKEY_ED25519:
        return "ED25519";
    case EVP_PKEY_ED448:
        return "ED448";
    case EVP_PKEY_DSA:
        return "DSA";
    default:
        return OBJ_nid2sn(nid);
    }
}

/* Describe one signature: key type name, EC curve or bits, digest. */
static void tls_sig_describe(EVP_PKEY *pkey, int type_nid, int dgst_nid, char **name, char **curve, int *bits,
                             char **dgst)
{
    char group[80];

    tls_set_str(name, tls_sig_type_name(type_nid));
    if (pkey && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC &&
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL))
        tls_set_str(curve, group);
    else if (pkey && (type_nid == EVP_PKEY_RSA || type_nid == EVP_PKEY_RSA_PSS || type_nid == EVP_PKEY_DSA))
        *bits = EVP_PKEY_get_bits(pkey);
    if (dgst_nid != NID_undef)
        tls_set_str(dgst, OBJ_nid2sn(dgst_nid));
    ERR_clear_error();
}

/* Fill protocol, cipher, TLSv1.3 key exchange and peer certificate facts
 * after a handshake. ROLE is TLS_ROLE_SERVER or TLS_ROLE_CLIENT. */
void tls_sess_describe(TLS_SESS_PRIV *priv, int role, const char *mdalg)
{
    TLS_SESS_STATE *s = &priv->pub;
    SSL *ssl = s->ssl;
    const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
    X509 *peer = SSL_get0_peer_certificate(ssl);
    VSTRING *buf = vstring_alloc(100);

    tls_set_str(&s->protocol, SSL_get_version(ssl));
    tls_set_str(&s->cipher_name, cipher ? SSL_CIPHER_get_name(cipher) : "unknown");
    s->cipher_usebits = cipher ? SSL_CIPHER_get_bits(cipher, &s->cipher_algbits) : 0;
    s->session_reused = SSL_session_reused(ssl) != 0;

    if (SSL_version(ssl) >= TLS1_3_VERSION) {
        int group = SSL_get_negotiated_group(ssl);
        int type_nid, dgst_nid;

        if (group == NID_X25519 || group == NID_X448) {
            tls_set_str(&s->kex_name, OBJ_nid2sn(group));
        } else if (group == NID_ffdhe2048 || group == NID_ffdhe3072 || group == NID_ffdhe4096 ||
                   group == NID_ffdhe6144 || group == NID_ffdhe8192) {
            tls_set_str(&s->kex_name, "DHE");
            s->kex_bits = atoi(OBJ_nid2sn(group) + strlen("ffdhe"));
        } else if (group != NID_undef && group != 0) {
            tls_set_str(&s->kex_name, "ECDHE");
            tls_set_str(&s->kex_curve, OBJ_nid2sn(group));
        }
        /* Our own signature and the peer's (none on a resumed session). */
        X509 *own = SSL_get_certificate(ssl);
        EVP_PKEY *own_key = own ? X509_get0_pubkey(own) : NULL;
        EVP_PKEY *peer_key = peer ? X509_get0_pubkey(peer) : NULL;
        bool own_signed = SSL_get_signature_type_nid(ssl, &type_nid) && own_key;

        if (own_signed) {
            dgst_nid = NID_undef;
            (void)SSL_get_signature_nid(ssl, &dgst_nid);
            if (role == TLS_ROLE_SERVER)
                tls_sig_describe(own_key, type_nid, dgst_nid, &s->srvr_sig_name, &s->srvr_sig_curve,
                                 &s->srvr_sig_bits, &s->srvr_sig_dgst);
            else
                tls_sig_describe(own_key, type_nid, dgst_nid, &s->clnt_sig_name, &s->clnt_sig_curve,
                                 &s->clnt_sig_bits, &s->clnt_sig_dgst);
        }
        if (peer_key && SSL_get_peer_signature_type_nid(ssl, &type_nid)) {
            dgst_nid = NID_undef;
            (void)SSL_get_peer_signature_nid(ssl, &dgst_nid);
            if (role == TLS_ROLE_SERVER)
                tls_sig_describe(peer_key, type_nid, dgst_nid, &s->clnt_sig_name, &s->clnt_sig_curve,
                                 &s->clnt_sig_bits, &s->clnt_sig_dgst);
            else
                tls_sig_describe(peer_key, type_nid, dgst_nid, &s->srvr_sig_name, &s->srvr_sig_curve,
                                 &s->srvr_sig_bits, &s->srvr_sig_dgst);
        }
        ERR_clear_error();
    }

    if (peer) {
        unsigned char *der = NULL;
        int len;
        char *text;

        s->peer_status |= TLS_CERT_FLAG_PRESENT;
        if ((text = tls_name_text(X509_get_subject_name(peer), NID_commonName)) != NULL) {
            tls_set_str(&s->peer_CN, text);
            myfree(text);
        }
        if ((text = tls_name_text(X509_get_issuer_name(peer), NID_commonName)) != NULL ||
            (text = tls_name_text(X509_get_issuer_name(peer), NID_organizationName)) != NULL) {
            tls_set_str(&s->issuer_CN, text);
            myfree(text);
        }
        if ((len = i2d_X509(peer, &der)) > 0 && tls_fingerprint(buf, mdalg, der, (size_t)len))
            tls_set_str(&s->peer_cert_fprint, vstring_str(buf));
        OPENSSL_free(der);
        der = NULL;
        if ((len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(peer), &der)) > 0 &&
            tls_fingerprint(buf, mdalg, der, (size_t)len))
            tls_set_str(&s->peer_pkey_fprint, vstring_str(buf));
        OPENSSL_free(der);

        GENERAL_NAMES *gens = X509_get_ext_d2i(peer, NID_subject_alt_name, NULL, NULL);

        for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++)
            if (sk_GENERAL_NAME_value(gens, i)->type == GEN_DNS)
                s->peer_status |= TLS_CERT_FLAG_ALTNAME;
        GENERAL_NAMES_free(gens);
        if (SSL_get_verify_result(ssl) == X509_V_OK)
            s->peer_status |= TLS_CERT_FLAG_TRUSTED;
        ERR_clear_error();
    }
    vstring_free(buf);
}

/* The key-exchange/server part and the client part of the details. */
static void tls_details(const TLS_SESS_STATE *s, VSTRING *srvr, VSTRING *clnt)
{
    vstring_truncate(srvr, 0);
    vstring_truncate(clnt, 0);
    if (s->kex_name && *s->kex_name) {
        vstring_sprintf_append(srvr, " key-exchange %s", s->kex_name);
        if (s->kex_curve && *s->kex_curve)
            vstring_sprintf_append(srvr, " (%s)", s->kex_curve);
        else if (s->kex_bits > 0)
            vstring_sprintf_append(srvr, " (%d bits)", s->kex_bits);
    }
    if (s->srvr_sig_name && *s->srvr_sig_name) {
        vstring_sprintf_append(srvr, " server-signature %s", s->srvr_sig_name);
        if (s->srvr_sig_curve && *s->srvr_sig_curve)
            vstring_sprintf_append(srvr, " (%s)", s->srvr_sig_curve);
        else if (s->srvr_sig_bits > 0)
            vstring_sprintf_append(srvr, " (%d bits)", s->srvr_sig_bits);
        if (s->srvr_sig_dgst && *s->srvr_sig_dgst)
            vstring_sprintf_append(srvr, " server-digest %s", s->srvr_sig_dgst);
    }
    if (s->clnt_sig_name && *s->clnt_sig_name) {
        vstring_sprintf_append(clnt, " client-signature %s", s->clnt_sig_name);
        if (s->clnt_sig_curve && *s->clnt_sig_curve)
            vstring_sprintf_append(clnt, " (%s)", s->clnt_sig_curve);
        else if (s->clnt_sig_bits > 0)
            vstring_sprintf_append(clnt, " (%d bits)", s->clnt_sig_bits);
        if (s->clnt_sig_dgst && *s->clnt_sig_dgst)
            vstring_sprintf_append(clnt, " client-digest %s", s->clnt_sig_dgst);
    }
}

/* The "... TLS connection established from|to ..." log line. */
void tls_log_summary(const char *role, const TLS_SESS_STATE *s)
{
    VSTRING *srvr = vstring_alloc(100), *clnt = vstring_alloc(100);
    const char *trust = !TLS_CERT_IS_PRESENT(s)                              ? "Anonymous"
                        : (TLS_CERT_IS_MATCHED(s) || TLS_CERT_IS_SECURED(s)) ? "Verified"
                        : TLS_CERT_IS_TRUSTED(s)                             ? "Trusted"
                                                                             : "Untrusted";

    tls_details(s, srvr, clnt);
    msg_info("%s TLS connection established %s %s: %s with cipher %s (%d/%d bits)%s%s", trust, role,
             s->namaddr, s->protocol, s->cipher_name, s->cipher_usebits, s->cipher_algbits, vstring_str(srvr),
             vstring_str(clnt));
    vstring_free(srvr);
    vstring_free(clnt);
}

/* The Received: comment text (format in tls.h) into BUF. */
const char *tls_received_text(VSTRING *buf, const TLS_SESS_STATE *s)
{
    VSTRING *srvr = vstring_alloc(100), *clnt = vstring_alloc(100);

    tls_details(s, srvr, clnt);
    vstring_sprintf(buf, "%s with cipher %s (%d/%d bits)", s->protocol, s->cipher_name, s->cipher_usebits,
                    s->cipher_algbits);
    if (VSTRING_LEN(srvr) > 0)
        vstring_sprintf_append(buf, "\n\t%s", vstring_str(srvr));
    if (VSTRING_LEN(clnt) > 0)
        vstring_sprintf_append(buf, "\n\t%s", vstring_str(clnt));
    vstring_free(srvr);
    vstring_free(clnt);
    return vstring_str(buf);
}

/* End TLS on STREAM (close_notify unless FAILURE) and free the session. */
void tls_session_stop(TLS_APPL_STATE *app, VSTREAM *stream, int timeout, bool failure, TLS_SESS_STATE *sess)
{
    TLS_SESS_PRIV *priv = (TLS_SESS_PRIV *)sess;

    (void)app;
    if (priv == NULL)
        return;
    if (failure && priv->serverid && priv->app->cache)
        htable_delete(priv->app->cache, priv->serverid, tls_cache_entry_free);
    if (failure && priv->pub.ssl)
        SSL_CTX_remove_session(priv->app->ctx, SSL_get_session(priv->pub.ssl));
    tls_stream_detach(priv, stream, timeout > 0 ? timeout * 1000 : -1, failure);
    tls_sess_free(priv);
}
