// The state: allocator with the memory cap, the instruction budget (count hook and charged C work), the bridge
// trampoline, and the begin/end of a run.
#include "SandboxInternal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    corral_vm *vm = (corral_vm *)ud;
    size_t old = ptr ? osize : 0;   /* with ptr == NULL, osize is a type tag, not a size */
    if (nsize == 0) {
        free(ptr);
        vm->used -= old;
        return NULL;
    }
    if (vm->enforce && nsize > old) {
        if (vm->limit && vm->used + (nsize - old) > vm->limit) {
            if (!vm->first_limit) vm->first_limit = CORRAL_LIMIT_MEMORY;
            vm->memory_hit = 1;
            return NULL;    /* Lua raises "not enough memory" in its own (C) frames */
        }
        /* Big copies in the VM (concatenation, table growth) are paid for here; the allocator cannot raise, so
           an exhausted budget arms the per-instruction hook, which raises at the next instruction. */
        vm->budget -= (long long)((nsize - old) / CORRAL_ALLOC_BYTES_PER_UNIT);
        if (vm->budget < 0 && !vm->fast_hook && vm->running) {
            vm->fast_hook = 1;
            lua_sethook(vm->running, sb_hook, LUA_MASKCOUNT, 1);
        }
    }
    void *p = realloc(ptr, nsize);
    if (!p) return NULL;
    vm->used = vm->used - old + nsize;
    return p;
}

corral_vm *sb_vm(lua_State *L) {
    void *ud = NULL;
    return lua_getallocf(L, &ud) == sb_alloc ? (corral_vm *)ud : NULL;
}

static int sb_panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "corral: unprotected Lua error: %s\n", msg ? msg : "(not a string)");
    abort();
    return 0;
}

static const char *const limit_text[] = {
    "", "instruction limit exceeded", "memory limit exceeded", "wall-clock limit exceeded"
};

void sb_note_limit(corral_vm *vm, lua_State *T, int which) {
    if (!vm->first_limit) vm->first_limit = which;
    if (which == CORRAL_LIMIT_INSTRUCTIONS) vm->budget_hit = 1;
    if (which == CORRAL_LIMIT_MEMORY) vm->memory_hit = 1;
    if (!vm->fast_hook && T) {
        /* From now on check every instruction, so a pcall inside a loop cannot swallow the error and go on. */
        vm->fast_hook = 1;
        lua_sethook(T, sb_hook, LUA_MASKCOUNT, 1);
    }
}

/* Raised from a C function of the sandbox: the position is the Lua code that called it. */
static _Noreturn void raise_limit(lua_State *L, corral_vm *vm, int which) {
    int first = !vm->first_limit;
    sb_note_limit(vm, L, which);
    vm->enforce = 0;    /* the message must not fail on the cap it reports */
    luaL_where(L, 1);
    if (first) {
        size_t n;
        const char *w = lua_tolstring(L, -1, &n);
        if (n >= 2) n -= 2;    /* "chunk:line: " */
        if (n >= sizeof vm->where) n = sizeof vm->where - 1;
        memcpy(vm->where, w, n);
        vm->where[n] = 0;
    }
    lua_pushstring(L, limit_text[which]);
    lua_concat(L, 2);
    vm->enforce = 1;
    lua_error(L);
    abort();    /* not reached */
}

void sb_charge(lua_State *L, long long units) {
    corral_vm *vm = sb_vm(L);
    if (!vm || !vm->enforce) return;
    if (atomic_load_explicit(&vm->time_hit, memory_order_relaxed)) raise_limit(L, vm, CORRAL_LIMIT_TIME);
    if (vm->budget_hit || units > vm->budget) {    /* (compared, not subtracted: units may be near LLONG_MAX) */
        vm->budget = -1;
        raise_limit(L, vm, CORRAL_LIMIT_INSTRUCTIONS);
    }
    vm->budget -= units;
}

void sb_need_memory(lua_State *L, size_t bytes) {
    corral_vm *vm = sb_vm(L);
    if (vm && vm->enforce && vm->limit && (bytes > vm->limit || vm->used > vm->limit - bytes))
        raise_limit(L, vm, CORRAL_LIMIT_MEMORY);
}

void sb_hook(lua_State *L, lua_Debug *ar) {
    corral_vm *vm = sb_vm(L);
    if (!vm || !vm->enforce) return;
    int which;
    if (atomic_load_explicit(&vm->time_hit, memory_order_relaxed)) which = CORRAL_LIMIT_TIME;
    else if (vm->budget_hit) which = CORRAL_LIMIT_INSTRUCTIONS;
    else {
        vm->budget -= CORRAL_HOOK_STEP;
        if (vm->budget >= 0) return;
        which = CORRAL_LIMIT_INSTRUCTIONS;
    }
    int first = !vm->first_limit;
    sb_note_limit(vm, L, which);
    lua_getinfo(L, "Sl", ar);
    if (first) snprintf(vm->where, sizeof vm->where, "%s:%d", ar->short_src, ar->currentline);
    vm->enforce = 0;
    lua_pushfstring(L, "%s:%d: %s", ar->short_src, ar->currentline, limit_text[which]);
    vm->enforce = 1;
    /* Note: Lua runs hooks with hooks disabled, and an error raised here keeps them disabled until the
       enclosing pcall returns; this is why the sandbox's xpcall calls its handler only after unwinding. */
    lua_error(L);
}

