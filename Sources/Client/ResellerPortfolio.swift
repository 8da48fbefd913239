public import SuiteCore
import SuiteStorage

extension Clients {
    /// The clients of one reseller, and nothing else: a view to hand to code acting for that
    /// reseller (a partner portal, an API key scoped to the reseller).
    ///
    /// ```swift
    /// let portfolio = clients.portfolio(of: ally.refid)
    /// let client = try await portfolio.make().name("Acme").email("it@acme.example").create()
    /// try await portfolio.activate(client.refid, actor: "partner:42")
    /// try await portfolio.find(someoneElsesClient)   // throws "Client Not Found"
    /// ```
    public func portfolio(of reseller: Refid) -> ResellerPortfolio { ResellerPortfolio(clients: self, reseller: reseller) }
}

/// A reseller-scoped view of the Client module.
///
/// Every read and every change goes through a check, inside the same transaction, that the client
/// belongs to ``reseller``. Another reseller's client, or a standalone client, is reported exactly
/// like a refid that does not exist ("Client Not Found"), so the view does not even reveal that it
/// exists. New clients are always attributed to ``reseller``; the builder refuses any other.
public struct ResellerPortfolio: Sendable {
    /// The unscoped service this view checks every call against.
    public let clients: Clients
    /// The reseller whose clients this view reaches.
    public let reseller: Refid

    init(clients: Clients, reseller: Refid) {
        self.clients = clients
        self.reseller = reseller
    }

    // MARK: Creating

    /// A builder that creates clients for this reseller (its Invalid Reseller check still applies:
    /// an unknown or suspended reseller cannot take clients).
    public func make() -> ClientBuilder {
        var builder = clients.make().reseller(reseller)
        builder.portfolioReseller = reseller
        return builder
    }

    // MARK: Reading

    /// The client with `refid` if it belongs to this reseller; otherwise "Client Not Found".
    public func find(_ refid: Refid) async throws -> Client {
        try await clients.database.read { tx in try self.owned(refid, in: tx) }
    }

    /// The client with `refid` if it belongs to this reseller, or nil.
    public func findByRefid(_ refid: Refid) async throws -> Client? {
        try await clients.database.read { tx in try self.clients.findByRefid(refid, in: tx) }.flatMap { client in
            client.reseller == reseller ? client : nil
        }
    }

    /// A query confined to this reseller's clients; the other scopes compose with it as usual.
    public func query() -> ClientQuery {
        var query = clients.query().forReseller(reseller)
        query.portfolioReseller = reseller
        return query
    }

    /// Analytics over this reseller's clients only.
    public func analytics() -> ClientAnalytics {
        var analytics = clients.analytics().forReseller(reseller)
        analytics.portfolioReseller = reseller
        return analytics
    }

    /// The audit trail of one of this reseller's clients.
    public func auditTrail(of refid: Refid, limit: Int = 100) async throws -> [ClientAuditEntry] {
        _ = try await find(refid)
        return try await clients.auditTrail(of: refid, limit: limit)
    }

    // MARK: Changing

    /// Applies a lifecycle action to one of this reseller's clients.
    @discardableResult
    public func transition(_ action: ClientTransition, _ refid: Refid, actor: String = "system",
                           reason: String? = nil) async throws -> Client {
        try await changingOwned(refid) { tx in try self.clients.transition(action, refid, actor: actor, reason: reason, in: tx) }
    }

    /// Merges metadata into one of this reseller's clients.
    @discardableResult
    public func updateMetadata(_ refid: Refid, merging metadata: Metadata, secrets: Metadata = [:],
                               actor: String = "system") async throws -> Client {
        try await changingOwned(refid) { tx in
            try self.clients.updateMetadata(refid, merging: metadata, secrets: secrets, actor: actor, in: tx)
        }
    }

    /// Binds a user to one of this reseller's clients.
    @discardableResult
    public func bindUser(_ userID: String, to refid: Refid, actor: String = "system") async throws -> Client {
        try await changingOwned(refid) { tx in try self.clients.bindUser(userID, to: refid, actor: actor, in: tx) }
    }

    /// Removes the user binding of one of this reseller's clients.
    @discardableResult
    public func unbindUser(from refid: Refid, actor: String = "system") async throws -> Client {
        try await changingOwned(refid) { tx in try self.clients.unbindUser(from: refid, actor: actor, in: tx) }
    }

    // MARK: Internals

    /// Runs `change` in a write transaction after checking, in that transaction, that this
    /// reseller owns the client.
    private func changingOwned(_ refid: Refid, _ change: @escaping @Sendable (any Transaction) throws -> Client) async throws -> Client {
        try await clients.database.write { tx in
            _ = try self.owned(refid, in: tx)
            return try change(tx)
        }
    }

    /// The client, if this reseller owns it. A client's reseller never changes after creation, so
    /// checking it in the transaction that then changes the client is enough.
    private func owned(_ refid: Refid, in tx: any Transaction) throws -> Client {
        guard let client = try clients.findByRefid(refid, in: tx), client.reseller == reseller else {
            throw ClientError.notFound(refid.rawValue)
        }
        return client
    }
}
