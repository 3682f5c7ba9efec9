/* Example: keep an LLM client inside requests- and tokens-per-minute limits (async; the sync
 * version beside it is generated). Usage: llm_client [redis://host:port/db | unix:///path]. */
#include <stdio.h>
#include <string.h>

#include <unasync/async.h>

#include <unasync/limiter/limiter.h>
#include <unasync/limiter/memory.h>
#include <unasync/limiter/redis.h>

/* Stands in for the model call: returns how many tokens the answer really used. */
static async int call_model(int request, int64_t *tokens_used)
{
    await async_sleep_ms(1);
    *tokens_used = 300 + 150 * (request % 3);
    return 0;
}

/* One request: reserve 1 request and an estimate of 500 tokens, call, then settle the estimate. */
static async int handle_request(rl_limiter_t *lim, int request)
{
    rl_amount_t estimate[] = {{"rpm", 1}, {"tpm", 500}};
    rl_lease_t lease;
    rl_report_t report;
    int rc = await rl_limiter_acquire(lim, &lease, "key-1", "gpt-4", estimate, 2, NULL, &report);
    if (rc == RL_EEXCEEDED) {
        char header[24], body[1024];
        rl_retry_after_header(report.exceeded.retry_after_ms, header, sizeof header);
        rl_exceeded_json(&report.exceeded, body, sizeof body);
        printf("request %d: HTTP 429, Retry-After: %s\n  %s\n", request, header, body);
        return 0;
    }
    if (rc) {
        printf("request %d: %s (%s)\n", request, rl_strerror(rc), report.message);
        return rc;
    }
    int64_t used = 0;
    rc = await call_model(request, &used);
    if (rc) {
        await rl_lease_rollback(&lease); /* the model failed: give the reservation back */
        return rc;
    }
    rl_amount_t correction[] = {{"tpm", used - 500}};
    rl_lease_adjust(&lease, correction, 1);
    rc = await rl_lease_commit(&lease, &report);
    if (rc) {
        await rl_lease_rollback(&lease);
        return rc;
    }
    printf("request %d: ok, %lld tokens\n", request, (long long)used);
    return 0;
}

static async int run(void *arg)
{
    const char *url = arg;
    rl_repo_t *repo;
    int rc = url ? await rl_redis_open(&repo, url, NULL) : rl_memory_open(&repo, NULL);
    if (rc) {
        fprintf(stderr, "cannot open the backend: %s\n", rl_strerror(rc));
        return rc;
    }
    rl_limiter_t *lim;
    if ((rc = rl_limiter_open(&lim, repo)) != 0)
        return rc;

    /* A project with an API key; the key's usage also counts against the project. */
    rl_limit_t project[2], key[2];
    rl_limit_per_minute(&project[0], "rpm", 100, 0);
    rl_limit_per_minute(&project[1], "tpm", 20000, 0);
    rl_limit_per_minute(&key[0], "rpm", 5, 0);
    rl_limit_per_minute(&key[1], "tpm", 2000, 3000); /* burst: 3000 tokens at once */
    await rl_limiter_delete_entity(lim, "key-1");    /* a rerun on Redis starts afresh */
    await rl_limiter_delete_entity(lim, "proj-1");
    if ((rc = await rl_limiter_create_entity(lim, "proj-1", "Project 1", NULL, false)) == 0)
        rc = await rl_limiter_create_entity(lim, "key-1", "API key 1", "proj-1", true);
    if (rc == 0)
        rc = await rl_limiter_set_limits(lim, "proj-1", "gpt-4", project, 2);
    if (rc == 0)
        rc = await rl_limiter_set_limits(lim, "key-1", "gpt-4", key, 2);
    for (int request = 1; rc == 0 && request <= 7; request++)
        rc = await handle_request(lim, request);

    rl_capacity_t cap;
    if (rc == 0 && await rl_limiter_available(lim, "key-1", "gpt-4", NULL, 0, &cap, NULL) == 0)
        for (size_t i = 0; i < cap.count; i++)
            printf("key-1 %s: %lld left\n", cap.limits[i].name, (long long)cap.available[i]);
    int rc2 = await rl_limiter_close(lim);
    return rc ? rc : rc2;
}

int main(int argc, char **argv)
{
    return async_run(run, argc > 1 ? argv[1] : NULL) == 0 ? 0 : 1;
}
