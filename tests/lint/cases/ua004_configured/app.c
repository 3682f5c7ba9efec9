/* UA004 with the project's own list: db_query blocks and has a twin, audit_log blocks with none,
 * and sleep is taken off the built-in list. */
#include <unasync/async.h>

#include <unistd.h>

int db_query(int id);
async int async_db_query(int id);
void audit_log(const char *what);

static async int handler(int id)
{
    audit_log("query");
    sleep(0);
    return db_query(id);
}

static async int handler_fixed(int id)
{
    return await async_db_query(id);
}
