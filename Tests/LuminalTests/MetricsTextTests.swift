import Testing
@testable import Luminal

/// How `MetricsText` writes samples: labels, an extra label, integers in full, other values as
/// the exposition format spells them.
@Suite struct MetricsTextRule {
    @Test func samplesAreWrittenAsTheFormatSpellsThem() {
        var out = MetricsText()
        let labels = MetricsText.Labels(["photon": "a\"b\\c\nd"])
        out.family("m", .gauge, "help with \\ and\nbreak")
        out.sample("m", labels, 0)
        out.sample("m", labels, extra: "le=\"0.5\"", -42)
        out.sample("m", .none, extra: "le=\"+Inf\"", Int64(999_999_999_999_999_999))
        out.sample("m", .none, UInt64.max)
        out.sample("m", .none, 2.5)
        out.sample("m", .none, 3.0)
        out.sample("m", .none, Double.infinity)
        out.sample("m", .none, -Double.infinity)
        out.sample("m", .none, Double.nan)
        out.sample("m", .none, Duration.milliseconds(61_042))
        out.sample("m", .none, Duration.microseconds(7_999))
        out.sample("m", .none, Duration.milliseconds(-1_500))
        #expect(String(decoding: out.bytes, as: UTF8.self) == """
            # HELP m help with \\\\ and\\nbreak
            # TYPE m gauge
            m{photon="a\\"b\\\\c\\nd"} 0
            m{photon="a\\"b\\\\c\\nd",le="0.5"} -42
            m{le="+Inf"} 999999999999999999
            m 1.8446744073709552e+19
            m 2.5
            m 3
            m +Inf
            m -Inf
            m NaN
            m 61.042
            m 0.007
            m -1.500

            """)
    }
}
