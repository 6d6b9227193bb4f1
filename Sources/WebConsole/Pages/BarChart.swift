/// A stacked bar chart drawn as inline SVG on the server: the console has no JavaScript and
/// its Content-Security-Policy allows none, so charts are markup like the rest. Colours are
/// presentation attributes (the CSP also forbids inline `style`). Labels and series names are
/// escaped like every other text.
struct BarChart: Sendable {
    struct Series: Sendable {
        var name: String
        /// A CSS colour written by code, never from input.
        var colour: String
    }

    struct Bucket: Sendable {
        /// Under the bar (an hour, a day); shown for some bars only when there are many.
        var label: String
        /// One value per series, in `series` order.
        var values: [Int]
    }

    var title: String
    var series: [Series]
    var buckets: [Bucket]

    static let width = 720.0, height = 220.0, left = 48.0, bottom = 28.0, top = 12.0

    func render() -> HTML {
        let plotWidth = Self.width - Self.left - 8, plotHeight = Self.height - Self.bottom - Self.top
        let totals = buckets.map { $0.values.reduce(0, +) }
        let maximum = Self.niceCeiling(totals.max() ?? 0)
        let slot = buckets.isEmpty ? plotWidth : plotWidth / Double(buckets.count)
        let barWidth = max(1, slot * 0.8)
        var parts: [HTML] = []
        // Axis and three grid lines with their values.
        for step in 0...3 {
            let value = maximum * step / 3
            let y = Self.top + plotHeight - plotHeight * Double(value) / Double(max(maximum, 1))
            parts.append("<line x1=\"\(Self.format(Self.left))\" y1=\"\(Self.format(y))\" x2=\"\(Self.format(Self.width - 8))\" y2=\"\(Self.format(y))\" stroke=\"#d5d9df\"/>")
            parts.append("<text x=\"\(Self.format(Self.left - 6))\" y=\"\(Self.format(y + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#4b5563\">\(value)</text>")
        }
        let labelEvery = max(1, buckets.count / 12)
        for (index, bucket) in buckets.enumerated() {
            let x = Self.left + slot * Double(index) + (slot - barWidth) / 2
            var y = Self.top + plotHeight
            for (value, series) in zip(bucket.values, series) where value > 0 {
                let h = plotHeight * Double(value) / Double(max(maximum, 1))
                y -= h
                parts.append("<rect x=\"\(Self.format(x))\" y=\"\(Self.format(y))\" width=\"\(Self.format(barWidth))\" height=\"\(Self.format(h))\" fill=\"\(HTML(trusted: series.colour))\"><title>\(bucket.label): \(value) \(series.name)</title></rect>")
            }
            if index % labelEvery == 0 {
                parts.append("<text x=\"\(Self.format(x + barWidth / 2))\" y=\"\(Self.format(Self.height - 10))\" text-anchor=\"middle\" font-size=\"10\" fill=\"#4b5563\">\(bucket.label)</text>")
            }
        }
        let legend: [HTML] = series.map { "<span class=\"legend\"><svg width=\"10\" height=\"10\" aria-hidden=\"true\"><rect width=\"10\" height=\"10\" fill=\"\(HTML(trusted: $0.colour))\"/></svg> \($0.name)</span> " }
        let summary = zip(series, series.indices.map { i in buckets.reduce(0) { $0 + ($1.values.count > i ? $1.values[i] : 0) } })
            .map { "\($0.0.name) \($0.1)" }.joined(separator: ", ")
        return """
            <figure class="chart"><figcaption>\(title) <small>(\(summary))</small></figcaption>\
            <svg viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" width="\(Int(Self.width))" height="\(Int(Self.height))" role="img" aria-label="\(title)">\(parts)</svg>\
            <div>\(legend)</div></figure>
            """
    }

    /// 1, 2 or 5 times a power of ten, at least `value` and divisible by 3 steps sensibly.
    static func niceCeiling(_ value: Int) -> Int {
        guard value > 3 else { return 3 }
        var power = 1
        while power * 10 < value { power *= 10 }
        for factor in [1, 2, 3, 5, 6, 10] where factor * power >= value && (factor * power) % 3 == 0 {
            return factor * power
        }
        return 12 * power
    }

    static func format(_ value: Double) -> HTML {
        HTML(trusted: String(Double(Int((value * 10).rounded())) / 10))
    }
}
