import LuminalWire
import LuminalWorker

/// Why a generation of one instance of a pool cannot serve beside the others: it declares other
/// photons, or the same photons with other kinds, methods, idempotent methods or metadata (a call
/// would then be answered differently by each instance).
enum InstanceMismatch {
    /// The failure, if `photons` (instance `instance`'s) differ from `expected` (the others'), in
    /// any order.
    static func check(_ photons: [PhotonDescriptor], of instance: Int, against expected: [PhotonDescriptor], file: String) -> GenerationFailure? {
        guard Set(photons) != Set(expected) else { return nil }
        let names = photons.map(\.name).sorted(), others = expected.map(\.name).sorted()
        let what = names == others
            ? "declares \(names.joined(separator: ", ")) with other kinds, methods or metadata than the other instances"
            : "declares \(names.joined(separator: ", ")), the other instances \(others.joined(separator: ", "))"
        return GenerationFailure(.validate, LoaderError(.invalidHello, "photon file \(file): instance \(instance) \(what); every instance of a file must declare the same photons", file: file))
    }
}
