import CWMP

/// One unit of ACS work inside a session: an RPC and why it is sent.
public struct WorkItem: Sendable, Equatable {
    public enum Origin: Sendable, Equatable {
        /// An operator task (stored, has an ID).
        case task(Int64)
        /// Onboarding: give the CPE its own credentials and periodic interval.
        case onboardingCredentials
        /// Onboarding: read identity the Inform does not carry.
        case deviceInfo
        /// A diagnostics run finished: read its results for the task that started it.
        case diagnosticsResult(taskID: Int64)
        /// Profile provisioning (desired values, KPIs, Lua hooks), batched for all running scripts.
        case provisioning
    }
    public var origin: Origin
    public var request: ACSRequest
    public init(origin: Origin, request: ACSRequest) { self.origin = origin; self.request = request }
}

/// What the driver must do (record, update) as a consequence of a message. The machine itself does no I/O.
public enum SessionEffect: Sendable, Equatable {
    case informReceived(Inform)
    /// A CPE request other than Inform (TransferComplete, RequestDownload, ...); already answered.
    case cpeRequest(CPERequest)
    case completed(WorkItem, CPEResponse)
    case faulted(WorkItem, CWMPFault)
    /// Sent but never answered (the CPE sent an empty POST instead); the driver puts it back in the queue.
    case unanswered(WorkItem)
}

public enum SessionOutput: Sendable, Equatable {
    /// HTTP 200 with this envelope.
    case envelope(Envelope)
    /// The CPE handed over the turn: the driver may enqueue more work, then calls `nextRequest()`.
    case acsTurn
    /// HTTP 204: the session is over.
    case end
    /// The message breaks the protocol: HTTP status and reason; the session is over.
    case reject(status: Int, reason: String)
}

public struct SessionStep: Sendable, Equatable {
    public var output: SessionOutput
    public var effects: [SessionEffect]
    public init(_ output: SessionOutput, _ effects: [SessionEffect] = []) { self.output = output; self.effects = effects }
}

/// The CWMP session state machine (TR-069 3.7): message in, output and effects out. Pure.
public struct CWMPSession: Sendable {
    public enum Phase: Sendable, Equatable {
        case awaitingInform
        /// After InformResponse: the CPE sends its own requests, then an empty POST.
        case cpeTurn
        /// The CPE has handed over; waiting for the driver to call nextRequest().
        case acsTurn
        case awaitingResponse(WorkItem)
        case finished
    }

    public private(set) var phase: Phase = .awaitingInform
    public private(set) var version: CWMPVersion = .v1_0
    public private(set) var queue: [WorkItem] = []
    /// True while the CPE has been told to hold its requests.
    public private(set) var holding = false
    private var nextMessageID = 1

    /// Methods Corral answers when a CPE calls GetRPCMethods.
    public static let acsMethods = ["Inform", "GetRPCMethods", "TransferComplete", "AutonomousTransferComplete",
                                    "RequestDownload", "Kicked", "DUStateChangeComplete", "AutonomousDUStateChangeComplete"]

    public init() {}

    public var isFinished: Bool { phase == .finished }

    public mutating func enqueue(_ items: [WorkItem]) { queue.append(contentsOf: items) }

    /// Drops queued work before it is sent (an operator task cancelled while it waited in this session's queue).
    public mutating func drop(where shouldDrop: (WorkItem) -> Bool) { queue.removeAll(where: shouldDrop) }

    /// A CPE message; nil is an empty POST.
    /// `holdRequests`: when answering the Inform, ask the CPE to hold its own requests until the ACS work queued
    /// by then is done (used while swapping credentials at onboarding).
    public mutating func receive(_ envelope: Envelope?, holdRequests: Bool = false) -> SessionStep {
        switch phase {
        case .awaitingInform:
            guard let envelope, case .cpeRequest(.inform(let inform)) = envelope.body else {
                return reject(400, "the first message of a session must be an Inform")
            }
            if let problem = Self.problem(in: inform) { return reject(400, problem) }
            version = envelope.version
            phase = .cpeTurn
            holding = holdRequests
            var header = CWMPHeader(id: envelope.header.id)
            if holding { header.holdRequests = true }
            return SessionStep(.envelope(Envelope(version: version, header: header, body: .acsResponse(.inform(maxEnvelopes: 1)))),
                               [.informReceived(inform)])

        case .cpeTurn, .acsTurn:
            guard let envelope else {
                phase = .acsTurn
                return SessionStep(.acsTurn)
            }
            return answerCPE(envelope, phaseAfter: phase)

        case .awaitingResponse(let item):
            guard let envelope else {
                // The CPE ended its side without answering: the request goes back to the queue of a later session.
                phase = .finished
                return SessionStep(.end, [.unanswered(item)])
            }
            switch envelope.body {
            case .cpeResponse(let response):
                phase = .acsTurn
                if response.methodName == item.request.methodName {
                    return SessionStep(.acsTurn, [.completed(item, response)])
                }
                let fault = CWMPFault(code: 9002, string: "CPE answered \(item.request.methodName) with \(response.methodName)Response")
                return SessionStep(.acsTurn, [.faulted(item, fault)])
            case .fault(let fault):
                phase = .acsTurn
                return SessionStep(.acsTurn, [.faulted(item, fault)])
            case .cpeRequest:
                // Lenient: a CPE that sends a request while one of ours is outstanding still gets its answer.
                return answerCPE(envelope, phaseAfter: phase)
            case .acsRequest, .acsResponse:
                return reject(400, "ACS message received from a CPE")
            }

        case .finished:
            return reject(400, "the session is over")
        }
    }

