"""Runs Luminal's benchmarks and writes BENCHMARKS.md; started by Scripts/bench after the build.

The machine is shared and noisy: every figure is a median (and p99) over samples taken in this
run, next to a baseline taken in the same run, and the targets are judged on those.
"""
import argparse, datetime, json, os, platform, shlex, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, ".build", "release")

MODES = {
    "quick": dict(rounds=3, round_trips=2000, pipelined=20000, window=64, python_round_trips=1000,
                  python_pipelined=5000, python_nap_round_trips=100, spawn_runs=40, peer_samples=1, peer_workers=200, photons=1000,
                  idle=10, variants="inotify-no-heartbeat", reload_runs=10, reloads=100, callers=4,
                  cancel_runs=200, crashes=100, limit_spawns=40, leak_seconds=15,
                  metrics_rounds=2, scrapes=20, scrape_seconds=10, log_photons=100, log_rate=1000, log_seconds=5,
                  sigterm_calls=100, sigterm_call_ms=200, sigterm_runs=5, callback_rounds=2000,
                  stream_parts=2048, stream_bytes=65536, stream_window=16, stream_slow_seconds=5,
                  socket_reloads=20, socket_restarts=5, pool_cpu_calls=50, pool_mixed_calls=300, pool_rolls=5),
    "full": dict(rounds=5, round_trips=20000, pipelined=200000, window=64, python_round_trips=5000,
                 python_pipelined=20000, python_nap_round_trips=500, spawn_runs=200, peer_samples=5, peer_workers=200, photons=1000,
                 idle=60, variants="inotify-no-heartbeat,inotify,polling", reload_runs=50, reloads=100, callers=4,
                 cancel_runs=500, crashes=100, limit_spawns=200, leak_seconds=60,
                 metrics_rounds=5, scrapes=60, scrape_seconds=60, log_photons=100, log_rate=1000, log_seconds=10,
                 sigterm_calls=100, sigterm_call_ms=200, sigterm_runs=20, callback_rounds=20000,
                 stream_parts=16384, stream_bytes=65536, stream_window=16, stream_slow_seconds=30,
                 socket_reloads=100, socket_restarts=20, pool_cpu_calls=200, pool_mixed_calls=1000, pool_rolls=20),
}

# Why a target is missed, from profiling this code on this machine (see "Where the time goes").
WHY = {
    "round_trip": "see 'Where the time goes': a call crosses more thread hand-offs than the floor's two processes.",
    "throughput": "see 'Where the time goes': the CPU a call costs both processes, spread over many steps on three threads (callers, the epoll thread, the worker's reader) sharing 2 cores; the second CPU adds little to the rate and much to each call's CPU (the one-CPU row below).",
    "spawn": "see 'Where the time goes': pipes, pidfd and event-loop registrations, and the hello through the worker's queue and the Loader actor.",
    "restart": "the restart path is Luminal's own code; investigate with the run's numbers.",
    "up": "spawning the 200 shell-script workers is most of the time for every supervisor (see the direct spawn floor).",
    "rss": "see 'Where the memory goes' in Scripts/bench-notes.md.",
    "idle": "see 'Where the time goes': what wakes an idle supervisor.",
    "heartbeat": "see 'Where the time goes': an idle worker still costs a ping round trip every interval.",
    "lost": "a call failed during a reload: see the error codes.",
    "load": "see 'Where the time goes': what a load does besides the spawn.",
    "reload": "see 'Where the time goes': a reload hashes the file, spawns and starts the new generation while the old one still runs.",
    "cancel": "see Scripts/bench-notes.md: the cancel crosses the caller's task, the worker's queue, fd 3 and the SDK's reader.",
    "spin": "see Scripts/bench-notes.md: a method that does not check Task.isCancelled cannot be stopped by the SDK.",
    "retry": "a call failed across a crash: see the error codes (poisonCall means a call was in flight in two killed generations).",
    "limits": "see Scripts/bench-notes.md: the contained spawn (clone3 with CLONE_VM | CLONE_VFORK, a stack mapped per spawn, the cgroup made and opened).",
    "recycle": "a call failed, or the sampled peak passed threshold + one interval's growth: see the figures.",
    "metrics_calls": "the counters are a few relaxed atomic additions per call, and a scrape of one photon writes a few kilobytes: a miss here is the spread between rounds on a shared 2-core machine (compare the rounds in the JSON).",
    "scrape": "see 'Where the time goes': a scrape that makes a pass over /proc (once a minute with 1,000 workers) pays the floor beside it; the others send ~2 MB of kept text.",
    "scrape_cpu": "see 'Where the time goes': the kernel's copy of ~2 MB into the socket, the 1,000 photons' change counts, the uptimes, and a pass over /proc once a minute.",
    "log_files": "lines were dropped (counted) or are missing: see the figures.",
    "sigterm_503": "the signal reaches a dispatch source on the shutdown queue, which sets the flag the metrics thread reads: investigate with the run's numbers.",
    "sigterm_failed": "a call sent before SIGTERM failed: see the error codes (the stop must answer every control request before it stops the workers).",
    "python_async": "see Scripts/bench-notes.md: each call costs the Python worker about 22 µs of CPU (asyncio's task, future and timer, then the JSON), so one core serves about 45,000 naps a second however many await; a machine whose interpreter is slower per call, or whose threads' baseline is faster, can fall short of 5×.",
    "callbacks": "see Scripts/bench-notes.md (calls that go the other way): a host call crosses the SDK's reader, the supervisor's epoll thread and a task of its own before its reply goes back.",
    "stream": "see Scripts/bench-notes.md (streamed results): each part is parsed into a JSON string in the supervisor and written as one in the photon.",
    "stream_rss": "see Scripts/bench-notes.md (streamed results): the parts waiting (at most the window), the one being read and the one taken, and the allocator's arenas.",
    "held_socket": "a connection was refused or reset during a reload: see the counts (the socket stays open in the supervisor, so a refusal means it was closed; a reset means a worker was killed with a connection it had accepted).",
    "pool_cpu": "the two instances and the 4 callers share 2 cores with the supervisor: see the calls/s of each.",
    "pool_mixed": "a short call waits only when every instance holds a long one: see the p99 of each schedule (the load is about 0.7 instances busy on average).",
    "pool_roll": "a call failed during a rolling reload: see the error codes.",
    "pool_scale": "the scale-up waits for the gate (a reload of the file in progress) and brings the instance up like a load: see the figures.",
    "log_cpu": "see 'Where the time goes' (100 photons into log files): formatting each line and the dispatch queues' hand-offs; no lock is shared by the workers' output queues any more.",
}


