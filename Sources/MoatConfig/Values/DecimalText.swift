/// Fixed-point text of a number (`%.2f` without Foundation's formatter, which cost more than
/// the rest of a verdict's log line): spam points in logs and protocol replies.
public enum DecimalText {
    /// `value` with `places` decimals (0-6), ties to even as printf; non-finite and huge
    /// values as Swift prints them.
    public static func fixed(_ value: Double, places: Int) -> String {
        let places = min(max(places, 0), 6)
        var scale = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = (value.magnitude * Double(scale)).rounded(.toNearestOrEven)
        guard value.isFinite, scaled < 1e15 else { return "\(value)" }
        let units = Int(scaled)
        let whole = units / scale
        let sign = value < 0 && units != 0 ? "-" : ""
        guard places > 0 else { return sign + String(whole) }
        let fraction = String(units % scale)
        return sign + String(whole) + "." + String(repeating: "0", count: places - fraction.count) + fraction
    }

    /// `fixed`, padded on the left with spaces to `width` characters (`%4.1f`).
    public static func padded(_ value: Double, places: Int, width: Int) -> String {
        let text = fixed(value, places: places)
        return text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
