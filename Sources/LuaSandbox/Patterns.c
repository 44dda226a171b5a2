// string.find/match/gmatch/gsub with Lua 5.4's pattern semantics (manual §6.4.1) and the same error messages,
// but every matching step is charged to the script's budget: backtracking patterns are exponential, and Lua's
// own matcher runs them to the end inside one C call, out of reach of the instruction count.
// Tests/LuaSandboxC/differential.lua compares this matcher with Lua's own over generated subjects and patterns.
#include "SandboxInternal.h"
#include <ctype.h>
#include <string.h>

#define ESC '%'
#define MAX_DEPTH 200                 /* recursion of the matcher (Lua's MAXCCALLS) */
#define CAP_OPEN (-1)                 /* capture whose ')' has not been matched yet */
#define CAP_POSITION (-2)             /* "()" */
#define CHARGE_EVERY 1024             /* steps between two charges */
#define SPECIALS "^$*+?.([%-"
#ifndef LUA_MAXCAPTURES
#define LUA_MAXCAPTURES 32            /* as Lua's string library */
#endif

typedef struct {
    const char *src, *src_end;        /* subject */
    const char *pat_end;
    lua_State *L;
    int depth;                        /* recursion left */
    int level;                        /* captures started */
    long steps;                       /* not yet charged */
    struct { const char *init; ptrdiff_t len; } cap[LUA_MAXCAPTURES];
} Matcher;

static void flush(Matcher *m) {
    long n = m->steps;
    m->steps = 0;
    if (n) sb_charge(m->L, n);
}

static inline void step(Matcher *m, long n) {
    m->steps += n;
    if (m->steps >= CHARGE_EVERY) flush(m);
}

static void reset(Matcher *m) {
    m->level = 0;
    m->depth = MAX_DEPTH;
}

static void init_matcher(Matcher *m, lua_State *L, const char *s, size_t ls, const char *p, size_t lp) {
    m->L = L;
    m->src = s;
    m->src_end = s + ls;
    m->pat_end = p + lp;
    m->steps = 0;
    reset(m);
}

/* The byte at p, or 0 at the end of the pattern (Lua strings end with a 0 byte; this does not rely on it). */
static inline int pat_at(const Matcher *m, const char *p) { return p < m->pat_end ? (unsigned char)*p : 0; }

static int class_matches(int c, int cl) {
    int r;
    switch (tolower(cl)) {
        case 'a': r = isalpha(c); break;
        case 'c': r = iscntrl(c); break;
        case 'd': r = isdigit(c); break;
        case 'g': r = isgraph(c); break;
        case 'l': r = islower(c); break;
        case 'p': r = ispunct(c); break;
        case 's': r = isspace(c); break;
        case 'u': r = isupper(c); break;
        case 'w': r = isalnum(c); break;
        case 'x': r = isxdigit(c); break;
        case 'z': r = c == 0; break;     /* deprecated in the manual, still accepted by Lua 5.4 */
        default: return cl == c;      /* %. for any non-alphanumeric: the character itself */
    }
    r = r != 0;
    return isupper(cl) ? !r : r;      /* %A is the complement of %a */
}

/* The end of the single-character class starting at p: "x", "%x" or "[set]". */
static const char *item_end(Matcher *m, const char *p) {
    int c = (unsigned char)*p++;
    if (c == ESC) {
        if (p >= m->pat_end) luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c == '[') {
        if (pat_at(m, p) == '^') p++;
        /* The first character of a set is literal even when it is ']' ("[]]"). */
        do {
            if (p >= m->pat_end) luaL_error(m->L, "malformed pattern (missing ']')");
            c = (unsigned char)*p++;
            if (c == ESC && p < m->pat_end) p++;
        } while (pat_at(m, p) != ']');
        return p + 1;
    }
    return p;
}

/* Whether c is in the set [..] that spans p (at '[') to close (at its ']'). */
static int in_set(int c, const char *p, const char *close) {
    int want = 1;
    if (p[1] == '^') { want = 0; p++; }
    for (p++; p < close; p++) {
        if (*p == ESC) {
            p++;
            if (class_matches(c, (unsigned char)*p)) return want;
        } else if (p[1] == '-' && p + 2 < close) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2]) return want;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return want;
        }
    }
    return !want;
}

/* Whether the subject character at s matches the class p..ep. */
static int one_matches(Matcher *m, const char *s, const char *p, const char *ep) {
    if (s >= m->src_end) return 0;
    int c = (unsigned char)*s;
    switch (*p) {
        case '.': return 1;
        case ESC: return class_matches(c, (unsigned char)p[1]);
        case '[': return in_set(c, p, ep - 1);
        default: return (unsigned char)*p == c;
    }
}

