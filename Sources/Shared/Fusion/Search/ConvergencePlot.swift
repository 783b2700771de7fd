import Foundation

/// An SVG line chart of best-F1-so-far per iteration, one polyline per strategy run, with axes, ticks and a legend.
/// Written by hand (no plotting dependency): the output is a small self-contained file any browser shows.
public struct ConvergencePlot: Sendable {
    /// One line: a label and the best F1 so far after each iteration (index 0 = iteration 1).
    public struct Series: Sendable {
        public var name: String
        public var values: [Double]
        public init(name: String, values: [Double]) { self.name = name; self.values = values }
    }

    public var title: String
    public var series: [Series]
    public var width = 720.0
    public var height = 440.0

    public init(title: String = "Merge search: best F1 so far", series: [Series]) {
        self.title = title
        self.series = series
    }

    /// One line per history, labelled by its strategy (or the given names).
    public init(title: String = "Merge search: best F1 so far", histories: [(name: String, records: [SearchRecord])]) {
        self.init(title: title, series: histories.map { Series(name: $0.name, values: SearchHistory.bestSoFar($0.records)) })
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public func svg() -> String {
        let left = 64.0, right = 20.0, top = 40.0, bottom = 52.0
        let plotW = width - left - right, plotH = height - top - bottom
        let finite = series.flatMap(\.values).filter(\.isFinite)
        let maxIter = max(series.map(\.values.count).max() ?? 1, 1)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if hi - lo < 1e-6 { lo -= 0.01; hi += 0.01 }
        let yTicks = Self.niceTicks(lo, hi, count: 5)
        lo = min(lo, yTicks.first ?? lo); hi = max(hi, yTicks.last ?? hi)
        let xTicks = Self.niceTicks(1, Double(max(maxIter, 2)), count: 6).filter { $0 >= 1 && $0 == $0.rounded() }
        func x(_ i: Double) -> Double { left + (maxIter > 1 ? (i - 1) / Double(maxIter - 1) : 0.5) * plotW }
        func y(_ v: Double) -> Double { top + (1 - (v - lo) / (hi - lo)) * plotH }
        func f(_ v: Double) -> String { String(format: "%.2f", v) }

        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(Self.escape(title))</text>\n"
        // Grid lines and tick labels.
        for t in yTicks {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y(t)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(t)))\" stroke=\"#e5e5e5\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(t) + 4))\" text-anchor=\"end\">\(Self.label(t, step: yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1))</text>\n"
        }
        for t in xTicks {
            s += "<line x1=\"\(f(x(t)))\" y1=\"\(f(top + plotH))\" x2=\"\(f(x(t)))\" y2=\"\(f(top + plotH + 5))\" stroke=\"black\"/>\n"
            s += "<text x=\"\(f(x(t)))\" y=\"\(f(top + plotH + 19))\" text-anchor=\"middle\">\(Int(t))</text>\n"
        }
        // Axes.
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\" stroke=\"black\"/>\n"
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">iteration</text>\n"
        s += "<text x=\"16\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f(top + plotH / 2)))\">best F1 so far</text>\n"
        // One polyline per series (non-finite points, e.g. before the first result, are skipped).
        for (i, line) in series.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            let points = line.values.enumerated().filter { $0.element.isFinite }
                .map { "\(f(x(Double($0.offset + 1)))),\(f(y($0.element)))" }.joined(separator: " ")
            if line.values.filter(\.isFinite).count == 1 {
                s += "<circle cx=\"\(points.split(separator: ",")[0])\" cy=\"\(points.split(separator: ",")[1])\" r=\"3\" fill=\"\(color)\"/>\n"
            } else if !points.isEmpty {
                s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points)\"/>\n"
            }
        }
        // Legend, bottom right inside the plot (best-so-far curves rise, so that corner is usually empty).
        let rowH = 18.0
        let legendW = 24 + 7 * Double(series.map(\.name.count).max() ?? 4) + 16
        let lx = left + plotW - legendW - 8, ly = top + plotH - rowH * Double(series.count) - 12
        s += "<rect x=\"\(f(lx))\" y=\"\(f(ly))\" width=\"\(f(legendW))\" height=\"\(f(rowH * Double(series.count) + 8))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>\n"
        for (i, line) in series.enumerated() {
            let cy = ly + 4 + rowH * Double(i) + rowH / 2
            let color = Self.palette[i % Self.palette.count]
            s += "<line x1=\"\(f(lx + 6))\" y1=\"\(f(cy))\" x2=\"\(f(lx + 24))\" y2=\"\(f(cy))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            s += "<text x=\"\(f(lx + 30))\" y=\"\(f(cy + 4))\">\(Self.escape(line.name))</text>\n"
        }
        s += "</svg>\n"
        return s
    }

    public func write(to path: String) throws {
        try Data(svg().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten).
    static func niceTicks(_ lo: Double, _ hi: Double, count: Int) -> [Double] {
        let span = max(hi - lo, 1e-12)
        let raw = span / Double(max(count, 1))
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = floor(lo / step) * step
        var out: [Double] = []
        while t <= hi + step * 0.5 && out.count < 50 {
            out.append(t)
            t += step
        }
        return out
    }

    static func label(_ v: Double, step: Double) -> String {
        let decimals = max(0, min(6, Int(-floor(log10(step)))))
        return String(format: "%.\(decimals)f", v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
