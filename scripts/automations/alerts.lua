-- Alerts the NOC sees on the Alerts page, the device page, GET /api/v1/alerts and /metrics (corral_alerts_active).
-- A rule is one SQL query over all devices every 30 s: its alert is raised once the condition has held for `for`
-- ("for" is a Lua keyword, hence ["for"]), and clears by itself when the condition stops holding.
alert { name = "weak-lte", when = "lte.rssi < -105", ["for"] = "30m", severity = "major",
        message = "LTE signal below -105 dBm for half an hour" }
alert { name = "ont-low-rx", when = "optical.rx_power < -27", ["for"] = "15m", severity = "major",
        filter = { profile = "acme-ont-g1" }, message = "optical receive power below -27 dBm" }
alert { name = "silent", offline = "6h", severity = "critical", message = "no Inform for six hours" }

-- Weak devices carry a tag while their alert is active (inventory filter tag=weak-lte), and join the group a
-- field-visit report lists.
on("alert.raised", { alert = "weak-lte" }, function(dev, event)
  dev:tag("weak-lte")
  dev:add_group("field-visit")
  log(dev.name, "weak LTE:", event.data.value, "dBm")
end)
on("alert.cleared", { alert = "weak-lte" }, function(dev)
  dev:untag("weak-lte")
  dev:remove_group("field-visit")
end)

-- A firmware upgrade that failed raises an alert of its own (handlers' alerts stay until a handler clears them);
-- the next successful one clears it.
on("firmware.fault", function(dev, event)
  dev:alert("firmware-failed", { severity = "minor", message = "download " .. event.data.url .. ": " .. (event.data.fault or "?") })
end)
on("firmware.done", function(dev) dev:clear_alert("firmware-failed") end)

-- `corral script test scripts/automations/alerts.lua`: each case runs against its own fixture devices.
test("weak signal for half an hour raises, tags and groups", {
  devices = {
    { serial = "WEAK", profile = "acme-lte-r1", params = { ["lte.rssi"] = -110 } },
    { serial = "GOOD", profile = "acme-lte-r1", params = { ["lte.rssi"] = -70 } },
  },
  after = "30m",
  expect = {
    alerts = { WEAK = { "weak-lte" }, GOOD = {} },
    tags = { WEAK = { "weak-lte" }, GOOD = {} },
    groups = { WEAK = { "field-visit" } },
  },
})
test("six hours of silence is critical", {
  devices = { { serial = "GONE", last_inform = -7 * 3600 }, { serial = "HERE" } },
  expect = { alerts = { GONE = { "silent" }, HERE = {} } },
})
test("a failed firmware download raises an alert a later success clears", {
  devices = { { serial = "FW" } },
  event = { kind = "firmware.fault", device = "FW", data = { url = "http://files/fw.bin", fault = "9010 download failed" } },
  expect = { alerts = { FW = { "firmware-failed" } } },
})
