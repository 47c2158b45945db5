import Luminal

/// Loads the photon file at `path` into `loader` and starts its first photon, or stops the benchmark.
func startedPhoton(at path: String, in loader: Loader) async -> Handler {
    do {
        guard let handler = try await loader.loadPhoton(at: path).first else { fail("\(path) loaded no photon") }
        try await handler.start()
        return handler
    } catch {
        fail("cannot load \(path): \(error)")
    }
}
