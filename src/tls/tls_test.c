/*
 * tls_test - unit tests for the TLS library: real handshakes between
 * tls_server_start() (in a thread) and tls_client_start() over a
 * socketpair, with a throwaway PKI made by the openssl command in a
 * temporary directory.
 */
#include "sys_defs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "argv.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "tls.h"
#include "vstream.h"
#include "vstring.h"

static char pki[256];   /* temporary directory */
static VSTRING *logged; /* captured log lines */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* Keep log lines for the assertions. */
static void capture(enum msg_level level, const char *text)
{
    pthread_mutex_lock(&log_lock);
    vstring_sprintf_append(logged, "%s%s\n", msg_level_prefix(level), text);
    pthread_mutex_unlock(&log_lock);
}

/* Forget captured log lines. */
static void log_reset(void)
{
    pthread_mutex_lock(&log_lock);
    vstring_truncate(logged, 0);
    pthread_mutex_unlock(&log_lock);
}

/* Whether the log has a line containing TEXT. */
static bool log_has(const char *text)
{
    pthread_mutex_lock(&log_lock);
    bool found = strstr(vstring_str(logged), text) != NULL;
    pthread_mutex_unlock(&log_lock);
    return found;
}

/* PATH of file NAME in the PKI directory (static buffer rotation). */
static const char *p(const char *name)
{
    static char bufs[8][512];
    static int next;
    char *buf = bufs[next++ % 8];

    snprintf(buf, sizeof(bufs[0]), "%s/%s", pki, name);
    return buf;
}

/* Run a shell command in the PKI directory; fail the test if it fails. */
static void sh(const char *fmt, ...)
{
    char cmd[4096];
    char full[4500];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "cd '%s' && (%s) >/dev/null 2>&1", pki, cmd);
    if (system(full) != 0)
        fail_msg("command failed: %s", cmd);
}

/* Issue a certificate NAME signed by the CA; KEYOPT picks RSA or EC. */
static void issue(const char *name, const char *keyopt, const char *cn, const char *san)
{
    FILE *fp = fopen(p(vstring_str(vstring_sprintf(vstring_alloc(10), "%s.ext", name))), "w");

    assert_non_null(fp);
    fprintf(fp, "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n");
    if (san)
        fprintf(fp, "subjectAltName=%s\n", san);
    fclose(fp);
    sh("openssl req -new %s -nodes -keyout %s.key -out %s.csr -subj '/CN=%s'", keyopt, name, name, cn);
    sh("openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out %s.pem -days 30 "
       "-extfile %s.ext",
       name, name, name);
}

#define RSA "-newkey rsa:2048"
#define EC  "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1"

/* Make the PKI and set the parameters the library reads. */
static int setup(void **state)
{
    (void)state;
    snprintf(pki, sizeof(pki), "/tmp/tls_test.XXXXXX");
    if (mkdtemp(pki) == NULL)
        return -1;
    logged = vstring_alloc(1000);
    msg_output(capture);
    signal(SIGPIPE, SIG_IGN); /* as in the daemons */
    sh("openssl req -x509 " RSA " -nodes -keyout ca.key -out ca.pem -days 30 -subj '/CN=Test CA' "
       "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
    issue("srv", RSA, "mx.example.test", "DNS:mx.example.test");
    issue("srvec", EC, "mx.example.test", "DNS:mx.example.test");
    issue("wild", RSA, "wildcard", "DNS:*.example.test");
    issue("cnonly", RSA, "mx.example.test", NULL);
    issue("client", RSA, "client.example.test", "DNS:client.example.test");
    sh("openssl req -x509 " RSA " -nodes -keyout self.key -out self.pem -days 30 -subj '/CN=mx.example.test' "
       "-addext subjectAltName=DNS:mx.example.test");
    sh("cat srv.key srv.pem ca.pem > chain.pem && cat srvec.key srvec.pem ca.pem > ecchain.pem");
    sh("cat srv.pem ca.pem srv.key > certfirst.pem");
    var_data_directory = mystrdup(pki);
    var_tls_high_cipherlist = "aNULL:-aNULL:HIGH:@STRENGTH";
    var_tls_medium_cipherlist = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH";
    var_tls_low_cipherlist = "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH";
    var_tls_export_cipherlist = "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH";
    var_tls_null_cipherlist = "eNULL:!aNULL";
    var_tls_session_ticket_cipher = "aes-256-cbc";
    var_tls_wildcard_matches_multiple_labels = true;
    return 0;
}

/* Remove the PKI. */
static int teardown(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki);
    return system(cmd) == 0 ? 0 : -1;
}

/* A server context; FILES picks the credentials. */
static TLS_APPL_STATE *server_app(const char *cert, const char *key, const char *eccert, const char *chain,
                                  bool ask, const char *protocols)
{
    TLS_SERVER_INIT_PROPS props = {
        .log_level = 1,
        .cert_file = cert ? p(cert) : "",
        .key_file = key ? p(key) : "",
        .eccert_file = eccert ? p(eccert) : "",
        .eckey_file = eccert ? p("srvec.key") : "",
        .chain_files = chain ? chain : "",
        .CAfile = p("ca.pem"),
        .CApath = "",
        .ask_ccert = ask,
        .verifydepth = 9,
        .protocols = protocols ? protocols : ">=TLSv1",
        .cipher_grade = "medium",
        .exclude_ciphers = "",
        .mdalg = "sha256",
        .cache_timeout = 3600,
        .cache_type = "smtpd",
    };

    return tls_server_init(&props);
}

