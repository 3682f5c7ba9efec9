/* Token bucket arithmetic in integer millitokens, shared by every backend and both APIs. */
#include <unasync/limiter/rl_types.h>

__extension__ typedef __int128 rl_i128;

static int64_t saturate(rl_i128 v)
{
    if (v > (rl_i128)INT64_MAX)
        return INT64_MAX;
    if (v < (rl_i128)INT64_MIN)
        return INT64_MIN;
    return (int64_t)v;
}

/* Floor division for a possibly negative numerator and a positive divisor (C truncates). */
static rl_i128 floor_div(rl_i128 a, rl_i128 b)
{
    rl_i128 q = a / b;
    if ((a % b != 0) && (a < 0))
        q -= 1;
    return q;
}

int64_t rl_muldiv(int64_t a, int64_t b, int64_t c)
{
    return saturate(floor_div((rl_i128)a * b, c));
}

void rl_bucket_init(rl_bucket_t *b, const rl_limit_t *limit, int64_t now_ms)
{
    b->capacity_milli = limit->capacity * 1000;
    b->refill_amount_milli = limit->refill_amount * 1000;
    b->refill_period_ms = limit->refill_period_s * 1000;
    b->tokens_milli = b->capacity_milli;
    b->last_refill_ms = now_ms;
    b->total_consumed_milli = 0;
}

void rl_bucket_refill(rl_bucket_t *b, int64_t now_ms)
{
    int64_t elapsed = now_ms - b->last_refill_ms;
    if (elapsed <= 0 || b->refill_amount_milli <= 0 || b->refill_period_ms <= 0)
        return;
    rl_i128 add = (rl_i128)elapsed * b->refill_amount_milli / b->refill_period_ms;
    if (add == 0)
        return;
    rl_i128 tokens = (rl_i128)b->tokens_milli + add;
    if (tokens > b->capacity_milli)
        tokens = b->capacity_milli;
    b->tokens_milli = (int64_t)tokens;
    /* Advance only by the time the added tokens took; the rest of `elapsed` carries over. */
    b->last_refill_ms += saturate(add * b->refill_period_ms / b->refill_amount_milli);
}

int64_t rl_bucket_retry_after_ms(const rl_bucket_t *b, int64_t deficit_milli)
{
    if (deficit_milli <= 0)
        return 0;
    if (b->refill_amount_milli <= 0)
        return INT64_MAX;
    rl_i128 ms = (rl_i128)deficit_milli * b->refill_period_ms / b->refill_amount_milli + 1;
    return saturate(ms);
}

int64_t rl_bucket_available(const rl_bucket_t *b)
{
    return saturate(floor_div(b->tokens_milli, 1000));
}

bool rl_bucket_try_consume(rl_bucket_t *b, int64_t n_milli, int64_t now_ms, int64_t *available,
                           int64_t *retry_after_ms)
{
    rl_bucket_refill(b, now_ms);
    if (available)
        *available = rl_bucket_available(b);
    if (b->tokens_milli >= n_milli) {
        b->tokens_milli -= n_milli;
        b->total_consumed_milli += n_milli;
        if (retry_after_ms)
            *retry_after_ms = 0;
        return true;
    }
    if (retry_after_ms)
        *retry_after_ms = rl_bucket_retry_after_ms(b, n_milli - b->tokens_milli);
    return false;
}

void rl_bucket_force(rl_bucket_t *b, int64_t n_milli)
{
    b->tokens_milli = saturate((rl_i128)b->tokens_milli - n_milli);
    b->total_consumed_milli = saturate((rl_i128)b->total_consumed_milli + n_milli);
}

bool rl_bucket_sets_fit(const rl_bucket_set_t *sets, size_t n)
{
    for (size_t s = 0; s < n; s++) {
        for (size_t i = 0; i < sets[s].count; i++) {
            /* A zero request still fails on a bucket in debt, as in the model. */
            int64_t d = sets[s].delta_milli[i];
            if (d >= 0 && sets[s].buckets[i].tokens_milli < d)
                return false;
        }
    }
    return true;
}
