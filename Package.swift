// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Corral",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "corral", targets: ["corral"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // System libraries (Debian -dev packages). The shims wrap macros and globals Swift cannot import.
        .systemLibrary(name: "CLua", path: "Sources/CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CLibXML2", path: "Sources/CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // Pure libraries: no network, no database.
        .target(name: "CWMP", dependencies: ["CLibXML2"]),
        .target(name: "DataModel", dependencies: ["CLibXML2", "CWMP"]),
        // Digest, Basic, nonces, password hashes; the primitives come from swift-crypto.
        .target(name: "HTTPAuth", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "CryptoExtras", package: "swift-crypto"),
        ]),
        .target(name: "ACSCore", dependencies: ["CWMP", "DataModel", "HTTPAuth"]),
        // STUN (RFC 3489/5389 + TR-111) and Annex G UDP connection requests: codec and responder, no sockets.
        .target(name: "STUN", dependencies: ["HTTPAuth"]),
        // XMPP client for TR-069 Annex K connection requests: stream parser, SASL, session machine (pure) and its NIO driver.
        .target(name: "XMPP", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "CryptoExtras", package: "swift-crypto"),
        ]),

        // TR-143 test servers (HTTP download/upload, UDP Echo Plus) and the pure result computation.
        .target(name: "SpeedTest", dependencies: ["CWMP", "ACSCore",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),

        // I/O.
        .target(name: "NetHTTP", dependencies: [
            "HTTPAuth",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
        ]),
        .target(name: "Storage", dependencies: ["CSQLite", "ACSCore", "HTTPAuth"]),
        // The same store on a shared PostgreSQL database (several nodes): a postgres-nio connection behind Storage's
        // SQL connection, the SQL dialect and schema for PostgreSQL, leases and leader election.
        .target(name: "PostgresStore", dependencies: ["Storage", .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log")]),
        // The Lua sandbox in C: limits (instructions, memory, wall clock), bridge trampoline, sandboxed libraries.
        .target(name: "LuaSandbox", dependencies: ["CLua"]),
        .target(name: "Scripting", dependencies: ["CLua", "LuaSandbox", "ACSCore", "CWMP", "DataModel", "Storage"]),
        .target(name: "Engine", dependencies: ["ACSCore", "Storage", "PostgresStore", "SpeedTest", "Scripting", "NetHTTP", "STUN", "XMPP", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), "CWMP", "DataModel", "HTTPAuth",
            .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .target(name: "Simulator", dependencies: ["CWMP", "DataModel", "NetHTTP", "HTTPAuth", "STUN", "XMPP", "SpeedTest",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]),
        // The WebGUI's markup, charts, stylesheet and script (pure); its pages live in API/Pages.
        .target(name: "GUI"),
        .target(name: "API", dependencies: ["ACSCore", "Storage", "NetHTTP", "HTTPAuth", "Engine", "CWMP", "DataModel", "GUI", "Scripting", "SpeedTest"],
                resources: [.embedInCode("openapi.json")]),
        .executableTarget(name: "corral", dependencies: [
            "API", "Engine", "PostgresStore", "Simulator", "Storage", "ACSCore", "NetHTTP", "HTTPAuth", "Scripting", "SpeedTest", "DataModel",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        .testTarget(name: "CWMPTests", dependencies: ["CWMP", "CLibXML2"], path: "Tests/CWMPTests"),
        .testTarget(name: "DataModelTests", dependencies: ["DataModel"], path: "Tests/DataModelTests"),
        .testTarget(name: "HTTPAuthTests", dependencies: ["HTTPAuth"], path: "Tests/HTTPAuthTests"),
        .testTarget(name: "NetHTTPTests", dependencies: ["NetHTTP"], path: "Tests/NetHTTPTests"),
        .testTarget(name: "STUNTests", dependencies: ["STUN"], path: "Tests/STUNTests"),
        .testTarget(name: "SpeedTestTests", dependencies: ["SpeedTest", "ACSCore", "CWMP"], path: "Tests/SpeedTestTests"),
        .testTarget(name: "XMPPTests", dependencies: ["XMPP"], path: "Tests/XMPPTests"),
        .testTarget(name: "ACSCoreTests", dependencies: ["ACSCore"], path: "Tests/ACSCoreTests"),
        // Shared by the test targets: a real PostgreSQL server (initdb/pg_ctl on a free loopback port).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "PostgresStore", "TestSupport"], path: "Tests/StorageTests"),
        .testTarget(name: "ScriptingTests", dependencies: ["Scripting", "ACSCore", "Storage"], path: "Tests/ScriptingTests"),
        .testTarget(name: "IntegrationTests", dependencies: ["TestSupport", "PostgresStore", "Engine", "Simulator", "Storage", "NetHTTP", "Scripting", "STUN", "XMPP", "SpeedTest"], path: "Tests/IntegrationTests"),
        .testTarget(name: "GUITests", dependencies: ["GUI"], path: "Tests/GUITests"),
        .testTarget(name: "APITests", dependencies: ["TestSupport", "API", "GUI", "Engine", "Simulator", "Storage", "NetHTTP", "HTTPAuth", "ACSCore"], path: "Tests/APITests"),
    ]
)
