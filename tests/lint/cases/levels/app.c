/* Severities from "lint": UA001 as a warning, UA004 off, the transformer's UA006 as info. */
#include <unasync/async.h>
#include <unasync/sync.h>
#include <unistd.h>

static async int fetch(void) { return await async_sleep_ms(1); }

static async int body(void)
{
    sleep(1);
    (void)sync_sleep_ms;
    return fetch();
}

static int (*keep)(void) = body;
