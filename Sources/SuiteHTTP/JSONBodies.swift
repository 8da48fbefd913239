public import Hummingbird
public import HTTPTypes
import Foundation
public import SuiteCore
import SuiteStorage

/// The largest request body any route reads.
public let maximumRequestBody = 1 << 20

extension Response {
    /// `value` in the suite's one JSON configuration (the models' own encoding: snake_case keys,
    /// ISO 8601 UTC times, refids), with `status`.
    public static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        json(bytes: ByteBuffer(bytes: try SuiteJSON.encoder().encode(value)), status: status)
    }

    /// `value` as ``json(_:status:)`` encodes it, taking the bytes from `encodings` when the same
    /// value was encoded before (a value's JSON never changes), else encoding and remembering
    /// them (up to 4 KiB each, so that the memory a memo holds stays bounded by its capacity). For
    /// answers that repeat often and cost more to encode than to hash, such as a verification.
    public static func json<Value: Hashable & Encodable & Sendable>(
        _ value: Value, status: HTTPResponse.Status = .ok, remembering encodings: RememberedFacts<Value, ByteBuffer>
    ) throws -> Response {
        if let bytes = encodings[value] { return json(bytes: bytes, status: status) }
        let bytes = ByteBuffer(bytes: try SuiteJSON.encoder().encode(value))
        if bytes.readableBytes <= 4_096 { encodings.remember(bytes, for: value) }
        return json(bytes: bytes, status: status)
    }

    /// Encoded JSON `bytes` as the answer, with `status`.
    private static func json(bytes: ByteBuffer, status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: bytes))
    }
}

extension Request {
    /// The body decoded as `type` with the suite's decoder, read up to 1 MiB. An empty body is
    /// `{}`. Malformed JSON, or JSON of the wrong shape, is a 400 problem naming the first field
    /// at fault; a larger body is a 413.
    public func decode<T: Decodable>(_ type: T.Type) async throws -> T {
        let buffer = try await body.collect(upTo: maximumRequestBody)
        let data = buffer.readableBytes == 0 ? Data("{}".utf8) : Data(buffer.readableBytesView)
        if Self.holdsNUL(data) {
            throw Problem(.unprocessableContent, code: "invalid_text", detail: "Invalid text: it may not contain the NUL character (U+0000)")
        }
        do {
            return try SuiteJSON.decoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw Problem(.badRequest, code: "malformed_json", detail: Self.describe(error))
        }
    }

    /// The query item `name`, if present and not empty.
    public func query(_ name: String) -> String? {
        uri.queryParameters[name[...]].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `limit` (default 50) and `after` from the query string, for a cursor page.
    public func page() throws -> (limit: Int, after: Cursor?) {
        var limit = 50
        if let text = query("limit") {
            guard let value = Int(text) else { throw Problem(.badRequest, code: "validation", detail: "Invalid limit: use a whole number") }
            limit = value
        }
        return (limit, query("after").map { Cursor($0) })
    }

    /// Whether a JSON text holds U+0000, raw or as the escape `\u0000` (which no engine stores
    /// alike: the library refuses raw NUL, and PostgreSQL's JSON refuses the escape).
    static func holdsNUL(_ json: Data) -> Bool {
        let bytes = Array(json)
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case 0: return true
            case UInt8(ascii: "\\"):
                if index + 5 < bytes.count, bytes[index + 1] == UInt8(ascii: "u"),
                   bytes[(index + 2)...(index + 5)].allSatisfy({ $0 == UInt8(ascii: "0") }) {
                    return true
                }
                index += 2  // the escaped character, whatever it is
            default:
                index += 1
            }
        }
        return false
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue.snakeCased }
            return keys.isEmpty ? "the body" : keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = (context.codingPath.map(\.stringValue) + [key.stringValue]).map(\.snakeCased).joined(separator: ".")
            return "Missing field: \(field)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "Wrong type for \(path(context))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "The body is not valid JSON" : "Invalid value for \(path(context))"
        @unknown default:
            return "The body is not valid JSON"
        }
    }
}

extension Parameters {
    /// The path parameter `name` as a refid (routes always declare it).
    func refid(_ name: String) -> Refid { Refid(rawValue: get(name) ?? "") }
}

extension String {
    /// `userId` → `user_id`, as the suite's encoder names keys.
    var snakeCased: String {
        var out = ""
        for character in self {
            if character.isUppercase { out += "_" + character.lowercased() } else { out.append(character) }
        }
        return out
    }
}
