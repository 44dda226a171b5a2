// C library work charged to the budget. The count hook sees VM instructions only: one call to string.rep,
// table.insert or utf8.len can do unbounded work in C. Each function here charges in proportion to the bytes it
// will copy or scan, or to the elements it will move, before doing it (or, where that work is bounded by the
// Lua stack, such as results pushed by string.byte, right after it).
//
// Wrappers keep the original function in upvalue 1 and call it directly in their own frame, so its argument
// errors and positions read exactly as before ("bad argument #1 to 'upper'", "script.lua:3:"). table.insert,
// table.remove and table.move are rewritten instead: their loop length comes from __len, which a wrapper could
// only learn by calling it a second time.
#include "SandboxInternal.h"
#include <limits.h>
#include <string.h>

#define ORIGINAL(L) lua_tocfunction((L), lua_upvalueindex(1))
#define BYTES(n) ((long long)(n) / CORRAL_BYTES_PER_UNIT)
#define DECODE_BYTES_PER_UNIT 4     /* UTF-8 decoding does more per byte than a copy */

static size_t str_len(lua_State *L, int i) { return lua_type(L, i) == LUA_TSTRING ? lua_rawlen(L, i) : 0; }

static long long string_args_bytes(lua_State *L) {
    long long n = 0;
    for (int i = 1, top = lua_gettop(L); i <= top; i++) n += (long long)str_len(L, i);
    return n;
}

static lua_Integer opt_int(lua_State *L, int i, lua_Integer def) {
    int ok;
    lua_Integer v = lua_tointegerx(L, i, &ok);
    return ok ? v : def;    /* an invalid argument: the original raises the error */
}

/* ---- cost before, then the original ---------------------------------------------------------------------------- */

/* string.format, string.pack: the format and every string argument may be copied. */
static int charged_by_args(lua_State *L) {
    sb_charge(L, 1 + lua_gettop(L) + BYTES(string_args_bytes(L)));
    return ORIGINAL(L)(L);
}

/* string.upper/lower/reverse, string.packsize, tonumber, utf8.codes: the first argument is scanned once. */
static int charged_by_first(lua_State *L) {
    sb_charge(L, 1 + BYTES(str_len(L, 1)));
    return ORIGINAL(L)(L);
}

/* string.char, utf8.char, select, table.pack: one step per argument. */
static int charged_by_count(lua_State *L) {
    sb_charge(L, 1 + lua_gettop(L));
    return ORIGINAL(L)(L);
}

/* string.byte, utf8.codepoint, table.unpack, string.unpack: one step per result. Lua caps the results at its
   stack limit, so the uncharged work of a single call is bounded; the charge follows. */
static int charged_by_results(lua_State *L) {
    sb_charge(L, 1);
    int n = ORIGINAL(L)(L);
    sb_charge(L, n);
    return n;
}

static int charged_rawequal(lua_State *L) {
    size_t a = str_len(L, 1), b = str_len(L, 2);
    sb_charge(L, 1 + BYTES(a < b ? a : b));     /* equal long strings are compared byte by byte */
    return ORIGINAL(L)(L);
}

/* string.rep: the result's size is known up front; a result beyond the memory cap fails as a memory error
   before anything is built, and an empty result returns at once (Lua would still loop n times). */
static int charged_rep(lua_State *L) {
    size_t l, lsep;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || l + lsep == 0) { lua_pushliteral(L, ""); return 1; }
    if (l + lsep <= (size_t)INT_MAX / (size_t)n) {    /* else Lua's "resulting string too large" */
        size_t total = (l + lsep) * (size_t)n - lsep;
        sb_need_memory(L, total);
        sb_charge(L, 1 + BYTES(total));
    }
    return ORIGINAL(L)(L);
}

/* Lua's utf8 position rule: negative counts from the end. */
static lua_Integer u_pos(lua_Integer pos, size_t len) {
    if (pos >= 0) return pos;
    if ((size_t)0 - (size_t)pos > len) return 0;
    return (lua_Integer)len + pos + 1;
}

/* utf8.len(s, i, j): decodes bytes i..j. */
static int charged_utf8_len(lua_State *L) {
    size_t len = str_len(L, 1);
    lua_Integer i = u_pos(opt_int(L, 2, 1), len), j = u_pos(opt_int(L, 3, -1), len);
    if (i < 1) i = 1;                           /* clamped for the estimate only: Lua checks the bounds */
    if (j > (lua_Integer)len) j = (lua_Integer)len;
    long long bytes = j >= i ? (long long)(j - i + 1) : 0;
    sb_charge(L, 1 + bytes / DECODE_BYTES_PER_UNIT);
    return ORIGINAL(L)(L);
}

