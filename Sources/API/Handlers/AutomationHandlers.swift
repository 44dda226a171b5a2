import ACSCore
import Foundation
import NetHTTP
import Storage

/// The automation files `serve` runs, and the events they react to.
enum AutomationHandlers {
    struct Automation: Encodable { var file: String; var handlers: [String]; var problems: [String] }
    struct List: Encodable { var automations: [Automation] }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        let all = ctx.api.config.automations?.statuses ?? []
        return JSON.response(List(automations: all.map { Automation(file: $0.file, handlers: $0.handlers, problems: $0.problems) }))
    }

    struct Event: Encodable { var id: Int64; var kind: String; var at: String; var data: String; var handled: Bool }
    struct Events: Encodable { var events: [Event] }

    static func deviceEvents(_ ctx: RequestContext) async throws -> HTTPResponse {
        let d = try ctx.device(try ctx.pathID())
        let limit = try ctx.query.int("limit", default: 100, range: 1...1000)
        let events = try ctx.store.events(deviceID: d.id, limit: limit).map {
            Event(id: $0.id, kind: $0.kind, at: Time.iso($0.at) ?? "", data: $0.data, handled: $0.handledAt > 0)
        }
        return JSON.response(Events(events: events))
    }
}