def log(text):
    print(text, file=sys.stderr, flush=True)


def output(command):
    """Runs a benchmark and returns the JSON object of its last output line."""
    command = [str(c) for c in command]
    log("$ " + " ".join(shlex.quote(c) for c in command))
    result = subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench(*arguments):
    return output([os.path.join(RELEASE, "luminal-bench")] + list(arguments))


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return "%d cores, %s, Linux %s, load average %s at the start" % (os.cpu_count(), model, platform.release(), load)


# The parts of the run, in order; `--only` runs some of them.
PARTS = ("calls", "callbacks", "stream", "spawn", "peers", "scale", "reload", "sockets", "pools", "cancel", "crash-retry", "spawn-limits", "recycle", "metrics", "log-files", "sigterm")


def measure(m, parts=PARTS):
    chaos = os.path.join(RELEASE, "chaos-photon")
    python = os.path.join(ROOT, "photons", "python-greeter.py")
    greeter = os.path.join(RELEASE, "swift-greeter")
    results = {}
    # 1. Calls: the floor and the Swift photon alternate, round by round.
    if "calls" in parts:
        results.update({"floor": [], "floor_cross": [], "swift": [], "floor_one_cpu": [], "swift_one_cpu": []})
        # The pipelined runs again with every thread of both processes on one CPU: what the
        # second CPU adds to the rate, and to the CPU each call costs.
        one_cpu = ["taskset", "-c", "0"]  # the CPU pipe-floor's `same` pins both processes to
        for _ in range(m["rounds"]):
            results["floor"].append(output([os.path.join(RELEASE, "pipe-floor"), m["round_trips"], m["pipelined"], m["window"]]))
            results["floor_cross"].append(output([os.path.join(RELEASE, "pipe-floor"), m["round_trips"], m["pipelined"], m["window"], "cross"]))
            results["swift"].append(bench("calls", chaos, "echo", m["round_trips"], m["pipelined"], m["window"]))
            results["floor_one_cpu"].append(output([os.path.join(RELEASE, "pipe-floor"), 100, m["pipelined"], m["window"], "same"]))
            results["swift_one_cpu"].append(output(one_cpu + [os.path.join(RELEASE, "luminal-bench"), "calls", chaos, "echo", 100, m["pipelined"], m["window"]]))
        results["python"] = bench("calls", python, "greet", m["python_round_trips"], m["python_pipelined"], m["window"])
        # The same 1 ms wait as an `async def` method and as a plain one on the runtime's 8 threads.
        results["python_async"] = bench("calls", python, "nap", m["python_nap_round_trips"], m["python_pipelined"], m["window"])
        results["python_threads"] = bench("calls", python, "nap_in_thread", m["python_nap_round_trips"], m["python_pipelined"], m["window"])
    # 1b. Calls the other way: photon → host function and photon → photon, beside host → photon.
    if "callbacks" in parts:
        results["callbacks"] = bench("callbacks", chaos, m["callback_rounds"])
    # 1c. Streamed results, beside a C reader of the same frames from a pipe (three runs).
    if "stream" in parts:
        results["stream_floor"] = [output([os.path.join(RELEASE, "stream-floor"), m["stream_parts"], m["stream_bytes"]]) for _ in range(3)]
        results["stream"] = bench("stream", chaos, m["stream_parts"], m["stream_bytes"], m["stream_window"], m["stream_slow_seconds"])
    # 2. Spawn to ready, alternating with bare spawn + exit of the same binary.
    if "spawn" in parts:
        results["spawn"] = bench("spawn", chaos, m["spawn_runs"])
    # 3. Crash to running again and 200 up, beside supervisord and s6.
    if "peers" in parts:
        results["peers"] = output([sys.executable, os.path.join(ROOT, "Scripts", "bench-peers"), m["peer_samples"], m["peer_workers"]])
    # 4. Scale.
    if "scale" in parts:
        results["scale"] = bench("scale", m["photons"], m["idle"], m["variants"])
    # 5. Reload: watched file → new generation serving, and calls lost under load.
    if "reload" in parts:
        results["reload_swift"] = bench("reload", greeter, m["reload_runs"])
        # (the reload copies the photon file beside its runtime, so it takes the file the example links to)
        results["reload_python"] = bench("reload", os.path.realpath(python), m["reload_runs"])
        results["reload_load"] = bench("reload-under-load", chaos, m["reloads"], m["callers"])
    # 5b. A plain HTTP service on a held socket reloaded under a client, beside it on its own port.
    if "sockets" in parts:
        results["held_socket"] = bench("held-socket", os.path.join(ROOT, "photons", "http-service"), m["socket_reloads"], m["socket_restarts"])
    # 5c. Pools: CPU-bound calls on 1 and 2 instances, short calls among long ones, rolling reloads.
    if "pools" in parts:
        results["pools"] = bench("pools", os.path.join(ROOT, "protocol", "python"), chaos, m["pool_cpu_calls"], m["pool_mixed_calls"], m["pool_rolls"])
    # 6. Cancellation and crash-transparent calls.
    if "cancel" in parts:
        results["cancel"] = bench("cancel", chaos, m["cancel_runs"])
    if "crash-retry" in parts:
        results["crash_retry"] = bench("crash-retry", chaos, m["crashes"], m["callers"])
    if "spawn-limits" in parts:
        results["spawn_limits"] = bench("spawn-limits", chaos, m["limit_spawns"])
    if "recycle" in parts:
        results["recycle_leak"] = bench("recycle-leak", chaos, m["leak_seconds"], m["callers"])
    # 7. Metrics and log files: calls scraped each second against not (alternating rounds),
    # GET /metrics with 1,000 photons and CPU at one scrape a second, 100 photons into log files.
    if "metrics" in parts:
        results["metrics_calls"] = bench("metrics-calls", chaos, "echo", m["round_trips"], m["pipelined"], m["window"], m["metrics_rounds"])
        results["metrics_scrape"] = bench("metrics-scrape", m["photons"], m["scrapes"], m["scrape_seconds"])
    if "log-files" in parts:
        results["log_files"] = bench("log-files", m["log_photons"], m["log_rate"], m["log_seconds"])
    # 8. SIGTERM to a real `luminal run` with calls sent and not answered, /readyz probed without pause.
    if "sigterm" in parts:
        results["sigterm"] = bench("sigterm", chaos, m["sigterm_calls"], m["sigterm_call_ms"], m["sigterm_runs"])
    return results


