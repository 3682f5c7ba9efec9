/* UA002: await on a call that is not async; async callees and pointer calls pass. */
#include <unasync/async.h>

static int plain(int x) { return x + 1; }
static async int fetch(int x) { return await async_sleep_ms((uint64_t)x); }

static async int positive(void)
{
    return await plain(1) + await  plain(2);
}

static async int negative(int (*fp)(int))
{
    return await fetch(1) + await fp(2) + plain(3);
}

static int (*keep[])(void) = {positive};
static int (*keep2)(int (*)(int)) = negative;
