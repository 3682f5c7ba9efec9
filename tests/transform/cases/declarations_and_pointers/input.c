#include <unasync/async.h>

typedef async int (*async_fn_t)(void *arg);
struct ops { async int (*op)(void); async_fn_t fallback; };
async int call(struct ops *o) { return await o->op() + await o->fallback(0); }
