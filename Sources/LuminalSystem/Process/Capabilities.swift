/// The capabilities this process holds in its effective set (`CapEff` in `/proc/self/status`),
/// read once: the supervisor never gains or drops one while it runs.
package enum Capabilities {
    /// `CAP_SYS_RESOURCE`: raise a hard resource limit above the current one. Container runtimes
    /// leave it out by default, and root without it cannot raise one either.
    package static let sysResource = 24

    private static let effective: UInt64 = {
        guard let bytes = try? Paths.read("/proc/self/status", limit: 64 * 1024),
              let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }) else { return 0 }
        return UInt64(line.dropFirst("CapEff:".count).trimmingPrefix(while: \.isWhitespace), radix: 16) ?? 0
    }()

    /// Whether this process holds capability `number` (false if the set cannot be read).
    package static func holds(_ number: Int) -> Bool {
        effective & (1 << UInt64(number)) != 0
    }
}
