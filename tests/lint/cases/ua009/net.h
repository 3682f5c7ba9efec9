/* Another library: its two async functions are the only names with its prefix that the source
 * uses, so one glob rule covers both. */
#ifndef NET_H
#define NET_H
#include <unasync/async.h>

async int net_send(int fd);
async int net_recv(int fd);
#endif
