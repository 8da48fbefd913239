public import Hummingbird
public import HummingbirdAuth
public import Suite
import SuiteCore
import SuiteStorage

/// The suite's workflows over HTTP, under `/v1/workflows`: a reseller provisions a product for its
/// clients, paid with credits, all or nothing. It needs an `Idempotency-Key`, which is also the
/// workflow's own key, so a retry replays the first result, licences and keys included.
/// - An admin key provisions for any reseller.
/// - A reseller key provisions for its own reseller only; naming another is "Reseller Not
///   Found", as for a refid that does not exist.
/// - A verify key reaches none.
public struct WorkflowRoutes<Context: AuthRequestContext>: Sendable where Context.Identity == APIKey {
    let workflows: Workflows

    /// Routes over `workflows`.
    public init(workflows: Workflows) { self.workflows = workflows }

    /// The endpoints, as openapi.yaml lists them.
    public static var endpoints: [Endpoint] { [Endpoint(.post, "/v1/workflows/provision")] }

    /// The routes, relative to `/v1/workflows`.
    public var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        let workflows = workflows
        routes.post("provision") { request, context in
            let key = try context.apiKey()
            let body = try await request.decode(Provisioning.self)
            let reseller = Refid(rawValue: body.reseller)
            switch key.role {
            case .admin: break
            case .verify: throw Problem.noRoute
            case .reseller(let own):
                guard own == reseller else {
                    throw Problem(.notFound, code: "not_found", detail: "Reseller Not Found: no reseller with refid \(body.reseller.prefix(64))")
                }
            }
            guard let idempotencyKey = request.headers[.idempotencyKey] else {
                throw Problem(.badRequest, code: "validation", detail: "Missing Idempotency-Key: provisioning spends credits, so a retry must be safe")
            }
            let result = try await workflows.provision(reseller: reseller, clients: body.clients.map { Refid(rawValue: $0) },
                                                       product: body.product, idempotencyKey: idempotencyKey, actor: key.actor)
            return try Response.json(result, status: .created)
        }
        return routes
    }
}

/// The body of `POST /v1/workflows/provision`.
struct Provisioning: Decodable {
    var reseller: String
    var clients: [String]
    var product: String
}
