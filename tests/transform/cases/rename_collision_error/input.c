
int async_read(void);
int read_async(void);
