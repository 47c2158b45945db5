extension ControlRequest {
    /// The longest call timeout a request may ask for, in seconds (about 31 years).
    public static let maxTimeout: Double = 1_000_000_000

    /// Decodes and checks a request object; the fault's detail says what is wrong with it.
    ///
    /// Unknown members are ignored (a newer client may send more); a missing or ill-typed member,
    /// an unknown command, another protocol version, or targets that do not fit the command are
    /// faults.
    public init(object members: [String: JSONValue]) throws(ProtocolFault) {
        let fields = MessageFields(members: members, context: "control request")
        let version = try fields.integer("version")
        guard version == Self.version else {
            throw ProtocolFault(.invalidMessage, "control request has version \(version); this supervisor speaks version \(Self.version)")
        }
        let name = try fields.string("command")
        guard let command = Command(rawValue: name) else {
            let known = Command.allCases.map(\.rawValue).joined(separator: ", ")
            throw ProtocolFault(.invalidMessage, "unknown control command '\(name)' (known: \(known))")
        }
        let targets = try fields.optionalStringArray("targets")
        let lines = try fields.optionalInteger("lines")
        if let lines, lines < 0 { throw fields.illTyped("lines", .positiveInteger) }
        self.init(command, targets: targets, force: try fields.flag("force"), method: try fields.optionalString("method"),
                  params: members["params"] ?? nil, follow: try fields.flag("follow"), lines: lines)
        if let timeout = members["timeout"], !timeout.isNull {
            guard let seconds = timeout.doubleValue, seconds > 0, seconds <= Self.maxTimeout else {
                throw ProtocolFault(.invalidMessage, "control request member 'timeout' must be a number of seconds in (0, \(Int(Self.maxTimeout))]")
            }
            self.timeout = seconds
        }
        parts = try fields.flag("parts")
        stream = try fields.flag("stream")
        since = try fields.optionalInteger("since")
        if let since, since < 0 { throw fields.illTyped("since", .positiveInteger) }
        kinds = try fields.optionalStringArray("kinds")
        try checkShape()
    }

    /// Checks that the targets and members fit the command.
    private func checkShape() throws(ProtocolFault) {
        func fault(_ detail: String) -> ProtocolFault { ProtocolFault(.invalidMessage, "control command '\(command.rawValue)' \(detail)") }
        switch command {
        case .status, .start, .stop, .restart:
            break
        case .reload, .unload:
            if targets.isEmpty { throw fault("needs at least one photon name or path") }
        case .load:
            if targets.count != 1 { throw fault("needs exactly one path, got \(targets.count)") }
        case .call:
            if targets.count != 1 { throw fault("needs exactly one photon, got \(targets.count)") }
            if method?.isEmpty ?? true { throw fault("needs a non-empty 'method'") }
        case .logs:
            if targets.count > 1 { throw fault("takes at most one photon, got \(targets.count)") }
        case .events:
            // A target picks photons by name or photon files by path: anything else names none.
            if let target = targets.first(where: { !$0.isEmpty && !$0.contains("/") && !PhotonDescriptor.isValidName($0) }) {
                throw fault("target '\(target)' is neither a photon name ([A-Za-z0-9][A-Za-z0-9._-]{0,127}) nor a photon file's path")
            }
            if kinds.contains(where: \.isEmpty) { throw fault("has an empty kind") }
        case .metrics:
            if !targets.isEmpty { throw fault("takes no targets") }
        }
        if targets.contains(where: \.isEmpty) { throw fault("has an empty target") }
    }
}

extension MessageFields {
    /// An optional boolean; absent or `null` is false.
    func flag(_ name: String) throws(ProtocolFault) -> Bool {
        guard let member = members[name], !member.isNull else { return false }
        guard let value = member.boolValue else { throw ProtocolFault(.invalidMessage, "\(context) member '\(name)' must be true or false") }
        return value
    }

    /// An optional integer that fits `Int`; absent or `null` is `nil`.
    func optionalInteger(_ name: String) throws(ProtocolFault) -> Int? {
        guard let member = members[name], !member.isNull else { return nil }
        return try integer(name)
    }
}
