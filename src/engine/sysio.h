/* sysio.h - recv, send and epoll_pwait2 without libc's cancellation points.
 *
 * glibc wraps these syscalls in __pthread_enable/disable_asynccancel because
 * they are pthread cancellation points; barrage never cancels a thread, and
 * on the hot path (one recv and one send per request) the wrappers cost
 * more user-space instructions than the syscall's own entry. On x86_64 and
 * aarch64 Linux these call the kernel directly (inline `syscall` / `svc`);
 * elsewhere they are libc's functions. The contract is libc's: the result,
 * or -1 with errno set (errno is not touched on success). */
#ifndef BARRAGE_SYSIO_H
#define BARRAGE_SYSIO_H

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
#include <sys/syscall.h>
#define SYSIO_RAW 1

static inline long sysio_call6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
#if defined(__x86_64__)
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#else
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a1;
    register long x1 __asm__("x1") = a2;
    register long x2 __asm__("x2") = a3;
    register long x3 __asm__("x3") = a4;
    register long x4 __asm__("x4") = a5;
    register long x5 __asm__("x5") = a6;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory", "cc");
    return x0;
#endif
}

/* The kernel's -errno (-4095..-1) into libc's -1 and errno. */
static inline long sysio_ret(long r)
{
    if ((unsigned long)r > -4096UL) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

static inline ssize_t sysio_recv(int fd, void *buf, size_t len, int flags)
{
    return sysio_ret(sysio_call6(SYS_recvfrom, fd, (long)buf, (long)len, flags, 0, 0));
}

static inline ssize_t sysio_send(int fd, const void *buf, size_t len, int flags)
{
    return sysio_ret(sysio_call6(SYS_sendto, fd, (long)buf, (long)len, flags, 0, 0));
}
#else
#define SYSIO_RAW 0

static inline ssize_t sysio_recv(int fd, void *buf, size_t len, int flags)
{
    return recv(fd, buf, len, flags);
}

static inline ssize_t sysio_send(int fd, const void *buf, size_t len, int flags)
{
    return send(fd, buf, len, flags);
}
#endif

#endif
