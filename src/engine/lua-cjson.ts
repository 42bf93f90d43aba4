/**
 * `cjson` and `cjson.safe` for scripts that `require` them: lua-cjson 2.1's API (plus the OpenResty
 * options scripts use: encode_empty_table_as_object, empty_array, array_mt, ...) written in Lua,
 * since the wasm VM cannot load the C module.
 *
 * What it keeps from lua-cjson: a table is an array when every key is a positive integer (holes
 * become null; an excessively sparse one is an error unless encode_sparse_array converts it), else an
 * object; an empty table is `{}`; `/` is escaped as `\/`, control bytes as `\u00xx`, other bytes go
 * through as they are; floats print with 14 significant digits; JSON null decodes to `cjson.null`
 * (a NULL light userdata, as in lua-cjson); errors read as lua-cjson's ("Expected value but found
 * invalid token at character 1"). Lua 5.4 adds integers: integers encode as integers, and
 * whole-number JSON values decode as Lua integers so they print as on Kamailio's Lua 5.1 (`3`, not `3.0`).
 * Objects' key order is the VM's table order, as lua-cjson's is the C VM's.
 *
 * The chunk is called with two light userdata, NULL (cjson.null) and another (cjson.empty_array), and
 * returns the "cjson" and "cjson.safe" module tables (separate instances, each with its own settings).
 */
