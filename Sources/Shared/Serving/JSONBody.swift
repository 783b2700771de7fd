import Foundation
import Hummingbird
import NIOCore

/// Reads a request body as a JSON value within the limits, with errors that name the field.
enum JSONBody {
    static func read(_ request: inout Request, limits: RequestLimits) async throws -> Any {
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: limits.maxBodyBytes) } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "the request body is larger than \(limits.maxBodyBytes) bytes", param: "body")
        }
        guard buffer.readableBytes > 0 else { throw APIError.field("body", "the request body is empty; send a JSON object") }
        do {
            return try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView), options: [.fragmentsAllowed])
        } catch {
            throw APIError.field("body", "the request body is not valid JSON")
        }
    }

    /// A checked input string: within `maxInputBytes`.
    static func text(_ value: Any?, field: String, limits: RequestLimits) throws -> String {
        guard let s = value as? String else {
            throw APIError.field(field, value == nil ? "missing; expected a string" : "expected a string")
        }
        if s.utf8.count > limits.maxInputBytes {
            throw APIError(.contentTooLarge, "longer than \(limits.maxInputBytes) bytes (\(s.utf8.count))", param: field)
        }
        return s
    }
}
