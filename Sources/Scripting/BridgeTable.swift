import ACSCore
import CLua
import Foundation
import LuaSandbox

/// Every Lua function Corral provides, declared once. Order matters only for the generated docs.
extension Bridge {
    static let functions: [BridgeFunction] = [
        // MARK: profile files
        BridgeFunction("profile", [.profileLoad], args: [BridgeArg("definition", .table, "name, match, onboarding, aliases, desired, kpis, hooks: see docs/profiles.md")],
                       returns: "the definition", "Declares a device profile. A profile file calls it once.") { c in
            guard let sink = c.run.sink else { return .raise("profile{} is not expected here") }
            // Read with functions anchored: hooks stay callable for the life of the state.
            if let e = sink.profile(LuaStack.read(c.L, c.base).table ?? LuaTable()) { return .raise(e) }
            lua_pushvalue(c.L, c.base)
            return .values(1)
        },
        BridgeFunction("secret", [.profileLoad], args: [BridgeArg("name", .string, "secret name, looked up in corral.json `secrets` or CORRAL_SECRET_<NAME>")],
                       returns: "a secret reference", "Refers to a secret by name; the value never appears in the file.") { c in
            var t = LuaTable()
            t.fields["__secret"] = .string(c.string(0) ?? "")
            t.keys = ["__secret"]
            c.push(.table(t))
            return .values(1)
        },

        // MARK: everywhere
        BridgeFunction("log", all, args: [BridgeArg("...", .any, optional: true, "values, joined with spaces")],
                       "Writes a line to Corral's log (session scripts: tagged with the device).") { c in
            c.run.log(joinedArguments(c))
            return .values(0)
        },
        BridgeFunction("print", all, args: [BridgeArg("...", .any, optional: true, "values, joined with spaces")],
                       "Same as log (reports: to stderr, so it never mixes with the rows).") { c in
            c.run.log(joinedArguments(c))
            return .values(0)
        },
        BridgeFunction("os.time", all, args: [BridgeArg("date", .table, optional: true, "{year, month, day, hour, min, sec} in UTC")],
                       returns: "integer (Unix seconds)",
                       "The run's clock: the Inform time in a session, the start of the run elsewhere. Deterministic.") { c in
            guard let t = c.table(0) else { lua_pushinteger(c.L, c.run.now); return .values(1) }
            guard let y = t["year"].int, let mo = t["month"].int, let d = t["day"].int else { return .raise("os.time: year, month and day are required") }
            var comps = DateComponents()
            comps.year = Int(y); comps.month = Int(mo); comps.day = Int(d)
            comps.hour = Int(t["hour"].int ?? 12); comps.minute = Int(t["min"].int ?? 0); comps.second = Int(t["sec"].int ?? 0)
            var cal = Calendar(identifier: .gregorian)
            cal.timeZone = TimeZone(identifier: "UTC")!
            guard let date = cal.date(from: comps) else { return .raise("os.time: invalid date") }
            lua_pushinteger(c.L, lua_Integer(date.timeIntervalSince1970))
            return .values(1)
        },
        BridgeFunction("os.date", all, args: [BridgeArg("format", .string, optional: true, "strftime format (UTC); \"*t\" for a table"),
                                              BridgeArg("time", .integer, optional: true, "Unix seconds; default: os.time()")],
                       returns: "string or table", "Formats a time in UTC.") { c in
            let t = c.arg(1).int ?? c.run.now
            let format = c.string(0) ?? "%Y-%m-%d %H:%M:%S"
            switch DateFormat.format(format, t) {
            case .success(let v): c.push(v); return .values(1)
            case .failure(let e): return .raise(e.description)
            }
        },
        BridgeFunction("math.random", all, args: [BridgeArg("m", .integer, optional: true, "upper bound, or lower bound with n"),
                                                  BridgeArg("n", .integer, optional: true, "upper bound")],
                       returns: "number", "Like Lua's math.random, seeded per run (per device and Inform in sessions): a replayed session draws the same numbers.") { c in
            let u = c.run.random.unit()
            if c.isNil(0) { lua_pushnumber(c.L, u); return .values(1) }
            let lo = c.isNil(1) ? 1 : c.arg(0).int!
            let hi = c.isNil(1) ? c.arg(0).int! : c.arg(1).int!
            guard lo <= hi else { return .raise("math.random: interval is empty") }
            let span = UInt64(bitPattern: hi &- lo) &+ 1
            let r = span == 0 ? c.run.random.next() : c.run.random.next() % span
            lua_pushinteger(c.L, lo &+ Int64(bitPattern: r))
            return .values(1)
        },

        // MARK: devices
        BridgeFunction("dev:get", devContexts, args: [BridgeArg("name", .string, "alias (\"wifi.ssid\") or parameter path"),
                                                      BridgeArg("max_age", .integer, optional: true, "seconds; older values are read again from the CPE (session only)")],
                       returns: "string, number, boolean, table or nil",
                       "A parameter value; for an object path ending in \".\" (\"Device.WiFi.SSID.\") a table of every value below it, keyed by the rest of the path (\"1.SSID\"). In a session a missing or stale value suspends the script until the CPE answers (a subtree is read once per session, or taken from the store when max_age allows); elsewhere the stored values. nil if the device has no such parameter.") { c in
            guard let d = c.run.devices else { return .raise("dev:get has no device here") }
            switch d.get(handle: c.handle, name: c.string(0)!, maxAge: c.arg(1).int) {
            case .value(let v): c.push(v); return .values(1)
            case .suspend: return .yield
            case .error(let e): return .raise(e)
            }
        },
        BridgeFunction("dev:set", [.session, .campaign, .automation], args: [BridgeArg("name", .string, "alias or parameter path"),
                                                                BridgeArg("value", .scalar, "desired value"),
                                                                BridgeArg("type", .string, optional: true, "xsd type (string, int, unsignedInt, boolean, dateTime ...); default: the stored type")],
                       "Declares a desired value. In a session it is written with the other scripts' values in one SetParameterValues, only if it differs; in a campaign it is queued as a task.") { c in
            guard let d = c.run.devices else { return .raise("dev:set has no device here") }
            if let e = d.set(handle: c.handle, name: c.string(0)!, value: c.arg(1), type: c.string(2)) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:refresh", [.session, .campaign, .automation], args: [BridgeArg("name", .string, "alias, parameter path or subtree (ending in \".\")")],
                       "Reads a value or subtree again from the CPE (a session waits for it; a campaign queues it).") { c in
            guard let d = c.run.devices else { return .raise("dev:refresh has no device here") }
            if c.run.context == .session, !(c.string(0)!.hasSuffix(".")) {
                switch d.get(handle: c.handle, name: c.string(0)!, maxAge: 0) {
                case .value: return .values(0)
                case .suspend: return .yield
                case .error(let e): return .raise(e)
                }
            }
            if let e = d.perform(handle: c.handle, .refresh(c.string(0)!)) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:reboot", [.session, .campaign, .automation], "Reboots the device (after the session's reads and writes).") { c in
            guard let d = c.run.devices else { return .raise("dev:reboot has no device here") }
            if let e = d.perform(handle: c.handle, .reboot) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:factory_reset", [.campaign], "Factory-resets the device (it onboards again afterwards).") { c in
            guard let d = c.run.devices else { return .raise("dev:factory_reset has no device here") }
            if let e = d.perform(handle: c.handle, .factoryReset) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:download", [.session, .campaign, .automation], args: [BridgeArg("spec", .table, "{url, file_type = \"firmware\"|\"web-content\"|\"config\", file_size, target}")],
                       "Sends a Download (firmware upgrade by default); finished by the CPE's TransferComplete.") { c in
            guard let d = c.run.devices else { return .raise("dev:download has no device here") }
            let t = c.table(0)!
            guard let url = t["url"].string, !url.isEmpty else { return .raise("dev:download needs url") }
            let type: String
            switch t["file_type"].string ?? "firmware" {
            case "firmware": type = "1 Firmware Upgrade Image"
            case "web-content": type = "2 Web Content"
            case "config": type = "3 Vendor Configuration File"
            case let other: type = other
            }
            let action = DeviceAction.download(url: url, fileType: type, fileSize: UInt32(clamping: t["file_size"].int ?? 0),
                                               targetFileName: t["target"].string ?? "")
            if let e = d.perform(handle: c.handle, action) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:backup", [.campaign, .automation], args: [BridgeArg("file_type", .string, optional: true, "\"config\" (default) or \"log\"")],
                       "Has the CPE upload its configuration (or log) to Corral (Upload RPC); kept with the device's backups, newest 50.") { c in
            guard let d = c.run.devices else { return .raise("dev:backup has no device here") }
            guard let type = Backup.fileType(c.string(0) ?? "config") else { return .raise("dev:backup: file_type must be \"config\" or \"log\"") }
            if let e = d.perform(handle: c.handle, .backup(fileType: type)) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:diagnose", [.campaign], args: [BridgeArg("spec", .table, "{test = \"download\"|\"upload\"|\"udpecho\"|\"ping\"|\"traceroute\", size, seconds, connections, host, count}")],
                       "Runs a TR-143 test with the paths of the device's data model, against Corral's own test servers; the result is stored with the device (campaign rate limits pace a fleet test).") { c in
            guard let d = c.run.devices else { return .raise("dev:diagnose has no device here") }
            let t = c.table(0)!
            guard let name = t["test"].string, let test = DiagnosticTest(rawValue: name) else {
                return .raise("dev:diagnose needs test = one of \(DiagnosticTest.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            func int(_ k: String) -> Int? { t[k].int.map { Int(clamping: $0) } }
            let options = DiagnosticOptions(size: int("size"), seconds: int("seconds"), connections: int("connections"), host: t["host"].string, count: int("count"))
            if let p = options.problem(for: test) { return .raise("dev:diagnose: \(p)") }
            if let e = d.perform(handle: c.handle, .diagnose(test, options)) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:add", [.session, .campaign, .automation], args: [BridgeArg("path", .string, "object path ending in \".\" (\"Device.WiFi.SSID.\") or an alias of one")],
                       returns: "integer or nil",
                       "AddObject. In a session the script waits for the CPE and gets the new instance number; elsewhere it is queued (nil).") { c in
            guard let d = c.run.devices else { return .raise("dev:add has no device here") }
            switch d.add(handle: c.handle, path: c.string(0)!) {
            case .value(let v): c.push(v); return .values(1)
            case .suspend: return .yield
            case .error(let e): return .raise(e)
            }
        },
        BridgeFunction("dev:delete", [.session, .campaign, .automation], args: [BridgeArg("path", .string, "object instance path (\"Device.WiFi.SSID.3.\")")],
                       "DeleteObject (after the session's reads and writes; queued elsewhere).") { c in
            guard let d = c.run.devices else { return .raise("dev:delete has no device here") }
            if let e = d.perform(handle: c.handle, .deleteObject(c.string(0)!)) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:instances", [.session, .campaign, .automation], args: [BridgeArg("path", .string, "multi-instance object path (\"Device.WiFi.SSID.\")"),
                                                                      BridgeArg("spec", .table, optional: true, "{count = n}: add or delete instances (the highest numbers first) until there are n (0 to 64)")],
                       returns: "list of instance numbers",
                       "The object's instance numbers. With count it is declarative: a session lists them (GetParameterNames), adds or deletes until the count holds and returns the final list; a campaign or automation queues the adds and deletes from the stored values.") { c in
            guard let d = c.run.devices else { return .raise("dev:instances has no device here") }
            var count: Int?
            if let spec = c.table(1) {
                if let k = spec.fields.keys.sorted().first(where: { $0 != "count" }) { return .raise("dev:instances: unknown field '\(k.prefix(40))' (known: count)") }
                if !spec["count"].isNil {
                    guard let n = spec["count"].int, (0...64).contains(n) else { return .raise("dev:instances: count is an integer from 0 to 64") }
                    count = Int(n)
                }
            }
            switch d.instances(handle: c.handle, path: c.string(0)!, count: count) {
            case .value(let v): c.push(v); return .values(1)
            case .suspend: return .yield
            case .error(let e): return .raise(e)
            }
        },
        BridgeFunction("dev:event", [.session], args: [BridgeArg("name", .string, "bootstrap, boot, periodic, value_change, connection_request, transfer_complete, diagnostics_complete, reboot, download, or an event code (\"1 BOOT\")")],
                       returns: "boolean", "Whether this session's Inform carries the event.") { c in
            guard let d = c.run.devices else { return .raise("dev:event has no device here") }
            lua_pushboolean(c.L, d.hasEvent(handle: c.handle, c.string(0)!) ? 1 : 0)
            return .values(1)
        },
        BridgeFunction("dev:kpi", devContexts, args: [BridgeArg("name", .string, "KPI name (an alias listed in the profile's kpis)"),
                                                      BridgeArg("window", .integer, optional: true, "seconds: mean over this window; default: latest sample")],
                       returns: "number or nil", "A KPI sampled on each Inform.") { c in
            guard let d = c.run.devices else { return .raise("dev:kpi has no device here") }
            let window = c.arg(1).int
            // The bridge fuzzer found math.mininteger here: `now - window` trapped on overflow.
            if let w = window, !(1...315_360_000).contains(w) { return .raise("dev:kpi: window must be 1 to 315360000 seconds (10 years)") }
            switch d.kpi(handle: c.handle, name: c.string(0)!, window: window) {
            case .value(let v): c.push(v); return .values(1)
            case .suspend: return .yield
            case .error(let e): return .raise(e)
            }
        },

        // MARK: population
        BridgeFunction("devices", [.campaign, .report, .automation], args: [BridgeArg("filter", .table, optional: true, "profile, status, manufacturer, model, software_version, group, location, text, informed_before, ids, where, order, desc, limit")],
                       returns: "iterator of device objects",
                       "Streams the devices matching the filter, pushed down to SQL, page by page (never all in memory). `where` takes conditions on aliases or paths: {{\"lte.rssi\", \"<\", -100}} or \"lte.rssi < -100 and wifi.channel = 6\". `ids` is a list of device IDs (at most 10,000). A run started through the API or the WebGUI sees only the devices of its caller's organisation subtree.") { c in
            guard let p = c.run.population else { return .raise("devices{} has no population here") }
            do {
                let cursor = try p.open(c.table(0) ?? LuaTable())
                corral_push_bridge_closure(c.L, Int32(Bridge.index(of: "devices.next")!), lua_Integer(cursor))
                return .values(1)
            } catch { return .raise("devices{}: \(error)") }
        },
        BridgeFunction("devices.next", [.campaign, .report, .automation], hidden: true, "Iterator step of devices{}.") { c in
            guard let p = c.run.population else { return .raise("devices{} has no population here") }
            do {
                guard let (device, handle) = try p.next(cursor: Int(corral_upvalue_integer(c.L, 2))) else { lua_pushnil(c.L); return .values(1) }
                Bridge.pushDevice(c.L, DeviceFields(device: device, now: c.run.now), handle: handle)
                return .values(1)
            } catch { return .raise("devices{}: \(error)") }
        },
        BridgeFunction("count", [.campaign, .report, .automation], args: [BridgeArg("filter", .table, optional: true, "as for devices{}")],
                       returns: "integer", "Number of devices matching the filter (one SQL count).") { c in
            guard let p = c.run.population else { return .raise("count{} has no population here") }
            do { lua_pushinteger(c.L, lua_Integer(try p.count(c.table(0) ?? LuaTable()))); return .values(1) }
            catch { return .raise("count{}: \(error)") }
        },
        BridgeFunction("count_by", [.campaign, .report, .automation], args: [BridgeArg("field", .string, "software_version, model, profile, manufacturer, product_class, hardware_version, location, status"),
                                                               BridgeArg("filter", .table, optional: true, "as for devices{}")],
                       returns: "list of {value, count}, largest first", "Groups matching devices by a field (SQL GROUP BY).") { c in
            guard let p = c.run.population else { return .raise("count_by has no population here") }
            do {
                let groups = try p.countBy(c.string(0)!, c.table(1) ?? LuaTable())
                var list = LuaTable()
                list.array = groups.map { value, n in
                    var row = LuaTable()
                    row.fields = ["value": .string(value), "count": .int(Int64(n))]
                    row.keys = ["value", "count"]
                    return .table(row)
                }
                c.push(.table(list))
                return .values(1)
            } catch { return .raise("count_by: \(error)") }
        },

        BridgeFunction("diagnostics_by", [.report], args: [BridgeArg("field", .string, "model, software_version, organisation, location or profile"),
                                                           BridgeArg("options", .table, optional: true, "{test = \"download\"|…, hours = 24}")],
                       returns: "list of {value, results, devices, failed, median_mbps, avg_mbps, min_mbps, avg_rtt_ms, avg_jitter_ms, loss}, most results first",
                       "The fleet's TR-143 results grouped by a device field (\"which cells are slow tonight\").") { c in
            guard let p = c.run.population else { return .raise("diagnostics_by has no population here") }
            let o = c.table(1) ?? LuaTable()
            let hours = Int(clamping: o["hours"].int ?? 24)
            guard (1...24 * 366).contains(hours) else { return .raise("diagnostics_by: hours must be 1…8784") }
            do {
                let groups = try p.diagnosticsBy(c.string(0)!, test: o["test"].string, hours: hours)
                var list = LuaTable()
                list.array = groups.map { g in
                    var row = LuaTable()
                    func num(_ k: String, _ v: Double?) { if let v { row.fields[k] = .number((v * 1000).rounded() / 1000); row.keys.append(k) } }
                    row.fields = ["value": .string(g.key), "results": .int(Int64(g.results)), "devices": .int(Int64(g.devices)), "failed": .int(Int64(g.failed))]
                    row.keys = ["value", "results", "devices", "failed"]
                    num("median_mbps", g.medianThroughputBps.map { $0 / 1e6 }); num("avg_mbps", g.avgThroughputBps.map { $0 / 1e6 })
                    num("min_mbps", g.minThroughputBps.map { $0 / 1e6 }); num("avg_rtt_ms", g.avgRttUs.map { $0 / 1000 })
                    num("avg_jitter_ms", g.avgJitterUs.map { $0 / 1000 }); num("loss", g.avgLoss)
                    return .table(row)
                }
                c.push(.table(list))
                return .values(1)
            } catch { return .raise("diagnostics_by: \(error)") }
        },

        // MARK: reports and campaigns
        BridgeFunction("report", [.report], args: [BridgeArg("definition", .table, "{title, columns = {...}, rows = devices{...}}; columns are device fields, aliases, paths or kpi:<name>")],
                       "Declares the report's columns; with `rows`, emits one row per device.") { c in
            guard let sink = c.run.sink else { return .raise("report{} is not expected here") }
            // Functions anchored: `rows` is called after the script body.
            if let e = sink.report(LuaStack.read(c.L, c.base).table ?? LuaTable()) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("emit", [.report], args: [BridgeArg("row", .table, "column name -> value; or a device object (its columns are looked up)")],
                       "Adds one row to the report.") { c in
            guard let sink = c.run.sink else { return .raise("emit is not expected here") }
            if let handle = Bridge.handle(c.L, at: c.base) {
                var t = LuaTable()
                t.fields["__device"] = .int(Int64(handle))
                if let e = sink.emit(t) { return .raise(e) }
                return .values(0)
            }
            if let e = sink.emit(c.table(0)!) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("on", [.automation], args: [BridgeArg("event", .string, "device.onboarded, device.bootstrap, device.boot, device.offline, device.online, task.done, task.fault, firmware.done, firmware.fault, alert.raised, alert.cleared, kpi, custom.<name>"),
                                                    BridgeArg("filter", .any, "optional {profile=, product_class=, manufacturer=, model=, software_version=, oui=} the device must match, {alert=, severity=, action=, name=} the event's data must; or the handler"),
                                                    BridgeArg("handler", .function, optional: true, "function(dev, event): dev as in campaigns (its actions become tasks), event = {id, kind, at, data}")],
                       "Runs the handler for every persisted event of this kind (at least once per event; its tasks are queued exactly once).") { c in
            guard let sink = c.run.sink else { return .raise("on() belongs in an automation file") }
            let kind = c.string(0) ?? ""
            let filterIsHandler = lua_type(c.L, c.base + 1) == LUA_TFUNCTION
            let fnIndex = c.base + (filterIsHandler ? 1 : 2)
            guard lua_type(c.L, fnIndex) == LUA_TFUNCTION else { return .raise("on(\"\(kind)\", ...) needs a handler function") }
            let filter: LuaTable? = filterIsHandler ? nil : c.table(1)
            if !filterIsHandler && filter == nil { return .raise("on(\"\(kind)\", filter, handler): the filter must be a table") }
            guard case .function(let ref) = LuaStack.read(c.L, fnIndex) else { return .raise("on(): the handler must be a function") }
            if let e = sink.on(kind, filter: filter, handler: ref) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("every", [.automation], args: [BridgeArg("interval", .string, "\"30s\", \"15m\", \"6h\", \"1d\" (at least 10 s), or a cron expression in UTC (\"0 3 * * *\", \"*/15 * * * 1-5\", \"@daily\")"),
                                                       BridgeArg("handler", .function, "function(): runs once per interval (queries, then dev actions on what they return)")],
                       "Runs the handler on a schedule; a run missed while Corral was down happens once at start.") { c in
            guard let sink = c.run.sink else { return .raise("every() belongs in an automation file") }
            guard case .function(let ref) = LuaStack.read(c.L, c.base + 1) else { return .raise("every(): the handler must be a function") }
            if let e = sink.every(c.string(0) ?? "", handler: ref) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("alert", [.automation], args: [BridgeArg("rule", .table, "{name, when = \"lte.rssi < -105\" | offline = \"2h\", [\"for\"] = \"30m\", severity = \"critical\"|\"major\"|\"minor\"|\"warning\", message, filter = {as for devices{}}}")],
                       "Declares an alert rule: a device where `when` holds (or silent for `offline`) for `for` gets the alert, cleared when it stops holding. Evaluated in SQL over all devices every pass; raising and clearing write alert.raised and alert.cleared events.") { c in
            guard let sink = c.run.sink else { return .raise("alert{} belongs at the top of an automation file") }
            if let e = sink.alert(c.table(0)!) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:alert", [.automation], args: [BridgeArg("name", .string, "alert name (not one an alert{} rule owns)"),
                                                          BridgeArg("options", .table, optional: true, "{severity = \"major\", message}")],
                       "Raises an alert on the device (once: raising an open alert again changes nothing); it stays until dev:clear_alert.") { c in
            guard let a = c.run.automation else { return .raise("dev:alert has no automation here") }
            let o = c.table(1)
            if let e = a.alert(handle: c.handle, name: c.string(0)!, severity: o?["severity"].string, message: o?["message"].string) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:clear_alert", [.automation], args: [BridgeArg("name", .string, "alert name")],
                       "Clears an alert a handler raised on the device.") { c in
            guard let a = c.run.automation else { return .raise("dev:clear_alert has no automation here") }
            if let e = a.clearAlert(handle: c.handle, name: c.string(0)!) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:tag", [.automation], args: [BridgeArg("tag", .string, "1 to 64 bytes, no commas")], "Adds a tag to the device.") { c in
            guard let a = c.run.automation else { return .raise("dev:tag has no automation here") }
            if let e = a.label(handle: c.handle, "tag", c.string(0)!, add: true) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:untag", [.automation], args: [BridgeArg("tag", .string, "a tag")], "Removes a tag from the device.") { c in
            guard let a = c.run.automation else { return .raise("dev:untag has no automation here") }
            if let e = a.label(handle: c.handle, "tag", c.string(0)!, add: false) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:add_group", [.automation], args: [BridgeArg("group", .string, "1 to 64 bytes, no commas")],
                       "Puts the device in a group (campaigns and reports target groups).") { c in
            guard let a = c.run.automation else { return .raise("dev:add_group has no automation here") }
            if let e = a.label(handle: c.handle, "group", c.string(0)!, add: true) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:remove_group", [.automation], args: [BridgeArg("group", .string, "a group")], "Takes the device out of a group.") { c in
            guard let a = c.run.automation else { return .raise("dev:remove_group has no automation here") }
            if let e = a.label(handle: c.handle, "group", c.string(0)!, add: false) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("dev:set_location", [.automation], args: [BridgeArg("location", .string, "at most 256 bytes")], "Sets the device's location.") { c in
            guard let a = c.run.automation else { return .raise("dev:set_location has no automation here") }
            if let e = a.label(handle: c.handle, "location", c.string(0)!, add: true) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("emit_event", [.automation], args: [BridgeArg("kind", .string, "custom.<name>"),
                                                            BridgeArg("device", .any, optional: true, "the device object it concerns, or nil"),
                                                            BridgeArg("data", .table, optional: true, "string, number and boolean fields (at most 32)")],
                       "Records a custom event for other handlers (`on(\"custom.<name>\", ...)`), written with this handler's run. At most 10 per run; events emitted because of emitted events stop 3 levels deep.") { c in
            guard let a = c.run.automation else { return .raise("emit_event has no automation here") }
            var handle: Int?
            if !c.isNil(1) {
                guard let h = Bridge.handle(c.L, at: c.base + 1) else { return .raise("emit_event: the second argument is a device object or nil") }
                handle = h
            }
            if !c.isNil(2), c.table(2) == nil { return .raise("emit_event: data must be a table") }
            if let e = a.emit(kind: c.string(0)!, handle: handle, data: c.table(2)) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("start_campaign", [.automation], args: [BridgeArg("file", .string, "a file of the campaigns directory (\"firmware-2.1.lua\")"),
                                                                BridgeArg("options", .table, optional: true, "{name}")],
                       "Starts a campaign from a file, once this handler's run is stored (once per event: a re-run after a restart does not start it again).") { c in
            guard let a = c.run.automation else { return .raise("start_campaign has no automation here") }
            if let e = a.startCampaign(file: c.string(0)!, name: c.table(1)?["name"].string) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("test", [.automation, .campaign, .report], args: [BridgeArg("name", .string, "what the case checks"),
                                                                   BridgeArg("spec", .table, "{devices = {{serial, profile, params = {...}, ...}}, event = {kind, device, data}, schedule, after, args, expect = {tasks, tags, groups, location, alerts, events, rows, contains, error}}: see docs/automations.md")],
                       "Declares a test case that `corral script test <file>` runs against fixture devices; ignored when the script runs for real.") { c in
            if let sink = c.run.sink, let e = sink.test(c.string(0)!, c.table(1)!) { return .raise(e) }
            return .values(0)
        },
        BridgeFunction("campaign", [.campaign], args: [BridgeArg("definition", .table, "{name, target = {filter}, apply = function(dev), rate = {per_minute, concurrent}, waves = {n, ...}, stop_if = {failure_rate, min_devices}, connection_request}")],
                       "Declares a bulk campaign. A campaign file calls it once.") { c in
            guard let sink = c.run.sink else { return .raise("campaign{} is not expected here") }
            // Read again with functions anchored: `apply` must stay callable.
            let def = LuaStack.read(c.L, c.base).table ?? LuaTable()
            if let e = sink.campaign(def) { return .raise(e) }
            return .values(0)
        },
    ]

    static func joinedArguments(_ c: BridgeCall) -> String {
        let n = lua_gettop(c.L)
        guard n >= c.base else { return "" }
        return (c.base...n).map { i -> String in
            let v = LuaStack.read(c.L, i, anchorFunctions: false)
            switch v {
            case .null: return "nil"
            case .bool(let b): return b ? "true" : "false"
            case .table: return "table"
            default: return v.string ?? v.typeName
            }
        }.joined(separator: " ")
    }
}

/// os.date in UTC, with the conversions Lua accepts (checked here: strftime's behaviour on others varies).
enum DateFormat {
    static let allowed = Set("aAbBcdHIjmMpSUwWxXyYZ%eDFhnrRtTuVGgz")

    static func format(_ fmt: String, _ t: Int64) -> Result<LuaValue, ScriptError> {
        var f = Substring(fmt)
        if f.first == "!" { f = f.dropFirst() }   // always UTC anyway
        var time = time_t(t)
        var tmv = tm()
        gmtime_r(&time, &tmv)
        if f == "*t" {
            var table = LuaTable()
            let pairs: [(String, LuaValue)] = [("year", .int(Int64(tmv.tm_year) + 1900)), ("month", .int(Int64(tmv.tm_mon) + 1)),
                                               ("day", .int(Int64(tmv.tm_mday))), ("hour", .int(Int64(tmv.tm_hour))),
                                               ("min", .int(Int64(tmv.tm_min))), ("sec", .int(Int64(tmv.tm_sec))),
                                               ("wday", .int(Int64(tmv.tm_wday) + 1)), ("yday", .int(Int64(tmv.tm_yday) + 1)),
                                               ("isdst", .bool(false))]
            for (k, v) in pairs { table.fields[k] = v; table.keys.append(k) }
            return .success(.table(table))
        }
        var chars = Array(f)
        var i = 0
        while i < chars.count {
            if chars[i] == "%" {
                guard i + 1 < chars.count, allowed.contains(chars[i + 1]) else {
                    return .failure(ScriptError(.runtime, "os.date: invalid conversion in format '\(fmt)'"))
                }
                i += 2
            } else { i += 1 }
        }
        guard chars.count < 256 else { return .failure(ScriptError(.runtime, "os.date: format too long")) }
        chars = []
        var buf = [CChar](repeating: 0, count: 1024)
        let n = String(f).withCString { strftime(&buf, buf.count, $0, &tmv) }
        return .success(.string(String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)))
    }
}
