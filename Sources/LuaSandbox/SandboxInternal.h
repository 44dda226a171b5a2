#ifndef CORRAL_SANDBOX_INTERNAL_H
#define CORRAL_SANDBOX_INTERNAL_H
// Shared between the sandbox's C files (and the C tests); not part of the Swift-facing API.
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdatomic.h>
#include "LuaSandbox.h"

#define CORRAL_HOOK_STEP 1000
/* Charged C work: one budget unit per this many bytes copied or scanned (a VM instruction costs a few ns). */
#define CORRAL_BYTES_PER_UNIT 16
/* Allocations: one unit per this many bytes, so loops of big concatenations cannot run for free. */
#define CORRAL_ALLOC_BYTES_PER_UNIT 64

typedef struct corral_vm {
    size_t used;            /* bytes allocated by this state */
    size_t limit;           /* cap while `enforce` is set; 0 = none */
    int enforce;            /* limits apply only while a script runs, never inside Swift callbacks */
    int memory_hit;
    int budget_hit;
    int fast_hook;          /* the count-1 hook is armed on `running` */
    atomic_int time_hit;    /* set by the watchdog thread */
    int first_limit;        /* CORRAL_LIMIT_* that stopped the run first */
    long long budget;       /* instructions left in this run */
    lua_State *running;     /* the thread of the current run: the one whose hook limits act on */
    void *host;             /* the Swift LuaVM (unretained) */
    corral_dispatch_fn dispatch;
    char where[96];         /* "chunk:line" where first_limit stopped the run */
    /* watchdog entry, guarded by the watchdog's mutex */
    struct corral_vm *wd_next, *wd_prev;
    lua_State *wd_thread;
    long long wd_deadline_ns;
    int wd_armed;
} corral_vm;

/* The sandbox of L, or NULL when L is a plain state (the C tests register the matcher in one). */
corral_vm *sb_vm(lua_State *L);
/* Charges `units` of C work against the running script's budget before the work is done; raises the
   instruction (or wall-clock) limit error when exhausted. A no-op outside runs and in plain states. */
void sb_charge(lua_State *L, long long units);
/* Raises the memory limit error if `bytes` more would exceed the cap (checked before big C allocations). */
void sb_need_memory(lua_State *L, size_t bytes);
void sb_hook(lua_State *L, lua_Debug *ar);
/* Marks `which` as hit (first one wins for corral_limit_hit) and arms the per-instruction hook on T. */
void sb_note_limit(corral_vm *vm, lua_State *T, int which);
void sb_watchdog_disarm(corral_vm *vm);
/* The registry value corral_end_run writes over a failed coroutine's frame (its __close does nothing). */
void sb_make_defused(lua_State *L);
int sb_trampoline(lua_State *L);

/* Replace find/match/gmatch/gsub in the table at the top of the stack with the step-counted matcher. */
void sb_install_patterns(lua_State *L);
/* Wrap or replace the C functions of the (real) base/string/table/utf8 libraries so their work is charged. */
void sb_install_charges(lua_State *L);
/* For the differential tests: push a table with the sandbox's own string and table functions. */
void sb_push_test_functions(lua_State *L);

#endif