def ms(value):
    return "%.3f ms" % value if value < 10 else "%.1f ms" % value


def table(m, results):
    rows = []

    def row(figure, luminal, baseline, ratio, target, met=None, why=None):
        verdict = "reference" if met is None else "met" if met else "**MISSED**: " + WHY[why]
        rows.append("| %s | %s | %s | %s | %s | %s |" % (figure, luminal, baseline, ratio, target, verdict))

    median = statistics.median
    if "swift" in results:
        # 1. Calls.
        floor_p50 = median([r["p50_us"] for r in results["floor"]]) / 1000
        floor_p99 = median([r["p99_us"] for r in results["floor"]]) / 1000
        cross_p50 = median([r["p50_us"] for r in results["floor_cross"]]) / 1000
        cross_p99 = median([r["p99_us"] for r in results["floor_cross"]]) / 1000
        swift_p50 = median([r["round_trip"]["p50_ms"] for r in results["swift"]])
        swift_p99 = median([r["round_trip"]["p99_ms"] for r in results["swift"]])
        row("Call round trip, Swift photon (p50 / p99, median of %d rounds of %d)" % (m["rounds"], m["round_trips"]),
            "%s / %s" % (ms(swift_p50), ms(swift_p99)),
            "C pipe ping-pong: %s / %s (pinned to two CPUs: %s / %s)" % (ms(floor_p50), ms(floor_p99), ms(cross_p50), ms(cross_p99)),
            "p50 %.2f×, p99 %.2f× the pinned floor" % (swift_p50 / cross_p50, swift_p99 / cross_p99),
            "p50 ≤ 2×, p99 ≤ 2.5× the floor pinned to two CPUs",
            swift_p50 <= 2 * cross_p50 and swift_p99 <= 2.5 * cross_p99, "round_trip")
        swift_rate = median([r["pipelined_per_s"] for r in results["swift"]])
        floor_rate = median([r["pipelined_per_s"] for r in results["floor"]])
        row("Pipelined calls, one Swift photon (%d callers on one Handler)" % m["window"], "%.0f calls/s" % swift_rate,
            "C pipe, %d in flight: %.0f frames/s" % (m["window"], floor_rate), "%.3f× floor" % (swift_rate / floor_rate),
            "≥ 0.3× the floor's frames/s", swift_rate >= 0.3 * floor_rate, "throughput")
        supervisor_cpu = median([r["supervisor_cpu_us_per_call"] for r in results["swift"]])
        worker_cpu = median([r["worker_cpu_us_per_call"] for r in results["swift"]])
        sender_cpu = median([r["sender_cpu_us_per_frame"] for r in results["floor"]])
        echo_cpu = median([r["echo_cpu_us_per_frame"] for r in results["floor"]])
        row("CPU per pipelined call, Swift photon (the supervisor with its callers / the worker)",
            "%.1f µs / %.1f µs" % (supervisor_cpu, worker_cpu),
            "C pipe, per frame: sender %.2f µs / echo %.2f µs" % (sender_cpu, echo_cpu),
            "%.1f× the floor's (both sides)" % ((supervisor_cpu + worker_cpu) / (sender_cpu + echo_cpu)), "reported")
        one_rate = median([r["pipelined_per_s"] for r in results["swift_one_cpu"]])
        one_floor = median([r["pipelined_per_s"] for r in results["floor_one_cpu"]])
        row("Pipelined calls, the supervisor and the worker on one CPU (CPU a call: supervisor / worker)",
            "%.0f calls/s (%.1f / %.1f µs); on two: %.2f× this rate" % (
                one_rate, median([r["supervisor_cpu_us_per_call"] for r in results["swift_one_cpu"]]),
                median([r["worker_cpu_us_per_call"] for r in results["swift_one_cpu"]]), swift_rate / one_rate),
            "C pipe on one CPU: %.0f frames/s; on two: %.2f× this rate" % (one_floor, floor_rate / one_floor),
            "%.3f× floor" % (one_rate / one_floor), "reported")
        py = results["python"]
        row("Call round trip, Python photon (p50 / p99; pipelined)", "%s / %s; %.0f calls/s" % (
            ms(py["round_trip"]["p50_ms"]), ms(py["round_trip"]["p99_ms"]), py["pipelined_per_s"]),
            "C pipe ping-pong: %s" % ms(floor_p50), "%.2f×" % (py["round_trip"]["p50_ms"] / floor_p50), "none")
        if "python_async" in results:
            naps, threads = results["python_async"], results["python_threads"]
            ratio = naps["pipelined_per_s"] / threads["pipelined_per_s"]
            row("Python photon, a method awaiting 1 ms, %d in flight (`async def` on the runtime's loop; CPU a call: worker / supervisor)" % m["window"],
                "%.0f calls/s (%.0f / %.0f µs)" % (naps["pipelined_per_s"], naps["worker_cpu_us_per_call"], naps["supervisor_cpu_us_per_call"]),
                "the same wait in a plain method on the runtime's 8 threads: %.0f calls/s" % threads["pipelined_per_s"],
                "%.1f×" % ratio, "≥ 5× (issue 21)", ratio >= 5, "python_async")
    if "callbacks" in results:
        # 1b. Calls the other way.
        cb = results["callbacks"]
        base = cb["host_to_photon"]
        for key, figure, bound in (("photon_to_host", "Photon → host function round trip, Swift photon", 1.5),
                                   ("photon_to_photon", "Photon → photon call through the host, Swift photons", 2.5)):
            ratio = cb[key]["p50_ms"] / base["p50_ms"]
            row("%s (p50 / p99, n=%d, timed in the photon)" % (figure, cb[key]["n"]),
                "%s / %s" % (ms(cb[key]["p50_ms"]), ms(cb[key]["p99_ms"])),
                "host → photon call of the same photon: %s / %s" % (ms(base["p50_ms"]), ms(base["p99_ms"])),
                "p50 %.2f×" % ratio, "p50 ≤ %g× (issue 21)" % bound, ratio <= bound, "callbacks")
    if "stream" in results:
        # 1c. Streamed results.
        st = results["stream"]
        floor = median([r["bytes_per_s"] for r in results["stream_floor"]])
        gib = st["parts"] * st["part_bytes"] / 2**30
        row("Streaming %.2g GiB in %d KiB parts, Swift photon → a host consumer (window %d parts)" % (gib, st["part_bytes"] // 1024, st["window"]),
            "%.0f MB/s (%.0f parts/s)" % (st["bytes_per_s"] / 1e6, st["parts_per_s"]),
            "C: the same frames read from a pipe: %.0f MB/s (median of 3)" % (floor / 1e6),
            "%.2f× floor" % (st["bytes_per_s"] / floor), "≥ 0.25× (issue 21)", st["bytes_per_s"] >= 0.25 * floor, "stream")
        window_kib = st["window"] * (st["part_bytes"] + 32) / 1024
        row("The same stream: supervisor RSS growth (peak over the start, sampled every 10 ms)", "%d KiB" % st["rss_growth_kib"],
            "the window: %d parts of %d KiB = %.0f KiB" % (st["window"], st["part_bytes"] // 1024, window_kib),
            "%.2f× the window" % (st["rss_growth_kib"] / window_kib), "≤ 2× the window (issue 21)", st["rss_growth_kib"] <= 2 * window_kib, "stream_rss")
        spread = st["slow_rss_max_kib"] - st["slow_rss_min_kib"]
        row("A consumer taking one part every 10 ms for %.0f s: supervisor RSS (sampled each second), and the photon's time waiting for credit" % st["slow_seconds"],
            "%d–%d KiB (spread %d KiB); photon waited %.1f of %.1f s" % (st["slow_rss_min_kib"], st["slow_rss_max_kib"], spread, st["slow_photon_waited_s"], st["slow_seconds"]),
            "flat: ±2 MiB; paused by credit, not buffered", "%.0f%% waiting" % (100 * st["slow_photon_waited_s"] / st["slow_seconds"]),
            "spread ≤ 4 MiB, photon waiting ≥ 90% (issue 21)",
            spread <= 4096 and st["slow_photon_waited_s"] >= 0.9 * st["slow_seconds"], "stream_rss")
    if "spawn" in results:
        # 2. Spawn to ready.
        spawn = results["spawn"]
        added = spawn["load_ready"]["p50_ms"] - spawn["spawn_exit"]["p50_ms"]
        row("Spawn → hello validated, chaos-photon (p50 / p99, n=%d)" % spawn["load_ready"]["n"],
            "%s / %s" % (ms(spawn["load_ready"]["p50_ms"]), ms(spawn["load_ready"]["p99_ms"])),
            "bare spawn + exit: %s / %s" % (ms(spawn["spawn_exit"]["p50_ms"]), ms(spawn["spawn_exit"]["p99_ms"])),
            "+%s" % ms(added), "Luminal adds ≤ 0.3 ms", added <= 0.3, "spawn")
    if "peers" in results:
        # 3. Peers.
        peers = results["peers"]
        restart = {name: median(peers[name]["restart_s"]) * 1000 for name in ("luminal", "supervisord", "s6")}
        faster = min(restart["supervisord"], restart["s6"])
        row("Crash → running again (median of %d first crashes)" % len(peers["luminal"]["restart_s"]), ms(restart["luminal"]),
            "supervisord %s, s6 %s" % (ms(restart["supervisord"]), ms(restart["s6"])), "1/%.0f of the faster" % (faster / restart["luminal"]),
            "≤ 1/50 of the faster peer", restart["luminal"] * 50 <= faster, "restart")
        up = {name: peers[name]["up_s"] * 1000 for name in ("luminal", "supervisord", "s6")}
        row("%d workers up" % peers["workers"], ms(up["luminal"]),
            "s6 %s, supervisord %s, direct spawn %s" % (ms(up["s6"]), ms(up["supervisord"]), ms(peers["direct_up_s"] * 1000)),
            "%.2f× s6" % (up["luminal"] / up["s6"]), "faster than s6", up["luminal"] < up["s6"], "up")
    if "scale" in results:
        # 4. Scale. Load, RSS and unload come from the first watch variant of the run.
        scale = results["scale"]
        n, idle = scale["photons"], scale["idle_seconds"]
        first = m["variants"].split(",")[0]

        def key(variant, figure):
            return "%s_%s" % (variant, figure)
        load_ratio = scale[key(first, "load_s")] / scale["bare_s"]
        row("%d photons loaded (watchPhotons, %s)" % (n, first), "%.2f s" % scale[key(first, "load_s")],
            "bare spawn + exit of the same %d: %.2f s" % (n, scale["bare_s"]), "%.2f×" % load_ratio,
            "≤ 1.5× bare spawn + exit", load_ratio <= 1.5, "load")
        rss, empty = scale[key(first, "rss_kib")], scale[key(first, "rss_before_kib")]
        per_photon = (rss - empty) / n
        in_use = (scale[key(first, "malloc_in_use_kib")] - scale[key(first, "before_malloc_in_use_kib")]) / n
        held = (scale[key(first, "malloc_held_kib")] - scale[key(first, "before_malloc_held_kib")]) / n
        row("Supervisor RSS with %d photons, right after loading (malloc: handed out / held, per photon; threads)" % n,
            "%.1f MB: +%.1f KB per photon (malloc %.1f / %.1f KB; %d threads; %.1f MB once idle)" % (
                rss / 1024, per_photon, in_use, held, scale[key(first, "threads")], scale[key(first, "idle_rss_kib")] / 1024),
            "empty Loader: %.1f MB" % (empty / 1024), "+%.1f MB" % ((rss - empty) / 1024),
            "≤ 20 KB per photon above the empty Loader", per_photon <= 20, "rss")
        budget = 0.1 * idle / 60
        target = "≤ 0.1 s per 60 s (%.3f s here)" % budget

        def cpu(variant):
            return "%.3f s (second half alone: %.3f s)" % (scale[key(variant, "idle_cpu_s")], scale[key(variant, "idle_cpu_late_s")])
        if key("inotify-no-heartbeat", "idle_cpu_s") in scale:
            row("Watcher CPU, %d photons, %d s idle right after loading (inotify, heartbeats off)" % (n, idle), cpu("inotify-no-heartbeat"),
                "none", "", target, scale[key("inotify-no-heartbeat", "idle_cpu_s")] <= budget, "idle")
        if key("inotify", "idle_cpu_s") in scale:
            polling = "polling every 1 s: " + cpu("polling") if key("polling", "idle_cpu_s") in scale else "none"
            per_beat = ""
            if key("inotify-no-heartbeat", "idle_cpu_s") in scale:
                # Every worker is pinged once per 30 s of the second half.
                beats = n * (idle / 2) / 30
                extra = scale[key("inotify", "idle_cpu_late_s")] - scale[key("inotify-no-heartbeat", "idle_cpu_late_s")]
                per_beat = "%.3f ms per heartbeat" % (extra / beats * 1000)
            # Judged in the steady state: the second half is one whole heartbeat interval after the
            # load's aftermath (the start replies' deadlines, the watcher settling), per minute.
            steady = scale[key("inotify", "idle_cpu_late_s")] * 2 * 60 / idle
            row("Supervisor CPU, same, default heartbeat (a ping per idle worker every 30 s)", cpu("inotify"), polling, per_beat,
                "≤ 0.05 s a minute once idle (second half, per minute: %.3f s)" % steady, steady <= 0.05, "heartbeat")
        row("Unload %d photons (unloadAll, forceStop)" % n, "%.2f s" % scale[key(first, "unload_s")],
            "their load: %.2f s" % scale[key(first, "load_s")], "%.1f×" % (scale[key(first, "unload_s")] / scale[key(first, "load_s")]), "none")
    if "reload_swift" in results:
        # 5. Reload.
        for key, label in (("reload_swift", "Swift"), ("reload_python", "Python")):
            r = results[key]
            cold = r["cold_load"]["p50_ms"]
            for save, how in (("rename", "temp file renamed into place"), ("write_close", "written and closed in one go")):
                serving, noticed = r[save + "_to_serving"], r[save + "_to_reload_start"]
                row("Last write → new generation serving, %s photon, save: %s (p50 / p99, n=%d)" % (label, how, serving["n"]),
                    "%s / %s (reload began after %s)" % (ms(serving["p50_ms"]), ms(serving["p99_ms"]), ms(noticed["p50_ms"])),
                    "its cold load: %s / %s" % (ms(cold), ms(r["cold_load"]["p99_ms"])),
                    "+%s" % ms(serving["p50_ms"] - cold), "p50 ≤ cold load + 25 ms (quiet period %.0f ms not needed)" % r["quiet_ms"],
                    serving["p50_ms"] <= cold + 25, "reload")
        load = results["reload_load"]
        codes = " (%s)" % ", ".join(load["lost_codes"]) if load["lost_codes"] else ""
        row("Calls lost during %d reloads under load (%d callers)" % (load["reloads"], m["callers"]),
            "%d lost of %d%s" % (load["calls_lost"], load["calls_ok"] + load["calls_lost"], codes),
            "reload switch p50 %s (spawn → hello %s); whole reload p50 %s" % (ms(load["switch"]["p50_ms"]), ms(load["spawn_hello"]["p50_ms"]), ms(load["whole_reload"]["p50_ms"])),
            "", "0 lost", load["calls_lost"] == 0, "lost")
    if "held_socket" in results:
        # 5b. Held sockets.
        hs = results["held_socket"]
        held, own = hs["held"], hs["own"]
        failed = held["refused"] + held["reset"] + held["other"]
        row("A plain HTTP service on a held socket reloaded %d times, one client opening a new connection without pause" % hs["reloads"],
            "%d refused, %d reset of %d connections; reload p50 %s" % (held["refused"], held["reset"] + held["other"], held["answered"] + failed, ms(hs["reload"]["p50_ms"])),
            "on its own port: %d of %d reloads rolled back (%s); %d stops and starts: %d refused, %d reset of %d" % (
                hs["own_rolled_back"], hs["own_reloads"], hs["own_refusal"], hs["restarts"], own["refused"], own["reset"] + own["other"],
                own["answered"] + own["refused"] + own["reset"] + own["other"]),
            "", "0 refused or reset", failed == 0, "held_socket")
    if "pools" in results:
        # 5c. Pools.
        pools = results["pools"]
        one, two = pools["cpu"]["one_calls_per_s"], pools["cpu"]["two_calls_per_s"]
        row("A CPU-bound Python method (about 4 ms a call), 4 callers: 2 instances on 2 cores",
            "%.0f calls/s" % two, "1 instance: %.0f calls/s" % one, "%.2f×" % (two / one), "≥ 1.8×", two / one >= 1.8, "pool_cpu")
        alone, mixed, rr = pools["short_alone"], pools["short_mixed"], pools["short_round_robin"]
        row("Short calls (1 ms) among long ones (10%% of 200 ms), about 33 calls/s to a pool of 4 Python instances serving one call at a time (p99 / p50, n=%d)" % mixed["n"],
            "%s / %s" % (ms(mixed["p99_ms"]), ms(mixed["p50_ms"])),
            "the short calls alone: %s / %s; round-robin over 4 files of one instance: %s / %s" % (ms(alone["p99_ms"]), ms(alone["p50_ms"]), ms(rr["p99_ms"]), ms(rr["p50_ms"])),
            "%.2f× alone (round-robin %.1f×)" % (mixed["p99_ms"] / alone["p99_ms"], rr["p99_ms"] / alone["p99_ms"]),
            "p99 ≤ 1.5× alone", mixed["p99_ms"] <= 1.5 * alone["p99_ms"], "pool_mixed")
        roll = pools["roll"]
        codes = " (%s)" % ", ".join(roll["failed_codes"]) if roll["failed_codes"] else ""
        row("Calls failed during %d rolling reloads of an %d-instance pool (surge 1), %d callers" % (roll["reloads"], roll["instances"], roll["callers"]),
            "%d failed of %d%s" % (roll["calls_failed"], roll["calls_ok"] + roll["calls_failed"], codes),
            "reload p50 %s / p99 %s" % (ms(pools["roll_reload"]["p50_ms"]), ms(pools["roll_reload"]["p99_ms"])),
            "", "0 failed", roll["calls_failed"] == 0, "pool_roll")
        up, cold = pools["scale_up"], pools["cold_start"]
        row("Scale-up of a Python pool of 1 to 2: a call queued behind a long one → the second instance serving (p50 / p99, n=%d)" % up["n"],
            "%s / %s" % (ms(up["p50_ms"]), ms(up["p99_ms"])), "its cold load and start: %s / %s" % (ms(cold["p50_ms"]), ms(cold["p99_ms"])),
            ("+" if up["p50_ms"] >= cold["p50_ms"] else "−") + ms(abs(up["p50_ms"] - cold["p50_ms"])), "≤ 1 s + its cold start", up["p99_ms"] <= 1000 + cold["p50_ms"], "pool_scale")
    if "cancel" in results:
        # 6. Cancellation and crash-transparent calls.
        cancel = results["cancel"]
        observed, stopped = cancel["observed"], cancel["spin_stopped"]
        row("Cancel → the method observes it, Swift photon (p50 / p99, n=%d)" % observed["n"],
            "%s / %s" % (ms(observed["p50_ms"]), ms(observed["p99_ms"])),
            "call round trip p50: %s" % ms(swift_p50) if "swift" in results else "none (calls not run)",
            "%.2f× a round trip" % (observed["p50_ms"] / swift_p50) if "swift" in results else "", "p50 ≤ 0.2 ms, p99 ≤ 1 ms",
            observed["p50_ms"] <= 0.2 and observed["p99_ms"] <= 1, "cancel")
        share = cancel["cpu_after_10ms_ms"] / cancel["cpu_window_ms"]
        row("A spinning method cancelled: stops (p50 / p99, n=%d); worker CPU from 10 ms after the cancel" % stopped["n"],
            "%s / %s; %.1f ms in %.0f ms (%.1f%%)" % (ms(stopped["p50_ms"]), ms(stopped["p99_ms"]), cancel["cpu_after_10ms_ms"], cancel["cpu_window_ms"], share * 100),
            "none", "", "stops within 10 ms (p99), then ≤ 1% CPU", stopped["p99_ms"] <= 10 and share <= 0.01, "spin")
    if "crash_retry" in results:
        retry = results["crash_retry"]
        codes = " (%s)" % ", ".join(retry["failed_codes"]) if retry["failed_codes"] else ""
        row("Calls failed across %d kills of a photon, %d callers on an idempotent method" % (retry["crashes"], retry["callers"]),
            "%d failed of %d%s" % (retry["calls_failed"], retry["calls_ok"] + retry["calls_failed"], codes),
            "%d calls sent again, %d poison; %d kills in %.2f s" % (retry["retried"], retry["poison"], retry["crashes"], retry["kills_s"]),
            "", "0 failed", retry["calls_failed"] == 0, "retry")
    if "spawn_limits" in results:
        limits = results["spawn_limits"]
        bare = limits["bare"]["p50_ms"]
        row("Spawn → hello with limits, a user, umask and no_new_privs, in a cgroup (p50 / p99, n=%d)" % limits["limits_user"]["n"],
            "%s / %s" % (ms(limits["limits_user"]["p50_ms"]), ms(limits["limits_user"]["p99_ms"])),
            "bare spawn (posix_spawn, no cgroup): %s / %s; in a cgroup, no limits: %s; one limit, no cgroup: %s" % (
                ms(bare), ms(limits["bare"]["p99_ms"]), ms(limits["cgroup"]["p50_ms"]), ms(limits["limits_no_cgroup"]["p50_ms"])),
            "+%s (cgroup alone +%s)" % (ms(limits["limits_user"]["p50_ms"] - bare), ms(limits["cgroup"]["p50_ms"] - bare)),
            "≤ bare spawn + 0.5 ms", limits["limits_user"]["p50_ms"] <= bare + 0.5, "limits")
    if "recycle_leak" in results:
        leak = results["recycle_leak"]
        codes = " (%s)" % ", ".join(leak["failed_codes"]) if leak["failed_codes"] else ""
        ceiling = leak["threshold_mib"] + leak["interval_growth_mib"]
        row("A photon leaking 10 MiB/s, recycled at 100 MiB (sampled every 1 s), %d callers for %d s" % (leak["callers"], leak["seconds"]),
            "%d failed of %d%s; %d recycles; peak %.1f MiB" % (leak["calls_failed"], leak["calls_ok"] + leak["calls_failed"], codes, leak["recycles"], leak["peak_mib"]),
            "threshold + one interval's growth: %.0f MiB" % ceiling, "",
            "0 failed, peak ≤ %.0f MiB" % ceiling, leak["calls_failed"] == 0 and leak["recycles"] > 0 and leak["peak_mib"] <= ceiling, "recycle")
    if "metrics_calls" in results:
        # 7. Metrics and log files.
        mc = results["metrics_calls"]
        quiet, scraped = mc["quiet_round_trip"], mc["scraped_round_trip"]
        row("Call round trip, metrics scraped every second (p50 / p99; %d rounds each way, alternating)" % mc["rounds"],
            "%s / %s" % (ms(scraped["p50_ms"]), ms(scraped["p99_ms"])), "not scraped: %s / %s" % (ms(quiet["p50_ms"]), ms(quiet["p99_ms"])),
            "p50 %.3f×" % (scraped["p50_ms"] / quiet["p50_ms"]), "p50 within 3%",
            scraped["p50_ms"] <= 1.03 * quiet["p50_ms"], "metrics_calls")
        row("Pipelined calls, metrics scraped every second (%d scrapes in all)" % mc["scrapes"], "%.0f calls/s" % mc["scraped_pipelined_per_s"],
            "not scraped: %.0f calls/s" % mc["quiet_pipelined_per_s"], "%.3f×" % (mc["scraped_pipelined_per_s"] / mc["quiet_pipelined_per_s"]),
            "within 3%", mc["scraped_pipelined_per_s"] >= 0.97 * mc["quiet_pipelined_per_s"], "metrics_calls")
        sc = results["metrics_scrape"]
        row("GET /metrics, %d photons (%.1f MB; p50 / p99, n=%d)" % (sc["photons"], sc["bytes"] / 1e6, sc["scrape"]["n"]),
            "%s / %s" % (ms(sc["scrape"]["p50_ms"]), ms(sc["scrape"]["p99_ms"])),
            "one pass over /proc reading each process's stat and descriptor count: %s" % ms(sc["procfs_floor"]["p50_ms"]),
            "%.2f× that pass" % (sc["scrape"]["p50_ms"] / sc["procfs_floor"]["p50_ms"]), "≤ 20 ms p50", sc["scrape"]["p50_ms"] <= 20, "scrape")
        per_minute = sc["scraped_cpu_s"] * 60 / sc["seconds"]
        row("Supervisor CPU, %d photons, one scrape a second for %d s (the scraper's own thread not counted)" % (sc["photons"], sc["seconds"]),
            "%.3f s a minute" % per_minute, "not scraped: %.3f s a minute; the scraper's thread: %.3f s a minute" % (sc["idle_cpu_s"] * 60 / sc["seconds"], sc["scraper_cpu_s"] * 60 / sc["seconds"]), "",
            "≤ 0.2 s a minute", per_minute <= 0.2, "scrape_cpu")
    if "log_files" in results:
        lf = results["log_files"]
        total = lf["photons"] * lf["lines_per_photon"]
        row("%d photons × %d lines/s for %d s into rotating log files (64 KiB each)" % (lf["photons"], lf["lines_per_photon"] // lf["seconds"], lf["seconds"]),
            "%d lost, %d split, %d repeated of %d (%d files)" % (lf["lines_lost"], lf["lines_split"], lf["lines_repeated"], total, lf["files"]),
            "supervisor CPU %.2f s over %.1f s; %d dropped and counted" % (lf["supervisor_cpu_s"], lf["elapsed_s"], lf["dropped_counted"]), "",
            "none lost or split", lf["lines_lost"] == 0 and lf["lines_split"] == 0 and lf["lines_repeated"] == 0, "log_files")
        per_line = lf["supervisor_cpu_s"] * 1e6 / total
        row("Supervisor CPU a line, the same run", "%.1f µs" % per_line, "", "", "≤ 5 µs a line", per_line <= 5, "log_cpu")
    if "sigterm" in results:
        # 8. The stop an orchestrator asks for.
        st = results["sigterm"]
        to503 = st["signal_to_503"]
        row("SIGTERM to `luminal run` with %d calls of %d ms sent: signal → first /readyz 503 (p50 / p99, n=%d)" % (st["calls"], st["call_ms"], to503["n"]),
            "%s / %s" % (ms(to503["p50_ms"]), ms(to503["p99_ms"])), "none", "", "≤ 10 ms", to503["p99_ms"] <= 10, "sigterm_503")
        codes = " (%s)" % ", ".join(st["failed_codes"]) if st["failed_codes"] else ""
        row("The same runs: calls failed", "%d failed of %d%s" % (st["calls_failed"], st["calls"] * st["runs"], codes),
            "exit statuses: %s" % ", ".join(str(code) for code in sorted(set(st["exit_statuses"]))), "", "0 failed, exit 0",
            st["calls_failed"] == 0 and set(st["exit_statuses"]) == {0}, "sigterm_failed")
    return rows


def render(mode, command, results, started, elapsed, host):
    lines = [
        "# Luminal benchmarks",
        "",
        "Generated by `Scripts/bench`; never edited by hand. Run it again to refresh every number.",
        "",
        "- Machine: %s" % host,
        "- Date: %s (the run took %.0f s)" % (started.strftime("%Y-%m-%d %H:%M UTC"), elapsed),
        "- Command: `%s` (%s mode), release builds" % (command, mode),
        "- Each figure is measured beside its baseline in the same run: medians and p99 over the samples, ratios of medians.",
        "",
        "| Figure | Luminal | Baseline (same run) | Ratio | Target | Verdict |",
        "|---|---|---|---|---|---|",
    ] + table(MODES[mode], results)
    with open(os.path.join(ROOT, "Scripts", "bench-notes.md")) as f:
        lines += ["", f.read().rstrip()]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(prog="Scripts/bench", description="Luminal's benchmarks, written to BENCHMARKS.md.")
    parser.add_argument("--quick", action="store_true", help="fewer iterations and shorter idle windows (under 3 minutes)")
    parser.add_argument("--output", help="where to write the results (default: BENCHMARKS.md; with --only, none)")
    parser.add_argument("--only", help="run only these parts, comma-separated (%s), and print their rows" % ", ".join(PARTS))
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    parts = PARTS
    if args.only:
        parts = tuple(args.only.split(","))
        unknown = [part for part in parts if part not in PARTS]
        if unknown:
            parser.error("unknown part %s (parts: %s)" % (", ".join(unknown), ", ".join(PARTS)))
    output_path = args.output or (None if args.only else os.path.join(ROOT, "BENCHMARKS.md"))
    command = "bash Scripts/bench" + (" --quick" if args.quick else "") + (" --only " + args.only if args.only else "")
    started = datetime.datetime.now(datetime.timezone.utc)
    host = machine()
    begin = time.monotonic()
    results = measure(MODES[mode], parts)
    with open(os.path.join(RELEASE, "bench-%s%s.json" % (mode, "-" + "-".join(parts) if args.only else "")), "w") as f:
        json.dump(results, f, indent=1)
    text = render(mode, command, results, started, time.monotonic() - begin, host)
    if output_path:
        with open(output_path, "w") as f:
            f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
