/* UA005: external definitions that no rule renames collide with their twins. */
#include <unasync/async.h>

int lib_counter;
extern int lib_shared;
static int lib_private;
int lib_declared_only(void);

async int lib_open(void) { return await async_yield() + lib_private + lib_shared; }
async int async_lib_close(void) { return 0; }
int lib_stats(void) { return lib_counter; }
static int lib_helper(void) { return 0; }
int main(void) { return lib_helper(); }
