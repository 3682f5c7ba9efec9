/* testrand.h - the property tests' random numbers: xorshift64, reproducible from the seed. */
#ifndef UNASYNC_TESTRAND_H
#define UNASYNC_TESTRAND_H

#include <stdint.h>

/* A number in [0, n) from generator state *s (never 0), which it advances. */
static inline unsigned testrand(uint64_t *s, unsigned n)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (unsigned)((*s >> 33) % n);
}

#endif
