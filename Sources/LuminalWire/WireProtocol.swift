/// Protocol version constants (PROTOCOL.md §5).
public enum WireProtocol {
    /// The protocol version this implementation speaks.
    public static let version = 1
    /// Every protocol version this implementation accepts.
    public static let supportedVersions: [Int] = [1]
    /// The largest request id: 2^53 − 1, the largest integer every JSON peer holds exactly.
    public static let maxRequestID: Int64 = (1 << 53) - 1
}