/* A client context, optionally with a client certificate and the CA. */
static TLS_APPL_STATE *client_app(const char *cert, bool with_ca, int cache_timeout)
{
    TLS_CLIENT_INIT_PROPS props = {
        .log_level = 1,
        .cert_file = cert ? p(cert) : "",
        .key_file =
            cert ? p(vstring_str(vstring_sprintf(vstring_alloc(10), "%.*s.key", (int)strlen(cert) - 4, cert)))
                 : "",
        .eccert_file = "",
        .eckey_file = "",
        .chain_files = "",
        .CAfile = with_ca ? p("ca.pem") : "",
        .CApath = "",
        .verifydepth = 9,
        .mdalg = "sha256",
        .cache_timeout = cache_timeout,
    };

    return tls_client_init(&props);
}

/* What the server thread saw. */
typedef struct SRV_RUN {
    TLS_APPL_STATE *app;
    int fd;
    bool requirecert;
    bool starttls; /* read one plaintext line before TLS */
    bool ok;
    int peer_status;
    bool reused;
    char cn[256], issuer[256], cert_fp[256], pkey_fp[256], protocol[64];
    char received[1024];
} SRV_RUN;

/* Server thread: handshake, then echo lines until the end. */
static void *server_thread(void *ctx)
{
    SRV_RUN *run = ctx;
    VSTREAM *stream = vstream_fdopen(run->fd, O_RDWR);
    VSTRING *line = vstring_alloc(100);

    vstream_set_timeout(stream, 10);
    if (run->starttls) {
        (void)vstream_fgets_limit(line, stream, VSTREAM_NO_LIMIT);
        vstream_fputs("220 ready\r\n", stream);
        vstream_fflush(stream);
    }
    TLS_SERVER_START_PROPS props = {.stream = stream,
                                    .timeout = 10,
                                    .namaddr = "client.example[127.0.0.1]",
                                    .requirecert = run->requirecert,
                                    .mdalg = "sha256"};
    TLS_SESS_STATE *s = tls_server_start(run->app, &props);

    if (s) {
        run->ok = true;
        run->peer_status = s->peer_status;
        run->reused = s->session_reused;
        snprintf(run->cn, sizeof(run->cn), "%s", s->peer_CN);
        snprintf(run->issuer, sizeof(run->issuer), "%s", s->issuer_CN);
        snprintf(run->cert_fp, sizeof(run->cert_fp), "%s", s->peer_cert_fprint);
        snprintf(run->pkey_fp, sizeof(run->pkey_fp), "%s", s->peer_pkey_fprint);
        snprintf(run->protocol, sizeof(run->protocol), "%s", s->protocol);
        snprintf(run->received, sizeof(run->received), "%s", tls_received_text(line, s));
        while (vstream_fgets_limit(line, stream, VSTREAM_NO_LIMIT) != VSTREAM_LINE_EOF) {
            vstream_fwrite(stream, vstring_str(line), VSTRING_LEN(line));
            vstream_fflush(stream);
        }
        tls_session_stop(run->app, stream, 10, false, s);
    }
    vstream_fclose(stream);
    vstring_free(line);
    return NULL;
}

/* What the client saw. */
typedef struct CLI_RUN {
    bool ok;
    int peer_status;
    bool reused;
    bool echoed; /* the lines came back intact */
    char protocol[64], cipher[128], srvr_sig[64], srvr_curve[64];
} CLI_RUN;

/* One connection: server thread plus client handshake and an echo of a
 * short and a long (multi-record) line. */
static void connect_pair(SRV_RUN *srv, TLS_APPL_STATE *capp, TLS_CLIENT_START_PROPS cprops, CLI_RUN *cli)
{
    int fds[2];
    pthread_t tid;

    memset(cli, 0, sizeof(*cli));
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    srv->fd = fds[0];
    assert_int_equal(pthread_create(&tid, NULL, server_thread, srv), 0);
    VSTREAM *stream = vstream_fdopen(fds[1], O_RDWR);

    vstream_set_timeout(stream, 10);
    if (srv->starttls) {
        /* Pipelined plaintext after STARTTLS must never reach the TLS layer. */
        char reply[12];

        assert_int_equal(write(fds[1], "STARTTLS\r\nRSET\r\n", 16), 16);
        assert_int_equal(read(fds[1], reply, 11), 11);
    }
    cprops.stream = stream;
    if (cprops.timeout == 0)
        cprops.timeout = 10;
    if (cprops.namaddr == NULL)
        cprops.namaddr = "mx.example.test[127.0.0.1]:25";
    TLS_SESS_STATE *s = tls_client_start(capp, &cprops);

    if (s) {
        VSTRING *big = vstring_alloc(50000), *got = vstring_alloc(100);

        cli->ok = true;
        cli->peer_status = s->peer_status;
        cli->reused = s->session_reused;
        snprintf(cli->protocol, sizeof(cli->protocol), "%s", s->protocol);
        snprintf(cli->cipher, sizeof(cli->cipher), "%s", s->cipher_name);
        snprintf(cli->srvr_sig, sizeof(cli->srvr_sig), "%s", s->srvr_sig_name ? s->srvr_sig_name : "");
        snprintf(cli->srvr_curve, sizeof(cli->srvr_curve), "%s", s->srvr_sig_curve ? s->srvr_sig_curve : "");
        for (int i = 0; i < 40000; i++)
            vstring_addch(big, 'a' + i % 26);
        vstring_strcat(big, "\n");
        vstream_fputs("hello\n", stream);
        vstream_fflush(stream);
        cli->echoed = vstream_fgets_limit(got, stream, VSTREAM_NO_LIMIT) == VSTREAM_LINE_OK &&
                      strcmp(vstring_str(got), "hello\n") == 0;
        vstream_fwrite(stream, vstring_str(big), VSTRING_LEN(big));
        vstream_fflush(stream);
        cli->echoed = cli->echoed && vstream_fgets_limit(got, stream, VSTREAM_NO_LIMIT) == VSTREAM_LINE_OK &&
                      strcmp(vstring_str(got), vstring_str(big)) == 0;
        tls_session_stop(capp, stream, 10, false, s);
        vstring_free(big);
        vstring_free(got);
    }
    vstream_fclose(stream);
    assert_int_equal(pthread_join(tid, NULL), 0);
}

