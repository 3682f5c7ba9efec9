/* placeholder */ typedef int ua_sync_redis_placeholder;
