#include <unasync/async.h>

#if UNASYNC_ASYNC
static int loop_only(void) { return 1; }
#endif
int after(void);
