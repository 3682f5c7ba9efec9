#include <unasync/async.h>

/* async int f(void) — await async_sleep_ms(1); */
// await async_read(); async_x
async int f(void)
{
    const char *s = "await async_sleep_ms(1); async";
    char c = 'a';
    (void)s; (void)c;
    return 0; /* trailing: await */
}
