/* The transformer's UA006 and the engine's UA007 honour ignore comments and severities too. */
#include <unasync/async.h>
#include <unasync/sync.h>

static async int both(void)
{
    int a = await async_sleep_ms(1); // unasync: ignore[UA006]
    int b = sync_sleep_ms(2);        // unasync: ignore[UA004]
    int c = sync_sleep_ms(3);
    return a + b + c;
}

static int (*keep)(void) = both;
