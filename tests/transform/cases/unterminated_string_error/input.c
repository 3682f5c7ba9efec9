int x;
const char *s = "open;
int y;
