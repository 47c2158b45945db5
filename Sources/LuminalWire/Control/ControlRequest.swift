/// One request from a `luminal` client to a running supervisor over its control socket.
///
/// Sent as one frame (the worker protocol's framing) holding an object such as
/// `{"version": 1, "command": "call", "targets": ["greeter"], "method": "hello", "params": {}}`.
/// See protocol/CONTROL.md.
public struct ControlRequest: Sendable, Hashable {
    /// What the client asks for.
    public enum Command: String, Sendable, CaseIterable {
        /// The photons and their states (all, or those named).
        case status
        /// Start photons (all, or those named); a stopped or failed file gets a new generation.
        case start
        /// Stop photons' workers and keep them loaded (all, or those named).
        case stop
        /// Stop, then start.
        case restart
        /// Atomically reload the named photon files, all or nothing.
        case reload
        /// Load and start one photon file.
        case load
        /// Stop and unload the named photon files.
        case unload
        /// Call one method of one photon.
        case call
        /// Recent output and log lines (all, or one photon's), then optionally follow.
        case logs
        /// Follow the supervisor's events (of the named photons or photon files, of some kinds),
        /// after the most recent ones kept.
        case events
        /// The supervisor's and its photons' metrics, in Prometheus' text exposition format.
        case metrics
    }

    /// The control protocol version this build speaks.
    public static let version: Int = 1

    /// The command.
    public var command: Command
    /// Photon names or photon file paths; for `load` the path, for `call` the photon.
    public var targets: [String]
    /// `stop`, `restart`, `unload`: skip the finalizers.
    public var force: Bool
    /// `call`: the method.
    public var method: String?
    /// `call`: the parameters.
    public var params: JSONValue
    /// `logs`, `events`: keep the connection open and stream what comes next.
    public var follow: Bool
    /// `logs`: how many recent lines to send first (the supervisor keeps a bounded number).
    public var lines: Int?
    /// `call`: seconds after which the call is abandoned.
    public var timeout: Double?
    /// `events`: how many of the most recent events kept (that the filters admit) to send first.
    public var since: Int?
    /// `events`: the kinds of event to send (the `event` member of an item); empty for every kind.
    public var kinds: [String] = []
    /// `call`: take the result as items, one per part the photon sends and its final value unless
    /// `null`, then a final reply whose result is `null` (CONTROL.md §2).
    public var stream: Bool = false
    /// The client reads a final reply larger than one frame in parts (`{"part": …}` frames,
    /// CONTROL.md §3); without it such a reply is a `limitExceeded` error.
    public var parts: Bool = false

    /// A request; see the members for which command reads what.
    public init(_ command: Command, targets: [String] = [], force: Bool = false, method: String? = nil,
                params: JSONValue = nil, follow: Bool = false, lines: Int? = nil) {
        self.command = command
        self.targets = targets
        self.force = force
        self.method = method
        self.params = params
        self.follow = follow
        self.lines = lines
    }

    /// The request as sent.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["version": .int(Int64(Self.version)), "command": .string(command.rawValue)]
        if !targets.isEmpty { object["targets"] = .array(targets.map(JSONValue.string)) }
        if force { object["force"] = true }
        if let method { object["method"] = .string(method) }
        if !params.isNull { object["params"] = params }
        if follow { object["follow"] = true }
        if let lines { object["lines"] = .int(Int64(lines)) }
        if let timeout { object["timeout"] = .double(timeout) }
        if let since { object["since"] = .int(Int64(since)) }
        if !kinds.isEmpty { object["kinds"] = .array(kinds.map(JSONValue.string)) }
        if parts { object["parts"] = true }
        if stream { object["stream"] = true }
        return .object(object)
    }
}
