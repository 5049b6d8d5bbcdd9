/* tls.c - OpenSSL glue (see tls.h). Sessions run over memory BIOs; the
 * connection does the socket I/O. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct tls_ctx {
    SSL_CTX *ctx;
    int resume;
    int verify;
    int host_is_ip;
    char host[256];
};

struct tls_sess {
    tls_ctx_t *c;
    SSL *ssl;
    BIO *rbio, *wbio;        /* owned by ssl */
    SSL_SESSION *saved;      /* the last session the server gave us (owned) */
    unsigned long err;       /* OpenSSL error of the last TLS_ERROR */
    long verify;             /* verification result at that time */
};

static int sess_index = -1;

/* TLS 1.3 tickets arrive after the handshake: keep the newest one. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    tls_sess_t *s = SSL_get_ex_data(ssl, sess_index);
    if (!s) return 0;
    if (s->saved) SSL_SESSION_free(s->saved);
    s->saved = sess; /* we keep the reference OpenSSL handed us */
    return 1;
}

static void ssl_error(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown error";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errlen, "%s: %s", what, buf);
    ERR_clear_error();
}

int tls_ctx_new(tls_ctx_t **out, const tls_options_t *o, char *err, size_t errlen)
{
    static const unsigned char alpn[] = "\x08http/1.1";
    tls_ctx_t *c = calloc(1, sizeof *c);
    if (!c) { snprintf(err, errlen, "out of memory"); return -1; }
    if (sess_index < 0) sess_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx) { ssl_error(err, errlen, "cannot create a TLS context"); free(c); return -1; }
    snprintf(c->host, sizeof c->host, "%s", o->host);
    unsigned char ip[16];
    c->host_is_ip = inet_pton(AF_INET, o->host, ip) == 1 || inet_pton(AF_INET6, o->host, ip) == 1;
    c->verify = o->verify;
    c->resume = o->resume;
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_alpn_protos(c->ctx, alpn, sizeof alpn - 1);
    if (o->verify) {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_default_verify_paths(c->ctx);
        if (o->cacert && SSL_CTX_load_verify_locations(c->ctx, o->cacert, NULL) != 1) {
            char what[512];
            snprintf(what, sizeof what, "--cacert: cannot load '%s'", o->cacert);
            ssl_error(err, errlen, what);
            tls_ctx_free(c);
            return -1;
        }
    } else {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
    }
    if (o->cert) {
        const char *key = o->key ? o->key : o->cert;
        char what[512];
        if (SSL_CTX_use_certificate_chain_file(c->ctx, o->cert) != 1) {
            snprintf(what, sizeof what, "--cert: cannot load '%s'", o->cert);
            ssl_error(err, errlen, what);
            tls_ctx_free(c);
            return -1;
        }
        if (SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(c->ctx) != 1) {
            snprintf(what, sizeof what, "--key: cannot use '%s' with the certificate", key);
            ssl_error(err, errlen, what);
            tls_ctx_free(c);
            return -1;
        }
    } else if (o->key) {
        snprintf(err, errlen, "--key needs --cert (the client certificate)");
        tls_ctx_free(c);
        return -1;
    }
    if (o->resume) {
        SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(c->ctx, on_new_session);
    } else {
        SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(c->ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(c->ctx, 0);
    }
    *out = c;
    return 0;
}

void tls_ctx_free(tls_ctx_t *c)
{
    if (!c) return;
    SSL_CTX_free(c->ctx);
    free(c);
}

