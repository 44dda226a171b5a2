import ACSCore
import ArgumentParser

extension DHCPOption43.Format: ExpressibleByArgument {}

/// `corral dhcp-option43`: prints the DHCP server configuration that gives CPEs the ACS URL (TR-069 §3.1), so
/// factory-fresh CPEs find Corral without being configured one by one. Prints text only; opens no data directory.
struct DHCPOption43Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dhcp-option43",
        abstract: "Print DHCP server configuration (ISC dhcpd, Kea or dnsmasq) that gives CPEs the ACS URL in option 43.",
        discussion: """
            A CPE that puts "dslforum.org" in DHCP option 60 reads the ACS URL, and optionally its provisioning code \
            and CWMP retry settings, from the sub-options of option 43 (TR-069 §3.1). Paste the output into the \
            DHCP server's configuration. Each output also carries the raw option 43 bytes and the DHCPv6 option 17 \
            bytes (enterprise 3561) in comments.
            """)

    @Option(name: .customLong("acs-url"), help: "The URL CPEs use to reach Corral's CWMP port, e.g. https://acs.example.net:7547/.")
    var acsURL: String
    @Option(help: "isc (ISC dhcpd 4.x), kea (Kea DHCPv4 JSON) or dnsmasq.")
    var format: DHCPOption43.Format = .isc
    @Option(name: .customLong("provisioning-code"), help: "Sub-option 2: DeviceInfo.ProvisioningCode (at most 64 printable ASCII characters).")
    var provisioningCode: String?
    @Option(name: .customLong("retry-min-wait"), help: "Sub-option 3: CWMPRetryMinimumWaitInterval, seconds (1-65535; CPEs default to 5).")
    var retryMinWait: Int?
    @Option(name: .customLong("retry-multiplier"), help: "Sub-option 4: CWMPRetryIntervalMultiplier, thousandths (1000-65535; CPEs default to 2000).")
    var retryMultiplier: Int?

    func run() throws {
        let settings = DHCPOption43.Settings(acsURL: acsURL, provisioningCode: provisioningCode,
                                             retryMinimumWaitInterval: retryMinWait, retryIntervalMultiplier: retryMultiplier)
        let text: String
        do { text = try DHCPOption43.render(settings, format: format) } catch { throw ValidationError("\(error)") }
        print(text, terminator: "")
    }
}
