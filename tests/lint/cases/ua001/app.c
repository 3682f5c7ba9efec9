/* UA001: calls to async functions need await; awaited calls and calls through pointers pass. */
#include <unasync/async.h>

static async int fetch(int x)
{
    await async_sleep_ms(1);
    return x;
}

async int refresh(int x);

static async int positive(void)
{
    int a = fetch(1);
    return a + refresh(2);
}

static async int negative(int (*fp)(int))
{
    int a = await fetch(1);
    a += await
        refresh(2);
    return a + fp(3);
}

async int refresh(int x)
{
    return await fetch(x);
}

static int (*use_all[])(void) = {positive};
static int (*use_neg)(int (*)(int)) = negative;
