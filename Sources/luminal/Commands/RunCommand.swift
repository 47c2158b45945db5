import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Luminal
import LuminalDaemon
import LuminalSystem
import LuminalWorker
import Synchronization

/// `luminal run DIR`: supervise every photon in DIR (whatever kinds it declares), serve the control socket, and (unless
/// --no-watch) keep the photons in step with the folder, until SIGTERM or SIGINT.
enum RunCommand {
    static func main(_ arguments: ParsedArguments) throws(UsageError) -> Never {
        // Blocked before any thread exists, so in every thread (threads inherit it): the signal
        // sources (`Shutdown`) read SIGINT and SIGTERM, and no thread started before them takes
        // one and drops it, as they ignore it. A worker's child unblocks every signal.
        var stopping = sigset_t()
        sigemptyset(&stopping)
        sigaddset(&stopping, SIGINT)
        sigaddset(&stopping, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &stopping, nil)
        let directory = arguments.operands[0]
        // Before anything is spawned: workers must not inherit the service manager's socket.
        let notifier = SystemdNotifier.fromEnvironment()
        var configuration = LoaderConfiguration()
        configuration.stateFile = arguments.values["state"] ?? defaultStateFile(for: directory)
        if let stop = try seconds(arguments, "stop-timeout") { configuration.stopTimeout = stop }
        if let kill = try seconds(arguments, "kill-timeout") { configuration.killTimeout = kill }
        if let call = try seconds(arguments, "call-timeout") { configuration.callTimeout = call == .zero ? nil : call }
        configuration.logFiles = try logFiles(arguments, root: absolute(directory))
        let metricsAt = try arguments.values["metrics"].map { text throws(UsageError) in try metricsAddress(text) }
        // Set once the shutdown exists (below), before any photon is loaded. The stop begins off
        // the thread that saw the loss (a worker's queue, a restart task), as a signal's does.
        let essentialLost = Mutex<Shutdown?>(nil)
        configuration.essentialLost = { _, reason in
            guard let shutdown = essentialLost.withLock({ $0 }) else { return }
            DispatchQueue.global().async {
                shutdown.stop(because: "\(reason): stopping every photon and exiting \(ExitCode.essentialLost.rawValue)",
                              readiness: reason, exitCode: .essentialLost)
            }
        }
        do {
            try configuration.logFiles?.checkFolder()
        } catch {
            Console.error("luminal run: cannot write the log files: \(error); choose another folder with --log-dir DIR")
            exit(ExitCode.cannotListen.rawValue)
        }
        let quiet = arguments.has("quiet"), watch = !arguments.has("no-watch"), recursive = arguments.has("recursive")
        let logBook = LogBook()
        let loader = Loader(logging: true, suppressErrors: true, configuration: configuration, logSink: { record in
            logBook.append(record)
            if let tag = record.tag {
                Console.out("[\(TerminalText.escaped(tag))] \(TerminalText.escaped(record.message))")
            } else if !quiet || record.level >= .warning {
                Console.error("luminal: \(record.level): \(TerminalText.escaped(LogText.indentingContinuations(record.message), keepingNewlines: true))")
            }
        })
        let control: ControlServer
        do {
            control = try ControlServer(loader: loader, path: ControlPath.resolve(arguments), logBook: logBook, loadingFolder: directory)
        } catch {
            Console.error("luminal run: cannot serve the control socket: \(error); choose another with --control PATH")
            exit(ExitCode.cannotListen.rawValue)
        }
        // Until the first load of the folder is over, nothing is listed that could be unready yet:
        // both endpoints say not ready from their first client on.
        let loading = "loading the photons of \(directory)"
        let metrics = metricsAt.map { metricsServer(at: $0, loader: loader, control: control, notReady: loading) }
        let shutdown = Shutdown(loader: loader, control: control, metrics: metrics, notifier: notifier)
        essentialLost.withLock { $0 = shutdown }
        Task {
            do throws(LoaderError) {
                try loader.claimStateFile()
                if watch {
                    try await loader.watchPhotons(in: directory, base: nil, recursive: recursive)
                } else {
                    for handler in try await loader.loadPhotons(in: directory, base: nil, recursive: recursive) {
                        do { try await handler.start() } catch { /* logged by the loader */ }
                    }
                }
            } catch {
                Console.error("luminal run: \(TerminalText.escaped(LogText.indentingContinuations(error.message), keepingNewlines: true))")
                control.close()
                exit((error.code == .directoryNotFound ? ExitCode.noInput : .failed).rawValue)
            }
            let handlers = await loader.photons.values
            let summary = "\(handlers.filter { $0.state == .started }.count) of \(handlers.count) photons started from \(directory)"
            metrics?.clearNotReady(loading)
            control.folderLoaded()
            loader.flushLog() // every "loaded …" line comes before the summary
            Console.error("luminal: \(summary)\(watch ? ", watching for changes" : ""); control socket \(control.path); Ctrl-C stops them")
            notifier?.notify(["READY=1", "STATUS=\(summary)", "MAINPID=\(getpid())"])
            if let notifier, let interval = notifier.watchdogInterval { await keepWatchdogFed(notifier, every: interval / 2, loader: loader) }
        }
        withExtendedLifetime((shutdown, metrics)) { parkMainThread() }
    }

