/* The limiter's pure model: errors, allocation, clocks, limits, validation, exceeded results. */
#include <unasync/limiter/rl_types.h>

#include <unasync/common.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                       */
/* ------------------------------------------------------------------------------------------ */

const char *rl_strerror(int err)
{
    if (err == 0)
        return "success";
#define RL_ERR_TEXT(name, value, text)                                                             \
    if (err == (value))                                                                            \
        return text;
    RL_ERRNO_MAP(RL_ERR_TEXT)
#undef RL_ERR_TEXT
    /* The layers below: the runtime's codes and negative errno (libuv's codes on Unix). */
    if (err < 0 && err > RL_EBASE)
        return unasync_strerror(err);
    return "unknown error";
}

const char *rl_err_name(int err)
{
#define RL_ERR_NAME(name, value, text)                                                             \
    if (err == (value))                                                                            \
        return #name;
    RL_ERRNO_MAP(RL_ERR_NAME)
#undef RL_ERR_NAME
    if (err < 0 && err > RL_EBASE)
        return unasync_err_name(err);
    return "EUNKNOWN";
}

bool rl_is_backend_error(int err)
{
    return err == RL_EBACKEND || err == RL_EPROTO;
}

/* ------------------------------------------------------------------------------------------ */
/* Allocation hook                                                                              */
/* ------------------------------------------------------------------------------------------ */

static void *(*rl_alloc_fn)(size_t) = malloc;
static void *(*rl_realloc_fn)(void *, size_t) = realloc;
static void (*rl_free_fn)(void *) = free;

void rl_set_allocator(void *(*alloc)(size_t), void *(*realloc_fn)(void *, size_t),
                      void (*free_fn)(void *))
{
    rl_alloc_fn = alloc ? alloc : malloc;
    rl_realloc_fn = realloc_fn ? realloc_fn : realloc;
    rl_free_fn = free_fn ? free_fn : free;
}

void *rl_malloc(size_t n)
{
    return rl_alloc_fn(n ? n : 1);
}

void *rl_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = rl_malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *rl_realloc(void *p, size_t n)
{
    return rl_realloc_fn(p, n ? n : 1);
}

void rl_free(void *p)
{
    if (p)
        rl_free_fn(p);
}

char *rl_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = rl_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ------------------------------------------------------------------------------------------ */
/* Clock                                                                                        */
/* ------------------------------------------------------------------------------------------ */

