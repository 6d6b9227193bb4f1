// What the web console reads from a browser before and around the login: form bodies and
// query strings (Form), the session cookie (Hummingbird's cookie parsing, as SessionGuard
// reads it), Origin/Referer (SameOrigin), the session table lookup and the password check.
//
// Invariants: no crash; a form built by percent-encoding any fields parses back to them
// (first of repeated names wins, empty names dropped); a well-formed session cookie is read
// back exactly whatever else the Cookie header holds; a wrong token never finds a session;
// SameOrigin takes exactly the console's own origin.
import Foundation
import FuzzKit
import HTTPTypes
import Hummingbird
import NIOCore
@testable import WebConsole

let sessions = ConsoleSessions(capacity: 4)
let live = sessions.create(user: "admin", client: "192.0.2.1")
// A real hash costs PasswordHash.minimumRounds of PBKDF2 (about 0.2 s): checked once here; the
// fuzzer then exercises the parsing of stored hashes with too few rounds (refused before PBKDF2).
let stored = try! PasswordHash.make("correct horse", rounds: PasswordHash.minimumRounds)
precondition(PasswordHash.verify("correct horse", against: stored) && !PasswordHash.verify("wrong", against: stored))

func request(cookie: String?, origin: String?, referer: String?, authority: String?, method: HTTPRequest.Method) -> Request {
    var fields = HTTPFields()
    if let cookie, let name = HTTPField.Name("Cookie") { fields[name] = cookie }
    if let origin { fields[.origin] = origin }
    if let referer { fields[.referer] = referer }
    let head = HTTPRequest(method: method, scheme: "https", authority: authority, path: "/", headerFields: fields)
    return Request(head: head, body: .init(buffer: ByteBuffer()))
}

runFuzzer { input in
    var reader = FuzzInput(input)
    let mode = reader.byte()
    switch mode % 4 {
    case 0:
        // Any body parses without a crash.
        let form = Form(encoded: String(decoding: reader.rest(), as: UTF8.self))
        for (name, _) in form.fields { invariant(!name.isEmpty, "empty field name kept") }
        _ = form["csrf"]
    case 1:
        // Round trip: fields percent-encoded as a browser does parse back.
        var expected: [String: String] = [:]
        var parts: [String] = []
        while !reader.isEmpty && parts.count < 16 {
            let name = String(decoding: reader.take(until: 0), as: UTF8.self)
            let value = String(decoding: reader.take(until: 0), as: UTF8.self)
            let allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(0x80)))
            guard let n = name.addingPercentEncoding(withAllowedCharacters: allowed),
                  let v = value.addingPercentEncoding(withAllowedCharacters: allowed) else { continue }
            parts.append(n + "=" + v)
            if !name.isEmpty, expected[name] == nil { expected[name] = value }
        }
        let form = Form(encoded: parts.joined(separator: "&"))
        invariant(form.fields == expected, "form round trip: \(parts) gave \(form.fields), expected \(expected)")
    case 2:
        // The Cookie header as the session guard reads it.
        let header = String(decoding: reader.take(until: 0), as: UTF8.self)
        let token = String(decoding: reader.take(until: 0), as: UTF8.self)
        let plain = request(cookie: header, origin: nil, referer: nil, authority: "console.example:4443", method: .get)
        if let value = plain.cookies[ConsoleSessions.cookieName]?.value {
            invariant(sessions.use(value, idleTimeout: 3600) == nil || value == live.token, "a wrong token found a session")
        }
        // A well-formed cookie among others is found exactly.
        let safeToken = String(token.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII }.map(Character.init))
        let others = header.replacingOccurrences(of: ConsoleSessions.cookieName, with: "x")
            .filter { $0 != "\r" && $0 != "\n" && $0 != "\0" }
        let combined = request(cookie: "\(ConsoleSessions.cookieName)=\(safeToken); \(others)", origin: nil, referer: nil,
                               authority: nil, method: .get)
        if !safeToken.isEmpty, combined.head.headerFields[HTTPField.Name("Cookie")!] != nil {
            invariant(combined.cookies[ConsoleSessions.cookieName]?.value == safeToken,
                      "session cookie \(safeToken) read as \(String(describing: combined.cookies[ConsoleSessions.cookieName]?.value)) from \(others.debugDescription)")
        }
        invariant(sessions.use(live.token, idleTimeout: 3600) != nil, "the live session was lost")
    default:
        // Origin / Referer / Host.
        let origin = String(decoding: reader.take(until: 0), as: UTF8.self)
        let referer = String(decoding: reader.take(until: 0), as: UTF8.self)
        let host = String(decoding: reader.take(until: 0), as: UTF8.self)
        let flags = reader.byte()
        let req = request(cookie: nil, origin: flags & 1 != 0 ? origin : nil, referer: flags & 2 != 0 ? referer : nil,
                          authority: flags & 4 != 0 ? host : nil, method: .post)
        let allowed = SameOrigin.allows(req)
        if flags & 4 != 0, let given = req.head.authority {
            let own = "https://" + given.lowercased()
            if let o = req.headers[.origin] { invariant(allowed == (o.lowercased() == own), "Origin decision") }
        } else if flags & 3 != 0, req.headers[.origin] != nil || req.headers[.referer] != nil {
            invariant(!allowed, "a request with Origin/Referer and no Host was allowed")
        }
        // The password a browser posts at /login.
        let password = String(decoding: reader.take(until: 0), as: UTF8.self)
        let weak = String(decoding: reader.rest(), as: UTF8.self)
        let rounds = weak.split(separator: "$", omittingEmptySubsequences: false).dropFirst().first.flatMap { Int($0) } ?? 0
        if rounds < PasswordHash.minimumRounds {
            invariant(!PasswordHash.verify(password, against: weak), "a hash with \(rounds) rounds was accepted")
        }
        _ = ConstantTime.equal(password, origin)
    }
}
