/* UA004: blocking calls inside async functions; the same calls in plain functions pass. */
#include <unasync/async.h>
#include <unasync/sync.h>

#include <hiredis.h>
#include <netdb.h>
#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static async int positive(redisContext *rc, struct addrinfo **res)
{
    sleep(1);
    usleep(2000);
    sync_sleep_ms(3);
    pthread_mutex_lock(&lock);
    pthread_mutex_unlock(&lock);
    redisReply *r = redisCommand(rc, "PING");
    (void)r;
    return getaddrinfo("localhost", "80", NULL, res) + system("true");
}

static async int suppressed(void)
{
    sleep(1); // unasync: ignore[UA004]
    sleep(2); /* unasync: ignore */
    sleep(3); // unasync: ignore[UA001]
    return 0;
}

static int negative(void)
{
    sleep(1);
    return sync_sleep_ms(2);
}

static async int uses(void)
{
    redisContext *c = NULL;
    struct addrinfo *res = NULL;
    return await positive(c, &res) + await suppressed() + negative();
}

static int (*keep)(void) = uses;
