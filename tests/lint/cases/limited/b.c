/* The second source with the same problem adds to the one UA000's count. */
#include <unasync/async.h>
#include "missing_project_header.h"

static async int k(void) { return await g(); }
static int (*keep2)(void) = k;
