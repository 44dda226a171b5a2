#ifndef CORRAL_CLUA_SHIM_H
#define CORRAL_CLUA_SHIM_H
// Lua 5.4 headers plus the small C part of Corral's sandbox. Everything that may raise a Lua error (longjmp) lives
// here, in C frames: Swift bridge functions only return a status, and the trampoline below raises for them.
#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- macros Swift cannot import -------------------------------------------------------------------------------

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
static inline void corral_gc_collect(lua_State *L) { lua_gc(L, LUA_GCCOLLECT); }
static inline void corral_gc_generational(lua_State *L) { lua_gc(L, LUA_GCGEN, 0, 0); }
static inline int corral_gc_kbytes(lua_State *L) { return lua_gc(L, LUA_GCCOUNT); }

// ---- per-state accounting: memory cap, instruction budget, bridge dispatch --------------------------------------

/// Swift's side of every bridge call. Returns the number of results pushed, or one of the codes below.
typedef int (*corral_dispatch_fn)(lua_State *L, void *host, int function_id);
#define CORRAL_RAISE (-1)   /* the error message is on top of the stack: raise it with the caller's position */
#define CORRAL_YIELD (-2)   /* suspend the coroutine; lua_resume's arguments become the call's results */
#define CORRAL_HOOK_STEP 1000

typedef struct corral_vm {
    size_t used;            /* bytes allocated by this state */
    size_t limit;           /* cap while `enforce` is set; 0 = none */
    int enforce;            /* limits apply only while a script runs, never inside Swift callbacks */
    int memory_hit;
    int budget_hit;
    long long budget;       /* instructions left in this run */
    void *host;             /* the Swift LuaVM (unretained) */
    corral_dispatch_fn dispatch;
} corral_vm;

static inline corral_vm *corral_vm_of(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return (corral_vm *)ud;
}

static void *corral_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    corral_vm *vm = (corral_vm *)ud;
    size_t old = ptr ? osize : 0;   /* with ptr == NULL, osize is a type tag, not a size */
    if (nsize == 0) {
        free(ptr);
        vm->used -= old;
        return NULL;
    }
    if (vm->enforce && vm->limit && nsize > old && vm->used + (nsize - old) > vm->limit) {
        vm->memory_hit = 1;
        return NULL;    /* Lua raises "not enough memory" in its own (C) frames */
    }
    void *p = realloc(ptr, nsize);
    if (!p) return NULL;
    vm->used = vm->used - old + nsize;
    return p;
}

static int corral_panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "corral: unprotected Lua error: %s\n", msg ? msg : "(not a string)");
    abort();
    return 0;
}

static void corral_hook(lua_State *L, lua_Debug *ar) {
    corral_vm *vm = corral_vm_of(L);
    if (!vm->enforce) return;
    vm->budget -= CORRAL_HOOK_STEP;
    if (vm->budget >= 0 && !vm->budget_hit) return;
    if (!vm->budget_hit) {
        vm->budget_hit = 1;
        // From now on check every instruction, so a pcall inside the loop cannot swallow the error and go on.
        lua_sethook(L, corral_hook, LUA_MASKCOUNT, 1);
    }
    lua_getinfo(L, "Sl", ar);
    lua_pushfstring(L, "%s:%d: instruction limit exceeded", ar->short_src, ar->currentline);
    lua_error(L);
}

/// The C function behind every bridge function: upvalue 1 is the function's ID in the Swift declaration table.
static int corral_trampoline(lua_State *L) {
    corral_vm *vm = corral_vm_of(L);
    int fid = (int)lua_tointeger(L, lua_upvalueindex(1));
    int enforce = vm->enforce;
    vm->enforce = 0;   /* Swift's Lua API calls must not fail on the cap: that would longjmp through Swift */
    int r = vm->dispatch(L, vm->host, fid);
    vm->enforce = enforce;
    if (r == CORRAL_RAISE) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
        return lua_error(L);
    }
    if (r == CORRAL_YIELD) return lua_yield(L, 0);
    if (enforce && vm->limit && vm->used > vm->limit) {
        vm->memory_hit = 1;
        return luaL_error(L, "memory limit exceeded");
    }
    return r;
}

