-- Devices offline for more than N days (default 7): last Inform older than the cutoff, oldest first.
--   corral run scripts/reports/offline.lua --arg days=30 --format csv
local days = args.days or 7
local now = os.time()
report {
  title = "Offline for more than " .. days .. " days",
  columns = { "name", "serial", "profile", "ip", "last_inform", "days_offline" },
}
for dev in devices { informed_before = now - days * 86400, order = "last_inform" } do
  emit {
    name = dev.name, serial = dev.serial, profile = dev.profile, ip = dev.ip,
    last_inform = os.date("!%Y-%m-%d %H:%M", dev.last_inform),
    days_offline = (now - dev.last_inform) // 86400,
  }
end
