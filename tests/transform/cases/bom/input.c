async int f(void);