/// string.rep with an empty string and separator loops n times in C without counting instructions.
static int corral_safe_rep(lua_State *L) {
    size_t l = 0, lsep = 0;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || l + lsep == 0) { lua_pushliteral(L, ""); return 1; }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static inline lua_State *corral_newstate(void *host, corral_dispatch_fn dispatch) {
    corral_vm *vm = (corral_vm *)calloc(1, sizeof(corral_vm));
    if (!vm) return NULL;
    vm->host = host;
    vm->dispatch = dispatch;
    lua_State *L = lua_newstate(corral_alloc, vm);
    if (!L) { free(vm); return NULL; }
    lua_atpanic(L, corral_panic);
    return L;
}

static inline void corral_set_host(lua_State *L, void *host) { corral_vm_of(L)->host = host; }
static inline long long corral_budget_left(lua_State *L) { return corral_vm_of(L)->budget; }

static inline void corral_close(lua_State *L) {
    corral_vm *vm = corral_vm_of(L);
    lua_close(L);
    free(vm);
}

/// Limits for the run that starts now on thread T (a coroutine of L, or L itself).
static inline void corral_begin_run(lua_State *L, lua_State *T, long long budget, size_t memory_cap) {
    corral_vm *vm = corral_vm_of(L);
    vm->budget = budget;
    vm->budget_hit = 0;
    vm->memory_hit = 0;
    vm->limit = memory_cap ? vm->used + memory_cap : 0;
    vm->enforce = 1;
    lua_sethook(T, corral_hook, LUA_MASKCOUNT, CORRAL_HOOK_STEP);
}

static inline void corral_end_run(lua_State *L) { corral_vm_of(L)->enforce = 0; }
static inline size_t corral_memory_used(lua_State *L) { return corral_vm_of(L)->used; }
static inline int corral_memory_hit(lua_State *L) { return corral_vm_of(L)->memory_hit; }
static inline int corral_budget_hit(lua_State *L) { return corral_vm_of(L)->budget_hit; }

static inline void corral_push_bridge(lua_State *L, int function_id) {
    lua_pushinteger(L, function_id);
    lua_pushcclosure(L, corral_trampoline, 1);
}

/// A bridge function with one integer upvalue of its own (an iterator's cursor).
static inline void corral_push_bridge_closure(lua_State *L, int function_id, lua_Integer extra) {
    lua_pushinteger(L, function_id);
    lua_pushinteger(L, extra);
    lua_pushcclosure(L, corral_trampoline, 2);
}

static inline lua_Integer corral_upvalue_integer(lua_State *L, int n) { return lua_tointeger(L, lua_upvalueindex(n)); }

/// Loads a text chunk (never precompiled bytecode).
static inline int corral_load_text(lua_State *L, const char *buf, size_t len, const char *chunkname) {
    return luaL_loadbufferx(L, buf, len, chunkname, "t");
}

// ---- the sandbox ------------------------------------------------------------------------------------------------

static const char *const corral_base_names[] = {
    "assert", "error", "ipairs", "next", "pairs", "pcall", "select", "tonumber", "tostring", "type", "xpcall",
    "rawequal", "rawget", "rawlen", "getmetatable", "setmetatable", "_VERSION", NULL
};

static void corral_copy_fields(lua_State *L, const char *lib, const char *const *skip) {
    /* stack: base; copies lib's fields into a new table stored as base[lib] */
    lua_getglobal(L, lib);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3)) {
        int skipped = 0;
        if (lua_type(L, -2) == LUA_TSTRING) {
            const char *k = lua_tostring(L, -2);
            for (const char *const *s = skip; s && *s; s++) if (strcmp(*s, k) == 0) skipped = 1;
        }
        if (skipped) { lua_pop(L, 1); continue; }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, -4);
    }
    lua_setfield(L, -3, lib);
    lua_pop(L, 1);
}

