#include <unasync/async.h>

async int read_async(int fd);
async int write_async(int fd);
int use(void) { return read_async(0) + write_async(1); }
