#include <unasync/async.h>
#if !UNASYNC_ASYNC
#include <pthread.h>
static pthread_once_t once = PTHREAD_ONCE_INIT;
void init_once(void (*f)(void)) { pthread_once(&once, f); }
#endif
int after(void);