static const char *do_match(Matcher *m, const char *s, const char *p);

/* %bxy: a balanced run from x to the matching y. */
static const char *balanced(Matcher *m, const char *s, const char *p) {
    if (p + 1 >= m->pat_end) luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->src_end || *s != p[0]) return NULL;
    int open = p[0], close = p[1], depth = 1;
    const char *start = s;
    while (++s < m->src_end) {
        if (*s == close) {
            if (--depth == 0) { step(m, 1 + (s - start) / CORRAL_BYTES_PER_UNIT); return s + 1; }
        } else if (*s == open) {
            depth++;
        }
    }
    step(m, 1 + (s - start) / CORRAL_BYTES_PER_UNIT);
    return NULL;
}

/* Greedy repetition: take as many as possible, then give back one at a time until the rest matches. */
static const char *greedy(Matcher *m, const char *s, const char *p, const char *ep) {
    ptrdiff_t n = 0;
    while (one_matches(m, s + n, p, ep)) { n++; step(m, 1); }
    for (; n >= 0; n--) {
        const char *r = do_match(m, s + n, ep + 1);
        if (r) return r;
    }
    return NULL;
}

/* Lazy repetition: try the rest first, then take one more. */
static const char *lazy(Matcher *m, const char *s, const char *p, const char *ep) {
    for (;;) {
        const char *r = do_match(m, s, ep + 1);
        if (r) return r;
        if (!one_matches(m, s, p, ep)) return NULL;
        s++;
    }
}

static const char *open_capture(Matcher *m, const char *s, const char *p, ptrdiff_t what) {
    if (m->level >= LUA_MAXCAPTURES) luaL_error(m->L, "too many captures");
    m->cap[m->level].init = s;
    m->cap[m->level].len = what;
    m->level++;
    const char *r = do_match(m, s, p);
    if (!r) m->level--;
    return r;
}

static const char *close_capture(Matcher *m, const char *s, const char *p) {
    int l = m->level - 1;
    while (l >= 0 && m->cap[l].len != CAP_OPEN) l--;
    if (l < 0) luaL_error(m->L, "invalid pattern capture");
    m->cap[l].len = s - m->cap[l].init;
    const char *r = do_match(m, s, p);
    if (!r) m->cap[l].len = CAP_OPEN;
    return r;
}

/* The capture a back-reference %1..%9 names (c is the digit). */
static int capture_index(Matcher *m, int c) {
    int l = c - '1';
    if (l < 0 || l >= m->level || m->cap[l].len == CAP_OPEN)
        luaL_error(m->L, "invalid capture index %%%d", l + 1);
    return l;
}

static const char *backref(Matcher *m, const char *s, int c) {
    int l = capture_index(m, c);
    ptrdiff_t len = m->cap[l].len;    /* a position capture has no text: it never matches */
    if (len < 0 || m->src_end - s < len) return NULL;
    step(m, 1 + len / CORRAL_BYTES_PER_UNIT);
    return memcmp(m->cap[l].init, s, (size_t)len) == 0 ? s + len : NULL;
}

/* Matches the pattern p (to its end) at s: the end of the match, or NULL. */
static const char *do_match(Matcher *m, const char *s, const char *p) {
    if (m->depth-- == 0) luaL_error(m->L, "pattern too complex");
    for (;;) {
        step(m, 1);
        if (p >= m->pat_end) break;
        int pc = (unsigned char)*p;
        if (pc == '(') {
            s = p + 1 < m->pat_end && p[1] == ')' ? open_capture(m, s, p + 2, CAP_POSITION)
                                                  : open_capture(m, s, p + 1, CAP_OPEN);
            break;
        }
        if (pc == ')') { s = close_capture(m, s, p + 1); break; }
        if (pc == '$' && p + 1 == m->pat_end) { if (s != m->src_end) s = NULL; break; }
        if (pc == ESC) {
            int nc = pat_at(m, p + 1);
            if (nc == 'b') {
                s = balanced(m, s, p + 2);
                if (!s) break;
                p += 4;
                continue;
            }
            if (nc == 'f') {                          /* frontier: previous char not in set, current one in */
                p += 2;
                if (pat_at(m, p) != '[') luaL_error(m->L, "missing '[' after '%%f' in pattern");
                const char *ep = item_end(m, p);
                int prev = s == m->src ? 0 : (unsigned char)s[-1];
                int cur = s < m->src_end ? (unsigned char)*s : 0;
                if (!in_set(prev, p, ep - 1) && in_set(cur, p, ep - 1)) { p = ep; continue; }
                s = NULL;
                break;
            }
            if (nc >= '0' && nc <= '9') {
                s = backref(m, s, nc);
                if (!s) break;
                p += 2;
                continue;
            }
        }
        /* A single-character class, possibly followed by a repetition. */
        const char *ep = item_end(m, p);
        int rep = pat_at(m, ep);
        if (!one_matches(m, s, p, ep)) {
            if (rep == '*' || rep == '?' || rep == '-') { p = ep + 1; continue; }   /* zero repetitions */
            s = NULL;
            break;
        }
        if (rep == '?') {
            const char *r = do_match(m, s + 1, ep + 1);
            if (r) { s = r; break; }
            p = ep + 1;
            continue;
        }
        if (rep == '+') { s = greedy(m, s + 1, p, ep); break; }
        if (rep == '*') { s = greedy(m, s, p, ep); break; }
        if (rep == '-') { s = lazy(m, s, p, ep); break; }
        s++;
        p = ep;
    }
    m->depth++;
    return s;
}

