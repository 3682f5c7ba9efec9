/* Types, error codes and pure functions that the async limiter and its generated sync twin share.
 */
#ifndef RL_TYPES_H
#define RL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* The limiter's one error table. Every rl_ function returns 0 or one of these (negative) codes.
 * They lie below RL_EBASE so they never collide with a negative errno or a runtime code, which
 * travel as the `cause` of an rl_report_t. */
#define RL_EBASE (-30000)
#define RL_ERRNO_MAP(XX)                                                                           \
    XX(EINVAL, RL_EBASE - 1, "invalid argument")                                                   \
    XX(ENOMEM, RL_EBASE - 2, "out of memory")                                                      \
    XX(ENAME, RL_EBASE - 3, "invalid limit name")                                                  \
    XX(ERESOURCE, RL_EBASE - 4, "invalid resource name")                                           \
    XX(EENTITY, RL_EBASE - 5, "invalid entity id")                                                 \
    XX(ELIMIT, RL_EBASE - 6, "invalid limit value")                                                \
    XX(ETOOMANY, RL_EBASE - 7, "too many limits")                                                  \
    XX(ENOLIMITS, RL_EBASE - 8, "no limits configured")                                            \
    XX(EEXCEEDED, RL_EBASE - 9, "rate limit exceeded")                                             \
    XX(ENOVIOLATION, RL_EBASE - 10, "exceeded result without a violation")                         \
    XX(EUNAVAILABLE, RL_EBASE - 11, "rate limiter unavailable")                                    \
    XX(ELEASE, RL_EBASE - 12, "lease is no longer active")                                         \
    XX(ENOTFOUND, RL_EBASE - 13, "not found")                                                      \
    XX(EEXIST, RL_EBASE - 14, "already exists")                                                    \
    XX(EBACKEND, RL_EBASE - 15, "backend error")                                                   \
    XX(EPROTO, RL_EBASE - 16, "unexpected reply from the backend")                                 \
    XX(EURL, RL_EBASE - 17, "invalid backend url")                                                 \
    XX(ERANGE, RL_EBASE - 18, "value out of range")                                                \
    XX(ESTALE, RL_EBASE - 19, "the entity changed during the call")

enum rl_error {
#define RL_ERR_ENUM(name, value, text) RL_##name = (value),
    RL_ERRNO_MAP(RL_ERR_ENUM)
#undef RL_ERR_ENUM
};

/* A static description of `err` (0 gives "success"); never NULL. rl_err_name gives "EINVAL" etc.,
 * "EUNKNOWN" for a code outside the table. */
const char *rl_strerror(int err);
const char *rl_err_name(int err);

/* True for the codes that mean "the backend could not be reached or answered wrongly"; these are
 * the failures that on_unavailable decides about. */
bool rl_is_backend_error(int err);

/* ------------------------------------------------------------------------------------------ */
/* Allocation hook                                                                              */
/* ------------------------------------------------------------------------------------------ */

/* Every allocation of the limiter (both APIs) goes through these, so tests can fail the Nth one.
 * Passing NULL for all three restores malloc/realloc/free. Not thread-safe: set it before use. */
void rl_set_allocator(void *(*alloc)(size_t), void *(*realloc_fn)(void *, size_t),
                      void (*free_fn)(void *));
void *rl_malloc(size_t n);
void *rl_calloc(size_t n, size_t size);
void *rl_realloc(void *p, size_t n);
void rl_free(void *p);
char *rl_strdup(const char *s);

/* ------------------------------------------------------------------------------------------ */
/* Clock                                                                                        */
/* ------------------------------------------------------------------------------------------ */

/* Every time read of the limiter goes through a clock, in milliseconds since the Unix epoch (the
 * Redis backend stores these, so processes sharing a server must share a time base). A NULL clock
 * or a NULL now_ms means CLOCK_REALTIME. */
typedef struct rl_clock {
    int64_t (*now_ms)(void *ctx);
    void *ctx;
} rl_clock_t;

int64_t rl_clock_now(const rl_clock_t *clock);

/* A clock that only moves when told to: for tests and simulations. rl_manual_clock makes a clock
 * reading *ms; the caller keeps `ms` alive and advances it. */
