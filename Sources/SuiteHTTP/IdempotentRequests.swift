import Crypto
import Foundation
import Synchronization
public import HTTPTypes
public import Hummingbird
public import HummingbirdAuth
internal import NIOCore
public import SuiteCore
public import SuiteStorage

extension HTTPField.Name {
    /// `Idempotency-Key`: the caller's key for a POST that may be retried.
    public static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    /// `Idempotent-Replayed: true` on an answer replayed for a retry.
    public static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
}

/// The answers kept for `Idempotency-Key`, per API key, in `http_idempotency`, with the suite's
/// one idempotency rule (``IdempotencyKey``: 1–200 characters, no control characters) and
/// conflict message.
public struct IdempotentRequests: Sendable {
    /// Where the answers are kept.
    public let database: any Database
    let clock: any WallClock
    /// How long an answer is kept: at least 24 hours.
    public static let retention: Int64 = 24 * 3_600_000
    /// A request still marked running after this long is taken to have died with its server, and
    /// a retry runs it again.
    public static let abandonedAfter: Int64 = 5 * 60_000

    /// The store in `database`.
    public init(database: any Database, clock: any WallClock = SystemWallClock()) {
        self.database = database
        self.clock = clock
    }

    /// What a request with a key finds.
    public enum Start: Sendable, Equatable {
        /// The first with this key: run it, then ``finish(owner:key:claim:status:contentType:body:)`` or ``release(owner:key:claim:)``.
        case run(claim: String)
        /// An earlier request with this key and body finished: its answer.
        case replay(status: Int, contentType: String?, body: String)
        /// An earlier request with this key is still running.
        case running
    }

    /// Claims `key` for `owner`'s request with `fingerprint`, or finds what an earlier one left.
    /// Throws a 422 problem when the key was used with another request.
    public func start(owner: Refid, key: IdempotencyKey, fingerprint: String) async throws -> Start {
        let now = Timestamp(clock.now()).milliseconds
        let claim = Refid.generate(prefix: "").rawValue
        return try await database.write { tx in
            // This key's own row, once past the retention, is forgotten here (the key may be used
            // afresh); the rest of the table is pruned by ``IdempotencySweeper``.
            try tx.execute("""
                DELETE FROM http_idempotency
                WHERE owner = \(owner) AND idempotency_key = \(key.rawValue) AND created_at < \(now - Self.retention)
                """)
            try tx.execute("""
                INSERT INTO http_idempotency (owner, idempotency_key, fingerprint, claim, created_at)
                VALUES (\(owner), \(key.rawValue), \(fingerprint), \(claim), \(now))
                ON CONFLICT (owner, idempotency_key) DO NOTHING
                """)
            guard let row = try tx.queryFirst("""
                SELECT \(raw: Self.rowColumns) FROM http_idempotency
                WHERE owner = \(owner) AND idempotency_key = \(key.rawValue)\(raw: tx.dialect.forUpdate)
                """), try row.string("claim") != claim else { return .run(claim: claim) }
            if let earlier = try Self.answer(of: row, fingerprint: fingerprint, now: now) { return earlier }
            // Abandoned by a server that died: this request takes the key over.
            try tx.execute("""
                UPDATE http_idempotency SET claim = \(claim), created_at = \(now)
                WHERE owner = \(owner) AND idempotency_key = \(key.rawValue)
                """)
            return .run(claim: claim)
        }
    }

    /// Keeps the answer of the request that holds `claim`.
    public func finish(owner: Refid, key: IdempotencyKey, claim: String, status: Int, contentType: String?, body: String) async throws {
        _ = try await database.write { tx in
            try tx.execute("""
                UPDATE http_idempotency SET status = \(Int64(status)), content_type = \(contentType), body = \(body)
                WHERE owner = \(owner) AND idempotency_key = \(key.rawValue) AND claim = \(claim)
                """)
        }
    }

    /// Forgets the key, so that a retry runs again (the request failed in a way worth retrying).
    public func release(owner: Refid, key: IdempotencyKey, claim: String) async throws {
        _ = try await database.write { tx in
            try tx.execute("DELETE FROM http_idempotency WHERE owner = \(owner) AND idempotency_key = \(key.rawValue) AND claim = \(claim)")
        }
    }

