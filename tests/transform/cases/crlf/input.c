#include <unasync/async.h>
async int get(void);
async int f(void)
{
#if UNASYNC_ASYNC
    return 1;
#else
    return await get();
#endif
}
