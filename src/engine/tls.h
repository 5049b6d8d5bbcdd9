/* tls.h - TLS for client connections (OpenSSL 3). Only tls.c includes
 * OpenSSL headers.
 *
 * A session never touches the socket: ciphertext goes through memory BIOs
 * that the connection fills from its own read() and drains with its own
 * write(). So TLS keeps the connection's syscall pattern (one read and one
 * write per request, edge-triggered) and the handshake is just more bytes
 * in the same state machine: nothing ever blocks. */
#ifndef BARRAGE_TLS_H
#define BARRAGE_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net.h"

typedef struct tls_ctx tls_ctx_t;
typedef struct tls_sess tls_sess_t;

typedef struct tls_options {
    const char *host;     /* SNI and certificate name check (IP or DNS name) */
    int verify;           /* verify the server's certificate (default 1) */
    const char *cacert;   /* extra CA file, or NULL */
    const char *cert;     /* client certificate chain file (mTLS), or NULL */
    const char *key;      /* its private key file, or NULL (then `cert` holds it) */
    int resume;           /* reuse sessions (tickets) on reconnects */
} tls_options_t;

enum tls_result {
    TLS_OK = 0,          /* done / some bytes */
    TLS_WANT_READ = -1,  /* feed more ciphertext (tls_feed) and call again */
    TLS_CLOSED = -2,     /* the peer sent close_notify */
    TLS_ERROR = -3,      /* protocol error or alert; tls_error() says which */
};

/* Create the shared context (thread-safe to use from every worker). 0, or
 * -1 with a one-line message naming the file or setting at fault. */
int tls_ctx_new(tls_ctx_t **out, const tls_options_t *o, char *err, size_t errlen);
void tls_ctx_free(tls_ctx_t *c);

/* A client session; `resume` slot: the conn's last session is reused when
 * the context resumes. NULL on allocation failure. */
tls_sess_t *tls_sess_new(tls_ctx_t *c);
/* Forget the connection state but keep the resumable session (reconnect). */
void tls_sess_reset(tls_sess_t *s);
void tls_sess_free(tls_sess_t *s);

/* Hand ciphertext read from the socket to the session. 0 or -1 (memory). */
int tls_feed(tls_sess_t *s, const char *data, size_t len);
/* Ciphertext waiting to be written to the socket (pointer, length). */
size_t tls_pending_out(tls_sess_t *s, const char **data);
/* Drop n bytes of ciphertext once written. */
void tls_consume_out(tls_sess_t *s, size_t n);

/* Advance the handshake: TLS_OK when done, TLS_WANT_READ, or TLS_ERROR. */
int tls_handshake(tls_sess_t *s);
/* Whether the finished handshake resumed a session. */
int tls_resumed(tls_sess_t *s);
/* Decrypt into buf: >0 bytes, TLS_WANT_READ (need more input), TLS_CLOSED
 * or TLS_ERROR. */
ssize_t tls_read(tls_sess_t *s, char *buf, size_t len);
/* Encrypt len bytes (all of them, into the output). 0 or TLS_ERROR. */
int tls_write(tls_sess_t *s, const char *buf, size_t len);
/* Why the last TLS_ERROR happened, one line. */
const char *tls_error(tls_sess_t *s, char *buf, size_t len);
/* Negotiated protocol version and cipher ("TLSv1.3", "TLS_AES_256_GCM_SHA384"). */
const char *tls_version(tls_sess_t *s);
const char *tls_cipher(tls_sess_t *s);

/* Blocking check at start: connect to `a`, handshake, verify. 0, or -1 with
 * one line naming the host and the reason (e.g. the verification error). */
int tls_probe(tls_ctx_t *c, const net_addr_t *a, int timeout_ms, char *info, size_t infolen,
              char *err, size_t errlen);

#endif
