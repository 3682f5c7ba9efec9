/* The async instance of prims.inc: primitives for the coroutines of one loop. No locks: only
 * one coroutine of a loop runs at a time and switches happen only inside UA_PARK. */
#include <string.h>

#include "prims_async.h"

#include "prims.inc"
