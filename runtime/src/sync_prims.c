/* The sync instance of prims.inc: primitives shared by threads, each guarded by a pthread mutex,
 * waiters parked on their own thread's condition variable. */
#include <string.h>

#include "prims_sync.h"

#include "prims.inc"
