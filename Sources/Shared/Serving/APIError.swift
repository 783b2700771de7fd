import Foundation
import Hummingbird

/// An error answered as OpenAI's error JSON: `{"error": {"message", "type", "param", "code"}}`; `param` names the
/// request field at fault so a client can tell what to fix.
public struct APIError: HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String
    public let param: String?
    public let type: String

    public init(_ status: HTTPResponse.Status, _ message: String, param: String? = nil, type: String = "invalid_request_error") {
        self.status = status; self.message = message; self.param = param; self.type = type
    }

    public var description: String { param.map { "\($0): \(message)" } ?? message }

    /// A 400 naming `field`.
    static func field(_ field: String, _ message: String) -> APIError { APIError(.badRequest, message, param: field) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(status: status, [
            "error": ["message": description, "type": type, "param": param.map { $0 as Any } ?? NSNull(), "code": NSNull()] as [String: Any],
        ])
    }
}

/// JSON responses from Foundation objects.
enum JSONResponse {
    static func make(status: HTTPResponse.Status = .ok, _ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
