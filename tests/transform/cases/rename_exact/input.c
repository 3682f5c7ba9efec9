#include <unasync/async.h>

typedef struct rl_limiter rl_limiter;
async int rl_limiter_acquire(rl_limiter *l);
async int rl_limiter_acquire(rl_limiter *l) { (void)l; return 0; }