/* SHA-256 of DER data into OUT (32 bytes). */
static void sha256(const unsigned char *der, int len, unsigned char *out)
{
    unsigned int n = 0;

    assert_int_equal(EVP_Digest(der, (size_t)len, out, &n, EVP_sha256(), NULL), 1);
}

/* DANE digests of the test PKI. */
static void dane_digests(unsigned char spki_srv[32], unsigned char cert_ca[32])
{
    FILE *fp;
    X509 *x;
    unsigned char *der = NULL;
    int len;

    assert_non_null(fp = fopen(p("srv.pem"), "r"));
    assert_non_null(x = PEM_read_X509(fp, NULL, NULL, NULL));
    fclose(fp);
    len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    sha256(der, len, spki_srv);
    OPENSSL_free(der);
    X509_free(x);
    der = NULL;
    assert_non_null(fp = fopen(p("ca.pem"), "r"));
    assert_non_null(x = PEM_read_X509(fp, NULL, NULL, NULL));
    fclose(fp);
    len = i2d_X509(x, &der);
    sha256(der, len, cert_ca);
    OPENSSL_free(der);
    X509_free(x);
}

/* The `openssl x509 -fingerprint -sha256` value of a certificate file. */
static void cli_fingerprint(const char *file, char *out, size_t size)
{
    char cmd[600];

    snprintf(cmd, sizeof(cmd), "openssl x509 -noout -fingerprint -sha256 -in '%s'", p(file));
    FILE *fp = popen(cmd, "r");

    assert_non_null(fp);
    assert_non_null(fgets(out, (int)size, fp));
    pclose(fp);
    char *eq = strchr(out, '=');

    assert_non_null(eq);
    memmove(out, eq + 1, strlen(eq + 1) + 1);
    out[strcspn(out, "\n")] = 0;
}

#define F_PRESENT TLS_CERT_FLAG_PRESENT
#define F_ALT     TLS_CERT_FLAG_ALTNAME
#define F_TRUST   TLS_CERT_FLAG_TRUSTED
#define F_MATCH   TLS_CERT_FLAG_MATCHED
#define F_SECURE  TLS_CERT_FLAG_SECURED

enum srv_kind { SRV_RSA, SRV_EC, SRV_WILD, SRV_CNONLY, SRV_SELF, SRV_CHAIN };
enum dane_kind { DANE_NONE, DANE_EE_OK, DANE_EE_BAD, DANE_TA_OK };

