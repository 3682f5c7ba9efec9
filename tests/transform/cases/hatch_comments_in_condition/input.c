#if /* loop build */ UNASYNC_ASYNC /* only */
int a(void);
#else // blocking
int s(void);
#endif /* UNASYNC_ASYNC */
#if ! defined ( UNASYNC_ASYNC )
int s2(void);
#endif
