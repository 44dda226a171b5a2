// The wall-clock watchdog: one thread for all states. When a run's deadline passes it flags the state and sets
// the per-instruction hook on the run's thread (lua_sethook is the documented way to interrupt a running state
// from elsewhere, as lua.c does from its SIGINT handler); the hook, or the next charged C step, raises
// "wall-clock limit exceeded". The instruction count alone cannot bound time: single VM instructions can be
// slow (comparing or concatenating long strings), and C library work between hooks is only charged, not timed.
//
// Armed states form a list guarded by one mutex; the thread touches a state only while holding it, and
// disarming takes it, so once corral_end_run (or corral_close) returns the watchdog never touches that state.
#include "SandboxInternal.h"
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

static pthread_mutex_t wd_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cv;
static pthread_once_t wd_once = PTHREAD_ONCE_INIT;
static int wd_running;
static corral_vm *wd_head;
/* When the thread will next look at the list (LLONG_MAX: only when signalled). Arming signals the thread only for a
   deadline earlier than that: a signal per run costs two context switches, about as much as a short script. */
static long long wd_wake = LLONG_MAX;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void unlink_entry(corral_vm *vm) {
    if (vm->wd_prev) vm->wd_prev->wd_next = vm->wd_next; else wd_head = vm->wd_next;
    if (vm->wd_next) vm->wd_next->wd_prev = vm->wd_prev;
    vm->wd_next = vm->wd_prev = NULL;
    vm->wd_armed = 0;
}

/* Waits until `deadline` (monotonic ns). The condition variable runs on the monotonic clock where the platform
   allows it (Linux); elsewhere the remaining time is converted to the realtime clock at each wait. */
static void wait_until(long long deadline) {
    struct timespec ts;
#ifdef __APPLE__
    long long rest = deadline - now_ns();
    clock_gettime(CLOCK_REALTIME, &ts);
    long long t = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec + (rest > 0 ? rest : 0);
#else
    long long t = deadline;
#endif
    ts.tv_sec = (time_t)(t / 1000000000LL);
    ts.tv_nsec = (long)(t % 1000000000LL);
    pthread_cond_timedwait(&wd_cv, &wd_mu, &ts);
}

static void *wd_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&wd_mu);
    for (;;) {
        long long now = now_ns(), next = LLONG_MAX;
        for (corral_vm *vm = wd_head, *n; vm; vm = n) {
            n = vm->wd_next;
            if (vm->wd_deadline_ns <= now) {
                atomic_store(&vm->time_hit, 1);
                lua_sethook(vm->wd_thread, sb_hook, LUA_MASKCOUNT, 1);
                unlink_entry(vm);
            } else if (vm->wd_deadline_ns < next) {
                next = vm->wd_deadline_ns;
            }
        }
        wd_wake = next;
        if (next == LLONG_MAX) pthread_cond_wait(&wd_cv, &wd_mu);
        else wait_until(next);
    }
    return NULL;
}

static void wd_start(void) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
#ifndef __APPLE__
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
#endif
    pthread_cond_init(&wd_cv, &ca);
    pthread_condattr_destroy(&ca);
    /* The thread takes no signals: they stay with the host's threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t ta;
    pthread_attr_init(&ta);
    pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    wd_running = pthread_create(&t, &ta, wd_main, NULL) == 0;
    pthread_attr_destroy(&ta);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int corral_watchdog_arm(lua_State *L, long long wall_ms) {
    corral_vm *vm = sb_vm(L);
    pthread_once(&wd_once, wd_start);
    if (!wd_running) return -1;
    long long deadline = now_ns() + (wall_ms > 0 ? wall_ms : 0) * 1000000LL;
    pthread_mutex_lock(&wd_mu);
    if (vm->wd_armed) unlink_entry(vm);
    vm->wd_thread = vm->running ? vm->running : L;
    vm->wd_deadline_ns = deadline;
    vm->wd_prev = NULL;
    vm->wd_next = wd_head;
    if (wd_head) wd_head->wd_prev = vm;
    wd_head = vm;
    vm->wd_armed = 1;
    if (deadline < wd_wake) {
        wd_wake = deadline;
        pthread_cond_signal(&wd_cv);
    }
    pthread_mutex_unlock(&wd_mu);
    return 0;
}

void sb_watchdog_disarm(corral_vm *vm) {
    pthread_mutex_lock(&wd_mu);
    if (vm->wd_armed) unlink_entry(vm);
    pthread_mutex_unlock(&wd_mu);
}

void corral_watchdog_disarm(lua_State *L) { sb_watchdog_disarm(sb_vm(L)); }
