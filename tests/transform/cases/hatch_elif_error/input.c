#if UNASYNC_ASYNC
int a;
#elif FOO
int b;
#endif
