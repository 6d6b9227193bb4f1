import HTTPTypes
import Hummingbird
import NIOCore

/// The few kinds of answer the console gives.
enum Responses {
    static func html(_ page: HTML, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page.text)))
    }

    /// 303: after a POST the browser GETs the new place.
    static func redirect(to location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    static func file(_ text: String, contentType: String, name: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.contentDisposition] = "attachment; filename=\"\(name)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func error(_ status: HTTPResponse.Status, _ text: String) -> Response {
        html(Layout.document(title: status.reasonPhrase, body: "<main><h1>\(status.reasonPhrase)</h1><p>\(text)</p></main>"),
             status: status)
    }
}
