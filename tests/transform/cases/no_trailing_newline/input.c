async int f(void);
int x = 1;