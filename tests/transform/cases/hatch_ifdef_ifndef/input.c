#ifdef UNASYNC_ASYNC
int a1(void);
#else
int s1(void);
#endif
#ifndef UNASYNC_ASYNC
int s2(void);
#endif
