import Forge
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Metrics
import Prometheus
import Suite
import SuiteHTTP
import SuiteStorage
import SuiteTestSupport
import Testing

/// One answer, with its body parsed as JSON and checked against openapi.yaml.
struct Answer {
    var status: Int
    var headers: HTTPFields
    var json: Any?
    var text: String

    var object: [String: Any] { json as? [String: Any] ?? [:] }
    subscript(key: String) -> Any? { object[key] }
}

/// A client over the suite's router, in process: each call checks the answer against the
/// document (the endpoint's template, the status and the body's schema) and records what is wrong.
struct API: Sendable {
    let client: any TestClientProtocol
    let endpoints: [Endpoint]
    /// The keys of the suite under test.
    let keys: APIKeys
    /// An admin key's secret, sent unless a call says otherwise.
    let admin: String

    /// Calls `uri` with `key` (the admin key by default; nil sends none).
    func call(_ method: HTTPRequest.Method, _ uri: String, json body: Any? = nil, raw: String? = nil,
              headers: HTTPFields = [:], key: String?? = .none, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Answer {
        var buffer: ByteBuffer?
        var headers = headers
        if let secret = key ?? admin { headers[.authorization] = "Bearer \(secret)" }
        if let body {
            buffer = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))
            headers[.contentType] = "application/json"
        } else if let raw {
            buffer = ByteBuffer(string: raw)
        }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: buffer)
        let text = String(buffer: response.body)
        let json = text.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        let path = String(uri.split(separator: "?", maxSplits: 1).first ?? "")
        // The most literal template wins (`/v1/licences/keys` over `/v1/licences/{refid}`), as in the router.
        let candidates = endpoints.filter { $0.method == method && Self.matches($0.path, path) }
        if let template = candidates.min(by: { $0.path.filter { $0 == "{" }.count < $1.path.filter { $0 == "{" }.count }) {
            let problems = Contract.shared.violations(method: method.rawValue, path: template.path, status: response.status.code, body: json)
            #expect(problems.isEmpty, "\(method.rawValue) \(uri) → \(response.status.code): \(problems)", sourceLocation: sourceLocation)
        } else {
            #expect([404, 405].contains(response.status.code) && (json as? [String: Any])?["code"] != nil,
                    "\(method.rawValue) \(uri) is no endpoint, yet answered \(response.status.code)", sourceLocation: sourceLocation)
        }
        return Answer(status: response.status.code, headers: response.headers, json: json, text: text)
    }

    static func matches(_ template: String, _ path: String) -> Bool {
        let a = template.split(separator: "/"), b = path.split(separator: "/")
        return a.count == b.count && zip(a, b).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
    }
}

/// Headers with `Idempotency-Key: key`.
func keyed(_ key: String) -> HTTPFields {
    var headers = HTTPFields()
    headers[.idempotencyKey] = key
    return headers
}

/// The process's one metrics registry: swift-metrics is bootstrapped once per process.
enum MetricsFixture {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}

extension Engine {
    /// A suite with every module on a fresh database of this engine, served by its router in process
    /// (logging to `logger`; by default, warnings only).
    func withAPI(logger: Logger? = nil, _ body: @Sendable (API, ClientSuite) async throws -> Void) async throws {
        let registry = MetricsFixture.registry  // before the database, whose pool reports to it
        try await withDatabase { database in
            _ = try await SchemaInstaller.install(SuiteModule.closure(of: SuiteModule.allCases).map(\.schema) + [HTTPTables.schema],
                                                  on: database)
            let suite = ClientSuite(database: database)
            let logger = logger ?? {
                var logger = Logger(label: "clientsuite.http.tests")
                logger.logLevel = .warning  // a line per request would bury the test output
                return logger
            }()
            // Nothing listens on the discard port: the checkout page's webhook delivery fails at once (a
            // real server's delivery is tested through `dock serve`).
            let api = SuiteAPI(suite: suite, logger: logger, metrics: registry, signing: try LicenceSigningKey.generate(id: "test-1"),
                               publicURL: URL(string: "http://127.0.0.1:9")!)
            let admin = try await api.keys.create(.admin, name: "tests")
            let app = Application(router: try api.router())
            try await app.test(.router) { client in
                try await body(API(client: client, endpoints: api.endpoints, keys: api.keys, admin: admin.secret), suite)
            }
        }
    }
}