export const CJSON_LUA = String.raw`
local null, empty_array = ...
local type, next, pairs, select, error, pcall, tonumber, tostring = type, next, pairs, select, error, pcall, tonumber, tostring
local find, sub, byte, format, gsub, char = string.find, string.sub, string.byte, string.format, string.gsub, string.char
local concat, mtype, floor, huge = table.concat, math.type, math.floor, math.huge
local getmetatable, setmetatable, utf8char = getmetatable, setmetatable, utf8.char

-- Shared by every instance, as lua-cjson's registry keys are.
local array_mt = {}
local empty_array_mt = {}

local function new_instance()
  local cfg = {
    sparse_convert = false, sparse_ratio = 2, sparse_safe = 10,
    encode_max_depth = 1000, decode_max_depth = 1000,
    precision = 14, encode_invalid = false, decode_invalid = true,
    keep_buffer = true, empty_as_object = true, escape_slash = true, decode_array_mt = false,
  }
  local M = { null = null, _NAME = "cjson", _VERSION = "2.1.0" }
  M.array_mt = array_mt
  M.empty_array_mt = empty_array_mt
  M.empty_array = empty_array

  local escapes = {
    ["\b"] = "\\b", ["\t"] = "\\t", ["\n"] = "\\n", ["\f"] = "\\f", ["\r"] = "\\r",
    ['"'] = '\\"', ["\\"] = "\\\\", ["/"] = "\\/", ["\127"] = "\\u007f",
  }
  for i = 0, 31 do
    local c = char(i)
    if not escapes[c] then escapes[c] = format("\\u%04x", i) end
  end

  local function bool_option(name, v, allow_string)
    if v == nil then return nil end
    if type(v) == "boolean" then return v end
    if allow_string and (v == "null" or v == "on" or v == "off") then
      if v == "on" then return true elseif v == "off" then return false end
      return v
    end
    error("bad argument #1 to '" .. name .. "' (invalid option '" .. tostring(v) .. "')", 2)
  end
  local function int_option(name, v, min, max)
    if v == nil then return nil end
    local n = tonumber(v)
    if not n or n ~= floor(n) or n < min or n > max then
      error("bad argument #1 to '" .. name .. "' (expected integer between " .. min .. " and " .. max .. ")", 2)
    end
    return math.tointeger(n)
  end

  function M.encode_sparse_array(convert, ratio, safe)
    if convert ~= nil then cfg.sparse_convert = bool_option("encode_sparse_array", convert) end
    if ratio ~= nil then cfg.sparse_ratio = int_option("encode_sparse_array", ratio, 0, 2147483647) end
    if safe ~= nil then cfg.sparse_safe = int_option("encode_sparse_array", safe, 0, 2147483647) end
    return cfg.sparse_convert, cfg.sparse_ratio, cfg.sparse_safe
  end
  function M.encode_max_depth(d)
    if d ~= nil then cfg.encode_max_depth = int_option("encode_max_depth", d, 1, 2147483647) end
    return cfg.encode_max_depth
  end
  function M.decode_max_depth(d)
    if d ~= nil then cfg.decode_max_depth = int_option("decode_max_depth", d, 1, 2147483647) end
    return cfg.decode_max_depth
  end
  function M.encode_number_precision(p)
    if p ~= nil then cfg.precision = int_option("encode_number_precision", p, 1, 16) end
    return cfg.precision
  end
  function M.encode_keep_buffer(k)
    if k ~= nil then cfg.keep_buffer = bool_option("encode_keep_buffer", k) end
    return cfg.keep_buffer
  end
  function M.encode_invalid_numbers(v)
    if v ~= nil then cfg.encode_invalid = bool_option("encode_invalid_numbers", v, true) end
    return cfg.encode_invalid
  end
  function M.decode_invalid_numbers(v)
    if v ~= nil then cfg.decode_invalid = bool_option("decode_invalid_numbers", v, true) and true or false end
    return cfg.decode_invalid
  end
  function M.encode_empty_table_as_object(v)
    if v ~= nil then cfg.empty_as_object = bool_option("encode_empty_table_as_object", v, true) ~= false end
    return cfg.empty_as_object
  end
  function M.encode_escape_forward_slash(v)
    if v ~= nil then
      cfg.escape_slash = bool_option("encode_escape_forward_slash", v) and true or false
      escapes["/"] = cfg.escape_slash and "\\/" or nil
    end
    return cfg.escape_slash
  end
  function M.decode_array_with_array_mt(v)
    if v ~= nil then cfg.decode_array_mt = bool_option("decode_array_with_array_mt", v) and true or false end
    return cfg.decode_array_mt
  end

  -- ---- encoding ----------------------------------------------------------------------------------

  local function enc_number(n)
    if mtype(n) == "integer" then return format("%d", n) end
    if n ~= n or n == huge or n == -huge then
      if cfg.encode_invalid == false then error("Cannot serialise number: must not be NaN or Infinity", 0) end
      if cfg.encode_invalid == "null" then return "null" end
      if n ~= n then return "nan" end
      return n > 0 and "inf" or "-inf"
    end
    return format("%." .. cfg.precision .. "g", n)
  end

  local function enc_string(s)
    return '"' .. gsub(s, '[%c"\\/\127]', escapes) .. '"'
  end

  -- lua-cjson's lua_array_length: the largest key when every key is a positive integer, else -1.
  local function array_length(t)
    local max, items = 0, 0
    for k in next, t do
      if mtype(k) == "integer" and k >= 1 then
        if k > max then max = k end
        items = items + 1
      else
        return -1
      end
    end
    if cfg.sparse_ratio > 0 and max > items * cfg.sparse_ratio and max > cfg.sparse_safe then
      if not cfg.sparse_convert then error("Cannot serialise table: excessively sparse array", 0) end
      return -1
    end
    return max
  end

  local encode_value

  local function encode_table(t, depth, buf)
    depth = depth + 1
    if depth > cfg.encode_max_depth then error("Cannot serialise, excessive nesting (" .. depth .. ")", 0) end
    local mt = getmetatable(t)
    local len
    if mt == array_mt then
      len = #t
    else
      len = array_length(t)
      if len == 0 and (mt == empty_array_mt or not cfg.empty_as_object) then len = 0
      elseif len == 0 then len = -1 end
    end
    if len >= 0 then
      buf[#buf + 1] = "["
      for i = 1, len do
        if i > 1 then buf[#buf + 1] = "," end
        encode_value(t[i], depth, buf)
      end
      buf[#buf + 1] = "]"
      return
    end
    buf[#buf + 1] = "{"
    local first = true
    for k, v in next, t do
      if not first then buf[#buf + 1] = "," end
      first = false
      local kt = type(k)
      if kt == "string" then
        buf[#buf + 1] = enc_string(k)
      elseif kt == "number" then
        buf[#buf + 1] = '"' .. enc_number(k) .. '"'
      else
        error("Cannot serialise " .. kt .. ": table key must be a number or string", 0)
      end
      buf[#buf + 1] = ":"
      encode_value(v, depth, buf)
    end
    buf[#buf + 1] = "}"
  end

  encode_value = function(v, depth, buf)
    local t = type(v)
    if t == "string" then buf[#buf + 1] = enc_string(v)
    elseif t == "number" then buf[#buf + 1] = enc_number(v)
    elseif t == "boolean" then buf[#buf + 1] = v and "true" or "false"
    elseif t == "table" then encode_table(v, depth, buf)
    elseif t == "nil" then buf[#buf + 1] = "null"
    elseif v == null then buf[#buf + 1] = "null"
    elseif v == empty_array then buf[#buf + 1] = "[]"
    else error("Cannot serialise " .. t .. ": type not supported", 0) end
  end

  function M.encode(...)
    if select("#", ...) ~= 1 then error("bad argument #1 to 'encode' (expected 1 argument)", 2) end
    local buf = {}
    encode_value((...), 0, buf)
    return concat(buf)
  end

  -- ---- decoding ----------------------------------------------------------------------------------

  local function decode(str)
    local len = #str
    local pos = 1
    local depth = 0
    if len >= 2 and (byte(str, 1) == 0 or byte(str, 2) == 0) then
      error("JSON parser does not support UTF-16 or UTF-32", 0)
    end

    local function fail(expected, ttype, tval, tpos)
      local found = ttype == "T_ERROR" and tval or ttype
      error("Expected " .. expected .. " but found " .. found .. " at character " .. tpos, 0)
    end

    local function string_token(p)
      local parts = {}
      local i = p + 1
      while true do
        local s = find(str, '["\\]', i)
        if not s then return "T_ERROR", "unexpected end of string", p end
        if s > i then parts[#parts + 1] = sub(str, i, s - 1) end
        if byte(str, s) == 34 then
          pos = s + 1
          return "T_STRING", concat(parts), p
        end
        local e = sub(str, s + 1, s + 1)
        if e == "u" then
          local hex = sub(str, s + 2, s + 5)
          local cp = #hex == 4 and not find(hex, "%X") and tonumber(hex, 16)
          if not cp then return "T_ERROR", "invalid unicode escape code", p end
          i = s + 6
          if cp >= 0xD800 and cp <= 0xDBFF then
            local lo = sub(str, i, i + 1) == "\\u" and sub(str, i + 2, i + 5)
            local lcp = lo and #lo == 4 and not find(lo, "%X") and tonumber(lo, 16)
            if not lcp or lcp < 0xDC00 or lcp > 0xDFFF then return "T_ERROR", "invalid unicode escape code", p end
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lcp - 0xDC00)
            i = i + 6
          elseif cp >= 0xDC00 and cp <= 0xDFFF then
            return "T_ERROR", "invalid unicode escape code", p
          end
          parts[#parts + 1] = utf8char(cp)
        else
          local c = ({ ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" })[e]
          if not c then return "T_ERROR", "invalid escape code", p end
          parts[#parts + 1] = c
          i = s + 2
        end
      end
    end

    local function whole(n)
      if mtype(n) == "float" and n == floor(n) and n > -9007199254740992 and n < 9007199254740992 then
        return math.tointeger(n)
      end
      return n
    end

    -- Numbers JSON does not allow (hex, Infinity, NaN, leading "+"), accepted when decode_invalid_numbers is on.
    local function invalid_number(p)
      local s, e = find(str, "^[-+]?0[xX]%x+", p)
      if s then
        local t = sub(str, s, e)
        local neg = byte(t, 1) == 45
        local n = tonumber((gsub(t, "^[-+]", "")))
        return e, neg and -n or n
      end
      s, e = find(str, "^[-+]?[Ii][Nn][Ff]", p)
      if s then
        local e2 = select(2, find(str, "^[Ii][Nn][Ii][Tt][Yy]", e + 1))
        return e2 or e, byte(str, s) == 45 and -huge or huge
      end
      s, e = find(str, "^[-+]?[Nn][Aa][Nn]", p)
      if s then return e, 0 / 0 end
      if byte(str, p) == 43 then
        s, e = find(str, "^%+%d+%.?%d*", p)
        if s then
          local e2 = select(2, find(str, "^[eE][-+]?%d+", e + 1))
          e = e2 or e
          return e, whole(tonumber(sub(str, p + 1, e)))
        end
      end
      return nil
    end

    local function number_token(p)
      if not cfg.decode_invalid then
        -- strict JSON: no leading zeros, no hex
        if find(str, "^-?0%d", p) or find(str, "^-?0[xX]", p) or find(str, "^-?[IiNn]", p) then
          return "T_ERROR", "invalid number", p
        end
      else
        local e, n = invalid_number(p)
        if e then
          pos = e + 1
          return "T_NUMBER", n, p
        end
      end
      local s, e = find(str, "^-?%d*%.?%d*", p)
      if not s or not find(sub(str, s, e), "%d") then return "T_ERROR", "invalid number", p end
      local e2 = select(2, find(str, "^[eE][-+]?%d+", e + 1))
      e = e2 or e
      local n = tonumber(sub(str, s, e))
      if n == nil then return "T_ERROR", "invalid number", p end
      pos = e + 1
      return "T_NUMBER", whole(n), p
    end

    local single = { [123] = "T_OBJ_BEGIN", [125] = "T_OBJ_END", [91] = "T_ARR_BEGIN", [93] = "T_ARR_END", [44] = "T_COMMA", [58] = "T_COLON" }

    local function token()
      local p = find(str, "[^ \t\n\r]", pos)
      if not p then
        pos = len + 1
        return "T_END", nil, len + 1
      end
      local c = byte(str, p)
      local s = single[c]
      if s then
        pos = p + 1
        return s, nil, p
      end
      if c == 34 then return string_token(p) end
      if c == 45 or (c >= 48 and c <= 57) then return number_token(p) end
      if sub(str, p, p + 3) == "true" then pos = p + 4; return "T_BOOLEAN", true, p end
      if sub(str, p, p + 4) == "false" then pos = p + 5; return "T_BOOLEAN", false, p end
      if sub(str, p, p + 3) == "null" then pos = p + 4; return "T_NULL", null, p end
      if cfg.decode_invalid then
        local e, n = invalid_number(p)
        if e then
          pos = e + 1
          return "T_NUMBER", n, p
        end
      end
      return "T_ERROR", "invalid token", p
    end

    local value

    local function nest(p)
      depth = depth + 1
      if depth > cfg.decode_max_depth then
        error("Found too many nested data structures (" .. depth .. ") at character " .. p, 0)
      end
    end

    local function object(p)
      nest(p)
      local t = {}
      local tt, tv, tp = token()
      if tt == "T_OBJ_END" then
        depth = depth - 1
        return t
      end
      while true do
        if tt ~= "T_STRING" then fail("object key string", tt, tv, tp) end
        local key = tv
        tt, tv, tp = token()
        if tt ~= "T_COLON" then fail("colon", tt, tv, tp) end
        t[key] = value(token())
        tt, tv, tp = token()
        if tt == "T_OBJ_END" then
          depth = depth - 1
          return t
        end
        if tt ~= "T_COMMA" then fail("comma or object end", tt, tv, tp) end
        tt, tv, tp = token()
      end
    end

    local function array(p)
      nest(p)
      local t = {}
      if cfg.decode_array_mt then setmetatable(t, array_mt) end
      local tt, tv, tp = token()
      if tt == "T_ARR_END" then
        depth = depth - 1
        return t
      end
      local i = 1
      while true do
        t[i] = value(tt, tv, tp)
        i = i + 1
        tt, tv, tp = token()
        if tt == "T_ARR_END" then
          depth = depth - 1
          return t
        end
        if tt ~= "T_COMMA" then fail("comma or array end", tt, tv, tp) end
        tt, tv, tp = token()
      end
    end

    value = function(tt, tv, tp)
      if tt == "T_OBJ_BEGIN" then return object(tp) end
      if tt == "T_ARR_BEGIN" then return array(tp) end
      if tt == "T_STRING" or tt == "T_NUMBER" or tt == "T_BOOLEAN" or tt == "T_NULL" then return tv end
      fail("value", tt, tv, tp)
    end

    local result = value(token())
    local tt, tv, tp = token()
    if tt ~= "T_END" then fail("the end", tt, tv, tp) end
    return result
  end

  function M.decode(...)
    if select("#", ...) ~= 1 then error("bad argument #1 to 'decode' (expected 1 argument)", 2) end
    local s = ...
    if type(s) == "number" then s = tostring(s) end
    if type(s) ~= "string" then error("bad argument #1 to 'decode' (string expected, got " .. type(s) .. ")", 2) end
    return decode(s)
  end

  function M.new()
    return new_instance()
  end

  return M
end

local function safe_of(m)
  local s = {}
  for k, v in pairs(m) do s[k] = v end
  for _, name in ipairs({ "encode", "decode" }) do
    local f = m[name]
    s[name] = function(...)
      local ok, r = pcall(f, ...)
      if ok then return r end
      return nil, r
    end
  end
  s.new = function() return safe_of(m.new()) end
  return s
end

return new_instance(), safe_of(new_instance())
`;
