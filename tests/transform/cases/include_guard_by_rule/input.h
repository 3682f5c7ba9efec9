#ifndef RL_ASYNC_H
#define RL_ASYNC_H
int rl(void);
#endif
