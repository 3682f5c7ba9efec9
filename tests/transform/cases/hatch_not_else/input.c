#if !UNASYNC_ASYNC
int sync_only(void);
#else
int async_only(void);
#endif
int after(void);
