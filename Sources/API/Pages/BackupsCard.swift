import ACSCore
import Foundation
import GUI
import Storage

/// The device page's "Backups" card: back up now, the stored configurations and logs, what changed, restore.
extension DevicePage {
    static func backupsForm(_ ctx: RequestContext, _ d: Device) -> Markup {
        guard ctx.can("backup.create") else { return .empty }
        return PageKit.apiForm("/api/v1/devices/\(d.id)/backup", body: #"{"connection_request":true}"#, cls: "row", label: "Back up now", id: "backup-now", """
            <label for="bk-type">File<select id="bk-type" name="file_type"><option value="config">Configuration</option><option value="log">Log</option></select></label>
            <button type="submit" id="act-backup">Back up now</button>
            """)
    }

    static func backups(_ ctx: RequestContext, _ d: Device) throws -> Markup {
        let list = try ctx.store.backups(deviceID: d.id, limit: 20)
        guard !list.isEmpty else { return "<p class=\"muted\">No backups yet.</p>" }
        let read = ctx.can("backup.content"), restore = ctx.can("backup.restore")
        let rows: [Markup] = list.enumerated().map { i, b in
            let older = list[(i + 1)...].first { $0.isConfiguration == b.isConfiguration }
            let content: Markup = read ? "<a href=\"/api/v1/backups/\(b.id)/content\">view</a>" : .empty
            let diff: Markup = read && older != nil ? " · <a href=\"/api/v1/backups/\(b.id)/diff\">changes</a>" : .empty
            let back: Markup = restore && b.isConfiguration
                ? PageKit.apiForm("/api/v1/backups/\(b.id)/restore", body: #"{"connection_request":true}"#, confirm: "Restore this configuration on \(d.name)?",
                                  cls: "inline", "<button type=\"submit\" class=\"link\">Restore</button>") : .empty
            return "<tr><td>\(b.id)</td><td>\(Time.iso(b.createdAt) ?? "")</td><td>\(b.isConfiguration ? "configuration" : b.fileType)</td><td class=\"num\">\(b.size)</td><td>\(content)\(diff)</td><td>\(back)</td></tr>"
        }
        return """
            <div class="tablewrap"><table id="device-backups"><thead><tr><th>#</th><th>Taken</th><th>File</th><th>Bytes</th><th></th><th></th></tr></thead>\
            <tbody>\(rows)</tbody></table></div>
            """
    }
}
