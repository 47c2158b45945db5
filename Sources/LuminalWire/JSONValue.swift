/// A JSON value as exchanged on the wire.
///
/// Integer number tokens that fit `Int64` are `.int`; every other number is `.double`.
/// Object member order is not preserved. `description` is the compact JSON text, the same
/// bytes as `serialized()`.
public enum JSONValue: Sendable, Hashable, CustomStringConvertible {
    /// The JSON `null` literal.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer number token that fits a signed 64-bit integer.
    case int(Int64)
    /// Any other number: a fraction, an exponent, or an integer outside `Int64`.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object; keys are unique.
    case object([String: JSONValue])

    /// The compact JSON text of this value.
    public var description: String {
        String(decoding: serialized(), as: UTF8.self)
    }
}
