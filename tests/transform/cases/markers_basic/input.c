#include <unasync/async.h>

async int step(int n);

async int run(int n)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += await step(i);
    await async_sleep_ms(10);
    return total;
}
