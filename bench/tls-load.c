/*
 * tls-load - the load generator and sink of bench/tls: SMTP with STARTTLS
 * (OpenSSL), which Debian's smtp-source and smtp-sink cannot speak.
 *
 *   tls-load source [-n] [-R] [-s SESSIONS] [-m COUNT] [-l SIZE] HOST:PORT
 *       COUNT sessions, SESSIONS at a time (one process each): connect,
 *       greeting, EHLO, STARTTLS, handshake, EHLO, then one message
 *       (MAIL, RCPT, DATA, SIZE bytes of body) unless -n, then QUIT.
 *       -R resumes the previous session of the same process (RFC 5077
 *       ticket or session id) instead of a full handshake each time.
 *       Prints "sessions=N resumed=R failed=F" and exits 1 if any failed.
 *   tls-load sink [-c CERT -k KEY] [-4 PCT] [-5 PCT] PORT
 *       An ESMTP server on 127.0.0.1:PORT offering STARTTLS (and taking
 *       mail in plaintext too), one process per connection; every
 *       accepted message prints "mesg=N" (N: messages so far) on stdout;
 *       DATA without a recipient gets 554.
 *       Without -c/-k: plaintext only (no STARTTLS offered).
 *       Smart mode (bench/run's relay-smart): -4 PCT answers the end of
 *       DATA of PCT % of the messages with 450, -5 PCT another PCT % with
 *       550, as a greylisting server would: a message is known by a hash
 *       of its content (the MTA's Received: header makes it unique, and a
 *       retry sends the same bytes); the k-th new message of the sink's
 *       life gets slot (k * 37) % 100: below PCT4 450, below PCT4+PCT5
 *       550, else 250; a message seen before gets 250. So every deferred
 *       message is retried exactly once, and the number of retries does
 *       not depend on luck. Mail from the null sender (bounces) is always
 *       accepted. Each smart-mode DATA prints "data=CODE" (250, 450 or
 *       550) on stdout, or "retry=250" for a message seen before.
 *
 * Built by bench/tls (cc ... -lssl -lcrypto); not part of Postern.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* A connection: plain socket, or SSL once started. */
typedef struct {
    int fd;
    SSL *ssl;
    char buf[16384];
    size_t len;
} CONN;

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "tls-load: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static int conn_write(CONN *c, const char *data, size_t len)
{
    while (len > 0) {
        int n = c->ssl ? SSL_write(c->ssl, data, (int)len) : (int)write(c->fd, data, len);

        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int conn_printf(CONN *c, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    return conn_write(c, line, (size_t)n);
}

/* One line (without CRLF) into LINE; -1 on EOF/error. */
static int conn_line(CONN *c, char *line, size_t size)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);

        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            size_t copy = n < size - 1 ? n : size - 1;

            memcpy(line, c->buf, copy);
            line[copy] = 0;
            if (copy && line[copy - 1] == '\r')
                line[copy - 1] = 0;
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return 0;
        }
        if (c->len == sizeof(c->buf))
            c->len = 0; /* overlong line: drop it */
        int got = c->ssl ? SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len))
                         : (int)read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
        if (got <= 0)
            return -1;
        c->len += (size_t)got;
    }
}

/* A whole (multi-line) reply; returns its code, -1 on error. */
static int conn_reply(CONN *c)
{
    char line[1024];

    do {
        if (conn_line(c, line, sizeof(line)) < 0 || strlen(line) < 3)
            return -1;
    } while (line[3] == '-');
    return atoi(line);
}

