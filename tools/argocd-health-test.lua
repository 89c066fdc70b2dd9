-- Runs Argo CD health-check tests (health_test.yaml format) with a real Lua 5.1 interpreter.
-- Usage: lua5.1 argocd-health-test.lua HEALTH_DIR
-- HEALTH_DIR holds <group>_<Kind>.lua scripts and health_test.yaml; each test's inputPath is a
-- JSON object whose apiVersion group and kind pick the script. Prints one line per case and
-- "N passed, M failed"; exits 1 on any failure.
local json = require("dkjson")

local dir = arg[1] or error("usage: lua5.1 argocd-health-test.lua HEALTH_DIR")

local function read(path)
  local f, err = io.open(path, "rb")
  if not f then
    return nil, err
  end
  local s = f:read("*a")
  f:close()
  return s
end

-- A YAML scalar as health_test.yaml writes it: plain, 'single' or "double" quoted.
local function scalar(v, where)
  v = v:gsub("^%s+", ""):gsub("%s+$", "")
  local q = v:sub(1, 1)
  if q == '"' then
    if v:sub(-1) ~= '"' or #v < 2 then
      error(where .. ": unterminated double-quoted string")
    end
    local body = v:sub(2, -2)
    local esc = { ['"'] = '"', ["\\"] = "\\", n = "\n", t = "\t", ["/"] = "/" }
    return (body:gsub("\\(.)", function(c)
      return esc[c] or error(where .. ": unsupported escape \\" .. c)
    end))
  elseif q == "'" then
    if v:sub(-1) ~= "'" or #v < 2 then
      error(where .. ": unterminated single-quoted string")
    end
    return (v:sub(2, -2):gsub("''", "'"))
  end
  return (v:gsub("%s+#.*$", ""))
end

-- The subset of YAML that Argo CD's health_test.yaml files use; anything else is an error, so a
-- case is never skipped silently.
local function parse_tests(text)
  local tests, cur = {}, nil
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    local where = "health_test.yaml:" .. n
    local body = line:gsub("%s+$", "")
    if body:match("^%s*$") or body:match("^%s*#") then
      -- blank or comment
    elseif body == "tests:" then
      -- the list header
    else
      local indent, dash, rest = body:match("^(%s*)(%-?%s*)(.*)$")
      if dash ~= "" then
        cur = { line = n }
        tests[#tests + 1] = cur
      end
      if cur == nil then
        error(where .. ": expected a list entry under tests:")
      end
      local key, value = rest:match("^([%w_]+):%s*(.*)$")
      if key == nil then
        error(where .. ": cannot read '" .. body .. "'")
      elseif key == "healthStatus" then
        if value ~= "" then
          error(where .. ": healthStatus must be a mapping on the following lines")
        end
      elseif key == "status" or key == "message" or key == "inputPath" then
        if cur[key] ~= nil then
          error(where .. ": " .. key .. " given twice in one test")
        end
        cur[key] = scalar(value, where)
      else
        error(where .. ": unknown key " .. key)
      end
    end
  end
  return tests
end

-- Roughly the sandbox Argo CD gives health scripts: base, string, table, math, a safe os.
local function sandbox(obj)
  return {
    obj = obj,
    assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
    pcall = pcall, select = select, tonumber = tonumber, tostring = tostring,
    type = type, unpack = unpack,
    string = string, table = table, math = math,
    os = { time = os.time, date = os.date, clock = os.clock },
  }
end

local function judge(input)
  local text, err = read(dir .. "/" .. input)
  if not text then
    return nil, "cannot read input: " .. tostring(err)
  end
  local obj, _, derr = json.decode(text, 1, nil)
  if derr then
    return nil, "bad JSON: " .. derr
  end
  if type(obj) ~= "table" or type(obj.apiVersion) ~= "string" or type(obj.kind) ~= "string" then
    return nil, "input has no apiVersion/kind"
  end
  local group = obj.apiVersion:match("^(.*)/") or ""
  local script = dir .. "/" .. group .. "_" .. obj.kind .. ".lua"
  local chunk, lerr = loadfile(script)
  if not chunk then
    return nil, "cannot load " .. script .. ": " .. tostring(lerr)
  end
  setfenv(chunk, sandbox(obj))
  local ok, hs = pcall(chunk)
  if not ok then
    return nil, "script error: " .. tostring(hs)
  end
  if type(hs) ~= "table" then
    return nil, "script returned " .. type(hs) .. ", not a table"
  end
  return hs
end

local text, err = read(dir .. "/health_test.yaml")
if not text then
  io.stderr:write("argocd-health-test: ", tostring(err), "\n")
  os.exit(2)
end
local ok, tests = pcall(parse_tests, text)
if not ok then
  io.stderr:write("argocd-health-test: ", tostring(tests), "\n")
  os.exit(2)
end

local passed, failed = 0, 0
for _, t in ipairs(tests) do
  local want_status, want_message = t.status, t.message or ""
  if t.inputPath == nil or want_status == nil then
    failed = failed + 1
    print(("FAIL line %d: a test needs inputPath and healthStatus.status"):format(t.line))
  else
    local hs, jerr = judge(t.inputPath)
    if hs == nil then
      failed = failed + 1
      print(("FAIL %s: %s"):format(t.inputPath, jerr))
    elseif hs.status == want_status and (hs.message or "") == want_message then
      passed = passed + 1
      print(("ok   %s: %s %q"):format(t.inputPath, hs.status, hs.message or ""))
    else
      failed = failed + 1
      print(("FAIL %s: want %s %q, got %s %q"):format(
        t.inputPath, want_status, want_message, tostring(hs.status), tostring(hs.message or "")))
    end
  end
end
if #tests == 0 then
  failed = failed + 1
  print("FAIL health_test.yaml has no tests")
end
print(("%d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
