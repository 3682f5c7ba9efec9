/* fetch.h - a tiny client whose async API is the source of truth. */
#ifndef QUICKSTART_FETCH_H
#define QUICKSTART_FETCH_H

#include <unasync/async.h>

typedef struct client {
    async_mutex_t lock;
    int requests;
} client_t;

async int fetch_user(client_t *c, int id, int *out);

#endif /* QUICKSTART_FETCH_H */
