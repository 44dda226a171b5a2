-- Every Sunday at 02:00 UTC, each online device uploads its configuration to Corral (an Upload task; the newest 50
-- per device are kept, listed on the device page, comparable and restorable).
every("0 2 * * 0", function()
  for dev in devices({ status = "online" }) do
    dev:backup("config")
  end
end)

-- `corral script test scripts/automations/weekly-backup.lua`
test("the Sunday run backs up the online devices", {
  devices = { { serial = "ON1" }, { serial = "ON2" } },
  schedule = true,
  expect = { tasks = { ON1 = { "backup 1 Vendor Configuration File" }, ON2 = { "backup 1 Vendor Configuration File" } } },
})
