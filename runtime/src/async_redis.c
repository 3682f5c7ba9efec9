/* placeholder */ typedef int ua_async_redis_placeholder;