/* Client levels against one server each: the peer flags and log word. */
static void test_client_levels(void **state)
{
    static const struct {
        const char *what;
        enum srv_kind srv;
        bool client_ca;
        int level;
        const char *host;
        const char *nexthop;
        const char *match; /* patterns or "FP-CERT", "FP-PKEY", digest */
        enum dane_kind dane;
        bool multi_labels;
        int want_status;
        const char *want_word;
    } cases[] = {
        {"may, CA known", SRV_RSA, true, TLS_LEV_MAY, "mx.example.test", "example.test", NULL, DANE_NONE,
         true, F_PRESENT | F_ALT | F_TRUST, "Trusted"},
        {"may, no CA", SRV_RSA, false, TLS_LEV_MAY, "mx.example.test", "example.test", NULL, DANE_NONE, true,
         F_PRESENT | F_ALT, "Untrusted"},
        {"encrypt by address", SRV_RSA, true, TLS_LEV_ENCRYPT, "127.0.0.1", "127.0.0.1", NULL, DANE_NONE,
         true, F_PRESENT | F_ALT | F_TRUST, "Trusted"},
        {"verify hostname", SRV_RSA, true, TLS_LEV_VERIFY, "mx.example.test", "example.test", "hostname",
         DANE_NONE, true, F_PRESENT | F_ALT | F_TRUST | F_MATCH, "Verified"},
        {"verify wrong hostname", SRV_RSA, true, TLS_LEV_VERIFY, "mx.other.test", "other.test", "hostname",
         DANE_NONE, true, F_PRESENT | F_ALT | F_TRUST, "Trusted"},
        {"verify untrusted", SRV_SELF, true, TLS_LEV_VERIFY, "mx.example.test", "example.test", "hostname",
         DANE_NONE, true, F_PRESENT | F_ALT, "Untrusted"},
        {"secure dot-nexthop", SRV_RSA, true, TLS_LEV_SECURE, "mx.example.test", "example.test",
         "nexthop dot-nexthop", DANE_NONE, true, F_PRESENT | F_ALT | F_TRUST | F_MATCH, "Verified"},
        {"secure nexthop only", SRV_RSA, true, TLS_LEV_SECURE, "mx.example.test", "example.test", "nexthop",
         DANE_NONE, true, F_PRESENT | F_ALT | F_TRUST, "Trusted"},
        {"secure .domain", SRV_RSA, true, TLS_LEV_SECURE, "mx.example.test", "x.test", ".example.test",
         DANE_NONE, true, F_PRESENT | F_ALT | F_TRUST | F_MATCH, "Verified"},
        {"secure exact domain", SRV_RSA, true, TLS_LEV_SECURE, "mx.example.test", "x.test", "mx.example.test",
         DANE_NONE, true, F_PRESENT | F_ALT | F_TRUST | F_MATCH, "Verified"},
        {"secure exact parent", SRV_RSA, true, TLS_LEV_SECURE, "mx.example.test", "x.test", "example.test",
         DANE_NONE, true, F_PRESENT | F_ALT | F_TRUST, "Trusted"},
        {"wildcard one label", SRV_WILD, true, TLS_LEV_VERIFY, "a.example.test", "example.test", "hostname",
         DANE_NONE, true, F_PRESENT | F_ALT | F_TRUST | F_MATCH, "Verified"},
        {"wildcard two labels allowed", SRV_WILD, true, TLS_LEV_VERIFY, "a.b.example.test", "example.test",
         "hostname", DANE_NONE, true, F_PRESENT | F_ALT | F_TRUST | F_MATCH, "Verified"},
        {"wildcard two labels refused", SRV_WILD, true, TLS_LEV_VERIFY, "a.b.example.test", "example.test",
         "hostname", DANE_NONE, false, F_PRESENT | F_ALT | F_TRUST, "Trusted"},
        {"wildcard not the parent", SRV_WILD, true, TLS_LEV_VERIFY, "example.test", "example.test",
         "hostname", DANE_NONE, true, F_PRESENT | F_ALT | F_TRUST, "Trusted"},
        {"CN without altnames", SRV_CNONLY, true, TLS_LEV_VERIFY, "mx.example.test", "example.test",
         "hostname", DANE_NONE, true, F_PRESENT | F_TRUST | F_MATCH, "Verified"},
        {"fingerprint cert", SRV_SELF, false, TLS_LEV_FPRINT, "mx.example.test", "example.test", "FP-CERT",
         DANE_NONE, true, F_PRESENT | F_ALT | F_TRUST | F_MATCH, "Verified"},
        {"fingerprint pkey", SRV_SELF, false, TLS_LEV_FPRINT, "mx.example.test", "example.test", "FP-PKEY",
         DANE_NONE, true, F_PRESENT | F_ALT | F_TRUST | F_MATCH, "Verified"},
        {"fingerprint mismatch", SRV_SELF, false, TLS_LEV_FPRINT, "mx.example.test", "example.test",
         "00:11:22:33", DANE_NONE, true, F_PRESENT | F_ALT, "Untrusted"},
        {"dane-ee 3 1 1", SRV_RSA, false, TLS_LEV_DANE, "mx.example.test", "example.test", NULL, DANE_EE_OK,
         true, F_PRESENT | F_ALT | F_TRUST | F_MATCH | F_SECURE, "Verified"},
        {"dane-ee mismatch", SRV_RSA, false, TLS_LEV_DANE_ONLY, "mx.example.test", "example.test", NULL,
         DANE_EE_BAD, true, F_PRESENT | F_ALT, "Untrusted"},
        {"dane-ta 2 0 1", SRV_CHAIN, false, TLS_LEV_DANE, "mx.example.test", "example.test", NULL, DANE_TA_OK,
         true, F_PRESENT | F_ALT | F_TRUST | F_MATCH | F_SECURE, "Verified"},
        {"dane-ta wrong name", SRV_CHAIN, false, TLS_LEV_DANE, "mx.other.test", "other.test", NULL,
         DANE_TA_OK, true, F_PRESENT | F_ALT, "Untrusted"},
    };
    unsigned char spki[32], ca[32], bad[32];
    char cert_fp[200], pkey_fp[200];

    (void)state;
    dane_digests(spki, ca);
    memset(bad, 0x5a, sizeof(bad));
    cli_fingerprint("self.pem", cert_fp, sizeof(cert_fp));
    {
        /* The public-key fingerprint as the library computes it, checked against OpenSSL's SPKI digest. */
        char cmd[600];
        snprintf(
            cmd, sizeof(cmd),
            "openssl x509 -in '%s' -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 "
            "-c -hex | sed 's/.*= //' | tr a-f A-F",
            p("self.pem"));
        FILE *fp = popen(cmd, "r");
        assert_non_null(fp);
        assert_non_null(fgets(pkey_fp, sizeof(pkey_fp), fp));
        pclose(fp);
        pkey_fp[strcspn(pkey_fp, "\n")] = 0;
    }
    TLS_APPL_STATE *servers[] = {
        [SRV_RSA] = server_app("srv.pem", "srv.key", NULL, NULL, false, NULL),
        [SRV_EC] = server_app(NULL, NULL, NULL, p("ecchain.pem"), false, NULL),
        [SRV_WILD] = server_app("wild.pem", "wild.key", NULL, NULL, false, NULL),
        [SRV_CNONLY] = server_app("cnonly.pem", "cnonly.key", NULL, NULL, false, NULL),
        [SRV_SELF] = server_app("self.pem", "self.key", NULL, NULL, false, NULL),
        [SRV_CHAIN] = server_app(NULL, NULL, NULL, p("chain.pem"), false, NULL),
    };
    TLS_APPL_STATE *with_ca = client_app(NULL, true, 0), *no_ca = client_app(NULL, false, 0);

    for (size_t i = 0; i < ARRAY_LEN(servers); i++)
        assert_non_null(servers[i]);
    assert_non_null(with_ca);
    assert_non_null(no_ca);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        SRV_RUN srv = {.app = servers[cases[i].srv]};
        CLI_RUN cli;
        ARGV *match = NULL;
        TLS_DANE *dane = NULL;

        if (cases[i].match) {
            const char *m = cases[i].match;
            match = argv_split(strcmp(m, "FP-CERT") == 0   ? cert_fp
                               : strcmp(m, "FP-PKEY") == 0 ? pkey_fp
                                                           : m,
                               " ");
        }
        if (cases[i].dane != DANE_NONE) {
            dane = tls_dane_alloc();
            tls_dane_add(dane, 0, 0, 1, bad, 32); /* PKIX-TA: ignored for SMTP */
            if (cases[i].dane == DANE_EE_OK)
                tls_dane_add(dane, 3, 1, 1, spki, 32);
            else if (cases[i].dane == DANE_EE_BAD)
                tls_dane_add(dane, 3, 1, 1, bad, 32);
            else
                tls_dane_add(dane, 2, 0, 1, ca, 32);
            assert_int_equal(tls_dane_usable(dane), 1);
        }
        var_tls_wildcard_matches_multiple_labels = cases[i].multi_labels;
        TLS_CLIENT_START_PROPS props = {.tls_level = cases[i].level,
                                        .host = cases[i].host,
                                        .nexthop = cases[i].nexthop,
                                        .serverid = "[127.0.0.1]:25",
                                        .protocols = ">=TLSv1",
                                        .cipher_grade = "medium",
                                        .exclude_ciphers = "",
                                        .matchargv = match,
                                        .mdalg = "sha256",
                                        .dane = dane};

        log_reset();
        connect_pair(&srv, cases[i].client_ca ? with_ca : no_ca, props, &cli);
        if (!cli.ok || !srv.ok || !cli.echoed)
            fail_msg("%s: handshake or echo failed\n%s", cases[i].what, vstring_str(logged));
        if (cli.peer_status != cases[i].want_status)
            fail_msg("%s: peer status 0x%x, want 0x%x", cases[i].what, (unsigned)cli.peer_status,
                     (unsigned)cases[i].want_status);
        char want[200];

        snprintf(want, sizeof(want),
                 "%s TLS connection established to mx.example.test[127.0.0.1]:25: TLSv1.3",
                 cases[i].want_word);
        if (!log_has(want))
            fail_msg("%s: no \"%s\" in\n%s", cases[i].what, want, vstring_str(logged));
        if (match)
            argv_free(match);
        tls_dane_free(dane);
    }
    var_tls_wildcard_matches_multiple_labels = true;
}

