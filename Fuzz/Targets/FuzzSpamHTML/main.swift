// HTML to text with libxml2, then the whole anti-spam check on a message carrying the same
// bytes as an HTML part: any input ends with text and links within their limits and a
// finite score.
import AntiSpam
import FuzzKit
import MIME

let engine = try! SpamEngine(store: nil)

runFuzzer { input in
    var reader = FuzzInput(input)
    let maxText = Int(reader.byte()) * 16 + 1
    let html = reader.rest()
    let r = HTMLTextExtractor.extract(html, maxInputBytes: 64 * 1024, maxTextBytes: maxText, maxLinks: 20)
    invariant(r.text.utf8.count <= maxText, "text of \(r.text.utf8.count) bytes > \(maxText)")
    invariant(r.links.count <= 20, "\(r.links.count) links")
    let message = MessageParser.parse(Array("Content-Type: text/html; charset=utf-8\r\n\r\n".utf8) + html)
    let result = engine.check(message)
    invariant(result.points.isFinite && (0...1).contains(result.totalSpamScore), "score \(result.points)")
}
