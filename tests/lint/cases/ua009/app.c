/* UA009: async functions declared outside the sources that no rule renames: the twin would
 * call them from blocking code. Calls and taken addresses are found; a function this file
 * defines, one a rule renames and the runtime's async_* are not. */
#include <unasync/async.h>
#include "net.h"
#include "ratelib.h"

static async int local(void) { return await async_yield(); }

static async int use(rt_t *r)
{
    int rc = await rt_acquire(r);
    rc += await rt_open(r);
    rc += await local() + rt_count(r);
    return rc + await rt_release(r);
}

static async int io(void)
{
    return await net_send(1) + await net_recv(1);
}

static int (*callbacks[])(rt_t *) = {rt_acquire, use};
static int (*keep)(void) = io;
