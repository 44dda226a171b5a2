#ifndef CORRAL_CLUA_SHIM_H
#define CORRAL_CLUA_SHIM_H
// Lua 5.4 headers. Macros (lua_pcall, lua_pop ...) get static inline wrappers when the scripting engine lands.
#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>
#endif
