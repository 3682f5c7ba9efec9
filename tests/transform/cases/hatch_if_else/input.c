#include <unasync/async.h>

#include <stdio.h>
async int hello(void)
{
#if UNASYNC_ASYNC
    puts("running on the event loop");
#else
    puts("blocking");
#endif
    return await async_sleep_ms(0);
}
