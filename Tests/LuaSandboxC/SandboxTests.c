// Tests of the Lua sandbox's C part (Sources/LuaSandbox), built and run by scripts/test-c.
// Each state is set up the way Scripting/LuaVM.swift does it, with a small C stand-in for the Swift bridge.
// Usage: SandboxTests path/to/differential.lua
#include "SandboxInternal.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int passed, failed;

#define CHECK(cond, ...) do { \
    if (cond) passed++; \
    else { failed++; fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
           fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

// ---- the bridge stand-in ------------------------------------------------------------------------------------------

enum { FN_SUSPEND, FN_FAIL, FN_RANDOM, FN_MARK };
static atomic_int floats_reached_random;   // a non-integer reaching Swift's math.random would crash it
static atomic_int marks;

static int dispatch(lua_State *L, void *host, int fid) {
    (void)host;
    switch (fid) {
        case FN_SUSPEND: return CORRAL_YIELD;
        case FN_FAIL: lua_pushstring(L, "bridge says no"); return CORRAL_RAISE;
        case FN_MARK: atomic_fetch_add(&marks, 1); return 0;
        case FN_RANDOM: {
            int n = lua_gettop(L);
            for (int i = 1; i <= n && i <= 2; i++)
                if (lua_type(L, i) == LUA_TNUMBER && !lua_isinteger(L, i)) atomic_fetch_add(&floats_reached_random, 1);
            if (n == 0) { lua_pushnumber(L, 0.5); return 1; }
            lua_Integer lo = n >= 2 ? lua_tointeger(L, 1) : 1, hi = n >= 2 ? lua_tointeger(L, 2) : lua_tointeger(L, 1);
            if (lo > hi) { lua_pushstring(L, "math.random: interval is empty"); return CORRAL_RAISE; }
            lua_pushinteger(L, lo);
            return 1;
        }
    }
    lua_pushstring(L, "unknown bridge function");
    return CORRAL_RAISE;
}

static lua_State *new_sandbox(void) {
    lua_State *L = corral_newstate(NULL, dispatch);
    corral_sandbox_begin(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "corral.base");
    lua_getfield(L, -1, "math");
    corral_push_bridge(L, FN_RANDOM);
    lua_setfield(L, -2, "random");
    lua_pop(L, 1);
    corral_push_bridge(L, FN_SUSPEND); lua_setfield(L, -2, "suspend");
    corral_push_bridge(L, FN_FAIL); lua_setfield(L, -2, "fail");
    corral_push_bridge(L, FN_MARK); lua_setfield(L, -2, "mark");
    lua_pop(L, 1);
    corral_sandbox_seal(L);
    lua_gc(L, LUA_GCGEN, 0, 0);
    return L;
}

typedef struct {
    int status;
    char result[256];     // tostring of the first result, or the error message
    int limit, budget_hit, memory_hit, time_hit;
    char where[96];
    double seconds;
} Run;

static void describe(lua_State *S, int idx, char *out, size_t n) {
    const char *s = lua_tostring(S, idx);
    if (s) snprintf(out, n, "%s", s);
    else snprintf(out, n, "(%s)", luaL_typename(S, idx));
}

static const long long BIG = 1000000000000000LL;
static const size_t MB = 1 << 20;

/// Runs source on the main thread the way LuaVM.callTop does.
static Run run_main(lua_State *L, const char *src, long long budget, size_t memory, long long wall_ms) {
    Run r;
    memset(&r, 0, sizeof r);
    int top = lua_gettop(L);
    if (corral_load_text(L, src, strlen(src), "=test.lua") != LUA_OK) {
        r.status = -1;
        describe(L, -1, r.result, sizeof r.result);
        lua_settop(L, top);
        return r;
    }
    corral_push_env(L);
    corral_set_env(L, -2);
    double t0 = now_s();
    corral_begin_run_wall(L, L, budget, memory, wall_ms);
    r.status = lua_pcall(L, 0, 1, 0);
    corral_end_run(L);
    r.seconds = now_s() - t0;
    describe(L, -1, r.result, sizeof r.result);
    r.limit = corral_limit_hit(L);
    r.budget_hit = corral_budget_hit(L);
    r.memory_hit = corral_memory_hit(L);
    r.time_hit = corral_time_hit(L);
    snprintf(r.where, sizeof r.where, "%s", corral_limit_where(L));
    lua_settop(L, top);
    return r;
}

/// Runs source as a coroutine the way LuaVM.resume does (resuming through suspend() calls), clearing the
/// thread's stack after each resume as Swift does.
static Run run_coroutine(lua_State *L, const char *src, long long budget, size_t memory, long long wall_ms) {
    Run r;
    memset(&r, 0, sizeof r);
    int top = lua_gettop(L);
    lua_State *T = lua_newthread(L);
    if (corral_load_text(T, src, strlen(src), "=co.lua") != LUA_OK) {
        r.status = -1;
        describe(T, -1, r.result, sizeof r.result);
        lua_settop(L, top);
        return r;
    }
    corral_push_env(T);
    corral_set_env(T, -2);
    double t0 = now_s();
    for (int resumes = 0; resumes < 100; resumes++) {
        int nres = 0;
        corral_begin_run_wall(L, T, budget, memory, wall_ms);
        r.status = lua_resume(T, L, 0, &nres);
        budget = corral_budget_left(L);
        corral_end_run(L);
        if (r.status == LUA_YIELD) { lua_settop(T, 0); continue; }
        if (r.status == LUA_OK && nres > 0) describe(T, -nres, r.result, sizeof r.result);
        else if (r.status != LUA_OK) describe(T, -1, r.result, sizeof r.result);
        break;
    }
    r.seconds = now_s() - t0;
    r.limit = corral_limit_hit(L);
    r.budget_hit = corral_budget_hit(L);
    r.memory_hit = corral_memory_hit(L);
    r.time_hit = corral_time_hit(L);
    snprintf(r.where, sizeof r.where, "%s", corral_limit_where(L));
    lua_settop(T, 0);     // Swift clears the thread after a failure: must run no script code now
    lua_settop(L, top);
    return r;
}

static int contains(const char *s, const char *part) { return strstr(s, part) != NULL; }

#define EXPECT_OK(r, want) do { Run r_ = (r); \
    CHECK(r_.status == LUA_OK && strcmp(r_.result, (want)) == 0, "status %d result '%s', want '%s'", r_.status, r_.result, (want)); \
} while (0)

