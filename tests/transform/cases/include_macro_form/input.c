#define HEADER "async_io.h"
#include HEADER
#define async_x 1
