/* Unit tests of the limiter's pure core: bucket math, limits, validation, exceeded results, cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unasync/limiter/rl_types.h>

/* Research §4 bucket: capacity 100k tokens refilling 100k per 60 s. */
static rl_bucket_t big_bucket(int64_t tokens, int64_t now)
{
    rl_limit_t l;
    assert_int_equal(rl_limit_per_minute(&l, "rpm", 100000, 0), 0);
    rl_bucket_t b;
    rl_bucket_init(&b, &l, now);
    b.tokens_milli = tokens * 1000;
    return b;
}

/* §4 #1 */
static void refill_at_same_instant_changes_nothing(void **state)
{
    rl_bucket_t b = big_bucket(50000, 1000);
    rl_bucket_refill(&b, 1000);
    assert_int_equal(b.tokens_milli, 50000000);
    assert_int_equal(b.last_refill_ms, 1000);
}

/* §4 #2, #3, #4 */
static void refill_adds_elapsed_share_and_caps(void **state)
{
    rl_bucket_t b = big_bucket(0, 0);
    rl_bucket_refill(&b, 30000);
    assert_int_equal(b.tokens_milli, 50000000);
    b = big_bucket(0, 0);
    rl_bucket_refill(&b, 120000);
    assert_int_equal(b.tokens_milli, 100000000);
    b = big_bucket(-50000, 0);
    rl_bucket_refill(&b, 30000);
    assert_int_equal(b.tokens_milli, 0);
}

/* §4 #5, #6, #7 */
static void try_consume_reports_pre_consume_available_and_retry(void **state)
{
    int64_t avail = -1, retry = -1;
    rl_bucket_t b = big_bucket(100000, 0);
    assert_true(rl_bucket_try_consume(&b, 50000000, 0, &avail, &retry));
    assert_int_equal(b.tokens_milli, 50000000);
    assert_int_equal(avail, 100000);
    assert_int_equal(retry, 0);

    b = big_bucket(100000, 0);
    assert_true(rl_bucket_try_consume(&b, 100000000, 0, &avail, &retry));
    assert_int_equal(b.tokens_milli, 0);

    b = big_bucket(100000, 0);
    assert_false(rl_bucket_try_consume(&b, 150000000, 0, &avail, &retry));
    assert_int_equal(avail, 100000);
    assert_int_equal(retry, 30001);
    assert_int_equal(b.tokens_milli, 100000000);
}

/* §4 #8 */
static void try_consume_refills_first(void **state)
{
    int64_t avail = 0;
    rl_bucket_t b = big_bucket(0, 0);
    assert_true(rl_bucket_try_consume(&b, 30000000, 30000, &avail, NULL));
    assert_int_equal(avail, 50000);
    assert_int_equal(b.tokens_milli, 20000000);
}

/* §4 #9 */
static void retry_after_from_deficit_is_exact_plus_one_ms(void **state)
{
    rl_bucket_t b = big_bucket(0, 0);
    assert_int_equal(rl_bucket_retry_after_ms(&b, 0), 0);
    assert_int_equal(rl_bucket_retry_after_ms(&b, 10000000), 6001);
    assert_int_equal(rl_bucket_retry_after_ms(&b, 100000000), 60001);
}

/* §4 #10 */
static void force_consume_goes_negative_and_returns_uncapped(void **state)
{
    rl_bucket_t b = big_bucket(100000, 0);
    rl_bucket_force(&b, 50000000);
    assert_int_equal(b.tokens_milli, 50000000);
    b = big_bucket(100000, 0);
    rl_bucket_force(&b, 150000000);
    assert_int_equal(b.tokens_milli, -50000000);
    b = big_bucket(100000, 0);
    rl_bucket_force(&b, -50000000);
    assert_int_equal(b.tokens_milli, 150000000);
    assert_int_equal(b.total_consumed_milli, -50000000);
}

/* §4 #11 and the negative-division pitfall */
static void available_floors_toward_minus_infinity(void **state)
{
    rl_bucket_t b = big_bucket(0, 0);
    rl_bucket_refill(&b, 30000);
    assert_int_equal(rl_bucket_available(&b), 50000);
    b = big_bucket(-100000, 0);
    rl_bucket_refill(&b, 30000);
    assert_int_equal(rl_bucket_available(&b), -50000);
    b.tokens_milli = -500;
    assert_int_equal(rl_bucket_available(&b), -1);
    b.tokens_milli = 1999;
    assert_int_equal(rl_bucket_available(&b), 1);
}

