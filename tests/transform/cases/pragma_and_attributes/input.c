#include <unasync/async.h>

#pragma weak async_hook
__attribute__((unused)) static async int quiet(void) { return 0; }
_Static_assert(sizeof(int) >= 2, "async_ints");
