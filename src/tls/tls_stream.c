/*
 * tls_stream - the VSTREAM bottom layer over SSL_read()/SSL_write(), and
 * the time-limited handshake and shutdown.
 *
 * The descriptor is non-blocking while TLS runs; every SSL call that wants
 * to read or write waits with poll(2) for the time left, so one limit
 * covers the whole call however many records it takes. The SSL object
 * reads the raw socket (SSL_set_fd()): bytes a peer pipelined into the
 * VSTREAM's buffer before the handshake were dropped by vstream_set_io()
 * and never reach TLS (the STARTTLS injection defence).
 *
 * Library-internal functions (tls_int.h): tls_stream_handshake(),
 * tls_stream_attach(), tls_stream_detach(), tls_stream_log_failure().
 *
 * Errors: the I/O functions return -1 with errno (ETIMEDOUT when the limit
 * expired, EPIPE when the peer broke the TLS protocol; the OpenSSL reason
 * is logged as "TLS library problem"), 0 at the end of the stream.
 */
#include "sys_defs.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/err.h>

#include "iostuff.h"
#include "msg.h"
#include "tls_int.h"

enum tls_op { TLS_OP_READ, TLS_OP_WRITE, TLS_OP_ACCEPT, TLS_OP_CONNECT, TLS_OP_SHUTDOWN };

/*
 * Run one SSL operation until it completes, fails, or the time limit
 * (milliseconds, negative: none) expires. Returns the SSL result; on
 * failure *ssl_err holds SSL_get_error()'s verdict and errno the system
 * error (ETIMEDOUT for the limit).
 */
static int tls_stream_op(SSL *ssl, int fd, enum tls_op op, void *buf, int len, int timeout_ms, int *ssl_err)
{
    int64_t deadline = timeout_ms >= 0 ? iostuff_clock_ms() + timeout_ms : 0;

    for (;;) {
        int ret = 0;

        ERR_clear_error();
        errno = 0;
        switch (op) {
        case TLS_OP_READ:
            ret = SSL_read(ssl, buf, len);
            break;
        case TLS_OP_WRITE:
            ret = SSL_write(ssl, buf, len);
            break;
        case TLS_OP_ACCEPT:
            ret = SSL_accept(ssl);
            break;
        case TLS_OP_CONNECT:
            ret = SSL_connect(ssl);
            break;
        case TLS_OP_SHUTDOWN:
            ret = SSL_shutdown(ssl);
            if (ret == 0) /* close_notify sent; we do not wait for the peer's */
                ret = 1;
            break;
        }
        if (ret > 0)
            return ret;
        int saved_errno = errno;
        int err = SSL_get_error(ssl, ret);
        int wait_status;

        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            *ssl_err = err;
            errno = saved_errno;
            return ret;
        }
        int left = -1;

        if (timeout_ms >= 0) {
            int64_t ms = deadline - iostuff_clock_ms();

            left = ms > 0 ? (int)ms : 0;
        }
        wait_status = err == SSL_ERROR_WANT_READ ? read_wait(fd, left) : write_wait(fd, left);
        if (wait_status < 0) {
            *ssl_err = SSL_ERROR_SYSCALL;
            return -1;
        }
    }
}

/* VSTREAM read function: decrypted bytes, 0 at the end, -1 with errno. */
static ssize_t tls_stream_read(int fd, void *buf, size_t len, int timeout_ms, void *context)
{
    TLS_SESS_PRIV *priv = context;
    int ssl_err = 0;
    int n = tls_stream_op(priv->pub.ssl, fd, TLS_OP_READ, buf, len > INT_MAX ? INT_MAX : (int)len, timeout_ms,
                          &ssl_err);

    if (n > 0)
        return n;
    switch (ssl_err) {
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno == 0)
            return 0;
        return -1;
    default:
        tls_print_errors();
        errno = EPIPE;
        return -1;
    }
}

/* VSTREAM write function: bytes written (all of LEN), -1 with errno. */
static ssize_t tls_stream_write(int fd, const void *buf, size_t len, int timeout_ms, void *context)
{
    TLS_SESS_PRIV *priv = context;
    int ssl_err = 0;
    int n = tls_stream_op(priv->pub.ssl, fd, TLS_OP_WRITE, (void *)buf, len > INT_MAX ? INT_MAX : (int)len,
                          timeout_ms, &ssl_err);

    if (n > 0)
        return n;
    if (ssl_err == SSL_ERROR_SSL) {
        tls_print_errors();
        errno = EPIPE;
    } else if (errno == 0) {
        errno = EPIPE;
    }
    return -1;
}

/* Log why a handshake failed: "SSL_accept error from NAMADDR: REASON". */
void tls_stream_log_failure(const char *what, const char *role, const char *namaddr, int status, int err)
{
    if (err == SSL_ERROR_SYSCALL && errno == 0) {
        msg_info("%s error %s %s: lost connection", what, role, namaddr);
    } else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
        if (err == SSL_ERROR_ZERO_RETURN)
            msg_info("%s error %s %s: lost connection", what, role, namaddr);
        else
            msg_info("%s error %s %s: %s", what, role, namaddr, strerror(errno));
    } else {
        msg_info("%s error %s %s: %d", what, role, namaddr, status);
        tls_print_errors();
    }
    ERR_clear_error();
}

/*
 * Run the handshake within TIMEOUT_MS with the descriptor non-blocking
 * (its old mode is restored by tls_sess_free() or tls_stream_detach()).
 * Returns 1 on success, else the SSL result after logging the failure.
 */
int tls_stream_handshake(TLS_SESS_PRIV *priv, bool server, int timeout_ms)
{
    int ssl_err = 0;
    int old = non_blocking(priv->fd, true);

    if (priv->saved_nonblock < 0)
        priv->saved_nonblock = old;
    int ret = tls_stream_op(priv->pub.ssl, priv->fd, server ? TLS_OP_ACCEPT : TLS_OP_CONNECT, NULL, 0,
                            timeout_ms, &ssl_err);

    if (ret <= 0)
        tls_stream_log_failure(server ? "SSL_accept" : "SSL_connect", server ? "from" : "to",
                               priv->pub.namaddr, ret, ssl_err);
    return ret;
}

/* Route STREAM's I/O through the session (the handshake is done). */
void tls_stream_attach(TLS_SESS_PRIV *priv, VSTREAM *stream)
{
    (void)vstream_set_io(stream, tls_stream_read, tls_stream_write, priv);
}

/*
 * Flush STREAM through TLS, send close_notify (unless FAILURE), put the
 * plain I/O back. The descriptor's blocking mode comes back with
 * tls_sess_free().
 */
void tls_stream_detach(TLS_SESS_PRIV *priv, VSTREAM *stream, int timeout_ms, bool failure)
{
    int ssl_err = 0;

    if (stream && vstream_context(stream) == priv) {
        if (failure)
            stream->wlen = 0; /* nothing more goes to a peer we gave up on */
        (void)vstream_set_io(stream, NULL, NULL, NULL);
    }
    if (!failure && priv->pub.ssl)
        (void)tls_stream_op(priv->pub.ssl, priv->fd, TLS_OP_SHUTDOWN, NULL, 0, timeout_ms, &ssl_err);
    ERR_clear_error();
}
