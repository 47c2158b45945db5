extension JSONValue {
    /// The member named `key` if this is an object that has it, else `nil`.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The element at `index` if this is an array and `index` is in range, else `nil`.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The string if this is `.string`, else `nil`.
    public var stringValue: String? {
        guard case .string(let value) = self else { return nil }
        return value
    }

    /// The integer if this is `.int`, or a `.double` whose value is an exact `Int64`; else `nil`.
    public var intValue: Int64? {
        switch self {
        case .int(let value): value
        case .double(let value): Self.exactInteger(value)
        default: nil
        }
    }

    /// `value` as an `Int64` if it is integral and in range. Written with comparisons and a
    /// conversion only, so the module does not need libm (`Int64(exactly:)` calls `trunc`).
    private static func exactInteger(_ value: Double) -> Int64? {
        guard value >= -0x1p63, value < 0x1p63 else { return nil }
        let integer = Int64(value)
        return Double(integer) == value ? integer : nil
    }

    /// The number as a `Double` if this is `.double` or `.int` (possibly rounded), else `nil`.
    public var doubleValue: Double? {
        switch self {
        case .double(let value): value
        case .int(let value): Double(value)
        default: nil
        }
    }

    /// The boolean if this is `.bool`, else `nil`.
    public var boolValue: Bool? {
        guard case .bool(let value) = self else { return nil }
        return value
    }

    /// The elements if this is `.array`, else `nil`.
    public var arrayValue: [JSONValue]? {
        guard case .array(let elements) = self else { return nil }
        return elements
    }

    /// The members if this is `.object`, else `nil`.
    public var objectValue: [String: JSONValue]? {
        guard case .object(let members) = self else { return nil }
        return members
    }

    /// Whether this is `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
