-- Which cells are slow tonight: the last 24 hours of download tests grouped by location (a cell, a street cabinet:
-- whatever the operator puts in a device's location), slowest median first. No device is loaded: one GROUP BY.
--   corral run scripts/reports/speed-by-location.lua --format table
report { title = "Download speed by location (last 24 h)",
         columns = { "location", "devices", "tests", "failed", "median_mbps", "min_mbps", "avg_rtt_ms" } }
local rows = diagnostics_by("location", { test = "download", hours = 24 })
table.sort(rows, function(a, b) return (a.median_mbps or 0) < (b.median_mbps or 0) end)
for _, g in ipairs(rows) do
  emit {
    location = g.value == "" and "(no location)" or g.value,
    devices = g.devices,
    tests = g.results,
    failed = g.failed,
    median_mbps = g.median_mbps,
    min_mbps = g.min_mbps,
    avg_rtt_ms = g.avg_rtt_ms,
  }
end