    /// Why an Inform cannot open a session, if it cannot.
    public static func problem(in inform: Inform) -> String? {
        guard !inform.deviceId.oui.isEmpty, !inform.deviceId.serialNumber.isEmpty else {
            return "Inform without DeviceId OUI or SerialNumber"
        }
        // The OUI names the device (OUI-Serial); an arbitrary string could collide with other usernames.
        guard inform.deviceId.oui.utf8.count == 6, inform.deviceId.oui.allSatisfy(\.isHexDigit) else {
            return "DeviceId OUI must be 6 hexadecimal digits, got \(inform.deviceId.oui.prefix(64))"
        }
        guard inform.deviceId.serialNumber.utf8.count <= 64 else { return "DeviceId SerialNumber is longer than 64 characters" }
        // TR-069 allows 64 characters; some CPEs send more, nobody sends kilobytes.
        for (name, value) in [("Manufacturer", inform.deviceId.manufacturer), ("ProductClass", inform.deviceId.productClass)]
        where value.utf8.count > Device.maxIdentityBytes {
            return "DeviceId \(name) is longer than \(Device.maxIdentityBytes) bytes"
        }
        return nil
    }

    /// Next ACS request, or the end of the session. Call when the last output was `.acsTurn`.
    public mutating func nextRequest() -> SessionStep {
        guard phase == .acsTurn else { return SessionStep(.reject(status: 500, reason: "nextRequest outside the ACS turn")) }
        guard !queue.isEmpty else {
            phase = .finished
            return SessionStep(.end)
        }
        let item = queue.removeFirst()
        phase = .awaitingResponse(item)
        var header = CWMPHeader(id: String(nextMessageID))
        nextMessageID += 1
        // Hold the CPE's requests while more ACS work follows; release with the last queued request.
        if holding {
            if queue.isEmpty { holding = false } else { header.holdRequests = true }
        }
        return SessionStep(.envelope(Envelope(version: version, header: header, body: .acsRequest(item.request))))
    }

    /// Drops the session (idle timeout, superseded): what was in flight and queued goes back to the driver.
    public mutating func abandon() -> [SessionEffect] {
        var effects: [SessionEffect] = []
        if case .awaitingResponse(let item) = phase { effects.append(.unanswered(item)) }
        phase = .finished
        return effects
    }

    private mutating func answerCPE(_ envelope: Envelope, phaseAfter: Phase) -> SessionStep {
        guard case .cpeRequest(let request) = envelope.body else {
            if case .fault = envelope.body { return reject(400, "fault received with no ACS request outstanding") }
            return reject(400, "unexpected \(Self.describe(envelope.body)) with no ACS request outstanding")
        }
        let header = CWMPHeader(id: envelope.header.id)
        let response: ACSResponse
        switch request {
        case .inform: return reject(400, "a second Inform in one session")
        case .transferComplete: response = .transferComplete
        case .autonomousTransferComplete: response = .autonomousTransferComplete
        case .requestDownload: response = .requestDownload
        case .kicked(_, _, _, let next): response = .kicked(nextURL: next)
        case .getRPCMethods: response = .getRPCMethods(methods: Self.acsMethods)
        case .duStateChangeComplete: response = .duStateChangeComplete
        case .autonomousDUStateChangeComplete: response = .autonomousDUStateChangeComplete
        }
        phase = phaseAfter
        return SessionStep(.envelope(Envelope(version: version, header: header, body: .acsResponse(response))), [.cpeRequest(request)])
    }

    private mutating func reject(_ status: Int, _ reason: String) -> SessionStep {
        phase = .finished
        return SessionStep(.reject(status: status, reason: reason))
    }

    /// A message's name for errors and logs, e.g. "GetParameterValuesResponse".
    public static func isInform(_ e: Envelope) -> Bool {
        if case .cpeRequest(.inform) = e.body { return true }
        return false
    }

    public static func describe(_ body: CWMPBody) -> String {
        switch body {
        case .acsRequest(let r): r.methodName
        case .cpeResponse(let r): r.methodName + "Response"
        case .cpeRequest(let r): r.methodName
        case .acsResponse: "ACS response"
        case .fault: "Fault"
        }
    }
}
