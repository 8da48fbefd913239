public import HTTPTypes

/// One route as openapi.yaml names it: a method and a path template (`/v1/clients/{refid}`).
/// Every route collection lists its endpoints, so that the middleware can answer 405 for a known
/// path asked with another method, and a test can hold the routes and the document together.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    /// The HTTP method.
    public var method: HTTPRequest.Method
    /// The path template, with `{name}` for a parameter.
    public var path: String

    /// An endpoint.
    public init(_ method: HTTPRequest.Method, _ path: String) {
        self.method = method
        self.path = path
    }

    /// `GET /v1/clients/{refid}`.
    public var description: String { "\(method.rawValue) \(path)" }

    /// The path in Hummingbird's router syntax (`/v1/clients/:refid`).
    var routerPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : segment
        }.joined(separator: "/")
    }

    /// Whether a concrete request path fits the template.
    func matches(_ requestPath: some StringProtocol) -> Bool {
        let template = path.split(separator: "/"), actual = requestPath.split(separator: "/")
        guard template.count == actual.count else { return false }
        return zip(template, actual).allSatisfy { pattern, segment in
            (pattern.hasPrefix("{") && pattern.hasSuffix("}")) || pattern == segment
        }
    }
}
