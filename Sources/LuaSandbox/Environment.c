// The sandboxed environment: which parts of the standard library scripts see, read-only library tables, fresh
// and frozen script environments, and the base functions the sandbox replaces (setmetatable, xpcall,
// math.random's argument check).
#include "SandboxInternal.h"
#include <string.h>

static const char *const base_names[] = {
    "assert", "error", "ipairs", "next", "pairs", "pcall", "select", "tonumber", "tostring", "type", "xpcall",
    "rawequal", "rawget", "rawlen", "getmetatable", "setmetatable", "_VERSION", NULL
};

/* ---- setmetatable without finalizers ---------------------------------------------------------------------------
   A __gc metamethod would run later inside the collector: after the run has ended (no limits), or during
   another script's run. Lua marks an object for finalization only when setmetatable finds a __gc field (any
   non-nil value, even false, which a script could later replace with a function), so refusing such metatables
   here is enough: adding __gc to the metatable afterwards has no effect. */
static int sb_setmetatable(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        int t = lua_rawget(L, 2);
        lua_pop(L, 1);
        if (t != LUA_TNIL) return luaL_error(L, "__gc metamethods are not allowed (scripts have no finalizers)");
    }
    return lua_tocfunction(L, lua_upvalueindex(1))(L);    /* the original, in this frame: same messages */
}

/* ---- xpcall whose handler runs under the limits ----------------------------------------------------------------
   Lua calls a message handler before unwinding, from inside the failing frame. When the error comes from the
   count hook (a limit), hooks are still disabled at that point, so the handler would run unlimited: a looping
   handler never ends. This xpcall calls f in protected mode without a handler and calls the handler with the
   error once the stack has unwound, as an ordinary (hooked) call. Scripts have no debug library, so the
   handler cannot tell the difference; an error inside the handler gives "error in error handling", as in Lua. */
static int xpcall_done(lua_State *L, int status, lua_KContext extra) {
    if (status == LUA_OK || status == LUA_YIELD) return lua_gettop(L) - (int)extra;
    /* stack: f, handler, true, error */
    lua_pushvalue(L, 2);
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_pop(L, 1);
        lua_pushliteral(L, "error in error handling");
    }
    lua_pushboolean(L, 0);
    lua_replace(L, 3);
    return 2;
}

static int sb_xpcall(lua_State *L) {
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushboolean(L, 1);      /* the first result when f succeeds */
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2);        /* f, handler, true, f, args... */
    int status = lua_pcallk(L, n - 2, LUA_MULTRET, 0, 2, xpcall_done);
    return xpcall_done(L, status, 2);
}

/* ---- math.random's arguments -----------------------------------------------------------------------------------
   The bridge (Swift) takes integers; a float without an integer value (2^63, 1e308, inf, nan) must fail here with
   Lua's own message instead of reaching it. Integral floats become integers, so Swift always sees integers. */
static int sb_random(lua_State *L) {
    for (int i = 1; i <= 2 && i <= lua_gettop(L); i++) {
        if (lua_type(L, i) != LUA_TNUMBER || lua_isinteger(L, i)) continue;
        int ok;
        lua_Integer v = lua_tointegerx(L, i, &ok);
        if (!ok) return luaL_argerror(L, i, "number has no integer representation");
        lua_pushinteger(L, v);
        lua_replace(L, i);
    }
    return sb_trampoline(L);    /* upvalue 1 is the bridge function's ID, as for the trampoline itself */
}

/* ---- the environment ------------------------------------------------------------------------------------------ */

static void replace_global(lua_State *L, const char *name, lua_CFunction f) {
    lua_getglobal(L, name);
    lua_pushcclosure(L, f, 1);  /* upvalue 1: the original */
    lua_setglobal(L, name);
}

static void copy_fields(lua_State *L, const char *lib, const char *const *skip) {
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

void corral_sandbox_begin(lua_State *L) {
    luaL_requiref(L, "_G", luaopen_base, 1); lua_pop(L, 1);
    luaL_requiref(L, "string", luaopen_string, 1); lua_pop(L, 1);
    luaL_requiref(L, "table", luaopen_table, 1); lua_pop(L, 1);
    luaL_requiref(L, "math", luaopen_math, 1); lua_pop(L, 1);
    luaL_requiref(L, "utf8", luaopen_utf8, 1); lua_pop(L, 1);
    luaL_requiref(L, "os", luaopen_os, 1); lua_pop(L, 1);
    sb_make_defused(L);

    /* The real library tables are patched in place: the string table stays reachable through ("").method. */
    sb_install_charges(L);
    replace_global(L, "setmetatable", sb_setmetatable);
    lua_pushcfunction(L, sb_xpcall);
    lua_setglobal(L, "xpcall");
    lua_getglobal(L, "string");
    lua_pushnil(L); lua_setfield(L, -2, "dump");
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
    for (const char *const *n = base_names; *n; n++) {
        lua_getglobal(L, *n);
        lua_setfield(L, -2, *n);
    }
    static const char *const no_string[] = { "dump", NULL };
    static const char *const no_math[] = { "random", "randomseed", NULL };
    copy_fields(L, "string", no_string);
    copy_fields(L, "table", NULL);
    copy_fields(L, "math", no_math);
    copy_fields(L, "utf8", NULL);
    /* os: only what the bridge provides (deterministic clock); the real os.date formats for it. */
    lua_newtable(L);
    lua_setfield(L, -2, "os");
    lua_getglobal(L, "os");
    lua_getfield(L, -1, "date");
    lua_setfield(L, LUA_REGISTRYINDEX, "corral.os_date");
    lua_pop(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "corral.base");
}

static int sb_readonly(lua_State *L) {
    return luaL_error(L, "attempt to modify a read-only library table");
}

void corral_sandbox_seal(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, "corral.base");
    /* math.random is a bridge function (Swift installed it): put the argument check in front of it. */
    lua_getfield(L, -1, "math");
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_getfield(L, -1, "random");
        if (lua_tocfunction(L, -1) == sb_trampoline && lua_getupvalue(L, -1, 1)) {
            lua_pushcclosure(L, sb_random, 1);
            lua_setfield(L, -3, "random");
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -1) == LUA_TTABLE) {
            lua_newtable(L);               /* proxy */
            lua_newtable(L);               /* its metatable */
            lua_pushvalue(L, -3); lua_setfield(L, -2, "__index");
            lua_pushcfunction(L, sb_readonly); lua_setfield(L, -2, "__newindex");
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

void corral_push_env(lua_State *L) {
    lua_newtable(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "corral.envmeta");
    lua_setmetatable(L, -2);
}

int corral_set_env(lua_State *L, int idx) {
    return lua_setupvalue(L, idx, 1) != NULL;
}

int corral_load_text(lua_State *L, const char *buf, size_t len, const char *chunkname) {
    return luaL_loadbufferx(L, buf, len, chunkname, "t");
}

static int sb_frozen(lua_State *L) {
    const char *k = lua_tostring(L, 2);
    return luaL_error(L, "cannot assign global '%s' at run time (declare it local)", k ? k : "?");
}

void corral_freeze_env(lua_State *L, int idx) {
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
    lua_pushcfunction(L, sb_frozen);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, idx);
}
