import Synchronization

/// The loaded photons by name, as `FileRecords` keeps them, also for readers that must not wait
/// for the loader's actor: a photon's call to another through the host (`Loader+HostFunctions`)
/// finds its handler here under a lock held for a dictionary look-up.
final class LoadedPhotons: Sendable {
    private let byName = Mutex<[String: Handler]>([:])

    /// The loaded photon named `name`.
    func handler(named name: String) -> Handler? {
        byName.withLock { $0[name] }
    }

    /// Every loaded photon by name.
    var all: [String: Handler] {
        byName.withLock { $0 }
    }

    /// A file's handlers changed from `before` to `after`.
    func replace(_ before: [Handler], with after: [Handler]) {
        byName.withLock { byName in
            for handler in before where byName[handler.name] === handler { byName[handler.name] = nil }
            for handler in after { byName[handler.name] = handler }
        }
    }
}
