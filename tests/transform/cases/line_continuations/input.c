#include <unasync/async.h>

#define CALL_TWICE(f) \
    do { await f(); \
         await async_yield(); } while (0)
async int tick(void);
async int run(void)
{
    int v = asy\
nc_sleep_ms(1);
    CALL_TWICE(tick);
    return v;
}