rl_clock_t rl_manual_clock(int64_t *ms);

/* ------------------------------------------------------------------------------------------ */
/* Limits and validation                                                                        */
/* ------------------------------------------------------------------------------------------ */

#define RL_LIMIT_NAME_MAX   64
#define RL_RESOURCE_MAX     64
#define RL_ENTITY_ID_MAX    256
#define RL_MAX_LIMITS       8
#define RL_DEFAULT_RESOURCE "_default_"

/* Bounds on every number that enters the API (docs/limiter.md, "Bounds"). A limit's capacity and
 * refill amount, and every amount passed to acquire, lease consume/adjust/release and
 * time_until_available (the sum of a name given several times included), are at most
 * RL_MAX_AMOUNT whole tokens in magnitude; past it the call fails with RL_ERANGE and changes
 * nothing. A lease's net consumption per limit stays within 3 * RL_MAX_AMOUNT, so a commit
 * writes at most RL_MAX_DELTA_MILLI. Stored tokens are clamped to [-RL_MAX_DEBT_MILLI,
 * capacity + RL_MAX_DELTA_MILLI] and the net counter saturates at RL_MAX_COUNTER_MILLI: every
 * stored value is an integer below 2^53, exact in C and in the Redis script's doubles. */
#define RL_MAX_AMOUNT        INT64_C(1000000000000)
#define RL_MAX_PERIOD_S      INT64_C(315360000)
#define RL_MAX_MILLI         (RL_MAX_AMOUNT * 1000)
#define RL_MAX_LEASE_MILLI   (3 * RL_MAX_MILLI)
#define RL_MAX_DELTA_MILLI   (4 * RL_MAX_MILLI)
#define RL_MAX_DEBT_MILLI    (4 * RL_MAX_MILLI)
#define RL_MAX_COUNTER_MILLI INT64_C(9000000000000000)

/* A limit: a bucket of `capacity` tokens refilled by `refill_amount` every `refill_period_s`
 * seconds. All three are > 0; amounts are whole tokens, stored internally as millitokens. */
typedef struct rl_limit {
    char name[RL_LIMIT_NAME_MAX + 1];
    int64_t capacity;
    int64_t refill_amount;
    int64_t refill_period_s;
} rl_limit_t;

/* Fill *out. custom sets every field; the rate factories set capacity = burst (or rate when
 * burst is 0), refill = rate, period 1, 60, 3600 or 86400 s. 0, RL_ENAME (bad or reserved name),
 * RL_ELIMIT (a value <= 0, burst < 0) or RL_ERANGE (a value too large for millitoken math). On
 * error *out is left unchanged. */
int rl_limit_custom(rl_limit_t *out, const char *name, int64_t capacity, int64_t refill_amount,
                    int64_t refill_period_s);
int rl_limit_per_second(rl_limit_t *out, const char *name, int64_t rate, int64_t burst);
int rl_limit_per_minute(rl_limit_t *out, const char *name, int64_t rate, int64_t burst);
int rl_limit_per_hour(rl_limit_t *out, const char *name, int64_t rate, int64_t burst);
int rl_limit_per_day(rl_limit_t *out, const char *name, int64_t rate, int64_t burst);

/* Validation of user input. Names: a letter, then [A-Za-z0-9_.-], at most 64, not "wcu".
 * Resources: the same plus '/', at most 64 (so one may end with '/', never start with it).
 * Entity ids: alphanumeric first, then [A-Za-z0-9_.:@-], at most 256. NULL and "" are invalid.
 * Return 0 or RL_ENAME / RL_ERESOURCE / RL_EENTITY. */
int rl_validate_limit_name(const char *name);
int rl_validate_resource(const char *resource);
int rl_validate_entity_id(const char *entity_id);
/* Checks a whole limit struct as the factories would build it. */
int rl_limit_validate(const rl_limit_t *limit);

/* ------------------------------------------------------------------------------------------ */
/* Token bucket (integer millitokens, lazy refill with drift compensation)                      */
/* ------------------------------------------------------------------------------------------ */

typedef struct rl_bucket {
    int64_t tokens_milli;
    int64_t last_refill_ms;
    int64_t capacity_milli;
    int64_t refill_amount_milli;
    int64_t refill_period_ms;
    int64_t total_consumed_milli; /* net consumption since creation */
} rl_bucket_t;

