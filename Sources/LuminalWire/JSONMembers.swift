/// The members of a JSON object, in the order they came: a frame's top-level object, read for
/// the few members the protocol defines without building a hash table for each message.
///
/// Keys are unique (the parser rejects a duplicate). Looking a member up scans the members, so
/// it suits the small objects messages are; an object's nested values are ordinary `JSONValue`s.
public struct JSONMembers: Sendable {
    /// The members, in the order they came.
    public private(set) var pairs: [(key: String, value: JSONValue)]

    /// No members.
    public init() {
        pairs = []
    }

    /// No members yet, with room for `capacity` without growing.
    init(reservingCapacity capacity: Int) {
        pairs = []
        pairs.reserveCapacity(capacity)
    }

    /// The members of `dictionary`, in its order.
    public init(_ dictionary: [String: JSONValue]) {
        pairs = dictionary.map { ($0.key, $0.value) }
    }

    /// The value of the member named `key`, if there is one.
    public subscript(key: String) -> JSONValue? {
        // Comparing lengths first spares most comparisons of different keys, which are slow.
        let length = key.utf8.count
        for pair in pairs where pair.key.utf8.count == length && pair.key == key { return pair.value }
        return nil
    }

    /// The members as a dictionary.
    public var dictionary: [String: JSONValue] {
        Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    /// How many members there are.
    public var count: Int { pairs.count }

    /// Adds a member whose key is not among them yet (the parser checks).
    mutating func append(_ key: String, _ value: JSONValue) {
        pairs.append((key, value))
    }
}
