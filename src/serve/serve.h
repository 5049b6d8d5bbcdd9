/* serve.h - `barrage serve`: the built-in HTTP/1.1 target used for the demo,
 * for calibration and for fault-injection tests.
 *
 * It is a program of its own (the one module besides main.c that prints):
 *  - once every listener is bound it prints exactly one line to stdout,
 *    `listening on ADDR:PORT` (the real port when --listen asked for port 0;
 *    IPv6 as `[::1]:PORT`), and flushes;
 *  - on SIGTERM or SIGINT it stops, prints one line to stderr,
 *    `serve: connections=C requests=R responses=S faults=F`, and returns 0.
 *      C  connections accepted
 *      R  complete requests parsed (requests ignored after a `hang`, `drop`
 *         or `reset` fault, or after a closing response, are not parsed)
 *      S  normal responses (the handler's answer, well framed) fully queued;
 *         `continue` and `extra` faults still count their normal response,
 *         every other fault replaces it and does not count
 *      F  faults injected
 *
 * Behaviour: keep-alive, pipelining (answers in order; every response
 * produced by one read goes out in one write), request bodies (Content-Length
 * and chunked), HEAD (headers only, with the GET's Content-Length), client
 * `Connection: close`, HTTP/1.0 (with and without keep-alive), `Expect:
 * 100-continue`. A malformed request gets 400 and the connection closes.
 * Graceful closes send FIN, then drain the client's bytes until its EOF (at
 * most 2 s) before close(), so a response is never destroyed by an RST.
 *
 * The response body of --body-size N is N bytes of 8-byte records "%07u\n",
 * each holding its own offset modulo 10^7 ("0000000\n0000008\n..."), so a
 * client can check it byte for byte; without --body-size it is "OK".
 *
 * Options are listed by `barrage serve --help` (serve_args.c: usage text).
 */
#ifndef BARRAGE_SERVE_H
#define BARRAGE_SERVE_H

/* Run the server. argv[0] is "serve"; the options follow. Blocks until
 * SIGTERM/SIGINT. Returns the process exit code: 0 after a clean stop (or
 * --help), 1 when the server cannot run (bind fails, out of memory), 2 on a
 * usage error, reported as one line on stderr that names the option, the
 * problem and the fix. Blocks SIGINT/SIGTERM in the calling thread. */
int serve_main(int argc, char **argv);

#endif
