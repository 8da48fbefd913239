import Crypto
import Foundation
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
/// one idempotency rule (``IdempotencyKey``: 1–200 characters, no control characters) and check
/// (``IdempotencyKey/replay(_:fingerprint:in:orThrow:)``).
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
            let select: SQL = """
                SELECT fingerprint, claim, status, content_type, body, created_at FROM http_idempotency
                WHERE owner = \(owner) AND idempotency_key = \(key.rawValue)\(raw: tx.dialect.forUpdate)
                """
            guard let row = try key.replay(select, fingerprint: fingerprint, in: tx, orThrow: {
                Problem(.unprocessableContent, code: "idempotency_conflict", detail: IdempotencyKey.conflictMessage)
            }) else { return .run(claim: claim) }
            if try row.string("claim") == claim { return .run(claim: claim) }
            if let status = try row.optionalInt64("status") {
                return .replay(status: Int(status), contentType: try row.optionalString("content_type"), body: try row.optionalString("body") ?? "")
            }
            guard try row.int64("created_at") < now - Self.abandonedAfter else { return .running }
            try tx.execute("""
                UPDATE http_idempotency SET claim = \(claim), created_at = \(now)
                WHERE owner = \(owner) AND idempotency_key = \(key.rawValue)
                """)
            return .run(claim: claim)
        }
    }

    /// Keeps the answer of the request that holds `claim`.
    public func finish(owner: Refid, key: IdempotencyKey, claim: String, status: Int, contentType: String?, body: String) async throws {
        try await database.write { tx in
            try tx.execute("""
                UPDATE http_idempotency SET status = \(Int64(status)), content_type = \(contentType), body = \(body)
                WHERE owner = \(owner) AND idempotency_key = \(key.rawValue) AND claim = \(claim)
                """)
        }
    }

    /// Forgets the key, so that a retry runs again (the request failed in a way worth retrying).
    public func release(owner: Refid, key: IdempotencyKey, claim: String) async throws {
        try await database.write { tx in
            try tx.execute("DELETE FROM http_idempotency WHERE owner = \(owner) AND idempotency_key = \(key.rawValue) AND claim = \(claim)")
        }
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

/// `Idempotency-Key` on every POST, with Stripe's semantics: the same key with the same request
/// replays the first answer (status and body) with `Idempotent-Replayed: true`; with another
/// request it is a 422 `idempotency_conflict`; while the first is still running, a 409
/// `idempotency_in_progress`. A 5xx or 401 answer is not kept, so a retry runs again. Keys belong
/// to the API key that sent them and are kept for 24 hours.
public struct IdempotencyMiddleware<Context: AuthRequestContext>: RouterMiddleware where Context.Identity == APIKey {
    let store: IdempotentRequests

    /// The middleware over `store`.
    public init(store: IdempotentRequests) { self.store = store }

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
        switch try await store.start(owner: owner, key: key, fingerprint: IdempotentRequests.fingerprint(method: request.method, uri: request.uri.description,
                                                                                          body: body.readableBytesView)) {
        case .running:
            throw Problem(.conflict, code: "idempotency_in_progress", detail: "A request with this Idempotency-Key is still running")
        case .replay(let status, let contentType, let text):
            var headers = HTTPFields()
            if let contentType { headers[.contentType] = contentType }
            headers[.idempotentReplayed] = "true"
            return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
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
