import CWMP
import Foundation
import HTTPAuth
import NetHTTP

/// One CWMP session of a virtual CPE over HTTP, as a real CPE runs it: Inform (answering a Digest challenge),
/// its own requests, an empty POST, then the ACS's requests until an empty answer.
struct CPESession {
    let cpe: VirtualCPE
    let acs: URLParts
    var tls: TLSClientContext? = nil
    /// Answer challenges with Basic only (a CPE that cannot do Digest).
    var basicOnly = false
    /// Tries Basic before Digest (the basic-first quirk).
    var basicFirst = false
    /// Ignores the session cookie and sends every message on a new connection (the no-cookies quirk).
    var noCookies = false
    let timeout: Duration

    enum Failure: Error, CustomStringConvertible {
        case http(Int, String)
        /// 503: the ACS sheds load; `retryAfter` seconds from its Retry-After header, if any.
        case busy(retryAfter: Double?)
        case authentication(String)
        case protocolError(String)
        var description: String {
            switch self {
            case .http(let s, let b): "ACS answered HTTP \(s): \(b.prefix(200))"
            case .busy(let r): "ACS busy (HTTP 503\(r.map { ", Retry-After \(Int($0)) s" } ?? ""))"
            case .authentication(let m): "authentication failed: \(m)"
            case .protocolError(let m): m
            }
        }
    }

    struct Result {
        var deferred: [DeferredAction] = []
        var requestsAnswered = 0
        /// HTTP requests sent, Digest challenges included.
        var httpRequests = 0
    }

