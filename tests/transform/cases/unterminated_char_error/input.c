int x;
char c = 'a;
