/* net.h - addresses and non-blocking TCP sockets. */
#ifndef BARRAGE_NET_H
#define BARRAGE_NET_H

#include <stdint.h>
#include <sys/socket.h>

typedef struct net_addr {
    struct sockaddr_storage sa;  /* the resolved address */
    socklen_t len;
    char text[64];               /* printable "1.2.3.4:80" or "[::1]:80" */
} net_addr_t;

/* Resolve host:port (numeric or by name) to every TCP address it has.
 * Fills up to max entries of out; returns how many, or -1 with err set. */
int net_resolve(const char *host, const char *port, net_addr_t *out, int max,
                char *err, size_t errlen);
/* Start a non-blocking connect. Returns the fd (connect may be in progress:
 * wait for writability, then net_connect_result), or a negative errno. */
int net_connect(const net_addr_t *a);
/* After writability: 0 if the connect succeeded, else a negative errno. */
int net_connect_result(int fd);
/* Blocking check that a TCP connection to a can be established within
 * timeout_ms. 0, or a negative errno (-ETIMEDOUT on timeout). */
int net_probe(const net_addr_t *a, int timeout_ms);
/* Lower the open-file limit's soft value up to its hard maximum if needed to
 * hold `want` descriptors. Returns the soft limit now in force. */
uint64_t net_raise_fd_limit(uint64_t want);

#endif
