#include <unasync/async.h>

#define AWAIT_SLEEP(ms) await async_sleep_ms(ms)
#define NAME(x) async_##x
async int nap(void) { return AWAIT_SLEEP(5); }
