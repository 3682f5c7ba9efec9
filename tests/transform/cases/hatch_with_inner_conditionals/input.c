#if UNASYNC_ASYNC
#  ifdef DEBUG
int dbg(void);
#  endif
#else
#  if defined(__linux__)
int linux_only(void);
#  elif defined(__APPLE__)
int apple_only(void);
#  else
int other(void);
#  endif
#endif
