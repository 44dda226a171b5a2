import ACSCore
import NetHTTP

/// Wakes a CPE with an HTTP connection request (TR-069 3.2.2): GET its ConnectionRequestURL with Digest auth.
public enum ConnectionRequester {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case noURL(String)
        case refused(String, status: Int)
        case unreachable(String, detail: String)
        public var description: String {
            switch self {
            case .noURL(let d): "\(d) has not reported a ConnectionRequestURL yet"
            case .refused(let d, let s) where s == 401: "\(d) rejected the connection-request credentials (HTTP 401)"
            case .refused(let d, let s) where s == 503: "\(d) is limiting connection requests (HTTP 503)"
            case .refused(let d, let s): "\(d) answered the connection request with HTTP \(s)"
            case .unreachable(let d, let detail): "\(d) is unreachable for connection requests: \(detail)"
            }
        }
    }

    /// `allowedNetworks`: the profile's connection_request_networks (besides the device's own session address).
    public static func send(to device: Device, allowedNetworks: [String] = [], timeout: Duration = .seconds(5)) async throws {
        guard !device.connectionRequestURL.isEmpty else { throw Failure.noURL(device.name) }
        if let why = ConnectionRequestTarget.problem(url: device.connectionRequestURL, sessionAddress: device.ipAddress, allowed: allowedNetworks) {
            throw Failure.unreachable(device.name, detail: why)
        }
        let response: HTTPResponse
        do {
            response = try await HTTPClient.getWithDigest(url: device.connectionRequestURL, username: device.connectionRequestUsername,
                                                          password: device.connectionRequestPassword, timeout: timeout)
        } catch {
            throw Failure.unreachable(device.name, detail: "\(error)")
        }
        guard response.status == 200 || response.status == 204 else { throw Failure.refused(device.name, status: response.status) }
    }
}
