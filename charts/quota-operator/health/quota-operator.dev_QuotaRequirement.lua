-- Argo CD health check for quota-operator.dev/QuotaRequirement (Lua 5.1, as Argo CD runs it).
-- Install as argocd-cm resource.customizations.health.quota-operator.dev_QuotaRequirement.
-- Reads the operator's kstatus-style status: observedGeneration, conditions Ready / Satisfied /
-- Reconciling / Stalled, summary and per-region targets.
--   Stalled=True     -> Degraded (Denied, NotAdjustable, Blocked, PartiallyGranted, account failures)
--   Reconciling=True -> Progressing (a request is open or queued)
--   Ready=True       -> Healthy
--   Ready=False      -> Progressing (cloud errors are retried, so Argo CD does not flap on them)
local hs = {}

local function condition(conditions, type)
  for _, c in ipairs(conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function nonempty(s)
  return s ~= nil and s ~= ""
end

-- The condition's message, else the first target that is not satisfied, else the summary.
local function explain(c, status)
  if nonempty(c.message) then
    return c.message
  end
  if status.targets ~= nil then
    for _, t in ipairs(status.targets) do
      if t.state ~= "Satisfied" then
        local what = t.state or "pending"
        if nonempty(t.message) then
          what = what .. ": " .. t.message
        end
        return (t.region or "target") .. ": " .. what
      end
    end
  end
  if nonempty(status.summary) then
    return status.summary
  end
  return c.reason or ""
end

local metadata = obj.metadata or {}
local status = obj.status

if metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "deleting"
  return hs
end

if status == nil or status.conditions == nil or #status.conditions == 0 then
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

local stalled = condition(status.conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = explain(stalled, status)
  return hs
end

local reconciling = condition(status.conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = explain(reconciling, status)
  return hs
end

local ready = condition(status.conditions, "Ready")
if ready == nil then
  hs.status = "Progressing"
  hs.message = "waiting for the operator"
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  if nonempty(ready.message) then
    hs.message = ready.message
  else
    hs.message = status.summary or "Satisfied"
  end
  return hs
end

-- Ready False or Unknown and not stalled: the operator is still working on it (this includes
-- reason CloudError and targets in state Error, which it retries with backoff).
hs.status = "Progressing"
hs.message = explain(ready, status)
return hs
