/// One photon a worker hosts, as declared in its hello.
public struct PhotonDescriptor: Sendable, Hashable {
    /// The photon's name, unique within the worker.
    public var name: String
    /// The kinds (base classes / interfaces) the photon implements; may be empty.
    public var kinds: [String]
    /// The callable method names, for display; empty when not declared.
    public var methods: [String]
    /// Descriptive metadata.
    public var metadata: PhotonMetadata
    /// The methods safe to run again (the `idempotent` member): a call to one that was in flight
    /// when its worker crashed is sent again to the next generation. Each must be in `methods`.
    public var idempotent: [String]

    /// Creates a descriptor.
    public init(name: String, kinds: [String] = [], methods: [String] = [], metadata: PhotonMetadata = PhotonMetadata(),
                idempotent: [String] = []) {
        self.name = name
        self.kinds = kinds
        self.methods = methods
        self.metadata = metadata
        self.idempotent = idempotent
    }

    /// Whether `name` is a valid photon name: `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = name.utf8
        guard (1...128).contains(bytes.count) else { return false }
        for (position, byte) in bytes.enumerated() {
            let isAlphanumeric = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            let isPunctuation = byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            guard isAlphanumeric || (isPunctuation && position > 0) else { return false }
        }
        return true
    }
}

extension PhotonDescriptor {
    /// Decodes a photon object of a hello; structure only (the name pattern is not checked).
    init(members: [String: JSONValue], context: String) throws(ProtocolFault) {
        let fields = MessageFields(members: members, context: context)
        name = try fields.string("name")
        kinds = try fields.stringArray("kinds")
        methods = try fields.optionalStringArray("methods")
        idempotent = try fields.optionalStringArray("idempotent")
        if let metadataMembers = try fields.optionalObject("metadata") {
            metadata = try PhotonMetadata(members: metadataMembers, context: "\(context) metadata")
        } else {
            metadata = PhotonMetadata()
        }
    }

    /// The photon object; `methods`, `idempotent` and `metadata` only when non-empty.
    var json: JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(name),
            "kinds": .array(kinds.map(JSONValue.string)),
        ]
        if !methods.isEmpty { members["methods"] = .array(methods.map(JSONValue.string)) }
        if !idempotent.isEmpty { members["idempotent"] = .array(idempotent.map(JSONValue.string)) }
        if !metadata.isEmpty { members["metadata"] = metadata.json }
        return .object(members)
    }
}
