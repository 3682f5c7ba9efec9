#include <unasync/async.h>

async int get(int);
async int add(a, b)
    int a;
    int b;
{
    return a + await get(b);
}
