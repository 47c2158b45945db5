import LuminalWire

/// The most a hello may declare (PROTOCOL.md §3.1, "Hello limits"), so that one worker cannot
/// make the host build, index and show an unbounded number of photons.
enum HelloLimits {
    /// Photons per worker.
    static let photons = 1024
    /// Kinds per photon.
    static let kinds = 64
    /// Methods per photon.
    static let methods = 1024
    /// Bytes (UTF-8) of one kind or method name.
    static let nameBytes = 256
    /// Bytes of one photon's metadata object, as JSON text.
    static let metadataBytes = 65_536

    /// What in `hello` goes over a limit, worded to follow "photon file X ", or `nil`.
    static func violation(in hello: Hello) -> String? {
        guard hello.photons.count <= photons else {
            return "declares \(hello.photons.count) photons in its hello; the limit is \(photons) per worker"
        }
        for photon in hello.photons {
            if let cause = violation(in: photon) { return "declares photon '\(prefix(photon.name))' with \(cause)" }
        }
        return nil
    }

    private static func violation(in photon: PhotonDescriptor) -> String? {
        if photon.kinds.count > kinds { return "\(photon.kinds.count) kinds; the limit is \(kinds) per photon" }
        if photon.methods.count > methods { return "\(photon.methods.count) methods; the limit is \(methods) per photon" }
        for (what, names) in [("kind", photon.kinds), ("method", photon.methods)] {
            if let long = names.first(where: { $0.utf8.count > nameBytes }) {
                return "a \(what) name of \(long.utf8.count) bytes ('\(prefix(long))…'); the limit is \(nameBytes) bytes"
            }
        }
        let size = photon.metadata.json.serialized().count
        if size > metadataBytes { return "\(size) bytes of metadata; the limit is \(metadataBytes) bytes per photon" }
        return nil
    }

    /// The first 40 characters of `text`, for an error message.
    private static func prefix(_ text: String) -> String {
        String(text.prefix(40))
    }
}