/* The exact log line and Received: text, with and without a client certificate. */
static void test_summary_and_received(void **state)
{
    TLS_APPL_STATE *sapp = server_app("srv.pem", "srv.key", NULL, NULL, true, NULL);
    TLS_APPL_STATE *capp = client_app("client.pem", true, 0);
    TLS_APPL_STATE *ecapp = server_app(NULL, NULL, NULL, p("ecchain.pem"), true, NULL);
    TLS_APPL_STATE *tls12 = server_app("srv.pem", "srv.key", NULL, NULL, false, "<=TLSv1.2");
    TLS_APPL_STATE *plain = client_app(NULL, true, 0);
    TLS_CLIENT_START_PROPS props = {.tls_level = TLS_LEV_MAY, .host = "mx.example.test", .mdalg = "sha256"};
    SRV_RUN srv = {.app = sapp};
    CLI_RUN cli;
    char fp[200];

    (void)state;
    assert_non_null(sapp);
    assert_non_null(capp);
    assert_non_null(ecapp);
    assert_non_null(tls12);
    log_reset();
    connect_pair(&srv, capp, props, &cli);
    assert_true(cli.ok && srv.ok && cli.echoed);
    assert_true(
        log_has("Trusted TLS connection established from client.example[127.0.0.1]: TLSv1.3 with cipher "
                "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 "
                "bits) server-digest SHA256 client-signature RSA-PSS (2048 bits) client-digest SHA256\n"));
    assert_string_equal(srv.received,
                        "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n"
                        "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest "
                        "SHA256\n"
                        "\t client-signature RSA-PSS (2048 bits) client-digest SHA256");
    assert_int_equal(srv.peer_status, F_PRESENT | F_ALT | F_TRUST);
    assert_string_equal(srv.cn, "client.example.test");
    assert_string_equal(srv.issuer, "Test CA");
    cli_fingerprint("client.pem", fp, sizeof(fp));
    assert_string_equal(srv.cert_fp, fp);
    assert_int_equal(strlen(srv.pkey_fp), 95);

    /* No client certificate: Anonymous, no client line. */
    srv = (SRV_RUN){.app = sapp};
    log_reset();
    connect_pair(&srv, plain, props, &cli);
    assert_true(cli.ok && srv.ok);
    assert_true(log_has("Anonymous TLS connection established from client.example[127.0.0.1]: TLSv1.3 with "
                        "cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature "
                        "RSA-PSS (2048 bits) server-digest SHA256\n"));
    assert_string_equal(srv.received,
                        "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n"
                        "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest "
                        "SHA256");
    assert_string_equal(srv.cn, "");
    assert_string_equal(srv.cert_fp, "");

    /* ECDSA server: the curve instead of bits. */
    srv = (SRV_RUN){.app = ecapp};
    connect_pair(&srv, plain, props, &cli);
    assert_true(cli.ok && srv.ok);
    assert_string_equal(cli.srvr_sig, "ECDSA");
    assert_string_equal(cli.srvr_curve, "prime256v1");
    assert_true(strstr(srv.received, "server-signature ECDSA (prime256v1) server-digest SHA256") != NULL);

    /* TLSv1.2: no details, as Postfix 3.7 logs it. */
    srv = (SRV_RUN){.app = tls12};
    log_reset();
    connect_pair(&srv, plain, props, &cli);
    assert_true(cli.ok && srv.ok && cli.echoed);
    assert_string_equal(cli.protocol, "TLSv1.2");
    assert_string_equal(cli.cipher, "ECDHE-RSA-AES256-GCM-SHA384");
    assert_string_equal(srv.received, "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)");
    assert_true(
        log_has("Trusted TLS connection established to mx.example.test[127.0.0.1]:25: TLSv1.2 with cipher "
                "ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)\n"));
}