int64_t rl_clock_now(const rl_clock_t *clock)
{
    if (clock && clock->now_ms)
        return clock->now_ms(clock->ctx);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t manual_now(void *ctx)
{
    return *(const int64_t *)ctx;
}

rl_clock_t rl_manual_clock(int64_t *ms)
{
    rl_clock_t c = {manual_now, ms};
    return c;
}

/* ------------------------------------------------------------------------------------------ */
/* Validation                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* Character classes of the three alphabets, as bit flags per byte (no locale involved). */
enum { C_ALPHA = 1, C_DIGIT = 2, C_NAME = 4, C_RESOURCE = 8, C_ENTITY = 16 };

static unsigned char char_class(unsigned char c)
{
    unsigned char k = 0;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        k |= C_ALPHA | C_NAME | C_RESOURCE | C_ENTITY;
    if (c >= '0' && c <= '9')
        k |= C_DIGIT | C_NAME | C_RESOURCE | C_ENTITY;
    if (c == '_' || c == '.' || c == '-')
        k |= C_NAME | C_RESOURCE | C_ENTITY;
    if (c == '/')
        k |= C_RESOURCE;
    if (c == ':' || c == '@')
        k |= C_ENTITY;
    return k;
}

static bool valid_chars(const char *s, size_t max, unsigned char rest, unsigned char first)
{
    if (!s || !s[0] || !(char_class((unsigned char)s[0]) & first))
        return false;
    size_t n = 1;
    for (; s[n]; n++)
        if (n >= max || !(char_class((unsigned char)s[n]) & rest))
            return false;
    return true;
}

int rl_validate_limit_name(const char *name)
{
    if (!valid_chars(name, RL_LIMIT_NAME_MAX, C_NAME, C_ALPHA) ||
        (name[0] == 'w' && strcmp(name, "wcu") == 0))
        return RL_ENAME;
    return 0;
}

int rl_validate_resource(const char *resource)
{
    if (resource && resource[0] == '_' && strcmp(resource, RL_DEFAULT_RESOURCE) == 0)
        return 0; /* the reserved default, which no user-chosen name can spell */
    return valid_chars(resource, RL_RESOURCE_MAX, C_RESOURCE, C_ALPHA) ? 0 : RL_ERESOURCE;
}

int rl_validate_entity_id(const char *entity_id)
{
    return valid_chars(entity_id, RL_ENTITY_ID_MAX, C_ENTITY, C_ALPHA | C_DIGIT) ? 0 : RL_EENTITY;
}

/* Bounds that keep every product of the bucket math, and the Redis script's doubles, exact:
 * millitokens stay below 2^53 (rl_types.h). */
#define RL_MAX_TOKENS RL_MAX_AMOUNT

int rl_amounts_check(const rl_amount_t *amounts, size_t n, bool allow_negative)
{
    if (n && !amounts)
        return RL_EINVAL;
    for (size_t a = 0; a < n; a++) {
        if (!amounts[a].name)
            return RL_EINVAL;
        if (amounts[a].amount < 0 && !allow_negative)
            return RL_EINVAL;
        if (amounts[a].amount > RL_MAX_AMOUNT || amounts[a].amount < -RL_MAX_AMOUNT)
            return RL_ERANGE;
    }
    return 0;
}

int rl_amounts_sum(const rl_amount_t *amounts, size_t n, const char *name, bool positive_only,
                   int64_t *milli)
{
    int64_t sum = 0; /* |sum| <= RL_MAX_AMOUNT before each step, each step adds <= that much */
    for (size_t a = 0; a < n; a++) {
        if (amounts[a].amount == 0 || (positive_only && amounts[a].amount < 0) ||
            strcmp(amounts[a].name, name) != 0)
            continue;
        sum += amounts[a].amount;
        if (sum > RL_MAX_AMOUNT || sum < -RL_MAX_AMOUNT)
            return RL_ERANGE;
    }
    *milli = sum * 1000;
    return 0;
}

int rl_delta_check(int64_t delta_milli)
{
    return delta_milli > RL_MAX_DELTA_MILLI || delta_milli < -RL_MAX_DELTA_MILLI ? RL_ERANGE : 0;
}

static int check_values(int64_t capacity, int64_t refill_amount, int64_t period_s)
{
    if (capacity <= 0 || refill_amount <= 0 || period_s <= 0)
        return RL_ELIMIT;
    if (capacity > RL_MAX_TOKENS || refill_amount > RL_MAX_TOKENS || period_s > RL_MAX_PERIOD_S)
        return RL_ERANGE;
    return 0;
}

int rl_limit_validate(const rl_limit_t *limit)
{
    if (!limit)
        return RL_EINVAL;
    int rc = rl_validate_limit_name(limit->name);
    return rc ? rc : check_values(limit->capacity, limit->refill_amount, limit->refill_period_s);
}

int rl_limit_custom(rl_limit_t *out, const char *name, int64_t capacity, int64_t refill_amount,
                    int64_t refill_period_s)
{
    if (!out)
        return RL_EINVAL;
    int rc = rl_validate_limit_name(name);
    if (rc == 0)
        rc = check_values(capacity, refill_amount, refill_period_s);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    memcpy(out->name, name, strlen(name));
    out->capacity = capacity;
    out->refill_amount = refill_amount;
    out->refill_period_s = refill_period_s;
    return 0;
}

static int rate_limit(rl_limit_t *out, const char *name, int64_t rate, int64_t burst,
                      int64_t period_s)
{
    if (burst < 0)
        return RL_ELIMIT;
    return rl_limit_custom(out, name, burst ? burst : rate, rate, period_s);
}

int rl_limit_per_second(rl_limit_t *out, const char *name, int64_t rate, int64_t burst)
{
    return rate_limit(out, name, rate, burst, 1);
}

int rl_limit_per_minute(rl_limit_t *out, const char *name, int64_t rate, int64_t burst)
{
    return rate_limit(out, name, rate, burst, 60);
}

int rl_limit_per_hour(rl_limit_t *out, const char *name, int64_t rate, int64_t burst)
{
    return rate_limit(out, name, rate, burst, 3600);
}

int rl_limit_per_day(rl_limit_t *out, const char *name, int64_t rate, int64_t burst)
{
    return rate_limit(out, name, rate, burst, 86400);
}

/* ------------------------------------------------------------------------------------------ */
/* Configs                                                                                      */
/* ------------------------------------------------------------------------------------------ */

const char *rl_source_name(rl_source_t source)
{
    switch (source) {
    case RL_SOURCE_OVERRIDE:
        return "override";
    case RL_SOURCE_ENTITY:
        return "entity";
    case RL_SOURCE_ENTITY_DEFAULT:
        return "entity_default";
    case RL_SOURCE_RESOURCE:
        return "resource";
    case RL_SOURCE_SYSTEM:
        return "system";
    case RL_SOURCE_NONE:
        break;
    }
    return "none";
}

int rl_config_find(const rl_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->count; i++)
        if (strcmp(cfg->limits[i].name, name) == 0)
            return (int)i;
    return -1;
}