/* A full bucket for `limit`, last refilled at now_ms. */
void rl_bucket_init(rl_bucket_t *b, const rl_limit_t *limit, int64_t now_ms);

/* Lazy refill: adds elapsed * amount / period (rounded down) up to capacity and advances the
 * timestamp only by the time those tokens took, so the remainder carries over. Does nothing,
 * timestamp included, when no whole millitoken has accrued or the clock went backwards. */
void rl_bucket_refill(rl_bucket_t *b, int64_t now_ms);

/* Milliseconds until `deficit_milli` more millitokens have accrued: deficit * period / amount
 * rounded down, plus 1 ms; 0 for a deficit <= 0. Saturates at INT64_MAX. */
int64_t rl_bucket_retry_after_ms(const rl_bucket_t *b, int64_t deficit_milli);

/* Brings a bucket to a changed limit: refills it to now_ms with its old parameters, then, when
 * capacity, refill amount or period differ from `limit`, takes the new ones. A lowered capacity
 * lowers the tokens by the difference (what was used stays used) but never below
 * min(tokens, 0), and never leaves them above the new capacity; a raised one keeps them.
 * Returns true when the parameters changed. */
bool rl_bucket_reconcile(rl_bucket_t *b, const rl_limit_t *limit, int64_t now_ms);

/* The wait before a retry of a request `deficit_milli` short can succeed, measured on the clock
 * that read now_ms: rl_bucket_retry_after_ms plus the time until the bucket's timestamp when
 * that lies ahead of now_ms (the clock stepped back, or another host with a clock ahead wrote
 * it), since nothing accrues before it. 0 for a deficit <= 0; saturates at INT64_MAX. */
int64_t rl_bucket_wait_ms(const rl_bucket_t *b, int64_t deficit_milli, int64_t now_ms);

/* Whole tokens in the bucket, rounded toward minus infinity (-500 millitokens is -1). */
int64_t rl_bucket_available(const rl_bucket_t *b);

/* Refills, then takes n_milli if the bucket holds that many. Returns true on success. Stores the
 * whole tokens available before consumption in *available and the wait in *retry_after_ms (0 on
 * success); either pointer may be NULL. */
bool rl_bucket_try_consume(rl_bucket_t *b, int64_t n_milli, int64_t now_ms, int64_t *available,
                           int64_t *retry_after_ms);

/* Unchecked consumption: tokens -= n_milli (may go negative; a negative n returns tokens without
 * capping until the next refill) and the net counter += n_milli. No refill. Tokens are clamped to
 * [-RL_MAX_DEBT_MILLI, capacity + RL_MAX_DELTA_MILLI], the counter to +-RL_MAX_COUNTER_MILLI. */
void rl_bucket_force(rl_bucket_t *b, int64_t n_milli);

/* 128-bit a * b / c rounded down, saturated to the int64 range; c > 0. */
int64_t rl_muldiv(int64_t a, int64_t b, int64_t c);

/* ------------------------------------------------------------------------------------------ */
/* Entities and configuration                                                                   */
/* ------------------------------------------------------------------------------------------ */

typedef struct rl_entity {
    char id[RL_ENTITY_ID_MAX + 1];
    char name[RL_ENTITY_ID_MAX + 1];      /* display name; defaults to the id */
    char parent_id[RL_ENTITY_ID_MAX + 1]; /* "" when the entity has no parent */
    bool cascade;                         /* acquire also consumes from the parent */
    int64_t created_at_ms;
    /* Filled by the backends: the entity whose id tags this entity's buckets (the Redis hash
     * tag, so that a cascade's buckets share a cluster slot): the entity itself unless it
     * cascades, else its parent's root_id, fixed when the entity is created. */
    char root_id[RL_ENTITY_ID_MAX + 1];
} rl_entity_t;

typedef enum rl_on_unavailable {
    RL_ON_UNAVAILABLE_UNSET = 0, /* inherit: per call -> system config -> block */
    RL_ON_UNAVAILABLE_BLOCK = 1, /* acquire fails with RL_EUNAVAILABLE */
    RL_ON_UNAVAILABLE_ALLOW = 2, /* acquire succeeds with an empty lease */
} rl_on_unavailable_t;

