/// Typed access to the members of a message object, throwing `invalidMessage` faults whose
/// detail names the message and the member.
struct MessageFields {
    /// A member's expected shape, worded for fault details.
    struct Shape {
        /// Adjective for "is missing … member", e.g. "integer"; empty for any value.
        let noun: String
        /// Requirement for "member … must be …", e.g. "a string".
        let requirement: String

        static let id = Shape(noun: "integer", requirement: "an integer in 1...\(WireProtocol.maxRequestID)")
        static let integer = Shape(noun: "integer", requirement: "an integer")
        static let positiveInteger = Shape(noun: "integer", requirement: "a positive integer")
        static let nonNegativeInteger = Shape(noun: "integer", requirement: "an integer of at least 0")
        static let string = Shape(noun: "string", requirement: "a string")
        static let nonEmptyString = Shape(noun: "string", requirement: "a non-empty string")
        static let stringArray = Shape(noun: "array", requirement: "an array of strings")
        static let objectArray = Shape(noun: "array", requirement: "an array of objects")
        static let object = Shape(noun: "object", requirement: "an object")
        static let value = Shape(noun: "", requirement: "a JSON value")
    }

    /// The members as received.
    let members: JSONMembers
    /// How fault details name this object, e.g. "call" or "hello photon 0".
    let context: String

    /// The fields of `members`, named `context` in faults.
    init(members: JSONMembers, context: String) {
        self.members = members
        self.context = context
    }

    /// The fields of a nested object or a control message, named `context` in faults.
    init(members: [String: JSONValue], context: String) {
        self.init(members: JSONMembers(members), context: context)
    }

    /// The fault for a required member that is absent.
    func missing(_ name: String, _ shape: Shape) -> ProtocolFault {
        let noun = shape.noun.isEmpty ? "" : "\(shape.noun) "
        return ProtocolFault(.invalidMessage, "\(context) is missing \(noun)member '\(name)'")
    }

    /// The fault for a member of the wrong type or out of range.
    func illTyped(_ name: String, _ shape: Shape) -> ProtocolFault {
        ProtocolFault(.invalidMessage, "\(context) member '\(name)' must be \(shape.requirement)")
    }

    /// A required member of any JSON type.
    func value(_ name: String) throws(ProtocolFault) -> JSONValue {
        guard let value = members[name] else { throw missing(name, .value) }
        return value
    }

    /// A required request id in 1...2^53−1.
    func id(_ name: String = "id") throws(ProtocolFault) -> Int64 {
        guard let member = members[name] else { throw missing(name, .id) }
        guard let id = member.intValue, (1...WireProtocol.maxRequestID).contains(id) else {
            throw illTyped(name, .id)
        }
        return id
    }

    /// An optional request id in 1...2^53−1; absent or `null` is `nil`.
    func optionalID(_ name: String = "id") throws(ProtocolFault) -> Int64? {
        guard let member = members[name], !member.isNull else { return nil }
        return try id(name)
    }

    /// A required integer that fits `Int`.
    func integer(_ name: String) throws(ProtocolFault) -> Int {
        try integer(name, .integer, minimum: .min)
    }

    /// A required integer that fits `Int` and is at least 1.
    func positiveInteger(_ name: String) throws(ProtocolFault) -> Int {
        try integer(name, .positiveInteger, minimum: 1)
    }

    /// An optional integer of at least 1; absent or `null` is `nil`.
    func optionalPositiveInteger(_ name: String) throws(ProtocolFault) -> Int64? {
        guard let member = members[name], !member.isNull else { return nil }
        guard let value = member.intValue, value >= 1 else { throw illTyped(name, .positiveInteger) }
        return value
    }

    /// An optional integer of at least 0; absent or `null` is `nil`.
    func optionalNonNegativeInteger(_ name: String) throws(ProtocolFault) -> Int64? {
        guard let member = members[name], !member.isNull else { return nil }
        guard let value = member.intValue, value >= 0 else { throw illTyped(name, .nonNegativeInteger) }
        return value
    }

    /// A required string, non-empty if `nonEmpty`.
    func string(_ name: String, nonEmpty: Bool = false) throws(ProtocolFault) -> String {
        let shape: Shape = nonEmpty ? .nonEmptyString : .string
        guard let member = members[name] else { throw missing(name, shape) }
        guard let value = member.stringValue, !(nonEmpty && value.isEmpty) else { throw illTyped(name, shape) }
        return value
    }

    /// An optional string; absent or `null` is `nil`.
    func optionalString(_ name: String) throws(ProtocolFault) -> String? {
        guard let member = members[name], !member.isNull else { return nil }
        guard let value = member.stringValue else { throw illTyped(name, .string) }
        return value
    }

    /// A required array of strings.
    func stringArray(_ name: String) throws(ProtocolFault) -> [String] {
        guard let member = members[name] else { throw missing(name, .stringArray) }
        return try strings(member, name)
    }

    /// An optional array of strings; absent or `null` is empty.
    func optionalStringArray(_ name: String) throws(ProtocolFault) -> [String] {
        guard let member = members[name], !member.isNull else { return [] }
        return try strings(member, name)
    }

    /// A required array whose elements are all objects.
    func objectArray(_ name: String) throws(ProtocolFault) -> [[String: JSONValue]] {
        guard let member = members[name] else { throw missing(name, .objectArray) }
        guard let elements = member.arrayValue else { throw illTyped(name, .objectArray) }
        var objects: [[String: JSONValue]] = []
        objects.reserveCapacity(elements.count)
        for element in elements {
            guard let object = element.objectValue else { throw illTyped(name, .objectArray) }
            objects.append(object)
        }
        return objects
    }

    /// An optional object; absent or `null` is `nil`.
    func optionalObject(_ name: String) throws(ProtocolFault) -> [String: JSONValue]? {
        guard let member = members[name], !member.isNull else { return nil }
        guard let object = member.objectValue else { throw illTyped(name, .object) }
        return object
    }

    private func integer(_ name: String, _ shape: Shape, minimum: Int) throws(ProtocolFault) -> Int {
        guard let member = members[name] else { throw missing(name, shape) }
        guard let wide = member.intValue, let value = Int(exactly: wide), value >= minimum else {
            throw illTyped(name, shape)
        }
        return value
    }

    private func strings(_ member: JSONValue, _ name: String) throws(ProtocolFault) -> [String] {
        guard let elements = member.arrayValue else { throw illTyped(name, .stringArray) }
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        for element in elements {
            guard let string = element.stringValue else { throw illTyped(name, .stringArray) }
            strings.append(string)
        }
        return strings
    }
}

extension MessageFields {
    /// The fields of a top-level message object, and its `type` member.
    static func message(_ members: JSONMembers) throws(ProtocolFault) -> (type: String, fields: MessageFields) {
        let type = try MessageFields(members: members, context: "message").string("type")
        return (type, MessageFields(members: members, context: type))
    }
}