    /// `result` collects what the CPE accepted even if the session fails later: a real CPE still reboots after
    /// answering a Reboot whose session was cut.
    func run(into result: inout Result, now: Date = Date()) async throws {
        let conn = try await HTTPClientConnection.connect(host: acs.host, port: acs.port, tls: tls, timeout: timeout)
        var connection = conn
        var cookie: String?
        defer { let c = connection; Task { await c.close() } }

        var informed = false
        // A cookie-less CPE answers the Inform's challenge again on every new connection (the nonce with a higher
        // nc), as curl-based CPEs do: the nonce is what ties its messages together.
        var sessionChallenge: DigestChallenge?
        var nc: UInt32 = 1
        func post(_ body: [UInt8], authorization given: String? = nil) async throws -> HTTPResponse {
            var authorization = given
            if noCookies && informed && authorization == nil, let challenge = sessionChallenge {
                nc += 1
                let (user, pass) = cpe.credentials
                authorization = Digest.authorize(challenge: challenge, username: user, password: pass, method: "POST", uri: acs.pathAndQuery, nc: nc)?.headerValue
            }
            if noCookies && result.httpRequests > 0 {
                // A new connection per message, and no cookie: the ACS must know the session some other way.
                await connection.close()
                connection = try await HTTPClientConnection.connect(host: acs.host, port: acs.port, tls: tls, timeout: timeout)
            } else if !connection.isOpen {
                // CPEs reconnect mid-session; the session cookie keeps it together.
                connection = try await HTTPClientConnection.connect(host: acs.host, port: acs.port, tls: tls, timeout: timeout)
            }
            var h = HTTPFields()
            h.set("SOAPAction", "")
            if !body.isEmpty { h.set("Content-Type", "text/xml; charset=\"utf-8\"") }
            if let cookie { h.set("Cookie", cookie) }
            if let authorization { h.set("Authorization", authorization) }
            let response = try await connection.send(method: "POST", uri: acs.pathAndQuery, headers: h, body: body, timeout: timeout)
            result.httpRequests += 1
            if response.status == 503 {
                // Load shedding: the CPE comes back when the ACS says (RFC 9110 Retry-After, delay-seconds form).
                throw Failure.busy(retryAfter: response.headers.first("Retry-After").flatMap { Double($0.trimmingCharacters(in: .whitespaces)) })
            }
            if !noCookies, let setCookie = response.headers.first("Set-Cookie"), let first = setCookie.split(separator: ";").first {
                cookie = String(first)
            }
            if informed && response.status == 401 && given == nil {
                // Challenged again on the new connection: answer it like the Inform's.
                let (user, pass) = cpe.credentials
                guard let challenge = DigestChallenge.parse(response.headers.all("WWW-Authenticate")),
                      let creds = Digest.authorize(challenge: challenge, username: user, password: pass, method: "POST", uri: acs.pathAndQuery) else {
                    throw Failure.authentication("no usable Digest challenge mid-session")
                }
                return try await post(body, authorization: creds.headerValue)
            }
            return response
        }

        // 1. Inform, answering the challenge.
        let inform = cpe.makeInform(now: now)
        let informBody = CWMPEncoder.encode(Envelope(version: .v1_2, header: CWMPHeader(id: "1"), body: .cpeRequest(.inform(inform))))
        var response = try await post(informBody)
        if response.status == 401 {
            let (user, pass) = cpe.credentials
            let challenges = response.headers.all("WWW-Authenticate")
            let authorization: String
            if basicOnly {
                guard challenges.flatMap({ AuthParams.parse($0) }).contains(where: { $0.scheme.lowercased() == "basic" }) else {
                    throw Failure.authentication("the ACS offers no Basic challenge (\(challenges.joined(separator: ", ")))")
                }
                authorization = BasicCredentials(username: user, password: pass).headerValue
            } else {
                guard let challenge = DigestChallenge.parse(challenges),
                      let creds = Digest.authorize(challenge: challenge, username: user, password: pass, method: "POST", uri: acs.pathAndQuery) else {
                    throw Failure.authentication("no usable Digest challenge")
                }
                sessionChallenge = challenge
                authorization = creds.headerValue
            }
            if basicFirst && !basicOnly {
                // Some CPEs send Basic whatever the challenge says, then Digest when that is refused.
                response = try await post(informBody, authorization: BasicCredentials(username: user, password: pass).headerValue)
                if response.status == 401, let challenge = DigestChallenge.parse(response.headers.all("WWW-Authenticate")),
                   let creds = Digest.authorize(challenge: challenge, username: user, password: pass, method: "POST", uri: acs.pathAndQuery) {
                    response = try await post(informBody, authorization: creds.headerValue)
                }
            } else {
                response = try await post(informBody, authorization: authorization)
            }
            if response.status == 401 { throw Failure.authentication("ACS refused \(user): \(response.bodyString.prefix(120))") }
        }
        guard response.status == 200 else { throw Failure.http(response.status, response.bodyString) }
        informed = true
        let informResponse = try CWMPDecoder.decode(response.body, from: .acs)
        guard case .acsResponse(.inform) = informResponse.body else { throw Failure.protocolError("expected InformResponse") }
        let held = informResponse.header.holdRequests == true
        let transfers = cpe.lock.withLock { cpe.pendingTransfers }
        cpe.informAcknowledged(inform.events, keepTransferEvents: !transfers.isEmpty)

        // 2. Our own requests (one TransferComplete per finished transfer), unless the ACS holds them (then they wait
        // for the next session).
        for (i, transfer) in transfers.enumerated() where !held {
            let r = try await post(CWMPEncoder.encode(Envelope(version: informResponse.version, header: CWMPHeader(id: String(2 + i)),
                                                               body: .cpeRequest(.transferComplete(transfer)))))
            guard r.status == 200, case .acsResponse(.transferComplete) = try CWMPDecoder.decode(r.body, from: .acs).body else {
                throw Failure.protocolError("expected TransferCompleteResponse, got HTTP \(r.status)")
            }
            cpe.transferAcknowledged(transfer)
        }

        // 3. Empty POST, then the ACS's requests until it has nothing more.
        response = try await post([])
        while true {
            if response.status == 204 || (response.status == 200 && response.body.isEmpty) { return }
            guard response.status == 200 else { throw Failure.http(response.status, response.bodyString) }
            let env: Envelope
            do {
                env = try CWMPDecoder.decode(response.body, from: .acs)
            } catch CWMPDecodeError.unknownMethod(let name, let id, let version) {
                let f = CWMPFault(code: 9000, string: "Method not supported: \(name)")
                response = try await post(CWMPEncoder.encode(Envelope(version: version, header: CWMPHeader(id: id), body: .fault(f))))
                continue
            }
            guard case .acsRequest(let request) = env.body else { throw Failure.protocolError("expected an ACS request") }
            let outcome = cpe.handle(request)
            if let d = outcome.deferred { result.deferred.append(d) }
            result.requestsAnswered += 1
            response = try await post(CWMPEncoder.encode(Envelope(version: env.version, header: CWMPHeader(id: env.header.id), body: outcome.body)))
        }
    }
}
