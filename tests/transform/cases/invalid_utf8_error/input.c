int x;
int ÿ y;
