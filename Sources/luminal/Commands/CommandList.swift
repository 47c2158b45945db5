/// Every `luminal` command, in the order the help lists them.
enum CommandList {
    static let run = CommandSpec(
        name: "run", operands: "DIR", operandCount: 1...1,
        summary: "Supervise every photon in DIR until SIGTERM or SIGINT.",
        details: """
            Loads and starts every photon file in DIR, prints their output tagged [name], reloads a
            photon file atomically when it changes (new ones are loaded, deleted ones unloaded), and
            restarts crashed workers with backoff. Clients (status, reload, call…) talk to it over
            its control socket. SIGTERM or SIGINT turns /readyz 503, answers the control requests
            already sent, stops every photon gracefully (finalizers, then SIGTERM, then SIGKILL after
            the timeouts) and exits 0; a second signal kills them at once. A photon file whose manifest
            says "essential": true and that cannot be kept running stops them the same way, exit 6.
            Under systemd (Type=notify) it sends READY=1 once the photons are up, STOPPING=1 when
            stopping, and watchdog pings when WatchdogSec is set. It works as PID 1 in a container.
            """,
        options: [
            OptionSpec("recursive", short: "r", "also load photons from plain sub-folders of DIR"),
            OptionSpec("no-watch", "load once; do not follow changes to DIR"),
            .control,
            OptionSpec("state", value: "PATH", "where this run records its workers, so that the next run kills what it left behind if it was killed outright (default: one file per folder in $XDG_RUNTIME_DIR, else /tmp)"),
            OptionSpec("stop-timeout", value: "SECONDS", "finalizers and shutdown, before SIGTERM (default 5)"),
            OptionSpec("kill-timeout", value: "SECONDS", "after SIGTERM, before SIGKILL (default 5)"),
            OptionSpec("call-timeout", value: "SECONDS", "a call fails with timeout after this long when its caller gives no --timeout (default 60; 0: never); a manifest's timeouts.call wins"),
            OptionSpec("quiet", short: "q", "print photon output only, not Luminal's own messages"),
            OptionSpec("log-dir", value: "DIR", "also write each photon file's output to DIR/NAME.log and Luminal's own log to DIR/luminal.log, rotated by size; DIR is made mode 0750 if missing, and refused if a user other than root and this one owns or can write it or a folder on its path"),
            OptionSpec("log-format", value: "FORMAT", "text (default) or json: one object per line with time, photon, file, stream, text"),
            OptionSpec("log-max-bytes", value: "BYTES", "rotate a log file before it passes this size (default 10485760)"),
            OptionSpec("log-keep", value: "N", "rotated files kept per log, NAME.log.1 (newest) to NAME.log.N (default 5)"),
            OptionSpec("metrics", value: "[ADDRESS:]PORT", "serve Prometheus metrics at http://ADDRESS:PORT/metrics, and the probes /livez and /readyz (ADDRESS defaults to 127.0.0.1; 0.0.0.0 for every interface; an IPv6 one in brackets, [::1]:9464)"),
        ])

    static let status = CommandSpec(
        name: "status", operands: "[NAME|PATH…]", operandCount: 0...Int.max,
        summary: "Show the photons: state, pid, generation, restarts, uptime.",
        details: "With --check, print only the photons and photon files that are not healthy (with --json, their status objects in one array) and exit 3 if there are any (for probes and monitoring).",
        options: [OptionSpec("check", "exit 3 when a photon is not healthy (not started, or unresponsive) or a photon file failed to load, 0 otherwise"), .json, .control])

    static let start = CommandSpec(
        name: "start", operands: "[NAME|PATH…]", operandCount: 0...Int.max,
        summary: "Start photons (all by default); a stopped or failed one gets a new worker.",
        details: "", options: [.all, .json, .control])

    static let stop = CommandSpec(
        name: "stop", operands: "[NAME|PATH…]", operandCount: 0...Int.max,
        summary: "Stop photons' workers (every one with --all) and keep them loaded.",
        details: "A stopped photon is not restarted or reloaded until `luminal start`. Stopping runs the finalizers, then SIGTERM, then SIGKILL after the timeouts. Without a NAME or PATH it refuses (exit 64): stopping every photon takes --all.",
        options: [.all, .force, .json, .control])

    static let restart = CommandSpec(
        name: "restart", operands: "[NAME|PATH…]", operandCount: 0...Int.max,
        summary: "Stop, then start photons (every one with --all).",
        details: "The photon file as it is now is read and checked first: if it could not be started (a manifest that does not parse, an unknown user…) nothing is stopped. For a change of version without a gap in service, use `luminal reload`. Without a NAME or PATH it refuses (exit 64): restarting every photon takes --all.",
        options: [.all, .force, .json, .control])

