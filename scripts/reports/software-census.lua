-- Software version census: devices per model and software version (SQL GROUP BY, no device is loaded).
--   corral run scripts/reports/software-census.lua --format table
report { title = "Software versions", columns = { "model", "software_version", "devices", "share" } }
local total = count {}
for _, model in ipairs(count_by("model")) do
  for _, v in ipairs(count_by("software_version", { model = model.value })) do
    emit {
      model = model.value,
      software_version = v.value,
      devices = v.count,
      share = string.format("%.1f%%", 100 * v.count / total),
    }
  end
end
