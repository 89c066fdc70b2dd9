-- Evaluates one Argo CD health script on one object, as Argo CD does (global `obj`, the script
-- returns `hs`): the integration tests feed it live objects from the API server.
-- Usage: lua5.1 argocd-health-eval.lua SCRIPT < object.json ; prints "<status>\t<message>".
local json = require("dkjson")
local script = arg[1] or error("usage: lua5.1 argocd-health-eval.lua SCRIPT < object.json")
local decoded, _, err = json.decode(io.read("*a"), 1, json.null)
if err then
  error("object JSON: " .. err)
end
obj = decoded
local hs = dofile(script)
io.write(hs.status, "\t", hs.message or "", "\n")
