#include <unasync/async.h>

static async
int helper(void)
{
    return 1;
}

async int  two_spaces(void) { return await helper(); }
