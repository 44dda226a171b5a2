import ACSCore
import Foundation
import GUI
import Storage

/// The device page's "Launch checklist" card: run `validate` (operators; a factory reset in it for admins) and the
/// newest saved reports, each opening to its lines.
extension DevicePage {
    /// Reports listed on the device page (newest first); the API has them all.
    static let validationLimit = 5

    static func validateForm(_ ctx: RequestContext, _ d: Device) -> Markup {
        guard ctx.can("validation.run") else { return .empty }
        let reset: Markup = ctx.can("task.factory_reset")
            ? "<label for=\"val-reset\"><input type=\"checkbox\" id=\"val-reset\" name=\"include_factory_reset\"> with a factory reset</label>" : .empty
        return PageKit.apiForm("/api/v1/devices/\(d.id)/validate", body: "{}",
                               confirm: "Run the launch checklist on \(d.name)? It changes a setting and restores it, and reboots the device.",
                               done: "Checklist finished: the report is below.", cls: "row", label: "Validate \(d.name)", id: "validate-now", """
            \(reset)<button type="submit" id="act-validate">Validate</button>
            """)
    }

    static func validations(_ ctx: RequestContext, _ d: Device) throws -> Markup {
        let list = try ctx.store.validations(deviceID: d.id, limit: validationLimit)
        guard !list.isEmpty else { return "<p class=\"muted\">Not validated yet.</p>" }
        let items: [Markup] = list.map { v in
            let verdict: Markup = v.passed ? "<strong>PASS</strong>" : "<strong class=\"error\">FAIL</strong>"
            return """
                <details data-validation="\(v.id)"><summary>\(verdict) #\(v.id) \(Time.iso(v.startedAt) ?? ""): \(v.passedCount) passed, \
                \(v.failedCount) failed (by \(v.createdBy))</summary><pre>\(v.lines.joined(separator: "\n"))</pre></details>
                """
        }
        return "<div id=\"device-validations\">\(items)</div>"
    }
}
