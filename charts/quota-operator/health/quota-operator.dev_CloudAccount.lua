-- Argo CD health check for quota-operator.dev/CloudAccount (Lua 5.1, as Argo CD runs it).
-- Install as argocd-cm resource.customizations.health.quota-operator.dev_CloudAccount.
-- The operator sets condition Ready: True once the credentials work and the identity is verified
-- (reason Verified); False with a reason such as AccountMismatch or CredentialsFailed.
local hs = {}

local metadata = obj.metadata or {}
local status = obj.status

if metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "deleting"
  return hs
end

local ready = nil
if status ~= nil and status.conditions ~= nil then
  for _, c in ipairs(status.conditions) do
    if c.type == "Ready" then
      ready = c
    end
  end
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "waiting for the operator"
  return hs
end

if metadata.generation ~= nil and status.observedGeneration ~= nil
    and status.observedGeneration < metadata.generation then
  hs.status = "Progressing"
  hs.message = "waiting for the operator to observe generation " .. tostring(metadata.generation)
  return hs
end

local message = ready.message
if message == nil or message == "" then
  message = ready.reason or ""
end

if ready.status == "True" then
  hs.status = "Healthy"
elseif ready.status == "False" then
  hs.status = "Degraded"
else
  hs.status = "Progressing"
end
hs.message = message
return hs
