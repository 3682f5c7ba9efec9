/* Markers spelled UA_ASYNC/UA_AWAIT work the same as async/await. */
#include <unasync/async.h>

static UA_ASYNC int fetch(void) { return UA_AWAIT async_sleep_ms(1); }

static UA_ASYNC int body(void)
{
    int a = fetch();
    return a + UA_AWAIT fetch();
}

static int plain(void) { return UA_AWAIT fetch(); }

static int (*keep)(void) = body;
static int (*keep2)(void) = plain;