    static let reload = CommandSpec(
        name: "reload", operands: "NAME|PATH…", operandCount: 1...Int.max,
        summary: "Reload photon files atomically: the new worker serves before the old one stops.",
        details: "All or nothing: if a new worker fails, every old one keeps serving and the exit status is 5.",
        options: [.json, .control])

    static let load = CommandSpec(
        name: "load", operands: "PATH", operandCount: 1...1,
        summary: "Load a photon file and start its photons.",
        details: "", options: [.json, .control])

    static let unload = CommandSpec(
        name: "unload", operands: "NAME|PATH…", operandCount: 1...Int.max,
        summary: "Stop photon files' workers and unload them (every photon of each file).",
        details: "", options: [.force, .json, .control])

    static let call = CommandSpec(
        name: "call", operands: "PHOTON METHOD [JSON]", operandCount: 2...3,
        summary: "Call a method of a photon and print its result.",
        details: "JSON is the parameters, e.g. '{\"name\": \"Ada\"}' (default null). The result is printed as JSON (a string result as plain text unless --json). Ctrl-C cancels the call (the photon is told, if it reads cancels) and exits 130.",
        options: [OptionSpec("timeout", value: "SECONDS", "give up on the call after this long; the photon is told it as the call's deadline (default: the photon's timeouts.call, else the supervisor's --call-timeout, 60 s)"),
                  OptionSpec("stream", "take the result in parts: print each part as it arrives, one a line (with --json, one JSON document a line), then the method's final value unless it is null; the photon sends parts only as fast as they are printed"),
                  .json, .control])

    static let logs = CommandSpec(
        name: "logs", operands: "[NAME|PATH]", operandCount: 0...1,
        summary: "Show recent output and log lines (of one photon file), then follow with -f.",
        details: "The supervisor keeps the last 2,000 lines in memory.",
        options: [OptionSpec("follow", short: "f", "keep printing new lines until interrupted"),
                  OptionSpec("lines", short: "n", value: "N", "how many recent lines to show first (default 50)"), .json, .control])

    static let events = CommandSpec(
        name: "events", operands: "", operandCount: 0...0,
        summary: "Follow the supervisor's events (loaded, crashed, reloaded…) until interrupted.",
        details: """
            The supervisor keeps its last 1,000 events (worker output aside: see luminal logs), at most 4 MiB of them; --since N shows the last N of them that the filters admit first. An event that names only a photon file (restarted, quarantined…) is shown for --photon NAME when that file hosts NAME. eventsDropped, which says events were lost, is always shown.
            """,
        options: [OptionSpec("follow", short: "f", "follow (the default; accepted for symmetry with logs)"),
                  OptionSpec("since", short: "n", value: "N", "first show the last N events kept (default 0; more than are kept shows them all)"),
                  OptionSpec("photon", value: "NAME|PATH", "only the events of this photon, or of the photon file at PATH; repeat it or give a comma list of names"),
                  OptionSpec("kind", value: "KIND", "only events of this kind (loaded, crashed, restarted, photonEvent…); repeat it or give a comma list"),
                  .json, .control])

    /// All of them.
    static let metrics = CommandSpec(
        name: "metrics", operands: "", operandCount: 0...0,
        summary: "Print the supervisor's and its photons' metrics (Prometheus text format).",
        details: "Calls by outcome, call durations, calls in flight, states, generations, restarts, reloads, faults, missed heartbeats, and each photon file's memory, CPU time and descriptors. `luminal run --metrics ADDRESS:PORT` serves the same text over HTTP for Prometheus.",
        options: [.json, .control])

    static let top = CommandSpec(
        name: "top", operands: "", operandCount: 0...0,
        summary: "Show every photon live: state, pid, calls/s, p99 latency, errors, memory, CPU.",
        details: "Refreshed every second and sized to the terminal. Keys sort the rows: n name, s state, t calls/s, l p99 latency, e errors, r restarts, m memory, c CPU; q quits. Colour follows NO_COLOR. It needs a terminal (exit 64 without one); scripts use `status --json` or `metrics`.",
        options: [OptionSpec("sort", value: "KEY", "the first order: name, state, calls, latency, errors, restarts, memory or cpu"), .control])

    static let all = [run, status, start, stop, restart, reload, load, unload, call, logs, events, metrics, top]

    /// `luminal --help`.
    static var overview: String {
        var lines = ["luminal — supervise photons: plug-in workers in their own processes.", "", "Usage: luminal COMMAND [ARGUMENTS] [options]", "", "Commands:"]
        for spec in all { lines.append("  " + spec.name.padding(toLength: 10) + spec.summary) }
        lines += ["", "Run 'luminal COMMAND --help' for a command's options. 'luminal --version' prints the version.", "", "Exit status:"]
        for code in ExitCode.allCases { lines.append("  " + "\(code.rawValue)".padding(toLength: 5) + code.explanation) }
        return lines.joined(separator: "\n")
    }
}
