-- Once an hour: how many devices have not informed for a day, in the log (a report does the per-device list).
every("1h", function()
  local stale = count({ informed_before = os.time() - 86400 })
  log(stale, "devices silent for more than a day")
end)
