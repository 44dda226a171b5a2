import Foundation
import Testing
@testable import API

/// The served OpenAPI document and the router describe the same API.
@Suite struct OpenAPITests {
    func document() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes)) as? [String: Any])
    }

    @Test func documentAndRouterListTheSameRoutes() throws {
        let doc = try document()
        #expect(doc["openapi"] as? String == "3.1.0")
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        var documented = Set<String>()
        for (path, ops) in paths {
            for method in ops.keys where ["get", "post", "put", "patch", "delete"].contains(method) { documented.insert("\(method.uppercased()) \(path)") }
        }
        let routed = Set(Routes.all.map { "\($0.method) \($0.pattern)" })
        #expect(routed.subtracting(documented).sorted() == [], "routes missing from openapi.json")
        #expect(documented.subtracting(routed).sorted() == [], "documented operations without a route")
        #expect(routed.count == Routes.all.count, "duplicate routes")
    }

    @Test func documentedPermissionsMatchTheRouteTable() throws {
        let paths = try #require(try document()["paths"] as? [String: [String: [String: Any]]])
        for route in Routes.all {
            let op = try #require(paths[route.pattern]?[route.method.lowercased()])
            #expect(op["x-permission"] as? String == route.permission.description, "\(route.method) \(route.pattern)")
            // Public operations say so; every other one inherits the bearer/session security requirement.
            #expect((op["security"] as? [Any])?.isEmpty == (route.permission == .anyone ? true : nil))
        }
    }

    @Test func routerMatchesParametersAndMethods() {
        let router = Router(routes: Routes.all)
        guard case .found(let r, let params) = router.match(method: "GET", path: "/devices/42/parameters") else {
            Issue.record("no match"); return
        }
        #expect(r.action == "device.parameters")
        #expect(params == ["id": "42"])
        guard case .found(let e, _) = router.match(method: "GET", path: "/devices/export") else { Issue.record("no match"); return }
        #expect(e.action == "device.export")   // the literal route wins over /devices/{id}: it is listed first
        guard case .wrongMethod(let allowed) = router.match(method: "PUT", path: "/devices/1") else { Issue.record("expected 405"); return }
        #expect(Set(allowed) == ["GET", "PATCH", "DELETE"])
        guard case .none = router.match(method: "GET", path: "/nothing/here") else { Issue.record("expected no match"); return }
        guard case .found(_, let p) = router.match(method: "DELETE", path: "/preprovisioning/SN%2F1") else { Issue.record("no match"); return }
        #expect(p["serial"] == "SN/1")
    }
}