/* §4 #12: "would refill help?" on a 100/min bucket, checked over sets of buckets. */
static void refill_helps_only_when_every_limit_fits(void **state)
{
    rl_limit_t rpm;
    assert_int_equal(rl_limit_per_minute(&rpm, "rpm", 100, 0), 0);
    rl_bucket_set_t set;
    memset(&set, 0, sizeof set);
    set.count = 1;
    set.limits[0] = rpm;
    rl_bucket_init(&set.buckets[0], &rpm, 0);
    set.buckets[0].tokens_milli = 0;
    rl_bucket_refill(&set.buckets[0], 30000);
    set.delta_milli[0] = 10000;
    assert_true(rl_bucket_sets_fit(&set, 1));

    rl_bucket_init(&set.buckets[0], &rpm, 0);
    set.buckets[0].tokens_milli = 0;
    rl_bucket_refill(&set.buckets[0], 1000);
    set.delta_milli[0] = 100000;
    assert_false(rl_bucket_sets_fit(&set, 1));
    assert_true(rl_bucket_retry_after_ms(&set.buckets[0], 100000 - set.buckets[0].tokens_milli) >
                0);

    /* a second limit that fails makes the answer no */
    rl_limit_t tpm;
    assert_int_equal(rl_limit_per_minute(&tpm, "tpm", 100, 0), 0);
    set.count = 2;
    set.limits[1] = tpm;
    rl_bucket_init(&set.buckets[0], &rpm, 0);
    rl_bucket_init(&set.buckets[1], &tpm, 0);
    set.delta_milli[0] = 1000;
    set.delta_milli[1] = 200000;
    assert_false(rl_bucket_sets_fit(&set, 1));
    set.delta_milli[1] = 0;
    assert_true(rl_bucket_sets_fit(&set, 1));
}

/* §4 #13 */
static void drift_carries_over_the_unused_milliseconds(void **state)
{
    rl_limit_t l;
    assert_int_equal(rl_limit_per_minute(&l, "rpm", 10, 0), 0);
    rl_bucket_t b;
    rl_bucket_init(&b, &l, 0);
    b.tokens_milli = 0;
    rl_bucket_refill(&b, 7);
    assert_int_equal(b.tokens_milli, 1);
    assert_int_equal(b.last_refill_ms, 6);
    rl_bucket_init(&b, &l, 0);
    b.tokens_milli = 0;
    rl_bucket_refill(&b, 1);
    assert_int_equal(b.tokens_milli, 0);
    assert_int_equal(b.last_refill_ms, 0);
    /* a clock going backwards changes nothing */
    rl_bucket_refill(&b, -100);
    assert_int_equal(b.last_refill_ms, 0);
}

/* Products past 64 bits stay exact (a year of a large per-second limit). */
static void refill_is_exact_past_64_bit_products(void **state)
{
    rl_limit_t l;
    assert_int_equal(rl_limit_per_second(&l, "rps", 1000000000000LL, 0), 0);
    rl_bucket_t b;
    rl_bucket_init(&b, &l, 0);
    b.tokens_milli = 0;
    rl_bucket_refill(&b, 365LL * 86400 * 1000);
    assert_int_equal(b.tokens_milli, b.capacity_milli);
    assert_int_equal(rl_muldiv(INT64_MAX, 4, 2), INT64_MAX);
    assert_int_equal(rl_muldiv(-3, 1, 2), -2);
}

/* §4 #52 */
static void factories_set_capacity_refill_and_period(void **state)
{
    rl_limit_t l;
    assert_int_equal(rl_limit_per_minute(&l, "rpm", 100, 0), 0);
    assert_string_equal(l.name, "rpm");
    assert_int_equal(l.capacity, 100);
    assert_int_equal(l.refill_amount, 100);
    assert_int_equal(l.refill_period_s, 60);
    assert_int_equal(rl_limit_per_hour(&l, "h", 5, 0), 0);
    assert_int_equal(l.refill_period_s, 3600);
    assert_int_equal(rl_limit_per_day(&l, "d", 5, 0), 0);
    assert_int_equal(l.refill_period_s, 86400);
    assert_int_equal(rl_limit_per_second(&l, "s", 5, 0), 0);
    assert_int_equal(l.refill_period_s, 1);
    /* per_minute(60) refills 1 token per second: 1000 millitokens per 1000 ms */
    assert_int_equal(rl_limit_per_minute(&l, "rpm", 60, 0), 0);
    rl_bucket_t b;
    rl_bucket_init(&b, &l, 0);
    assert_int_equal(b.refill_amount_milli * 1000 / b.refill_period_ms, 1000);
    /* burst: an emptied 10k/min bucket with burst 15k takes 1.5 min to refill */
    assert_int_equal(rl_limit_per_minute(&l, "tpm", 10000, 15000), 0);
    assert_int_equal(l.capacity, 15000);
    rl_bucket_init(&b, &l, 0);
    b.tokens_milli = 0;
    rl_bucket_refill(&b, 89999);
    assert_true(b.tokens_milli < b.capacity_milli);
    rl_bucket_refill(&b, 90000);
    assert_int_equal(b.tokens_milli, b.capacity_milli);
}

