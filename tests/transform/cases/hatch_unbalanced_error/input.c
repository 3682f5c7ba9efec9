int x;
#if UNASYNC_ASYNC
int a;
