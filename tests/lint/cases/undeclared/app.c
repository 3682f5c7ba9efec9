/* await on a callee the parse cannot see says so (UA002 "not declared"), not "not async". */
#include <unasync/async.h>

static int plain(int x) { return x; }

static async int go(void)
{
    return await not_declared_anywhere(1);
}

static async int go2(void)
{
    return await plain(2);
}

static int (*keep[])(void) = {go, go2};