/* §4 #53 */
static void invalid_limit_values_and_names_are_rejected(void **state)
{
    rl_limit_t l;
    memset(&l, 0x55, sizeof l);
    assert_int_equal(rl_limit_custom(&l, "x", 0, 1, 1), RL_ELIMIT);
    assert_int_equal(rl_limit_custom(&l, "x", 1, 0, 1), RL_ELIMIT);
    assert_int_equal(rl_limit_custom(&l, "x", 1, 1, -1), RL_ELIMIT);
    assert_int_equal(rl_limit_per_minute(&l, "x", 10, -1), RL_ELIMIT);
    assert_int_equal(rl_limit_custom(&l, "wcu", 1, 1, 1), RL_ENAME);
    assert_int_equal(rl_limit_custom(&l, "1rpm", 1, 1, 1), RL_ENAME);
    assert_int_equal(rl_limit_custom(&l, "r#pm", 1, 1, 1), RL_ENAME);
    assert_int_equal(rl_limit_custom(&l, "x", 2000000000000LL, 1, 1), RL_ERANGE);
    assert_int_equal(rl_limit_custom(&l, "a.b-c_d", 1, 1, 1), 0);
    char name[70];
    memset(name, 'a', sizeof name);
    name[64] = 0;
    assert_int_equal(rl_validate_limit_name(name), 0);
    name[64] = 'a';
    name[65] = 0;
    assert_int_equal(rl_validate_limit_name(name), RL_ENAME);

    assert_int_equal(rl_validate_resource("gpt-4/"), 0);
    assert_int_equal(rl_validate_resource("openai/gpt-4"), 0);
    assert_int_equal(rl_validate_resource("/gpt-4"), RL_ERESOURCE);
    assert_int_equal(rl_validate_resource(""), RL_ERESOURCE);
    assert_int_equal(rl_validate_resource(NULL), RL_ERESOURCE);
    assert_int_equal(rl_validate_resource("a#b"), RL_ERESOURCE);
}

/* §4 #20 at the model level */
static void entity_ids_allow_their_own_alphabet(void **state)
{
    assert_int_equal(rl_validate_entity_id("key-1"), 0);
    assert_int_equal(rl_validate_entity_id("1user@example.org:prod"), 0);
    assert_int_equal(rl_validate_entity_id(""), RL_EENTITY);
    assert_int_equal(rl_validate_entity_id("a#b"), RL_EENTITY);
    assert_int_equal(rl_validate_entity_id("-a"), RL_EENTITY);
    assert_int_equal(rl_validate_entity_id("a/b"), RL_EENTITY);
    char id[300];
    memset(id, 'a', sizeof id);
    id[256] = 0;
    assert_int_equal(rl_validate_entity_id(id), 0);
    id[256] = 'a';
    id[257] = 0;
    assert_int_equal(rl_validate_entity_id(id), RL_EENTITY);
}

static rl_status_t status(const char *name, int64_t avail, int64_t req, int64_t retry_ms)
{
    rl_status_t st;
    memset(&st, 0, sizeof st);
    assert_int_equal(rl_limit_per_minute(&st.limit, name, 100, 0), 0);
    st.available = avail;
    st.requested = req;
    st.exceeded = retry_ms > 0;
    st.retry_after_ms = retry_ms;
    return st;
}

