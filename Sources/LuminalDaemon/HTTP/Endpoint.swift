/// What the metrics endpoint serves, by path: each is answered from one reading shared by every
/// connection that asked for it while it was under way.
enum Endpoint: String, CaseIterable, Sendable {
    /// The loader's metrics in Prometheus' text format.
    case metrics = "/metrics"
    /// 200 once the loader (the supervisor's loop) has answered a request made for this reading.
    case livez = "/livez"
    /// 200 when every photon is started and no photon file failed or is loading (what
    /// `luminal status --check` judges, `Readiness`), else 503 naming each one that is not and why;
    /// 503 at once while the host says it is not ready (`MetricsServer.setNotReady`).
    case readyz = "/readyz"
}
