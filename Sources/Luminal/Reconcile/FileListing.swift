import LuminalSystem

/// The loader's files in order, as the metrics list them: the loaded files by path, each with its
/// handlers by name, the paths of the failed files, how many files are being loaded for the
/// first time, and the files' held sockets. `FileRecords` keeps one until a record changes: a
/// scraper asks every second.
struct FileListing: Sendable {
    /// The loaded files by path, each with its instances (`core` the first) and its handlers by name.
    let loaded: [(core: FileCore, pool: InstancePool, handlers: [Handler])]
    /// The loaded files of more than one instance, by path.
    let pools: [(path: String, pool: InstancePool)]
    /// The loaded files that hold sockets, by path, each with its sockets in the manifest's order.
    let sockets: [(path: String, sockets: [HeldSocket])]
    /// The paths of the photon files that failed to load, in order.
    let failed: [String]
    /// How many photon files are being loaded for the first time.
    let loading: Int

    /// The listing of `records` as they are.
    init(_ records: Loader.FileRecords) {
        let files = records.loaded.sorted { $0.core.path < $1.core.path }
        loaded = files.map { ($0.core, $0.pool, $0.handlers.sorted { $0.name < $1.name }) }
        pools = files.filter { $0.pool.count > 1 }.map { ($0.core.path, $0.pool) }
        sockets = files.filter { !$0.sockets.isEmpty }.map { ($0.core.path, $0.sockets) }
        failed = records.failures.map(\.path).sorted()
        loading = records.firstLoads.count
    }
}