/* ---- captures -------------------------------------------------------------------------------------------------- */

/* Pushes capture i (the whole match s..e when there are no captures and i is 0). */
static void push_capture(Matcher *m, int i, const char *s, const char *e) {
    if (i >= m->level) {
        if (i != 0) luaL_error(m->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(m->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t len = m->cap[i].len;
    if (len == CAP_OPEN) luaL_error(m->L, "unfinished capture");
    if (len == CAP_POSITION) lua_pushinteger(m->L, (m->cap[i].init - m->src) + 1);
    else lua_pushlstring(m->L, m->cap[i].init, (size_t)len);
}

/* Pushes all captures (or the whole match if s is given and there are none); returns how many. */
static int push_captures(Matcher *m, const char *s, const char *e) {
    int n = (m->level == 0 && s) ? 1 : m->level;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++) push_capture(m, i, s, e);
    return n;
}

/* ---- the library functions ----------------------------------------------------------------------------------- */

/* Lua's "initial position": 1-based, negative from the end, clamped to 1; returns a 0-based offset. */
static size_t start_offset(lua_Integer pos, size_t len) {
    if (pos > 0) return (size_t)pos - 1;
    if (pos == 0 || pos < -(lua_Integer)len) return 0;
    return len + (size_t)pos;
}

static int has_specials(const char *p, size_t lp) {
    for (size_t i = 0; i < lp; i++)
        if (p[i] && strchr(SPECIALS, p[i])) return 1;
    return 0;
}

/* Plain substring search, charged per candidate position. */
static const char *find_plain(Matcher *m, const char *s, size_t ls, const char *p, size_t lp) {
    if (lp == 0) return s;
    if (lp > ls) return NULL;
    const char *last = s + (ls - lp);   /* the last position where p fits */
    const char *at = s;
    while (at <= last) {
        const char *c = memchr(at, *p, (size_t)(last - at) + 1);
        step(m, 1 + (c ? c - at : last - at) / CORRAL_BYTES_PER_UNIT);
        if (!c) return NULL;
        step(m, 1 + lp / CORRAL_BYTES_PER_UNIT);
        if (memcmp(c + 1, p + 1, lp - 1) == 0) return c;
        at = c + 1;
    }
    return NULL;
}

static int find_or_match(lua_State *L, int find) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    if (init > ls) { lua_pushnil(L); return 1; }
    Matcher m;
    init_matcher(&m, L, s, ls, p, lp);
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        const char *at = find_plain(&m, s + init, ls - init, p, lp);
        flush(&m);
        if (at) {
            lua_pushinteger(L, (at - s) + 1);
            lua_pushinteger(L, (at - s) + (lua_Integer)lp);
            return 2;
        }
        lua_pushnil(L);
        return 1;
    }
    int anchored = lp > 0 && *p == '^';
    if (anchored) { p++; lp--; }
    m.pat_end = p + lp;
    const char *at = s + init;
    do {
        reset(&m);
        const char *e = do_match(&m, at, p);
        if (e) {
            flush(&m);
            if (!find) return push_captures(&m, at, e);
            lua_pushinteger(L, (at - s) + 1);
            lua_pushinteger(L, e - s);
            return push_captures(&m, NULL, NULL) + 2;
        }
    } while (at++ < m.src_end && !anchored);
    flush(&m);
    lua_pushnil(L);
    return 1;
}

static int sb_find(lua_State *L) { return find_or_match(L, 1); }
static int sb_match(lua_State *L) { return find_or_match(L, 0); }

/* gmatch's iterator state (a userdata upvalue; the subject and pattern strings are upvalues too, so the
   offsets stay valid). No '^' anchor here: as in Lua, it is an ordinary character in gmatch. */
typedef struct { size_t next; size_t last_end; int has_last; } GmatchState;

