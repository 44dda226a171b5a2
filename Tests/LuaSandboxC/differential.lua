-- Compares the sandbox's own string matcher (find, match, gmatch, gsub) and its rewritten or wrapped table,
-- string and utf8 functions with Lua's, over generated arguments: same results, same errors, same side effects.
-- Run by SandboxTests.c in a plain (unsandboxed) state: `mine` maps "string.find" etc. to the sandbox's
-- functions. Returns the number of comparisons; raises on the first difference.
local mine, seed, rounds = ...
math.randomseed(seed)
local R = math.random
local compared = 0

local function pack(...) return { n = select('#', ...), ... } end

-- Both functions are called from the same line as 'f', so error messages name the same function and position.
local function call(f, ...)
  local args = pack(...)
  return pack(pcall(function()
    local r = pack(f(table.unpack(args, 1, args.n)))
    return r
  end))
end

local function show(v, depth)
  depth = depth or 0
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" or depth > 3 then return tostring(v) end
  local keys = {}
  for k in next, v do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then return a < b end
    return type(a) < type(b)
  end)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = "[" .. show(k) .. "]=" .. show(v[k], depth + 1) end
  return "{" .. table.concat(out, ",") .. "}"
end

local function args_text(args)
  local out = {}
  for i = 1, args.n do out[i] = show(args[i]) end
  return "(" .. table.concat(out, ", ") .. ")"
end

local function expect_same(what, args, a, b)
  local sa, sb = show(a), show(b)
  if sa ~= sb then
    error(string.format("%s%s\n  Lua:     %s\n  sandbox: %s", what, args_text(args), sa, sb), 0)
  end
  compared = compared + 1
end

local function compare(name, ...)
  local args = pack(...)
  local theirs = assert(load("return " .. name))()
  expect_same(name, args, call(theirs, ...), call(mine[name], ...))
end

-- ---- patterns -----------------------------------------------------------------------------------------------

local subject_chars = { "a", "a", "b", "b", "c", "x", " ", "(", ")", "[", "]", "%", "-", ".", "1", "2", "_", "\0",
  "\n", "\255", "A", "B" }
local atoms = { "a", "b", "c", "x", "A", ".", "%a", "%A", "%d", "%D", "%s", "%S", "%w", "%W", "%p", "%P", "%l",
  "%u", "%x", "%c", "%g", "%.", "%%", "%(", "%)", "%-", "%[", "[abc]", "[^ab]", "[a-c]", "[%a_]", "[]]", "[^]]",
  "[a-]", "[-a]", "[%d%s]", "[%]]", "[x-z1-2]", "[%w.]", "[^%s]", "%bab", "%b()", "%bxx", "%f[%w]", "%f[%W]",
  "%f[^a]", "%f[a]", "%f[%z]", "(", ")", "()", "%1", "%2", "%3", "%0", "$", "^", " ", "\0", "1", "_", "-",
  -- malformed or unusual on purpose
  "%", "[", "[^", "%b", "%ba", "%f", "%fa", "[a", "[%", "%z", "*", "+", "?", "%9" }
local quantifiers = { "", "", "", "", "*", "+", "-", "?" }

