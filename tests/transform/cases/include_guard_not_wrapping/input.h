#ifndef PARTIAL_H
#define PARTIAL_H
int a(void);
#endif
int b(void);
