-- Rename the WiFi of the pilot group: "ACME-<last 4 of the serial>", WPA2 passphrase from the serial.
-- Canary: 5 devices first, then 50, then the rest; stop if more than 5% fail (after 20 devices).
--   corral campaign start scripts/campaigns/wifi-rename.lua --dry-run
campaign {
  name = "rename pilot wifi",
  target = { group = "pilot" },
  rate = { per_minute = 120, concurrent = 20 },
  waves = { 5, 50 },
  stop_if = { failure_rate = 0.05, min_devices = 20 },
  connection_request = true,
  apply = function(dev)
    local suffix = dev.serial:sub(-4)
    if dev:get("wifi.ssid") ~= "ACME-" .. suffix then
      dev:set("wifi.ssid", "ACME-" .. suffix)
    end
  end,
}