static int gmatch_step(lua_State *L) {
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    GmatchState *g = (GmatchState *)lua_touserdata(L, lua_upvalueindex(3));
    Matcher m;
    init_matcher(&m, L, s, ls, p, lp);    /* L: the caller's thread, which may differ from gmatch's */
    for (size_t at = g->next; at <= ls; at++) {
        reset(&m);
        const char *e = do_match(&m, s + at, p);
        /* An empty match right where the previous match ended does not count (so "x*" on "ab" gives 3 matches). */
        if (e && !(g->has_last && (size_t)(e - s) == g->last_end)) {
            g->next = g->last_end = (size_t)(e - s);
            g->has_last = 1;
            flush(&m);
            return push_captures(&m, s + at, e);
        }
    }
    g->next = ls + 1;
    flush(&m);
    return 0;
}

static int sb_gmatch(lua_State *L) {
    size_t ls;
    luaL_checklstring(L, 1, &ls);
    luaL_checkstring(L, 2);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    lua_settop(L, 2);
    GmatchState *g = (GmatchState *)lua_newuserdatauv(L, sizeof *g, 0);
    g->next = init > ls ? ls + 1 : init;
    g->last_end = 0;
    g->has_last = 0;
    lua_pushcclosure(L, gmatch_step, 3);
    return 1;
}

/* Appends the replacement string (argument 3) with %0-%9 and %% expanded. */
static void add_template(Matcher *m, luaL_Buffer *b, const char *s, const char *e) {
    lua_State *L = m->L;
    size_t l;
    const char *t = lua_tolstring(L, 3, &l);
    const char *end = t + l;
    step(m, 1 + (lua_Integer)l / CORRAL_BYTES_PER_UNIT);
    while (t < end) {
        const char *esc = memchr(t, ESC, (size_t)(end - t));
        if (!esc) break;
        luaL_addlstring(b, t, (size_t)(esc - t));
        int c = esc + 1 < end ? (unsigned char)esc[1] : 0;
        if (c == ESC) {
            luaL_addchar(b, ESC);
        } else if (c == '0') {
            step(m, 1 + (e - s) / CORRAL_BYTES_PER_UNIT);
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (c >= '1' && c <= '9') {
            push_capture(m, c - '1', s, e);
            size_t cl;
            lua_tolstring(L, -1, &cl);        /* a position becomes its decimal text */
            step(m, 1 + (lua_Integer)cl / CORRAL_BYTES_PER_UNIT);
            luaL_addvalue(b);
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", ESC);
        }
        t = esc + 2;
    }
    if (t < end) luaL_addlstring(b, t, (size_t)(end - t));
}

/* Appends the replacement for the match s..e. */
static void add_replacement(Matcher *m, luaL_Buffer *b, const char *s, const char *e, int kind) {
    lua_State *L = m->L;
    if (kind == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = push_captures(m, s, e);
        lua_call(L, n, 1);
    } else if (kind == LUA_TTABLE) {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        add_template(m, b, s, e);
        return;
    }
    if (!lua_toboolean(L, -1)) {          /* nil or false: keep the original text */
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
    } else if (!lua_isstring(L, -1)) {
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    } else {
        size_t l;
        lua_tolstring(L, -1, &l);
        step(m, 1 + (lua_Integer)l / CORRAL_BYTES_PER_UNIT);
        luaL_addvalue(b);
    }
}

static int sb_gsub(lua_State *L) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int kind = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION || kind == LUA_TTABLE,
                     3, "string/function/table");
    int anchored = lp > 0 && *p == '^';
    if (anchored) { p++; lp--; }
    Matcher m;
    init_matcher(&m, L, s, ls, p, lp);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *at = s, *last_end = NULL;
    lua_Integer n = 0;
    while (n < max) {
        reset(&m);
        const char *e = do_match(&m, at, p);
        if (e && e != last_end) {         /* no empty match where the previous one ended */
            n++;
            add_replacement(&m, &b, at, e, kind);
            at = last_end = e;
        } else if (at < m.src_end) {
            luaL_addchar(&b, *at++);
        } else {
            break;
        }
        if (anchored) break;
    }
    step(&m, 1 + (m.src_end - at) / CORRAL_BYTES_PER_UNIT);
    flush(&m);
    luaL_addlstring(&b, at, (size_t)(m.src_end - at));
    luaL_pushresult(&b);
    lua_pushinteger(L, n);
    return 2;
}

static const luaL_Reg pattern_functions[] = {
    {"find", sb_find}, {"match", sb_match}, {"gmatch", sb_gmatch}, {"gsub", sb_gsub}, {NULL, NULL}
};

void sb_install_patterns(lua_State *L) {
    luaL_setfuncs(L, pattern_functions, 0);
}
