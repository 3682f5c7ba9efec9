#if UNASYNC_ASYNC
#if !UNASYNC_ASYNC
int a;
#endif
#endif