local function subject()
  local t = {}
  for i = 1, R(0, 14) do t[i] = subject_chars[R(#subject_chars)] end
  return table.concat(t)
end

local function pattern(depth)
  depth = depth or 0
  local t = {}
  if R(6) == 1 then t[#t + 1] = "^" end
  for _ = 1, R(0, 5) do
    local r = R(10)
    if r == 1 and depth < 2 then
      t[#t + 1] = "(" .. pattern(depth + 1) .. ")"       -- a well-formed capture
    elseif r == 2 then
      t[#t + 1] = "()"
    else
      t[#t + 1] = atoms[R(#atoms)] .. quantifiers[R(#quantifiers)]
    end
  end
  if R(6) == 1 then t[#t + 1] = "$" end
  return table.concat(t)
end

local inits = { nil, 1, 2, 0, -1, -3, 5, 20, -100, 3.0 }

local replacement_tables = {
  { a = "A", b = false, ab = 7, ["1"] = "one", [1] = "first", [3] = "third", x = {}, c = true },
  {},
}
local replacement_functions = {
  function(...) return select('#', ...) .. ":" .. table.concat({ ... }, ",") end,
  function() return nil end,
  function() return false end,
  function(a) return a end,
  function() return {} end,
  function() return 3.5 end,
}
local replacement_strings = { "<%0>", "%1", "%2-%1", "%%", "x", "%", "%x", "", "[%1%1]", "%9", "a%%b%0" }
local counts = { nil, 0, 1, 2, -1, 1.0, 2.5, 100 }

local function replacement()
  local r = R(10)
  if r <= 5 then return replacement_strings[R(#replacement_strings)] end
  if r <= 7 then return replacement_functions[R(#replacement_functions)] end
  if r <= 9 then return replacement_tables[R(#replacement_tables)] end
  return 42
end

local function gmatch_all(g, s, p, init)
  local out = {}
  local it = g(s, p, init)
  for _ = 1, 40 do
    local r = pack(it())
    if r.n == 0 or r[1] == nil then break end
    out[#out + 1] = r
  end
  return out
end

for _ = 1, rounds do
  local s, p = subject(), pattern()
  local init = inits[R(#inits)]
  compare("string.find", s, p)
  compare("string.find", s, p, init)
  compare("string.find", s, p, init, R(2) == 1)
  compare("string.match", s, p)
  compare("string.match", s, p, init)
  expect_same("gmatch", pack(s, p, init),
    call(gmatch_all, string.gmatch, s, p, init), call(gmatch_all, mine["string.gmatch"], s, p, init))
  compare("string.gsub", s, p, replacement())
  compare("string.gsub", s, p, replacement(), counts[R(#counts)])
  -- plain-text search with substrings of the subject
  local i = R(1, #s + 1)
  compare("string.find", s, s:sub(i, i + R(0, 3)), R(-3, 5), true)
end

-- argument errors and odd argument types
for _, args in ipairs({ {}, { "abc" }, { nil, "a" }, { "abc", nil }, { 123, "2" }, { "abc", 12 }, { "abc", "b", "x" },
                        { "abc", "b", 1.5 }, { {}, "a" }, { "abc", "(" }, { "abc", "%" } }) do
  for _, f in ipairs({ "string.find", "string.match", "string.gsub" }) do
    compare(f, table.unpack(args, 1, 3))
  end
end
compare("string.gsub", "abc", "b")
compare("string.gsub", "abc", "b", true)
compare("string.gsub", "abc", "b", "x", 2.5)
compare("string.gsub", "abc", "b", "x", "2")
compare("string.find", ("a"):rep(300), ("a?"):rep(300))                   -- pattern too complex
compare("string.match", "abc", ("(a)"):rep(33))
compare("string.match", ("a"):rep(40), ("(a)"):rep(33))                  -- too many captures
compare("string.match", "abc", "(a")                                      -- unfinished capture
compare("string.find", "a)", ".)")                                        -- invalid pattern capture
compare("string.gsub", "hello world", "%w+", "%0 %0", 1)
compare("string.gsub", "hello", "", "-")
compare("string.gsub", "abc", "%w", "%1")
compare("string.gsub", "abc", "(%w)", "%2")
compare("string.gsub", "THE (quick) fox", "%f[%a]%a+", string.lower)
compare("string.gsub", "x = $x", "%$(%w+)", { x = "1" })

-- ---- table.insert / remove / move (rewritten) and the wrapped table functions --------------------------------

local function make_table()
  local t = {}
  for i = 1, R(0, 6) do t[i] = R(3) == 1 and ("v" .. i) or i end
  if R(5) == 1 then t[R(1, 8)] = "hole" end
  return t
end

-- A proxy: reads, writes and length through metamethods (the form check_table accepts).
local function proxy(backing, with_len)
  local mt = { __index = backing, __newindex = backing }
  if with_len ~= false then mt.__len = function() return #backing end end
  return setmetatable({}, mt), backing
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- Runs one operation on a fresh copy of the same table with each implementation, compares results and tables.
-- `extra` are the arguments after the table; "SELF" stands for the table itself.
local function compare_op(name, ...)
  local extra = pack(...)
  local base = make_table()
  local kind = R(8)
  local function fresh()
    local t = copy(base)
    if kind == 1 then return proxy(t) end
    if kind == 2 then return proxy(t, false) end
    if kind == 3 then return "not a table", t end
    return t, t
  end
  local function args_for(t)
    local args = pack(t, table.unpack(extra, 1, extra.n))
    for i = 2, args.n do if args[i] == "SELF" then args[i] = t end end
    return args
  end
  local a, ab = fresh()
  local b, bb = fresh()
  local theirs = assert(load("return " .. name))()
  local args_a, args_b = args_for(a), args_for(b)
  local ra = call(theirs, table.unpack(args_a, 1, args_a.n))
  local rb = call(mine[name], table.unpack(args_b, 1, args_b.n))
  -- results naming the table itself compare by content
  for _, r in ipairs({ ra, rb }) do
    if type(r[2]) == "table" then
      for i = 1, r[2].n do if r[2][i] == a or r[2][i] == b then r[2][i] = "<the table>" end end
    end
  end
  expect_same(name, args_a, { ra, ab }, { rb, bb })
end

local positions = { -1, 0, 1, 2, 3, 5, 7, 8, nil, 1.0, 2.5, "2", math.maxinteger, math.mininteger }
local function pos() return positions[R(#positions)] end
local small = { -1, 0, 1, 2, 3, 5, nil, 1.0, 2.5, "2", {} }
local function any_small() return small[R(#small)] end
local function greater(x, y) return tostring(x) > tostring(y) end

for _ = 1, rounds // 4 do
  compare_op("table.insert", "new")
  compare_op("table.insert", pos(), "new")
  compare_op("table.insert")
  compare_op("table.insert", 1, 2, 3)
  compare_op("table.remove")
  compare_op("table.remove", pos())
  -- (no huge ranges here: in a plain state both implementations would copy for ever)
  compare_op("table.move", R(-2, 9), R(-2, 9), R(-2, 9))
  compare_op("table.move", any_small(), any_small(), any_small())
  compare_op("table.move", R(-1, 4), R(-1, 6), R(-1, 8))
  compare_op("table.move", R(1, 3), R(1, 6), R(1, 8), {})
  compare_op("table.move", R(1, 3), R(1, 6), R(1, 8), "SELF")
  compare_op("table.concat", R(2) == 1 and "," or nil, pos(), pos())
  compare_op("table.unpack", pos(), pos())
  compare_op("table.sort")
  compare_op("table.sort", greater)
  compare_op("table.sort", 3)
end
compare("table.move", {}, 1, math.maxinteger, 2)
compare("table.move", {}, -1, math.maxinteger, 2)
compare("table.move", { 1, 2 }, 1, 2, math.maxinteger)
compare("table.unpack", {}, 1, 1e8)
compare("table.sort", { 3, 1, "x" })
compare("table.sort", { 0 / 0, 1, 0 / 0, 2, 0 / 0, 3 })
compare("table.concat", { 1, {}, 3 })

-- ---- wrapped string and utf8 functions -------------------------------------------------------------------------

local texts = { "", "abc", "h\u{e9}llo", "\u{10FFFF}x", "\xff\xfe", "a\0b", ("xy"):rep(20), "\x80abc" }
local ints = { nil, 0, 1, 2, -1, -2, 3, 10, -10, 1.5, "1" }
local function any(list) return list[R(#list)] end
for _ = 1, rounds // 4 do
  local s = any(texts)
  compare("string.byte", s, any(ints), any(ints))
  compare("string.rep", s, any(ints), any({ nil, ",", "" }))
  compare("string.upper", s)
  compare("string.reverse", s)
  compare("string.char", R(0, 255), R(0, 255))
  compare("string.format", "%s|%5.2f|%q|%d", s, R(), s, R(-5, 5))
  compare("utf8.len", s, any(ints), any(ints))
  compare("utf8.offset", s, any(ints), any(ints))
  compare("utf8.codepoint", s, any(ints), any(ints))
  compare("utf8.char", R(0, 0x10FFFF), R(0, 127))
  compare("select", any(ints), "a", "b", "c")
  compare("tonumber", any({ "10", "0x1F", " 5 ", "z", "1e3", "7" }), any({ nil, 16, 36, 2 }))
  compare("rawequal", s, any(texts))
  compare("string.pack", "i4s1", R(-100, 100), s)
end
compare("string.rep", "x", 1e10, "y")
compare("string.rep", "x", -1)
compare("string.format", "%d", 1.5)

return compared
