extension Frame {
    /// The largest cap `LUMINAL_FRAME_CAP` can give: 2^32 − 1, the largest length a header holds.
    public static let maxCap = Int(UInt32.max)

    /// The frame cap a worker uses for the value of `LUMINAL_FRAME_CAP` (PROTOCOL.md §1).
    ///
    /// A well-formed value is one or more ASCII digits and nothing else, a decimal integer from 2
    /// to 2^32 − 1; it is the cap. Anything else — absent, empty, a sign, spaces, other
    /// characters, 0, 1, or above 2^32 − 1 — is malformed and gives `defaultCap`.
    public static func cap(fromEnvironment value: String?) -> Int {
        guard let value, !value.isEmpty else { return defaultCap }
        var cap = 0
        for byte in value.utf8 {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return defaultCap }
            cap = cap * 10 + Int(byte - UInt8(ascii: "0"))
            guard cap <= maxCap else { return defaultCap }
        }
        return cap >= 2 ? cap : defaultCap
    }
}
