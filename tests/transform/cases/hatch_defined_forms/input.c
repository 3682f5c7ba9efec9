#if defined(UNASYNC_ASYNC)
int a1(void);
#endif
#if defined UNASYNC_ASYNC
int a2(void);
#endif
#if !defined(UNASYNC_ASYNC) /* sync only */
int s1(void);
#endif
#  if !defined UNASYNC_ASYNC
int s2(void);
#  endif
