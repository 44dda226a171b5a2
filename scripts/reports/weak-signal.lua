-- LTE devices whose signal is weak: RSSI below a threshold (dBm). The condition runs in SQL over every profile's
-- path for the alias "lte.rssi" (standard or vendor), so the report streams even over a million devices.
--   corral run scripts/reports/weak-signal.lua --format table --arg rssi=-105
local threshold = args.rssi or -100
report {
  title = "Weak LTE signal (RSSI < " .. threshold .. " dBm)",
  columns = { "name", "serial", "profile", "lte.rssi", "lte.rsrp", "kpi:lte.rssi:86400", "status" },
  rows = devices { where = { { "lte.rssi", "<", threshold } } },
}

-- `corral script test scripts/reports/weak-signal.lua`
test("lists the devices under the threshold", {
  devices = {
    { serial = "WEAK", profile = "acme-lte-r1", params = { ["lte.rssi"] = -110 } },
    { serial = "OK", profile = "acme-lte-r1", params = { ["lte.rssi"] = -80 } },
    { serial = "EDGE", profile = "generic-tr181", params = { ["lte.rssi"] = -101 } },
  },
  args = { rssi = -100 },
  expect = { rows = 2, contains = { "WEAK", "EDGE" } },
})