/// Opens the safe libraries and leaves the sandbox's base table (copies, not yet sealed) in the registry under
/// "corral.base". Swift then adds the bridge functions and calls corral_sandbox_seal.
static inline void corral_sandbox_begin(lua_State *L) {
    luaL_requiref(L, "_G", luaopen_base, 1); lua_pop(L, 1);
    luaL_requiref(L, "string", luaopen_string, 1); lua_pop(L, 1);
    luaL_requiref(L, "table", luaopen_table, 1); lua_pop(L, 1);
    luaL_requiref(L, "math", luaopen_math, 1); lua_pop(L, 1);
    luaL_requiref(L, "utf8", luaopen_utf8, 1); lua_pop(L, 1);
    luaL_requiref(L, "os", luaopen_os, 1); lua_pop(L, 1);

    /* The real string table stays reachable through ("").method: make it safe itself. */
    lua_getglobal(L, "string");
    lua_pushnil(L); lua_setfield(L, -2, "dump");
    lua_getfield(L, -1, "rep");
    lua_pushcclosure(L, corral_safe_rep, 1);
    lua_setfield(L, -2, "rep");
    lua_pop(L, 1);
    /* getmetatable("") must not hand out the string metatable. */
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);

    lua_newtable(L);   /* base */
    for (const char *const *n = corral_base_names; *n; n++) {
        lua_getglobal(L, *n);
        lua_setfield(L, -2, *n);
    }
    static const char *const no_string[] = { "dump", NULL };
    static const char *const no_math[] = { "random", "randomseed", NULL };
    corral_copy_fields(L, "string", no_string);
    corral_copy_fields(L, "table", NULL);
    corral_copy_fields(L, "math", no_math);
    corral_copy_fields(L, "utf8", NULL);
    /* os: only what the bridge provides (deterministic clock); the real os.date formats for it. */
    lua_newtable(L);
    lua_setfield(L, -2, "os");
    lua_getglobal(L, "os");
    lua_getfield(L, -1, "date");
    lua_setfield(L, LUA_REGISTRYINDEX, "corral.os_date");
    lua_pop(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "corral.base");
}

static int corral_readonly(lua_State *L) {
    return luaL_error(L, "attempt to modify a read-only library table");
}

/// Replaces every table in base with a read-only proxy, then builds the shared (protected) metatable of script
/// environments: reads fall through to base, writes stay in the script's own environment.
static inline void corral_sandbox_seal(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, "corral.base");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -1) == LUA_TTABLE) {
            lua_newtable(L);               /* proxy */
            lua_newtable(L);               /* its metatable */
            lua_pushvalue(L, -3); lua_setfield(L, -2, "__index");
            lua_pushcfunction(L, corral_readonly); lua_setfield(L, -2, "__newindex");
            lua_pushboolean(L, 0); lua_setfield(L, -2, "__metatable");
            lua_setmetatable(L, -2);
            lua_pushvalue(L, -3);          /* key */
            lua_insert(L, -2);
            lua_settable(L, -5);           /* base[key] = proxy (same key: safe during traversal) */
        }
        lua_pop(L, 1);
    }
    lua_newtable(L);   /* environment metatable */
    lua_pushvalue(L, -2); lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0); lua_setfield(L, -2, "__metatable");
    lua_setfield(L, LUA_REGISTRYINDEX, "corral.envmeta");
    lua_pop(L, 1);
}

/// Pushes a fresh script environment.
static inline void corral_push_env(lua_State *L) {
    lua_newtable(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "corral.envmeta");
    lua_setmetatable(L, -2);
}

/// Sets the _ENV upvalue of the function at idx to the table on top (popped).
static inline int corral_set_env(lua_State *L, int idx) {
    return lua_setupvalue(L, idx, 1) != NULL;
}

static int corral_frozen(lua_State *L) {
    const char *k = lua_tostring(L, 2);
    return luaL_error(L, "cannot assign global '%s' at run time (declare it local)", k ? k : "?");
}

/// After a profile loaded: its globals move into a hidden table and stay readable, but the environment refuses
/// assignments, so sessions never share state through globals.
static inline void corral_freeze_env(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    lua_newtable(L);                               /* contents */
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {                     /* clearing existing fields during traversal is allowed */
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, idx);
    }
    lua_newtable(L);                               /* contents' metatable: fall through to base */
    lua_getfield(L, LUA_REGISTRYINDEX, "corral.base");
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_newtable(L);                               /* the environment's new metatable */
    lua_insert(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, corral_frozen);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, idx);
}

#endif
