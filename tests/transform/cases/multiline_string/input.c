const char *banner = "async_x \
await async_y";
const char *joined = "async_a" "async_b";
