-- Upgrade ACME R1 routers below 2.1.0 to firmware 2.1.0 (Download; finished by the router's TransferComplete).
-- Canary of 10, then 100, then the rest at 30 per minute; stop at 10% failures.
--   corral campaign start scripts/campaigns/firmware-upgrade.lua --dry-run
local target_version = "2.1.0"

local function older(a, b)            -- numeric dotted-version comparison
  local x, y = {}, {}
  for n in a:gmatch("%d+") do x[#x + 1] = tonumber(n) end
  for n in b:gmatch("%d+") do y[#y + 1] = tonumber(n) end
  for i = 1, math.max(#x, #y) do
    local p, q = x[i] or 0, y[i] or 0
    if p ~= q then return p < q end
  end
  return false
end

campaign {
  name = "R1 firmware " .. target_version,
  target = { profile = "acme-lte-r1" },
  rate = { per_minute = 30, concurrent = 10 },
  waves = { 10, 100 },
  stop_if = { failure_rate = 0.10, min_devices = 10 },
  connection_request = true,
  device_timeout = 3600,
  apply = function(dev)
    if older(dev.software_version, target_version) then
      dev:download { url = "http://files.corral.example/acme/r1-" .. target_version .. ".bin", file_type = "firmware" }
    end
  end,
}

-- `corral script test scripts/campaigns/firmware-upgrade.lua`
test("only older firmware is upgraded", {
  devices = {
    { serial = "OLD", profile = "acme-lte-r1", software_version = "2.0.9" },
    { serial = "NEW", profile = "acme-lte-r1", software_version = "2.1.0" },
    { serial = "ONT", profile = "generic-tr181", software_version = "1.0" },
  },
  expect = { tasks = { OLD = { "download http://files.corral.example/acme/r1-2.1.0.bin" }, NEW = {}, ONT = {} } },
})
