import Foundation
public import Hummingbird
import HTTPTypes
public import SuiteStorage

/// `GET /health/live` (the process answers), `GET /health/ready` (the database answers a read)
/// and `GET /openapi.yaml` (the contract).
public struct HealthRoutes<Context: RequestContext>: Sendable {
    let database: any Database

    /// Routes that check `database`.
    public init(database: any Database) { self.database = database }

    /// The endpoints, as openapi.yaml lists them.
    public static var endpoints: [Endpoint] {
        [Endpoint(.get, "/health/live"), Endpoint(.get, "/health/ready"), Endpoint(.get, "/openapi.yaml")]
    }

    /// The routes, at the root.
    public var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        let database = database
        routes.get("health/live") { _, _ in try Response.json(["status": "live"]) }
        routes.get("health/ready") { _, _ in
            do {
                _ = try await database.read { tx in try tx.queryInt64("SELECT 1") }
            } catch {
                throw Problem(.serviceUnavailable, code: "unavailable", detail: "The database does not answer")
            }
            return try Response.json(["status": "ready"])
        }
        routes.get("openapi.yaml") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try OpenAPIDocument.data())))
        }
        return routes
    }
}

/// The OpenAPI 3.1 document this module serves and is tested against.
public enum OpenAPIDocument {
    /// The document's bytes (`openapi.yaml`, a resource of this module).
    public static func data() throws -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw Problem(.internalServerError, code: "internal", detail: "The API document is missing")
        }
        return try Data(contentsOf: url)
    }
}
