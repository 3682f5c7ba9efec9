/* Runtime benchmarks, each printing one line with a baseline measured in the same run:
 * context switch, await of a ready timer vs a raw libuv timer, memory per parked coroutine, the
 * most coroutines in 1 GiB, and Redis GET from 100 coroutines on one connection. */
#include <unasync/async_uv.h> /* the async API, and <uv.h> for the raw-libuv baselines */

#include "ctx.h"
#include "redis_server.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void line(const char *name, double value, const char *unit, const char *base_what,
                 double base, const char *base_unit, double ratio, const char *target)
{
    printf("bench %s: %.4g %s | baseline %s: %.4g %s | ratio %.3g | target %s\n", name, value, unit,
           base_what, base, base_unit, ratio, target);
}

/* ---- context switch: our backend vs glibc swapcontext, two-party ping-pong ---- */

enum { SWITCHES = 5000000 };
static ua_ctx_t sw_main, sw_co;
static ucontext_t uc_main, uc_co;

static void sw_entry(void *arg)
{
    for (;;)
        ua_ctx_switch(&sw_co, &sw_main);
}

static void uc_entry(void)
{
    for (;;)
        swapcontext(&uc_co, &uc_main);
}

static double best_of(int runs, double (*fn)(void))
{
    double best = 1e30;
    for (int i = 0; i < runs; i++) {
        double v = fn();
        if (v < best)
            best = v;
    }
    return best;
}

static void *sw_stack;

static double run_switch(void)
{
    ua_ctx_make(&sw_co, sw_stack, 64 * 1024, sw_entry, NULL);
    double t0 = now_s();
    for (int i = 0; i < SWITCHES; i++)
        ua_ctx_switch(&sw_main, &sw_co);
    return (now_s() - t0) * 1e9 / (2.0 * SWITCHES);
}

static double run_swapcontext(void)
{
    getcontext(&uc_co);
    uc_co.uc_stack.ss_sp = sw_stack;
    uc_co.uc_stack.ss_size = 64 * 1024;
    uc_co.uc_link = NULL;
    makecontext(&uc_co, uc_entry, 0);
    int n = SWITCHES / 20;
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        swapcontext(&uc_main, &uc_co);
    return (now_s() - t0) * 1e9 / (2.0 * n);
}

static int bench_switch(void)
{
    sw_stack = mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    double ours = best_of(5, run_switch);
    double base = best_of(3, run_swapcontext);
    line("coro_switch", ours, "ns", "glibc swapcontext", base, "ns", ours / base, "<= 10 ns");
    munmap(sw_stack, 64 * 1024);
    return 0;
}

/* ---- await async_sleep_ms(0) vs a raw libuv timer re-armed from its callback ---- */

static int sleep_rounds;

static int sleeper(void *arg)
{
    for (int i = 0; i < sleep_rounds; i++)
        await async_sleep_ms(0);
    return 0;
}

static int sleep_main(void *arg)
{
    int n = *(int *)arg;
    async_task_t **tasks = malloc(sizeof *tasks * (size_t)n);
    for (int i = 0; i < n; i++)
        tasks[i] = async_spawn(sleeper, NULL);
    for (int i = 0; i < n; i++)
        await async_join(tasks[i], NULL);
    free(tasks);
    return 0;
}

struct raw_timer {
    uv_timer_t t;
    int left;
};

static void raw_cb(uv_timer_t *t)
{
    struct raw_timer *r = (struct raw_timer *)t;
    if (--r->left > 0)
        uv_timer_start(t, raw_cb, 0, 0);
}

static double raw_timers(int n)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct raw_timer *timers = calloc((size_t)n, sizeof *timers);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        uv_timer_init(&loop, &timers[i].t);
        timers[i].left = sleep_rounds;
        uv_timer_start(&timers[i].t, raw_cb, 0, 0);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    double dt = now_s() - t0;
    for (int i = 0; i < n; i++)
        uv_close((uv_handle_t *)&timers[i].t, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    free(timers);
    return dt * 1e9 / ((double)n * sleep_rounds);
}

static int bench_sleep(int n, const char *target)
{
    sleep_rounds = n >= 10000 ? 200 : 2000;
    double best = 1e30, base = 1e30;
    /* Interleaved, best of 7: the minimum is the least disturbed by other load. */
    for (int run = 0; run < 7; run++) {
        double t0 = now_s();
        async_run(sleep_main, &n);
        double v = (now_s() - t0) * 1e9 / ((double)n * sleep_rounds);
        if (v < best)
            best = v;
        double b = raw_timers(n);
        if (b < base)
            base = b;
    }
    char name[64];
    snprintf(name, sizeof name, "await_sleep0_%d", n);
    line(name, best, "ns/event", "raw uv_timer callback", base, "ns/event", best / base, target);
    return 0;
}

/* ---- memory per parked coroutine, and the most that fit in 1 GiB ---- */

static size_t rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static async_event_t release_all;

static int parked(void *arg)
{
    await async_event_wait(&release_all);
    return 0;
}

struct fill {
    int max;          /* stop after this many (0: no limit) */
    size_t rss_limit; /* stop when the RSS grew by this much (0: no limit) */
    int spawned;
    size_t grew;
};

static int fill_main(void *arg)
{
    struct fill *f = arg;
    async_event_init(&release_all);
    size_t before = rss_bytes();
    for (;;) {
        if (f->max && f->spawned >= f->max)
            break;
        if (f->rss_limit && f->spawned % 1024 == 0 && rss_bytes() - before >= f->rss_limit)
            break;
        async_task_t *t = async_spawn(parked, NULL);
        if (!t)
            break; /* out of memory or of mappings (vm.max_map_count) */
        async_detach(t);
        f->spawned++;
        if (f->spawned % 256 == 0)
            await async_yield(); /* let them start and park */
    }
    await async_yield();
    f->grew = rss_bytes() - before;
    async_event_set(&release_all);
    return 0;
}

