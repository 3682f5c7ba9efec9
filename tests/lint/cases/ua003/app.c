/* UA003: await or an async call inside a function that is not async. A function passed to
 * async_run or async_spawn is a coroutine entry, an async context without the marker: no UA003
 * inside entry_without_marker or spawned. */
#include <unasync/async.h>

static async int fetch(int x) { return await async_sleep_ms((uint64_t)x); }

static int entry_without_marker(void *arg)
{
    (void)arg;
    return await fetch(1);
}

static int direct_call(void)
{
    return fetch(2);
}

static int spawned(void *arg)
{
    (void)arg;
    return await fetch(4);
}

static async int entry(void *arg)
{
    (void)arg;
    async_task_t *t = async_spawn(spawned, NULL);
    int rc = 0;
    await async_join(t, &rc);
    return rc + await fetch(3);
}

int run_all(void)
{
    return async_run(entry, NULL) + async_run(entry_without_marker, NULL) + direct_call();
}