/* §4 #45, #46 */
static void exceeded_needs_a_violation_and_picks_the_longest(void **state)
{
    rl_exceeded_t ex;
    rl_exceeded_init(&ex, "key-1", NULL, "gpt-4");
    assert_int_equal(rl_exceeded_finish(&ex), RL_ENOVIOLATION);
    rl_status_t ok = status("ok", 10, 1, 0);
    assert_int_equal(rl_exceeded_add(&ex, &ok), 0);
    assert_int_equal(rl_exceeded_finish(&ex), RL_ENOVIOLATION);
    rl_status_t a = status("a", 0, 1, 5000), b = status("b", 0, 1, 15000),
                c = status("c", 0, 1, 10000), d = status("d", 0, 1, 15000);
    rl_exceeded_add(&ex, &a);
    rl_exceeded_add(&ex, &b);
    rl_exceeded_add(&ex, &c);
    rl_exceeded_add(&ex, &d);
    assert_int_equal(rl_exceeded_finish(&ex), 0);
    assert_string_equal(ex.statuses[ex.primary].limit.name, "b");
    assert_int_equal(ex.retry_after_ms, 15000);
    assert_int_equal(rl_exceeded_violations(&ex), 4);
}

/* §4 #47 */
static void exceeded_message_names_entity_resource_limits_and_seconds(void **state)
{
    rl_exceeded_t ex;
    rl_exceeded_init(&ex, "key-1", NULL, "gpt-4");
    rl_status_t a = status("rpm", 0, 1, 12500), b = status("tpm", 0, 1, 3000),
                ok = status("ok", 5, 1, 0);
    rl_exceeded_add(&ex, &a);
    rl_exceeded_add(&ex, &ok);
    rl_exceeded_add(&ex, &b);
    assert_int_equal(rl_exceeded_finish(&ex), 0);
    char msg[256];
    rl_exceeded_message(&ex, msg, sizeof msg);
    assert_string_equal(msg,
                        "Rate limit exceeded for key-1/gpt-4: ['rpm', 'tpm']. Retry after 12.5s");
    /* truncation keeps a terminated string and returns the full length */
    char small[10];
    int n = rl_exceeded_message(&ex, small, sizeof small);
    assert_int_equal(n, (int)strlen(msg));
    assert_int_equal(strlen(small), 9);
}

/* §4 #48 */
static void exceeded_json_carries_ms_and_limit_info(void **state)
{
    rl_exceeded_t ex;
    rl_exceeded_init(&ex, "key-1", "proj-1", "gpt-4");
    rl_status_t a = status("rpm", 0, 1, 7500);
    a.level = 1;
    rl_exceeded_add(&ex, &a);
    assert_int_equal(rl_exceeded_finish(&ex), 0);
    char body[2048];
    int n = rl_exceeded_json(&ex, body, sizeof body);
    assert_true(n > 0 && (size_t)n < sizeof body);
    assert_non_null(strstr(body, "\"retry_after_ms\":7500,"));
    assert_non_null(strstr(body, "\"retry_after_seconds\":7.500,"));
    assert_non_null(strstr(body, "\"capacity\":100,\"refill_amount\":100,"
                                 "\"refill_period_seconds\":60"));
    assert_non_null(strstr(body, "\"entity_id\":\"proj-1\""));
    assert_non_null(strstr(body, "\"error\":\"rate_limit_exceeded\""));
}

/* §4 #49 and #15's header */
static void retry_after_header_is_whole_seconds_plus_one(void **state)
{
    char h[32];
    rl_retry_after_header(1100, h, sizeof h);
    assert_string_equal(h, "2");
    rl_retry_after_header(1900, h, sizeof h);
    assert_string_equal(h, "2");
    rl_retry_after_header(2000, h, sizeof h);
    assert_string_equal(h, "3");
    rl_retry_after_header(100, h, sizeof h);
    assert_string_equal(h, "1");
    rl_retry_after_header(60001, h, sizeof h);
    assert_string_equal(h, "61");
}

/* §4 #50 */
static void deficit_is_requested_minus_available_at_least_zero(void **state)
{
    rl_status_t st = status("x", 30, 50, 1);
    assert_int_equal(rl_status_deficit(&st), 20);
    st = status("x", -10, 5, 1);
    assert_int_equal(rl_status_deficit(&st), 15);
    st = status("x", 10, 5, 0);
    assert_int_equal(rl_status_deficit(&st), 0);
}

