-- Generic TR-181 (Device:2) device: any CPE whose Inform uses the Device. root.
-- The onboarding password is a secret: set "secrets": {"generic-tr181-onboarding": "..."} in corral.json or
-- CORRAL_SECRET_GENERIC_TR181_ONBOARDING before real devices connect (the built-in default is public).
return profile {
  name = "generic-tr181",
  description = "Any TR-181 (Device:2) CPE",
  match = { data_model = "tr181" },
  onboarding = { username = "corral-tr181", password = secret "generic-tr181-onboarding" },
  inform_interval = 300,
  aliases = {
    ["wifi.ssid"]        = "Device.WiFi.SSID.1.SSID",
    ["wifi.enable"]      = "Device.WiFi.SSID.1.Enable",
    ["wifi.password"]    = "Device.WiFi.AccessPoint.1.Security.KeyPassphrase",
    ["wifi.security"]    = "Device.WiFi.AccessPoint.1.Security.ModeEnabled",
    ["wifi.channel"]     = "Device.WiFi.Radio.1.Channel",
    ["wifi5.ssid"]       = "Device.WiFi.SSID.2.SSID",
    ["wifi5.channel"]    = "Device.WiFi.Radio.2.Channel",
    ["firmware.version"] = "Device.DeviceInfo.SoftwareVersion",
    ["hardware.version"] = "Device.DeviceInfo.HardwareVersion",
    ["uptime"]           = "Device.DeviceInfo.UpTime",
    ["wan.ip"]           = "Device.IP.Interface.1.IPv4Address.1.IPAddress",
    ["lte.rssi"]         = "Device.Cellular.Interface.1.RSSI",
    ["lte.rsrp"]         = "Device.Cellular.Interface.1.RSRP",
    ["lte.rsrq"]         = "Device.Cellular.Interface.1.RSRQ",
    ["inform.interval"]  = "Device.ManagementServer.PeriodicInformInterval",
  },
  test = { model = "tr181" },
}