    /// What an earlier request with `key` left, read without writing: a finished answer to
    /// replay, or `.running`. Nil when there is none (or it is past ``retention``, or abandoned):
    /// the request runs. Throws a 422 problem when the key was used with another request.
    public func lookup(owner: Refid, key: IdempotencyKey, fingerprint: String) async throws -> Start? {
        let now = Timestamp(clock.now()).milliseconds
        return try await database.read { tx in try Self.found(owner: owner, key: key, fingerprint: fingerprint, now: now, in: tx) }
    }

    /// The row for `key` as a ``Start``, or nil when there is none, or it is expired or abandoned.
    static func found(owner: Refid, key: IdempotencyKey, fingerprint: String, now: Int64, in tx: any Transaction) throws -> Start? {
        try tx.queryFirst("SELECT \(raw: rowColumns) FROM http_idempotency WHERE owner = \(owner) AND idempotency_key = \(key.rawValue)")
            .flatMap { try answer(of: $0, fingerprint: fingerprint, now: now) }
    }

    static let rowColumns = "fingerprint, claim, status, content_type, body, created_at"

    /// What a key's row tells a request with `fingerprint`: the answer to replay, or `.running`;
    /// nil when the row is past ``retention`` or abandoned (the request may run). Throws a 422
    /// problem when the key was used with another request.
    static func answer(of row: Row, fingerprint: String, now: Int64) throws -> Start? {
        let createdAt = try row.int64("created_at")
        guard createdAt >= now - retention else { return nil }
        guard try row.string("fingerprint") == fingerprint else {
            throw Problem(.unprocessableContent, code: "idempotency_conflict", detail: IdempotencyKey.conflictMessage)
        }
        if let status = try row.optionalInt64("status") {
            return .replay(status: Int(status), contentType: try row.optionalString("content_type"), body: try row.optionalString("body") ?? "")
        }
        return createdAt < now - abandonedAfter ? nil : .running
    }

    /// Deletes the answers older than ``retention``, at most `limit` at a time; returns how many.
    @discardableResult
    public func prune(limit: Int = 1_000) async throws -> Int {
        let cutoff = Timestamp(clock.now()).milliseconds - Self.retention
        return try await database.write { tx in
            try tx.execute("""
                DELETE FROM http_idempotency WHERE (owner, idempotency_key) IN (
                    SELECT owner, idempotency_key FROM http_idempotency WHERE created_at < \(cutoff) LIMIT \(Int64(limit)))
                """)
        }
    }

    /// A request's fingerprint: its method, path with query, and body (SHA-256, hex). A JSON body
    /// counts by its value, not its bytes: the same object with its keys in another order or other
    /// spacing is the same request.
    public static func fingerprint(method: HTTPRequest.Method, uri: String, body: some Sequence<UInt8>) -> String {
        var bytes = Data(body)
        if let value = try? JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed]),
           let canonical = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) {
            bytes = canonical
        }
        var hash = SHA256()
        hash.update(data: Data("\(method.rawValue) \(uri)\n".utf8))
        hash.update(data: bytes)
        return hash.finalize().withUnsafeBytes { lowercaseHex($0) }
    }
}

extension IdempotentRequests {
    /// A keyed request whose route keeps its answer in the transaction that does its work, so that
    /// the work and the answer commit together, in one commit instead of three (claim, work, answer).
    /// ``IdempotencyMiddleware`` sets ``current`` for the endpoints it is told record their own
    /// answers; such a route must be idempotent by the key on its own (a concurrent twin with the same
    /// key must fail its transaction, as the workflows' own keys make it), because no claim keeps the
    /// twin out.
    ///
    /// ```swift
    /// try await database.writeResolvingRace { tx in
    ///     if let earlier = try IdempotentRequests.PendingAnswer.current?.stored(in: tx) { return earlier }
    ///     let body = try SuiteJSON.encoder().encode(try workflows.provision(…, in: tx))
    ///     try IdempotentRequests.PendingAnswer.current?.record(status: 201, contentType: "application/json", body: body, in: tx)
    ///     …
    /// }
    /// ```
    public final class PendingAnswer: Sendable {
        /// The keyed request the running route serves, if its route records its own answer.
        @TaskLocal public static var current: PendingAnswer?

