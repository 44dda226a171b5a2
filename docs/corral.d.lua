---@meta corral
-- Corral's Lua API for the Lua language server, generated from the bridge table by `corral lua-docs --stubs`;
-- do not edit. Contexts are in each function's description (docs/lua-api.md has the whole reference).

---@class CorralDevice
---@field id integer
---@field name string
---@field serial string
---@field oui string
---@field product_class string
---@field manufacturer string
---@field model string
---@field software_version string
---@field hardware_version string
---@field profile string
---@field data_model string
---@field location string
---@field description string
---@field ip string
---@field inform_interval integer
---@field last_inform integer
---@field last_boot integer
---@field created_at integer
---@field status string
---@field groups string[]
local CorralDevice = {}

---@type CorralDevice
dev = nil

--- Declares a device profile. A profile file calls it once.
--- Contexts: profile-load.
---@param definition table name, match, onboarding, aliases, desired, kpis, hooks: see docs/profiles.md
---@return any # the definition
function profile(definition) end

--- Refers to a secret by name; the value never appears in the file.
--- Contexts: profile-load.
---@param name string secret name, looked up in corral.json `secrets` or CORRAL_SECRET_<NAME>
---@return any # a secret reference
function secret(name) end

--- Writes a line to Corral's log (session scripts: tagged with the device).
--- Contexts: profile-load, session, campaign, report, automation.
---@param ... any values, joined with spaces
function log(...) end

--- Same as log (reports: to stderr, so it never mixes with the rows).
--- Contexts: profile-load, session, campaign, report, automation.
---@param ... any values, joined with spaces
function print(...) end

os = os or {}

--- The run's clock: the Inform time in a session, the start of the run elsewhere. Deterministic.
--- Contexts: profile-load, session, campaign, report, automation.
---@param date? table {year, month, day, hour, min, sec} in UTC
---@return any # integer (Unix seconds)
function os.time(date) end

--- Formats a time in UTC.
--- Contexts: profile-load, session, campaign, report, automation.
---@param format? string strftime format (UTC); "*t" for a table
---@param time? integer Unix seconds; default: os.time()
---@return any # string or table
function os.date(format, time) end

math = math or {}

--- Like Lua's math.random, seeded per run (per device and Inform in sessions): a replayed session draws the same numbers.
--- Contexts: profile-load, session, campaign, report, automation.
---@param m? integer upper bound, or lower bound with n
---@param n? integer upper bound
---@return any # number
function math.random(m, n) end

--- A parameter value; for an object path ending in "." ("Device.WiFi.SSID.") a table of every value below it, keyed by the rest of the path ("1.SSID"). In a session a missing or stale value suspends the script until the CPE answers (a subtree is read once per session, or taken from the store when max_age allows); elsewhere the stored values. nil if the device has no such parameter.
--- Contexts: session, campaign, report, automation.
---@param name string alias ("wifi.ssid") or parameter path
---@param max_age? integer seconds; older values are read again from the CPE (session only)
---@return any # string, number, boolean, table or nil
function CorralDevice:get(name, max_age) end

--- Declares a desired value. In a session it is written with the other scripts' values in one SetParameterValues, only if it differs; in a campaign it is queued as a task.
--- Contexts: session, campaign, automation.
---@param name string alias or parameter path
---@param value string|number|boolean desired value
---@param type? string xsd type (string, int, unsignedInt, boolean, dateTime ...); default: the stored type
function CorralDevice:set(name, value, type) end

--- Reads a value or subtree again from the CPE (a session waits for it; a campaign queues it).
--- Contexts: session, campaign, automation.
---@param name string alias, parameter path or subtree (ending in ".")
function CorralDevice:refresh(name) end

