/* The libuv adapter of the blocking API, twin of <unasync/async_uv.h>: an adapter written for
 * async_await_req also works blocking. Apart from <unasync/sync.h> because it needs <uv.h>. */
#ifndef UNASYNC_SYNC_UV_H
#define UNASYNC_SYNC_UV_H

#include <unasync/sync.h>

/* <uv.h> read without the `async` marker, as in <unasync/async_uv.h>. */
#pragma push_macro("async")
#undef async
#include <uv.h>
#pragma pop_macro("async")

#ifdef __cplusplus
extern "C" {
#endif

/* A private libuv loop of the calling thread (created on first use, closed at thread exit or
 * sync_run's end). */
uv_loop_t *sync_loop(void);
/* Issues the request on sync_loop() and runs that loop until sync_req_done is called. */
int sync_await_req(uv_req_t *req, int (*start)(uv_loop_t *, uv_req_t *, void *), void *arg);
void sync_req_done(uv_req_t *req, int status);

#ifdef __cplusplus
}
#endif
#endif /* UNASYNC_SYNC_UV_H */
