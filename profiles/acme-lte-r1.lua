-- ACME R1: an LTE router (TR-181) with vendor signal parameters under Device.Cellular.Interface.1.X_ACME_*.
-- Onboarding password: secret "acme-r1-onboarding" (corral.json "secrets" or CORRAL_SECRET_ACME_R1_ONBOARDING).
return profile {
  name = "acme-lte-r1",
  description = "ACME R1 LTE router",
  extends = "generic-tr181",
  match = { oui = "00D09E", product_class = "LTE-R1" },
  onboarding = { username = "acme-r1", password = secret "acme-r1-onboarding" },
  inform_interval = 900,
  aliases = {
    -- RSSI, RSRP and RSRQ are standard (TR-181 2.8/2.14); SINR, cell and band are not: ACME's own names.
    ["lte.sinr"]   = "Device.Cellular.Interface.1.X_ACME_SINR",
    ["lte.cell"]   = "Device.Cellular.Interface.1.X_ACME_CellID",
    ["lte.band"]   = "Device.Cellular.Interface.1.X_ACME_Band",
    ["lte.apn"]    = "Device.Cellular.AccessPoint.1.APN",
    ["ntp.server"] = "Device.Time.NTPServer1",
  },
  -- Enforced every session: written only when the known value differs, re-read once a day or after a boot.
  desired = {
    ["lte.apn"]    = "internet",
    ["ntp.server"] = "pool.ntp.org",
    ["Device.Time.Enable"] = true,
  },
  stun = { enable = true, server = "stun.corral.example", port = 3478, min_keepalive = 60 },
  kpis = { "lte.rssi", "lte.rsrp", "lte.rsrq", "lte.sinr" },
  on = {
    -- A new or factory-reset router gets an SSID of its own; later changes by the customer are kept.
    bootstrap = function(dev)
      dev:set("wifi.ssid", "ACME-" .. dev.serial:sub(-4))
    end,
    -- Once an hour, read the serving cell: stale values suspend the script until the router answers.
    inform = function(dev)
      local cell = dev:get("lte.cell", 3600)
      local band = dev:get("lte.band", 3600)
      if cell == nil then log("no cell information on", dev.name) end
      if band == 20 and dev:get("wifi.channel") ~= 6 then
        dev:set("wifi.channel", 6)   -- band 20 (800 MHz) routers sit next to 2.4 GHz channel 1 interference
      end
    end,
  },
  test = { model = "fixtures/acme-lte-r1.json", expect = { ["lte.apn"] = "internet" } },
}