--- Reboots the device (after the session's reads and writes).
--- Contexts: session, campaign, automation.
function CorralDevice:reboot() end

--- Factory-resets the device (it onboards again afterwards).
--- Contexts: campaign.
function CorralDevice:factory_reset() end

--- Sends a Download (firmware upgrade by default); finished by the CPE's TransferComplete.
--- Contexts: session, campaign, automation.
---@param spec table {url, file_type = "firmware"|"web-content"|"config", file_size, target}
function CorralDevice:download(spec) end

--- Has the CPE upload its configuration (or log) to Corral (Upload RPC); kept with the device's backups, newest 50.
--- Contexts: campaign, automation.
---@param file_type? string "config" (default) or "log"
function CorralDevice:backup(file_type) end

--- Runs a TR-143 test with the paths of the device's data model, against Corral's own test servers; the result is stored with the device (campaign rate limits pace a fleet test).
--- Contexts: campaign.
---@param spec table {test = "download"|"upload"|"udpecho"|"ping"|"traceroute", size, seconds, connections, host, count}
function CorralDevice:diagnose(spec) end

--- AddObject. In a session the script waits for the CPE and gets the new instance number; elsewhere it is queued (nil).
--- Contexts: session, campaign, automation.
---@param path string object path ending in "." ("Device.WiFi.SSID.") or an alias of one
---@return any # integer or nil
function CorralDevice:add(path) end

--- DeleteObject (after the session's reads and writes; queued elsewhere).
--- Contexts: session, campaign, automation.
---@param path string object instance path ("Device.WiFi.SSID.3.")
function CorralDevice:delete(path) end

--- The object's instance numbers. With count it is declarative: a session lists them (GetParameterNames), adds or deletes until the count holds and returns the final list; a campaign or automation queues the adds and deletes from the stored values.
--- Contexts: session, campaign, automation.
---@param path string multi-instance object path ("Device.WiFi.SSID.")
---@param spec? table {count = n}: add or delete instances (the highest numbers first) until there are n (0 to 64)
---@return any # list of instance numbers
function CorralDevice:instances(path, spec) end

--- Whether this session's Inform carries the event.
--- Contexts: session.
---@param name string bootstrap, boot, periodic, value_change, connection_request, transfer_complete, diagnostics_complete, reboot, download, or an event code ("1 BOOT")
---@return any # boolean
function CorralDevice:event(name) end

--- A KPI sampled on each Inform.
--- Contexts: session, campaign, report, automation.
---@param name string KPI name (an alias listed in the profile's kpis)
---@param window? integer seconds: mean over this window; default: latest sample
---@return any # number or nil
function CorralDevice:kpi(name, window) end

--- Streams the devices matching the filter, pushed down to SQL, page by page (never all in memory). `where` takes conditions on aliases or paths: {{"lte.rssi", "<", -100}} or "lte.rssi < -100 and wifi.channel = 6". `ids` is a list of device IDs (at most 10,000). A run started through the API or the WebGUI sees only the devices of its caller's organisation subtree.
--- Contexts: campaign, report, automation.
---@param filter? table profile, status, manufacturer, model, software_version, group, location, text, informed_before, ids, where, order, desc, limit
---@return any # iterator of device objects
function devices(filter) end

--- Number of devices matching the filter (one SQL count).
--- Contexts: campaign, report, automation.
---@param filter? table as for devices{}
---@return any # integer
function count(filter) end

--- Groups matching devices by a field (SQL GROUP BY).
--- Contexts: campaign, report, automation.
---@param field string software_version, model, profile, manufacturer, product_class, hardware_version, location, status
---@param filter? table as for devices{}
---@return any # list of {value, count}, largest first
function count_by(field, filter) end

--- The fleet's TR-143 results grouped by a device field ("which cells are slow tonight").
--- Contexts: report.
---@param field string model, software_version, organisation, location or profile
---@param options? table {test = "download"|…, hours = 24}
---@return any # list of {value, results, devices, failed, median_mbps, avg_mbps, min_mbps, avg_rtt_ms, avg_jitter_ms, loss}, most results first
function diagnostics_by(field, options) end

--- Declares the report's columns; with `rows`, emits one row per device.
--- Contexts: report.
---@param definition table {title, columns = {...}, rows = devices{...}}; columns are device fields, aliases, paths or kpi:<name>
function report(definition) end

--- Adds one row to the report.
--- Contexts: report.
---@param row table column name -> value; or a device object (its columns are looked up)
function emit(row) end

--- Runs the handler for every persisted event of this kind (at least once per event; its tasks are queued exactly once).
--- Contexts: automation.
---@param event string device.onboarded, device.bootstrap, device.boot, device.offline, device.online, task.done, task.fault, firmware.done, firmware.fault, alert.raised, alert.cleared, kpi, custom.<name>
---@param filter any optional {profile=, product_class=, manufacturer=, model=, software_version=, oui=} the device must match, {alert=, severity=, action=, name=} the event's data must; or the handler
---@param handler? function function(dev, event): dev as in campaigns (its actions become tasks), event = {id, kind, at, data}
function on(event, filter, handler) end

--- Runs the handler on a schedule; a run missed while Corral was down happens once at start.
--- Contexts: automation.
---@param interval string "30s", "15m", "6h", "1d" (at least 10 s), or a cron expression in UTC ("0 3 * * *", "*/15 * * * 1-5", "@daily")
---@param handler function function(): runs once per interval (queries, then dev actions on what they return)
function every(interval, handler) end

--- Declares an alert rule: a device where `when` holds (or silent for `offline`) for `for` gets the alert, cleared when it stops holding. Evaluated in SQL over all devices every pass; raising and clearing write alert.raised and alert.cleared events.
--- Contexts: automation.
---@param rule table {name, when = "lte.rssi < -105" | offline = "2h", ["for"] = "30m", severity = "critical"|"major"|"minor"|"warning", message, filter = {as for devices{}}}
function alert(rule) end

--- Raises an alert on the device (once: raising an open alert again changes nothing); it stays until dev:clear_alert.
--- Contexts: automation.
---@param name string alert name (not one an alert{} rule owns)
---@param options? table {severity = "major", message}
function CorralDevice:alert(name, options) end

--- Clears an alert a handler raised on the device.
--- Contexts: automation.
---@param name string alert name
function CorralDevice:clear_alert(name) end

--- Adds a tag to the device.
--- Contexts: automation.
---@param tag string 1 to 64 bytes, no commas
function CorralDevice:tag(tag) end

--- Removes a tag from the device.
--- Contexts: automation.
---@param tag string a tag
function CorralDevice:untag(tag) end

--- Puts the device in a group (campaigns and reports target groups).
--- Contexts: automation.
---@param group string 1 to 64 bytes, no commas
function CorralDevice:add_group(group) end

--- Takes the device out of a group.
--- Contexts: automation.
---@param group string a group
function CorralDevice:remove_group(group) end

--- Sets the device's location.
--- Contexts: automation.
---@param location string at most 256 bytes
function CorralDevice:set_location(location) end

--- Records a custom event for other handlers (`on("custom.<name>", ...)`), written with this handler's run. At most 10 per run; events emitted because of emitted events stop 3 levels deep.
--- Contexts: automation.
---@param kind string custom.<name>
---@param device? any the device object it concerns, or nil
---@param data? table string, number and boolean fields (at most 32)
function emit_event(kind, device, data) end

--- Starts a campaign from a file, once this handler's run is stored (once per event: a re-run after a restart does not start it again).
--- Contexts: automation.
---@param file string a file of the campaigns directory ("firmware-2.1.lua")
---@param options? table {name}
function start_campaign(file, options) end

--- Declares a test case that `corral script test <file>` runs against fixture devices; ignored when the script runs for real.
--- Contexts: campaign, report, automation.
---@param name string what the case checks
---@param spec table {devices = {{serial, profile, params = {...}, ...}}, event = {kind, device, data}, schedule, after, args, expect = {tasks, tags, groups, location, alerts, events, rows, contains, error}}: see docs/automations.md
function test(name, spec) end

--- Declares a bulk campaign. A campaign file calls it once.
--- Contexts: campaign.
---@param definition table {name, target = {filter}, apply = function(dev), rate = {per_minute, concurrent}, waves = {n, ...}, stop_if = {failure_rate, min_devices}, connection_request}
function campaign(definition) end