/* A set of limits, as stored for the system, a resource or an entity+resource. */
typedef struct rl_config {
    size_t count;
    rl_limit_t limits[RL_MAX_LIMITS];
    rl_on_unavailable_t on_unavailable; /* only meaningful in the system config */
} rl_config_t;

/* Where resolved limits came from, in resolution order. */
typedef enum rl_source {
    RL_SOURCE_NONE = 0,
    RL_SOURCE_OVERRIDE,
    RL_SOURCE_ENTITY,
    RL_SOURCE_ENTITY_DEFAULT,
    RL_SOURCE_RESOURCE,
    RL_SOURCE_SYSTEM,
} rl_source_t;

const char *rl_source_name(rl_source_t source);

/* Which stored configuration a key names. */
typedef enum rl_config_kind {
    RL_CONFIG_SYSTEM = 0,
    RL_CONFIG_RESOURCE = 1,
    RL_CONFIG_ENTITY = 2,
} rl_config_kind_t;

/* Names one stored config. */
typedef struct rl_config_key {
    rl_config_kind_t kind;
    const char *entity_id;
    const char *resource;
} rl_config_key_t;

/* Where a stored config lives, as list queries report it. */
typedef struct rl_config_ref {
    char entity_id[RL_ENTITY_ID_MAX + 1]; /* "" for resource defaults */
    char resource[RL_RESOURCE_MAX + 1];
} rl_config_ref_t;

/* Parses a config cache key ("r#res", "e#entity#res") into *out; false for other keys. */
bool rl_config_ref_parse(const char *key, rl_config_ref_t *out);

/* Builds a config from `n` limits, rejecting invalid ones, duplicates and n > RL_MAX_LIMITS
 * (RL_ETOOMANY). n == 0 is allowed (an empty config). */
int rl_config_set(rl_config_t *cfg, const rl_limit_t *limits, size_t n);
/* Index of the limit called `name`, or -1. */
int rl_config_find(const rl_config_t *cfg, const char *name);

/* ------------------------------------------------------------------------------------------ */
/* Statuses and "rate limit exceeded" results                                                   */
/* ------------------------------------------------------------------------------------------ */

/* One limit checked during an acquire or a lease consume. `level` 0 is the entity itself, 1 its
 * parent (cascade). */
typedef struct rl_status {
    int level;
    rl_limit_t limit;  /* with the parameters the stored bucket actually has */
    int64_t available; /* whole tokens before the request; may be negative */
    int64_t requested;
    bool exceeded;
    int64_t retry_after_ms;
} rl_status_t;

#define RL_MAX_STATUSES (2 * RL_MAX_LIMITS)

/* Every limit that an acquire checked, for both levels, passed or failed. */
typedef struct rl_exceeded {
    char entity_id[RL_ENTITY_ID_MAX + 1];
    char parent_id[RL_ENTITY_ID_MAX + 1];
    char resource[RL_RESOURCE_MAX + 1];
    size_t count;
    rl_status_t statuses[RL_MAX_STATUSES];
    size_t primary;         /* index of the violation with the largest retry (first on ties) */
    int64_t retry_after_ms; /* the primary violation's */
} rl_exceeded_t;

/* max(0, requested - available). */
int64_t rl_status_deficit(const rl_status_t *status);

/* The entity a status belongs to (entity_id or parent_id of ex). */
const char *rl_status_entity(const rl_exceeded_t *ex, const rl_status_t *status);

/* Resets ex for (entity, parent or NULL, resource) with no statuses. */
void rl_exceeded_init(rl_exceeded_t *ex, const char *entity_id, const char *parent_id,
                      const char *resource);
/* Appends a status; RL_ETOOMANY when full. */
int rl_exceeded_add(rl_exceeded_t *ex, const rl_status_t *status);
/* Picks the primary violation and retry_after_ms. RL_ENOVIOLATION when there are no statuses or
 * none is exceeded (the Python model raises ValueError there). */
int rl_exceeded_finish(rl_exceeded_t *ex);
/* Counts of violations and passed statuses. */
size_t rl_exceeded_violations(const rl_exceeded_t *ex);