#define EXPECT_LIMIT(r, lim, secs) do { Run r_ = (r); \
    CHECK(r_.status != LUA_OK && r_.limit == (lim) && r_.seconds < (secs), \
          "status %d limit %d (want %d) after %.3fs: %s", r_.status, r_.limit, (lim), r_.seconds, r_.result); \
} while (0)

#define EXPECT_ERROR(r, part) do { Run r_ = (r); \
    CHECK(r_.status != LUA_OK && contains(r_.result, (part)), "status %d: '%s' does not contain '%s'", r_.status, r_.result, (part)); \
} while (0)

// ---- tests -------------------------------------------------------------------------------------------------------

static void test_normal_scripts(lua_State *L) {
    const long long B = 5000000;
    EXPECT_OK(run_main(L, "return 1 + 1", B, 8 * MB, 0), "2");
    EXPECT_OK(run_main(L, "return ('abc'):upper() .. string.rep('ab', 3, '-')", B, 8 * MB, 0), "ABCab-ab-ab");
    EXPECT_OK(run_main(L, "return select('#', string.find('hello world', 'o w'))", B, 8 * MB, 0), "2");
    EXPECT_OK(run_main(L, "local k, v = string.match('key = value', '(%w+)%s*=%s*(%w+)') return k .. '|' .. v", B, 8 * MB, 0), "key|value");
    EXPECT_OK(run_main(L, "local t = {} for w in ('one two three'):gmatch('%a+') do t[#t+1] = w end return table.concat(t, ',')", B, 8 * MB, 0), "one,two,three");
    EXPECT_OK(run_main(L, "return (('hello world'):gsub('o', {o = '0'}))", B, 8 * MB, 0), "hell0 w0rld");
    EXPECT_OK(run_main(L, "return (string.gsub('abc', '%w', function(c) return c:upper() .. '.' end))", B, 8 * MB, 0), "A.B.C.");
    EXPECT_OK(run_main(L, "local t = {5, 3, 9, 1} table.sort(t) table.insert(t, 1, 0) table.remove(t) return table.concat(t, ' ')", B, 8 * MB, 0), "0 1 3 5");
    EXPECT_OK(run_main(L, "local t = {'b', 'a', 'c'} table.sort(t, function(x, y) return x > y end) return table.concat(t)", B, 8 * MB, 0), "cba");
    EXPECT_OK(run_main(L, "return table.concat(table.move({1, 2, 3}, 1, 3, 2), ',')", B, 8 * MB, 0), "1,1,2,3");
    EXPECT_OK(run_main(L, "return utf8.len('h\\u{e9}llo') .. utf8.char(72, 105) .. select(2, utf8.codepoint('ab', 1, 2))", B, 8 * MB, 0), "5Hi98");
    EXPECT_OK(run_main(L, "return string.format('%5.1f|%s|%q', 3.14159, 'x', 'a\\n')", B, 8 * MB, 0), "  3.1|x|\"a\\\n\"");
    EXPECT_OK(run_main(L, "return tostring(tonumber('0x10')) .. tostring(rawequal('a', 'a'))", B, 8 * MB, 0), "16true");
    EXPECT_OK(run_main(L, "local ok, e = pcall(error, 'x', 0) return tostring(ok) .. e", B, 8 * MB, 0), "falsex");
    EXPECT_OK(run_main(L, "return select(2, xpcall(function(a, b) return a + b end, tostring, 1, 2))", B, 8 * MB, 0), "3");
    EXPECT_OK(run_main(L, "return select(2, xpcall(error, function(m) return 'handled ' .. m end, 'boom', 0))", B, 8 * MB, 0), "handled boom");
    EXPECT_OK(run_main(L, "return select(2, xpcall(error, function() error('again') end))", B, 8 * MB, 0), "error in error handling");
    EXPECT_OK(run_main(L, "local mt = {__index = function(t, k) return k * 2 end} return setmetatable({}, mt)[21]", B, 8 * MB, 0), "42");
    EXPECT_OK(run_main(L, "do local x <close> = setmetatable({}, {__close = function() end}) end return 'closed'", B, 8 * MB, 0), "closed");
    EXPECT_OK(run_main(L, "return ('').rep('', 1e15)", B, 8 * MB, 0), "");
    // What the sandbox hides (as SandboxTests.swift checks).
    EXPECT_OK(run_main(L, "return tostring(io == nil and load == nil and debug == nil and collectgarbage == nil and rawset == nil and string.dump == nil and ('').dump == nil and getmetatable('') == false)", B, 8 * MB, 0), "true");
    EXPECT_ERROR(run_main(L, "string.upper = nil", B, 8 * MB, 0), "read-only");
    EXPECT_ERROR(run_main(L, "\x1bLua", B, 8 * MB, 0), "binary");
    EXPECT_ERROR(run_main(L, "local a = 1\n\nfail()", B, 8 * MB, 0), "test.lua:3: bridge says no");
}