/* Asked and required client certificates. */
static void test_client_certificates(void **state)
{
    static const struct {
        const char *what;
        const char *client_cert;
        bool ask, require;
        bool want_ok;
        int want_status;
    } cases[] = {
        {"ask, none sent", NULL, true, false, true, 0},
        {"ask, trusted", "client.pem", true, false, true, F_PRESENT | F_ALT | F_TRUST},
        {"ask, self-signed", "self.pem", true, false, true, F_PRESENT | F_ALT},
        {"not asked", "client.pem", false, false, true, 0},
        {"require, none sent", NULL, true, true, false, 0},
        {"require, self-signed", "self.pem", true, true, false, 0},
        {"require, trusted", "client.pem", true, true, true, F_PRESENT | F_ALT | F_TRUST},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        TLS_APPL_STATE *sapp = server_app("srv.pem", "srv.key", NULL, NULL, cases[i].ask, NULL);
        TLS_APPL_STATE *capp = client_app(cases[i].client_cert, true, 0);
        SRV_RUN srv = {.app = sapp, .requirecert = cases[i].require};
        CLI_RUN cli;
        TLS_CLIENT_START_PROPS props = {.tls_level = TLS_LEV_ENCRYPT, .host = "mx.example.test"};

        assert_non_null(sapp);
        assert_non_null(capp);
        log_reset();
        connect_pair(&srv, capp, props, &cli);
        if (srv.ok != cases[i].want_ok)
            fail_msg("%s: server handshake %d\n%s", cases[i].what, srv.ok, vstring_str(logged));
        if (srv.ok && srv.peer_status != cases[i].want_status)
            fail_msg("%s: status 0x%x", cases[i].what, (unsigned)srv.peer_status);
        if (!cases[i].want_ok)
            assert_true(log_has("SSL_accept error from client.example[127.0.0.1]: "));
    }
}

