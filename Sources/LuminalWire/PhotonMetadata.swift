/// Descriptive metadata of a photon, from the `metadata` object of its hello entry.
public struct PhotonMetadata: Sendable, Hashable {
    /// The `author` member.
    public var author: String?
    /// The `version` member: the photon's own version, not the protocol's.
    public var version: String?
    /// The `description` member.
    public var description: String?
    /// The `tags` member; empty when absent.
    public var tags: [String]
    /// Every other metadata member, kept as given; entries named like the members above are
    /// not written.
    public var extra: [String: JSONValue]

    /// Creates metadata; every member is optional.
    public init(author: String? = nil, version: String? = nil, description: String? = nil, tags: [String] = [], extra: [String: JSONValue] = [:]) {
        self.author = author
        self.version = version
        self.description = description
        self.tags = tags
        self.extra = extra
    }
}

extension PhotonMetadata {
    private static let definedKeys: Set<String> = ["author", "version", "description", "tags"]

    /// Decodes a `metadata` object; the defined members must have their types, `null` counts as absent.
    init(members: [String: JSONValue], context: String) throws(ProtocolFault) {
        let fields = MessageFields(members: members, context: context)
        self.init(
            author: try fields.optionalString("author"),
            version: try fields.optionalString("version"),
            description: try fields.optionalString("description"),
            tags: try fields.optionalStringArray("tags"),
            extra: members.filter { !Self.definedKeys.contains($0.key) }
        )
    }

    /// Whether no member would be written, so the `metadata` object can be left out.
    var isEmpty: Bool {
        author == nil && version == nil && description == nil && tags.isEmpty
            && extra.keys.allSatisfy(Self.definedKeys.contains)
    }

    /// The `metadata` object: the defined members that are set (`tags` only when non-empty) and
    /// the `extra` members; an `extra` member named like a defined one is not written.
    public var json: JSONValue {
        var members = extra.filter { !Self.definedKeys.contains($0.key) }
        if let author { members["author"] = .string(author) }
        if let version { members["version"] = .string(version) }
        if let description { members["description"] = .string(description) }
        if !tags.isEmpty { members["tags"] = .array(tags.map(JSONValue.string)) }
        return .object(members)
    }
}
