-- Generic TR-098 (InternetGatewayDevice:1) gateway: any CPE whose Inform uses the InternetGatewayDevice. root.
-- The onboarding password is a secret: set "secrets": {"generic-tr098-onboarding": "..."} in corral.json or
-- CORRAL_SECRET_GENERIC_TR098_ONBOARDING before real devices connect (the built-in default is public).
return profile {
  name = "generic-tr098",
  description = "Any TR-098 (InternetGatewayDevice) CPE",
  match = { data_model = "tr098" },
  onboarding = { username = "corral-tr098", password = secret "generic-tr098-onboarding" },
  inform_interval = 300,
  aliases = {
    ["wifi.ssid"]        = "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID",
    ["wifi.enable"]      = "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.Enable",
    ["wifi.password"]    = "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.KeyPassphrase",
    ["wifi.security"]    = "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.BeaconType",
    ["wifi.channel"]     = "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.Channel",
    ["firmware.version"] = "InternetGatewayDevice.DeviceInfo.SoftwareVersion",
    ["hardware.version"] = "InternetGatewayDevice.DeviceInfo.HardwareVersion",
    ["uptime"]           = "InternetGatewayDevice.DeviceInfo.UpTime",
    ["wan.ip"]           = "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.ExternalIPAddress",
    ["ntp.server"]       = "InternetGatewayDevice.Time.NTPServer1",
    ["inform.interval"]  = "InternetGatewayDevice.ManagementServer.PeriodicInformInterval",
  },
  test = { model = "tr098" },
}
