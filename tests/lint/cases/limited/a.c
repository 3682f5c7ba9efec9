/* No compile flags and a header that cannot be found: one UA000 for the run, no false errors. */
#include <unasync/async.h>
#include "missing_project_header.h"

static async int f(void) { return await g(); }
static async int h(void) { return f(); }
static int (*keep[])(void) = {h};
