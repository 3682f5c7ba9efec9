#include <unasync/async.h>

typedef struct rl_lease { int n; } rl_lease_t;
async int rl_lease_commit(rl_lease_t *l);
async int rl_lease_rollback(rl_lease_t *l);
int rl_lease_(void);
