#if FOO
int a;
#elif !UNASYNC_ASYNC
int b;
#endif
