/* net.c - socket set-up. Every socket is non-blocking, close-on-exec and has
 * Nagle off: requests are written whole and must leave at once. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void addr_text(net_addr_t *a)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (a->sa.ss_family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&a->sa;
        inet_ntop(AF_INET, &s->sin_addr, host, sizeof host);
        port = ntohs(s->sin_port);
        snprintf(a->text, sizeof a->text, "%s:%u", host, port);
    } else if (a->sa.ss_family == AF_INET6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a->sa;
        inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host);
        port = ntohs(s->sin6_port);
        snprintf(a->text, sizeof a->text, "[%s]:%u", host, port);
    }
}

int net_resolve(const char *host, const char *port, net_addr_t *out, int max,
                char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "cannot resolve host '%s': %s (check the URL's host name)",
                 host, gai_strerror(rc));
        return -1;
    }
    int n = 0;
    for (struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof out[n].sa) continue;
        memset(&out[n], 0, sizeof out[n]);
        memcpy(&out[n].sa, ai->ai_addr, ai->ai_addrlen);
        out[n].len = ai->ai_addrlen;
        addr_text(&out[n]);
        n++;
    }
    freeaddrinfo(res);
    if (!n) {
        snprintf(err, errlen, "host '%s' has no TCP address", host);
        return -1;
    }
    return n;
}

int net_connect(const net_addr_t *a)
{
#ifdef SOCK_NONBLOCK
    int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
#else
    int fd = socket(a->sa.ss_family, SOCK_STREAM, 0);
    if (fd < 0) return -errno;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
#ifdef SO_NOSIGPIPE
    int on_ = 1;
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on_, sizeof on_);
#endif
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)&a->sa, a->len) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int net_connect_result(int fd)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0) return -errno;
    return -e;
}

int net_probe(const net_addr_t *a, int timeout_ms)
{
    int fd = net_connect(a);
    if (fd < 0) return fd;
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int rc;
    do rc = poll(&p, 1, timeout_ms); while (rc < 0 && errno == EINTR);
    int result = rc == 0 ? -ETIMEDOUT : rc < 0 ? -errno : net_connect_result(fd);
    close(fd);
    return result;
}

uint64_t net_raise_fd_limit(uint64_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return 0;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rlim_t target = want;
        if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max) target = rl.rlim_max;
        rl.rlim_cur = target;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
}