/* Resumption: the client cache, and tickets shared by two server contexts. */
static void test_resumption(void **state)
{
    TLS_APPL_STATE *s1 = server_app("srv.pem", "srv.key", NULL, NULL, false, NULL);
    TLS_APPL_STATE *s2 = server_app("srv.pem", "srv.key", NULL, NULL, false, NULL);
    TLS_APPL_STATE *capp = client_app(NULL, true, 3600);
    TLS_APPL_STATE *nocache = client_app(NULL, true, 0);
    TLS_CLIENT_START_PROPS props = {.tls_level = TLS_LEV_VERIFY,
                                    .host = "mx.example.test",
                                    .nexthop = "example.test",
                                    .serverid = "[127.0.0.1]:25"};
    SRV_RUN srv;
    CLI_RUN cli;

    (void)state;
    log_reset();
    srv = (SRV_RUN){.app = s1};
    connect_pair(&srv, capp, props, &cli);
    assert_true(cli.ok && cli.echoed);
    assert_false(cli.reused);
    srv = (SRV_RUN){.app = s1};
    connect_pair(&srv, capp, props, &cli);
    assert_true(cli.ok && cli.echoed && cli.reused && srv.reused);
    assert_int_equal(cli.peer_status, F_PRESENT | F_ALT | F_TRUST | F_MATCH);
    /* Another smtpd process (context) decrypts the ticket with the shared key. */
    srv = (SRV_RUN){.app = s2};
    connect_pair(&srv, capp, props, &cli);
    if (!cli.ok || !cli.reused || !srv.reused)
        fail_msg("shared ticket: %d %d %d\n%s", cli.ok, cli.reused, srv.reused, vstring_str(logged));
    assert_int_equal(access(p("smtpd_tls_ticket.key"), R_OK), 0);
    /* Another serverid, or no cache: a full handshake. */
    props.serverid = "[127.0.0.2]:25";
    srv = (SRV_RUN){.app = s1};
    connect_pair(&srv, capp, props, &cli);
    assert_true(cli.ok && !cli.reused);
    srv = (SRV_RUN){.app = s1};
    connect_pair(&srv, nocache, props, &cli);
    assert_true(cli.ok && !cli.reused);
}

/* STARTTLS injection: plaintext pipelined after STARTTLS is dropped. */
static void test_starttls_injection(void **state)
{
    TLS_APPL_STATE *sapp = server_app("srv.pem", "srv.key", NULL, NULL, false, NULL);
    TLS_APPL_STATE *capp = client_app(NULL, true, 0);
    SRV_RUN srv = {.app = sapp, .starttls = true};
    CLI_RUN cli;
    TLS_CLIENT_START_PROPS props = {.tls_level = TLS_LEV_MAY, .host = "mx.example.test"};

    (void)state;
    connect_pair(&srv, capp, props, &cli);
    /* The first line the server echoes through TLS is "hello", not "RSET". */
    assert_true(cli.ok && srv.ok && cli.echoed);
}

/* A silent peer: the handshake and a read both end with a timeout. */
static void test_timeouts(void **state)
{
    TLS_APPL_STATE *capp = client_app(NULL, true, 0);
    int fds[2];

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    VSTREAM *stream = vstream_fdopen(fds[1], O_RDWR);
    TLS_CLIENT_START_PROPS props = {.stream = stream,
                                    .timeout = 1,
                                    .tls_level = TLS_LEV_MAY,
                                    .host = "mx.example.test",
                                    .namaddr = "silent[127.0.0.1]:25"};

    log_reset();
    assert_null(tls_client_start(capp, &props));
    assert_true(log_has("SSL_connect error to silent[127.0.0.1]:25: Connection timed out"));
    /* The descriptor is back in blocking mode. */
    assert_int_equal(fcntl(fds[1], F_GETFL) & O_NONBLOCK, 0);
    vstream_fclose(stream);
    close(fds[0]);

    /* After a handshake, a read that gets nothing times out. */
    TLS_APPL_STATE *sapp = server_app("srv.pem", "srv.key", NULL, NULL, false, NULL);
    SRV_RUN srv = {.app = sapp};
    pthread_t tid;
    VSTRING *line = vstring_alloc(10);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    srv.fd = fds[0];
    assert_int_equal(pthread_create(&tid, NULL, server_thread, &srv), 0);
    stream = vstream_fdopen(fds[1], O_RDWR);
    props.stream = stream;
    props.timeout = 10;
    TLS_SESS_STATE *s = tls_client_start(capp, &props);

    assert_non_null(s);
    vstream_set_timeout(stream, 1);
    assert_int_equal(vstream_fgets_limit(line, stream, VSTREAM_NO_LIMIT), VSTREAM_LINE_EOF);
    assert_true(vstream_ftimeout(stream));
    assert_int_equal(vstream_errno(stream), ETIMEDOUT);
    tls_session_stop(capp, stream, 1, true, s);
    vstream_fclose(stream);
    assert_int_equal(pthread_join(tid, NULL), 0);
    vstring_free(line);
}

