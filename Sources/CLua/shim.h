#ifndef CORRAL_CLUA_SHIM_H
#define CORRAL_CLUA_SHIM_H
// Lua 5.4 headers plus wrappers for the macros Swift cannot import. No logic: the sandbox (limits, bridge
// trampoline, environment) is the LuaSandbox target.
#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>

static inline int corral_pcall(lua_State *L, int nargs, int nresults) { return lua_pcall(L, nargs, nresults, 0); }
static inline void corral_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void corral_newtable(lua_State *L) { lua_newtable(L); }
static inline const char *corral_tostring(lua_State *L, int i, size_t *len) { return lua_tolstring(L, i, len); }
static inline int corral_isnoneornil(lua_State *L, int i) { return lua_type(L, i) <= 0; }
static inline int corral_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline int corral_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline void corral_insert(lua_State *L, int i) { lua_insert(L, i); }
static inline void corral_remove(lua_State *L, int i) { lua_remove(L, i); }
static inline lua_State *corral_tothread(lua_State *L, int i) { return lua_tothread(L, i); }
static inline int corral_isinteger(lua_State *L, int i) { return lua_isinteger(L, i); }
static inline lua_Integer corral_upvalue_integer(lua_State *L, int n) { return lua_tointeger(L, lua_upvalueindex(n)); }
// Scripts cannot set finalizers (LuaSandbox refuses __gc), so collecting outside a run runs no script code.
static inline void corral_gc_collect(lua_State *L) { lua_gc(L, LUA_GCCOLLECT); }
static inline void corral_gc_generational(lua_State *L) { lua_gc(L, LUA_GCGEN, 0, 0); }
static inline int corral_gc_kbytes(lua_State *L) { return lua_gc(L, LUA_GCCOUNT); }

#endif
