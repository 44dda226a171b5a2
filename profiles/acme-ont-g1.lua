-- ACME G1: an FTTH GPON ONT (TR-098 gateway) with vendor optical parameters under X_ACME_GponInterfaceConfig.
-- Onboarding password: secret "acme-ont-onboarding" (corral.json "secrets" or CORRAL_SECRET_ACME_ONT_ONBOARDING).
return profile {
  name = "acme-ont-g1",
  description = "ACME G1 GPON ONT",
  extends = "generic-tr098",
  match = { oui = "00D09E", product_class = "ONT-G1" },
  onboarding = { username = "acme-ont", password = secret "acme-ont-onboarding" },
  inform_interval = 3600,
  aliases = {
    ["optical.rx_power"]    = "InternetGatewayDevice.WANDevice.1.X_ACME_GponInterfaceConfig.RXPower",
    ["optical.tx_power"]    = "InternetGatewayDevice.WANDevice.1.X_ACME_GponInterfaceConfig.TXPower",
    ["optical.temperature"] = "InternetGatewayDevice.WANDevice.1.X_ACME_GponInterfaceConfig.Temperature",
    ["optical.status"]      = "InternetGatewayDevice.WANDevice.1.X_ACME_GponInterfaceConfig.Status",
  },
  desired = {
    ["ntp.server"] = "pool.ntp.org",
    ["InternetGatewayDevice.Time.Enable"] = true,
  },
  stun = { enable = true, server = "stun.corral.example", port = 3478 },
  kpis = { "optical.rx_power", "optical.tx_power", "optical.temperature" },
  on = {
    -- After a firmware upgrade, log the new version (the transfer itself is a task or a campaign).
    transfer_complete = function(dev)
      log("ONT", dev.name, "now runs", dev:get("firmware.version", 0))
    end,
    -- An ONT whose laser reports a link problem gets its optical status re-read every session.
    inform = function(dev)
      if dev:get("optical.status") ~= "Up" then dev:refresh("optical.status") end
    end,
  },
  test = { model = "fixtures/acme-ont-g1.json", expect = { ["ntp.server"] = "pool.ntp.org" } },
}