/* §4 #51: unavailability is its own code, not the exceeded one; every code has a text. */
static void error_table_names_every_code(void **state)
{
    assert_int_not_equal(RL_EUNAVAILABLE, RL_EEXCEEDED);
    assert_true(rl_is_backend_error(RL_EBACKEND));
    assert_false(rl_is_backend_error(RL_EEXCEEDED));
    assert_string_equal(rl_strerror(RL_ELEASE), "lease is no longer active");
    assert_string_equal(rl_err_name(RL_ENOLIMITS), "ENOLIMITS");
    assert_string_equal(rl_err_name(12345), "EUNKNOWN");
    assert_string_equal(rl_strerror(0), "success");
}

static void config_rejects_duplicates_and_too_many(void **state)
{
    rl_limit_t l[RL_MAX_LIMITS + 1];
    char name[8];
    for (int i = 0; i <= RL_MAX_LIMITS; i++) {
        snprintf(name, sizeof name, "l%d", i);
        assert_int_equal(rl_limit_per_minute(&l[i], name, 10, 0), 0);
    }
    rl_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(rl_config_set(&cfg, l, RL_MAX_LIMITS + 1), RL_ETOOMANY);
    assert_int_equal(rl_config_set(&cfg, l, RL_MAX_LIMITS), 0);
    assert_int_equal(cfg.count, RL_MAX_LIMITS);
    assert_int_equal(rl_config_find(&cfg, "l3"), 3);
    l[1] = l[0];
    assert_int_equal(rl_config_set(&cfg, l, 2), RL_EINVAL);
}

/* §4 #54, #55, #56, #58 on the cache itself (the repository's use is tested in test_limiter). */
static void cache_expires_after_ttl_and_caches_absence(void **state)
{
    rl_cache_t c;
    assert_int_equal(rl_cache_init(&c, 1000), 0);
    int v = 7, out = 0;
    bool present = false;
    assert_int_equal(rl_cache_get(&c, "k", 0, &out, sizeof out, &present), 0);
    assert_int_equal(rl_cache_put(&c, "k", 0, &v, sizeof v), 0);
    assert_int_equal(rl_cache_get(&c, "k", 999, &out, sizeof out, &present), 1);
    assert_true(present);
    assert_int_equal(out, 7);
    assert_int_equal(rl_cache_get(&c, "k", 1100, &out, sizeof out, &present), 0);
    /* negative entry */
    assert_int_equal(rl_cache_put(&c, "none", 0, NULL, 0), 0);
    assert_int_equal(rl_cache_get(&c, "none", 10, &out, sizeof out, &present), 1);
    assert_false(present);
    rl_cache_stats_t s = rl_cache_stats(&c);
    assert_int_equal(s.hits, 2);
    assert_int_equal(s.misses, 2);
    assert_int_equal(s.ttl_ms, 1000);
    rl_cache_destroy(&c);
}

static void cache_invalidate_empties_it(void **state)
{
    rl_cache_t c;
    assert_int_equal(rl_cache_init(&c, 60000), 0);
    char key[RL_CACHE_KEY_MAX];
    rl_cache_key_config(key, RL_CONFIG_SYSTEM, NULL, NULL);
    assert_string_equal(key, "s");
    rl_cache_put(&c, key, 0, NULL, 0);
    rl_cache_key_config(key, RL_CONFIG_RESOURCE, NULL, "gpt-4");
    assert_string_equal(key, "r#gpt-4");
    rl_cache_put(&c, key, 0, NULL, 0);
    rl_cache_key_config(key, RL_CONFIG_ENTITY, "key-1", "gpt-4");
    assert_string_equal(key, "e#key-1#gpt-4");
    rl_cache_put(&c, key, 0, NULL, 0);
    rl_cache_put(&c, key, 0, NULL, 0); /* replacing does not grow it */
    assert_int_equal(rl_cache_stats(&c).size, 3);
    rl_cache_evict(&c, key);
    assert_int_equal(rl_cache_stats(&c).size, 2);
    rl_cache_clear(&c);
    assert_int_equal(rl_cache_stats(&c).size, 0);
    bool present;
    assert_int_equal(rl_cache_get(&c, "s", 1, NULL, 0, &present), 0);
    rl_cache_destroy(&c);
}

static void cache_with_zero_ttl_never_hits(void **state)
{
    rl_cache_t c;
    assert_int_equal(rl_cache_init(&c, 0), 0);
    int v = 1;
    bool present;
    rl_cache_put(&c, "k", 0, &v, sizeof v);
    assert_int_equal(rl_cache_get(&c, "k", 0, &v, sizeof v, &present), 0);
    assert_int_equal(rl_cache_stats(&c).size, 0);
    rl_cache_destroy(&c);
    assert_int_equal(rl_cache_init(&c, -1), RL_EINVAL);
}