/* utf8.offset(s, n, i): walks from i towards the end (n > 0) or the start (n <= 0) at most. */
static int charged_utf8_offset(lua_State *L) {
    size_t len = str_len(L, 1);
    lua_Integer n = opt_int(L, 2, 0);
    lua_Integer i = u_pos(opt_int(L, 3, n >= 0 ? 1 : (lua_Integer)len + 1), len);
    long long span = n > 0 ? (long long)len - i : i;
    if (span < 0) span = 0;
    if (span > (long long)len) span = (long long)len;
    sb_charge(L, 1 + BYTES(span));
    return ORIGINAL(L)(L);
}

/* table.concat: for a plain table (no metatable, so reading it is invisible) the elements' sizes are added up
   first. Otherwise the elements come through metamethods, which are charged as Lua code, and the bytes are
   charged as the buffer grows (the allocator charges). */
static int charged_concat(lua_State *L) {
    long long units = 1;
    int plain = lua_type(L, 1) == LUA_TTABLE && !lua_getmetatable(L, 1);
    if (lua_type(L, 1) == LUA_TTABLE && !plain) lua_pop(L, 1);     /* the metatable lua_getmetatable pushed */
    if (plain) {
        size_t lsep = str_len(L, 2);
        lua_Integer i = opt_int(L, 3, 1), last = opt_int(L, 4, (lua_Integer)lua_rawlen(L, 1));
        long long bytes = 0;
        for (; i <= last; i++) {
            int t = lua_rawgeti(L, 1, i);
            if (t == LUA_TSTRING) bytes += (long long)lua_rawlen(L, -1) + (long long)lsep;
            else if (t == LUA_TNUMBER) bytes += 24 + (long long)lsep;
            lua_pop(L, 1);
            if (t != LUA_TSTRING && t != LUA_TNUMBER) break;    /* the original stops with an error here */
            units++;
            if (i == LUA_MAXINTEGER) break;
        }
        units += BYTES(bytes);
    }
    sb_charge(L, units);
    return ORIGINAL(L)(L);
}

/* table.sort: every comparison goes through this closure and is charged, including the length of the strings
   compared (strcoll walks them). Upvalue 1: the script's comparator, or nil for '<'. */
static int sort_less(lua_State *L) {
    size_t a = str_len(L, 1), b = str_len(L, 2);
    sb_charge(L, 1 + BYTES(a < b ? a : b));
    if (lua_isnil(L, lua_upvalueindex(1))) {
        lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

static int charged_sort(lua_State *L) {
    int t = lua_type(L, 2);
    if (t == LUA_TNONE || t == LUA_TNIL || t == LUA_TFUNCTION) {   /* anything else: the original's error */
        lua_settop(L, 2);
        lua_pushcclosure(L, sort_less, 1);      /* takes the comparator (or nil) from slot 2, replacing it */
    }
    return ORIGINAL(L)(L);
}

/* ---- table.insert, table.remove, table.move, rewritten with a charge for the elements they move ------------- */

/* Lua's check that arg is a table, or behaves like one through the metamethods `need` lists. */
static void check_table(lua_State *L, int arg, int read, int write, int len) {
    if (lua_type(L, arg) == LUA_TTABLE) return;
    if (lua_getmetatable(L, arg)) {
        int mt = lua_gettop(L), ok = 1;
        const char *names[3] = { read ? "__index" : NULL, write ? "__newindex" : NULL, len ? "__len" : NULL };
        for (int k = 0; k < 3 && ok; k++) {
            if (!names[k]) continue;
            lua_pushstring(L, names[k]);
            ok = lua_rawget(L, mt) != LUA_TNIL;
            lua_pop(L, 1);
        }
        lua_settop(L, mt - 1);
        if (ok) return;
    }
    luaL_checktype(L, arg, LUA_TTABLE);     /* raises the usual "table expected" */
}

static lua_Integer table_length(lua_State *L, int arg, int write) {
    check_table(L, arg, 1, write, 1);
    return luaL_len(L, arg);
}

static int sb_insert(lua_State *L) {
    lua_Integer end = table_length(L, 1, 1);
    end = (lua_Integer)((lua_Unsigned)end + 1u);    /* first empty slot (wraps like Lua's) */
    lua_Integer pos;
    switch (lua_gettop(L)) {
        case 2:
            pos = end;
            break;
        case 3:
            pos = luaL_checkinteger(L, 2);
            luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)end, 2, "position out of bounds");
            sb_charge(L, 1 + (end > pos ? end - pos : 0));     /* end may have wrapped to the minimum */
            for (lua_Integer i = end; i > pos; i--) {       /* shift up */
                lua_geti(L, 1, i - 1);
                lua_seti(L, 1, i);
            }
            break;
        default:
            return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    lua_seti(L, 1, pos);
    return 0;
}

/* Lua 5.4.4 and earlier name argument #1 in table.remove's position error. */
#if LUA_VERSION_RELEASE_NUM <= 50404
#define REMOVE_POS_ARG 1
#else
#define REMOVE_POS_ARG 2
#endif

static int sb_remove(lua_State *L) {
    lua_Integer size = table_length(L, 1, 1);
    lua_Integer pos = luaL_optinteger(L, 2, size);
    if (pos != size)    /* a given position may also be size + 1 */
        luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, REMOVE_POS_ARG, "position out of bounds");
    sb_charge(L, 1 + (pos < size ? size - pos : 0));
    lua_geti(L, 1, pos);
    for (; pos < size; pos++) {                              /* shift down */
        lua_geti(L, 1, pos + 1);
        lua_seti(L, 1, pos);
    }
    lua_pushnil(L);
    lua_seti(L, 1, pos);
    return 1;
}

