import Foundation
import Testing
@testable import ACSCore

/// The DHCP configuration `corral dhcp-option43` prints, checked by the real servers' own syntax checks (Debian's
/// dnsmasq, ISC dhcpd and Kea; scripts/install-deps installs them).
@Suite struct DHCPServerCheckTests {
    static let settings = DHCPOption43.Settings(acsURL: "https://acs.example.net:7547/cwmp", provisioningCode: "ACME.R1",
                                                retryMinimumWaitInterval: 5, retryIntervalMultiplier: 2000)

    /// Runs `tool args…` on the rendered file; its exit status and output.
    static func check(_ format: DHCPOption43.Format, tool: String, args: (String) -> [String], suffix: String = "") throws -> (Int32, String) {
        let dir = NSTemporaryDirectory() + "corral-dhcp-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/dhcp.conf"
        try (DHCPOption43.render(settings, format: format) + suffix).write(toFile: file, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args(file)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    static func present(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }

    @Test(.enabled(if: present("/usr/sbin/dnsmasq"), "needs dnsmasq (dnsmasq-base)"))
    func dnsmasqAcceptsIt() throws {
        let (status, text) = try Self.check(.dnsmasq, tool: "/usr/sbin/dnsmasq", args: { ["--test", "--conf-file=\($0)"] })
        #expect(status == 0 && text.contains("syntax check OK"), "\(text)")
    }

    @Test(.enabled(if: present("/usr/sbin/dhcpd"), "needs ISC dhcpd (isc-dhcp-server)"))
    func iscDhcpdAcceptsIt() throws {
        // A subnet declaration makes it a whole configuration dhcpd can check.
        let (status, text) = try Self.check(.isc, tool: "/usr/sbin/dhcpd", args: { ["-t", "-cf", $0] },
                                            suffix: "\nsubnet 10.9.0.0 netmask 255.255.255.0 { }\n")
        #expect(status == 0, "\(text)")
    }

    @Test(.enabled(if: present("/usr/sbin/kea-dhcp4"), "needs Kea (kea-dhcp4-server)"))
    func keaAcceptsIt() throws {
        let (status, text) = try Self.check(.kea, tool: "/usr/sbin/kea-dhcp4", args: { ["-t", $0] })
        #expect(status == 0, "\(text)")
    }

    @Test(.enabled(if: present("/usr/sbin/dnsmasq"), "needs dnsmasq (dnsmasq-base)"))
    func theChecksCanFail() throws {
        // A broken line is refused: the checks above are real.
        let (status, _) = try Self.check(.dnsmasq, tool: "/usr/sbin/dnsmasq", args: { ["--test", "--conf-file=\($0)"] },
                                         suffix: "\ndhcp-option-force=vendor:dslforum.org,not-a-number,x\n")
        #expect(status != 0)
    }
}