/* Fault injection: the Nth allocation fails and nothing leaks (ASan checks the leak part). */
static int alloc_budget;
static void *failing_malloc(size_t n)
{
    if (alloc_budget-- <= 0)
        return NULL;
    return malloc(n);
}

static void cache_survives_allocation_failures(void **state)
{
    for (int budget = 0; budget < 4; budget++) {
        alloc_budget = budget;
        rl_set_allocator(failing_malloc, NULL, NULL);
        rl_cache_t c;
        int rc = rl_cache_init(&c, 1000);
        if (rc == 0) {
            int v = 3;
            for (int i = 0; i < 3; i++) {
                char key[8];
                snprintf(key, sizeof key, "k%d", i);
                rc = rl_cache_put(&c, key, 0, &v, sizeof v);
                assert_true(rc == 0 || rc == RL_ENOMEM);
            }
            rl_cache_destroy(&c);
        } else {
            assert_int_equal(rc, RL_ENOMEM);
        }
        rl_set_allocator(NULL, NULL, NULL);
    }
}

static void urls_parse_tcp_and_unix_forms(void **state)
{
    rl_url_t u;
    assert_int_equal(rl_url_parse("redis://127.0.0.1:6380/2", &u), 0);
    assert_false(u.is_unix);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 2);
    assert_int_equal(rl_url_parse("redis://localhost", &u), 0);
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_int_equal(rl_url_parse("unix:///tmp/r.sock", &u), 0);
    assert_true(u.is_unix);
    assert_string_equal(u.path, "/tmp/r.sock");
    assert_int_equal(rl_url_parse("unix:///tmp/r.sock?db=3", &u), 0);
    assert_int_equal(u.db, 3);
    assert_int_equal(rl_url_parse("http://x", &u), RL_EURL);
    assert_int_equal(rl_url_parse("redis://:1", &u), RL_EURL);
    assert_int_equal(rl_url_parse("redis://h:99999", &u), RL_EURL);
    assert_int_equal(rl_url_parse("redis://h:12x", &u), RL_EURL);
    assert_int_equal(rl_url_parse("unix://rel", &u), RL_EURL);
}

static void cluster_urls_list_seed_nodes_and_locate_errors(void **state)
{
    (void)state;
    rl_url_t seeds[RL_CLUSTER_SEEDS_MAX];
    size_t n = 0, at = 99;
    const char *why = NULL;
    assert_int_equal(rl_cluster_url_parse("redis-cluster://10.0.0.1:7000,db-2.local,h_3:7002",
                                          seeds, RL_CLUSTER_SEEDS_MAX, &n, &at, &why), 0);
    assert_int_equal(n, 3);
    assert_string_equal(seeds[0].host, "10.0.0.1");
    assert_int_equal(seeds[0].port, 7000);
    assert_string_equal(seeds[1].host, "db-2.local");
    assert_int_equal(seeds[1].port, 6379);
    assert_int_equal(seeds[2].port, 7002);
    assert_false(seeds[2].is_unix);
    assert_int_equal(rl_cluster_url_parse("redis://h:1", seeds, 4, &n, &at, &why), RL_EURL);
    assert_int_equal(at, 0);
    assert_int_equal(rl_cluster_url_parse("redis-cluster://a,,b", seeds, 4, &n, &at, &why),
                     RL_EURL);
    assert_int_equal(at, 18);
    assert_string_equal(why, "expected a host name");
    assert_int_equal(rl_cluster_url_parse("redis-cluster://a:65536", seeds, 4, &n, &at, &why),
                     RL_EURL);
    assert_int_equal(at, 18);
    assert_int_equal(rl_cluster_url_parse("redis-cluster://a/1", seeds, 4, &n, &at, &why),
                     RL_EURL);
    assert_int_equal(at, 17);
    assert_string_equal(why, "a cluster has no database number");
    /* more seeds than the caller has room for */
    assert_int_equal(rl_cluster_url_parse("redis-cluster://a,b,c", seeds, 2, &n, &at, &why),
                     RL_EURL);
    assert_int_equal(at, 20);
    assert_string_equal(why, "too many seed nodes");
}