int rl_config_set(rl_config_t *cfg, const rl_limit_t *limits, size_t n)
{
    if (!cfg || (n && !limits))
        return RL_EINVAL;
    if (n > RL_MAX_LIMITS)
        return RL_ETOOMANY;
    /* Validate everything first so a failure leaves cfg unchanged (it is on hot paths: no
     * scratch copy of the whole struct). */
    for (size_t i = 0; i < n; i++) {
        int rc = rl_limit_validate(&limits[i]);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(limits[j].name, limits[i].name) == 0)
                return RL_EINVAL;
    }
    if (n)
        memcpy(cfg->limits, limits, n * sizeof *limits);
    cfg->count = n;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Statuses and exceeded results                                                                */
/* ------------------------------------------------------------------------------------------ */

int64_t rl_status_deficit(const rl_status_t *status)
{
    int64_t d = status->requested - status->available;
    return d > 0 ? d : 0;
}

const char *rl_status_entity(const rl_exceeded_t *ex, const rl_status_t *status)
{
    return status->level == 0 ? ex->entity_id : ex->parent_id;
}

static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = 0;
}

void rl_exceeded_init(rl_exceeded_t *ex, const char *entity_id, const char *parent_id,
                      const char *resource)
{
    copy_str(ex->entity_id, sizeof ex->entity_id, entity_id);
    copy_str(ex->parent_id, sizeof ex->parent_id, parent_id);
    copy_str(ex->resource, sizeof ex->resource, resource);
    ex->count = 0;
    ex->primary = 0;
    ex->retry_after_ms = 0;
}

int rl_exceeded_add(rl_exceeded_t *ex, const rl_status_t *status)
{
    if (ex->count >= RL_MAX_STATUSES)
        return RL_ETOOMANY;
    ex->statuses[ex->count++] = *status;
    return 0;
}

int rl_exceeded_finish(rl_exceeded_t *ex)
{
    bool found = false;
    for (size_t i = 0; i < ex->count; i++) {
        const rl_status_t *st = &ex->statuses[i];
        if (!st->exceeded)
            continue;
        if (!found || st->retry_after_ms > ex->statuses[ex->primary].retry_after_ms)
            ex->primary = i;
        found = true;
    }
    if (!found)
        return RL_ENOVIOLATION;
    ex->retry_after_ms = ex->statuses[ex->primary].retry_after_ms;
    return 0;
}

size_t rl_exceeded_violations(const rl_exceeded_t *ex)
{
    size_t n = 0;
    for (size_t i = 0; i < ex->count; i++)
        n += ex->statuses[i].exceeded;
    return n;
}

int rl_retry_after_header(int64_t retry_after_ms, char *buf, size_t len)
{
    int64_t s = retry_after_ms > 0 ? retry_after_ms / 1000 : 0;
    return snprintf(buf, len, "%" PRId64, s + 1);
}

