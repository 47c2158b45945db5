/// The worker's `hello` message: the first frame it writes (PROTOCOL.md §3.1, §5).
///
/// Decoding checks structure only; whether the version is supported, at least one photon is
/// declared and names are valid and unique is for the host to judge.
public struct Hello: Sendable, Hashable {
    /// The protocol version the worker speaks (the `protocol` member).
    public var protocolVersion: Int
    /// The worker's process id.
    public var pid: Int
    /// Free text naming the worker runtime, for logs.
    public var runtime: String?
    /// The photons the worker hosts.
    public var photons: [PhotonDescriptor]
    /// The optional protocol features the worker supports (the `features` member), as declared:
    /// names the host does not know are kept here and ignored. Empty for a worker that declares
    /// none, which is served as protocol version 1 was.
    public var features: [String]

    /// Creates a hello.
    public init(protocolVersion: Int = WireProtocol.version, pid: Int, runtime: String? = nil, photons: [PhotonDescriptor],
                features: [String] = []) {
        self.protocolVersion = protocolVersion
        self.pid = pid
        self.runtime = runtime
        self.photons = photons
        self.features = features
    }

    /// Whether the worker declared `feature`.
    public func supports(_ feature: WireFeature) -> Bool {
        features.contains(feature.rawValue)
    }
}

extension Hello {
    /// Decodes the members of a hello message.
    init(fields: MessageFields) throws(ProtocolFault) {
        protocolVersion = try fields.integer("protocol")
        pid = try fields.positiveInteger("pid")
        runtime = try fields.optionalString("runtime")
        features = try fields.optionalStringArray("features")
        let photonObjects = try fields.objectArray("photons")
        photons = []
        photons.reserveCapacity(photonObjects.count)
        for (position, members) in photonObjects.enumerated() {
            photons.append(try PhotonDescriptor(members: members, context: "\(fields.context) photon \(position)"))
        }
    }

    /// The members of the hello message, `type` included.
    var json: JSONValue {
        var members: [String: JSONValue] = [
            "type": "hello",
            "protocol": .int(Int64(protocolVersion)),
            "pid": .int(Int64(pid)),
            "photons": .array(photons.map(\.json)),
        ]
        if let runtime { members["runtime"] = .string(runtime) }
        if !features.isEmpty { members["features"] = .array(features.map(JSONValue.string)) }
        return .object(members)
    }
}