static int make_ssl(tls_sess_t *s)
{
    tls_ctx_t *c = s->c;
    s->ssl = SSL_new(c->ctx);
    s->rbio = BIO_new(BIO_s_mem());
    s->wbio = BIO_new(BIO_s_mem());
    if (!s->ssl || !s->rbio || !s->wbio) {
        SSL_free(s->ssl);
        BIO_free(s->rbio);
        BIO_free(s->wbio);
        s->ssl = NULL;
        return -1;
    }
    BIO_set_mem_eof_return(s->rbio, -1); /* empty means "retry", not EOF */
    SSL_set_bio(s->ssl, s->rbio, s->wbio);
    SSL_set_connect_state(s->ssl);
    SSL_set_ex_data(s->ssl, sess_index, s);
    if (!c->host_is_ip) SSL_set_tlsext_host_name(s->ssl, c->host);
    if (c->verify) {
        if (c->host_is_ip) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), c->host);
        else SSL_set1_host(s->ssl, c->host);
    }
    if (c->resume && s->saved) SSL_set_session(s->ssl, s->saved);
    return 0;
}

tls_sess_t *tls_sess_new(tls_ctx_t *c)
{
    tls_sess_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->c = c;
    if (make_ssl(s)) { free(s); return NULL; }
    return s;
}

/* Free the connection state. SSL_free() of a connection that was not shut
 * down cleanly marks its session not resumable (OpenSSL's "bad session"
 * rule); a benchmark closes connections abruptly all the time, and the
 * session is still good, so declare the shutdown done first. */