        let store: IdempotentRequests
        let owner: Refid
        let key: IdempotencyKey
        let fingerprint: String
        private let recorded = Mutex(false)

        init(store: IdempotentRequests, owner: Refid, key: IdempotencyKey, fingerprint: String) {
            self.store = store
            self.owner = owner
            self.key = key
            self.fingerprint = fingerprint
        }

        /// Whether ``record(status:contentType:body:in:)`` ran (its transaction then committed, or
        /// the route failed).
        public var isRecorded: Bool { recorded.withLock { $0 } }

        /// The answer a twin request with this key committed first, read in `tx`, as a response
        /// to replay; nil when there is none. A twin still running is a 409 problem, one with
        /// another request a 422.
        public func stored(in tx: any Transaction) throws -> Response? {
            let now = Timestamp(store.clock.now()).milliseconds
            switch try IdempotentRequests.found(owner: owner, key: key, fingerprint: fingerprint, now: now, in: tx) {
            case .replay(let status, let contentType, let body)?:
                return Response.replayed(status: status, contentType: contentType, body: body)
            case .running?:
                throw Problem(.conflict, code: "idempotency_in_progress", detail: "A request with this Idempotency-Key is still running")
            case .run?, nil:
                // An expired or abandoned row gives way to this request's answer. Only such a row:
                // on PostgreSQL (READ COMMITTED) this statement already sees a twin's answer
                // committed since the read above, which must stay. This request's own insert then
                // fails on the key, and its rerun replays that answer.
                try tx.execute("""
                    DELETE FROM http_idempotency WHERE owner = \(owner) AND idempotency_key = \(key.rawValue)
                    AND (created_at < \(now - IdempotentRequests.retention)
                         OR (status IS NULL AND created_at < \(now - IdempotentRequests.abandonedAfter)))
                    """)
                return nil
            }
        }

        /// Keeps `body` as the answer to this key, in `tx`, beside the route's own work.
        public func record(status: Int, contentType: String?, body: String, in tx: any Transaction) throws {
            let now = Timestamp(store.clock.now()).milliseconds
            try tx.execute("""
                INSERT INTO http_idempotency (owner, idempotency_key, fingerprint, claim, status, content_type, body, created_at)
                VALUES (\(owner), \(key.rawValue), \(fingerprint), '', \(Int64(status)), \(contentType), \(body), \(now))
                """)
            recorded.withLock { $0 = true }
        }
    }
}

/// `Idempotency-Key` on every POST, with Stripe's semantics: the same key with the same request
/// replays the first answer (status and body) with `Idempotent-Replayed: true`; with another
/// request it is a 422 `idempotency_conflict`; while the first is still running, a 409
/// `idempotency_in_progress`. A 5xx or 401 answer is not kept, so a retry runs again. Keys belong
/// to the API key that sent them and are kept for 24 hours.
public struct IdempotencyMiddleware<Context: AuthRequestContext>: RouterMiddleware where Context.Identity == APIKey {
    let store: IdempotentRequests
    /// The endpoints whose routes keep their own answers (``IdempotentRequests/PendingAnswer``).
    let selfRecording: [Endpoint]

    /// The middleware over `store`; the routes of `selfRecording` keep their answers in their own
    /// transactions.
    public init(store: IdempotentRequests, selfRecording: [Endpoint] = []) {
        self.store = store
        self.selfRecording = selfRecording
    }


