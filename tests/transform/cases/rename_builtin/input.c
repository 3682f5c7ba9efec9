#include <unasync/async.h>

typedef int async_handle_t;
int ASYNC_FLAG = 1;
int my_async_thing = 2;
int async_ = 3;
async_handle_t async_open(void);
int use(void) { return async_open() + ASYNC_FLAG + my_async_thing + async_; }
