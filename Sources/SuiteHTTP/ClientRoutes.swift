public import Client
public import Hummingbird
public import HummingbirdAuth
import SuiteCore
import SuiteStorage

/// The Client module over HTTP, under `/v1/clients`: create, read, list, update metadata, the
/// four lifecycle moves and the audit trail. Every route needs an API key (``APIKeyAuthenticator``):
/// an admin key reaches every client; a reseller key only its reseller's, through the Client
/// module's portfolio view, so another reseller's client is "Client Not Found" exactly like a
/// refid that does not exist; a verify key none. Changes are audited as the key (`apikey:AK-…`).
/// Mount it alone in any Hummingbird router whose context carries an ``APIKey``:
///
/// ```swift
/// router.add(middleware: APIKeyAuthenticator(keys: keys))
/// router.addRoutes(ClientRoutes<BasicAuthRequestContext<APIKey>>(clients: clients).collection, atPath: "/v1/clients")
/// ```
public struct ClientRoutes<Context: AuthRequestContext>: Sendable where Context.Identity == APIKey {
    let clients: Clients

    /// Routes over `clients`.
    public init(clients: Clients) {
        self.clients = clients
    }

    /// What `key` may reach: every client, one reseller's, or (a verify key) no route here.
    static func scope(_ clients: Clients, for key: APIKey) throws -> any ClientScope {
        switch key.role {
        case .admin: clients
        case .reseller(let reseller): clients.portfolio(of: reseller)
        case .verify: throw Problem.noRoute
        }
    }

    /// The endpoints, as openapi.yaml lists them.
    public static var endpoints: [Endpoint] {
        [Endpoint(.post, "/v1/clients"), Endpoint(.get, "/v1/clients"), Endpoint(.get, "/v1/clients/{refid}"),
         Endpoint(.patch, "/v1/clients/{refid}"), Endpoint(.get, "/v1/clients/{refid}/history")]
            + ClientTransition.allCases.map { Endpoint(.post, "/v1/clients/{refid}/\($0.rawValue)") }
    }

    /// The routes, relative to `/v1/clients`.
    public var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        let clients = clients
        routes.post { request, context in
            let key = try context.apiKey()
            let scope = try Self.scope(clients, for: key)
            let body = try await request.decode(NewClient.self)
            var builder = scope.make().name(body.name).email(body.email).phone(body.phone).user(body.userID).metadata(body.metadata ?? [:])
            if let reseller = body.reseller {
                if let own = key.role.reseller, own.rawValue != reseller {
                    throw Problem(.unprocessableContent, code: "validation", detail: "A reseller key registers clients for its own reseller only")
                }
                builder = builder.reseller(reseller)
            }
            return try Response.json(try await builder.create(actor: key.actor), status: .created)
        }
        routes.get { request, context in
            let scope = try Self.scope(clients, for: try context.apiKey())
            let (limit, after) = try request.page()
            var query = scope.query().limit(limit).after(after)
            if let text = request.query("status") {
                guard let status = ClientStatus(rawValue: text) else {
                    throw Problem(.unprocessableContent, code: "validation",
                                  detail: "Invalid status: use \(ClientStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                query = query.status(status)
            }
            if let reseller = request.query("reseller") { query = query.forReseller(Refid(rawValue: reseller)) }
            return try Response.json(try await query.fetch())
        }
        routes.get(":refid") { _, context in
            let scope = try Self.scope(clients, for: try context.apiKey())
            return try Response.json(try await scope.find(context.parameters.refid("refid")))
        }
        routes.patch(":refid") { request, context in
            let key = try context.apiKey()
            let scope = try Self.scope(clients, for: key)
            let body = try await request.decode(ClientChanges.self)
            guard let metadata = body.metadata else {
                throw Problem(.unprocessableContent, code: "validation", detail: "Nothing to change: give metadata")
            }
            return try Response.json(try await scope.updateMetadata(context.parameters.refid("refid"), merging: metadata, secrets: [:],
                                                                    actor: key.actor))
        }
        routes.get(":refid/history") { request, context in
            let scope = try Self.scope(clients, for: try context.apiKey())
            let (limit, _) = try request.page()
            let trail = try await scope.auditTrail(of: context.parameters.refid("refid"), limit: limit)
            return try Response.json(Items(items: trail))
        }
        for move in ClientTransition.allCases {
            routes.post(":refid/\(move.rawValue)") { request, context in
                let key = try context.apiKey()
                let scope = try Self.scope(clients, for: key)
                let body = try await request.decode(Reason.self)
                return try Response.json(try await scope.transition(move, context.parameters.refid("refid"), actor: key.actor, reason: body.reason))
            }
        }
        return routes
    }
}

/// The body of `POST /v1/clients`.
struct NewClient: Decodable {
    var name: String
    var email: String
    var phone: String?
    var reseller: String?
    var userID: String?
    var metadata: Metadata?

    // The suite's decoder turns `user_id` into `userId`, not `userID`.
    private enum CodingKeys: String, CodingKey { case userID = "userId", name, email, phone, reseller, metadata }
}

/// The body of `PATCH /v1/clients/{refid}`: metadata merged in, a `null` value removes its key.
struct ClientChanges: Decodable {
    var metadata: Metadata?
}

/// The optional body of a lifecycle move.
struct Reason: Decodable {
    var reason: String?
}

/// A list that is not paged (an audit trail): `{"items": […]}`.
struct Items<Item: Encodable>: Encodable {
    var items: [Item]
}

/// What a key may do with clients: the whole module (`Clients`) or one reseller's portfolio
/// (`ResellerPortfolio`), which answers "Client Not Found" for any other client. The lifecycle
/// moves come from the Client module's own ``ClientLifecycle``, which both already adopt.
protocol ClientScope: ClientLifecycle {
    func make() -> ClientBuilder
    func find(_ refid: Refid) async throws -> Client
    func query() -> ClientQuery
    func auditTrail(of refid: Refid, limit: Int) async throws -> [ClientAuditEntry]
    func updateMetadata(_ refid: Refid, merging metadata: Metadata, secrets: Metadata, actor: String) async throws -> Client
}

extension Clients: ClientScope {}
extension ResellerPortfolio: ClientScope {}