/// The C function behind every bridge function: upvalue 1 is the function's ID in the Swift declaration table.
int sb_trampoline(lua_State *L) {
    corral_vm *vm = sb_vm(L);
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
    if (enforce && vm->limit && vm->used > vm->limit) raise_limit(L, vm, CORRAL_LIMIT_MEMORY);
    return r;
}

lua_State *corral_newstate(void *host, corral_dispatch_fn dispatch) {
    corral_vm *vm = (corral_vm *)calloc(1, sizeof(corral_vm));
    if (!vm) return NULL;
    vm->host = host;
    vm->dispatch = dispatch;
    atomic_init(&vm->time_hit, 0);
    lua_State *L = lua_newstate(sb_alloc, vm);
    if (!L) { free(vm); return NULL; }
    lua_atpanic(L, sb_panic);
    return L;
}

void corral_set_host(lua_State *L, void *host) { sb_vm(L)->host = host; }

void corral_close(lua_State *L) {
    corral_vm *vm = sb_vm(L);
    sb_watchdog_disarm(vm);
    vm->enforce = 0;
    lua_close(L);
    free(vm);
}

size_t corral_memory_used(lua_State *L) { return sb_vm(L)->used; }

void corral_begin_run(lua_State *L, lua_State *T, long long budget, size_t memory_cap) {
    corral_vm *vm = sb_vm(L);
    sb_watchdog_disarm(vm);
    vm->budget = budget;
    vm->budget_hit = 0;
    vm->memory_hit = 0;
    atomic_store(&vm->time_hit, 0);
    vm->first_limit = CORRAL_LIMIT_NONE;
    vm->where[0] = 0;
    vm->fast_hook = 0;
    vm->limit = memory_cap ? vm->used + memory_cap : 0;
    vm->running = T;
    vm->enforce = 1;
    lua_sethook(T, sb_hook, LUA_MASKCOUNT, CORRAL_HOOK_STEP);
}

int corral_begin_run_wall(lua_State *L, lua_State *T, long long budget, size_t memory_cap, long long wall_ms) {
    corral_begin_run(L, T, budget, memory_cap);
    return wall_ms > 0 ? corral_watchdog_arm(L, wall_ms) : 0;
}

/* A dead coroutine keeps its stack, including to-be-closed slots of the frame that failed; lua_settop on it
   would call their __close outside the run (no limits, and with hooks off if the error came from the hook).
   Overwriting the frame's slots with a value whose __close is a no-op C function makes that harmless. The
   error object (on top) stays for the caller to read. */
static int sb_noop(lua_State *L) { (void)L; return 0; }

static void defuse(lua_State *T) {
    int n = lua_gettop(T);
    if (n <= 1 || !lua_checkstack(T, 1)) return;
    lua_getfield(T, LUA_REGISTRYINDEX, "corral.defused");
    if (lua_type(T, -1) != LUA_TTABLE) { lua_pop(T, 1); return; }
    for (int i = 1; i < n; i++) lua_copy(T, -1, i);
    lua_pop(T, 1);
}

/* Created while the sandbox opens (not during a run: it allocates). */
void sb_make_defused(lua_State *L) {
    lua_newtable(L);
    lua_newtable(L);
    lua_pushcfunction(L, sb_noop);
    lua_setfield(L, -2, "__close");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, "corral.defused");
}

void corral_end_run(lua_State *L) {
    corral_vm *vm = sb_vm(L);
    sb_watchdog_disarm(vm);     /* after this the watchdog never touches the state again */
    vm->enforce = 0;
    lua_State *T = vm->running;
    if (T) {
        int status = lua_status(T);
        if (T != L && status != LUA_OK && status != LUA_YIELD) {
            if (!vm->where[0] && vm->first_limit) {    /* the failed frame is still there: name its line */
                lua_Debug ar;
                for (int level = 0; lua_getstack(T, level, &ar); level++) {
                    lua_getinfo(T, "Sl", &ar);
                    if (ar.currentline > 0) {
                        snprintf(vm->where, sizeof vm->where, "%s:%d", ar.short_src, ar.currentline);
                        break;
                    }
                }
            }
            defuse(T);
        }
        lua_sethook(T, NULL, 0, 0);
    }
    vm->running = NULL;
    vm->fast_hook = 0;
}

long long corral_budget_left(lua_State *L) { return sb_vm(L)->budget; }
int corral_memory_hit(lua_State *L) { return sb_vm(L)->memory_hit; }
int corral_budget_hit(lua_State *L) { return sb_vm(L)->budget_hit; }
int corral_time_hit(lua_State *L) { return atomic_load(&sb_vm(L)->time_hit); }
int corral_limit_hit(lua_State *L) { return sb_vm(L)->first_limit; }
const char *corral_limit_where(lua_State *L) { return sb_vm(L)->where; }

void corral_push_bridge(lua_State *L, int function_id) {
    lua_pushinteger(L, function_id);
    lua_pushcclosure(L, sb_trampoline, 1);
}

void corral_push_bridge_closure(lua_State *L, int function_id, long long extra) {
    lua_pushinteger(L, function_id);
    lua_pushinteger(L, (lua_Integer)extra);
    lua_pushcclosure(L, sb_trampoline, 2);
}
