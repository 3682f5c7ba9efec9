/* leading comment */
#ifndef NET_CLIENT_H
#define NET_CLIENT_H

#include <unasync/async.h>

async int client_get(void);

#endif /* NET_CLIENT_H */