static int tcp_connect(const char *host, int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;

    if (fd < 0 || inet_pton(AF_INET, host, &sin.sin_addr) != 1)
        die("bad address %s", host);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* One client session; 0 on success. *SESS is the session to resume. */
static int source_session(SSL_CTX *ctx, const char *host, int port, int nomail, const char *body,
                          SSL_SESSION **sess, int *resumed)
{
    CONN c = {.fd = tcp_connect(host, port)};
    int ok = -1;

    if (c.fd < 0)
        return -1;
    if (conn_reply(&c) != 220 || conn_printf(&c, "EHLO client.example.test\r\n") < 0 || conn_reply(&c) != 250 ||
        conn_printf(&c, "STARTTLS\r\n") < 0 || conn_reply(&c) != 220)
        goto done;
    c.ssl = SSL_new(ctx);
    SSL_set_fd(c.ssl, c.fd);
    if (*sess)
        SSL_set_session(c.ssl, *sess);
    if (SSL_connect(c.ssl) != 1)
        goto done;
    if (SSL_session_reused(c.ssl))
        (*resumed)++;
    if (conn_printf(&c, "EHLO client.example.test\r\n") < 0 || conn_reply(&c) != 250)
        goto done;
    if (!nomail) {
        if (conn_printf(&c, "MAIL FROM:<bench@example.test>\r\n") < 0 || conn_reply(&c) != 250 ||
            conn_printf(&c, "RCPT TO:<sink@example.test>\r\n") < 0 || conn_reply(&c) != 250 ||
            conn_printf(&c, "DATA\r\n") < 0 || conn_reply(&c) != 354 || conn_write(&c, body, strlen(body)) < 0 ||
            conn_printf(&c, ".\r\n") < 0 || conn_reply(&c) != 250)
            goto done;
    }
    if (conn_printf(&c, "QUIT\r\n") < 0 || conn_reply(&c) != 221)
        goto done;
    ok = 0;
done:
    if (c.ssl) {
        if (ok == 0) {
            /* A resumed TLS 1.3 session may bring no new ticket: keep the old one. */
            SSL_SESSION *next = SSL_get1_session(c.ssl);

            if (next && SSL_SESSION_is_resumable(next)) {
                if (*sess)
                    SSL_SESSION_free(*sess);
                *sess = next;
            } else if (next) {
                SSL_SESSION_free(next);
            }
        }
        SSL_shutdown(c.ssl);
        SSL_free(c.ssl);
    }
    close(c.fd);
    return ok;
}

static int source_main(int argc, char **argv)
{
    int sessions = 1, count = 1, size = 1024, nomail = 0, resume = 0, ch;

    while ((ch = getopt(argc, argv, "nRs:m:l:")) != -1) {
        switch (ch) {
        case 'n': nomail = 1; break;
        case 'R': resume = 1; break;
        case 's': sessions = atoi(optarg); break;
        case 'm': count = atoi(optarg); break;
        case 'l': size = atoi(optarg); break;
        default: die("usage: source [-n] [-R] [-s SESSIONS] [-m COUNT] [-l SIZE] HOST:PORT");
        }
    }
    if (optind != argc - 1 || sessions < 1 || count < 1 || size < 0)
        die("usage: source [-n] [-R] [-s SESSIONS] [-m COUNT] [-l SIZE] HOST:PORT");
    char *host = strdup(argv[optind]);
    char *colon = strrchr(host, ':');

    if (colon == NULL)
        die("HOST:PORT expected");
    *colon = 0;
    int port = atoi(colon + 1);

    /* The body: lines of 78 characters up to SIZE bytes, then the headers. */
    char *body = malloc((size_t)size + 200);
    int len = sprintf(body, "From: bench@example.test\r\nTo: sink@example.test\r\nSubject: bench\r\n\r\n");
    while (len < size) {
        int line = size - len < 80 ? size - len : 80;
        memset(body + len, 'x', (size_t)line);
        len += line;
        if (line >= 2) {
            body[len - 2] = '\r';
            body[len - 1] = '\n';
        }
    }
    body[len] = 0;
    if (len < 2 || body[len - 1] != '\n')
        strcpy(body + len, "\r\n");

    int *stats = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *next = stats, *done = stats + 1, *resumed_total = stats + 2, *failed = stats + 3;

    for (int p = 0; p < sessions; p++) {
        pid_t pid = fork();

        if (pid < 0)
            die("fork: %s", strerror(errno));
        if (pid == 0) {
            SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
            SSL_SESSION *sess = NULL;

            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
            SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
            while (__atomic_fetch_add(next, 1, __ATOMIC_SEQ_CST) < count) {
                int resumed = 0;

                if (!resume && sess) {
                    SSL_SESSION_free(sess);
                    sess = NULL;
                }
                if (source_session(ctx, host, port, nomail, body, &sess, &resumed) == 0)
                    __atomic_fetch_add(done, 1, __ATOMIC_SEQ_CST);
                else
                    __atomic_fetch_add(failed, 1, __ATOMIC_SEQ_CST);
                __atomic_fetch_add(resumed_total, resumed, __ATOMIC_SEQ_CST);
            }
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
        ;
    printf("sessions=%d resumed=%d failed=%d\n", *done, *resumed_total, *failed);
    return *failed ? 1 : 0;
}

/* Shares of messages that get 450 and 550 (smart mode; 0: none). */
static int sink_pct4, sink_pct5;

/* Messages seen, by content hash (smart mode): open addressing over a
 * table shared by every session process; 0 marks a free slot. */
#define SINK_SEEN_SLOTS (1 << 18)
static unsigned long *sink_seen;

/* 64-bit FNV-1a of LEN bytes, continuing from H. */
static unsigned long fnv1a(unsigned long h, const char *data, size_t len)
{
    while (len-- > 0)
        h = (h ^ (unsigned char)*data++) * 0x100000001b3UL;
    return h;
}

/* Records HASH; 1 when it was there already (a retry). */
static int sink_seen_before(unsigned long hash)
{
    unsigned long key = hash | 1, i = key % SINK_SEEN_SLOTS;

    for (;; i = (i + 1) % SINK_SEEN_SLOTS) {
        unsigned long old = 0;

        if (__atomic_compare_exchange_n(sink_seen + i, &old, key, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return 0;
        if (old == key)
            return 1;
    }
}

/* The end-of-DATA reply to new message number K (0-based, counted over
 * the sink's life); NULL: accept. */
static const char *sink_message_reply(long k)
{
    int slot = (int)((k * 37) % 100);

    if (slot < sink_pct4)
        return "450 4.7.1 Greylisted, try again later (tls-load)\r\n";
    if (slot < sink_pct4 + sink_pct5)
        return "550 5.7.1 Message content rejected (tls-load)\r\n";
    return NULL;
}

/* One server session of the sink. COUNTER[0]: messages accepted, [1]:
 * new messages (smart mode). */
static void sink_session(SSL_CTX *ctx, int fd, long *counter)
{
    CONN c = {.fd = fd};
    char line[1024];
    int data = 0, rcpts = 0, null_sender = 0;
    int smart = (sink_pct4 || sink_pct5);
    unsigned long hash = 0;

    conn_printf(&c, "220 sink.example.test ESMTP tls-load\r\n");
    while (conn_line(&c, line, sizeof(line)) == 0) {
        if (data) {
            if (strcmp(line, ".") != 0) {
                if (smart)
                    hash = fnv1a(fnv1a(hash, line, strlen(line)), "\n", 1);
                continue;
            }
            data = 0;
            rcpts = 0;
            if (smart && !null_sender) {
                if (sink_seen_before(hash)) {
                    printf("retry=250\n");
                } else {
                    const char *reject = sink_message_reply(__atomic_fetch_add(counter + 1, 1, __ATOMIC_SEQ_CST));

                    printf("data=%.3s\n", reject ? reject : "250");
                    if (reject) {
                        fflush(stdout);
                        conn_printf(&c, "%s", reject);
                        continue;
                    }
                }
            }
            printf("mesg=%ld\n", __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST));
            fflush(stdout);
            conn_printf(&c, "250 2.0.0 Ok: queued\r\n");
            continue;
        }
        if (strncasecmp(line, "EHLO", 4) == 0) {
            conn_printf(&c, "250-sink.example.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n%s250 SIZE 0\r\n",
                        c.ssl || ctx == NULL ? "" : "250-STARTTLS\r\n");
        } else if (strncasecmp(line, "HELO", 4) == 0) {
            conn_printf(&c, "250 sink.example.test\r\n");
        } else if (strncasecmp(line, "STARTTLS", 8) == 0 && !c.ssl && ctx != NULL) {
            conn_printf(&c, "220 2.0.0 Ready to start TLS\r\n");
            c.len = 0;
            c.ssl = SSL_new(ctx);
            SSL_set_fd(c.ssl, fd);
            if (SSL_accept(c.ssl) != 1)
                break;
        } else if (strncasecmp(line, "MAIL", 4) == 0) {
            rcpts = 0;
            null_sender = strstr(line, "<>") != NULL;
            conn_printf(&c, "250 2.1.0 Ok\r\n");
        } else if (strncasecmp(line, "RCPT", 4) == 0) {
            rcpts++;
            conn_printf(&c, "250 2.1.5 Ok\r\n");
        } else if (strncasecmp(line, "RSET", 4) == 0) {
            rcpts = 0;
            conn_printf(&c, "250 2.0.0 Ok\r\n");
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            if (rcpts == 0) {
                conn_printf(&c, "554 5.5.1 Error: no valid recipients\r\n");
            } else {
                conn_printf(&c, "354 End data with <CR><LF>.<CR><LF>\r\n");
                data = 1;
                hash = 0xcbf29ce484222325UL;
            }
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            conn_printf(&c, "221 2.0.0 Bye\r\n");
            break;
        } else {
            conn_printf(&c, "250 2.0.0 Ok\r\n");
        }
    }
    if (c.ssl) {
        SSL_shutdown(c.ssl);
        SSL_free(c.ssl);
    }
    close(fd);
}

static int sink_main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL;
    const char *usage = "usage: sink [-c CERT -k KEY] [-4 PCT] [-5 PCT] PORT";
    SSL_CTX *ctx = NULL;
    int ch;

    while ((ch = getopt(argc, argv, "c:k:4:5:")) != -1) {
        if (ch == 'c')
            cert = optarg;
        else if (ch == 'k')
            key = optarg;
        else if (ch == '4')
            sink_pct4 = atoi(optarg);
        else if (ch == '5')
            sink_pct5 = atoi(optarg);
        else
            die("%s", usage);
    }
    if (!cert != !key || optind != argc - 1 || sink_pct4 < 0 || sink_pct5 < 0 || sink_pct4 + sink_pct5 > 100)
        die("%s", usage);
    if (cert) {
        ctx = SSL_CTX_new(TLS_server_method());
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
            die("cannot load %s / %s", cert, key);
    }
    long *counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    sink_seen = mmap(NULL, SINK_SEEN_SLOTS * sizeof(*sink_seen), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counter == MAP_FAILED || sink_seen == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[optind]))};
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 1024) < 0)
        die("bind/listen: %s", strerror(errno));
    signal(SIGCHLD, SIG_IGN);
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0)
            continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (fork() == 0) {
            close(lfd);
            sink_session(ctx, fd, counter);
            _exit(0);
        }
        close(fd);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: tls-load source|sink ...");
    signal(SIGPIPE, SIG_IGN);
    if (strcmp(argv[1], "source") == 0)
        return source_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "sink") == 0)
        return sink_main(argc - 1, argv + 1);
    die("usage: tls-load source|sink ...");
}
