#if !defined(NET_H)
#define NET_H
int net(void);
#endif