/* Credentials: the forms that load and the ones that must not. */
static void test_credentials(void **state)
{
    static const struct {
        const char *what;
        const char *cert, *key, *eccert, *chain;
        bool want;
        const char *want_log;
    } cases[] = {
        {"rsa pair", "srv.pem", "srv.key", NULL, NULL, true, NULL},
        {"rsa and ec", "srv.pem", "srv.key", "srvec.pem", NULL, true, NULL},
        {"chain files, both", NULL, NULL, NULL, "chain.pem ecchain.pem", true, NULL},
        {"certificate first", NULL, NULL, NULL, "certfirst.pem", true, NULL},
        {"key/cert mismatch", "srv.pem", "client.key", NULL, NULL, false, "client.key"},
        {"missing file", "nonexistent.pem", "srv.key", NULL, NULL, false, "nonexistent.pem"},
        {"key only", "srv.key", "srv.key", NULL, NULL, false, "cannot get certificate"},
        {"nothing", NULL, NULL, NULL, NULL, false, "cannot load certificate and key data"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        VSTRING *chain = vstring_alloc(100);

        if (cases[i].chain) {
            ARGV *files = argv_split(cases[i].chain, " ");

            for (size_t f = 0; f < files->argc; f++)
                vstring_sprintf_append(chain, "%s%s", f ? ", " : "", p(files->argv[f]));
            argv_free(files);
        }
        log_reset();
        TLS_APPL_STATE *app = server_app(cases[i].cert, cases[i].key, cases[i].eccert,
                                         cases[i].chain ? vstring_str(chain) : NULL, false, NULL);

        if ((app != NULL) != cases[i].want)
            fail_msg("%s: got %s\n%s", cases[i].what, app ? "a context" : "NULL", vstring_str(logged));
        if (cases[i].want_log && !log_has(cases[i].want_log))
            fail_msg("%s: no \"%s\" in\n%s", cases[i].what, cases[i].want_log, vstring_str(logged));
        vstring_free(chain);
    }
}

/* Protocol lists and cipher grades. */
static void test_protocols_and_grades(void **state)
{
    static const struct {
        const char *list;
        bool valid;
    } protos[] = {
        {">=TLSv1", true},
        {"<=TLSv1.3", true},
        {">=TLSv1.2, <=TLSv1.3", true},
        {"!SSLv2, !SSLv3, !TLSv1", true},
        {"!SSLv2:!SSLv3", true},
        {"TLSv1.2 TLSv1.3", true},
        {"", true},
        {">=TLSv1.4", false},
        {"!TLSv9", false},
        {"bogus", false},
        {">=TLSv1.3, <=TLSv1.2", false},
        {"SSLv2", false},
    };
    static const struct {
        const char *grade;
        bool valid;
    } grades[] = {{"high", true}, {"medium", true}, {"low", true},     {"export", true},
                  {"null", true}, {"MEDIUM", true}, {"strong", false}, {"", false}};
    VSTRING *why = vstring_alloc(100);

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(protos); i++) {
        vstring_truncate(why, 0);
        if (tls_protocols_valid(protos[i].list, why) != protos[i].valid)
            fail_msg("protocols \"%s\": want %d", protos[i].list, protos[i].valid);
        if (!protos[i].valid)
            assert_true(strstr(vstring_str(why), "invalid TLS protocol list") != NULL);
    }
    for (size_t i = 0; i < ARRAY_LEN(grades); i++)
        if (tls_cipher_grade_valid(grades[i].grade, why) != grades[i].valid)
            fail_msg("grade \"%s\": want %d", grades[i].grade, grades[i].valid);
    vstring_free(why);

    /* Mandatory protocols do take effect: a TLSv1.3-only server and a TLSv1.2-only client fail. */
    TLS_APPL_STATE *sapp =
        server_app("srv.pem", "srv.key", NULL, NULL, false, "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.2");
    TLS_APPL_STATE *capp = client_app(NULL, true, 0);
    SRV_RUN srv = {.app = sapp};
    CLI_RUN cli;
    TLS_CLIENT_START_PROPS props = {
        .tls_level = TLS_LEV_ENCRYPT, .host = "mx.example.test", .protocols = "<=TLSv1.2"};

    log_reset();
    connect_pair(&srv, capp, props, &cli);
    assert_false(cli.ok);
    assert_false(srv.ok);
    assert_true(log_has("SSL_connect error to mx.example.test[127.0.0.1]:25: "));
    assert_null(server_app("srv.pem", "srv.key", NULL, NULL, false, ">=TLSv2"));
}

/* Levels by name, and fingerprints of fixed input. */
static void test_levels_and_fingerprints(void **state)
{
    static const struct {
        const char *name;
        int level;
    } levels[] = {
        {"none", TLS_LEV_NONE},          {"may", TLS_LEV_MAY},       {"Encrypt", TLS_LEV_ENCRYPT},
        {"fingerprint", TLS_LEV_FPRINT}, {"dane", TLS_LEV_DANE},     {"dane-only", TLS_LEV_DANE_ONLY},
        {"verify", TLS_LEV_VERIFY},      {"secure", TLS_LEV_SECURE}, {"bogus", TLS_LEV_INVALID}};
    static const struct {
        const char *mdalg;
        const char *want;
    } fps[] = {
        {"md5", "90:01:50:98:3C:D2:4F:B0:D6:96:3F:7D:28:E1:7F:72"},
        {"sha1", "A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D"},
        {"sha256",
         "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"},
        {"nosuchdigest", NULL},
    };
    VSTRING *buf = vstring_alloc(100);

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(levels); i++)
        assert_int_equal(tls_level_lookup(levels[i].name), levels[i].level);
    assert_string_equal(tls_level_name(TLS_LEV_HALF_DANE), "dane");
    assert_string_equal(tls_level_name(TLS_LEV_SECURE), "secure");
    for (size_t i = 0; i < ARRAY_LEN(fps); i++) {
        const char *got = tls_fingerprint(buf, fps[i].mdalg, (const unsigned char *)"abc", 3);

        if (fps[i].want)
            assert_string_equal(got, fps[i].want);
        else
            assert_null(got);
    }
    vstring_free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_and_fingerprints),
        cmocka_unit_test(test_protocols_and_grades),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_client_levels),
        cmocka_unit_test(test_summary_and_received),
        cmocka_unit_test(test_client_certificates),
        cmocka_unit_test(test_resumption),
        cmocka_unit_test(test_starttls_injection),
        cmocka_unit_test(test_timeouts),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
