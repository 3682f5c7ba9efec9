#if UNASYNC_ASYNC && defined(FOO)
int a;
#endif
