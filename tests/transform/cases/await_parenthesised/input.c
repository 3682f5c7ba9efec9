#include <unasync/async.h>

async int get(void);
async int use(void)
{
    int x = await(get());
    int y = await (get());
    return x + y + await((get)());
}
