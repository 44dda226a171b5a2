/// Behaviours of real CPEs that the simulator can reproduce (`corral sim --quirk <name>`): the place where field
/// behaviours are kept, so every fix for one has a test that makes a simulated CPE behave that way.
public enum SimQuirk: String, Sendable, CaseIterable {
    /// "M Reboot" with an empty CommandKey after a Reboot RPC.
    case emptyCommandKey = "empty-commandkey"
    /// After a factory reset: "1 BOOT" on the onboarding credentials, no "0 BOOTSTRAP".
    case bootNotBootstrap = "boot-not-bootstrap"
    /// DeviceInfo.ModelName does not exist (9005 when asked for, absent from subtree reads).
    case missingModelName = "missing-modelname"
    /// Answers a challenge with Basic first, and with Digest only when Basic is refused.
    case basicFirst = "basic-first"
    /// GetParameterValues returns the values of passwords and keys instead of empty strings.
    case echoPasswords = "echo-passwords"
    /// Ignores Set-Cookie and opens a new TCP connection for every message, authenticating each time.
    case noCookies = "no-cookies"
    /// After a Reboot RPC, informs with neither "1 BOOT" nor "M Reboot" (only "2 PERIODIC").
    case silentReboot = "silent-reboot"
    /// Faults SetParameterValues with 9006 for any xsi:type other than xsd:string.
    case stringValues = "string-values"

    public var help: String {
        switch self {
        case .emptyCommandKey: "M Reboot with an empty CommandKey"
        case .bootNotBootstrap: "1 BOOT instead of 0 BOOTSTRAP after a factory reset"
        case .missingModelName: "no DeviceInfo.ModelName (9005)"
        case .basicFirst: "Basic before Digest"
        case .echoPasswords: "passwords and keys echoed in GetParameterValues"
        case .noCookies: "no session cookie, a new connection per message"
        case .silentReboot: "no 1 BOOT or M Reboot after a reboot"
        case .stringValues: "9006 on any value typed other than xsd:string"
        }
    }
}
