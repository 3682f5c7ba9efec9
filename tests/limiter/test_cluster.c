/* Redis Cluster groundwork (issue 12, point 6, not done yet): starts a real local cluster
 * (3 masters, 3 replicas, redis-cli --cluster create), checks that every slot is served, and
 * that the limiter's key-slot function agrees with the servers' CLUSTER KEYSLOT for the key
 * forms the limiter uses, hash tags included. The limiter cannot run on a cluster yet (no slot
 * routing; a cascade's keys are in different slots): see docs/limiter.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis.h>

#include <unasync/limiter/rl_types.h>

#include "rl_testutil.h"

static rl_test_cluster_t cluster;

static void key_slots_agree_with_a_real_cluster(void **state)
{
    (void)state;
    static const char *keys[] = {
        "rl:b#key-1#gpt-4", "rl:e#key-1", "rl:c#e#key-1#_default_", "rl:c#s",
        "rl:b#{proj-1}key-1#gpt-4", "rl:e#{proj-1}", "rl:k#{proj-1}", "{}", "a{b}c{d}",
        "x{{y}}", "{user1000}.following", "{user1000}.followers",
    };
    redisContext *c = redisConnectUnix(cluster.nodes[0].socket);
    assert_non_null(c);
    assert_int_equal(c->err, 0);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        redisReply *r = redisCommand(c, "CLUSTER KEYSLOT %s", keys[i]);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        assert_int_equal(r->integer, rl_key_slot(keys[i], strlen(keys[i])));
        freeReplyObject(r);
    }
    /* every slot is served: the cluster the tests build is complete */
    redisReply *info = redisCommand(c, "CLUSTER INFO");
    assert_non_null(info);
    assert_non_null(strstr(info->str, "cluster_slots_assigned:16384"));
    assert_non_null(strstr(info->str, "cluster_known_nodes:6"));
    assert_non_null(strstr(info->str, "cluster_size:3"));
    freeReplyObject(info);
    redisFree(c);
}

int main(void)
{
    if (rl_test_cluster_start(&cluster) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_slots_agree_with_a_real_cluster),
    };
    int failed = cmocka_run_group_tests_name("limiter_cluster", tests, NULL, NULL);
    rl_test_cluster_stop(&cluster);
    return failed;
}
