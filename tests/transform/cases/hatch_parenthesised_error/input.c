#if (UNASYNC_ASYNC)
int a;
#endif
