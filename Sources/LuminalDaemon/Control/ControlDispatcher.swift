import Luminal
import LuminalSystem
import LuminalWire
import LuminalWorker

/// Carries out control requests against a loader.
struct ControlDispatcher: Sendable {
    let loader: Loader
    let logBook: LogBook?
    /// The folder whose first load is awaited, listed by `status` until it is over.
    var loadingFolder: LoadingFolder? = nil

    /// What became of an item sent to the client.
    enum Delivery: Equatable {
        /// Written, or queued to be.
        case sent
        /// Not sent: its frame would be `bytes` long, more than a client accepts.
        case tooLarge(bytes: Int)
        /// The client is gone (or was disconnected).
        case gone
    }

    /// Sends an item to the client; `paced` waits until the client has read most of what was
    /// sent before (for a backlog the supervisor holds already).
    typealias Send = @Sendable (ControlReply, _ paced: Bool) async -> Delivery

    /// The final reply to `request`, after any streamed items.
    func perform(_ request: ControlRequest, send: Send) async -> ControlReply {
        do {
            return .success(try await result(of: request, send: send))
        } catch let error as LoaderError {
            return .failure(ControlReply.Failure(error))
        } catch {
            return .failure(error as? ControlReply.Failure ?? ControlReply.Failure(.failed, "\(error)"))
        }
    }

    private func result(of request: ControlRequest, send: Send) async throws -> JSONValue {
        switch request.command {
        case .status:
            return .array(try await statusItems(request.targets))
        case .start:
            return try await eachFile(request.targets, done: "started") { path throws(LoaderError) in
                .array(try await loader.startPhoton(path).map(\.statusJSON))
            }
        case .stop:
            return try await eachFile(request.targets, done: "stopped") { path throws(LoaderError) in
                try await loader.stopPhoton(path, forceStop: request.force).json
            }
        case .restart:
            return try await eachFile(request.targets, done: "restarted") { path throws(LoaderError) in
                .array(try await loader.restartPhoton(path, forceStop: request.force).map(\.statusJSON))
            }
        case .reload:
            return .array(try await loader.reloadPhotons(request.targets).map(\.statusJSON))
        case .load:
            let path = Paths.absolute(request.targets[0])
            let handlers = try await loader.loadPhoton(at: path, base: nil)
            // Every photon is chosen (`base: nil`): nothing loaded means the file was there already.
            if handlers.isEmpty { throw ControlReply.Failure(await loader.secondLoadError(path)) }
            for handler in handlers { try await handler.start() }
            return .array(handlers.map(\.statusJSON))
        case .unload:
            return .array(try await loader.unloadPhotons(request.targets, forceStop: request.force).map(\.json))
        case .call:
            let timeout = request.timeout.map { Duration.milliseconds(Int64(($0 * 1000).rounded(.up))) }
            if request.stream {
                try await streamCall(request, timeout: timeout, send: send)
                return nil
            }
            return try await loader.call(request.targets[0], request.method ?? "", params: request.params, timeout: timeout)
        case .logs:
            try await streamLogs(request, send: send)
            return nil
        case .events:
            try await streamEvents(request, send: send)
            return nil
        case .metrics:
            return .string(await loader.metrics())
        }
    }

    /// What `luminal status` shows of the named photons and photon files (all when `targets` is
    /// empty): the photons by name, then the failed files, then the files being loaded. Without
    /// `usage`, a photon's containment and what its tree uses are left out (not read from `/proc`).
    func statusItems(_ targets: [String], usage: Bool = true) async throws(ControlReply.Failure) -> [JSONValue] {
        let paths = Set(targets.map(Paths.absolute))
        let loading = await loader.loadingFiles.filter { targets.isEmpty || paths.contains($0.path) }
        // A file whose first load is under way has no photons yet: its loading-file object answers for it.
        let named = targets.filter { target in !loading.contains { $0.path == Paths.absolute(target) } }
        let photons = try await (targets.isEmpty || !named.isEmpty ? handlers(named) : [])
            .map { usage ? $0.statusJSON : $0.snapshot.statusJSON }
        let failed = await loader.failedFiles.filter { targets.isEmpty || paths.contains($0.path) }
        let folder = targets.isEmpty ? loadingFolder?.statusJSON : nil
        return (folder.map { [$0] } ?? []) + photons + failed.map(\.statusJSON) + loading.map(\.statusJSON)
    }

