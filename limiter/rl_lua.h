/* The Redis backend's Lua script, shared by the async backend and its sync twin. */
#ifndef RL_LUA_H
#define RL_LUA_H

extern const char rl_lua_script[];

#endif /* RL_LUA_H */