static void test_patterns_are_charged(lua_State *L) {
    const long long B = 1000000;
    // The examples: each one runs for minutes (or forever) in Lua's own matcher.
    EXPECT_LIMIT(run_main(L, "return string.find(('a'):rep(3000), '.-.-.-.-b')", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "return string.find(('a'):rep(1e5), ('a*'):rep(100) .. 'b')", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "return (('a'):rep(3000)):match('.-.-.-.-b')", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "for w in ('a'):rep(3000):gmatch('.-.-.-b') do end", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "return ('a'):rep(3000):gsub('.-.-.-b', '')", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "return ('('):rep(1e5):gsub('%b()', '')", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    // Plain search is quadratic in the worst case.
    EXPECT_LIMIT(run_main(L, "return string.find(('a'):rep(1e6), ('a'):rep(5e5) .. 'b', 1, true)", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    // pcall cannot swallow the limit and go on.
    EXPECT_LIMIT(run_main(L, "while true do pcall(string.find, ('a'):rep(3000), '.-.-.-.-b') end", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    Run r = run_main(L, "local s = ('a'):rep(3000)\nreturn s:find('.-.-.-.-b')", B, 64 * MB, 0);
    CHECK(contains(r.result, "test.lua:2: instruction limit exceeded"), "%s", r.result);
    CHECK(strcmp(r.where, "test.lua:2") == 0, "where '%s'", r.where);
    // Under a generous budget the same work completes.
    EXPECT_OK(run_main(L, "return (string.find(('a'):rep(50), '.-.-b'))", B, 64 * MB, 0), "(nil)");
}

static void test_c_library_is_charged(lua_State *L) {
    const long long B = 1000000;
    EXPECT_LIMIT(run_main(L, "local t = setmetatable({}, {__len = function() return 2^40 end}) table.insert(t, 1, 0)", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "local t = setmetatable({}, {__len = function() return 2^40 end}) table.remove(t, 1)", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "table.move({}, 1, 2^40, 2)", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    // Extreme lengths and ranges: charged without overflowing (UBSan checks the arithmetic).
    EXPECT_LIMIT(run_main(L, "table.move({}, 0, math.maxinteger - 1, 1)", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "table.move({}, -2^40, 2^40, 1)", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_OK(run_main(L, "local t = setmetatable({}, {__len = function() return math.maxinteger end}) table.insert(t, 1, 'x') return rawget(t, 1)", B, 64 * MB, 0), "x");
    EXPECT_LIMIT(run_main(L, "local t = setmetatable({}, {__len = function() return math.maxinteger - 1 end}) table.insert(t, 1, 'x')", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "local t = setmetatable({}, {__len = function() return math.maxinteger end}) table.remove(t, 1)", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "return #table.concat({}, '', math.mininteger, math.maxinteger)", B, 64 * MB, 0), CORRAL_LIMIT_NONE, 0.5);
    EXPECT_LIMIT(run_main(L, "return utf8.offset(('x'):rep(100), math.maxinteger, 1), utf8.len('abc', math.mininteger, math.maxinteger)", B, 64 * MB, 0), CORRAL_LIMIT_NONE, 0.5);
    EXPECT_LIMIT(run_main(L, "local t = {} for i = 1, 1e5 do t[i] = 'x' end return #table.concat(t, ('y'):rep(1000))", B, 512 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "return #('x'):rep(1e8)", B, 512 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "local s = ('a'):rep(1e6) for i = 1, 1e4 do utf8.len(s) end", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "local s = ('1'):rep(1e6) for i = 1, 1e4 do tonumber(s) end", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "local s = ('a'):rep(1e6) for i = 1, 1e4 do s:upper() end", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "local s = ('a'):rep(1e6) for i = 1, 1e4 do string.format('%s', s) end", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "local s = ('\\x80'):rep(1e6) for i = 1, 1e4 do utf8.offset(s, 0, 1e6) end", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "local a, b = ('x'):rep(1e6), ('x'):rep(1e6) .. '' for i = 1, 1e5 do rawequal(a, b .. '') end", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 1.0);
    // Big concatenations in the VM are paid for through the allocator.
    EXPECT_LIMIT(run_main(L, "local s = ('x'):rep(1e6) for i = 1, 1e6 do local t = s .. i end", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    // Sorting charges each comparison, with the length of the strings compared.
    EXPECT_LIMIT(run_main(L, "local s = ('x'):rep(1e5) local t = {} for i = 1, 5000 do t[i] = s end table.sort(t)", B, 64 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    // string.rep beyond the memory cap fails as a memory error, before building anything.
    Run r = run_main(L, "return ('x'):rep(1e9)", 5000000, 8 * MB, 0);
    CHECK(r.status != LUA_OK && r.memory_hit && r.limit == CORRAL_LIMIT_MEMORY && r.seconds < 0.5, "%d %s", r.limit, r.result);
    EXPECT_ERROR(run_main(L, "return ('x'):rep(1e10, 'y')", 5000000, 8 * MB, 0), "resulting string too large");
    // Memory bombs stay memory errors although allocations are charged (SandboxTests.swift expects these kinds).
    EXPECT_LIMIT(run_main(L, "local s = 'x' for i = 1, 64 do s = s .. s end", 5000000, 8 * MB, 0), CORRAL_LIMIT_MEMORY, 0.5);
    EXPECT_LIMIT(run_main(L, "local t = {}\nfor i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end", 1000000000, 4 * MB, 0), CORRAL_LIMIT_MEMORY, 1.0);
}

static void test_no_finalizers(lua_State *L) {
    const long long B = 1000000;
    EXPECT_ERROR(run_main(L, "setmetatable({}, {__gc = function() end})", B, 8 * MB, 0), "__gc");
    EXPECT_ERROR(run_main(L, "setmetatable({}, {__gc = false})", B, 8 * MB, 0), "__gc");
    EXPECT_ERROR(run_main(L, "setmetatable({}, {__gc = true})", B, 8 * MB, 0), "__gc");
    // __gc added after setmetatable is never honoured by Lua: nothing runs when the collector frees the table.
    atomic_store(&marks, 0);
    EXPECT_OK(run_main(L, "local mt = {} local t = setmetatable({}, mt) mt.__gc = function() mark() while true do end end t = nil return 'ok'", B, 8 * MB, 0), "ok");
    lua_gc(L, LUA_GCCOLLECT);
    lua_gc(L, LUA_GCCOLLECT);
    CHECK(atomic_load(&marks) == 0, "a finalizer ran %d times", atomic_load(&marks));
    // Finalizers that would allocate after the run: refused, and the cap held during the run.
    size_t before = corral_memory_used(L);
    Run r = run_main(L, "local keep = {} for i = 1, 1e6 do keep[i] = setmetatable({}, {__gc = function() local t = {} for j = 1, 1e7 do t[j] = j end end}) end", B, 4 * MB, 0);
    CHECK(r.status != LUA_OK && contains(r.result, "__gc"), "%s", r.result);
    lua_gc(L, LUA_GCCOLLECT);
    CHECK(corral_memory_used(L) < before + MB, "memory after collection %zu, before %zu", corral_memory_used(L), before);
    // The cap holds with memory errors swallowed by pcall in a loop.
    r = run_main(L, "while true do pcall(function() local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(64) .. i end end) end", 50000000, 4 * MB, 0);
    CHECK(r.status != LUA_OK && r.memory_hit && r.limit == CORRAL_LIMIT_MEMORY && r.budget_hit, "%d %d %s", r.limit, r.budget_hit, r.result);
    lua_gc(L, LUA_GCCOLLECT);
    CHECK(corral_memory_used(L) < before + MB, "memory after collection %zu", corral_memory_used(L));
}

static void test_error_handlers_are_limited(lua_State *L) {
    const long long B = 1000000;
    EXPECT_LIMIT(run_main(L, "xpcall(function() while true do end end, function() while true do end end)", B, 8 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "xpcall(error, function() while true do end end)", B, 8 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "while true do xpcall(function() while true do end end, function(m) return m end) end", B, 8 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    EXPECT_LIMIT(run_main(L, "xpcall(string.find, function() local s = '' while true do s = s .. 'x' end end, ('a'):rep(3000), '.-.-.-.-b')", B, 8 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
    // Wall time: the handler also runs under the watchdog.
    EXPECT_LIMIT(run_main(L, "xpcall(error, function() while true do end end)", BIG, 8 * MB, 100), CORRAL_LIMIT_TIME, 1.0);
    // A to-be-closed value whose __close loops, on the main thread: closed by pcall under the limits.
    EXPECT_LIMIT(run_main(L, "local x <close> = setmetatable({}, {__close = function() while true do end end}) while true do end", B, 8 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
}

static void test_coroutines(lua_State *L) {
    const long long B = 1000000;
    EXPECT_OK(run_coroutine(L, "local a = suspend() local b = suspend() return 'done'", B, 8 * MB, 0), "done");
    EXPECT_OK(run_coroutine(L, "return select(2, xpcall(function() suspend() return 5 end, tostring))", B, 8 * MB, 0), "5");
    EXPECT_OK(run_coroutine(L, "return select(2, xpcall(function() suspend() error('late', 0) end, function(m) return 'h:' .. m end))", B, 8 * MB, 0), "h:late");
    // A failed coroutine's pending __close (added after the fact, looping or raising) must not run when its
    // stack is cleared outside the run: that would hang or abort the process.
    const char *closers[] = {
        "local mt = {} local obj = setmetatable({}, mt) mt.__close = function() while true do end end local x <close> = obj error('boom')",
        "local mt = {} local obj = setmetatable({}, mt) mt.__close = function() error('in close') end local x <close> = obj error('boom')",
        "local mt = {} local obj = setmetatable({}, mt) mt.__close = function() while true do end end local x <close> = obj while true do end",
        "local mt = {} local obj = setmetatable({}, mt) mt.__close = function() while true do end end for k in next, {}, nil, obj do end local y <close> = obj local z = nil + 1",
    };
    for (size_t i = 0; i < sizeof closers / sizeof *closers; i++) {
        Run r = run_coroutine(L, closers[i], B, 8 * MB, 0);
        CHECK(r.status != LUA_OK && r.seconds < 0.5, "closer %zu: %d %s", i, r.status, r.result);
    }
    Run r = run_coroutine(L, "local n = 0\nwhile true do\n n = n + 1\nend", B, 8 * MB, 0);
    CHECK(r.limit == CORRAL_LIMIT_INSTRUCTIONS && strncmp(r.where, "co.lua:", 7) == 0, "%d '%s' %s", r.limit, r.where, r.result);
    // Memory errors in a coroutine name their line.
    r = run_coroutine(L, "local t = {}\nfor i = 1, 1e9 do\n t[i] = i\nend", BIG, 4 * MB, 0);
    CHECK(r.limit == CORRAL_LIMIT_MEMORY && strcmp(r.where, "co.lua:3") == 0, "%d '%s' %s", r.limit, r.where, r.result);
    // Budget carried across suspensions (as Swift keeps co.budget).
    EXPECT_LIMIT(run_coroutine(L, "while true do suspend() for i = 1, 10000 do end end", 100000, 8 * MB, 0), CORRAL_LIMIT_INSTRUCTIONS, 0.5);
}

static void test_random(lua_State *L) {
    const long long B = 1000000;
    atomic_store(&floats_reached_random, 0);
    const char *bad[] = { "math.random(2^63)", "math.random(1e308)", "math.random(-1e308)", "math.random(1/0)",
                          "math.random(0/0)", "math.random(1, 2^63)", "math.random(1.5)", "math.random(-2^64, 1)" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        Run r = run_main(L, bad[i], B, 8 * MB, 0);
        CHECK(r.status != LUA_OK && contains(r.result, "number has no integer representation"), "%s: %s", bad[i], r.result);
    }
    EXPECT_ERROR(run_main(L, "math.random(1e308)", B, 8 * MB, 0), "bad argument #1 to 'random'");
    EXPECT_ERROR(run_main(L, "math.random(1, 2^63)", B, 8 * MB, 0), "bad argument #2 to 'random'");
    EXPECT_OK(run_main(L, "return math.type(math.random(3.0))", B, 8 * MB, 0), "integer");
    EXPECT_OK(run_main(L, "return math.random(2^53, 2^53)", B, 8 * MB, 0), "9007199254740992");
    EXPECT_OK(run_main(L, "return math.random(-2^63, 5)", B, 8 * MB, 0), "-9223372036854775808");
    EXPECT_OK(run_main(L, "return math.random(7)", B, 8 * MB, 0), "1");
    EXPECT_OK(run_main(L, "return math.random()", B, 8 * MB, 0), "0.5");
    EXPECT_ERROR(run_main(L, "return math.random(5, 1)", B, 8 * MB, 0), "interval is empty");
    CHECK(atomic_load(&floats_reached_random) == 0, "%d non-integers reached the bridge", atomic_load(&floats_reached_random));
}

static void test_watchdog(lua_State *L) {
    Run r = run_main(L, "while true do end", BIG, 8 * MB, 100);
    CHECK(r.status != LUA_OK && r.limit == CORRAL_LIMIT_TIME && r.time_hit && !r.budget_hit && r.seconds >= 0.09 && r.seconds < 1.0,
          "%d %.3fs %s", r.limit, r.seconds, r.result);
    CHECK(contains(r.result, "test.lua:1: wall-clock limit exceeded"), "%s", r.result);
    // Inside a C function (the matcher between two hooks) and in slow single instructions (long string compares).
    EXPECT_LIMIT(run_main(L, "return string.find(('a'):rep(3000), '.-.-.-.-b')", BIG, 64 * MB, 100), CORRAL_LIMIT_TIME, 1.0);
    EXPECT_LIMIT(run_main(L, "local a, b = ('x'):rep(2^24), ('x'):rep(2^23) .. ('x'):rep(2^23) while true do local _ = a == b end", BIG, 128 * MB, 100), CORRAL_LIMIT_TIME, 1.0);
    EXPECT_LIMIT(run_main(L, "while true do pcall(function() while true do end end) end", BIG, 8 * MB, 100), CORRAL_LIMIT_TIME, 1.0);
    EXPECT_LIMIT(run_coroutine(L, "while true do end", BIG, 8 * MB, 100), CORRAL_LIMIT_TIME, 1.0);
    // A run that ends in time is not stopped, and a later run is not hit by an old deadline.
    EXPECT_OK(run_main(L, "return 'quick'", BIG, 8 * MB, 50), "quick");
    struct timespec pause = { 0, 80 * 1000000 };
    nanosleep(&pause, NULL);
    r = run_main(L, "for i = 1, 1e6 do end return 'fine'", BIG, 8 * MB, 0);
    CHECK(r.status == LUA_OK && !r.time_hit && strcmp(r.result, "fine") == 0, "%d %s", r.status, r.result);
}

// Many states on many threads: each arms, runs and disarms; spinning runs stop on time, quick ones never do.
typedef struct { int id; int bad; } Worker;

static void *worker(void *arg) {
    Worker *w = (Worker *)arg;
    lua_State *L = new_sandbox();
    for (int i = 0; i < 12; i++) {
        if ((i + w->id) % 3 == 0) {
            Run r = run_main(L, "while true do end", BIG, 8 * MB, 20 + (w->id % 5) * 5);
            if (r.limit != CORRAL_LIMIT_TIME || r.seconds > 2.0) w->bad++;
        } else {
            Run r = run_main(L, "local n = 0 for i = 1, 1000 do n = n + i end return n", BIG, 8 * MB, 2000);
            if (r.status != LUA_OK || r.time_hit || strcmp(r.result, "500500") != 0) w->bad++;
        }
        corral_watchdog_arm(L, 1);     // armed and disarmed without a run in between
        corral_watchdog_disarm(L);
    }
    corral_close(L);
    return NULL;
}

static void test_watchdog_many_states(void) {
    enum { N = 8 };
    pthread_t threads[N];
    Worker workers[N];
    for (int i = 0; i < N; i++) {
        workers[i] = (Worker){ i, 0 };
        pthread_create(&threads[i], NULL, worker, &workers[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        CHECK(workers[i].bad == 0, "worker %d: %d wrong runs", i, workers[i].bad);
    }
    // Closing an armed state must leave the watchdog consistent.
    for (int i = 0; i < 50; i++) {
        lua_State *L = new_sandbox();
        corral_watchdog_arm(L, i % 2);
        corral_close(L);
    }
    struct timespec pause = { 0, 20 * 1000000 };
    nanosleep(&pause, NULL);
    passed++;
}

static void test_differential(const char *path) {
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    if (luaL_loadfile(L, path) != LUA_OK) {
        CHECK(0, "cannot load %s: %s", path, lua_tostring(L, -1));
        lua_close(L);
        return;
    }
    sb_push_test_functions(L);
    lua_pushinteger(L, 20240531);
    lua_pushinteger(L, 4000);
    if (lua_pcall(L, 3, 1, 0) != LUA_OK) {
        CHECK(0, "differential: %s", lua_tostring(L, -1));
    } else {
        long long n = lua_tointeger(L, -1);
        CHECK(n > 40000, "only %lld comparisons", n);
        printf("differential: %lld comparisons with Lua's own functions\n", n);
    }
    lua_close(L);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s differential.lua\n", argv[0]); return 2; }
    lua_State *L = new_sandbox();
    test_normal_scripts(L);
    test_patterns_are_charged(L);
    test_c_library_is_charged(L);
    test_no_finalizers(L);
    test_error_handlers_are_limited(L);
    test_coroutines(L);
    test_random(L);
    test_watchdog(L);
    EXPECT_OK(run_main(L, "return 'still usable'", 1000000, 8 * MB, 0), "still usable");
    corral_close(L);
    test_watchdog_many_states();
    test_differential(argv[1]);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