    /// The handlers of the named photons or photon files, all when `targets` is empty, by name.
    private func handlers(_ targets: [String]) async throws(ControlReply.Failure) -> [Handler] {
        let all = await loader.photons.values.sorted { $0.name < $1.name }
        guard !targets.isEmpty else { return all }
        var chosen: [Handler] = []
        for target in targets {
            // A photon's name picks that photon; a path picks every photon of the file.
            let path = try await filePath(of: target)
            let named = all.filter { $0.name == target }
            chosen += (named.isEmpty ? all.filter { $0.filePath == path } : named).filter { !chosen.contains($0) }
        }
        return chosen
    }

    /// Runs `operation` on each photon file named (every loaded one when `targets` is empty),
    /// all at once; the results in path order, or the failures together: for several files, after
    /// the files it was `done` for (e.g. "restarted"), with their results in the details' `done`
    /// and each failure in `failures`.
    private func eachFile(_ targets: [String], done: String, _ operation: @escaping @Sendable (String) async throws(LoaderError) -> JSONValue) async throws(ControlReply.Failure) -> JSONValue {
        var paths: [String] = []
        if targets.isEmpty {
            paths = Set(await loader.photons.values.map(\.filePath)).sorted()
        } else {
            for target in targets {
                let path = try await filePath(of: target)
                if !paths.contains(path) { paths.append(path) }
            }
        }
        let results = await withTaskGroup(of: (Int, Result<JSONValue, LoaderError>).self) { group in
            for (index, path) in paths.enumerated() {
                group.addTask { (index, await Result(awaiting: { () async throws(LoaderError) in try await operation(path) })) }
            }
            var results = [Result<JSONValue, LoaderError>?](repeating: nil, count: paths.count)
            for await (index, result) in group { results[index] = result }
            return results.compactMap { $0 }
        }
        let errors = results.compactMap { if case .failure(let error) = $0 { ControlReply.Failure(error) } else { nil } }
        let succeeded = zip(paths, results).compactMap { path, result in (try? result.get()).map { (path, $0) } }
        guard var failure = errors.first else { return .array(succeeded.map(\.1)) }
        failure.message = errors.map(\.message).joined(separator: "; ")
        if paths.count > 1 {
            // Done first: a failure's message may end with what a worker wrote.
            if !succeeded.isEmpty { failure.message = "\(done): \(succeeded.map(\.0).joined(separator: ", ")); failed: " + failure.message }
            var details = failure.details.objectValue ?? [:]
            details["done"] = .array(succeeded.map(\.1))
            details["failures"] = .array(errors.map { ["code": .string($0.code.rawValue), "message": .string($0.message), "details": $0.details] })
            failure.details = .object(details)
        }
        throw failure
    }

    /// The path of the photon file `target` names, loaded or failed (`FailedFile`).
    private func filePath(of target: String) async throws(ControlReply.Failure) -> String {
        if let failure = await loader.failedFile(at: target) { return failure.path }
        do throws(LoaderError) {
            return try await loader.filePath(of: target)
        } catch {
            throw ControlReply.Failure(error)
        }
    }

    /// The window of a client's streamed call: the parts of it the supervisor may hold, each at
    /// most a frame (16 MiB), beside the client's 16 MiB of unread replies (CONTROL.md §4).
    static let streamWindow = 4

    /// A streamed call: each part (and the final value unless `null`) as an item once the client
    /// has read most of those before, so the photon sends only as fast as the client reads; a
    /// client gone drops the stream, which cancels the call.
    private func streamCall(_ request: ControlRequest, timeout: Duration?, send: Send) async throws {
        let stream = try await loader.stream(request.targets[0], request.method ?? "", params: request.params,
                                             window: Self.streamWindow, timeout: timeout)
        var number = 0
        for try await part in stream {
            number += 1
            switch await send(.item(part), true) {
            case .sent: continue
            case .gone: return
            case .tooLarge(let bytes):
                throw ControlReply.Failure(.limitExceeded, "part \(number) of call '\(request.method ?? "")' on photon \(request.targets[0]) is \(bytes) bytes as a control reply, over the limit of \(ControlServer.replyCap); the call is cancelled")
            }
        }
    }