static void manual_clock_reads_the_callers_variable(void **state)
{
    int64_t now = 42;
    rl_clock_t c = rl_manual_clock(&now);
    assert_int_equal(rl_clock_now(&c), 42);
    now = 43;
    assert_int_equal(rl_clock_now(&c), 43);
    assert_true(rl_clock_now(NULL) > 1600000000000LL);
}

/* Issue 12: bounds, reconciliation and the retry-after rule in the pure core. */
static void amounts_are_checked_and_summed_without_wrapping(void **state)
{
    (void)state;
    const int64_t max = RL_MAX_AMOUNT;
    rl_amount_t ok[] = {{"a", max}, {"a", -max}, {"b", 1}};
    int64_t milli = -1;
    assert_int_equal(rl_amounts_check(ok, 3, true), 0);
    assert_int_equal(rl_amounts_check(ok, 3, false), RL_EINVAL); /* a negative amount */
    assert_int_equal(rl_amounts_sum(ok, 3, "a", false, &milli), 0);
    assert_int_equal(milli, 0);
    assert_int_equal(rl_amounts_sum(ok, 3, "a", true, &milli), 0);
    assert_int_equal(milli, max * 1000);
    rl_amount_t big[] = {{"a", max + 1}}, huge[] = {{"a", INT64_MIN}}, noname[] = {{NULL, 1}};
    assert_int_equal(rl_amounts_check(big, 1, true), RL_ERANGE);
    assert_int_equal(rl_amounts_check(huge, 1, true), RL_ERANGE);
    assert_int_equal(rl_amounts_check(noname, 1, true), RL_EINVAL);
    rl_amount_t twice[] = {{"a", max}, {"a", max}};
    assert_int_equal(rl_amounts_sum(twice, 2, "a", false, &milli), RL_ERANGE);
    assert_int_equal(rl_delta_check(RL_MAX_DELTA_MILLI), 0);
    assert_int_equal(rl_delta_check(-RL_MAX_DELTA_MILLI - 1), RL_ERANGE);
    /* Forced consumption saturates instead of wrapping. */
    rl_bucket_t b = big_bucket(0, 0);
    for (int i = 0; i < 10; i++)
        rl_bucket_force(&b, RL_MAX_DELTA_MILLI);
    assert_true(b.tokens_milli == -RL_MAX_DEBT_MILLI);
    for (int i = 0; i < 10; i++)
        rl_bucket_force(&b, -RL_MAX_DELTA_MILLI);
    assert_true(b.tokens_milli == b.capacity_milli + RL_MAX_DELTA_MILLI);
    assert_true(b.total_consumed_milli == -RL_MAX_COUNTER_MILLI);
}

static void reconcile_keeps_what_was_used(void **state)
{
    (void)state;
    rl_limit_t hundred, ten, slow;
    assert_int_equal(rl_limit_per_minute(&hundred, "rpm", 100, 0), 0);
    assert_int_equal(rl_limit_per_minute(&ten, "rpm", 10, 0), 0);
    assert_int_equal(rl_limit_custom(&slow, "rpm", 100, 1, 60), 0);
    rl_bucket_t b;
    rl_bucket_init(&b, &hundred, 0);
    rl_bucket_force(&b, 1000); /* 99 left */
    assert_false(rl_bucket_reconcile(&b, &hundred, 0));
    assert_true(rl_bucket_reconcile(&b, &ten, 0));
    assert_int_equal(b.tokens_milli, 9000);
    assert_int_equal(b.capacity_milli, 10000);
    /* used beyond the new capacity: empty, not in debt; already in debt: the debt stays */
    rl_bucket_init(&b, &hundred, 0);
    rl_bucket_force(&b, 50000);
    assert_true(rl_bucket_reconcile(&b, &ten, 0));
    assert_int_equal(b.tokens_milli, 0);
    rl_bucket_init(&b, &hundred, 0);
    rl_bucket_force(&b, 120000);
    assert_true(rl_bucket_reconcile(&b, &ten, 0));
    assert_int_equal(b.tokens_milli, -20000);
    /* the time before the change counts at the old rate, the time after at the new one */
    rl_bucket_init(&b, &hundred, 0);
    rl_bucket_force(&b, 100000);
    assert_true(rl_bucket_reconcile(&b, &slow, 30000)); /* +50 at 100/min, same capacity */
    assert_int_equal(b.tokens_milli, 50000);
    rl_bucket_refill(&b, 90000); /* +1 at 1/min */
    assert_int_equal(b.tokens_milli, 51000);
}

