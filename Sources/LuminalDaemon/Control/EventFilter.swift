import Luminal
import LuminalSystem
import LuminalWire

/// Which events an `events` request asks for (CONTROL.md §2): of some kinds, and of some photons
/// (by name) or photon files (by path).
///
/// An event that names photons (`photon`, `photons`, or an unload outcome's) is about those
/// photons; one that names only a photon file (`loadStarted`, `restarted`, `quarantined`, a `log`
/// line before the hello…) is about every photon that file hosts. A photon file hosts a photon
/// named in the request when the photon is loaded from it as the request begins, or when an
/// event seen since (kept or new) named both (`loaded`, `reloaded`, `crashed`…): the files
/// learned are kept for the stream's life. `eventsDropped` is always sent: it says that events
/// (of any kind) were lost.
struct EventFilter {
    /// The kinds asked for; empty for every kind.
    private let kinds: Set<LoaderEvent.Kind>
    /// The photons asked for by name.
    private let names: Set<String>
    /// The photon files asked for by path.
    private let paths: Set<String>
    /// The photon files known to host a photon of `names`.
    private var hosts: Set<String> = []

    /// The filter of `request`; a kind no event has is a `badRequest` naming it and the kinds there are.
    init(_ request: ControlRequest, loader: Loader) async throws(ControlReply.Failure) {
        var kinds: Set<LoaderEvent.Kind> = []
        for name in request.kinds {
            guard let kind = LoaderEvent.Kind(rawValue: name) else {
                let known = LoaderEvent.Kind.allCases.map(\.rawValue).joined(separator: ", ")
                throw ControlReply.Failure(.badRequest, "no event is of kind '\(name)' (kinds: \(known))")
            }
            kinds.insert(kind)
        }
        self.kinds = kinds
        names = Set(request.targets.filter { !$0.contains("/") })
        paths = Set(request.targets.filter { $0.contains("/") }.map(Paths.absolute))
        hosts = Set(await loader.photons.values.filter { names.contains($0.name) }.map(\.filePath))
    }

    /// Whether `event` (its JSON form) is asked for; notes the photon file it says hosts a photon
    /// asked for, whether or not it is of a kind asked for.
    mutating func admits(_ event: JSONValue) -> Bool {
        guard event["event"] != "eventsDropped" else { return true }
        let (file, photons) = Self.subject(of: event)
        let namesOneAskedFor = photons.contains(where: names.contains)
        if namesOneAskedFor, let file { hosts.insert(file) }
        if !kinds.isEmpty, !(event["event"]?.stringValue.flatMap(LoaderEvent.Kind.init(rawValue:)).map(kinds.contains) ?? false) {
            return false
        }
        guard !names.isEmpty || !paths.isEmpty else { return true }
        if namesOneAskedFor { return true }
        guard let file else { return false }
        return paths.contains(file) || (photons.isEmpty && hosts.contains(file))
    }

    /// The photon file an event names, and the photons (none when it names only the file).
    private static func subject(of event: JSONValue) -> (file: String?, photons: [String]) {
        let body = event["outcome"] ?? event // `stopped` carries its unload outcome
        let photons = (body["photons"]?.arrayValue ?? []).compactMap(\.stringValue) + [body["photon"]?.stringValue].compactMap { $0 }
        return (body["file"]?.stringValue, photons)
    }
}
