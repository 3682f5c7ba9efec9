/* The libuv adapter of the async API: await any libuv request from a coroutine. Apart from the
 * rest of <unasync/async.h> because it needs <uv.h>; its blocking twin is <unasync/sync_uv.h>. */
#ifndef UNASYNC_ASYNC_UV_H
#define UNASYNC_ASYNC_UV_H

#include <unasync/async.h>

/* <uv.h> names a union member and parameters `async`, which the short marker of <unasync/async.h>
 * would erase: it is hidden while <uv.h> is read, so both headers may come in any order (a source
 * that includes <uv.h> itself must do so before <unasync/async.h>). Under a strict -std=c11,
 * <uv.h> needs a POSIX feature macro (-D_POSIX_C_SOURCE=200809L). */
#pragma push_macro("async")
#undef async
#include <uv.h>
#pragma pop_macro("async")

#ifdef __cplusplus
extern "C" {
#endif

/* This thread's loop, for adapters that must create libuv handles; NULL outside async_run. */
uv_loop_t *async_loop(void);

/* Awaits one libuv request: calls start(loop, req, arg), which must issue the request with a
 * completion callback that calls async_req_done(req, status), then suspends until it does.
 * Returns start's error if it fails (the callback is never called then), else the status passed
 * to async_req_done. On cancellation it calls uv_cancel(req) and still waits for the callback
 * (so req, typically on the caller's stack, stays valid), then returns UNASYNC_ECANCELED unless
 * the request had already completed. req->data belongs to the runtime while this runs. */
UA_ASYNC int async_await_req(uv_req_t *req, int (*start)(uv_loop_t *, uv_req_t *, void *),
                             void *arg);
void async_req_done(uv_req_t *req, int status);

#ifdef __cplusplus
}
#endif
#endif /* UNASYNC_ASYNC_UV_H */
