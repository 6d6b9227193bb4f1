import Testing
@testable import WebConsole

struct BarChartTests {
    static let series = [BarChart.Series(name: "clean", colour: "#16702e"), BarChart.Series(name: "threats", colour: "#b00020")]

    @Test func barsStackTheirSeriesAndScaleToTheLargestTotal() {
        let chart = BarChart(title: "Messages per hour", series: Self.series, buckets: [
            .init(label: "10:00", values: [20, 10]), .init(label: "11:00", values: [5, 0]),
        ])
        let svg = chart.render().text
        #expect(BarChart.niceCeiling(30) == 30)
        // 30 is the top of the axis: 20 clean fill two thirds of the plot height (180), 10 threats one third.
        #expect(svg.contains(##"height="120.0" fill="#16702e"><title>10:00: 20 clean</title>"##))
        #expect(svg.contains(##"height="60.0" fill="#b00020"><title>10:00: 10 threats</title>"##))
        #expect(!svg.contains("11:00: 0 threats"), "empty segments are not drawn")
        #expect(svg.contains("clean 25, threats 10"))
    }

    @Test func labelsAndNamesAreEscaped() {
        let chart = BarChart(title: "<b>x</b>", series: [.init(name: "<script>", colour: "#000")],
                             buckets: [.init(label: "\"><svg onload=alert(1)>", values: [1])])
        let svg = chart.render().text
        #expect(!svg.contains("<script>") && !svg.contains("<svg onload"))
        #expect(svg.contains("&lt;script&gt;"))
        #expect(!svg.contains("style="), "the console's CSP forbids inline style")
    }

    @Test func axisTopIsARoundNumberAtLeastTheMaximum() {
        for value in [0, 1, 4, 7, 29, 31, 99, 101, 1234, 99_999] {
            let top = BarChart.niceCeiling(value)
            #expect(top >= value && top % 3 == 0, "\(value) → \(top)")
        }
    }
}
