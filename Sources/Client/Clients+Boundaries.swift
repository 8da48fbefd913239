public import SuiteCore
public import SuiteStorage

// What other modules ask the Client module through the boundary protocols: clients acquired per
// reseller (Ally's analytics) and a client's summary (Forge, Wave, the workflows).

extension Clients: ClientAcquisitions {
    /// Implements ``ClientAcquisitions`` from the signup rollup (one row per reseller, day and status).
    public func clientsAcquired(from start: CivilDate?, to end: CivilDate?, reseller: Refid?,
                                in tx: any Transaction) throws -> [Refid: Int64] {
        var filter: SQL = reseller.map { " scope = \($0)" } ?? " scope NOT IN ('*', '')"
        if let start { filter = filter + " AND day >= \(start.description)" }
        if let end { filter = filter + " AND day <= \(end.description)" }
        var counts: [Refid: Int64] = [:]
        for row in try tx.query("""
            SELECT scope, CAST(sum(clients) AS BIGINT) AS n FROM client_daily_stats WHERE\(filter) GROUP BY scope
            """) {
            let n = try row.int64("n")
            if n > 0 { counts[Refid(rawValue: try row.string("scope"))] = n }
        }
        return counts
    }
}

extension Clients: ClientDirectory {
    /// A stored status as the boundary's standing.
    static func standing(_ status: String) throws -> ClientStanding {
        guard let standing = ClientStanding(rawValue: status) else {
            throw StorageError(code: .decoding, message: "stored data has an unexpected shape (column status, expected a client status)")
        }
        return standing
    }

    /// Implements ``ClientDirectory`` for other modules (Forge checks a client before activating a licence).
    public func client(_ refid: Refid, in tx: any Transaction) throws -> ClientSummary? {
        // Only the summary's columns: licence verification asks this on every call.
        return try tx.queryFirst("SELECT name, email, owner_refid, status FROM client_clients WHERE refid = \(refid)").map { row in
            ClientSummary(refid: refid, name: try row.string("name"), email: try row.string("email"),
                          reseller: try row.optionalRefid("owner_refid"), status: try Self.standing(row.string("status")))
        }
    }
}