    /// Sends the most recent events kept that the request's filter admits (as many as it asks
    /// for), then each new one it admits until the client hangs up. The kept events are at most
    /// `KeptEvents.byteLimit` of text: they are sent at once, not paced, so that the new ones go
    /// on being taken from the stream (a client that stops reading is disconnected at its
    /// output limit, as it would be by the new ones alone).
    private func streamEvents(_ request: ControlRequest, send: Send) async throws(ControlReply.Failure) {
        var filter = try await EventFilter(request, loader: loader)
        let stream: AsyncStream<LoaderEvent>
        var backlog: [JSONValue] = []
        do { // the copy of the kept events goes at the end of this scope
            let subscription = loader.recentEvents()
            stream = subscription.stream
            for event in subscription.recent {
                let json = event.json
                if filter.admits(json) { backlog.append(json) }
            }
            backlog = Array(backlog.suffix(request.since ?? 0))
        }
        for json in backlog {
            guard await sendEvent(json, send) else { return }
        }
        backlog = []
        for await event in stream {
            let json = event.json
            guard filter.admits(json) else { continue }
            guard await sendEvent(json, send) else { return }
        }
    }

    /// Sends one event, or `eventsDropped` if it is too large for a frame; false once the client is gone.
    private func sendEvent(_ json: JSONValue, _ send: Send) async -> Bool {
        var delivery = await send(.item(json), false)
        if case .tooLarge = delivery { delivery = await send(.item(LoaderEvent.eventsDropped(count: 1).json), false) }
        return delivery == .sent
    }

    /// Sends the recent lines, then (when following) each new one until the client hangs up.
    private func streamLogs(_ request: ControlRequest, send: Send) async throws(ControlReply.Failure) {
        guard let logBook else { throw ControlReply.Failure(.failed, "this supervisor keeps no log lines") }
        var file: String?
        if let target = request.targets.first { file = try await filePath(of: target) }
        let following = request.follow ? logBook.follow() : nil
        var last = 0
        for entry in logBook.recent(request.lines ?? 50, file: file) {
            guard await sendLog(entry, paced: true, send) else { return }
            last = entry.sequence
        }
        guard let following else { return }
        for await entry in following where entry.sequence > last && (file == nil || entry.record.file == file) {
            guard await sendLog(entry, paced: false, send) else { return }
        }
    }

    /// Sends one log entry, or a line saying it was left out if it is too large for a frame;
    /// false once the client is gone.
    private func sendLog(_ entry: LogBook.Entry, paced: Bool, _ send: Send) async -> Bool {
        var delivery = await send(.item(entry.json), paced)
        if case .tooLarge(let bytes) = delivery {
            let note = LogRecord(level: .warning, message: "(a line of \(bytes) bytes was left out: a control reply holds at most \(ControlServer.replyCap))",
                                 file: entry.record.file, tag: entry.record.tag)
            delivery = await send(.item(LogBook.Entry(sequence: entry.sequence, time: entry.time, record: note).json), paced)
        }
        return delivery == .sent
    }
}

extension ControlReply.Failure {
    /// The control failure for a loader error, its code kept in the details.
    package init(_ error: LoaderError) {
        let code: ControlReply.Code = switch error.code {
        case .photonNotFound, .directoryNotFound: .notFound
        case .reloadRolledBack: .rolledBack
        default: .failed
        }
        var details: [String: JSONValue] = ["loaderCode": .string(error.code.rawValue)]
        details["photon"] = error.photon.map(JSONValue.string)
        details["file"] = error.file.map(JSONValue.string)
        details["step"] = error.step.map { .string($0.rawValue) }
        details["exit"] = error.exit.map { .string($0.description) }
        details["photonError"] = error.reply.map { reply in
            var photonError: [String: JSONValue] = ["code": .string(reply.code), "message": .string(reply.message)]
            photonError["data"] = reply.data // absent stays absent, null stays null (PROTOCOL.md §3.1)
            return .object(photonError)
        }
        self.init(code, error.message, details: .object(details))
    }
}
