/* A library header that is no source of this project: the twin includes it as it is. */
#ifndef RATELIB_H
#define RATELIB_H
#include <unasync/async.h>

typedef struct rt rt_t;
async int rt_acquire(rt_t *r);
async int rt_release(rt_t *r);
async int rt_open(rt_t *r);
int rt_count(const rt_t *r);
#endif