/* Appends to a bounded buffer while counting what the full text would need. */
typedef struct text {
    char *buf;
    size_t len;
    size_t used;
} text_t;

static void text_add(text_t *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void text_add(text_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *at = t->used < t->len ? t->buf + t->used : NULL;
    size_t room = t->used < t->len ? t->len - t->used : 0;
    int n = vsnprintf(at, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->used += (size_t)n;
}

/* Seconds with one decimal, rounded half up from integer milliseconds (no float artifacts). */
static void add_tenths(text_t *t, int64_t ms)
{
    int64_t tenths = (ms + 50) / 100;
    text_add(t, "%" PRId64 ".%" PRId64, tenths / 10, tenths % 10);
}

int rl_exceeded_message(const rl_exceeded_t *ex, char *buf, size_t len)
{
    text_t t = {buf, len, 0};
    if (len)
        buf[0] = 0;
    text_add(&t, "Rate limit exceeded for %s/%s: [", ex->entity_id, ex->resource);
    bool first = true;
    for (size_t i = 0; i < ex->count; i++) {
        if (!ex->statuses[i].exceeded)
            continue;
        text_add(&t, "%s'%s'", first ? "" : ", ", ex->statuses[i].limit.name);
        first = false;
    }
    text_add(&t, "]. Retry after ");
    add_tenths(&t, ex->retry_after_ms);
    text_add(&t, "s");
    return (int)t.used;
}

/* JSON string body without escaping: every string here passed validation ([A-Za-z0-9_.:@/-]),
 * and the message is built from those. */
int rl_exceeded_json(const rl_exceeded_t *ex, char *buf, size_t len)
{
    char msg[RL_ENTITY_ID_MAX + RL_RESOURCE_MAX + RL_MAX_STATUSES * (RL_LIMIT_NAME_MAX + 4) + 64];
    rl_exceeded_message(ex, msg, sizeof msg);
    text_t t = {buf, len, 0};
    if (len)
        buf[0] = 0;
    int64_t ms = ex->retry_after_ms;
    text_add(&t,
             "{\"error\":\"rate_limit_exceeded\",\"message\":\"%s\","
             "\"retry_after_seconds\":%" PRId64 ".%03" PRId64 ",\"retry_after_ms\":%" PRId64
             ",\"limits\":[",
             msg, ms / 1000, ms % 1000, ms);
    for (size_t i = 0; i < ex->count; i++) {
        const rl_status_t *st = &ex->statuses[i];
        text_add(&t,
                 "%s{\"entity_id\":\"%s\",\"resource\":\"%s\",\"limit_name\":\"%s\","
                 "\"capacity\":%" PRId64 ",\"refill_amount\":%" PRId64
                 ",\"refill_period_seconds\":%" PRId64 ",\"available\":%" PRId64
                 ",\"requested\":%" PRId64 ",\"exceeded\":%s,\"retry_after_seconds\":%" PRId64
                 ".%03" PRId64 "}",
                 i ? "," : "", rl_status_entity(ex, st), ex->resource, st->limit.name,
                 st->limit.capacity, st->limit.refill_amount, st->limit.refill_period_s,
                 st->available, st->requested, st->exceeded ? "true" : "false",
                 st->retry_after_ms / 1000, st->retry_after_ms % 1000);
    }
    text_add(&t, "]}");
    return (int)t.used;
}

int rl_report_set(rl_report_t *report, int err, int cause, const char *fmt, ...)
{
    if (!report)
        return err;
    report->error = err;
    report->cause = cause;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(report->message, sizeof report->message, fmt, ap);
    va_end(ap);
    return err;
}

void rl_options_init(rl_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->cache_ttl_ms = -1;
}

/* ------------------------------------------------------------------------------------------ */
/* URLs                                                                                         */
/* ------------------------------------------------------------------------------------------ */

static int parse_int(const char *s, const char *end, int max, int *out)
{
    if (s == end || end - s > 9)
        return RL_EURL;
    int v = 0;
    for (const char *p = s; p < end; p++) {
        if (!isdigit((unsigned char)*p))
            return RL_EURL;
        v = v * 10 + (*p - '0');
    }
    if (v > max)
        return RL_EURL;
    *out = v;
    return 0;
}

int rl_url_parse(const char *url, rl_url_t *out)
{
    if (!url || !out)
        return RL_EINVAL;
    rl_url_t u;
    memset(&u, 0, sizeof u);
    if (strncmp(url, "unix://", 7) == 0) {
        const char *path = url + 7;
        const char *q = strchr(path, '?');
        size_t n = q ? (size_t)(q - path) : strlen(path);
        if (n == 0 || path[0] != '/' || n >= sizeof u.path)
            return RL_EURL;
        memcpy(u.path, path, n);
        u.is_unix = true;
        if (q) {
            if (strncmp(q, "?db=", 4) != 0)
                return RL_EURL;
            if (parse_int(q + 4, q + strlen(q), 1 << 20, &u.db))
                return RL_EURL;
        }
        *out = u;
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0)
        return RL_EURL;
    const char *host = url + 8;
    const char *slash = strchr(host, '/');
    const char *end = slash ? slash : host + strlen(host);
    const char *colon = memchr(host, ':', (size_t)(end - host));
    const char *host_end = colon ? colon : end;
    size_t hn = (size_t)(host_end - host);
    if (hn == 0 || hn >= sizeof u.host)
        return RL_EURL;
    memcpy(u.host, host, hn);
    u.port = 6379;
    if (colon && parse_int(colon + 1, end, 65535, &u.port))
        return RL_EURL;
    if (slash && slash[1] && parse_int(slash + 1, slash + strlen(slash), 1 << 20, &u.db))
        return RL_EURL;
    *out = u;
    return 0;
}

static int url_fail(size_t *at, const char **why, size_t pos, const char *text)
{
    *at = pos;
    *why = text;
    return RL_EURL;
}

int rl_cluster_url_parse(const char *url, rl_url_t *seeds, size_t max, size_t *n, size_t *at,
                         const char **why)
{
    static const char scheme[] = "redis-cluster://";
    size_t pos_dummy;
    const char *why_dummy;
    if (!at)
        at = &pos_dummy;
    if (!why)
        why = &why_dummy;
    *n = 0;
    if (!url || !seeds)
        return url_fail(at, why, 0, "no url");
    if (strncmp(url, scheme, sizeof scheme - 1) != 0)
        return url_fail(at, why, 0, "expected redis-cluster://");
    const char *p = url + sizeof scheme - 1;
    for (;;) {
        const char *host = p;
        while (isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_')
            p++;
        size_t hn = (size_t)(p - host);
        if (hn == 0)
            return url_fail(at, why, (size_t)(p - url), "expected a host name");
        if (hn >= sizeof seeds[0].host)
            return url_fail(at, why, (size_t)(host - url), "host name too long");
        if (*n >= max)
            return url_fail(at, why, (size_t)(host - url), "too many seed nodes");
        rl_url_t *u = &seeds[*n];
        memset(u, 0, sizeof *u);
        memcpy(u->host, host, hn);
        u->port = 6379;
        if (*p == ':') {
            const char *port = ++p;
            while (isdigit((unsigned char)*p))
                p++;
            if (parse_int(port, p, 65535, &u->port) || u->port == 0)
                return url_fail(at, why, (size_t)(port - url), "expected a port 1-65535");
        }
        (*n)++;
        if (*p == 0)
            return 0;
        if (*p != ',')
            return url_fail(at, why, (size_t)(p - url),
                            *p == '/' ? "a cluster has no database number"
                                      : "expected ',' or the end");
        p++;
    }
}

uint16_t rl_crc16(const char *buf, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((unsigned char)buf[i] << 8);
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

int rl_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t start = (size_t)(open - key) + 1;
        const char *close = memchr(key + start, '}', len - start);
        if (close && close > key + start)
            return rl_crc16(key + start, (size_t)(close - (key + start))) % RL_CLUSTER_SLOTS;
    }
    return rl_crc16(key, len) % RL_CLUSTER_SLOTS;
}
