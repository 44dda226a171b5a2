-- Cron schedules are in UTC. At 03:00 every night, devices that came back online after being offline for more than a
-- day get their parameters read again (their stored values are stale).
every("0 3 * * *", function()
  for dev in devices({ group = "came-back" }) do
    dev:refresh(dev.data_model == "tr098" and "InternetGatewayDevice.DeviceInfo." or "Device.DeviceInfo.")
    dev:remove_group("came-back")
  end
end)

on("device.online", function(dev, event)
  if event.at - event.data.offline_since > 86400 then
    dev:add_group("came-back")
    emit_event("custom.long-absence", dev, { days = (event.at - event.data.offline_since) // 86400 })
  end
end)

-- Other handlers (or, later, webhooks) can react to the custom event.
on("custom.long-absence", function(dev, event)
  log(dev.name, "was away", event.data.days, "days")
end)

-- `corral script test scripts/automations/nightly.lua`
test("back after three days: grouped for the night and announced", {
  devices = { { serial = "BACK", groups = { "pilot" } } },
  event = { kind = "device.online", device = "BACK", data = { offline_since = os.time() - 3 * 86400 } },
  expect = { groups = { BACK = { "pilot", "came-back" } }, events = { "custom.long-absence" } },
})
test("the 03:00 run reads them again and ungroups them", {
  devices = { { serial = "BACK", groups = { "came-back" } }, { serial = "STAYED" } },
  schedule = true,
  expect = { tasks = { BACK = { "refresh Device.DeviceInfo." }, STAYED = {} }, groups = { BACK = {} } },
})
