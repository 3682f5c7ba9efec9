#include <unasync/async.h>

/* Größe — «async» ⚡ await */
const char *msg = "ångström await async_x 🚀";
async int f(void) { return 0; } // 日本語 async_y
