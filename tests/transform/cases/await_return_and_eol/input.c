#include <unasync/async.h>

async int get(void);
async int use(void)
{
    int v = await
        get();
    return await get() + v;
}
