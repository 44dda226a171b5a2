#ifndef CORRAL_LUA_SANDBOX_H
#define CORRAL_LUA_SANDBOX_H
// Corral's Lua sandbox: per-state limits (instructions, memory, wall time), the bridge trampoline and the
// sandboxed environment. Everything that may raise a Lua error (longjmp) lives here, in C frames: Swift bridge
// functions only return a status, and the trampoline raises for them.
//
// The header names no Lua header on purpose: Swift imports the Lua API from CLua, and a second textual copy of
// lua.h in this module could make its declarations ambiguous. lua_Integer is `long long` (Lua's default build).
#include <stddef.h>

typedef struct lua_State lua_State;

/// Swift's side of every bridge call. Returns the number of results pushed, or one of the codes below.
typedef int (*corral_dispatch_fn)(lua_State *L, void *host, int function_id);
#define CORRAL_RAISE (-1)   /* the error message is on top of the stack: raise it with the caller's position */
#define CORRAL_YIELD (-2)   /* suspend the coroutine; lua_resume's arguments become the call's results */

/// Which limit stopped a run (corral_limit_hit).
#define CORRAL_LIMIT_NONE 0
#define CORRAL_LIMIT_INSTRUCTIONS 1
#define CORRAL_LIMIT_MEMORY 2
#define CORRAL_LIMIT_TIME 3

// ---- states ----------------------------------------------------------------------------------------------------

lua_State *corral_newstate(void *host, corral_dispatch_fn dispatch);
void corral_set_host(lua_State *L, void *host);
void corral_close(lua_State *L);
size_t corral_memory_used(lua_State *L);

// ---- runs: limits apply between begin and end, never inside Swift callbacks ---------------------------------------

/// Limits for the run that starts now on thread T (a coroutine of L, or L itself). No wall-clock limit.
void corral_begin_run(lua_State *L, lua_State *T, long long budget, size_t memory_cap);
/// The same with a wall-clock limit: after wall_ms milliseconds the run stops ("wall-clock limit exceeded").
/// wall_ms <= 0: none. Returns 0, or -1 if the watchdog thread could not be started (the run then has no wall limit).
int corral_begin_run_wall(lua_State *L, lua_State *T, long long budget, size_t memory_cap, long long wall_ms);
/// Ends the run: disarms the watchdog, removes the hook, and defuses a failed coroutine's pending to-be-closed
/// values so that clearing its stack afterwards (lua_settop) runs no script code outside the limits.
void corral_end_run(lua_State *L);
/// Arms (or re-arms) the wall-clock watchdog for the current run: it stops wall_ms milliseconds from now.
int corral_watchdog_arm(lua_State *L, long long wall_ms);
void corral_watchdog_disarm(lua_State *L);

long long corral_budget_left(lua_State *L);
int corral_budget_hit(lua_State *L);    /* the run ran out of instructions (VM or charged C work) */
int corral_memory_hit(lua_State *L);    /* an allocation was refused by the cap */
int corral_time_hit(lua_State *L);      /* the wall-clock deadline passed */
/// The limit that stopped the current/last run first (CORRAL_LIMIT_*).
int corral_limit_hit(lua_State *L);
/// "chunk:line" where that limit stopped the run, or "" when unknown (an allocation refused on the main thread).
const char *corral_limit_where(lua_State *L);

// ---- the bridge ------------------------------------------------------------------------------------------------

void corral_push_bridge(lua_State *L, int function_id);
/// A bridge function with one integer upvalue of its own (an iterator's cursor).
void corral_push_bridge_closure(lua_State *L, int function_id, long long extra);

// ---- the sandbox -----------------------------------------------------------------------------------------------

/// Loads a text chunk (never precompiled bytecode).
int corral_load_text(lua_State *L, const char *buf, size_t len, const char *chunkname);
/// Opens the safe libraries and leaves the sandbox's base table (copies, not yet sealed) in the registry under
/// "corral.base". Swift then adds the bridge functions and calls corral_sandbox_seal.
void corral_sandbox_begin(lua_State *L);
/// Replaces every table in base with a read-only proxy and builds the environments' shared metatable.
void corral_sandbox_seal(lua_State *L);
/// Pushes a fresh script environment.
void corral_push_env(lua_State *L);
/// Sets the _ENV upvalue of the function at idx to the table on top (popped).
int corral_set_env(lua_State *L, int idx);
/// After a profile loaded: its globals stay readable but the environment refuses assignments.
void corral_freeze_env(lua_State *L, int idx);

#endif