    /// The HTTP endpoint `--metrics` asks for, at `address`, not ready for `notReady` until that
    /// is cleared; exits when it cannot listen there.
    private static func metricsServer(at address: (host: String, port: UInt16), loader: Loader, control: ControlServer,
                                      notReady: String) -> MetricsServer {
        let (host, port) = address
        do {
            let server = try MetricsServer(loader: loader, host: host, port: port, notReady: notReady)
            let shown = server.host.contains(":") ? "[\(server.host)]" : server.host
            Console.error("luminal: metrics on http://\(shown):\(server.port)/metrics")
            return server
        } catch {
            Console.error("luminal run: \(error); choose another with --metrics ADDRESS:PORT")
            control.close()
            exit(ExitCode.cannotListen.rawValue)
        }
    }

    /// The address and port of `--metrics [ADDRESS:]PORT`: an IPv4 address, or an IPv6 one in
    /// brackets (`[::1]:9464`); 127.0.0.1 when none is given.
    static func metricsAddress(_ text: String) throws(UsageError) -> (host: String, port: UInt16) {
        func usage(_ why: String) -> UsageError {
            UsageError(command: "run", "--metrics needs [ADDRESS:]PORT with a port from 0 to 65535, e.g. 127.0.0.1:9464 or [::1]:9464, got '\(text)'\(why)")
        }
        var host = "", portText = text
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]:") else { throw usage(": the address in brackets must be followed by :PORT") }
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = String(text[text.index(close, offsetBy: 2)...])
            guard !host.isEmpty else { throw usage(": the brackets hold no address") }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
            guard !host.contains(":") else { throw usage(": an IPv6 address goes in brackets, as in [::1]:9464") }
        }
        guard let port = UInt16(portText) else { throw usage("") }
        if host.isEmpty { return ("127.0.0.1", port) }
        guard TCPListener.isAddress(host) else { throw usage(": '\(host)' is not an IPv4 or IPv6 address") }
        return (host, port)
    }

    /// Keeps the main thread waiting for the rest of the process's life; the work runs on queues
    /// and the cooperative pool. Not `dispatchMain()`: it ends the main thread with
    /// `pthread_exit` and keeps it in `sigsuspend` from a thread-exit destructor, so a signal
    /// handled there runs on a thread the sanitizers' runtime has already retired, on a stack the
    /// forced unwind left poisoned (AddressSanitizer failed its own check on SIGTERM, at random).
    private static func parkMainThread() -> Never {
        while true { pause() }
    }

    /// Pings the watchdog while the loader answers: a wedged supervisor stops pinging and is restarted.
    private static func keepWatchdogFed(_ notifier: SystemdNotifier, every interval: Duration, loader: Loader) async {
        while true {
            notifier.notify(["WATCHDOG=1"])
            try? await Task.sleep(for: interval)
            _ = await loader.isWatching
        }
    }

    /// An option's value in seconds, if given.
    private static func seconds(_ arguments: ParsedArguments, _ name: String) throws(UsageError) -> Duration? {
        guard let text = arguments.values[name] else { return nil }
        guard let value = Double(text), value >= 0, value <= 86_400 else {
            throw UsageError(command: "run", "--\(name) needs a number of seconds from 0 to 86400, got '\(text)'")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    /// The log files `--log-dir` and its options ask for, if any.
    private static func logFiles(_ arguments: ParsedArguments, root: String) throws(UsageError) -> LogFileOptions? {
        let others = ["log-format", "log-max-bytes", "log-keep"].filter { arguments.values[$0] != nil }
        guard let directory = arguments.values["log-dir"] else {
            if let other = others.first { throw UsageError(command: "run", "--\(other) needs --log-dir DIR") }
            return nil
        }
        var options = LogFileOptions(directory: absolute(directory), root: root)
        if let text = arguments.values["log-format"] {
            guard let format = LogFileOptions.Format(rawValue: text) else {
                throw UsageError(command: "run", "--log-format is text or json, got '\(text)'")
            }
            options.format = format
        }
        if let text = arguments.values["log-max-bytes"] {
            guard let bytes = Int(text), bytes >= 1024 else { throw UsageError(command: "run", "--log-max-bytes needs a whole number of bytes ≥ 1024, got '\(text)'") }
            options.maxBytes = bytes
        }
        if let text = arguments.values["log-keep"] {
            guard let keep = Int(text), (0...1000).contains(keep) else { throw UsageError(command: "run", "--log-keep needs a whole number from 0 to 1000, got '\(text)'") }
            options.keep = keep
        }
        return options
    }

    /// `$XDG_RUNTIME_DIR` (or /tmp)/luminal-UID-<folder>.state: one per supervised folder and user.
    private static func defaultStateFile(for directory: String) -> String {
        let runtime = getenv("XDG_RUNTIME_DIR").map { String(cString: $0) } ?? "/tmp"
        let folder = String(absolute(directory).map { $0.isLetter || $0.isNumber ? $0 : "_" })
        return "\(runtime)/luminal-\(getuid())-\(folder).state"
    }
}
