#include <unasync/async.h>
UA_ASYNC int fetch(void);
UA_ASYNC int run(void) { int async = 1; return async + UA_AWAIT fetch(); }