static void drop_ssl(tls_sess_t *s)
{
    if (!s->ssl) return;
    SSL_set_shutdown(s->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(s->ssl);
    s->ssl = NULL;
}

/* Reuse the SSL object and its BIOs for the next connection (as wrk does)
 * rather than SSL_free + SSL_new: SSL_clear() keeps the method, options,
 * SNI, verification parameters and buffers. The next handshake offers the
 * newest ticket (SSL_set_session), or nothing with --no-tls-resume. */
void tls_sess_reset(tls_sess_t *s)
{
    s->err = 0;
    s->verify = X509_V_OK;
    if (s->ssl) {
        /* the session of an abruptly closed connection is still good */
        SSL_set_shutdown(s->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        if (SSL_clear(s->ssl) == 1) {
            (void)BIO_reset(s->rbio);
            (void)BIO_reset(s->wbio);
            SSL_set_connect_state(s->ssl);
            SSL_set_session(s->ssl, s->c->resume ? s->saved : NULL);
            return;
        }
        ERR_clear_error();
        drop_ssl(s);
    }
    make_ssl(s);
}

void tls_sess_free(tls_sess_t *s)
{
    if (!s) return;
    drop_ssl(s);
    if (s->saved) SSL_SESSION_free(s->saved);
    free(s);
}

int tls_feed(tls_sess_t *s, const char *data, size_t len)
{
    if (!s->ssl) return -1;
    return BIO_write(s->rbio, data, (int)len) == (int)len ? 0 : -1;
}

size_t tls_pending_out(tls_sess_t *s, const char **data)
{
    char *p = NULL;
    long n = s->ssl ? BIO_get_mem_data(s->wbio, &p) : 0;
    *data = p;
    return n > 0 ? (size_t)n : 0;
}

void tls_consume_out(tls_sess_t *s, size_t n)
{
    const char *p;
    if (n >= tls_pending_out(s, &p)) {
        (void)BIO_reset(s->wbio);
        return;
    }
    char tmp[4096];
    while (n) {
        int r = BIO_read(s->wbio, tmp, (int)(n < sizeof tmp ? n : sizeof tmp));
        if (r <= 0) break;
        n -= (size_t)r;
    }
}

static int fail(tls_sess_t *s, int rc)
{
    int e = SSL_get_error(s->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return TLS_WANT_READ;
    if (e == SSL_ERROR_ZERO_RETURN) return TLS_CLOSED;
    s->err = ERR_peek_last_error();
    s->verify = SSL_get_verify_result(s->ssl);
    ERR_clear_error();
    return TLS_ERROR;
}

int tls_handshake(tls_sess_t *s)
{
    if (!s->ssl) return TLS_ERROR;
    int rc = SSL_do_handshake(s->ssl);
    return rc == 1 ? TLS_OK : fail(s, rc);
}

int tls_resumed(tls_sess_t *s) { return s->ssl && SSL_session_reused(s->ssl); }

ssize_t tls_read(tls_sess_t *s, char *buf, size_t len)
{
    int rc = SSL_read(s->ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
    return rc > 0 ? rc : fail(s, rc);
}

int tls_write(tls_sess_t *s, const char *buf, size_t len)
{
    int rc = SSL_write(s->ssl, buf, (int)len);
    return rc == (int)len ? TLS_OK : fail(s, rc) == TLS_WANT_READ ? TLS_ERROR : TLS_ERROR;
}

const char *tls_error(tls_sess_t *s, char *buf, size_t len)
{
    if (s->verify != X509_V_OK) {
        snprintf(buf, len, "certificate verify failed: %s", X509_verify_cert_error_string(s->verify));
    } else if (s->err) {
        const char *r = ERR_reason_error_string(s->err);
        snprintf(buf, len, "%s", r ? r : "TLS error");
    } else {
        snprintf(buf, len, "TLS error");
    }
    return buf;
}

const char *tls_version(tls_sess_t *s) { return SSL_get_version(s->ssl); }
const char *tls_cipher(tls_sess_t *s) { return SSL_get_cipher_name(s->ssl); }

/* Write all pending ciphertext to fd (blocking with poll). */
static int flush_blocking(tls_sess_t *s, int fd, int timeout_ms)
{
    const char *p;
    size_t n;
    while ((n = tls_pending_out(s, &p))) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) { tls_consume_out(s, (size_t)w); continue; }
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = { .fd = fd, .events = POLLOUT };
            if (poll(&pf, 1, timeout_ms) <= 0) return -ETIMEDOUT;
            continue;
        }
        return -errno;
    }
    return 0;
}

int tls_probe(tls_ctx_t *c, const net_addr_t *a, int timeout_ms, char *info, size_t infolen,
              char *err, size_t errlen)
{
    int fd = net_connect(a);
    if (fd < 0) {
        snprintf(err, errlen, "cannot connect to %s: %s", a->text, strerror(-fd));
        return -1;
    }
    struct pollfd pf = { .fd = fd, .events = POLLOUT };
    int rc = poll(&pf, 1, timeout_ms);
    int cr = rc > 0 ? net_connect_result(fd) : -ETIMEDOUT;
    if (cr) {
        snprintf(err, errlen, "cannot connect to %s: %s (is the server running? check the URL)",
                 a->text, strerror(-cr));
        close(fd);
        return -1;
    }
    tls_sess_t *s = tls_sess_new(c);
    int result = -1;
    if (!s) { snprintf(err, errlen, "out of memory"); close(fd); return -1; }
    for (;;) {
        int hs = tls_handshake(s);
        if (flush_blocking(s, fd, timeout_ms)) {
            snprintf(err, errlen, "TLS handshake with %s (%s) failed: the connection broke", c->host, a->text);
            break;
        }
        if (hs == TLS_OK) {
            snprintf(info, infolen, "%s %s", tls_version(s), tls_cipher(s));
            result = 0;
            break;
        }
        if (hs != TLS_WANT_READ) {
            char why[300];
            snprintf(err, errlen, "TLS handshake with %s (%s) failed: %s", c->host, a->text,
                     tls_error(s, why, sizeof why));
            if (s->verify != X509_V_OK)
                snprintf(err + strlen(err), errlen - strlen(err),
                         " (use --cacert FILE to trust its CA, or -k to skip verification)");
            break;
        }
        pf.events = POLLIN;
        if (poll(&pf, 1, timeout_ms) <= 0) {
            snprintf(err, errlen, "TLS handshake with %s (%s) timed out", c->host, a->text);
            break;
        }
        char buf[16384];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            snprintf(err, errlen, "TLS handshake with %s (%s) failed: the server closed the connection%s",
                     c->host, a->text, n == 0 ? " (does it speak TLS? does it want a client certificate?)" : "");
            break;
        }
        tls_feed(s, buf, (size_t)n);
    }
    tls_sess_free(s);
    close(fd);
    return result;
}
