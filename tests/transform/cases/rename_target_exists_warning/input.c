#include <unasync/async.h>

int sync_sleep_ms(unsigned long ms);
async int nap(void) { sync_sleep_ms(1); return await async_sleep_ms(2); }
