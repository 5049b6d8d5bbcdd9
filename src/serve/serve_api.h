/* serve_api.h - the demo API under /api/ of `barrage serve` (login, token,
 * cookie, items, cart, me), for scripts/login.lua and the workflow tests.
 * Internal to src/serve/.
 */
#ifndef BARRAGE_SERVE_API_H
#define BARRAGE_SERVE_API_H

#include "serve_http.h"

/* Answer req (its path starts with "/api/") into res; the body points at
 * thread-local storage, valid until the thread's next call. */
void serve_demo_api(const serve_request_t *req, serve_response_t *res);

#endif
