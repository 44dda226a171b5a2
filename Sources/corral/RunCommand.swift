import ArgumentParser
import Engine
import Foundation
import Scripting
import Storage

/// `corral run <report.lua>`: a Lua report over the device population, as CSV, JSON or a table on stdout.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Lua report over the devices in the store.",
        discussion: """
            The script calls report{ columns = {...}, rows = devices{...} } and/or emit{...}; see docs/lua-api.md and \
            scripts/reports/. Rows go to stdout; log/print go to stderr. A failing script (error, sandbox violation, \
            instruction or memory limit) exits with status 1 and its message.
            """)

    @OptionGroup var store: StoreOptions
    @Argument(help: "The report script.") var script: String
    @Option(help: "csv, json or table.") var format: ReportFormat = .table
    @Option(name: .customLong("arg"), help: "name=value, visible to the script as args.name (repeatable).") var args: [String] = []

    func run() throws {
        let config = try ConfigLoading.load(store)
        let source: String
        do { source = try String(contentsOfFile: script, encoding: .utf8) }
        catch { throw ValidationError("cannot read \(script): \(error.localizedDescription)") }
        var values: [String: String] = [:]
        for a in args {
            guard let eq = a.firstIndex(of: "=") else { throw ValidationError("--arg wants name=value, got \(a)") }
            values[String(a[..<eq])] = String(a[a.index(after: eq)...])
        }
        let (library, _) = config.profileLibrary()
        let s = try StoreOpener.open(config)
        defer { s.close() }
        let out = FileHandle.standardOutput
        do {
            _ = try ReportRunner.run(source: source, name: (script as NSString).lastPathComponent, store: s, registry: library.registry,
                                     args: values, now: Int64(Date().timeIntervalSince1970),
                                     output: ReportWriter(format: format) { out.write(Data($0.utf8)) },
                                     log: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        } catch {
            FileHandle.standardError.write(Data("corral run: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

extension ReportFormat: ExpressibleByArgument {}

/// `corral lua-docs`: prints docs/lua-api.md, generated from the bridge declaration table.
struct LuaDocs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lua-docs",
        abstract: "Print the Lua API reference (docs/lua-api.md), or with --stubs LuaLS type stubs (docs/corral.d.lua), generated from the bridge table.")
    @Flag(help: "LuaLS type stubs (---@meta) instead of the Markdown reference: put the file in your editor's Lua workspace library.")
    var stubs = false
    @Option(help: "Write to this file instead of standard output.") var output: String?

    func run() throws {
        let text = stubs ? BridgeStubs.luaLS() : BridgeDocs.markdown()
        if let output { try text.write(toFile: output, atomically: true, encoding: .utf8) } else { print(text, terminator: "") }
    }
}
