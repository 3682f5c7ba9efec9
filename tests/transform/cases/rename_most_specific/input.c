
int net_async_open(void);
int net_async_close(void);
int net_async_special(void);
int async_io(void);
int use(void) { return net_async_open() + net_async_close() + net_async_special() + async_io(); }
