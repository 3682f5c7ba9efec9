/* kvgate's gate: a key-value store whose writes are rate limited per tenant (async source; the
 * blocking twin sync_gate.h is generated from it by `unasync --write`). */
#ifndef KVGATE_GATE_H
#define KVGATE_GATE_H

#include <stdint.h>

#include <unasync/async.h>
#include <unasync/limiter/limiter.h>

typedef struct gate gate_t;

/* Opens a gate. url NULL: the limiter's memory backend and an in-process table for the values;
 * "unix:///path" or "redis://host:port": the limiter's Redis backend and a Redis hash per tenant
 * on the same server. The limiter's clock stands still, so a burst gets the same answer on every
 * run. 0 and *out (free it with gate_close), or an RL_ / UNASYNC_ code (nothing to free). */
async int gate_open(gate_t **out, const char *url);
/* Starts `tenant` afresh (its entity, limit and stored values are replaced): at most
 * `writes_per_minute` writes per minute, no extra burst. 0 or an error code. */
async int gate_add_tenant(gate_t *g, const char *tenant, int64_t writes_per_minute);
/* Stores key=value for tenant if its limit allows one more write: 0 stored; RL_EEXCEEDED denied,
 * with the wait before the next write would pass in *retry_after_ms; else an error code. */
async int gate_put(gate_t *g, const char *tenant, const char *key, const char *value,
                   int64_t *retry_after_ms);
/* How many keys tenant has stored. 0 or an error code. */
async int gate_count(gate_t *g, const char *tenant, long long *n);
/* Closes the limiter and the store and frees g; NULL does nothing. 0 or the first error. */
async int gate_close(gate_t *g);
/* A static description of any code the gate returns. */
const char *gate_strerror(int err);

#endif /* KVGATE_GATE_H */