    /// Handles one request.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, let header = request.headers[.idempotencyKey], let owner = context.identity?.refid else {
            return try await next(request, context)
        }
        guard let key = IdempotencyKey(header) else {
            throw Problem(.badRequest, code: "validation", detail: "Invalid Idempotency-Key: \(IdempotencyKey.rule)")
        }
        var request = request
        let body = try await request.collectBody(upTo: maximumRequestBody)
        let fingerprint = IdempotentRequests.fingerprint(method: request.method, uri: request.uri.description, body: body.readableBytesView)
        if request.method == .post, selfRecording.contains(where: { $0.method == .post && $0.matches(request.uri.path) }) {
            return try await handleSelfRecording(request, context: context, owner: owner, key: key, fingerprint: fingerprint, next: next)
        }
        switch try await store.start(owner: owner, key: key, fingerprint: fingerprint) {
        case .running:
            throw Problem(.conflict, code: "idempotency_in_progress", detail: "A request with this Idempotency-Key is still running")
        case .replay(let status, let contentType, let text):
            return Response.replayed(status: status, contentType: contentType, body: text)
        case .run(let claim):
            let response: Response
            do {
                response = try await next(request, context)
            } catch {
                let problem = Problem(for: error)
                if problem.status >= 500 || problem.status == 401 {
                    try? await store.release(owner: owner, key: key, claim: claim)
                    throw error
                }
                response = try problem.response(requestID: request.headers[.requestID])
            }
            guard response.status.code < 500 else {
                try? await store.release(owner: owner, key: key, claim: claim)
                return response
            }
            let collector = Collector()
            try await response.body.write(CollectingWriter(collector: collector))
            let text = String(buffer: collector.buffer)
            try await store.finish(owner: owner, key: key, claim: claim, status: response.status.code,
                                   contentType: response.headers[.contentType], body: text)
            return Response(status: response.status, headers: response.headers, body: .init(byteBuffer: collector.buffer))
        }
    }
}

extension IdempotencyMiddleware {
    /// A keyed request to a route that keeps its own answer: a read finds an earlier answer to
    /// replay; otherwise the route runs with ``IdempotentRequests/PendingAnswer/current`` set and
    /// keeps its success in its own transaction. A refusal (4xx) it throws is kept here, once.
    func handleSelfRecording(_ request: Request, context: Context, owner: Refid, key: IdempotencyKey, fingerprint: String,
                             next: (Request, Context) async throws -> Response) async throws -> Response {
        switch try await store.lookup(owner: owner, key: key, fingerprint: fingerprint) {
        case .replay(let status, let contentType, let text)?:
            return Response.replayed(status: status, contentType: contentType, body: text)
        case .running?:
            throw Problem(.conflict, code: "idempotency_in_progress", detail: "A request with this Idempotency-Key is still running")
        case .run?, nil:
            break
        }
        let pending = IdempotentRequests.PendingAnswer(store: store, owner: owner, key: key, fingerprint: fingerprint)
        let response: Response
        do {
            response = try await IdempotentRequests.PendingAnswer.$current.withValue(pending) { try await next(request, context) }
        } catch {
            let problem = Problem(for: error)
            guard problem.status < 500, problem.status != 401, !pending.isRecorded else { throw error }
            let text = String(decoding: try SuiteJSON.encoder().encode(problem.with(requestID: request.headers[.requestID])), as: UTF8.self)
            // A twin may have kept its answer first: then that one is the answer to this key.
            let earlier = try await store.database.writeResolvingRace { tx -> Response? in
                if let earlier = try pending.stored(in: tx) { return earlier }
                try pending.record(status: problem.status, contentType: "application/problem+json", body: text, in: tx)
                return nil
            }
            if let earlier { return earlier }
            throw error
        }
        return response
    }
}

extension Response {
    /// An answer kept for a retry, as it is sent again, with `Idempotent-Replayed: true`.
    static func replayed(status: Int, contentType: String?, body: String) -> Response {
        var headers = HTTPFields()
        if let contentType { headers[.contentType] = contentType }
        headers[.idempotentReplayed] = "true"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Where ``CollectingWriter`` puts a response's bytes.
private final class Collector: @unchecked Sendable {
    var buffer = ByteBuffer()
}

/// A body writer that keeps what it is given, so that an answer can be stored and then sent.
private struct CollectingWriter: ResponseBodyWriter {
    let collector: Collector

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        collector.buffer.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