static void wait_counts_from_a_timestamp_ahead_of_now(void **state)
{
    (void)state;
    rl_bucket_t b = big_bucket(0, 60000); /* written at t = 60 s */
    /* 10k short at 100k/min: 6,001 ms measured from the bucket's own timestamp */
    assert_int_equal(rl_bucket_wait_ms(&b, 10000 * 1000, 60000), 6001);
    assert_int_equal(rl_bucket_wait_ms(&b, 10000 * 1000, 0), 66001); /* clock stepped back */
    assert_int_equal(rl_bucket_wait_ms(&b, 0, 0), 0);
    int64_t available = 0, retry = 0;
    assert_false(rl_bucket_try_consume(&b, 10000 * 1000, 0, &available, &retry));
    assert_int_equal(retry, 66001);
}

/* Values from the Redis Cluster spec and the CLUSTER KEYSLOT documentation. */
static void key_slots_follow_the_cluster_spec(void **state)
{
    (void)state;
    assert_int_equal(rl_crc16("123456789", 9), 0x31C3);
    assert_int_equal(rl_key_slot("somekey", 7), 11058);
    assert_int_equal(rl_key_slot("foo{hash_tag}", 13), 2515);
    assert_int_equal(rl_key_slot("bar{hash_tag}", 13), 2515);
    assert_int_equal(rl_key_slot("{user1}.following", 17), 8106);
    /* an empty tag hashes the whole key; only the first '{' and the first '}' after it count */
    assert_int_equal(rl_key_slot("foo{}{bar}", 10), rl_crc16("foo{}{bar}", 10) % 16384);
    assert_int_equal(rl_key_slot("foo{{bar}}zap", 13), rl_crc16("{bar", 4) % 16384);
    assert_int_equal(rl_key_slot("foo{bar}{zap}", 13), rl_crc16("bar", 3) % 16384);
    assert_int_equal(rl_key_slot("{unclosed", 9), rl_crc16("{unclosed", 9) % 16384);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refill_at_same_instant_changes_nothing),
        cmocka_unit_test(refill_adds_elapsed_share_and_caps),
        cmocka_unit_test(try_consume_reports_pre_consume_available_and_retry),
        cmocka_unit_test(try_consume_refills_first),
        cmocka_unit_test(retry_after_from_deficit_is_exact_plus_one_ms),
        cmocka_unit_test(force_consume_goes_negative_and_returns_uncapped),
        cmocka_unit_test(available_floors_toward_minus_infinity),
        cmocka_unit_test(refill_helps_only_when_every_limit_fits),
        cmocka_unit_test(drift_carries_over_the_unused_milliseconds),
        cmocka_unit_test(refill_is_exact_past_64_bit_products),
        cmocka_unit_test(factories_set_capacity_refill_and_period),
        cmocka_unit_test(invalid_limit_values_and_names_are_rejected),
        cmocka_unit_test(entity_ids_allow_their_own_alphabet),
        cmocka_unit_test(exceeded_needs_a_violation_and_picks_the_longest),
        cmocka_unit_test(exceeded_message_names_entity_resource_limits_and_seconds),
        cmocka_unit_test(exceeded_json_carries_ms_and_limit_info),
        cmocka_unit_test(retry_after_header_is_whole_seconds_plus_one),
        cmocka_unit_test(deficit_is_requested_minus_available_at_least_zero),
        cmocka_unit_test(error_table_names_every_code),
        cmocka_unit_test(config_rejects_duplicates_and_too_many),
        cmocka_unit_test(cache_expires_after_ttl_and_caches_absence),
        cmocka_unit_test(cache_invalidate_empties_it),
        cmocka_unit_test(cache_with_zero_ttl_never_hits),
        cmocka_unit_test(cache_survives_allocation_failures),
        cmocka_unit_test(urls_parse_tcp_and_unix_forms),
        cmocka_unit_test(cluster_urls_list_seed_nodes_and_locate_errors),
        cmocka_unit_test(manual_clock_reads_the_callers_variable),
        cmocka_unit_test(amounts_are_checked_and_summed_without_wrapping),
        cmocka_unit_test(reconcile_keeps_what_was_used),
        cmocka_unit_test(wait_counts_from_a_timestamp_ahead_of_now),
        cmocka_unit_test(key_slots_follow_the_cluster_spec),
    };
    return cmocka_run_group_tests_name("limiter_model", tests, NULL, NULL);
}