/* The HTTP Retry-After value: whole seconds of retry_after_ms, plus one ("2" for 1.1 s and for
 * 1.9 s, "3" for 2.0 s): it never tells a client to come back before the bucket allows it.
 * Writes at most len bytes including the NUL; returns what snprintf returns. */
int rl_retry_after_header(int64_t retry_after_ms, char *buf, size_t len);

/* "Rate limit exceeded for key-1/gpt-4: ['tpm']. Retry after 60.0s" (snprintf semantics). */
int rl_exceeded_message(const rl_exceeded_t *ex, char *buf, size_t len);

/* A 429 body as JSON: error, message, retry_after_seconds, retry_after_ms and limits[] with one
 * entry per status (snprintf semantics: returns the length it needed). */
int rl_exceeded_json(const rl_exceeded_t *ex, char *buf, size_t len);

/* What a failed call reports beside its return code. Pass NULL to a function when not needed. */
typedef struct rl_report {
    int error;              /* the code the call returned */
    int cause;              /* RL_EUNAVAILABLE/RL_EBACKEND: the backend's or runtime's code */
    char message[384];      /* human-readable; names the entity and resource where known */
    rl_exceeded_t exceeded; /* valid when error == RL_EEXCEEDED */
} rl_report_t;

/* Sets report->error, cause and a printf-formatted message (report may be NULL); returns err. */
int rl_report_set(rl_report_t *report, int err, int cause, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ------------------------------------------------------------------------------------------ */
/* Options                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Options of a repository (backend); a NULL options pointer means all defaults. */
typedef struct rl_options {
    const rl_clock_t *clock; /* NULL: CLOCK_REALTIME. The pointee must outlive the repository. */
    int64_t cache_ttl_ms;    /* config cache TTL; < 0: default 60 s; 0: no caching */
    const char *key_prefix;  /* Redis: prefix of every key; NULL: "rl:" */
    int64_t timeout_ms;      /* Redis: connect/command timeout; <= 0: 2000 ms */
    /* How far the clock of another process sharing the buckets may lag this one (ms, >= 0).
     * Added to every retry-after hint, so a client that obeys a hint is not refused by a host
     * whose clock is behind (docs/limiter.md, "Clocks and retry-after"). 0: one clock. */
    int64_t max_clock_skew_ms;
    /* Redis: after each bucket write, WAIT on the same connection until this many replicas of
     * the master that ran it have it (at most timeout_ms / 2); fewer fails the call with
     * RL_EBACKEND (an acquire then
     * follows on_unavailable; the tokens stay taken). With it a failover (a replica promoted)
     * never loses a grant, at the price of one more round trip per write and of refusing
     * writes while a master has fewer replicas. 0: no wait (replication stays asynchronous, so
     * a failover may forget the last writes before it: docs/limiter.md, "Redis Cluster"). */
    int replica_acks;
} rl_options_t;

/* Fills o with the defaults (cache_ttl_ms -1, everything else 0/NULL). */
void rl_options_init(rl_options_t *o);

/* Options of one acquire; NULL means no override and on_unavailable from the system config. */
typedef struct rl_acquire_options {
    const rl_limit_t *limits; /* explicit override (applies to entity and parent) or NULL */
    size_t nlimits;
    rl_on_unavailable_t on_unavailable; /* UNSET: the system config's, else block */
} rl_acquire_options_t;

/* Whole tokens available per limit, as reported by rl_limiter_available. */
typedef struct rl_capacity {
    size_t count;
    rl_limit_t limits[RL_MAX_LIMITS];
    int64_t available[RL_MAX_LIMITS];
} rl_capacity_t;

/* The life of a lease (its struct lives in limiter.h; the states are shared by both APIs). */
typedef enum rl_state {
    RL_STATE_IDLE = 0,   /* never acquired */
    RL_STATE_ACTIVE,     /* acquired; consume/adjust/release/commit/rollback allowed */
    RL_STATE_COMMITTED,  /* commit wrote the changes */
    RL_STATE_ROLLED_BACK /* rollback gave back the initial consumption */
} rl_state_t;

/* Where warnings go (a rollback that could not be written). NULL: stderr. */
typedef void (*rl_warn_fn)(void *ctx, const char *message);

/* ------------------------------------------------------------------------------------------ */
/* Consumption requests                                                                         */
/* ------------------------------------------------------------------------------------------ */

/* One amount of a request, by limit name (whole tokens). */
typedef struct rl_amount {
    const char *name;
    int64_t amount;
} rl_amount_t;

/* Checks a request's amounts: every name set (else RL_EINVAL), every amount within
 * [-RL_MAX_AMOUNT, RL_MAX_AMOUNT] and >= 0 unless allow_negative (else RL_ERANGE / RL_EINVAL). */
int rl_amounts_check(const rl_amount_t *amounts, size_t n, bool allow_negative);
/* The sum in millitokens of the amounts called `name` (only those > 0 when positive_only, zero
 * skipped) into *milli. RL_ERANGE when the sum exceeds RL_MAX_AMOUNT in magnitude. Amounts must
 * have passed rl_amounts_check, so no step can overflow. */
int rl_amounts_sum(const rl_amount_t *amounts, size_t n, const char *name, bool positive_only,
                   int64_t *milli);
/* RL_ERANGE when a backend delta is outside +-RL_MAX_DELTA_MILLI (backends refuse it before any
 * write), else 0. */
int rl_delta_check(int64_t delta_milli);

/* The buckets of one (entity, resource): the backends' unit of atomic work. For consume and
 * adjust, delta_milli[i] is what to take from limits[i] (negative gives back). Backends fill
 * buckets[i] with the state they hold (see repo.h for when). */
typedef struct rl_bucket_set {
    const char *entity_id;
    const char *resource;
    size_t count;
    rl_limit_t limits[RL_MAX_LIMITS];
    int64_t delta_milli[RL_MAX_LIMITS];
    rl_bucket_t buckets[RL_MAX_LIMITS];
    /* The limits are the resolved configuration (not an acquire's override): stored buckets whose
     * parameters differ are reconciled to them (rl_bucket_reconcile), atomically with the
     * operation. With an override the stored parameters win. */
    bool reconcile;
    /* consume: the caller found no cascading parent for entity_id (maybe from a cached "no such
     * entity"); the backend checks the stored entity in the same atomic step and fails with
     * RL_ESTALE, changing nothing, if it has one, so a cascade never skips its parent. */
    bool expect_root;
    /* The root_id of the entity (rl_entity_t) whose buckets these are; "" means entity_id
     * itself. The Redis backend puts it in the bucket key's hash tag; memory ignores it. */
    char tag[RL_ENTITY_ID_MAX + 1];
} rl_bucket_set_t;

/* Checks every bucket of every set (already refilled to now_ms) against its delta; true when all
 * pass. Used by backends inside their atomic section, after refilling. */
bool rl_bucket_sets_fit(const rl_bucket_set_t *sets, size_t n);
/* rl_delta_check over every delta of the sets: RL_ERANGE or 0. */
int rl_bucket_sets_check(const rl_bucket_set_t *sets, size_t n);

/* ------------------------------------------------------------------------------------------ */
/* TTL cache of configuration (pure: the caller locks it)                                       */
/* ------------------------------------------------------------------------------------------ */

typedef struct rl_cache_entry rl_cache_entry_t;

typedef struct rl_cache_stats {
    uint64_t hits;
    uint64_t misses;
    size_t size;
    int64_t ttl_ms;
} rl_cache_stats_t;

/* Values are copied in and out as bytes; a key may also hold "nothing here" (negative caching). */
typedef struct rl_cache {
    int64_t ttl_ms; /* 0: nothing is stored, every get misses */
    size_t nslots;
    rl_cache_entry_t **slots;
    size_t size;
    uint64_t hits;
    uint64_t misses;
    size_t puts; /* since the last sweep of expired entries (amortised: size stays bounded) */
} rl_cache_t;

#define RL_CACHE_DEFAULT_TTL_MS 60000

/* 0 or RL_ENOMEM / RL_EINVAL (ttl < 0). */
int rl_cache_init(rl_cache_t *c, int64_t ttl_ms);
/* Frees every entry; the cache may be initialised again. NULL does nothing. */
void rl_cache_destroy(rl_cache_t *c);
/* Looks `key` up at now_ms. A hit returns 1 and sets *present (a value was stored: copied into
 * value, `size` bytes) or clears it (a cached "nothing here"). A miss (absent or expired) returns
 * 0. Counts a hit or a miss. */
int rl_cache_get(rl_cache_t *c, const char *key, int64_t now_ms, void *value, size_t size,
                 bool *present);
/* Stores value (NULL: "nothing here") for ttl from now_ms. 0, or RL_ENOMEM (nothing stored). */
int rl_cache_put(rl_cache_t *c, const char *key, int64_t now_ms, const void *value, size_t size);
void rl_cache_evict(rl_cache_t *c, const char *key);
void rl_cache_clear(rl_cache_t *c);
rl_cache_stats_t rl_cache_stats(const rl_cache_t *c);

/* Cache keys: writes the key of a config slot or an entity record into buf (at least
 * RL_CACHE_KEY_MAX bytes). */
#define RL_CACHE_KEY_MAX (RL_ENTITY_ID_MAX + RL_RESOURCE_MAX + 8)
void rl_cache_key_config(char *buf, rl_config_kind_t kind, const char *entity_id,
                         const char *resource);
void rl_cache_key_entity(char *buf, const char *entity_id);

/* ------------------------------------------------------------------------------------------ */
/* String-keyed hash map (for the in-memory backend; pure, the caller locks it)                 */
/* ------------------------------------------------------------------------------------------ */

typedef struct rl_map_node rl_map_node_t;

typedef struct rl_map {
    size_t nslots;
    size_t size;
    rl_map_node_t **slots;
} rl_map_t;

/* 0 or RL_ENOMEM. */
int rl_map_init(rl_map_t *m);
/* Frees every node (values are plain bytes); NULL does nothing. */
void rl_map_destroy(rl_map_t *m);
/* The value stored under key, or NULL. Valid until the key is deleted or the map destroyed. */
void *rl_map_get(const rl_map_t *m, const char *key);
/* The value under key, created zero-filled with `size` bytes when absent (*created tells which;
 * may be NULL). NULL when out of memory. */
void *rl_map_put(rl_map_t *m, const char *key, size_t size, bool *created);
/* Removes key; true when it was there. */
bool rl_map_del(rl_map_t *m, const char *key);
/* Calls fn for every entry; fn returns true to delete that entry. */
void rl_map_sweep(rl_map_t *m, bool (*fn)(const char *key, void *value, void *ctx), void *ctx);

/* ------------------------------------------------------------------------------------------ */
/* Backend URLs                                                                                 */
/* ------------------------------------------------------------------------------------------ */

typedef struct rl_url {
    bool is_unix;
    char host[256];
    int port;
    char path[256]; /* unix socket path */
    int db;
} rl_url_t;

/* Redis Cluster key placement (the cluster spec): CRC16/XMODEM (polynomial 0x1021, initial 0,
 * no reflection; "123456789" gives 0x31C3) of the key modulo 16384, where a key holding a '{'
 * followed later by a '}' with at least one byte between them hashes only those bytes (the
 * hash tag). A building block of cluster support, which the limiter does not have yet. */
#define RL_CLUSTER_SLOTS 16384
uint16_t rl_crc16(const char *buf, size_t len);
int rl_key_slot(const char *key, size_t len);

/* Parses "redis://host[:port][/db]" (port 6379, db 0 by default) and "unix:///path[?db=N]".
 * 0 or RL_EURL. */
int rl_url_parse(const char *url, rl_url_t *out);

/* The seed nodes of a Redis Cluster URL, "redis-cluster://host[:port][,host[:port]]*" (port
 * 6379 by default; at most RL_CLUSTER_SEEDS_MAX nodes; a cluster has no database number, so a
 * path is refused). Hosts are names or IPv4 addresses of letters, digits, '.', '-' and '_'.
 * 0 and seeds[0..*n), or RL_EURL with *at the byte offset in url of what is wrong and *why a
 * static description ("port out of range"). */
#define RL_CLUSTER_SEEDS_MAX 16
int rl_cluster_url_parse(const char *url, rl_url_t *seeds, size_t max, size_t *n, size_t *at,
                         const char **why);

#ifdef __cplusplus
}
#endif
#endif /* RL_TYPES_H */