struct thread_park {
    pthread_mutex_t m;
    pthread_cond_t c;
    int go;
};

static void *thread_parked(void *arg)
{
    struct thread_park *p = arg;
    pthread_mutex_lock(&p->m);
    while (!p->go)
        pthread_cond_wait(&p->c, &p->m);
    pthread_mutex_unlock(&p->m);
    return NULL;
}

static double rss_per_thread(int n)
{
    struct thread_park p = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    pthread_t *ts = calloc((size_t)n, sizeof *ts);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    size_t before = rss_bytes();
    int made = 0;
    for (; made < n; made++)
        if (pthread_create(&ts[made], &attr, thread_parked, &p) != 0)
            break;
    usleep(100 * 1000);
    size_t grew = rss_bytes() - before;
    pthread_mutex_lock(&p.m);
    p.go = 1;
    pthread_cond_broadcast(&p.c);
    pthread_mutex_unlock(&p.m);
    for (int i = 0; i < made; i++)
        pthread_join(ts[i], NULL);
    pthread_attr_destroy(&attr);
    free(ts);
    return made ? (double)grew / made : 0;
}

static int bench_rss(void)
{
    async_set_stack_size(64 * 1024);
    struct fill f = {.max = 10000};
    async_run(fill_main, &f);
    double per = (double)f.grew / f.spawned;
    double base = rss_per_thread(1000);
    line("rss_per_parked_coroutine", per / 1024, "KiB", "parked pthread (64 KiB stack)",
         base / 1024, "KiB", per / base, "n/a (research: 4.1 KiB)");
    return 0;
}

static int bench_max(void)
{
    async_set_stack_size(64 * 1024);
    async_set_guard_pages(0);
    struct fill f = {.rss_limit = (size_t)1 << 30};
    async_run(fill_main, &f);
    async_set_guard_pages(1);
    struct fill g = {.max = 1 << 20};
    async_run(fill_main, &g);
    printf("bench max_coroutines_1gib: %d coroutines (no guard pages, %.2f GiB RSS) | baseline "
           "with guard pages (vm.max_map_count): %d coroutines | ratio %.3g | target n/a\n",
           f.spawned, (double)f.grew / (1 << 30), g.spawned, (double)f.spawned / g.spawned);
    return 0;
}

/* ---- Redis GET: 100 coroutines on one connection vs one blocking client ---- */

enum { REDIS_TASKS = 100, REDIS_GETS = 20000 };

struct redis_bench {
    async_redis_t *r;
    int per_task;
};

static int redis_getter(void *arg)
{
    struct redis_bench *b = arg;
    for (int i = 0; i < b->per_task; i++) {
        redisReply *reply = NULL;
        if (await async_redis_command(b->r, &reply, "GET bench-key") != 0)
            return -1;
        freeReplyObject(reply);
    }
    return 0;
}

static int redis_main(void *arg)
{
    struct redis_server *s = arg;
    struct redis_bench b = {NULL, REDIS_GETS / REDIS_TASKS};
    if (await async_redis_connect_unix(&b.r, s->sock) != 0)
        return -1;
    async_task_t *tasks[REDIS_TASKS];
    for (int i = 0; i < REDIS_TASKS; i++)
        tasks[i] = async_spawn(redis_getter, &b);
    int bad = 0;
    for (int i = 0; i < REDIS_TASKS; i++) {
        int rc = 0;
        await async_join(tasks[i], &rc);
        bad |= rc;
    }
    await async_redis_close(b.r);
    return bad;
}

static int bench_redis(void)
{
    struct redis_server s;
    int rc = redis_server_start(&s);
    if (rc != 0) {
        printf("bench redis_get_100_coroutines: skipped (redis-server %s)\n",
               rc == 1 ? "not installed" : "did not start");
        return 0;
    }
    redisContext *c = redisConnectUnix(s.sock);
    redisReply *reply = redisCommand(c, "SET bench-key %s", "some value of moderate size");
    freeReplyObject(reply);
    double best = 1e30, base = 1e30;
    for (int run = 0; run < 3; run++) {
        double t0 = now_s();
        if (async_run(redis_main, &s) != 0) {
            fprintf(stderr, "redis benchmark failed\n");
            break;
        }
        double v = (now_s() - t0) * 1e6 / REDIS_GETS;
        if (v < best)
            best = v;
        t0 = now_s();
        for (int i = 0; i < REDIS_GETS; i++)
            freeReplyObject(redisCommand(c, "GET bench-key"));
        double b = (now_s() - t0) * 1e6 / REDIS_GETS;
        if (b < base)
            base = b;
    }
    redisFree(c);
    redis_server_stop(&s);
    line("redis_get_100_coroutines", best, "us/GET", "one blocking client", base, "us/GET",
         best / base, "n/a (lower is better)");
    return 0;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (strcmp(what, "switch") == 0)
        return bench_switch();
    if (strcmp(what, "sleep1000") == 0)
        return bench_sleep(1000, "<= 1.5x");
    if (strcmp(what, "sleep10000") == 0)
        return bench_sleep(10000, "n/a (1.5x applies at 1,000)");
    if (strcmp(what, "rss") == 0)
        return bench_rss();
    if (strcmp(what, "max") == 0)
        return bench_max();
    if (strcmp(what, "redis") == 0)
        return bench_redis();
    fprintf(stderr, "usage: %s switch|sleep1000|sleep10000|rss|max|redis\n", argv[0]);
    return 2;
}
