/* UA005 without a "rename" key: the fix adds one. */
#include <unasync/async.h>

async int net_send(void) { return await async_yield(); }