static int sb_move(lua_State *L) {
    lua_Integer f = luaL_checkinteger(L, 2);
    lua_Integer e = luaL_checkinteger(L, 3);
    lua_Integer t = luaL_checkinteger(L, 4);
    int dst = lua_isnoneornil(L, 5) ? 1 : 5;
    check_table(L, 1, 1, 0, 0);
    check_table(L, dst, 0, 1, 0);
    if (e >= f) {
        luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3, "too many elements to move");
        lua_Integer n = e - f + 1;
        luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4, "destination wrap around");
        sb_charge(L, n);        /* n >= 1, and up to LUA_MAXINTEGER */
        /* Copy forwards unless the destination starts inside the source range of the same table. */
        if (t > e || t <= f || (dst != 1 && !lua_compare(L, 1, dst, LUA_OPEQ))) {
            for (lua_Integer i = 0; i < n; i++) {
                lua_geti(L, 1, f + i);
                lua_seti(L, dst, t + i);
            }
        } else {
            for (lua_Integer i = n - 1; i >= 0; i--) {
                lua_geti(L, 1, f + i);
                lua_seti(L, dst, t + i);
            }
        }
    }
    lua_pushvalue(L, dst);
    return 1;
}

/* ---- installation ---------------------------------------------------------------------------------------------- */

typedef struct { const char *lib, *name; lua_CFunction f; } Charged;

static const Charged charged[] = {
    {"_G", "select", charged_by_count},
    {"_G", "tonumber", charged_by_first},
    {"_G", "rawequal", charged_rawequal},
    {"string", "byte", charged_by_results},
    {"string", "char", charged_by_count},
    {"string", "format", charged_by_args},
    {"string", "lower", charged_by_first},
    {"string", "upper", charged_by_first},
    {"string", "reverse", charged_by_first},
    {"string", "rep", charged_rep},
    {"string", "pack", charged_by_args},
    {"string", "packsize", charged_by_first},
    {"string", "unpack", charged_by_results},
    {"table", "concat", charged_concat},
    {"table", "sort", charged_sort},
    {"table", "unpack", charged_by_results},
    {"table", "pack", charged_by_count},
    {"table", "insert", sb_insert},
    {"table", "remove", sb_remove},
    {"table", "move", sb_move},
    {"utf8", "char", charged_by_count},
    {"utf8", "codepoint", charged_by_results},
    {"utf8", "len", charged_utf8_len},
    {"utf8", "offset", charged_utf8_offset},
    {"utf8", "codes", charged_by_first},
    {NULL, NULL, NULL}
};

/* Sets lib[name] = wrapper with the original as upvalue, in the library tables found as globals. */
static void wrap_all(lua_State *L, int into) {
    for (const Charged *c = charged; c->lib; c++) {
        lua_getglobal(L, c->lib);
        lua_getfield(L, -1, c->name);
        lua_pushcclosure(L, c->f, 1);
        if (into) {     /* the test table: "string.rep" (or "select") = wrapper */
            if (strcmp(c->lib, "_G") == 0) lua_pushstring(L, c->name);
            else lua_pushfstring(L, "%s.%s", c->lib, c->name);
            lua_insert(L, -2);
            lua_settable(L, into);
        } else {
            lua_setfield(L, -2, c->name);
        }
        lua_pop(L, 1);
    }
}

void sb_install_charges(lua_State *L) {
    wrap_all(L, 0);
    lua_getglobal(L, "string");
    sb_install_patterns(L);
    lua_pop(L, 1);
}

void sb_push_test_functions(lua_State *L) {
    lua_newtable(L);
    int t = lua_gettop(L);
    wrap_all(L, t);
    lua_newtable(L);
    sb_install_patterns(L);
    lua_pushnil(L);
    while (lua_next(L, -2)) {       /* "string.find" = the sandbox's matcher */
        lua_pushfstring(L, "string.%s", lua_tostring(L, -2));
        lua_insert(L, -2);
        lua_settable(L, t);
    }
    lua_pop(L, 1);
}
